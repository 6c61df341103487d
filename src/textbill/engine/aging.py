"""Overdue items, aging buckets and late interest as of a day (docs/language.md, "How money owed is tracked")."""
from __future__ import annotations

from datetime import date
from decimal import Decimal, localcontext

from textbill.core import model as m
from textbill.core.books import Due, Receivables
from textbill.core.money import CONTEXT, round_money


def bucket(days_overdue: int) -> str:
    if days_overdue <= 0:
        return "current"
    if days_overdue <= 30:
        return "1-30"
    if days_overdue <= 60:
        return "31-60"
    if days_overdue <= 90:
        return "61-90"
    return "90+"


def late_interest(outstanding: Decimal, yearly_percent: Decimal, days: int, currency: str) -> Decimal:
    """outstanding x rate x days / 365, rounded once."""
    with localcontext(CONTEXT):
        return round_money(outstanding * yearly_percent / 100 * days / 365, currency)


def dues(rec: Receivables, company: m.Company | None) -> list[Due]:
    """Every open amount (per installment under a plan) with its age as of rec.as_of."""
    rate = company.late_interest if company else None
    out: list[Due] = []
    for state in rec.invoices.values():
        if state.outstanding <= 0 or state.writeoff is not None:
            continue
        parts: list[tuple[int | None, date, Decimal]]
        if state.plan is not None:
            parts = [(i.number, i.due, i.outstanding) for i in state.plan.installments if i.outstanding > 0]
        else:
            parts = [(None, state.doc.due, state.outstanding)]
        for number, due, amount in parts:
            days = (rec.as_of - due).days
            interest = None
            if rate is not None:
                interest = late_interest(amount, rate, max(days, 0), state.currency)
            out.append(Due(state, number, due, amount, days, bucket(days), interest))
    return out


def overdue(rec: Receivables, company: m.Company | None, open_amounts: list[Due] | None = None) -> list[Due]:
    """The dues past their due date, most overdue first.  open_amounts: dues(rec, company) when the
    caller has them already."""
    items = [d for d in (dues(rec, company) if open_amounts is None else open_amounts) if d.days_overdue > 0]
    items.sort(key=lambda d: (-d.days_overdue, d.state.client, d.number, d.installment or 0))
    return items
