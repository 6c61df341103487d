"""`textbill import timeclock/toggl`: time entries from other trackers, idempotently."""
from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from textbill.cli.common import Ctx, ledger_options, load_clean, print_problems
from textbill.cli.main import Group
from textbill.core.diagnostics import has_errors
from textbill.loading.loader import display_name, read_source
from textbill.loading.writer import append_text, locked
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
    """Time entries from other trackers (timeclock, Toggl), idempotently.

    Each imported entry carries a #import-<hash> tag of its source row, so an
    import run twice, or two overlapping exports, add nothing twice.  Nothing
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
        problems = appended_problems(analysis, target, plan.text)
        if problems:
            print_problems(problems, analysis.sources)
            click.echo(f"textbill: nothing was imported: the entries above would be wrong in {target_name}",
                       err=True)
            sys.exit(1)
        if dry_run:
            click.echo(plan.text, nl=False)
            return
        append_text(target, plan.text)
    n = len(plan.entries)
    click.echo(f"imported {n} time entr{'ies' if n != 1 else 'y'} from {src_name} into {target_name}{suffix}",
               err=True)
