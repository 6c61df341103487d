"""EPC069-12 ("GiroCode") payment QR codes: the payload field by field, and the image decoded."""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from textbill.core import model as m
from textbill.pipeline import analyze
from textbill.render.qr import epc_payload, epc_qr, epc_qr_svg

EXAMPLE = Path(__file__).parents[1] / "example-ledger"

LEDGER = """\
company acme "Acme Consulting GmbH"
  address "Hauptstraße 5\\n10115 Berlin"
  country DE
  tax-id "DE123456789"
  bank "Commerzbank" iban "DE89 3704 0044 0532 0130 00" bic COBADEFFXXX
  currency EUR

client bauer "Bäckerei Müller & Söhne"
  country DE
  tax VAT 19%

2026-03-01 invoice INV-2026-0001 bauer
  item "Sourdough workshop" 1 x 1_000.00
  item "Flour" 3 x 0.99 tax VAT 7%
"""


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    folder = tmp_path_factory.mktemp("qr")
    (folder / "ledger.bill").write_text(LEDGER, encoding="utf-8")
    a = analyze(folder)
    assert a.ok, [d.message for d in a.diagnostics if d.is_error]
    return a


def test_payload_field_by_field(books):
    doc = books.books.invoices["INV-2026-0001"]
    assert doc.total == Decimal("1193.18")  # 1000 x 1.19 + 2.97 + round(2.97 x 0.07)
    lines = epc_payload(books.ledger, doc).split("\n")
    assert lines == [
        "BCD",  # service tag
        "002",  # version
        "1",  # UTF-8
        "SCT",  # SEPA credit transfer
        "COBADEFFXXX",  # BIC
        "Acme Consulting GmbH",  # beneficiary name
        "DE89370400440532013000",  # IBAN, without the spaces it was written with
        "EUR1193.18",
        "",  # purpose
        "",  # structured reference
        "INV-2026-0001",  # remittance text: the invoice number
    ]


def test_amount_can_be_what_is_still_outstanding(books):
    doc = books.books.invoices["INV-2026-0001"]
    assert epc_payload(books.ledger, doc, Decimal("93.1")).split("\n")[7] == "EUR93.10"
    assert epc_payload(books.ledger, doc, Decimal(0)) is None  # nothing to pay
    assert epc_payload(books.ledger, doc, Decimal(1000000000)) is None  # beyond EPC069-12


def test_only_eur_invoices_of_a_company_with_a_valid_iban(books):
    example = analyze(EXAMPLE)
    for doc in example.books.invoices.values():  # PLN, USD and EUR, but a Polish company ...
        payload = epc_payload(example.ledger, doc)
        assert (payload is not None) == (doc.currency == "EUR")
    credit = next(iter(example.books.credits.values()))
    assert epc_payload(example.ledger, credit) is None  # a credit note asks for no payment

    doc = books.books.invoices["INV-2026-0001"]
    company = books.ledger.company
    no_bank = replace(books.ledger, company=replace(company, bank=None))
    bad_iban = replace(books.ledger, company=replace(company, bank=m.Bank("X", iban="DE89370400440532013001")))
    no_bic = replace(books.ledger, company=replace(company, bank=m.Bank("X", iban="DE89370400440532013000")))
    assert epc_payload(no_bank, doc) is None
    assert epc_payload(bad_iban, doc) is None
    assert epc_payload(no_bic, doc).split("\n")[4] == ""  # version 002: BIC optional
    assert epc_qr_svg(no_bank, doc) is None


def test_beneficiary_name_is_cut_to_70_characters(books):
    doc = books.books.invoices["INV-2026-0001"]
    long = replace(books.ledger, company=replace(books.ledger.company, name="Ü" * 80))
    assert epc_payload(long, doc).split("\n")[5] == "Ü" * 70


def test_qr_code_is_error_correction_m_and_within_the_epc_size(books):
    qr = epc_qr(books.ledger, books.books.invoices["INV-2026-0001"])
    assert qr.error == "M"
    assert qr.version <= 13  # EPC069-12: at most version 13 (331 bytes of payload)
    assert not qr.is_micro


def test_svg_is_inline_markup_with_a_title(books):
    svg = epc_qr_svg(books.ledger, books.books.invoices["INV-2026-0001"])
    assert svg.startswith("<svg ") and svg.endswith("</svg>")
    assert 'class="epc-qr"' in svg and "<title>" in svg and "<?xml" not in svg


def _decode_png(path: Path) -> list[str]:
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    return [r.text for r in zxingcpp.read_barcodes(Image.open(path))
            if r.format == zxingcpp.BarcodeFormat.QRCode]


def test_the_svg_as_printed_decodes_to_the_payload(books, tmp_path):
    """The SVG placed in a page, printed to PDF by WeasyPrint, rasterised, and scanned."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    pytest.importorskip("zxingcpp")
    from weasyprint import HTML

    doc = books.books.invoices["INV-2026-0001"]
    html = f"<html><body><p>Scan to pay</p>{epc_qr_svg(books.ledger, doc)}</body></html>"
    (tmp_path / "page.pdf").write_bytes(HTML(string=html).write_pdf())
    subprocess.run(["pdftoppm", "-r", "200", "-png", "-singlefile", str(tmp_path / "page.pdf"),
                    str(tmp_path / "page")], check=True)
    assert _decode_png(tmp_path / "page.png") == [epc_payload(books.ledger, doc)]


def test_the_matrix_round_trips(books, tmp_path):
    """Without poppler: segno's own raster of the same code, scanned."""
    doc = books.books.invoices["INV-2026-0001"]
    epc_qr(books.ledger, doc).save(str(tmp_path / "qr.png"), scale=4)
    assert _decode_png(tmp_path / "qr.png") == [epc_payload(books.ledger, doc)]
