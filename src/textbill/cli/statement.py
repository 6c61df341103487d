"""`textbill statement`: a client's statement as a table, CSV, JSON, HTML or PDF."""
from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import click

from textbill.cli.common import (
    FORMATS,
    Ctx,
    as_of_option,
    emit_csv,
    ledger_options,
    load_clean,
    parse_day,
    today,
    unknown,
)
from textbill.core.money import fmt_grouped
from textbill.engine.statement import statement as build_statement
from textbill.loading.writer import write_atomic
from textbill.render.html import render_statement
from textbill.render.json import dumps, statement_doc
from textbill.render.pdf import html_to_pdf
from textbill.render.table import print_table

COLUMNS = ("date", "kind", "ref", "amount", "balance")


@click.command("statement")
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
    first = parse_day(start, "--from")
    last = parse_day(end, "--to") or today(as_of)
    if first and first > last:
        raise click.BadParameter(f"--from {first} is after --to {last}", param_hint="--from")
    if output:
        _check_output(Path(output))
    analysis = load_clean(ctx)
    ledger = analysis.ledger
    if client not in ledger.clients:
        raise unknown("client", client, ledger.clients, "CLIENT")
    st = build_statement(ledger, analysis.receivables(last), client, first)
    doc = statement_doc(st)
    if fmt == "json":
        write_or_echo(output, dumps(doc) + "\n")
    elif fmt == "csv":
        if output:
            buf = io.StringIO()
            emit_csv(COLUMNS, doc["entries"], stream=buf)
            write_or_echo(output, buf.getvalue())
        else:
            emit_csv(COLUMNS, doc["entries"])
    elif fmt == "html":
        write_or_echo(output, render_statement(analysis, st))
    elif fmt == "pdf":
        html = render_statement(analysis, st)
        if not output:
            raise click.UsageError("--format pdf needs -o/--output FILE")
        write_atomic(Path(output), html_to_pdf(html, base_url=str(analysis.root)))
        click.echo(f"wrote {output}", err=True)
    else:
        _show(st, doc)


def _show(st, doc: dict) -> None:
    c = st.currency
    rows = [{"date": "", "kind": "opening balance", "ref": "", "amount": "",
             "balance": fmt_grouped(st.opening, c)}]
    for e in doc["entries"]:
        rows.append({**e, "amount": fmt_grouped(Decimal(e["amount"]), c),
                     "balance": fmt_grouped(Decimal(e["balance"]), c)})
    span = f"{st.start or 'the beginning'} .. {st.end}"
    print_table(COLUMNS, rows, title=f"Statement for {st.client.name} ({c}), {span}", right=("amount", "balance"),
               footer=[{"date": "", "kind": "closing balance", "ref": "", "amount": "",
                        "balance": fmt_grouped(st.closing, c)}])
    aging = {b: fmt_grouped(v, c) for b, v in st.aging.items()}
    print_table(list(aging), [aging], title="Aging", right=tuple(aging))


def _check_output(path: Path) -> None:
    """A usage error unless path can be written as it is: its folder exists (no folder is made on
    the quiet: a typo in a folder name would hide the statement somewhere else) and it is not one."""
    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise click.BadParameter(f"the folder {folder} {what}; create it first, or write the statement "
                                 "into an existing folder", param_hint="-o/--output")
    if path.is_dir():
        raise click.BadParameter(f"{path} is a folder; name the file to write", param_hint="-o/--output")


def write_or_echo(output: str | None, text: str) -> None:
    """Write `text` to the file --output names (atomically), else to standard output."""
    if output:
        write_atomic(Path(output), text.encode("utf-8"))
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)
