"""The exported books against the settlement replay, over random ledgers (tests/ledgergen.py): every
transaction balances, each invoice's postings sum to its outstanding on every day, each client's
credit account to minus its credit, and the Beancount split keeps all of that per link."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from conftest import write_ledger
from ledgergen import generate

from textbill.core.accounts import accounts_of
from textbill.core.money import ZERO
from textbill.pipeline import analyze
from textbill.reports.journals import _bean_parts, transactions


def _balanced(postings) -> bool:
    sums: dict = defaultdict(Decimal)
    for p in postings:
        if p.price:
            sums[p.price[1]] += p.price[0] if p.amount > 0 else -p.price[0]
        else:
            sums[p.currency] += p.amount
    return all(v == 0 for v in sums.values())


@pytest.mark.parametrize("seed", range(12))
def test_exported_postings_follow_the_replay(tmp_path, seed):
    folder = write_ledger(tmp_path / "l", generate(seed, months=4), company=False)
    analysis = analyze(folder, cache=False)
    if not analysis.ok:
        pytest.skip("this seed makes a ledger with errors")
    acc = accounts_of(analysis.ledger.config)
    txns = transactions(analysis.ledger, analysis.books, analysis.receivables(date(2027, 12, 31)), acc)
    assert txns and all(_balanced(t.postings) for t in txns)
    parts = [part for t in txns for part in _bean_parts(t, acc)]
    assert all(_balanced(t.postings) for t, _ in parts)
    assert all(len({p.invoice for p in t.postings if p.invoice}) <= 1 for t, _ in parts)
    days = sorted({t.date for t in txns})
    for day in [*days[:: max(1, len(days) // 8)], days[-1] + timedelta(days=1)]:
        rec = analysis.receivables(day)
        tagged: dict = defaultdict(Decimal)
        linked: dict = defaultdict(Decimal)
        credit: dict = defaultdict(Decimal)
        for t in txns:
            if t.date <= day:
                for p in t.postings:
                    if p.invoice:
                        tagged[p.invoice] += p.amount
                    elif p.account.startswith(acc.root("credit") + ":"):
                        credit[(p.account, p.currency)] += p.amount
        for t, number in parts:
            if t.date <= day and number:
                linked[number] += sum((p.amount for p in t.postings if p.account.startswith(acc.root("receivable"))),
                                      ZERO)
        want = {n: s.outstanding for n, s in rec.invoices.items()}
        assert {n: tagged.get(n, ZERO) for n in want} == want, day
        assert {n: linked.get(n, ZERO) for n in want} == want, day
        assert {k: v for k, v in credit.items() if v} == {
            (acc.credit(client), currency): -left for (client, currency), left in rec.credit.items() if left}, day
