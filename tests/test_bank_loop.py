"""The whole loop of issue 15: an invoice carries its RF creditor reference (payment box, EPC QR
code, e-invoice BT-83); a bank credit quoting that reference is imported; the invoice is paid and
its reminders stop."""
from __future__ import annotations

import pytest
from conftest import cli, invoices_json, write_ledger
from lxml import etree
from stdnum import iso11649

from textbill.core.payref import rf_reference
from textbill.pipeline import analyze
from textbill.render import eml
from textbill.render.einvoice.writers import cii_xml, ubl_xml
from textbill.render.qr import epc_payload, epc_qr, epc_qr_svg

LEDGER = """\
company acme "Acme GmbH"
  address "Hauptstraße 5\\n10115 Berlin"
  country DE
  email billing@acme.example
  tax-id "DE123456789"
  currency EUR
  bank "Commerzbank" iban DE89370400440532013000 bic COBADEFFXXX
  reference rf

reminders standard
  step +7d  "friendly"
  step +21d "firm"

client globex "Globex GmbH"
  address "Allee 1\\n80331 München"
  country DE
  email ap@globex.example
  tax VAT 19%

2026-01-15 invoice INV-2026-0001 globex
  item "Workshop" 1 x 1_000.00
"""

CAMT = """\
<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.04">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>M-0220</MsgId><CreDtTm>2026-02-21T06:00:00</CreDtTm></GrpHdr>
  <Stmt>
   <Id>S-0220</Id>
   <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>
   <Ntry>
    <Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
    <BookgDt><Dt>2026-02-20</Dt></BookgDt><AcctSvcrRef>BK-0220-1</AcctSvcrRef>
    <NtryDtls><TxDtls>
     <Refs><EndToEndId>PAYER-E2E-1</EndToEndId></Refs>
     <Amt Ccy="EUR">{amount}</Amt>
     <RltdPties><Dbtr><Nm>Some Holding AG</Nm></Dbtr></RltdPties>
     <RmtInf><Strd><CdtrRefInf><Ref>{reference}</Ref></CdtrRefInf></Strd></RmtInf>
    </TxDtls></NtryDtls>
   </Ntry>
  </Stmt>
 </BkToCstmrStmt>
</Document>
"""


@pytest.fixture
def no_pdf(monkeypatch):
    monkeypatch.setattr(eml, "invoice_pdf", lambda analysis, doc: (None, "no PDF in this test"))


def test_rf_reference_is_derived_from_the_number():
    assert rf_reference("INV-2026-0001") == "RF16INV20260001"  # 98 - (INV20260001RF00, letters as 10..35) mod 97 = 16
    assert iso11649.is_valid("RF16INV20260001") and not iso11649.is_valid("RF17INV20260001")
    assert rf_reference("FV/2026/0001") == rf_reference("fv 2026 0001")
    assert rf_reference("X" * 22) is None and rf_reference("///") is None


def test_an_invoice_paid_by_its_rf_reference_gets_no_more_reminders(tmp_path, no_pdf):
    pytest.importorskip("zxingcpp")
    import zxingcpp
    from PIL import Image

    folder = write_ledger(tmp_path / "books", LEDGER, company=False, config="out: build\nformats: [html]\n")
    built = cli("build", folder)
    assert built.code == 0, built
    page = (folder / "build" / "invoices" / "INV-2026-0001.html").read_text(encoding="utf-8")
    assert "RF16 INV2 0260 001" in page  # the payment box's reference

    analysis = analyze(folder)
    doc = analysis.books.invoices["INV-2026-0001"]
    assert doc.total.to_eng_string() == "1190.00"
    assert epc_qr_svg(analysis.ledger, doc) in page  # the page carries this very code
    epc_qr(analysis.ledger, doc).save(str(tmp_path / "qr.png"), scale=4)
    scanned = [r.text for r in zxingcpp.read_barcodes(Image.open(tmp_path / "qr.png"))]
    assert scanned == [epc_payload(analysis.ledger, doc)]
    fields = scanned[0].split("\n")
    assert fields[9] == "RF16INV20260001" and fields[10] == ""  # structured reference, no free text
    assert fields[7] == "EUR1190.00"

    # BT-83 in both e-invoice syntaxes
    ns_cii = {"ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}
    cii = etree.fromstring(cii_xml(analysis.ledger, doc))
    assert cii.findtext(".//ram:PaymentReference", namespaces=ns_cii) == "RF16INV20260001"
    ubl = etree.fromstring(ubl_xml(analysis.ledger, doc))
    assert ubl.findtext(".//{*}PaymentMeans/{*}PaymentID") == "RF16INV20260001"

    before = cli("remind", "-f", folder, "--as-of", "2026-02-23", "--out", tmp_path / "due")
    assert before.code == 0, before
    assert sorted(p.name for p in (tmp_path / "due").iterdir()) == ["INV-2026-0001-friendly.eml"]

    # the client pays quoting the scanned reference, grouped as banking apps print it
    grouped = " ".join(fields[9][i:i + 4] for i in range(0, len(fields[9]), 4))
    (tmp_path / "feb.xml").write_text(CAMT.format(amount=fields[7][3:], reference=grouped), encoding="utf-8")
    r = cli("import", "bank", tmp_path / "feb.xml", "-f", folder)
    assert r.code == 0, r
    assert (folder / "payments.bill").read_text(encoding="utf-8").startswith(
        '2026-02-20 payment globex 1190.00 EUR for INV-2026-0001 via bank-transfer ref "BK-0220-1"')
    row = invoices_json(folder, "2026-02-23")["INV-2026-0001"]
    assert (row["paid"], row["outstanding"], row["status"]) == ("1190.00", "0.00", "paid")

    after = cli("remind", "-f", folder, "--as-of", "2026-02-23", "--out", tmp_path / "after")
    assert after.code == 0, after
    assert not (tmp_path / "after").exists() or not any((tmp_path / "after").iterdir())
