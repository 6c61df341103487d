"""`textbill draft`: the invoices the SOW schedules call for now, computed but not written."""
from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import click

from textbill.cli.common import (
    Ctx,
    as_of_option,
    ledger_options,
    load_clean,
    print_problems,
    today,
)
from textbill.core.diagnostics import has_errors
from textbill.core.money import fmt_grouped
from textbill.core.paths import slug
from textbill.loading.writer import write_atomic
from textbill.pipeline import Analysis
from textbill.render.html import render_invoice
from textbill.render.json import dumps, invoice_doc
from textbill.render.pdf import html_to_pdf
from textbill.render.table import print_table
from textbill.workflow.drafting import draft_invoices


@click.command("draft")
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
    day = today(as_of)
    analysis = load_clean(ctx)
    dr = draft_invoices(analysis.ledger, analysis.books, day)
    if dr.diagnostics:
        print_problems(dr.diagnostics, analysis.sources)
    if fmt == "json":
        click.echo(dumps([{**invoice_doc(p.doc), "draft": True, "reasons": list(p.reasons)} for p in dr.proposals]))
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
             "amount": fmt_grouped(ln.amount, c), "tax": ln.tax.label} for ln in doc.lines]
    footer = [{"description": "net", "amount": fmt_grouped(doc.net, c)},
              {"description": "tax", "amount": fmt_grouped(doc.tax, c)},
              {"description": f"total {c}", "amount": fmt_grouped(doc.total, c)}]
    print_table(["date", "description", "sow", "quantity", "amount", "tax"], rows,
               title=f"DRAFT {doc.number} — {client}, {doc.date}, period {doc.period} "
                     f"(due {doc.due})", right=("quantity", "amount"), footer=footer)
    for r in p.reasons:
        click.echo(f"  why: {r}")
    click.echo()


def _render_drafts(analysis: Analysis, dr, out: Path) -> None:
    drafted = Analysis(replace(analysis.loaded, ledger=dr.ledger), dr.books, [])
    for p in dr.proposals:
        name = slug(p.doc.number) + "-DRAFT"
        try:
            html = render_invoice(drafted, p.doc, draft=True)
        except NotImplementedError:
            click.echo("textbill: HTML rendering is not available in this build yet; no files written", err=True)
            sys.exit(1)
        write_atomic(out / f"{name}.html", html.encode("utf-8"))
        click.echo(f"wrote {out / (name + '.html')}", err=True)
        try:
            write_atomic(out / f"{name}.pdf", html_to_pdf(html, base_url=str(analysis.root)))
            click.echo(f"wrote {out / (name + '.pdf')}", err=True)
        except (ImportError, NotImplementedError):
            click.echo("textbill: PDF rendering is not available in this build yet; wrote HTML only", err=True)
