"""The git-native workflow: lock, draft, issue, clock, import, export, diff.

Each command is a few lines over the library (lockfile, billing.schedule,
timers, importers, exporters, gitdiff); they attach to `textbill.cli.main`.
"""
from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import click

from textbill.cli.main import (
    Ctx,
    Group,
    as_of_option,
    emit_json,
    emit_table,
    ledger_options,
    load_clean,
    main,
    print_diagnostics,
    today,
)
from textbill.core.diagnostics import format_text, has_errors

# ---------------------------------------------------------------------------- helpers

def _root(ctx: Ctx) -> tuple[Path, Path]:
    """(the ledger path as given, the ledger root folder)."""
    path = ctx.ledger_path()
    return path, (path if path.is_dir() else path.parent)


def _target_file(path: Path, root: Path, option: str | None, default: str, what: str) -> Path:
    """The .bill file new entries go to: --file (from the current folder), else `default` at the root.

    It must be a .bill file inside the ledger, or the entries would never be read again.
    """
    from textbill.core.paths import inside

    if path.is_file():
        if option and Path(option).resolve() != path.resolve():
            raise click.UsageError(f"the ledger is the single file {path}; {what} can only go into it")
        return path
    target = Path(option) if option else root / default
    target = target if target.is_absolute() else (Path.cwd() / target if option else target)
    try:
        rel = target.resolve().relative_to(root.resolve())
    except ValueError:
        raise click.UsageError(f"{target} is outside the ledger {root}: textbill would never read it")
    if not inside(root, str(rel)) or not target.name.endswith(".bill") \
            or any(part.startswith(".") for part in rel.parts):
        raise click.UsageError(f"{target} is not a .bill file of the ledger: textbill would never read it "
                               f"(name a visible *.bill file inside {root})")
    return target


def _print_problems(diags, sources) -> None:
    from textbill.cli.main import stderr_is_tty

    for d in diags:
        click.echo(format_text(d, sources, color=stderr_is_tty()) + "\n", err=True)


def _money(value, currency: str) -> str:
    from textbill.core.money import fmt_grouped

    return fmt_grouped(value, currency)


# ---------------------------------------------------------------------------- lock

@main.command()
@ledger_options
def lock(ctx: Ctx):
    """Lock every issued document that is not yet locked.

    Appends one line per invoice and credit note to textbill.lock at the ledger
    root (number, date, total and the sha256 of its content).  From then on any
    edit that changes a locked document is an error in 'textbill check'.
    Commit textbill.lock with the ledger.  A ledger with errors is not locked.
    """
    from textbill.checks.locks import LockError, write_lock

    analysis = load_clean(ctx)
    try:
        added = write_lock(analysis.root, analysis.ledger, analysis.books)
    except LockError as exc:
        _print_problems(exc.problems, analysis.sources)
        sys.exit(1)
    for e in added:
        click.echo(f"locked {e.kind} {e.number} ({e.date}, {e.total} {e.currency})", err=True)
    total = len(analysis.books.invoices) + len(analysis.books.credits)
    if added:
        click.echo(f"{len(added)} document{'s' if len(added) != 1 else ''} locked in textbill.lock", err=True)
    else:
        click.echo(f"nothing to lock: all {total} documents are locked", err=True)


# ---------------------------------------------------------------------------- draft / issue

def _draft(analysis, day):
    from textbill.engine.schedule import propose

    return propose(analysis.ledger, analysis.books, day)


def _draft_analysis(analysis, draft):
    from textbill.pipeline import Analysis

    return Analysis(replace(analysis.loaded, ledger=draft.ledger), draft.books, [])


@main.command()
@as_of_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--out", "out", metavar="DIR", type=click.Path(file_okay=False),
              help="Also render each draft as HTML and PDF, marked DRAFT, into DIR.")
