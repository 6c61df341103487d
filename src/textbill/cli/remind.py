"""`textbill remind`: the reminder e-mails due now — listed, written as .eml files, or sent.

The send lock and the recording of `reminded` entries are in textbill.workflow.reminders.
"""
from __future__ import annotations

import os
import sys
from datetime import UTC, date, datetime, time
from pathlib import Path

import click

from textbill.cli.common import (
    Ctx,
    analyze_ledger,
    as_of_option,
    ledger_options,
    load_clean,
    print_diagnostics,
    print_problems,
    today,
    unknown,
)
from textbill.core.money import fmt, fmt_grouped
from textbill.engine.reminders import due_reminders
from textbill.loading.loader import display_name
from textbill.loading.writer import write_atomic
from textbill.render import eml
from textbill.render.json import dumps
from textbill.render.table import print_table
from textbill.workflow.mailer import (
    Mailer,
    SendError,
    SettingsError,
    sender_address,
    smtp_settings,
)
from textbill.workflow.reminders import (
    RECORD_FILE,
    LockUnavailable,
    record,
    reminded_entry,
    send_lock,
)
from textbill.workflow.targets import TargetError, record_target


@click.command("remind")
@as_of_option
@click.option("--out", "out", metavar="DIR", type=click.Path(file_okay=False),
              help="Write one .eml file per reminder into DIR; changes nothing else.")
@click.option("--send", is_flag=True,
              help="Send the reminders through the SMTP server of textbill.yaml (password from "
                   "TEXTBILL_SMTP_PASSWORD) and record each one as a `reminded` entry.")
