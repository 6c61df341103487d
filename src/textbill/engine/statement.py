"""A client's statement of account: opening balance, documents and payments, closing balance."""
from __future__ import annotations

from datetime import date

from textbill.core import model as m
from textbill.core.books import BUCKETS, Receivables, Statement, StatementLine
from textbill.core.money import ZERO
from textbill.engine.aging import dues


def statement(ledger: m.Ledger, rec: Receivables, client_id: str, start: date | None) -> Statement:
    """Built from a replay as of the statement's last day (rec.as_of)."""
    client = ledger.clients[client_id]
    currency = ledger.client_currency(client_id)
    events = [e for e in rec.events if e.client == client_id]
    opening = sum((e.amount for e in events if start is not None and e.date < start), ZERO)
    balance = opening
    lines = []
    for e in events:
        if start is not None and e.date < start:
            continue
        balance += e.amount
        lines.append(StatementLine(e, balance))
    aging = {b: ZERO for b in BUCKETS}
    for d in dues(rec, ledger.company):
        if d.state.client == client_id:
            aging[d.bucket] += d.outstanding
    return Statement(client, currency, start, rec.as_of, opening, tuple(lines), balance, aging,
                     rec.credit.get((client_id, currency), ZERO))
