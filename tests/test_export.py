"""`textbill export`: the real hledger and bean-check accept the journals, and every client's
receivables balance equals textbill's outstanding minus the client's credit."""
from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import cli

from textbill.core.accounts import client_component
from textbill.pipeline import analyze

# bean-check sits beside the interpreter of the test run (the venv), whether or not that is on PATH
BEAN_CHECK = shutil.which("bean-check", path=str(Path(sys.executable).parent)) or shutil.which("bean-check")

LEDGER = """
    company acme "Acme"
      currency EUR
    client us "US Corp"
      currency USD
      tax exempt "Outside the scope of EU VAT"
    client de "DE GmbH"
      currency EUR
      tax VAT 19%
      discount 5%
    client pl "PL Sp. z o.o."
      currency PLN
      tax VAT 23%
    sow us/web "Web"
      hourly 100 USD
    sow de/dev "Dev"
      hourly 90
    sow de/books "Books"
      hourly 50
      tax VAT 7%
    sow pl/care "Care"
      period 2026-01-01 .. 2026-12-31
      retainer 1000.00 monthly

    2026-01-02 fx USD EUR 0.92
    2026-01-02 fx EUR PLN 4.30
    2026-01-05 time us/web 10h "a"
    2026-01-06 time de/dev 3h20m "b"
    2026-01-07 time de/books 1h "c"
    2026-01-31 invoice INV-2026-0001 us
    2026-01-31 invoice INV-2026-0002 de
      discount 20.00 "Goodwill"
      charge 10.00 "Shipping"
    2026-01-31 invoice INV-2026-0003 pl
      period 2026-01-01 .. 2026-01-31
    2026-02-28 invoice INV-2026-0004 pl
      period 2026-02-01 .. 2026-02-28
    2026-02-01 credit-note CN-2026-0001 for INV-2026-0002 50.00 "Partial"
    2026-03-01 credit-note CN-2026-0002 for INV-2026-0004 full "Cancelled"
    2026-02-15 payment us 600.00 for INV-2026-0001 via bank-transfer ref "W1"
    2026-02-20 payment us 500.00 EUR ref "paid in euros"
    2026-02-21 payment de 100.00
    2026-03-01 writeoff INV-2026-0003 "Insolvent"
    2026-03-05 credit-note CN-2026-0003 for INV-2026-0003 200.00 "After the write-off"
    2026-03-06 payment pl 100.00
"""

DAYS = ["2026-01-31", "2026-02-20", "2026-03-03", "2026-12-31"]


def expected(folder, day: str) -> dict[tuple[str, str], Decimal]:
    """Per receivables account and currency textbill's outstanding; per client credit account minus
    the client's unapplied credit."""
    analysis = analyze(folder)
    rec = analysis.receivables(date.fromisoformat(day))
    out: dict = defaultdict(Decimal)
    for state in rec.invoices.values():
        out[(f"Assets:Receivables:{client_component(state.client)}", state.currency)] += state.outstanding
    for (client, currency), left in rec.credit.items():
        out[(f"Liabilities:Client-Credit:{client_component(client)}", currency)] -= left
    return {k: v for k, v in out.items() if v}


def export(folder, kind: str, day: str, tmp_path):
    path = tmp_path / f"out-{day}.{kind}"
    r = cli("export", kind, "-f", folder, "--as-of", day, "-o", path)
    assert r.code == 0, r
    return path


@pytest.mark.skipif(shutil.which("hledger") is None, reason="hledger is not installed")
@pytest.mark.parametrize("day", DAYS)
def test_hledger_balances_match_textbill(ledger, tmp_path, day):
    folder = ledger(LEDGER, company=False)
    journal = export(folder, "hledger", day, tmp_path)
    run = subprocess.run(["hledger", "-f", str(journal), "bal", "--flat", "-O", "csv", "--no-total",
                          "Assets:Receivables", "Liabilities:Client-Credit"], capture_output=True, check=False, text=True)
    assert run.returncode == 0, run.stderr
    got: dict = {}
    for row in list(csv.reader(io.StringIO(run.stdout)))[1:]:
        for amount in row[1].split(", "):
            value, currency = amount.split()
            if Decimal(value):
                got[(row[0], currency)] = Decimal(value)
    assert got == expected(folder, day)
    # hledger checks that every transaction balances; print them all back as a second opinion
    assert subprocess.run(["hledger", "-f", str(journal), "print"], capture_output=True, check=False).returncode == 0


