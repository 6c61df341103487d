"""`textbill invoices`: the invoice list as of a day, as a table, CSV or JSON."""
from __future__ import annotations

from decimal import Decimal

import click

from textbill.api import UnknownName
from textbill.api import invoices as invoice_rows
from textbill.cli.common import (
    FORMATS,
    Ctx,
    as_of_option,
    emit_csv,
    grouped,
    ledger_options,
    load_clean,
    today,
)
from textbill.core.diagnostics import closest
from textbill.render.json import INVOICE_COLUMNS, dumps
from textbill.render.table import print_table

NUMERIC = frozenset({"net", "tax", "total", "paid", "outstanding", "credited", "written_off", "days_overdue",
                     "late_interest", "installment", "amount", "balance"})


@click.command("invoices")
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
    day = today(as_of)
    analysis = load_clean(ctx)
    statuses = {s.strip() for s in status.split(",") if s.strip()} if status else None
    try:
        rows = invoice_rows(analysis, day, client=client, statuses=statuses)
    except UnknownName as exc:
        raise click.BadParameter(str(exc), param_hint=f"--{exc.what}")
    if sort != "date":  # else already in issue order (date, then sequence)
        rows = _sort_rows(rows, sort, [*INVOICE_COLUMNS, "written_off"])
    if fmt == "json":
        click.echo(dumps(rows))
    elif fmt == "csv":
        emit_csv(INVOICE_COLUMNS, rows)
    elif not rows:
        click.echo(f"no invoices as of {day}", err=True)
    else:
        # total - paid - credited (- written off) = outstanding, read off the row
        amounts = ("net", "tax", "total", "paid", "credited", "written_off", "outstanding")
        if all(Decimal(r["written_off"]) == 0 for r in rows):
            amounts = tuple(a for a in amounts if a != "written_off")
        columns = [*INVOICE_COLUMNS[:INVOICE_COLUMNS.index("paid")], *amounts[3:], "status"]
        totals = grouped(_totals(rows, amounts), amounts)
        # on a narrow terminal, secondary columns go, in this order (the currency only when all rows
        # share one), and the client and the status wrap; the number and the amounts are never cut
        single = len({r["currency"] for r in rows}) == 1
        optional = ["net", "tax", "date", "due", *(["currency"] if single else []), "status", "client"]
        print_table(columns, grouped(rows, amounts), title=f"Invoices as of {day}", right=amounts,
                    footer=totals, wrap=("client", "status"), optional=optional)


def _sort_rows(rows: list[dict], key: str, columns: list[str]) -> list[dict]:
    desc = key.startswith("-")
    key = key.lstrip("-")
    if key not in columns:
        guess = closest(key, columns)
        raise click.BadParameter(f"cannot sort by '{key}'" + (f" — did you mean '{guess}'?" if guess else "")
                                 + f" (one of: {', '.join(columns)})", param_hint="--sort")

    def k(row):
        v = row.get(key)
        if key in NUMERIC:
            return Decimal(str(v)) if v not in (None, "") else Decimal("-Infinity")
        return "" if v is None else str(v)

    return sorted(rows, key=k, reverse=desc)


def _totals(rows: list[dict], amount_cols: tuple[str, ...], label_col: str = "number") -> list[dict]:
    per: dict[str, dict] = {}
    for row in rows:
        t = per.setdefault(row["currency"], {label_col: "total", "currency": row["currency"]})
        for c in amount_cols:
            t[c] = t.get(c, Decimal(0)) + Decimal(row[c])
    return list(per.values())
