"""`textbill remind`: the reminder e-mails due now — listed, written as .eml files, or sent.

Sending is "compute what is due -> send -> record" under one exclusive lock on
the ledger (`.textbill-remind.lock` at its root), and the ledger is read again
once the lock is held: two runs, or two cron jobs at once, never send the same
step twice.  Each message is recorded as a `reminded` entry right after the
SMTP server accepts it, so a crash mid-run loses at most the one in flight.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import sys
from datetime import date, datetime, time, timezone
from pathlib import Path

import click

from textbill.cli.main import (
    Ctx,
    _cache_kw,
    as_of_option,
    emit_json,
    emit_table,
    ledger_options,
    load_clean,
    main,
    print_diagnostics,
    stderr_is_tty,
    today,
)
from textbill.core.diagnostics import closest, format_text

RECORD_FILE = "reminders.bill"
LOCK_NAME = ".textbill-remind.lock"
RECORD_HEADER = """\
; Reminders sent by `textbill remind --send`, one `reminded` entry per e-mail.
; A recorded step is never sent again for the same invoice.
"""


@main.command()
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
        from textbill.pipeline import analyze

        # for the settings and paths; warnings are reported once, by the second reading under the lock
        analysis = analyze(ctx.ledger_path(), **_cache_kw(ctx))
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
            emit_json([_row(item, currency, as_json=True) for item in mails])
        else:
            _print_table(mails, day, currency)
        sys.exit(1 if failed else 0)

    from textbill.workflow.mailer import SettingsError, smtp_settings

    try:
        settings = smtp_settings(analysis.ledger.config.smtp, os.environ)
    except SettingsError as exc:
        raise click.UsageError(str(exc))
    target = _record_target(analysis, ctx.ledger_path(), record_file)
    with _exclusive(analysis.root / LOCK_NAME):
        # read the ledger again under the lock: another run may have sent and recorded meanwhile
        analysis = load_clean(ctx)
        failed = _send_all(analysis, settings, day, when, client, target, out)
    sys.exit(1 if failed else 0)


# ---------------------------------------------------------------------------- steps

def _date_header(fixed: bool, day: date) -> datetime:
    # with --as-of the message is dated that day, 00:00 UTC, so output is reproducible
    if fixed:
        return datetime.combine(day, time(0, 0), tzinfo=timezone.utc)
    return datetime.now().astimezone().replace(microsecond=0)


def _check_client(ledger, client: str | None) -> None:
    if client and client not in ledger.clients:
        guess = closest(client, ledger.clients)
        raise click.BadParameter(f"unknown client '{client}'" + (f" — did you mean '{guess}'?" if guess else ""),
                                 param_hint="--client")


def _due(analysis, day: date, client: str | None):
    from textbill.engine.reminders import due_reminders

    rec = analysis.receivables(day)
    return [r for r in due_reminders(analysis.ledger, rec) if not client or r.state.client == client]


def _context(analysis):
    """The templates and the sender address, or a usage error when the theme is unusable."""
    from textbill.render import eml
    from textbill.workflow.mailer import sender_address

    ledger = analysis.ledger
    try:
        templates = eml.load_templates(analysis.root, ledger.config.theme)
    except eml.ThemeError as exc:
        raise click.UsageError(str(exc))
    return templates, sender_address(None, ledger.config.smtp, ledger.company)


def _build(analysis, rem, templates, sender, when, render_pdf: bool):
    """(mail or None, diagnostics, note about the attachment)."""
    from textbill.render import eml

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
    for d in diags:
        click.echo(format_text(d, analysis.sources, color=stderr_is_tty()) + "\n", err=True)


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
    from textbill.load.writer import write_atomic

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
    from textbill.load.writer import append_text, write_atomic
    from textbill.workflow.mailer import Mailer, SendError

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
                if not target.exists():
                    append_text(target, RECORD_HEADER + "\n")
                append_text(target, entry)
            except OSError as exc:
                # it went out but is not on record: stop before the next one could repeat the problem
                click.echo(f"sent {rem.number} '{rem.step.name}' to {mail.recipient}, but could not record it "
                           f"in {target}: {exc}\nadd this line to the ledger by hand, or it will be sent "
                           f"again:\n{entry}", err=True)
                return failed + 1
            sent += 1
            click.echo(f"sent {rem.number} '{rem.step.name}' to {mail.recipient}", err=True)
    click.echo(f"{sent} reminder{'s' if sent != 1 else ''} sent and recorded in {_shown(target)}"
               + (f"; {failed} failed" if failed else ""), err=True)
    return failed


# ---------------------------------------------------------------------------- recording

def reminded_entry(day: date, number: str, step: str, recipient: str | None = None) -> str:
    """`D reminded NUMBER STEP`, quoting what the grammar would not read bare."""
    import re

    num = number if re.fullmatch(r"[A-Za-z][^\s;\"\\]*", number) else _quote(number)
    st = step if re.fullmatch(r"[a-z][a-z0-9_-]*", step) else _quote(step)
    comment = f"  ; to {recipient}" if recipient else ""
    return f"{day.isoformat()} reminded {num} {st}{comment}\n"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


def _record_target(analysis, ledger_path: Path, record_file: str | None) -> Path:
    """Where sent reminders are recorded: a .bill file that the ledger reads."""
    if ledger_path.is_file():
        only = ledger_path
        if record_file is not None and Path(record_file).expanduser().resolve() != only.resolve():
            raise click.BadParameter(f"the ledger is the single file {only}; reminders can only be "
                                     "recorded there", param_hint="--file")
        return only
    if record_file is None:
        return analysis.root / RECORD_FILE
    path = Path(record_file).expanduser()
    resolved = path.resolve()
    if not resolved.name.endswith(".bill"):
        raise click.BadParameter(f"'{record_file}' is not a .bill file, so the ledger would not read "
                                 "the record", param_hint="--file")
    try:
        rel = resolved.relative_to(analysis.root.resolve())
    except ValueError:
        raise click.BadParameter(f"'{record_file}' is outside the ledger {analysis.root}, so the ledger "
                                 "would not read the record", param_hint="--file")
    if any(part.startswith(".") for part in rel.parts):
        raise click.BadParameter(f"'{record_file}' is hidden (a name starting with '.'), so the ledger "
                                 "would not read the record", param_hint="--file")
    if resolved.is_dir():
        raise click.BadParameter(f"'{record_file}' is a folder", param_hint="--file")
    return path


def _shown(path: Path) -> str:
    from textbill.load.loader import display_name

    return display_name(path)


@contextlib.contextmanager
def _exclusive(lock_path: Path):
    """An exclusive lock for the whole send run; says so when it has to wait for another one."""
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise click.ClickException(f"cannot take the send lock {lock_path}: {exc.strerror}; nothing was sent")
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            click.echo("waiting for another `textbill remind --send` on this ledger to finish...", err=True)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


# ---------------------------------------------------------------------------- listing

def _row(item, company_currency: str, as_json: bool = False) -> dict:
    """One listed reminder; item is a built Mail, or a Reminder that could not be built."""
    from textbill.core.money import fmt, fmt_grouped

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
    emit_table(columns, rows, title=f"Reminders due as of {day}",
               right=("days_overdue", "amount_due", "late_interest", "late_fee", "installment"))
