"""`textbill explain`: how every figure of one invoice, or one credit note, came about."""
from __future__ import annotations

import click

from textbill.cli.common import Ctx, ledger_options, load_clean, unknown
from textbill.render.json import dumps, explain_credit_json, explain_json
from textbill.reports.explain import credit_change, explain_credit, explain_invoice


@click.command("explain")
@click.argument("number")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@ledger_options
def explain(ctx: Ctx, number, fmt):
    """How every figure of one invoice came about: sources, rounding, tax groups, discount split.

    For a credit note: the invoice it corrects, the amount, the tax groups it credits, and the
    invoice's net, tax and total before and after it.
    """
    analysis = load_clean(ctx)
    books = analysis.books
    doc = books.invoices.get(number)
    if doc is not None:
        click.echo(dumps(explain_json(doc)) if fmt == "json" else explain_invoice(doc))
        return
    credit = books.credits.get(number)
    if credit is None:
        raise unknown("invoice or credit note", number, [*books.invoices, *books.credits], "NUMBER")
    change = credit_change(credit, books.credits)
    click.echo(dumps(explain_credit_json(change)) if fmt == "json" else explain_credit(change))
