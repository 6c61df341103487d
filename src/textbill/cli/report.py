"""`textbill report overdue`: open invoices past due, by aging bucket and client."""
from __future__ import annotations

import click

from textbill.cli.common import (
    FORMATS,
    Ctx,
    as_of_option,
    emit_csv,
    grouped,
    ledger_options,
    load_clean,
    parse_day,
    today,
)
from textbill.cli.main import Group
from textbill.core.books import BUCKETS, Due
from textbill.core.money import fmt_grouped
from textbill.engine.aging import overdue
from textbill.render.html import render_overdue_report
from textbill.render.json import OVERDUE_COLUMNS, dumps, overdue_row
from textbill.render.table import print_table
from textbill.reports.overdue import overdue_totals
from textbill.reports.team import TEAM_COLUMNS, team_doc, team_flat, team_rows


@click.group("report", cls=Group)
def report():
    """Reports over the receivables and the team's time."""


@report.command("overdue")
@as_of_option
@click.option("--client", "client", metavar="CLIENT", help="Only this client.")
@click.option("--format", "fmt", type=click.Choice(FORMATS + ("html",)), default="table", show_default=True)
@ledger_options
def report_overdue(ctx: Ctx, as_of, client, fmt):
    """Open invoices (or installments) past due: days overdue, aging bucket, late interest."""
    day = today(as_of)
    analysis = load_clean(ctx)
    ledger = analysis.ledger
    rec = analysis.receivables(day)
    items = [d for d in overdue(rec, ledger.company) if not client or d.state.client == client]
    with_interest = bool(ledger.company and ledger.company.late_interest is not None)
    rows = [overdue_row(d, with_interest) for d in items]
    if fmt == "json":
        click.echo(dumps(rows))
        return
    if fmt == "csv":
        emit_csv(OVERDUE_COLUMNS, rows)
        return
    if fmt == "html":
        click.echo(render_overdue_report(analysis, rec, items), nl=False)
        return
    if not rows:
        click.echo(f"nothing overdue as of {day}", err=True)
        return
    columns = ["invoice", "installment", "client", "currency", "due", "days_overdue", "bucket", "outstanding"]
    if with_interest:
        columns.append("late_interest")
    # on a narrow terminal, secondary columns go, in this order (an empty installment column, the
    # currency only when all rows share one), and the client wraps; the invoice number and the
    # amounts are never cut
    optional = [] if any(r.get("installment") not in (None, "") for r in rows) else ["installment"]
    optional += ["bucket", "due", *(["currency"] if len({r["currency"] for r in rows}) == 1 else []), "client"]
    print_table(columns, grouped(rows, ("outstanding", "late_interest")), title=f"Overdue as of {day}",
                right=("outstanding", "days_overdue", "late_interest", "installment"), wrap=("client",),
                optional=optional)
    _print_totals(items)


def _print_totals(items: list[Due]) -> None:
    totals = overdue_totals(items)
    rows = [{"currency": c, **{k: fmt_grouped(v, c) for k, v in per.items()}}
            for c, per in totals.by_currency.items()]
    empty = [b for b in BUCKETS[1:] if all(per[b] == 0 for per in totals.by_currency.values())]
    # on a narrow terminal, buckets with nothing in them go
    print_table(["currency", *BUCKETS[1:], "total"], rows, title="By bucket", right=(*BUCKETS, "total"),
                optional=empty)
    crow = [{"client": cl, "currency": c, "invoices": n, "outstanding": fmt_grouped(total, c)}
            for cl, c, n, total, _ in totals.by_client]
    print_table(["client", "currency", "invoices", "outstanding"], crow, title="By client",
                right=("invoices", "outstanding"), wrap=("client",))


@report.command("team")
@as_of_option
@click.option("--from", "start", metavar="YYYY-MM-DD", help="Only entries from this day.")
@click.option("--to", "end", metavar="YYYY-MM-DD", help="Only entries up to this day.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@ledger_options
def report_team(ctx: Ctx, as_of, start, end, fmt):
    """Hours (billable and not), amount billed and utilisation per person and month."""
    day = today(as_of)
    analysis = load_clean(ctx)
    rows = team_rows(analysis.ledger, analysis.books, day, parse_day(start, "--from"), parse_day(end, "--to"))
    if fmt == "json":
        click.echo(dumps([team_doc(r) for r in rows]))
        return
    if fmt == "csv":
        emit_csv(TEAM_COLUMNS, [team_flat(r, percent_sign=False) for r in rows])
        return
    if not rows:
        click.echo(f"no time tracked as of {day}", err=True)
        return
    print_table(["month", "name", "role", "billable_hours", "nonbillable_hours", "utilisation", "billed"],
                [team_flat(r) for r in rows], title=f"Team as of {day}",
                right=("billable_hours", "nonbillable_hours", "utilisation", "billed"), optional=["role"])
