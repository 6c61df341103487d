"""One slip gives one error, on the slipped line, with the fix (issue 13, "Errors that point at
the cause").

A ledger as a newcomer writes it -- a Polish freelancer with two clients, a PLN and a EUR one,
spread over several files, every document locked -- then one typical slip.  What only follows
from the slip (locked documents that "changed" because a SOW failed to parse, an overpayment of
an invoice that lost its lines, a gap where an invoice with a bad date stands) is not reported;
a second, independent mistake still is, after the cause.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from conftest import cli

from textbill.core.model import Terms
from textbill.pipeline import analyze
from textbill.syntax.parser import Syntax, parse_text
from textbill.syntax.printer import format_text

FILES = {
    "company.bill": """\
company acme "Acme Sp. z o.o."
  country PL
  tax-id "PL5260001246"
  currency PLN
  numbering "FV/{year}/{seq:04}"
  credit-numbering "KOR/{year}/{seq:04}"
""",
    "clients.bill": """\
client globex "Globex"
  country PL
  terms net 15
  tax VAT 23%

client initech "Initech GmbH"
  country DE
  currency EUR
  terms net 30
  tax reverse-charge
""",
    "sows.bill": """\
sow globex/web "Web"
  period 2026-01-01 .. 2026-06-30
  hourly 180.00 PLN

sow initech/api "API"
  period 2026-01-01 .. 2026-12-31
  hourly 50.00 EUR
""",
    "time.bill": """\
2026-01-05 time globex/web 3h "Kickoff"
2026-01-06 time globex/web 2h "Wireframes"
2026-02-03 time globex/web 4h "Build"
2026-03-03 time globex/web 4h "Build 2"
2026-01-07 time initech/api 5h "Spec"
2026-02-07 time initech/api 5h "Implementation"
""",
    # invoices.bill sorts before sows.bill: a slip in a SOW must still be listed first
    "invoices.bill": """\
2026-01-31 fx EUR PLN 4.30

2026-01-31 invoice FV/2026/0001 globex
  period 2026-01-01 .. 2026-01-31

2026-01-31 invoice FV/2026/0002 initech
  period 2026-01-01 .. 2026-01-31

2026-02-27 invoice FV/2026/0003 globex
  period 2026-02-01 .. 2026-02-27

2026-02-28 invoice FV/2026/0004 initech
  period 2026-02-01 .. 2026-02-28

2026-03-31 invoice FV/2026/0005 globex
  period 2026-03-01 .. 2026-03-31

