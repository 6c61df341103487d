"""The `textbill` command line: thin click commands over the library."""
from __future__ import annotations

import functools
import os
import sys
from datetime import date
from pathlib import Path

import click

from textbill.version import __version__
from textbill.core.diagnostics import (
    closest,
    format_json,
    format_text,
    has_errors,
    summary,
)

FORMATS = ("table", "json", "csv")


# ---------------------------------------------------------------------------- helpers

class Ctx:
    """What every command shares: the ledger path and the output streams."""

    def __init__(self, ledger: str | None, no_cache: bool = False):
        self.ledger_arg = ledger
        self.no_cache = no_cache

    def ledger_path(self, positional: str | None = None) -> Path:
        from textbill.load.loader import LedgerNotFound, resolve_ledger

        try:
            return resolve_ledger(positional or self.ledger_arg)
        except LedgerNotFound as exc:
            raise click.UsageError(str(exc))


def ledger_options(func):
    """-f/--ledger (also TEXTBILL_LEDGER) and --no-cache, on every command."""

    @click.option("-f", "--ledger", "ledger", metavar="PATH", envvar="TEXTBILL_LEDGER",
                  help="Ledger folder or .bill file (default: nearest folder upward with textbill.yaml, "
                       "else the current folder). Also TEXTBILL_LEDGER.")
    @click.option("--no-cache", is_flag=True, help="Parse every file again; do not read or write the parse cache.")
    @functools.wraps(func)
    def wrapper(*args, ledger=None, no_cache=False, **kwargs):
        return func(Ctx(ledger, no_cache), *args, **kwargs)

    return wrapper


def parse_day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date (write YYYY-MM-DD)", param_hint=name)


def as_of_option(func):
    return click.option("--as-of", "as_of", metavar="YYYY-MM-DD",
                        help="The day to look from (default: today).")(func)


def today(value: str | None) -> date:
    # the one place that reads the clock: the engine is always handed its day
    return parse_day(value, "--as-of") or date.today()


def stderr_is_tty() -> bool:
    return sys.stderr.isatty() and not os.environ.get("NO_COLOR")


def print_diagnostics(analysis, quiet_warnings: bool = False) -> None:
    diags = analysis.diagnostics
    if quiet_warnings:
        errors = [d for d in diags if d.is_error]
        for d in errors:
            click.echo(format_text(d, analysis.sources, color=stderr_is_tty()) + "\n", err=True)
        warnings = len(diags) - len(errors)
        if errors:
            click.echo(f"textbill: {summary(diags)}; nothing was produced", err=True)
        elif warnings:
            click.echo(f"textbill: {warnings} warning{'s' if warnings != 1 else ''} "
                       f"(see 'textbill check')", err=True)
        return
    for d in diags:
        click.echo(format_text(d, analysis.sources, color=stderr_is_tty()) + "\n", err=True)


def load_clean(ctx: Ctx, positional: str | None = None):
    """Analyze the ledger; on errors, print them and exit 1 (commands need a valid ledger)."""
    from textbill.pipeline import analyze

    analysis = analyze(ctx.ledger_path(positional), **_cache_kw(ctx))
    print_diagnostics(analysis, quiet_warnings=True)
    if has_errors(analysis.diagnostics):
        sys.exit(1)
    return analysis


def _cache_kw(ctx: Ctx) -> dict:
    return {"cache": not ctx.no_cache}


def emit_table(columns, rows, title=None, right=(), footer=None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 250, highlight=False, soft_wrap=False)
    table = Table(title=title, header_style="bold", show_lines=False, box=None if not rows else None)
    for col in columns:
        table.add_column(col.replace("_", " "), justify="right" if col in right else "left", no_wrap=True)
    for row in rows:
        table.add_row(*["" if row.get(c) is None else str(row.get(c)) for c in columns])
    if footer:
        table.add_section()
        for row in footer:
            table.add_row(*["" if row.get(c) is None else str(row.get(c)) for c in columns], style="bold")
    console.print(table)


def emit_csv(columns, rows) -> None:
    import csv

    writer = csv.DictWriter(sys.stdout, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: "" if row.get(c) is None else row.get(c) for c in columns})


