"""The git-native workflow: lock, draft, issue, clock, import, export, diff.

Each command is a few lines over the library (lockfile, billing.schedule,
timers, importers, exporters, gitdiff); they attach to `textbill.cli.main`.
"""
from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import click

from ..cli import Ctx, Group, as_of_option, emit_json, emit_table, ledger_options, load_clean, main, parse_day, \
    print_diagnostics, today
from ..diagnostics import format_text, has_errors


# ---------------------------------------------------------------------------- helpers

def _root(ctx: Ctx) -> tuple[Path, Path]:
    """(the ledger path as given, the ledger root folder)."""
    path = ctx.ledger_path()
    return path, (path if path.is_dir() else path.parent)


def _target_file(path: Path, root: Path, option: str | None, default: str, what: str) -> Path:
    """The .bill file new entries go to: --file (from the current folder), else `default` at the root.

    It must be a .bill file inside the ledger, or the entries would never be read again.
    """
    from ..paths import inside

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
    from ..cli import stderr_is_tty

    for d in diags:
        click.echo(format_text(d, sources, color=stderr_is_tty()) + "\n", err=True)


def _money(value, currency: str) -> str:
    from ..money import fmt_grouped

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
    from ..lockfile import LockError, write_lock

    analysis = load_clean(ctx)
    try:
        added = write_lock(analysis.root, analysis.ledger, analysis.books)
    except LockError as exc:
        _print_problems(exc.problems, analysis.sources)
        sys.exit(1)
    for e in added:
        click.echo(f"locked {e.kind} {e.number} ({e.date}, {e.total} {e.currency})", err=True)
    total = len(analysis.books.invoices) + len(analysis.books.credits)
    click.echo(f"{len(added)} document{'s' if len(added) != 1 else ''} locked, "
               f"{total} locked in all" if added else f"nothing to lock: all {total} documents are locked",
               err=True)


# ---------------------------------------------------------------------------- draft / issue

def _draft(analysis, day):
    from ..billing.schedule import propose

    return propose(analysis.ledger, analysis.books, day)


def _draft_analysis(analysis, draft):
    from ..pipeline import Analysis

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
    from ..render.json import invoice_doc

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
    from ..paths import slug
    from ..writer import write_atomic

    a2 = _draft_analysis(analysis, dr)
    try:
        from ..render.html import render_invoice
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
            from ..render.pdf import html_to_pdf

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
    from ..billing.schedule import format_invoice
    from ..lockfile import write_lock
    from ..parser import parse_text
    from ..pipeline import analyze
    from ..writer import append_text, locked

    day = today(as_of)
    path, root = _root(ctx)
    with locked(root / ".textbill" / "issue"):
        _ignore_state_folder(root)
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
        text = "".join("\n" + format_invoice(p.invoice) for p in dr.proposals)
        nodes, diags, _ = parse_text(text, str(target))
        if diags or list(nodes) != [p.invoice for p in dr.proposals]:  # pragma: no cover - a printer bug
            raise click.ClickException("internal: the invoice text does not read back the same; nothing written")
        if dry_run:
            click.echo(text.lstrip("\n"), nl=False)
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
    from ..loader import display_name

    for p in dr.proposals:
        click.echo(f"issued {p.doc.number} to {p.invoice.client}: {_money(p.doc.total, p.doc.currency)} "
                   f"{p.doc.currency} (period {p.doc.period})", err=True)
    click.echo(f"{len(dr.proposals)} invoice{'s' if len(dr.proposals) != 1 else ''} appended to "
               f"{display_name(target)} and locked", err=True)


def _ignore_state_folder(root: Path) -> None:
    """.textbill/ holds local state (timers, write locks): keep it out of git without touching .gitignore."""
    from ..writer import write_atomic

    ignore = root / ".textbill" / ".gitignore"
    if not ignore.exists():
        write_atomic(ignore, b"# local textbill state (timers, write locks): never committed\n*\n")
