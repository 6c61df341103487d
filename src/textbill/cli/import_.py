"""`textbill import timeclock/toggl/bank`: time entries from other trackers, payments from a bank
statement, idempotently."""
from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import click

from textbill.cli.common import Ctx, ledger_options, load_clean, print_problems
from textbill.cli.main import Group
from textbill.core.diagnostics import error, has_errors
from textbill.loading.loader import display_name, read_source
from textbill.loading.writer import append_text, locked
from textbill.render.table import print_table
from textbill.workflow.bank.importing import not_written_rows, plan_bank_import
from textbill.workflow.bank.statement import StatementError, narrowed
from textbill.workflow.importers import (
    appended_problems,
    config_mapping,
    plan_import,
    read_timeclock,
    read_toggl,
)
from textbill.workflow.people import assign_people
from textbill.workflow.targets import TargetError, default_target, target_file
from textbill.workflow.timers import state_dir


@click.group("import", cls=Group)
def import_():
    """Time entries from other trackers (timeclock, Toggl), payments from bank statements.

    Each imported entry carries a #import-<hash> tag of what its session means
    (tracker, start, end, SOW, description), so an import run twice, two
    overlapping exports, or a re-export with other amounts, tags or e-mails
    add nothing twice.  A session across midnight is split per day, as hledger
    does, with its seconds kept.  Nothing
    is written when any row cannot be placed (an unmapped account or project,
    an entry outside its SOW, a change to a locked invoice).
    """


_FILE_OPT = click.option("--file", "out_file", metavar="FILE",
                         help="The .bill file to append the entries to (default: time-file in textbill.yaml, "
                              "else the file of the latest time entry, else time.bill at the root).")
_DRY_OPT = click.option("--dry-run", is_flag=True, help="Print the entries that would be appended; write nothing.")
_AS_OPT = click.option("--as", "person", metavar="PERSON", envvar="TEXTBILL_USER", show_envvar=True,
                       help="Who tracked the rows that name no user (default: TEXTBILL_USER).")


@import_.command("timeclock")
@click.argument("source", metavar="FILE", type=click.Path(dir_okay=False))
@_FILE_OPT
@_DRY_OPT
@_AS_OPT
@ledger_options
def import_timeclock(ctx: Ctx, source, out_file, dry_run, person):
    """An hledger/ledger timeclock file: 'i 2026/01/05 09:00:00 client:sow  description' / 'o ...'.

    Accounts name SOWs as client:sow or client/sow (or end in client:sow), or
    are mapped in textbill.yaml:  timeclock: {accounts: {"Acme web": acme/web}}
    """
    _run_import(ctx, source, out_file, dry_run, read_timeclock, ("timeclock", "accounts"), person)


@import_.command("toggl")
@click.argument("source", metavar="FILE", type=click.Path(dir_okay=False))
@_FILE_OPT
@_DRY_OPT
@_AS_OPT
@ledger_options
def import_toggl(ctx: Ctx, source, out_file, dry_run, person):
    """A Toggl Track detailed report exported as CSV.

    Projects are mapped to SOWs in textbill.yaml:
    toggl: {projects: {"Website redesign": globex/web-2026}}
    (a project named like a SOW, globex/web-2026, needs no mapping).
    Billable: No rows become nonbillable entries; Toggl tags become tags.
    The Email or User column names the person (a person's email or id, or
    textbill.yaml: people: {"jane@acme.example": jane}).
    """
    _run_import(ctx, source, out_file, dry_run, read_toggl, ("toggl", "projects"), person)


_TABLE_ROWS = 500


@import_.command("bank")
@click.argument("source", metavar="FILE", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["camt053", "mt940", "ofx", "csv"]),
              help="The statement's format (default: detected from its content).")