@pytest.mark.skipif(BEAN_CHECK is None, reason="bean-check (beancount) is not installed")
@pytest.mark.parametrize("day", DAYS)
def test_bean_check_accepts_and_balances_match_textbill(ledger, tmp_path, day):
    from beancount import loader

    folder = ledger(LEDGER, company=False)
    journal = export(folder, "beancount", day, tmp_path)
    run = subprocess.run([BEAN_CHECK, str(journal)], capture_output=True, check=False, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    entries, errors, _ = loader.load_file(str(journal))
    assert errors == []
    got: dict = defaultdict(Decimal)
    for entry in entries:
        for posting in getattr(entry, "postings", ()):
            if posting.account.startswith(("Assets:Receivables:", "Liabilities:Client-Credit:")):
                got[(posting.account, posting.units.currency)] += posting.units.number
    assert {k: v for k, v in got.items() if v} == expected(folder, day)


def test_revenue_and_tax_follow_the_tax_groups(ledger, tmp_path):
    folder = ledger(LEDGER, company=False)
    rows = list(csv.DictReader(io.StringIO(cli("export", "csv", "-f", folder, "--as-of", "2026-01-31").out)))
    inv = [r for r in rows if r["ref"] == "INV-2026-0002"]
    analysis = analyze(folder)
    doc = analysis.books.invoices["INV-2026-0002"]
    assert {(r["account"], r["amount"]) for r in inv} == {
        # a tax group's accounts are its name and rate
        ("Assets:Receivables:De", str(doc.total)),
        *{(f"Income:Sales:VAT-{g.tax.percent.normalize():f}", str(-g.basis)) for g in doc.groups},
        *{(f"Liabilities:Tax:VAT-{g.tax.percent.normalize():f}", str(-g.tax_amount)) for g in doc.groups},
    }
    assert len(doc.groups) == 2
    assert all(r["txn"] == "INV-2026-0002" and r["kind"] == "invoice" for r in inv)
    assert [r["invoice"] for r in inv if r["account"].startswith("Assets:")] == ["INV-2026-0002"]


def test_payments_carry_the_invoices_they_settle(ledger, tmp_path):
    folder = ledger(LEDGER, company=False)
    text = cli("export", "hledger", "-f", folder, "--as-of", "2026-12-31").out
    assert "type:payment, client:us, id:payment/2026-02-15/us/1" in text
    assert "-600.00 USD  ; invoice:INV-2026-0001" in text
    # a payment in another currency is priced in the invoice currency; what it pays beyond the
    # invoice is client credit
    assert "500.00 EUR @@ 543.48 USD" in text
    assert "Liabilities:Client-Credit:Us             -143.48 USD" in text
    bean = cli("export", "beancount", "-f", folder, "--as-of", "2026-12-31").out
    assert '#invoice ^INV-2026-0001' in bean
    assert "Expenses:Bad-Debt" in bean


def test_export_stops_at_the_as_of_day(ledger):
    folder = ledger(LEDGER, company=False)
    rows = list(csv.DictReader(io.StringIO(cli("export", "csv", "-f", folder, "--as-of", "2026-02-01").out)))
    assert max(r["date"] for r in rows) == "2026-02-01"
    assert {r["kind"] for r in rows} == {"invoice", "credit-note"}


def test_a_later_export_never_rewrites_the_history_of_an_earlier_one(ledger):
    folder = ledger(LEDGER, company=False)

    def rows(day):
        return list(csv.DictReader(io.StringIO(cli("export", "csv", "-f", folder, "--as-of", day).out)))

    early, late = rows("2026-03-03"), rows("2026-12-31")
    assert [r for r in late if r["date"] <= "2026-03-03"] == early
    # the credit note after the write-off takes part of it back on its own day: the invoice was
    # settled already, so the credit note's revenue and tax come off the bad debt, not the receivable
    back = [r for r in late if r["txn"] == "CN-2026-0003"]
    assert {(r["account"], r["amount"]) for r in back} == {("Expenses:Bad-Debt", "-200.00"),
                                                            ("Income:Sales:VAT-23", "162.60"),
                                                            ("Liabilities:Tax:VAT-23", "37.40")}