@ledger_options
def draft(ctx: Ctx, as_of, fmt, out):
    """The invoices that the SOW schedules call for now, computed but not written.

    A SOW's schedule (weekly, biweekly, monthly, quarterly, on-completion; a
    retainer bills at its own frequency) makes a period due once it is over and
    holds billable work not yet invoiced.  Due periods are grouped by client;
    each draft is dated --as-of and carries the number 'textbill issue' would
    give it.
    """
    from textbill.render.json import invoice_doc

    day = today(as_of)
    analysis = load_clean(ctx)
    dr = _draft(analysis, day)
    if dr.diagnostics:
        _print_problems(dr.diagnostics, analysis.sources)
    if fmt == "json":
        emit_json([{**invoice_doc(p.doc), "draft": True, "reasons": list(p.reasons)} for p in dr.proposals])
    else:
        if not dr.proposals:
            click.echo(f"nothing is due as of {day}", err=True)
        for p in dr.proposals:
            _show_draft(p)
    if out and dr.proposals:
        _render_drafts(analysis, dr, Path(out))
    sys.exit(1 if has_errors(dr.diagnostics) else 0)


def _show_draft(p) -> None:
    doc = p.doc
    c = doc.currency
    client = doc.client.name if doc.client else doc.invoice.client
    rows = [{"date": str(ln.date or ""), "description": ln.description, "sow": ln.sow or "",
             "quantity": f"{ln.quantity:.2f}{ln.unit}" if ln.unit else f"{ln.quantity.normalize():f}",
             "amount": _money(ln.amount, c), "tax": ln.tax.label} for ln in doc.lines]
    footer = [{"description": "net", "amount": _money(doc.net, c)},
              {"description": "tax", "amount": _money(doc.tax, c)},
              {"description": f"total {c}", "amount": _money(doc.total, c)}]
    emit_table(["date", "description", "sow", "quantity", "amount", "tax"], rows,
               title=f"DRAFT {doc.number} — {client}, {doc.date}, period {doc.period} "
                     f"(due {doc.due})", right=("quantity", "amount"), footer=footer)
    for r in p.reasons:
        click.echo(f"  why: {r}")
    click.echo()


def _render_drafts(analysis, dr, out: Path) -> None:
    from textbill.core.paths import slug
    from textbill.load.writer import write_atomic

    a2 = _draft_analysis(analysis, dr)
    try:
        from textbill.render.html import render_invoice
    except ImportError:  # pragma: no cover
        render_invoice = None
    for p in dr.proposals:
        name = slug(p.doc.number) + "-DRAFT"
        try:
            if render_invoice is None:
                raise NotImplementedError
            html = render_invoice(a2, p.doc, draft=True)
        except NotImplementedError:
            click.echo("textbill: HTML rendering is not available in this build yet; no files written", err=True)
            sys.exit(1)
        write_atomic(out / f"{name}.html", html.encode("utf-8"))
        click.echo(f"wrote {out / (name + '.html')}", err=True)
        try:
            from textbill.render.pdf import html_to_pdf

            write_atomic(out / f"{name}.pdf", html_to_pdf(html, base_url=str(analysis.root)))
            click.echo(f"wrote {out / (name + '.pdf')}", err=True)
        except (ImportError, NotImplementedError):
            click.echo("textbill: PDF rendering is not available in this build yet; wrote HTML only", err=True)


@main.command()
@as_of_option
@click.option("--file", "file", metavar="FILE",
              help="The .bill file to append the invoices to (default: invoices-file in textbill.yaml, "
                   "else invoices.bill at the ledger root).")
