"""Issue 13, "Commands that do what they say": each command does what its name and help say."""
from __future__ import annotations

from conftest import cli

from textbill import api

CREDITED = """
    client c "C"
      tax VAT 23%
    2026-01-10 invoice INV-2026-0001 c
      item "design" 1 x 1000.00
      item "books" 1 x 500.00 tax VAT 8%
    2026-02-01 credit-note CN-2026-0001 for INV-2026-0001 123.00 "hours billed twice"
    2026-02-05 credit-note CN-2026-0002 for INV-2026-0001 full "cancelled"
"""


def test_explain_a_credit_note(ledger):
    """`explain CN-…` said "unknown invoice"; it explains what the note corrects and how.

    Invoice: 23% group 1000.00 + 230.00, 8% group 500.00 + 40.00, total 1770.00.
    CN-0001 credits 123.00 gross, split by gross 1230 : 540 -> 85.47 : 37.53 (split_proportionally);
    23%: basis round(85.47 / 1.23) = 69.49, tax 15.98; 8%: basis round(37.53 / 1.08) = 34.75, tax 2.78.
    CN-0002 ('full') credits what is left: 1770.00 - 123.00 = 1647.00, so the invoice ends at 0."""
    folder = ledger(CREDITED)
    r = cli("explain", "CN-2026-0001", "-f", folder, "--format", "json")
    assert r.code == 0, r
    doc = r.json()
    assert (doc["kind"], doc["number"], doc["invoice"], doc["client"], doc["amount"], doc["full"]) == (
        "credit-note", "CN-2026-0001", "INV-2026-0001", "c", "123.00", False)
    groups = {g["tax"]: g for g in doc["tax_groups"]}
    g23, g8 = groups["VAT 23%"], groups["VAT 8%"]
    assert (g23["basis_before"], g23["tax_before"]) == ("1000.00", "230.00")
    assert (g8["basis_before"], g8["tax_before"]) == ("500.00", "40.00")
    assert (g23["basis_credited"], g23["tax_credited"], g23["basis_after"], g23["tax_after"]) == (
        "69.49", "15.98", "930.51", "214.02")
    assert (g8["basis_credited"], g8["tax_credited"], g8["basis_after"], g8["tax_after"]) == (
        "34.75", "2.78", "465.25", "37.22")
    assert doc["invoice_before"] == {"net": "1500.00", "tax": "270.00", "total": "1770.00"}
    assert doc["invoice_after"] == {"net": "1395.76", "tax": "251.24", "total": "1647.00"}
    assert doc["earlier_credit_notes"] == []

    second = cli("explain", "CN-2026-0002", "-f", folder, "--format", "json").json()
    assert second["full"] is True and second["amount"] == "1647.00"
    assert second["earlier_credit_notes"] == [{"number": "CN-2026-0001", "amount": "123.00"}]
    assert second["invoice_before"] == doc["invoice_after"]
    assert second["invoice_after"] == {"net": "0.00", "tax": "0.00", "total": "0.00"}

    text = cli("explain", "CN-2026-0001", "-f", folder)
    assert text.code == 0, text
    assert "Credit note CN-2026-0001 to c, dated 2026-02-01" in text.out
    assert "corrects invoice INV-2026-0001 of 2026-01-10" in text.out
    assert "reason: hours billed twice" in text.out
    assert "VAT 23%:" in text.out and "VAT 8%:" in text.out
    total_row = next(ln for ln in text.out.splitlines() if ln.strip().startswith("total"))
    assert total_row.split()[1:5] == ["1770.00", "-123.00", "1647.00", "USD"]

    r = cli("explain", "CN-2026-0003", "-f", folder)
    assert r.code == 2 and "unknown invoice or credit note 'CN-2026-0003'" in r.err


def test_the_api_explains_a_credit_note_as_the_command_does(ledger):
    folder = ledger(CREDITED)
    doc = api.explain(api.analyze(folder), "CN-2026-0002")
    assert doc == cli("explain", "CN-2026-0002", "-f", folder, "--format", "json").json()


