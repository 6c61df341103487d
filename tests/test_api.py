"""The library API (textbill.api): each function on a ledger written here, with its exact figures.

The reports return what the matching command prints with --format json, and the tests hold them to it.
"""
from __future__ import annotations

import json
from datetime import date

import pytest
from conftest import cli

from textbill import api

LEDGER = """
    client c "C"
    client d "D"
    2026-01-10 invoice INV-2026-0001 c   ; net 30: due Feb 9
      item "a" 100.00
    2026-01-20 invoice INV-2026-0002 c   ; due Feb 19
      item "b" 50.00
    2026-02-01 payment c 120.00 ref "wire 1"
    2026-02-05 credit-note CN-2026-0001 for INV-2026-0002 10.00 "discount"
    2026-02-10 invoice INV-2026-0003 d
      item "c" 200.00
"""
MARCH = date(2026, 3, 1)


@pytest.fixture
def folder(ledger):
    return ledger(LEDGER)


def test_load_reads_the_model_unchecked(folder):
    loaded = api.load(folder)
    assert sorted(loaded.ledger.clients) == ["c", "d"]
    assert [i.number for i in loaded.ledger.invoices] == ["INV-2026-0001", "INV-2026-0002", "INV-2026-0003"]
    assert loaded.diagnostics == []


def test_analyze_checks_and_computes(folder):
    analysis = api.analyze(folder, cache=False)
    assert analysis.ok  # warnings only: four documents issued but not locked
    assert [(d.code, d.is_error) for d in analysis.diagnostics] == [("W172", False)] * 4
    assert {n: str(doc.total) for n, doc in analysis.books.invoices.items()} == {
        "INV-2026-0001": "100.00", "INV-2026-0002": "50.00", "INV-2026-0003": "200.00"}


def test_analyze_reports_errors_as_diagnostics(ledger):
    analysis = api.analyze(ledger('client c "C"\n2026-01-10 invoice INV-2026-0001 x\n  item "a" 1\n'))
    assert not analysis.ok
    assert [d.code for d in analysis.diagnostics] == ["E101"]


def test_invoices(folder):
    rows = api.invoices(api.analyze(folder), MARCH)
    assert [(r["number"], r["total"], r["paid"], r["credited"], r["outstanding"], r["status"]) for r in rows] == [
        ("INV-2026-0001", "100.00", "100.00", "0.00", "0.00", "paid"),
        ("INV-2026-0002", "50.00", "20.00", "10.00", "20.00", "overdue"),
        ("INV-2026-0003", "200.00", "0.00", "0.00", "200.00", "open"),
    ]
    assert rows == cli("invoices", "-f", folder, "--as-of", "2026-03-01", "--format", "json").json()


def test_invoices_narrowed(folder):
    analysis = api.analyze(folder)
    assert [r["number"] for r in api.invoices(analysis, MARCH, client="d")] == ["INV-2026-0003"]
    assert [r["number"] for r in api.invoices(analysis, MARCH, statuses=["paid", "open"])] == [
        "INV-2026-0001", "INV-2026-0003"]
    with pytest.raises(api.UnknownName) as unknown:
        api.invoices(analysis, MARCH, client="e")
    assert str(unknown.value) == "unknown client 'e'"
    with pytest.raises(api.UnknownName) as unknown:
        api.invoices(analysis, MARCH, statuses=["opne"])
    assert str(unknown.value) == "unknown status 'opne' — did you mean 'open'?"
    assert (unknown.value.what, unknown.value.name, unknown.value.guess) == ("status", "opne", "open")


def test_overdue(folder):
    rows = api.overdue(api.analyze(folder), MARCH)
    assert rows == [{"invoice": "INV-2026-0002", "client": "c", "currency": "USD", "due": "2026-02-19",
                     "outstanding": "20.00", "days_overdue": 10, "bucket": "1-30", "status": "overdue"}]
    assert rows == cli("report", "overdue", "-f", folder, "--as-of", "2026-03-01", "--format", "json").json()
    assert api.overdue(api.analyze(folder), date(2026, 2, 19)) == []


def test_statement(folder):
    st = api.statement(api.analyze(folder), "c", MARCH, start=date(2026, 1, 15))
    assert (st["opening_balance"], st["closing_balance"], st["aging"]["1-30"]) == ("100.00", "20.00", "20.00")
    assert [(e["date"], e["kind"], e["ref"], e["amount"], e["balance"]) for e in st["entries"]] == [
        ("2026-01-20", "invoice", "INV-2026-0002", "50.00", "150.00"),
        ("2026-02-01", "payment", "wire 1", "-120.00", "30.00"),
        ("2026-02-05", "credit-note", "CN-2026-0001", "-10.00", "20.00"),
    ]
    assert st == cli("statement", "c", "-f", folder, "--from", "2026-01-15", "--to", "2026-03-01",
                     "--format", "json").json()
    with pytest.raises(api.UnknownName, match="unknown client 'x'"):
        api.statement(api.analyze(folder), "x", MARCH)


def test_explain(folder):
    doc = api.explain(api.analyze(folder), "INV-2026-0002")
    assert (doc["number"], doc["client"], doc["net"], doc["tax"], doc["total"]) == (
        "INV-2026-0002", "c", "50.00", "0.00", "50.00")
    assert doc == cli("explain", "INV-2026-0002", "-f", folder, "--format", "json").json()
    with pytest.raises(api.UnknownName) as unknown:
        api.explain(api.analyze(folder), "INV-2026-0004")
    assert str(unknown.value) == "unknown invoice 'INV-2026-0004' — did you mean 'INV-2026-0003'?"


def test_build_from_a_path_or_an_analysis(folder, tmp_path):
    out = tmp_path / "out"
    report = api.build(folder, out, MARCH, formats=["json"])
    assert report.ok and report.documents == 7  # 3 invoices, 1 credit note, 2 statements, the overdue report
    doc = json.loads((out / "invoices" / "INV-2026-0003.json").read_text())
    assert (doc["number"], doc["total"]) == ("INV-2026-0003", "200.00")
    again = api.build(api.analyze(folder), out, MARCH, formats=["json"])
    assert again.ok and again.rendered == []


def test_build_refuses_a_ledger_with_errors(ledger, tmp_path):
    folder = ledger('client c "C"\n2026-01-10 invoice INV-2026-0001 x\n  item "a" 1\n')
    with pytest.raises(api.BuildError, match="the ledger has errors"):
        api.build(folder, tmp_path / "out", MARCH)


def test_the_api_is_on_the_package_and_importing_it_loads_no_layer():
    import subprocess
    import sys

    import textbill

    for name in api.__all__:
        assert getattr(textbill, name) is getattr(api, name)
    code = "import sys, textbill; print(sorted(m for m in sys.modules if m.startswith('textbill.')))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "['textbill.version']"