@click.option("--dry-run", is_flag=True, help="Print what would be appended; write nothing.")
@ledger_options
def issue(ctx: Ctx, as_of, file, dry_run):
    """Issue the invoices 'textbill draft' shows: append them to the ledger and lock them.

    Each invoice gets the next number of the company's pattern (gapless per
    year, in date order), is dated --as-of and names its SOWs and period.  The
    append is atomic, and concurrent runs are serialized.  Running it again
    issues nothing: the periods are then invoiced.
    """
    from textbill.checks.locks import write_lock
    from textbill.engine.schedule import format_invoice
    from textbill.load.writer import append_text, locked
    from textbill.pipeline import analyze
    from textbill.syntax.parser import parse_text
    from textbill.workflow.timers import state_dir

    day = today(as_of)
    path, root = _root(ctx)
    with locked(state_dir(root) / "issue"):
        analysis = load_clean(ctx)
        option = file or analysis.ledger.config.extra.get("invoices-file")
        target = _target_file(path, root, file, option or "invoices.bill", "invoices")
        dr = _draft(analysis, day)
        if not dr.ok:
            _print_problems(dr.diagnostics, analysis.sources)
            click.echo("textbill: nothing was issued", err=True)
            sys.exit(1)
        if not dr.proposals:
            click.echo(f"nothing to issue as of {day}", err=True)
            return
        text = "\n".join(format_invoice(p.invoice) for p in dr.proposals)
        if target.exists() and target.stat().st_size:
            text = "\n" + text  # a blank line between the file's last directive and the new ones
        nodes, diags, _ = parse_text(text, str(target))
        if diags or list(nodes) != [p.invoice for p in dr.proposals]:  # pragma: no cover - a printer bug
            raise click.ClickException("internal: the invoice text does not read back the same; nothing written")
        if dry_run:
            click.echo(text, nl=False)
            return
        append_text(target, text)
        numbers = {p.invoice.number for p in dr.proposals}
        after = analyze(path)
        if has_errors(after.diagnostics):
            print_diagnostics(after, quiet_warnings=True)
            click.echo("textbill: the invoices were written but not locked; fix the errors and run "
                       "'textbill lock'", err=True)
            sys.exit(1)
        write_lock(root, after.ledger, after.books, numbers)
    from textbill.load.loader import display_name

    for p in dr.proposals:
        click.echo(f"issued {p.doc.number} to {p.invoice.client}: {_money(p.doc.total, p.doc.currency)} "
                   f"{p.doc.currency} (period {p.doc.period})", err=True)
    click.echo(f"{len(dr.proposals)} invoice{'s' if len(dr.proposals) != 1 else ''} appended to "
               f"{display_name(target)} and locked", err=True)


# ---------------------------------------------------------------------------- clock

def _now():
    from datetime import datetime

    # the command line owns the clock; the library is handed the moment
    return datetime.now().replace(microsecond=0)


def _at(value: str | None):
    from textbill.workflow.timers import parse_at

    now = _now()
    if value is None:
        return now
    try:
        return parse_at(value, now)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--at")


def _timer_error(exc) -> None:
    click.echo(f"textbill: {exc}", err=True)
    sys.exit(1)


@main.group(cls=Group)
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
@ledger_options
def clock_in(ctx: Ctx, sow, description, at, tags):
    """Start a timer on an hourly SOW."""
    from textbill.core.diagnostics import closest
    from textbill.incremental.cache import ParseCache
    from textbill.load.loader import load
    from textbill.workflow.timers import TimerError
    from textbill.workflow.timers import clock_in as start

    path, root = _root(ctx)
    ledger = load(path, cache=ParseCache).ledger
    found = ledger.sows.get(sow)
    if found is None:
        guess = closest(sow, ledger.sows)
        raise click.BadParameter(f"unknown SOW '{sow}'" + (f" — did you mean '{guess}'?" if guess else ""),
                                 param_hint="CLIENT/SOW")
    if found.pricing is not None and found.pricing.kind != "hourly":
        raise click.BadParameter(f"SOW '{sow}' is priced {found.pricing.kind}; time is billed only on hourly "
                                 f"SOWs", param_hint="CLIENT/SOW")
    try:
        timer = start(root, sow, _at(at), description, tuple(t.lstrip("#") for t in tags))
    except TimerError as exc:
        _timer_error(exc)
    click.echo(f"clocked in on {timer.sow} at {timer.start:%Y-%m-%d %H:%M}"
               + (f": {timer.description}" if timer.description else ""), err=True)


@clock.command("out")
@click.argument("sow", metavar="[CLIENT/SOW]", required=False)
@click.option("--at", "at", metavar="HH:MM|ISO", help="End time instead of now.")
@click.option("-m", "--message", "message", metavar="TEXT", help="The entry's description (default: the one "
              "given to 'clock in').")
@click.option("--file", "file", metavar="FILE", help="The .bill file to append the entry to (default: "
              "time.bill at the ledger root).")
@ledger_options
def clock_out(ctx: Ctx, sow, at, message, file):
    """Stop a timer and append its time entry to the ledger.

    Without CLIENT/SOW, stops the only running timer.  An entry that starts
    and ends on one day is written as a clock range (09:00-12:30), else as a
    duration dated on its first day.
    """
    from textbill.load.loader import display_name
    from textbill.workflow.timers import TimerError
    from textbill.workflow.timers import clock_out as stop

    path, root = _root(ctx)
    target = _target_file(path, root, file, "time.bill", "time entries")
    try:
        timer, text = stop(root, sow, _at(at), target, message)
    except TimerError as exc:
        _timer_error(exc)
    if text is None:
        click.echo(f"stopped {timer.sow}: under a minute, nothing recorded", err=True)
    else:
        click.echo(f"{display_name(target)}: {text.strip()}", err=True)


