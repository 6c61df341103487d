"""`textbill explain`: how every figure of one invoice came about."""
from __future__ import annotations

import click

from textbill.cli.common import Ctx, ledger_options, load_clean, unknown
from textbill.render.json import dumps, explain_json
from textbill.reports.explain import explain_invoice


@click.command("explain")
@click.argument("number")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@ledger_options
def explain(ctx: Ctx, number, fmt):
    """How every figure of one invoice came about: sources, rounding, tax groups, discount split."""
    analysis = load_clean(ctx)
    doc = analysis.books.invoices.get(number)
    if doc is None:
        raise unknown("invoice", number, analysis.books.invoices, "NUMBER")
    if fmt == "json":
        click.echo(dumps(explain_json(doc)))
    else:
        click.echo(explain_invoice(doc))