2026-03-05 credit-note KOR/2026/0001 for FV/2026/0003 100.00 "Discount"
2026-02-20 payment globex 1107.00 for FV/2026/0001
2026-03-20 payment globex 785.60 for FV/2026/0003
2026-02-20 payment initech 250.00 EUR for FV/2026/0002
2026-03-10 plan FV/2026/0004 2 installments monthly
""",
}


@pytest.fixture
def locked(tmp_path) -> Path:
    """The ledger, every document locked, checking clean."""
    folder = tmp_path / "ledger"
    folder.mkdir()
    for name, text in FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    r = cli("lock", "-f", folder)
    assert r.code == 0, r
    assert "6 documents locked" in r.err
    assert check(folder) == []
    return folder


def slip(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def check(folder: Path) -> list[dict]:
    """Every diagnostic of `textbill check`, in the order printed."""
    r = cli("check", folder, "--format", "json", "--no-cache")
    found = r.json()
    assert r.code == (1 if found["errors"] else 0), r
    return found["diagnostics"]


# (file, what was right, the slip, the line and column of the slip, the code, the fix it names)
SLIPS = {
    "comma as decimal mark in a SOW's rate": (
        "sows.bill", "hourly 180.00 PLN", "hourly 180,00 PLN", 3, 10, "E001",
        "write 180.00 (a point as decimal mark)"),
    "comma as decimal mark in a EUR rate": (
        "sows.bill", "hourly 50.00 EUR", "hourly 50,00 EUR", 7, 10, "E001",
        "write 50.00 (a point as decimal mark)"),
    "comma as decimal mark in a duration": (
        "time.bill", '2026-01-05 time globex/web 3h "Kickoff"', '2026-01-05 time globex/web 3,5h "Kickoff"',
        1, 28, "E001", "write 3.5h (a point as decimal mark)"),
    "comma as decimal mark in a payment": (
        "invoices.bill", "payment globex 785.60", "payment globex 785,60", 20, 27, "E001",
        "write 785.60 (a point as decimal mark)"),
    "comma as decimal mark in an fx rate": (
        "invoices.bill", "fx EUR PLN 4.30", "fx EUR PLN 4,30", 1, 23, "E001",
        "write 4.30 (a point as decimal mark)"),
    "client attribute that lost its indentation": (
        "clients.bill", "  terms net 15", "terms net 15", 3, 1, "E018", "indent it under the client above"),
    "client tax that lost its indentation": (
        "clients.bill", "  tax VAT 23%", "tax VAT 23%", 4, 1, "E018", "indent it under the client above"),
    "client currency that lost its indentation": (
        "clients.bill", "  currency EUR", "currency EUR", 8, 1, "E018", "indent it under the client above"),
    "company attribute that lost its indentation": (
        "company.bill", '  tax-id "PL5260001246"', 'tax-id "PL5260001246"', 3, 1, "E018",
        "indent it under the company above"),
    "invoice period that lost its indentation": (
        "invoices.bill", "  period 2026-02-01 .. 2026-02-27", "period 2026-02-01 .. 2026-02-27", 10, 1, "E018",
        "indent it under the invoice above"),
    "impossible invoice date": (
        "invoices.bill", "2026-02-27 invoice", "2026-02-30 invoice", 9, 1, "E010",
        "write a real calendar date"),
    "impossible date of a billed time entry": (
        "time.bill", "2026-02-03 time", "2026-02-30 time", 3, 1, "E010", "write a real calendar date"),
    "impossible end of an invoice period": (
        "invoices.bill", "2026-02-01 .. 2026-02-27", "2026-02-01 .. 2026-02-30", 10, 24, "E010",
        "write a real calendar date"),
    "impossible date of a plan": (
        "invoices.bill", "2026-03-10 plan", "2026-03-32 plan", 22, 1, "E010", "write a real calendar date"),
}


@pytest.mark.parametrize("case", SLIPS.values(), ids=SLIPS.keys())
def test_one_slip_one_error_on_its_line_with_the_fix(locked, case):
    name, right, wrong, line, col, code, fix = case
    slip(locked, name, right, wrong)
    found = check(locked)
    assert [(d["severity"], d["code"], d["file"].rsplit("/", 1)[-1], d["line"], d["col"]) for d in found] \
        == [("error", code, name, line, col)], found
    assert fix in (found[0]["hint"] or "") + found[0]["message"]


def test_an_impossible_date_is_not_replaced_by_a_nearby_one(locked):
    # clamped to 2026-02-28, the invoice dated 2026-02-27 would be reported as a changed locked
    # document "of 2026-02-28"; no date is guessed, so only the date is reported
    slip(locked, "invoices.bill", "2026-02-27 invoice", "2026-02-30 invoice")
    found = check(locked)
    assert [d["code"] for d in found] == ["E010"]
    assert "2026-02-28" not in found[0]["message"]
    assert found[0]["message"] == "impossible date 2026-02-30: February 2026 has 28 days"


def test_the_recovered_attribute_is_what_the_user_meant(locked):
    slip(locked, "clients.bill", "  terms net 15", "terms net 15")
    slip(locked, "clients.bill", "  tax VAT 23%", "tax VAT 23%")
    analysis = analyze(locked, cache=False)
    globex = analysis.ledger.clients["globex"]
    assert globex.terms == Terms("net", 15)
    assert globex.tax is not None and globex.tax.percent == 23
    assert str(analysis.books.invoices["FV/2026/0001"].total) == "1107.00"
    assert [(d.code, d.span.line) for d in analysis.diagnostics] == [("E018", 3), ("E018", 4)]


def test_an_error_inside_an_unindented_attribute_points_at_the_text_as_written():
    text = 'client globex "Globex"\nterms net x5\n'
    for syntax in (Syntax(), Syntax(fast_path=False)):
        _, diags, _ = parse_text(text, "c.bill", syntax)
        assert [(d.code, d.span.line, d.span.col) for d in diags] == [("E018", 2, 1), ("E001", 2, 11)]


def test_a_column_0_attribute_of_no_block_above_stays_an_unknown_directive():
    text = '2026-01-05 time globex/web 3h "Kickoff"\nterms net 15\n'
    _, diags, _ = parse_text(text, "c.bill")
    assert [(d.code, d.span.line) for d in diags] == [("E002", 2)]
    assert diags[0].hint == "'terms' is an attribute: indent it under a client"


def test_fmt_asks_for_the_indentation_instead_of_guessing():
    result, diags = format_text('client globex "Globex"\nterms net 15\n', "c.bill")
    assert result is None
    assert [d.code for d in diags] == ["E018"]


@pytest.mark.parametrize("number, fix", [
    ("1.500,00", "write 1500.00 (a point as decimal mark)"),
    ("1,500.00", "write 1500.00 (digits are grouped with '_' if at all, never with commas)"),
    ("1,500", "write 1.500 (a point as decimal mark) or 1_500 (digits grouped with '_')"),
])
def test_other_numbers_with_commas_name_their_fix(number, fix):
    text = f'sow globex/web "Web"\n  hourly {number} PLN\n'
    _, diags, _ = parse_text(text, "s.bill")
    assert [(d.code, d.span.line, d.span.col, d.span.end_col, d.hint) for d in diags] \
        == [("E001", 2, 10, 10 + len(number), fix)]


def test_a_second_independent_error_is_still_reported_after_the_cause(locked):
    slip(locked, "sows.bill", "hourly 180.00 PLN", "hourly 180,00 PLN")
    # a real change to a locked document of the other client, and an unknown client
    slip(locked, "time.bill", '2026-01-07 time initech/api 5h "Spec"', '2026-01-07 time initech/api 6h "Spec"')
    with (locked / "time.bill").open("a", encoding="utf-8") as f:
        f.write('2026-04-01 time globx/web 1h "Call"\n')
    found = check(locked)
    assert [(d["code"], d["file"].rsplit("/", 1)[-1], d["line"]) for d in found] == [
        ("E001", "sows.bill", 3),  # the cause first, though sows.bill sorts after invoices.bill
        ("E170", "time.bill", 5),
        ("E101", "time.bill", 7),
    ], found
    assert "FV/2026/0002" in found[1]["message"] and "250.00 EUR and is now 300.00 EUR" in found[1]["message"]


@pytest.mark.parametrize("right, wrong, line, meant", [
    ("payment globex 1107.00 for FV/2026/0001", "payment globex 1107.00 for FV/2026/001", 19, "FV/2026/0001"),
    ("KOR/2026/0001 for FV/2026/0003", "KOR/2026/0001 for FV/2026/003", 18, "FV/2026/0003"),
    ("plan FV/2026/0004", "plan FV/2026/004", 22, "FV/2026/0004"),
], ids=["payment", "credit note", "plan"])
def test_a_typo_in_an_invoice_number_does_not_cascade(locked, right, wrong, line, meant):
    slip(locked, "invoices.bill", right, wrong)
    found = check(locked)
    assert [(d["code"], d["line"]) for d in found] == [("E103", line)]
    assert found[0]["hint"] == f"did you mean '{meant}'?"


def test_a_locked_invoice_number_written_in_another_form_is_one_error(locked):
    # not: a gap in the sequence, payments and a credit note naming an unknown invoice, the
    # locked FV/2026/0003 deleted, FV/2026/003 not locked
    slip(locked, "invoices.bill", "invoice FV/2026/0003 globex", "invoice FV/2026/003 globex")
    found = check(locked)
    assert [(d["code"], d["line"], d["col"]) for d in found] == [("E140", 9, 20)]
    assert found[0]["hint"] == "number it FV/2026/0003, or fix the date"


def test_an_invoice_number_of_another_year_still_leaves_its_gap(locked):
    # FV/2025/0003 dated 2026: a wrong number or a wrong date, no number is guessed
    slip(locked, "invoices.bill", "invoice FV/2026/0003 globex", "invoice FV/2025/0003 globex")
    assert [d["code"] for d in check(locked) if d["severity"] == "error"][:2] == ["E140", "E141"]


def test_a_broken_company_is_one_error(locked):
    # without its company the ledger would be numbered, priced and locked with the defaults
    slip(locked, "company.bill", 'company acme "Acme Sp. z o.o."', 'company acme, "Acme Sp. z o.o."')
    found = check(locked)
    assert [(d["code"], d["line"]) for d in found] == [("E001", 1)]


@pytest.mark.parametrize("text", [
    '2026-02-30 time c/h 3h "x"\n',
    "2026-02-30 payment c 100.00 for INV-1\n",
    "2026-02-30 expense c/h 10.00 USD\n",
    "2026-13-01 fx USD PLN 4.0\n",
    "2026-02-30 plan INV-1 2 installments monthly\n",
    "2026-01-05 time c/h 1,5h\n",
    "2026-01-05 payment c 1.500,00 for INV-1\n",
    'client c "C"\nterms net 15\n  tax VAT 23%\ncurrency EUR\n',
    '2026-01-31 invoice INV-1 c\nperiod 2026-01-01 .. 2026-01-31\n  note "x"\n',
])
def test_fast_path_and_lark_agree_on_slips(text):
    fast = parse_text(text, "t.bill", Syntax())
    slow = parse_text(text, "t.bill", Syntax(fast_path=False))
    assert fast == slow
    assert any(d.is_error for d in fast[1])