@clock.command("status")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@ledger_options
def clock_status(ctx: Ctx, fmt):
    """The running timers and how long each has run."""
    from textbill.workflow.timers import TimerError, duration, running

    _, root = _root(ctx)
    now = _now()
    try:
        timers = running(root)
    except TimerError as exc:
        _timer_error(exc)
    rows = [{"sow": t.sow, "start": t.start.isoformat(timespec="minutes"),
             "elapsed": duration(max(0, int(t.elapsed(now).total_seconds() // 60))),
             "description": t.description} for t in timers]
    if fmt == "json":
        emit_json(rows)
    elif not rows:
        click.echo("no timer is running", err=True)
    else:
        emit_table(["sow", "start", "elapsed", "description"], rows, right=("elapsed",))


@clock.command("cancel")
@click.argument("sow", metavar="[CLIENT/SOW]", required=False)
@ledger_options
def clock_cancel(ctx: Ctx, sow):
    """Discard a running timer without recording anything."""
    from textbill.workflow.timers import TimerError, cancel

    _, root = _root(ctx)
    try:
        timer = cancel(root, sow)
    except TimerError as exc:
        _timer_error(exc)
    click.echo(f"discarded the timer for {timer.sow} (started {timer.start:%Y-%m-%d %H:%M})", err=True)


# ---------------------------------------------------------------------------- import

@main.group("import", cls=Group)
def import_group():
    """Time entries from other trackers (timeclock, Toggl), idempotently.

    Each imported entry carries a #import-<hash> tag of its source row, so an
    import run twice, or two overlapping exports, add nothing twice.  Nothing
    is written when any row cannot be placed (an unmapped account or project,
    an entry outside its SOW, a change to a locked invoice).
    """


_FILE_OPT = click.option("--file", "out_file", metavar="FILE",
                         help="The .bill file to append the entries to (default: time.bill at the ledger root).")
_DRY_OPT = click.option("--dry-run", is_flag=True, help="Print the entries that would be appended; write nothing.")


@import_group.command("timeclock")
@click.argument("source", metavar="FILE", type=click.Path(dir_okay=False))
@_FILE_OPT
@_DRY_OPT
@ledger_options
def import_timeclock(ctx: Ctx, source, out_file, dry_run):
    """An hledger/ledger timeclock file: 'i 2026/01/05 09:00:00 client:sow  description' / 'o ...'.

    Accounts name SOWs as client:sow or client/sow (or end in client:sow), or
    are mapped in textbill.yaml:  timeclock: {accounts: {"Acme web": acme/web}}
    """
    from textbill.workflow.importers import read_timeclock

    _run_import(ctx, source, out_file, dry_run, read_timeclock, ("timeclock", "accounts"))


@import_group.command("toggl")
@click.argument("source", metavar="FILE", type=click.Path(dir_okay=False))
@_FILE_OPT
@_DRY_OPT
@ledger_options
def import_toggl(ctx: Ctx, source, out_file, dry_run):
    """A Toggl Track detailed report exported as CSV.

    Projects are mapped to SOWs in textbill.yaml:
    toggl: {projects: {"Website redesign": globex/web-2026}}
    (a project named like a SOW, globex/web-2026, needs no mapping).
    Billable: No rows become nonbillable entries; Toggl tags become tags.
    """
    from textbill.workflow.importers import read_toggl

    _run_import(ctx, source, out_file, dry_run, read_toggl, ("toggl", "projects"))


def _run_import(ctx: Ctx, source: str, out_file, dry_run: bool, reader, mapping_key) -> None:
    from textbill.load.loader import display_name, read_source
    from textbill.load.writer import append_text, locked
    from textbill.workflow.importers import (
        added_problems,
        appended_nodes,
        config_mapping,
        plan_import,
    )
    from textbill.workflow.timers import state_dir

    path, root = _root(ctx)
    src = Path(source)
    if not src.is_file():
        raise click.BadParameter(f"no such file: {source}", param_hint="FILE")
    src_name = display_name(src)
    with locked(state_dir(root) / "import"):
        analysis = load_clean(ctx)
        target = _target_file(path, root, out_file, "time.bill", "time entries")
        text, problem = read_source(src, src_name)
        if problem:
            _print_problems([problem], analysis.sources)
            sys.exit(1)
        analysis.sources.add(src_name, text)
        ledger = analysis.ledger
        rows, diags = reader(text, src_name, config_mapping(ledger.config, *mapping_key), ledger.sows)
        if diags:
            _print_problems(diags, analysis.sources)
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
        nodes, syntax, new_text = appended_nodes(target, plan.text, target_name)
        analysis.sources.add(target_name, new_text)
        problems = syntax + added_problems(analysis.loaded, analysis.books, nodes)
        if problems:
            _print_problems(problems, analysis.sources)
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


# ---------------------------------------------------------------------------- export

@main.group("export", cls=Group)
def export_group():
    """The receivables as plain-text accounting (hledger, Beancount) or CSV postings.

    One transaction per invoice (receivable, revenue per tax group, tax
    payable), credit note, payment and write-off up to --as-of, tagged with the
    invoice numbers, with one receivables account per client
    (Assets:Receivables:CLIENT).
    """


def _export(ctx: Ctx, as_of, output, kind: str) -> None:
    from textbill.load.writer import write_atomic
    from textbill.reports.journals import to_beancount, to_csv, to_hledger, transactions

    day = today(as_of)
    analysis = load_clean(ctx)
    txns = transactions(analysis.ledger, analysis.books, analysis.receivables(day))
    company = analysis.ledger.company
    text = {"hledger": lambda: to_hledger(txns, day, company), "beancount": lambda: to_beancount(txns, day, company),
            "csv": lambda: to_csv(txns)}[kind]()
    if output:
        write_atomic(Path(output), text.encode("utf-8"))
        click.echo(f"wrote {output} ({len(txns)} transactions)", err=True)
    else:
        click.echo(text, nl=False)


_OUT_OPT = click.option("-o", "--output", "output", metavar="FILE", help="Write to FILE instead of standard output.")


@export_group.command("hledger")
@as_of_option
@_OUT_OPT
@ledger_options
def export_hledger(ctx: Ctx, as_of, output):
    """An hledger journal (tags: type, client, invoice)."""
    _export(ctx, as_of, output, "hledger")


@export_group.command("beancount")
@as_of_option
@_OUT_OPT
@ledger_options
def export_beancount(ctx: Ctx, as_of, output):
    """A Beancount ledger (accounts opened, invoice numbers as ^links), ready for bean-check."""
    _export(ctx, as_of, output, "beancount")


@export_group.command("csv")
@as_of_option
@_OUT_OPT
@ledger_options
def export_csv(ctx: Ctx, as_of, output):
    """One CSV row per posting: date, kind, ref, client, account, amount, currency, invoices, description."""
    _export(ctx, as_of, output, "csv")


# ---------------------------------------------------------------------------- diff

@main.command("diff")
@click.argument("revisions", metavar="REV1..REV2")
@as_of_option
@click.option("--format", "fmt", type=click.Choice(["text", "markdown"]), default="text", show_default=True,
              help="Plain text, or Markdown for a pull-request comment.")
@ledger_options
def diff_cmd(ctx: Ctx, revisions, as_of, fmt):
    """What a git range changes in the billing.

    Takes both revisions of the ledger out of git (the working tree is never
    touched) and reports documents that are new, removed or changed (and the
    entries behind each change), invoiced amounts, tax and outstanding per
    client as of --as-of, and SOW budgets used against their caps.

    REV1..REV2 compares two revisions (REV1.. means REV1..HEAD; REV1...REV2
    starts from their merge base); a single REV compares it with the working
    tree.
    """
    from textbill.workflow.gitdiff import DiffError, diff, format_markdown
    from textbill.workflow.gitdiff import format_text as as_text

    day = today(as_of)
    path = ctx.ledger_path()
    try:
        report = diff(path, revisions, day)
    except DiffError as exc:
        raise click.UsageError(str(exc))
    click.echo((format_markdown if fmt == "markdown" else as_text)(report), nl=False)
