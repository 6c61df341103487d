"""check_einvoice: bank details always, what a valid e-invoice needs (errors) when its format is asked for."""
from __future__ import annotations

from pathlib import Path

import pytest
from conftest import cli

from textbill.pipeline import analyze

EXAMPLE = Path(__file__).parents[1] / "example-ledger"

INCOMPLETE = """\
company acme "Acme"
  currency EUR

client a "A"
  tax reverse-charge

client b "B"
  country FR
  email b@b.example
  tax exempt

sow b/x "X"
  fixed 100
  tax exempt "Training, art. 132(1)(i)"

2026-01-31 invoice INV-2026-0001 b
  item "Z" 1 x 10 tax exempt
"""


def _write(tmp_path: Path, text: str, formats: str | None = None) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "ledger.bill").write_text(text, encoding="utf-8")
    if formats is not None:
        (tmp_path / "textbill.yaml").write_text(f"formats: [{formats}]\n", encoding="utf-8")
    return tmp_path


def _codes(folder: Path, prefix: str = "") -> list[tuple[str, int, int]]:
    a = analyze(folder)
    return sorted((d.code, d.span.line, d.span.col) for d in a.diagnostics if d.code[1] == "2"
                  and d.code.startswith(prefix or d.code[0]))


def test_the_example_ledger_has_sound_bank_details():
    a = analyze(EXAMPLE)
    assert [d for d in a.diagnostics if d.code[1:2] == "2"] == []


def test_without_e_invoice_formats_only_bank_details_are_checked(tmp_path):
    assert _codes(_write(tmp_path, INCOMPLETE)) == []
    assert _codes(_write(tmp_path / "html", INCOMPLETE, "html, pdf")) == []


@pytest.mark.parametrize("formats", ["facturx", "ubl", "ksef"])
def test_what_an_e_invoice_would_lack_is_a_located_error(tmp_path, formats):
    # issue 21: these were warnings (W210-W214), and `build` then crashed in factur-x or wrote UBL that
    # broke BR-09, BR-11, BR-S-02, BR-AE-02: for a format the ledger asks for they are errors now
    got = _codes(_write(tmp_path, INCOMPLETE, formats))
    expected = [
        ("E221", 1, 9),   # company: no tax-id (and the ledger bills VAT: exempt, reverse charge)
        ("E222", 1, 9),   # company: no country
        ("E223", 4, 8),   # client a: no country
        ("E224", 4, 8),   # client a: reverse charge without a buyer VAT number
        ("E225", 10, 7),  # client b: exempt without a reason (the SOW's has one)
        ("E225", 17, 23),  # the item: exempt without a reason
    ]
    if formats == "ubl":  # what Peppol BIS still lacks: a warning, the UBL is plain EN 16931 then
        expected += [("W226", 1, 9)]
    if formats == "ksef":  # FA(3) names the seller by its Polish NIP
        expected += [("E230", 1, 9), ("E233", 1, 9)]  # and its books are in EUR
    assert got == sorted(expected)
    a = analyze(tmp_path)
    assert not a.ok


def test_a_ledger_without_vat_needs_no_tax_id(tmp_path):
    folder = _write(tmp_path, """\
company acme "Acme"
  country DE
  currency EUR

client b "B"
  country FR
""", "facturx, ubl")
    assert _codes(folder, "E") == []


def test_a_broken_iban_and_bic_are_errors_at_their_tokens(tmp_path):
    folder = _write(tmp_path, """\
company acme "Acme"
  country DE
  bank "Bank" iban "DE89 3704 0044 0532 0130 01" bic COBADEFX1
  currency EUR
""")
    r = cli("check", folder, env={"NO_COLOR": "1"})
    assert r.code == 1, r
    assert "ledger.bill:3:20: error[E201]: invalid IBAN 'DE89 3704 0044 0532 0130 01': invalid checksum digits" \
        in r.err
    assert "ledger.bill:3:54: error[E202]: invalid BIC 'COBADEFX1'" in r.err
    assert "                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^" in r.err  # the caret spans the whole IBAN


def test_iban_and_bic_of_different_countries_are_a_warning(tmp_path):
    folder = _write(tmp_path, """\
company acme "Acme"
  bank "Bank" iban DE89370400440532013000 bic BREXPLPW
  currency EUR
""")
    assert _codes(folder) == [("W203", 2, 47)]


def test_valid_details_in_any_spelling_pass(tmp_path):
    folder = _write(tmp_path, """\
company acme "Acme"
  bank "Bank" iban "pl61 1090 1014 0000 0712 1981 2874" bic BREXPLPWXXX
  currency PLN
""")
    assert _codes(folder) == []