def test_statement_output_into_a_missing_folder_is_a_usage_error(ledger, tmp_path):
    """`statement -o path/in/missing/folder/x.html` created the folders on the quiet."""
    folder = ledger(CREDITED)
    target = tmp_path / "reports" / "2026" / "c.json"
    r = cli("statement", "c", "-f", folder, "--format", "json", "-o", target)
    assert r.code == 2, r
    assert f"the folder {target.parent} does not exist" in r.err
    assert not (tmp_path / "reports").exists()
    r = cli("statement", "c", "-f", folder, "--format", "json", "-o", tmp_path)
    assert r.code == 2 and "is a folder" in r.err, r
    (tmp_path / "reports").mkdir()
    r = cli("statement", "c", "-f", folder, "--format", "json", "-o", tmp_path / "reports" / "c.json")
    assert r.code == 0, r
    assert '"client": "c"' in (tmp_path / "reports" / "c.json").read_text()


SPLIT = """
    client c "C"
    sow c/web "Web"
      period 2026-01-01 .. 2026-12-31
      hourly 100
      schedule monthly
"""


def _split_ledger(tmp_path):
    """A ledger kept in folders, as people keep them: entries live in 2026/, nothing at the root."""
    folder = tmp_path / "books"
    (folder / "2026").mkdir(parents=True)
    (folder / "company.bill").write_text('company acme "Acme"\n  country US\n  currency USD\n'
                                         '  address "1 Main St"\n' + SPLIT.replace("\n    ", "\n"))
    (folder / "2026" / "time.bill").write_text('2026-01-05 time c/web 2h "a"\n2026-02-03 time c/web 1h "b"\n')
    (folder / "2026" / "invoices.bill").write_text("2026-02-01 invoice INV-2026-0001 c\n  sow web\n"
                                                   "  period 2026-01-01 .. 2026-01-31\n")
    # read last, but its entry is not the latest: "latest" is by date
    (folder / "2026" / "zz-january.bill").write_text('2026-01-02 time c/web 1h "early"\n')
    assert cli("lock", "-f", folder).code == 0
    return folder


def test_issue_and_clock_out_append_where_such_entries_live(tmp_path):
    """Issue 13: `issue` and `clock out` wrote a new invoices.bill / time.bill at the root; without
    a setting they append to the file holding the latest invoice / time entry (spec section 1)."""
    folder = _split_ledger(tmp_path)
    r = cli("issue", "-f", folder, "--as-of", "2026-03-01")
    assert r.code == 0, r
    assert "INV-2026-0002" in (folder / "2026" / "invoices.bill").read_text()
    assert cli("clock", "in", "c/web", "Review", "--at", "2026-03-02T09:00", "-f", folder).code == 0
    r = cli("clock", "out", "--at", "2026-03-02T10:00", "-f", folder)
    assert r.code == 0, r
    assert (folder / "2026" / "time.bill").read_text().endswith('2026-03-02 time c/web 09:00-10:00 "Review"\n')
    assert not (folder / "invoices.bill").exists() and not (folder / "time.bill").exists()
    assert cli("check", folder, "--format", "json").json()["errors"] == 0


def test_the_settings_win_over_the_latest_entry(tmp_path):
    folder = _split_ledger(tmp_path)
    (folder / "textbill.yaml").write_text("invoices-file: billing/invoices.bill\ntime-file: billing/time.bill\n")
    assert cli("issue", "-f", folder, "--as-of", "2026-03-01").code == 0
    assert "INV-2026-0002" in (folder / "billing" / "invoices.bill").read_text()
    assert "INV-2026-0002" not in (folder / "2026" / "invoices.bill").read_text()
    assert cli("clock", "in", "c/web", "--at", "2026-03-02T09:00", "-f", folder).code == 0
    assert cli("clock", "out", "--at", "2026-03-02T10:00", "-f", folder).code == 0
    assert (folder / "billing" / "time.bill").read_text() == "2026-03-02 time c/web 09:00-10:00\n"
