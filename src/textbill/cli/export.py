"""`textbill export hledger/beancount/csv`: the receivables as plain-text accounting."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from textbill.checks.accounts import check_export_accounts
from textbill.cli.common import (
    Ctx,
    as_of_option,
    ledger_options,
    load_clean,
    print_problems,
    today,
)
from textbill.cli.main import Group
from textbill.core.accounts import accounts_of
from textbill.core.diagnostics import narrow
from textbill.loading.writer import write_atomic
from textbill.render.csv import csv_text
from textbill.reports.journals import (
    CSV_COLUMNS,
    DECLARE_ALL,
    Declare,
    csv_rows,
    declared_in,
    to_beancount,
    to_hledger,
    transactions,
)


@click.group("export", cls=Group)
def export():
    """The receivables as plain-text accounting (hledger, Beancount) or CSV postings.

    One transaction per invoice (receivable, revenue per tax group, tax
    payable), credit note, payment, use of client credit and write-off up to
    --as-of, with one receivables account per client; each receivable posting
    names the one invoice it concerns.  Account roots come from `export:` in
    textbill.yaml (receivable, income, tax, bank, credit, writeoff).
    """


def _export(ctx: Ctx, as_of, output, kind: str, declare: Declare = DECLARE_ALL) -> None:
    day = today(as_of)
    analysis = load_clean(ctx)
    ledger = analysis.ledger
    collisions = check_export_accounts(ledger)
    if collisions:
        print_problems(narrow(collisions, analysis.sources), analysis.sources)
        click.echo("textbill: nothing was exported", err=True)
        sys.exit(1)
    acc = accounts_of(ledger.config)
    txns = transactions(ledger, analysis.books, analysis.receivables(day), acc)
    if kind == "hledger":
        text = to_hledger(txns, day, ledger.company, acc, declare)
    elif kind == "beancount":
        text = to_beancount(txns, day, ledger.company, acc, declare)
    else:
        text = csv_text(CSV_COLUMNS, csv_rows(txns))
    if output:
        write_atomic(Path(output), text.encode("utf-8"))
        click.echo(f"wrote {output} ({len(txns)} transactions)", err=True)
    else:
        click.echo(text, nl=False)


_OUT_OPT = click.option("-o", "--output", "output", metavar="FILE", help="Write to FILE instead of standard output.")
_NO_OPEN = click.option("--no-open", is_flag=True,
                        help="Leave out the account declarations (hledger 'account', Beancount 'open'): the books "
                             "this file is included into declare them.")
_NO_COMMODITY = click.option("--no-commodity", is_flag=True,
                             help="Leave out the 'commodity' declarations: the books this file is included "
                                  "into declare them.")


@export.command("hledger")
@as_of_option
@_OUT_OPT
@_NO_OPEN
@_NO_COMMODITY
@ledger_options
def export_hledger(ctx: Ctx, as_of, output, no_open, no_commodity):
    """An hledger journal: commodity, account and payee declarations (it passes 'hledger check -s
    ordereddates payees'); tags type, client, id, and invoice on each receivable posting."""
    _export(ctx, as_of, output, "hledger", Declare(not no_open, not no_commodity))


@export.command("beancount")
@as_of_option
@_OUT_OPT
@_NO_OPEN
@_NO_COMMODITY
@click.option("--books", "books", metavar="FILE", multiple=True, type=click.Path(dir_okay=False, exists=True),
              help="Your Beancount file that will include this one: the accounts it opens and the commodities "
                   "it declares are left out here (repeatable).")
@ledger_options
def export_beancount(ctx: Ctx, as_of, output, no_open, no_commodity, books):
    """A Beancount file: commodity and open directives, invoice numbers as ^links (one invoice per
    transaction), ready for bean-check with the check_commodity plugin."""
    accounts: frozenset[str] = frozenset()
    commodities: frozenset[str] = frozenset()
    for path in books:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise click.BadParameter(f"cannot read {path}: {exc}", param_hint="--books")
        opened, declared = declared_in(text)
        accounts, commodities = accounts | opened, commodities | declared
    _export(ctx, as_of, output, "beancount", Declare(not no_open, not no_commodity, accounts, commodities))


@export.command("csv")
@as_of_option
@_OUT_OPT
@ledger_options
def export_csv(ctx: Ctx, as_of, output):
    """One CSV row per posting: txn, date, kind, ref, client, account, amount, currency, price,
    price_currency, invoice, description."""
    _export(ctx, as_of, output, "csv")
