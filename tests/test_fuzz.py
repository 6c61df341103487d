"""Fuzzing with a fixed budget: generated ledgers, valid and broken, through every stage.

Each input must end in diagnostics (or documents), never in an exception.  The longer,
coverage-guided run lives in fuzz/ (atheris).
"""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledgergen import generate

from textbill.pipeline import analyze

BUDGET = settings(max_examples=120, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

HEADERS = [
    'company acme "Acme"', '  currency USD', '  currency usd', '  numbering "INV-{year}-{seq:04}"',
    '  numbering "{seq}"', '  late-interest 8% yearly', '  late-fee 40 EUR', '  logo "../x.png"',
    'client c "C"', '  tax VAT 23%', '  tax exempt', '  tax reverse-charge', '  terms eom 15',
    '  discount 5%', '  reminders standard', '  currency JPY', '  currency KWD',
    'sow c/h "H"', '  hourly 100', '  hourly 12.345 KWD', '  increment 15m', '  cap 2h', '  cap 10 USD',
    'sow c/f "F"', '  fixed 1000', '  milestone "a" 50%', '  milestone "b" 50%', '  milestone "b" 60%',
    'sow c/r "R"', '  retainer 500 monthly', '  period 2026-01-01 .. 2026-12-31',
    'sow c/v "V"', '  value 7.5% of 1234.56 "x"',
    'reminders standard', '  step +7d "friendly"', '  step -3d "upcoming" late-fee',
]
DATED = [
    '{d} time c/h {dur} "work"', '{d} time c/h 09:00-12:30 "work"', '{d} time c/h 12:30-09:00 "x"',
    '{d} time c/f 1h "x"', '{d} expense c/h {n} "cost" markup 10%', '{d} expense c/h {n} EUR "cost"',
    '{d} done c/f "a"', '{d} done c/f "b"', '{d} done c/v "complete"', '{d} done c/h "a"',
    '{d} invoice INV-2026-{seq:04d} c', '  item "x" 2 x {n}', '  discount {n} "g"', '  discount 10%',
    '  charge {n} "fee" tax VAT 8%', '  period 2026-01-01 .. {d}', '  due {d}', '  sow h',
    '{d} payment c {n} for INV-2026-{seq:04d}', '{d} payment c {n}', '{d} payment x {n} EUR',
    '{d} credit-note CN-2026-{seq:04d} for INV-2026-{seq:04d} {n} "r"',
    '{d} credit-note CN-2026-{seq:04d} for INV-2026-{seq:04d} full',
    '{d} plan INV-2026-{seq:04d} 3 installments monthly', '{d} plan INV-2026-{seq:04d} 2 installments every 9 days',
    '{d} reminded INV-2026-{seq:04d} friendly', '{d} writeoff INV-2026-{seq:04d} "gone"',
    '{d} collections INV-2026-{seq:04d} "agency"', '{d} fx USD EUR {n}', '{d} fx EUR JPY {n}',
]
JUNK = ['', ';', '"', '\t', '  ', '\x00', 'é', '9' * 40, '2026-02-30', '-1', '0', '%', '..', '#', '{', '\\']


@st.composite
def ledgers(draw) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 40))):
        if draw(st.booleans()):
            line = draw(st.sampled_from(HEADERS))
        else:
            line = draw(st.sampled_from(DATED)).format(
                d=f"2026-{draw(st.integers(1, 12)):02d}-{draw(st.integers(1, 28)):02d}",
                dur=draw(st.sampled_from(["1h", "45m", "1.25h", "3h30m", "99999h", "0m", "1h75m"])),
                n=draw(st.sampled_from(["10", "0.01", "1_500.50", "-5", "33.335", "0", "123456789"])),
                seq=draw(st.integers(0, 4)))
        if draw(st.integers(0, 9)) == 0:  # break one line in a random place
            pos = draw(st.integers(0, len(line)))
            line = line[:pos] + draw(st.sampled_from(JUNK)) + line[pos + draw(st.integers(0, 3)):]
        lines.append(line)
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\n\n", "\r\n"]))


def _run_everything(folder):
    from datetime import date

    from textbill.engine.aging import overdue
    from textbill.engine.reminders import due_reminders
    from textbill.engine.statement import statement
    from textbill.render import json as shapes

    a = analyze(folder, cache=False)
    for d in a.diagnostics:
        assert d.message and d.code
    if not a.ok:
        return a
    for as_of in (date(2026, 3, 1), date(2027, 1, 1)):
        rec = a.receivables(as_of)
        json.dumps([shapes.invoice_row(s) for s in rec.invoices.values()])
        json.dumps([shapes.overdue_row(x, True) for x in overdue(rec, a.ledger.company)])
        for cid in a.ledger.clients:
            json.dumps(shapes.statement_doc(statement(a.ledger, rec, cid, None)))
        due_reminders(a.ledger, rec)
    for doc in a.books.invoices.values():
        json.dumps(shapes.invoice_doc(doc))
    return a


@BUDGET
@given(text=ledgers())
def test_generated_ledgers_never_raise(tmp_path, text):
    folder = tmp_path / "fz"
    folder.mkdir(exist_ok=True)
    (folder / "l.bill").write_text(text, encoding="utf-8", errors="surrogateescape")
    _run_everything(folder)


@BUDGET
@given(data=st.binary(max_size=400))
def test_random_bytes_never_raise(tmp_path, data):
    folder = tmp_path / "fb"
    folder.mkdir(exist_ok=True)
    (folder / "l.bill").write_bytes(b'company a "A"\n' + data)
    analyze(folder, cache=False)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                               HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000))
def test_renderers_take_every_generated_document(tmp_path, seed):
    from datetime import date

    from textbill.render.html import (
        render_credit_note,
        render_invoice,
        render_overdue_report,
        render_statement,
    )

    folder = tmp_path / f"r{seed}"
    folder.mkdir()
    (folder / "l.bill").write_text(generate(seed, months=2), encoding="utf-8")
    a = _run_everything(folder)
    assert a.ok
    from textbill.engine.aging import overdue
    from textbill.engine.statement import statement

    rec = a.receivables(date(2026, 6, 30))
    for doc in a.books.invoices.values():
        assert doc.number in render_invoice(a, doc, rec.invoices.get(doc.number))
    for credit in a.books.credits.values():
        assert credit.number in render_credit_note(a, credit)
    for cid in a.ledger.clients:
        render_statement(a, statement(a.ledger, rec, cid, None))
    render_overdue_report(a, rec, overdue(rec, a.ledger.company))
