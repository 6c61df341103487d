"""`textbill export hledger/beancount/csv`: the receivables as plain-text accounting."""
from __future__ import annotations

from pathlib import Path

import click

from textbill.cli.common import Ctx, as_of_option, ledger_options, load_clean, today
from textbill.cli.main import Group
from textbill.loading.writer import write_atomic
from textbill.render.csv import csv_text
from textbill.reports.journals import (
    CSV_COLUMNS,
    csv_rows,
    to_beancount,
    to_hledger,
    transactions,
)


@click.group("export", cls=Group)
def export():
    """The receivables as plain-text accounting (hledger, Beancount) or CSV postings.

    One transaction per invoice (receivable, revenue per tax group, tax
    payable), credit note, payment and write-off up to --as-of, tagged with the
    invoice numbers, with one receivables account per client
    (Assets:Receivables:CLIENT).
    """


def _export(ctx: Ctx, as_of, output, kind: str) -> None:
    day = today(as_of)
    analysis = load_clean(ctx)
    txns = transactions(analysis.ledger, analysis.books, analysis.receivables(day))
    company = analysis.ledger.company
    if kind == "hledger":
        text = to_hledger(txns, day, company)
    elif kind == "beancount":
        text = to_beancount(txns, day, company)
    else:
        text = csv_text(CSV_COLUMNS, csv_rows(txns))
    if output:
        write_atomic(Path(output), text.encode("utf-8"))
        click.echo(f"wrote {output} ({len(txns)} transactions)", err=True)
    else:
        click.echo(text, nl=False)


_OUT_OPT = click.option("-o", "--output", "output", metavar="FILE", help="Write to FILE instead of standard output.")


@export.command("hledger")
@as_of_option
@_OUT_OPT
@ledger_options
def export_hledger(ctx: Ctx, as_of, output):
    """An hledger journal (tags: type, client, invoice)."""
    _export(ctx, as_of, output, "hledger")


@export.command("beancount")
@as_of_option
@_OUT_OPT
@ledger_options
def export_beancount(ctx: Ctx, as_of, output):
    """A Beancount ledger (accounts opened, invoice numbers as ^links), ready for bean-check."""
    _export(ctx, as_of, output, "beancount")


@export.command("csv")
@as_of_option
@_OUT_OPT
@ledger_options
def export_csv(ctx: Ctx, as_of, output):
    """One CSV row per posting: date, kind, ref, client, account, amount, currency, invoices, description."""
    _export(ctx, as_of, output, "csv")
