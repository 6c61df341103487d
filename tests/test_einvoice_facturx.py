"""Factur-X: the CII XML inside a PDF/A-3b, read back out and compared with the ledger's JSON."""
from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree
from pypdf import PdfReader

from textbill.pipeline import analyze
from textbill.render.einvoice.writers import cii_xml, facturx_pdf
from textbill.render.json import invoice_doc

EXAMPLE = Path(__file__).parents[1] / "example-ledger"
NS = {"ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}


def _pdf(html: str) -> bytes:
    """A PDF/A-3b page: the project's renderer when it exists, else WeasyPrint directly."""
    try:
        from textbill.render.pdf import html_to_pdf
    except ImportError:
        from weasyprint import HTML

        return HTML(string=html).write_pdf(pdf_variant="pdf/a-3b")
    return html_to_pdf(html, str(EXAMPLE))


@pytest.fixture(scope="module")
def example():
    a = analyze(EXAMPLE)
    assert a.ok
    return a


@pytest.fixture(scope="module")
def page() -> bytes:
    return _pdf("<h1>Invoice</h1><p>See the embedded factur-x.xml.</p>")


def test_the_embedded_xml_comes_back_out_with_the_ledgers_totals(example, page):
    from facturx import get_facturx_xml_from_pdf

    doc = example.books.invoices["FV/2026/0001"]  # USD, with its tax also in PLN
    xml = cii_xml(example.ledger, doc)
    name, embedded = get_facturx_xml_from_pdf(facturx_pdf(page, xml))
    assert (name, embedded) == ("factur-x.xml", xml)

    want = invoice_doc(doc)
    root = etree.fromstring(embedded)
    sums = root.find(".//ram:SpecifiedTradeSettlementHeaderMonetarySummation", NS)
    taxes = {el.get("currencyID"): el.text for el in sums.iterfind("ram:TaxTotalAmount", NS)}
    assert sums.findtext("ram:TaxBasisTotalAmount", namespaces=NS) == want["net"]
    assert taxes[want["currency"]] == want["tax"]
    assert taxes[want["company_currency_tax"]["currency"]] == want["company_currency_tax"]["tax"]
    assert sums.findtext("ram:GrandTotalAmount", namespaces=NS) == want["total"]
    assert sums.findtext("ram:DuePayableAmount", namespaces=NS) == want["total"]
    lines = [el.text for el in root.iterfind(".//ram:SpecifiedTradeSettlementLineMonetarySummation/"
                                              "ram:LineTotalAmount", NS)]
    assert lines == [ln["amount"] for ln in want["lines"]]
    basis = sum(Decimal(el.text) for el in root.iterfind(
        ".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:BasisAmount", NS))
    assert basis == sum(Decimal(g["basis"]) for g in want["tax_groups"])


def test_the_pdf_is_pdfa3b_with_a_data_attachment_and_the_facturx_xmp(example, page):
    out = facturx_pdf(page, cii_xml(example.ledger, example.books.invoices["FV/2026/0002"]))
    reader = PdfReader(io.BytesIO(out))
    root = reader.trailer["/Root"]
    assert out.startswith(b"%PDF-1.7\n")
    assert "/OutputIntents" in root  # from the PDF/A-3b page: fonts and colours stay PDF/A
    spec = root["/AF"][0].get_object()
    assert spec["/AFRelationship"] == "/Data"
    assert spec["/F"] == spec["/UF"] == "factur-x.xml"
    assert spec["/EF"]["/F"].get_object()["/Subtype"] == "/text/xml"
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
    for fragment in ("<pdfaid:part>3</pdfaid:part>", "<pdfaid:conformance>B</pdfaid:conformance>",
                     "<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>",
                     "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>",
                     "<fx:DocumentType>INVOICE</fx:DocumentType>"):
        assert fragment in xmp
    # PDF/A: the document info says what the XMP says
    info = reader.metadata
    assert info["/Producer"] in xmp and info["/Creator"] in xmp and info["/Title"] in xmp
    assert "/Keywords" not in info


def test_same_input_same_bytes_whatever_the_clock(example, page, monkeypatch):
    from datetime import datetime as real

    import facturx.facturx as fx

    xml = cii_xml(example.ledger, example.books.credits["KOR/2026/0001"])
    first = facturx_pdf(page, xml)

    class Later(real):
        @classmethod
        def now(cls, tz=None):
            return real(2031, 7, 4, 12, 34, 56, tzinfo=tz)

    monkeypatch.setattr(fx, "datetime", Later)
    assert facturx_pdf(page, xml) == first
    assert b"2031" not in first
    info = PdfReader(io.BytesIO(first)).metadata
    assert info["/CreationDate"] == info["/ModDate"] == "D:20260210000000+00'00'"  # the credit note's date


def test_xml_that_is_no_cii_invoice_is_refused(page):
    with pytest.raises(ValueError):
        facturx_pdf(page, b"<Invoice xmlns='urn:oasis:names:specification:ubl:schema:xsd:Invoice-2'/>")