def emit_json(obj) -> None:
    from textbill.render.json import dumps

    click.echo(dumps(obj))


# ---------------------------------------------------------------------------- the group

class Group(click.Group):
    """Suggests the closest command for a misspelled one."""

    def resolve_command(self, ctx, args):
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError:
            if args:
                guess = closest(args[0], self.list_commands(ctx))
                if guess:
                    raise click.UsageError(f"no such command '{args[0]}' — did you mean '{guess}'?")
            raise


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="textbill")
def main():
    """textbill — plain-text, git-friendly invoicing.

    Keep clients, statements of work, time, expenses, invoices and payments in
    .bill files; textbill checks them and compiles invoices, statements, the
    overdue report, reminders and a dashboard.
    """


# ---------------------------------------------------------------------------- check

@main.command()
@click.argument("ledger_pos", metavar="[LEDGER]", required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Diagnostics as text, or one JSON document for editors and CI.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1).")
@ledger_options
def check(ctx: Ctx, ledger_pos, fmt, strict):
    """Parse and validate a ledger; report every problem.

    Exit status: 0 clean or warnings only, 1 errors, 2 usage.
    """
    from textbill.pipeline import analyze

    path = ctx.ledger_path(ledger_pos)
    analysis = analyze(path, **_cache_kw(ctx))
    diags = analysis.diagnostics
    if fmt == "json":
        click.echo(format_json(diags))
    else:
        print_diagnostics(analysis)
        counts = ", ".join(_count(n, what) for n, what in zip(analysis.counts(), ("file", "directive", "invoice")))
        click.echo(f"{counts}: {summary(diags)}", err=True)
    failed = has_errors(diags) or (strict and diags)
    sys.exit(1 if failed else 0)


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


# ---------------------------------------------------------------------------- invoices

def _sort_rows(rows, key: str, columns):
    from decimal import Decimal

    desc = key.startswith("-")
    key = key.lstrip("-")
    if key not in columns:
        guess = closest(key, columns)
        raise click.BadParameter(f"cannot sort by '{key}'" + (f" — did you mean '{guess}'?" if guess else "")
                                 + f" (one of: {', '.join(columns)})", param_hint="--sort")
    numeric = {"net", "tax", "total", "paid", "outstanding", "credited", "written_off", "days_overdue",
               "late_interest", "installment", "amount", "balance"}

    def k(row):
        v = row.get(key)
        if key in numeric:
            return Decimal(str(v)) if v not in (None, "") else Decimal("-Infinity")
        return "" if v is None else str(v)

    return sorted(rows, key=k, reverse=desc)


@main.command()
@as_of_option
@click.option("--client", "client", metavar="CLIENT", help="Only this client's invoices.")
@click.option("--status", "status", metavar="STATUS",
              help="Only invoices with this status (open, overdue, paid, credited, written-off, "
                   "collections); several separated by commas.")
