"""`textbill clock in/out/status/cancel`: running timers over textbill.workflow.timers."""
from __future__ import annotations

import sys
from datetime import datetime
from typing import NoReturn

import click

from textbill.cli.common import Ctx, ledger_options, unknown
from textbill.cli.main import Group
from textbill.incremental.cache import ParseCache
from textbill.loading.loader import display_name, load
from textbill.render.json import dumps
from textbill.render.table import print_table
from textbill.workflow.targets import TargetError, default_target, target_file
from textbill.workflow.timers import (
    TimerError,
    cancel,
    duration,
    parse_at,
    recover,
    running,
)
from textbill.workflow.timers import clock_in as start
from textbill.workflow.timers import clock_out as stop


def _now() -> datetime:
    # the command line owns the clock; the library is handed the moment
    return datetime.now().replace(microsecond=0)


def _at(value: str | None) -> datetime:
    now = _now()
    if value is None:
        return now
    try:
        return parse_at(value, now)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--at")


def _timer_error(exc: TimerError) -> NoReturn:
    click.echo(f"textbill: {exc}", err=True)
    sys.exit(1)


def _recover(root) -> list:
    """Finish a `clock out` that was interrupted between forgetting its timer and its entry."""
    try:
        owed = recover(root)
    except TimerError as exc:
        _timer_error(exc)
    for o in owed:
        click.echo(f"finished an interrupted 'clock out' of {o.sow}: {o.target}: {o.text.strip()}", err=True)
    return owed


@click.group("clock", cls=Group)
def clock():
    """Running timers, one per SOW, several at once.

    State is kept in .textbill/timers.json under the ledger root (never
    committed); 'clock out' appends a time entry to the ledger.
    """


@clock.command("in")
@click.argument("sow", metavar="CLIENT/SOW")
@click.argument("description", required=False, default="")
@click.option("--at", "at", metavar="HH:MM|ISO", help="Start time instead of now (today's HH:MM, or "
              "an ISO date-time like 2026-01-05T09:00).")
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="A tag for the entry (repeatable).")
@click.option("--as", "person", metavar="PERSON", envvar="TEXTBILL_USER", show_envvar=True,
              help="Who is working: the entry is written 'by PERSON', billed at their role's rate "
                   "(default: TEXTBILL_USER).")
@ledger_options
def clock_in(ctx: Ctx, sow, description, at, tags, person):
    """Start a timer on an hourly SOW."""
    path, root = ctx.root()
    ledger = load(path, cache=ParseCache).ledger
    found = ledger.sows.get(sow)
    if found is None:
        raise unknown("SOW", sow, ledger.sows, "CLIENT/SOW")
    if found.pricing is not None and found.pricing.kind != "hourly":
        raise click.BadParameter(f"SOW '{sow}' is priced {found.pricing.kind}; time is billed only on hourly "
                                 f"SOWs", param_hint="CLIENT/SOW")
    if person == "":
        person = None
    if person is not None and person not in ledger.people:
        raise unknown("person", person, ledger.people, "--as (or TEXTBILL_USER)")
    _recover(root)
    try:
        timer = start(root, sow, _at(at), description, tuple(t.lstrip("#") for t in tags), person)
    except TimerError as exc:
        _timer_error(exc)
    click.echo(f"clocked in on {timer.sow} at {timer.start:%Y-%m-%d %H:%M}"
               + (f" as {timer.person}" if timer.person else "")
               + (f": {timer.description}" if timer.description else ""), err=True)


@clock.command("out")
@click.argument("sow", metavar="[CLIENT/SOW]", required=False)
@click.option("--at", "at", metavar="HH:MM|ISO", help="End time instead of now.")
@click.option("-m", "--message", "message", metavar="TEXT", help="The entry's description (default: the one "
              "given to 'clock in').")
@click.option("--file", "file", metavar="FILE", help="The .bill file to append the entry to (default: "
              "time-file in textbill.yaml, else the file of the latest time entry, else time.bill at the root).")
@ledger_options
def clock_out(ctx: Ctx, sow, at, message, file):
    """Stop a timer and append its time entry to the ledger.

    Without CLIENT/SOW, stops the only running timer.  An entry that starts
    and ends on one day is written as a clock range (09:00-12:30), else as a
    duration dated on its first day.
    """
    path, root = ctx.root()
    try:
        default = None if file else _time_file(path, root)
        target = target_file(path, root, file, str(default or "time.bill"), "time entries")
    except TargetError as exc:
        raise click.UsageError(str(exc))
    finished = _recover(root)
    if finished and (sow is None or any(o.sow == sow for o in finished)):
        # the rerun of an interrupted `clock out`: its entry is now written, once
        if running(root):
            click.echo("other timers are still running; run 'textbill clock out' again to stop one", err=True)
        return
    try:
        timer, text = stop(root, sow, _at(at), target, message)
    except TimerError as exc:
        _timer_error(exc)
    if text is None:
        click.echo(f"stopped {timer.sow}: under a minute, nothing recorded", err=True)
    else:
        click.echo(f"{display_name(target)}: {text.strip()}", err=True)


def _time_file(path, root):
    """Where entries go without --file: time-file, else the latest time entry's file (docs/language.md, "Files and layout")."""
    if path.is_file():
        return None
    ledger = load(path, cache=ParseCache).ledger
    return default_target(ledger, root, "time-file", ledger.times, "time.bill")


@clock.command("status")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@ledger_options
def clock_status(ctx: Ctx, fmt):
    """The running timers and how long each has run."""
    _, root = ctx.root()
    now = _now()
    _recover(root)
    try:
        timers = running(root)
    except TimerError as exc:
        _timer_error(exc)
    rows = [{"sow": t.sow, "start": t.start.isoformat(timespec="minutes"),
             "elapsed": duration(max(0, int(t.elapsed(now).total_seconds() // 60))),
             "description": t.description, "person": t.person or ""} for t in timers]
    if fmt == "json":
        click.echo(dumps(rows))
    elif not rows:
        click.echo("no timer is running", err=True)
    else:
        print_table(["sow", "start", "elapsed", "description", "person"], rows, right=("elapsed",))


@clock.command("cancel")
@click.argument("sow", metavar="[CLIENT/SOW]", required=False)
@ledger_options
def clock_cancel(ctx: Ctx, sow):
    """Discard a running timer without recording anything."""
    _, root = ctx.root()
    _recover(root)
    try:
        timer = cancel(root, sow)
    except TimerError as exc:
        _timer_error(exc)
    click.echo(f"discarded the timer for {timer.sow} (started {timer.start:%Y-%m-%d %H:%M})", err=True)