@click.option("--client", "client", metavar="CLIENT", help="Only this client's invoices.")
@click.option("--file", "record_file", metavar="FILE",
              help=f"The .bill file that records sent reminders (default: {RECORD_FILE} at the ledger root).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="How to list the reminders (without --out and --send).")
@ledger_options
def remind(ctx: Ctx, as_of, out, send, client, record_file, fmt):
    """Reminder e-mails due now: list them, write them (--out), or send them (--send).

    For each unpaid invoice of a client with a reminder policy, the latest
    step whose day has come and that is not yet recorded is due; at most one
    per invoice per run.  Exit status: 0 all fine, 1 a reminder could not be
    built or sent (the others still are), 2 usage.
    """
    day = today(as_of)
    when = _date_header(as_of is not None, day)
    if record_file and not send:
        raise click.UsageError("--file names where --send records reminders; use it with --send")
    if send:
        # for the settings and paths; warnings are reported once, by the second reading under the lock
        analysis = analyze_ledger(ctx)
        if not analysis.ok:
            print_diagnostics(analysis, quiet_warnings=True)
            sys.exit(1)
    else:
        analysis = load_clean(ctx)
    _check_client(analysis.ledger, client)
    if not send:
        mails, failed = _prepare(analysis, day, when, client, render_pdf=out is not None)
        currency = analysis.ledger.company.currency if analysis.ledger.company else "USD"
        if out is not None:
            _write_out(mails, Path(out))
        elif fmt == "json":
            click.echo(dumps([_row(item, currency, as_json=True) for item in mails]))
        else:
            _print_table(mails, day, currency)
        sys.exit(1 if failed else 0)

    try:
        settings = smtp_settings(analysis.ledger.config.smtp, os.environ)
    except SettingsError as exc:
        raise click.UsageError(str(exc))
    try:
        target = record_target(analysis.root, ctx.ledger_path(), record_file, RECORD_FILE)
    except TargetError as exc:
        raise click.BadParameter(str(exc), param_hint="--file")
    try:
        with send_lock(analysis.root, _waiting):
            # read the ledger again under the lock: another run may have sent and recorded meanwhile
            analysis = load_clean(ctx)
            failed = _send_all(analysis, settings, day, when, client, target, out)
    except LockUnavailable as exc:
        raise click.ClickException(str(exc))
    sys.exit(1 if failed else 0)


def _waiting() -> None:
    click.echo("waiting for another `textbill remind --send` on this ledger to finish...", err=True)


# ---------------------------------------------------------------------------- steps

def _date_header(fixed: bool, day: date) -> datetime:
    # with --as-of the message is dated that day, 00:00 UTC, so output is reproducible
    if fixed:
        return datetime.combine(day, time(0, 0), tzinfo=UTC)
    return datetime.now().astimezone().replace(microsecond=0)


def _check_client(ledger, client: str | None) -> None:
    if client and client not in ledger.clients:
        raise unknown("client", client, ledger.clients, "--client")


def _due(analysis, day: date, client: str | None):
    rec = analysis.receivables(day)
    return [r for r in due_reminders(analysis.ledger, rec) if not client or r.state.client == client]


def _context(analysis):
    """The templates and the sender address, or a usage error when the theme is unusable."""
    ledger = analysis.ledger
    try:
        templates = eml.load_templates(analysis.root, ledger.config.theme)
    except eml.ThemeError as exc:
        raise click.UsageError(str(exc))
    return templates, sender_address(None, ledger.config.smtp, ledger.company)


def _build(analysis, rem, templates, sender, when, render_pdf: bool):
    """(mail or None, diagnostics, note about the attachment)."""
    pdf, note = eml.invoice_pdf(analysis, rem.state.doc) if render_pdf else (None, None)
    try:
        mail, diags = eml.build_mail(rem, analysis.ledger, templates, sender, when, pdf, analysis.sources)
    except eml.ThemeError as exc:
        raise click.UsageError(f"reminder template: {exc}")
    return mail, diags, note


def _note(note: str | None, noted: set[str]) -> None:
    """Say once per run why invoices go without their PDF."""
    if note and note not in noted:
        noted.add(note)
        click.echo(f"note: reminders go without the invoice PDF: {note}", err=True)


def _report(analysis, diags) -> None:
    print_problems(diags, analysis.sources)


def _prepare(analysis, day, when, client, render_pdf: bool):
    """Every due reminder built as a message (checked, not sent); (mails, how many failed)."""
    templates, sender = _context(analysis)
    mails, failed, noted = [], 0, set()
    for rem in _due(analysis, day, client):
        mail, diags, note = _build(analysis, rem, templates, sender, when, render_pdf)
        if diags:
            _report(analysis, diags)
            failed += 1
            mails.append(rem)  # still listed: it is due, only it cannot go out
            continue
        _note(note, noted)
        mails.append(mail)
    return mails, failed


def _write_out(mails, folder: Path) -> None:
    written = 0
    for mail in mails:
        if hasattr(mail, "data"):
            write_atomic(folder / mail.filename, mail.data)
            click.echo(f"wrote {folder / mail.filename}", err=True)
            written += 1
    if not mails:
        click.echo("no reminders due", err=True)
    elif written:
        click.echo(f"{written} reminder{'s' if written != 1 else ''} written to {folder}", err=True)


def _send_all(analysis, settings, day, when, client, target: Path, out: str | None) -> int:
    reminders = _due(analysis, day, client)
    if not reminders:
        click.echo(f"nothing to send as of {day}: no reminder is due that is not already recorded", err=True)
        return 0
    templates, sender = _context(analysis)
    failed = sent = 0
    noted: set[str] = set()
    with Mailer(settings) as mailer:
        for rem in reminders:
            mail, diags, note = _build(analysis, rem, templates, sender, when, render_pdf=True)
            if diags:
                _report(analysis, diags)
                click.echo(f"not sent: {rem.number} '{rem.step.name}'", err=True)
                failed += 1
                continue
            _note(note, noted)
            if out is not None:
                write_atomic(Path(out) / mail.filename, mail.data)
            try:
                mailer.send(mail.message, mail.data)
            except SendError as exc:
                click.echo(f"failed: {rem.number} '{rem.step.name}' to {mail.recipient}: {exc}", err=True)
                failed += 1
                continue
            entry = reminded_entry(day, rem.number, rem.step.name, mail.recipient)
            try:
                record(target, entry)
            except OSError as exc:
                # it went out but is not on record: stop before the next one could repeat the problem
                click.echo(f"sent {rem.number} '{rem.step.name}' to {mail.recipient}, but could not record it "
                           f"in {target}: {exc}\nadd this line to the ledger by hand, or it will be sent "
                           f"again:\n{entry}", err=True)
                return failed + 1
            sent += 1
            click.echo(f"sent {rem.number} '{rem.step.name}' to {mail.recipient}", err=True)
    click.echo(f"{sent} reminder{'s' if sent != 1 else ''} sent and recorded in {display_name(target)}"
               + (f"; {failed} failed" if failed else ""), err=True)
    return failed


# ---------------------------------------------------------------------------- listing

def _row(item, company_currency: str, as_json: bool = False) -> dict:
    """One listed reminder; item is a built Mail, or a Reminder that could not be built."""
    rem = getattr(item, "reminder", item)
    c = rem.state.currency
    amount = fmt if as_json else fmt_grouped
    fee = rem.late_fee
    fee_currency = (fee.currency or company_currency) if fee is not None else None
    row = {
        "invoice": rem.number,
        "installment": rem.installment,
        "client": rem.state.client,
        "step": rem.step.name,
        "due": rem.due.isoformat(),
        "days_overdue": rem.days_overdue,
        "currency": c,
        "amount_due": amount(rem.amount_due, c),
        "outstanding": amount(rem.amount, c),
        "late_interest": amount(rem.late_interest, c) if rem.late_interest is not None else None,
        "late_fee": amount(fee.value, fee_currency) if fee is not None else None,
        "to": getattr(item, "recipient", None),
    }
    if as_json:
        row["late_fee_currency"] = fee_currency
        return row
    if fee is not None:
        row["late_fee"] = f"{row['late_fee']} {fee_currency}"
    if row["to"] is None:
        row["to"] = "(cannot be sent)"
    return row


def _print_table(items, day: date, company_currency: str) -> None:
    if not items:
        click.echo(f"no reminders due as of {day}", err=True)
        return
    rows = [_row(item, company_currency) for item in items]
    columns = ["invoice", "client", "step", "due", "days_overdue", "currency", "amount_due", "late_interest",
               "late_fee", "to"]
    if any(r["installment"] for r in rows):
        columns.insert(1, "installment")
    print_table(columns, rows, title=f"Reminders due as of {day}",
               right=("days_overdue", "amount_due", "late_interest", "late_fee", "installment"))