@click.option("--sort", "sort", metavar="KEY", default="date", show_default=True,
              help="Sort by a column (number, client, date, due, total, outstanding, ...); prefix - to reverse.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@ledger_options
def invoices(ctx: Ctx, as_of, client, status, sort, fmt):
    """The invoice list: amounts, payments and status as of a day."""
    from textbill.render.json import INVOICE_COLUMNS, invoice_row

    day = today(as_of)
    analysis = load_clean(ctx)
    ledger = analysis.ledger
    if client and client not in ledger.clients:
        guess = closest(client, ledger.clients)
        raise click.BadParameter(f"unknown client '{client}'" + (f" — did you mean '{guess}'?" if guess else ""),
                                 param_hint="--client")
    statuses = None
    if status:
        statuses = {s.strip() for s in status.split(",") if s.strip()}
        known = {"open", "overdue", "paid", "credited", "written-off", "collections"}
        for s in statuses - known:
            guess = closest(s, known)
            raise click.BadParameter(f"unknown status '{s}'" + (f" — did you mean '{guess}'?" if guess else ""),
                                     param_hint="--status")
    rec = analysis.receivables(day)
    rows = []
    for state in rec.invoices.values():
        if client and state.client != client:
            continue
        if statuses and state.status not in statuses:
            continue
        rows.append(invoice_row(state))
    columns = list(INVOICE_COLUMNS) + ["credited", "written_off"]
    if sort == "date":
        pass  # already in issue order (date, then sequence)
    else:
        rows = _sort_rows(rows, sort, columns)
    if fmt == "json":
        emit_json(rows)
    elif fmt == "csv":
        emit_csv(INVOICE_COLUMNS, rows)
    else:
        if not rows:
            click.echo(f"no invoices as of {day}", err=True)
            return
        amounts = ("net", "tax", "total", "paid", "outstanding")
        totals = _grouped(_totals(rows, amounts), amounts)
        emit_table(INVOICE_COLUMNS, _grouped(rows, amounts), title=f"Invoices as of {day}",
                   right=("net", "tax", "total", "paid", "outstanding"), footer=totals)


def _grouped(rows, amount_cols):
    """Rows for a terminal table: amounts with thousands separators."""
    from decimal import Decimal

    from textbill.core.money import fmt_grouped

    return [{**row, **{c: fmt_grouped(Decimal(str(row[c])), row["currency"]) for c in amount_cols
                       if row.get(c) not in (None, "")}} for row in rows]


def _totals(rows, amount_cols, label_col="number"):
    from decimal import Decimal

    per: dict[str, dict] = {}
    for row in rows:
        t = per.setdefault(row["currency"], {label_col: "total", "currency": row["currency"]})
        for c in amount_cols:
            t[c] = t.get(c, Decimal(0)) + Decimal(row[c])
    return list(per.values())


# ---------------------------------------------------------------------------- report

@main.group(cls=Group)
def report():
    """Reports over the receivables."""


@report.command("overdue")
@as_of_option
@click.option("--client", "client", metavar="CLIENT", help="Only this client.")
@click.option("--format", "fmt", type=click.Choice(FORMATS + ("html",)), default="table", show_default=True)
@ledger_options
def report_overdue(ctx: Ctx, as_of, client, fmt):
    """Open invoices (or installments) past due: days overdue, aging bucket, late interest."""
    from textbill.engine.aging import overdue
    from textbill.render.json import OVERDUE_COLUMNS, overdue_row

    day = today(as_of)
    analysis = load_clean(ctx)
    ledger = analysis.ledger
    rec = analysis.receivables(day)
    items = [d for d in overdue(rec, ledger.company) if not client or d.state.client == client]
    with_interest = bool(ledger.company and ledger.company.late_interest is not None)
    rows = [overdue_row(d, with_interest) for d in items]
    if fmt == "json":
        emit_json(rows)
        return
    if fmt == "csv":
        emit_csv(OVERDUE_COLUMNS, rows)
        return
    if fmt == "html":
        from textbill.render.html import render_overdue_report

        click.echo(render_overdue_report(analysis, rec, items), nl=False)
        return
    if not rows:
        click.echo(f"nothing overdue as of {day}", err=True)
        return
    columns = ["invoice", "installment", "client", "currency", "due", "days_overdue", "bucket", "outstanding"]
    if with_interest:
        columns.append("late_interest")
    emit_table(columns, _grouped(rows, ("outstanding", "late_interest")), title=f"Overdue as of {day}",
               right=("outstanding", "days_overdue", "late_interest", "installment"))
    _print_overdue_totals(items)


def _print_overdue_totals(items) -> None:
    from textbill.core.books import BUCKETS
    from textbill.core.money import fmt_grouped
    from textbill.engine.aging import overdue_totals

    totals = overdue_totals(items)
    rows = [{"currency": c, **{k: fmt_grouped(v, c) for k, v in per.items()}}
            for c, per in totals.by_currency.items()]
    emit_table(["currency", *BUCKETS[1:], "total"], rows, title="By bucket", right=(*BUCKETS, "total"))
    crow = [{"client": cl, "currency": c, "invoices": n, "outstanding": fmt_grouped(total, c)}
            for cl, c, n, total, _ in totals.by_client]
    emit_table(["client", "currency", "invoices", "outstanding"], crow, title="By client",
               right=("invoices", "outstanding"))


# ---------------------------------------------------------------------------- statement

@main.command()
@click.argument("client")
@click.option("--from", "start", metavar="YYYY-MM-DD", help="First day (default: the beginning).")
@click.option("--to", "end", metavar="YYYY-MM-DD", help="Last day (default: --as-of, else today).")
@as_of_option
@click.option("--format", "fmt", type=click.Choice(FORMATS + ("html", "pdf")), default="table", show_default=True)
@click.option("-o", "--output", "output", metavar="FILE", help="Write to FILE instead of standard output "
              "(required for pdf).")
@ledger_options
def statement(ctx: Ctx, client, start, end, as_of, fmt, output):
    """A client's statement: opening balance, documents and payments, running balance, aging."""
    from textbill.core.money import fmt_grouped
    from textbill.engine.statement import statement as build_statement
    from textbill.render.json import statement_doc

    first = parse_day(start, "--from")
    last = parse_day(end, "--to") or today(as_of)
    if first and first > last:
        raise click.BadParameter(f"--from {first} is after --to {last}", param_hint="--from")
    analysis = load_clean(ctx)
    ledger = analysis.ledger
    if client not in ledger.clients:
        guess = closest(client, ledger.clients)
        raise click.BadParameter(f"unknown client '{client}'" + (f" — did you mean '{guess}'?" if guess else ""),
                                 param_hint="CLIENT")
    rec = analysis.receivables(last)
    st = build_statement(ledger, rec, client, first)
    doc = statement_doc(st)
    if fmt == "json":
        _write_or_echo(output, _json_text(doc))
        return
    columns = ("date", "kind", "ref", "amount", "balance")
    if fmt == "csv":
        if output:
            import io

            buf = io.StringIO()
            _old, sys.stdout = sys.stdout, buf
            try:
                emit_csv(columns, doc["entries"])
            finally:
                sys.stdout = _old
            _write_or_echo(output, buf.getvalue())
        else:
            emit_csv(columns, doc["entries"])
        return
    if fmt in ("html", "pdf"):
        from textbill.render.html import render_statement

        html = render_statement(analysis, st)
        if fmt == "html":
            _write_or_echo(output, html)
            return
        if not output:
            raise click.UsageError("--format pdf needs -o/--output FILE")
        from textbill.load.writer import write_atomic
        from textbill.render.pdf import html_to_pdf

        write_atomic(Path(output), html_to_pdf(html, base_url=str(analysis.root)))
        click.echo(f"wrote {output}", err=True)
        return
    c = st.currency
    rows = [{"date": "", "kind": "opening balance", "ref": "", "amount": "",
             "balance": fmt_grouped(st.opening, c)}]
    for e in doc["entries"]:
        rows.append({**e, "amount": fmt_grouped(_dec(e["amount"]), c), "balance": fmt_grouped(_dec(e["balance"]), c)})
    span = f"{st.start or 'the beginning'} .. {st.end}"
    emit_table(columns, rows, title=f"Statement for {st.client.name} ({c}), {span}", right=("amount", "balance"),
               footer=[{"date": "", "kind": "closing balance", "ref": "", "amount": "",
                        "balance": fmt_grouped(st.closing, c)}])
    aging = {b: fmt_grouped(v, c) for b, v in st.aging.items()}
    emit_table(list(aging), [aging], title="Aging", right=tuple(aging))


def _dec(s: str):
    from decimal import Decimal

    return Decimal(s)


def _json_text(obj) -> str:
    from textbill.render.json import dumps

    return dumps(obj) + "\n"


def _write_or_echo(output: str | None, text: str) -> None:
    if output:
        from textbill.load.writer import write_atomic

        write_atomic(Path(output), text.encode("utf-8"))
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


# ---------------------------------------------------------------------------- explain

@main.command()
@click.argument("number")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@ledger_options
def explain(ctx: Ctx, number, fmt):
    """How every figure of one invoice came about: sources, rounding, tax groups, discount split."""
    from textbill.render.json import explain_json
    from textbill.reports.explain import explain_invoice

    analysis = load_clean(ctx)
    doc = analysis.books.invoices.get(number)
    if doc is None:
        guess = closest(number, analysis.books.invoices)
        raise click.BadParameter(f"unknown invoice '{number}'" + (f" — did you mean '{guess}'?" if guess else ""),
                                 param_hint="NUMBER")
    if fmt == "json":
        emit_json(explain_json(doc))
    else:
        click.echo(explain_invoice(doc))


# ---------------------------------------------------------------------------- init / fmt

@main.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Write into a folder that already holds files.")
def init(directory, force):
    """Create a new ledger: textbill.yaml, a commented example .bill file, .gitignore."""
    from textbill.workflow.scaffold import create_ledger

    target = Path(directory)
    try:
        written = create_ledger(target, force=force)
    except FileExistsError as exc:
        raise click.UsageError(f"{exc} (use --force to write beside existing files)")
    for path in written:
        click.echo(f"  created {path}", err=True)
    click.echo(f"new ledger in {target}; try: textbill check {target}", err=True)


@main.command("fmt")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--check", "check_only", is_flag=True, help="Change nothing; exit 1 if a file is not formatted.")
@click.option("--diff", "show_diff", is_flag=True, help="Show what would change.")
@ledger_options
def fmt_cmd(ctx: Ctx, paths, check_only, show_diff):
    """Rewrite .bill files in canonical layout (comments and blank lines kept).

    A file that does not parse is left untouched and reported.
    """
    import difflib

    from textbill.load.loader import display_name, ledger_files, read_source
    from textbill.load.writer import write_atomic
    from textbill.syntax.printer import format_text as canonical

    targets: list[Path] = []
    if paths:
        for p in paths:
            path = Path(p)
            if not path.exists():
                raise click.BadParameter(f"no such file or folder: {p}", param_hint="PATHS")
            targets.extend(ledger_files(path))
    else:
        targets = ledger_files(ctx.ledger_path())
    changed, failed = 0, 0
    for path in targets:
        name = display_name(path)
        text, problem = read_source(path, name)
        if problem:
            click.echo(f"{name}: skipped: {problem.message}", err=True)
            failed += 1
            continue
        result, diags = canonical(text, name)
        if result is None:
            from textbill.core.source import Sources

            sources = Sources()
            sources.add(name, text)
            for d in diags:
                click.echo(format_text(d, sources, color=stderr_is_tty()) + "\n", err=True)
            click.echo(f"{name}: not formatted: it does not parse", err=True)
            failed += 1
            continue
        if result == text:
            continue
        changed += 1
        if show_diff or check_only:
            diff = difflib.unified_diff(text.splitlines(True), result.splitlines(True), name, name + " (formatted)")
            if show_diff:
                sys.stdout.writelines(diff)
        if check_only:
            click.echo(f"would reformat {name}", err=True)
        else:
            write_atomic(path, result.encode("utf-8"))
            click.echo(f"reformatted {name}", err=True)
    if check_only:
        sys.exit(1 if changed or failed else 0)
    if not changed and not failed:
        click.echo(f"{len(targets)} file{'s' if len(targets) != 1 else ''} already formatted", err=True)
    sys.exit(1 if failed else 0)


# command modules register themselves on `main` when imported
from textbill.cli import build as _build  # noqa: E402,F401
from textbill.cli import remind as _remind  # noqa: E402,F401
from textbill.cli import watch as _watch  # noqa: E402,F401
from textbill.cli import workflow as _workflow  # noqa: E402,F401


def run() -> None:
    """Entry point: never a traceback for the user (TEXTBILL_DEBUG=1 shows one)."""
    try:
        main(standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        if os.environ.get("TEXTBILL_DEBUG"):
            raise
        click.echo(f"textbill: internal error: {type(exc).__name__}: {exc}", err=True)
        click.echo("this is a bug in textbill; run with TEXTBILL_DEBUG=1 for details and please report it",
                   err=True)
        sys.exit(1)
