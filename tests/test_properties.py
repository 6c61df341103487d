"""Arithmetic invariants over random ledgers (tests/ledgergen.py)."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledgergen import generate

from textbill.core.money import ZERO, round_money
from textbill.engine.aging import dues
from textbill.pipeline import analyze
from textbill.syntax.printer import format_text

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _analysis(tmp_path, seed: int):
    folder = tmp_path / f"l{seed}"
    folder.mkdir(exist_ok=True)
    (folder / "ledger.bill").write_text(generate(seed), encoding="utf-8")
    a = analyze(folder)
    assert a.ok, [d.message for d in a.diagnostics if d.is_error]
    return a


@SETTINGS
@given(seed=st.integers(0, 10_000))
def test_invoice_total_is_the_sum_of_its_tax_groups(tmp_path, seed):
    a = _analysis(tmp_path, seed)
    assert a.books.invoices
    for doc in a.books.invoices.values():
        assert doc.net == sum((g.basis for g in doc.groups), ZERO)
        assert doc.tax == sum((g.tax_amount for g in doc.groups), ZERO)
        assert doc.total == doc.net + doc.tax
        for g in doc.groups:
            assert g.net == sum((ln.amount for ln in doc.lines if ln.tax.key == g.tax.key), ZERO)
            assert g.basis == g.net - g.allowances + g.charges
            rate = g.tax.percent if g.tax.kind == "rate" else ZERO
            assert g.tax_amount == round_money(g.basis * rate / 100, doc.currency)
        for ln in doc.lines:
            assert ln.amount == round_money(ln.amount, doc.currency)


@SETTINGS
@given(seed=st.integers(0, 10_000))
def test_no_billable_item_lands_on_two_invoices(tmp_path, seed):
    a = _analysis(tmp_path, seed)
    seen: dict[tuple, str] = {}
    for doc in a.books.invoices.values():
        for ln in doc.lines:
            if ln.kind == "item":
                continue
            for src in ln.sources:
                key = (ln.kind, src.file, src.line, ln.date)
                assert key not in seen, f"{key} on {seen.get(key)} and {doc.number}"
                seen[key] = doc.number
    # and every billable time entry dated inside some invoice period of its SOW is billed
    billed_lines = {(s.file, s.line) for doc in a.books.invoices.values() for ln in doc.lines
                    if ln.kind == "time" for s in ln.sources}
    for t in a.ledger.times:
        if not t.billable:
            continue
        covering = [d for d in a.books.invoices.values() if t.sow in d.sows and t.date in d.period]
        assert bool(covering) == ((t.span.file, t.span.line) in billed_lines)


@SETTINGS
@given(seed=st.integers(0, 10_000), offset=st.integers(0, 200))
def test_money_is_conserved(tmp_path, seed, offset):
    """For every client and currency, as of any day:
    invoice totals = paid + credited + written off + outstanding, and
    payments received = paid + client credit (so totals = received + credited + written off
    + outstanding - client credit)."""
    a = _analysis(tmp_path, seed)
    as_of = date(2026, 1, 1) + timedelta(days=offset)
    rec = a.receivables(as_of)
    totals = defaultdict(lambda: ZERO)
    allocated = defaultdict(lambda: ZERO)
    for st_ in rec.invoices.values():
        key = (st_.client, st_.currency)
        totals[key] += st_.doc.total
        allocated[key] += st_.paid + st_.credited + st_.written_off + st_.outstanding
        assert st_.outstanding >= 0
        assert st_.paid >= 0 and st_.credited >= 0 and st_.written_off >= 0
        assert st_.doc.total - st_.paid - st_.credited - st_.written_off == st_.outstanding
        if st_.plan is not None and st_.outstanding > 0:
            assert sum((i.outstanding for i in st_.plan.installments), ZERO) == st_.outstanding
    for key in totals:
        assert totals[key] == allocated[key]
    keys = set(totals) | set(rec.received)
    for key in keys:
        received = rec.received.get(key, ZERO)
        paid = sum((s.paid for s in rec.invoices.values() if (s.client, s.currency) == key), ZERO)
        assert received == paid + rec.credit.get(key, ZERO)
        outstanding = sum((s.outstanding for s in rec.invoices.values()
                           if (s.client, s.currency) == key), ZERO)
        assert totals.get(key, ZERO) == received + sum(
            (s.credited + s.written_off for s in rec.invoices.values() if (s.client, s.currency) == key),
            ZERO) + outstanding - rec.credit.get(key, ZERO)
    # aging covers exactly the outstanding
    aged = sum((d.outstanding for d in dues(rec, a.ledger.company)), ZERO)
    assert aged == sum((s.outstanding for s in rec.invoices.values() if s.writeoff is None), ZERO)


@SETTINGS
@given(seed=st.integers(0, 10_000))
def test_computing_twice_gives_the_same_books(tmp_path, seed):
    a = _analysis(tmp_path, seed)
    b = analyze(tmp_path / f"l{seed}")
    assert list(a.books.invoices) == list(b.books.invoices)
    for number, doc in a.books.invoices.items():
        other = b.books.invoices[number]
        assert (doc.lines, doc.groups, doc.total, doc.due) == (other.lines, other.groups, other.total, other.due)


@SETTINGS
@given(seed=st.integers(0, 10_000))
def test_fmt_is_idempotent_and_keeps_the_meaning(tmp_path, seed):
    text = generate(seed)
    once, diags = format_text(text, "x.bill")
    assert once is not None, diags
    twice, _ = format_text(once, "x.bill")
    assert twice == once
    folder = tmp_path / f"f{seed}"
    folder.mkdir()
    (folder / "ledger.bill").write_text(once)
    a = _analysis(tmp_path, seed)
    b = analyze(folder)
    assert [d for d in b.diagnostics if d.is_error] == []
    assert {n: d.total for n, d in a.books.invoices.items()} == {n: d.total for n, d in b.books.invoices.items()}


def test_statement_closing_balance_equals_outstanding_minus_credit(tmp_path):
    from textbill.engine.statement import statement

    for seed in range(5):
        a = _analysis(tmp_path, seed)
        rec = a.receivables(date(2026, 6, 30))
        for cid in a.ledger.clients:
            st_ = statement(a.ledger, rec, cid, None)
            owed = sum((s.outstanding for s in rec.invoices.values() if s.client == cid), ZERO)
            assert st_.closing == owed - rec.credit.get((cid, st_.currency), ZERO)
            assert st_.lines == () or st_.lines[-1].balance == st_.closing
            assert Decimal(0) <= sum(st_.aging.values(), ZERO) == owed