@_FILE_OPT
@_DRY_OPT
@ledger_options
def import_bank(ctx: Ctx, source, fmt, out_file, dry_run):
    """Payments from a bank statement (camt.053, MT940, OFX, or CSV with bank-csv in textbill.yaml).

    Each booked incoming credit that names invoices (their numbers or RF references), comes from
    a client's iban, or carries a client's name becomes a payment with ref = the bank's
    transaction id; importing a statement again adds nothing.  Debits, pending entries and
    credits that match nothing are listed with their likeliest invoices, never written.
    """
    path, root = ctx.root()
    if not Path(source).is_file():
        raise click.BadParameter(f"no such file: {source}", param_hint="FILE")
    src = Path(source)
    src_name = display_name(src)
    with locked(state_dir(root) / "import"):
        analysis = load_clean(ctx)
        ledger = analysis.ledger
        try:
            default = default_target(ledger, root, "payments-file", ledger.payments, "payments.bill")
            target = target_file(path, root, out_file, str(default), "payments")
        except TargetError as exc:
            raise click.UsageError(str(exc))
        csv_map = {str(k): str(v) for k, v in (ledger.config.extra.get("bank-csv") or {}).items()}
        open_invoices = list(analysis.receivables(date.max).invoices.values())
        try:
            plan = plan_bank_import(src, src_name, fmt, ledger, open_invoices, csv_map)
        except StatementError as exc:
            text = src.read_bytes().decode("utf-8", "replace")
            analysis.sources.add(src_name, text)
            print_problems([error(narrowed(exc, text), exc.code, exc.message, exc.hint)], analysis.sources)
            click.echo(f"textbill: nothing was imported from {src_name}", err=True)
            sys.exit(1)
        rows = not_written_rows(plan)
        columns = ["date", "amount", "payer", "text", "why", "candidates", "ref"]
        if len(rows) > _TABLE_ROWS:  # a table that long is read with grep, and drawing it costs more than the import
            click.echo("not written: " + "\t".join(columns))
            for row in rows:
                click.echo("\t".join(row[c] for c in columns))
        elif rows:
            print_table(columns, rows, right=("amount",), title="not written", wrap=("text", "candidates"),
                        optional=("ref",))
        target_name = display_name(target)
        _append_checked(analysis, target, plan.text, "payments", dry_run)
    n = len(plan.written)
    verb = "would import" if dry_run else "imported"
    click.echo(f"{verb} {n} payment{'s' if n != 1 else ''} from {src_name}"
               + (f" into {target_name}" if n else "")
               + f" ({plan.already} already imported, {len(plan.unmatched)} unmatched, "
               f"{len(plan.passed)} debits or pending)", err=True)


def _append_checked(analysis, target: Path, text: str, what: str, dry_run: bool) -> None:
    """Append TEXT to TARGET (atomically, under the ledger's lock) once the ledger with it has no new
    problem, else list them and exit 1 with nothing written; with --dry-run, print TEXT instead."""
    if not text:
        return
    problems = appended_problems(analysis, target, text)
    if problems:
        print_problems(problems, analysis.sources)
        click.echo(f"textbill: nothing was imported: the {what} above would be wrong in {display_name(target)}",
                   err=True)
        sys.exit(1)
    if dry_run:
        click.echo(text, nl=False)
    else:
        append_text(target, text)


def _run_import(ctx: Ctx, source: str, out_file: str | None, dry_run: bool, reader: Callable,
                mapping_key: tuple[str, str], person: str | None = None) -> None:
    path, root = ctx.root()
    src = Path(source)
    if not src.is_file():
        raise click.BadParameter(f"no such file: {source}", param_hint="FILE")
    src_name = display_name(src)
    with locked(state_dir(root) / "import"):
        analysis = load_clean(ctx)
        try:
            default = default_target(analysis.ledger, root, "time-file", analysis.ledger.times, "time.bill")
            target = target_file(path, root, out_file, str(default), "time entries")
        except TargetError as exc:
            raise click.UsageError(str(exc))
        text, problem = read_source(src, src_name)
        if problem:
            print_problems([problem], analysis.sources)
            sys.exit(1)
        analysis.sources.add(src_name, text)
        ledger = analysis.ledger
        rows, diags = reader(text, src_name, config_mapping(ledger.config, *mapping_key), ledger.sows)
        rows, found = assign_people(rows, ledger, person or None)
        diags = [*diags, *found]
        if diags:
            print_problems(diags, analysis.sources)
        if has_errors(diags):
            click.echo("textbill: nothing was imported", err=True)
            sys.exit(1)
        plan = plan_import(ledger, rows)
        notes = []
        if plan.skipped:
            notes.append(f"{plan.skipped} already imported")
        if plan.short:
            notes.append(f"{plan.short} under a minute")
        suffix = f" ({', '.join(notes)})" if notes else ""
        if not plan.entries:
            click.echo(f"nothing new in {src_name}{suffix}", err=True)
            return
        target_name = display_name(target)
        _append_checked(analysis, target, plan.text, "entries", dry_run)
        if dry_run:
            return
    n = plan.text.count("\n")  # a session across midnight is an entry per day
    click.echo(f"imported {n} time entr{'ies' if n != 1 else 'y'} from {src_name} into {target_name}{suffix}",
               err=True)
