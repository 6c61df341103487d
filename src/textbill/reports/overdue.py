"""The overdue report's figures: what is overdue, added up per currency, bucket and client.

Stage: reports.  Numbers only (render/html.py formats them).  Every sum adds amounts the
engine already rounded, and never across currencies.
"""
from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from textbill.core.books import BUCKETS, Due, OverdueTotals
from textbill.core.money import ZERO


def overdue_totals(items: Iterable[Due]) -> OverdueTotals:
    """Per currency: each bucket's outstanding, "total" and "interest"; per (client, currency):
    items, outstanding and interest, by currency then largest outstanding first."""
    by_currency: dict[str, dict[str, Decimal]] = {}
    clients: dict[tuple[str, str], list] = {}
    for d in items:
        c = d.state.currency
        per = by_currency.setdefault(c, {**{b: ZERO for b in BUCKETS}, "total": ZERO, "interest": ZERO})
        per[d.bucket] += d.outstanding
        per["total"] += d.outstanding
        per["interest"] += d.late_interest or ZERO
        row = clients.setdefault((d.state.client, c), [0, ZERO, ZERO])
        row[0] += 1
        row[1] += d.outstanding
        row[2] += d.late_interest or ZERO
    by_client = [(cl, c, n, total, interest) for (cl, c), (n, total, interest) in clients.items()]
    by_client.sort(key=lambda r: (r[1], -r[3], r[0]))
    return OverdueTotals(by_currency, by_client)
