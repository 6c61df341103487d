"""EN 16931 e-invoices: CII (Factur-X) and UBL 2.1 XML, and Factur-X PDF/A-3.

The documents are mapped once onto the EN 16931 semantic model
(einvoice_model.py) and written in either syntax (einvoice_cii.py,
einvoice_ubl.py).  Everything here is a pure function of its input: the same
ledger gives the same bytes, PDFs included.

How a build uses it, per invoice or credit note `doc` (InvoiceDoc / CreditDoc):
  formats has `facturx`: pdf = facturx_pdf(html_to_pdf(...), cii_xml(ledger, doc)),
                         written as <slug>.pdf in place of the plain PDF;
  formats has `ubl`:     ubl_xml(ledger, doc) written beside it as <slug>.xml.
A ValueError means the document cannot be an e-invoice (no company, no client).
"""
from __future__ import annotations

import io
import threading
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from importlib.resources import files
from pathlib import PurePath

from lxml import etree

from textbill.core.books import CreditDoc
from textbill.core.money import ZERO
from textbill.render.einvoice.cii import RAM, RSM, UDT, cii
from textbill.render.einvoice.ksef import KsefError, ksef
from textbill.render.einvoice.ubl import ubl
from textbill.reports.einvoice import EInvoice, fatal_problems, from_doc


class EInvoiceError(ValueError):
    """A document that would make an invalid e-invoice; the message is located (file:line)."""


def valid_model(ledger, doc, paid: Decimal = ZERO) -> EInvoice:
    """The EN 16931 model of a document, refused (EInvoiceError) when it breaks a fatal rule."""
    e = from_doc(ledger, doc, paid)
    problems = fatal_problems(e)
    if problems:
        raise EInvoiceError(f"{where(doc, ledger)}: {e.number} would be an invalid e-invoice ({'; '.join(problems)}); "
                            "not written (see 'textbill check')")
    return e


def where(doc, ledger=None) -> str:
    """file:line of the ledger entry of an InvoiceDoc or CreditDoc, the file relative to the ledger root."""
    span = doc.note.span if isinstance(doc, CreditDoc) else doc.invoice.span
    path = PurePath(span.file)
    root = getattr(ledger, "root", None)
    if root and path.is_relative_to(root):
        path = path.relative_to(root)
    return f"{path.as_posix()}:{span.line}"


def cii_xml(ledger, doc, paid: Decimal = ZERO) -> bytes:
    """CII XML (Factur-X EN16931 profile) of an InvoiceDoc or CreditDoc; paid: BT-113 (paid_in_advance)."""
    return cii(valid_model(ledger, doc, paid))


def ubl_xml(ledger, doc, paid: Decimal = ZERO) -> bytes:
    """UBL 2.1 XML of an InvoiceDoc or CreditDoc, Peppol BIS Billing 3.0 when the ledger has what it needs."""
    return ubl(valid_model(ledger, doc, paid))


def ksef_xml(ledger, doc, paid: Decimal = ZERO) -> bytes:
    """FA(3) XML (KSeF) of an InvoiceDoc or CreditDoc (a correction, KOR)."""
    e = valid_model(ledger, doc, paid)
    try:
        return ksef(e, doc)
    except KsefError as exc:
        raise EInvoiceError(f"{where(doc, ledger)}: {e.number} cannot be a KSeF invoice: {exc}; not written") from exc


def facturx_pdf(pdf: bytes, xml: bytes) -> bytes:
    """The PDF as PDF/A-3b with the CII XML embedded as factur-x.xml (Factur-X EN16931).

    Best given a PDF/A-3b already (WeasyPrint: pdf_variant="pdf/a-3b"); a plain
    WeasyPrint PDF (fonts embedded, as WeasyPrint always does) gets what PDF/A
    adds to it: an sRGB output intent and printable annotations.  factur-x then
    adds the attachment (AFRelationship Data), the Factur-X XMP and the document
    info.  Every timestamp is the invoice's issue date: the bytes are reproducible.
    """
    from facturx import generate_from_binary

    moment = _issue_date(xml)
    with _clock_at(moment):
        out = generate_from_binary(_pdfa_ready(pdf), xml, flavor="factur-x", level="en16931",
                                   check_xsd=True, afrelationship="data")
    # pypdf writes the header of its own default version, older than the features used
    # (embedded files with /AF are PDF 1.7); the header has a fixed length, offsets stay right
    if out[:8] in (b"%PDF-1.3", b"%PDF-1.4", b"%PDF-1.5", b"%PDF-1.6"):
        out = b"%PDF-1.7" + out[8:]
    return out


def _pdfa_ready(pdf: bytes) -> bytes:
    """Add the sRGB output intent and the annotation print flags PDF/A asks for, if missing."""
    # pypdf (with Pillow and fontTools) takes ~0.1 s to import: only a Factur-X build needs it
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import (
        ArrayObject,
        DictionaryObject,
        NameObject,
        NumberObject,
        StreamObject,
        TextStringObject,
    )

    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    annots = [a.get_object() for page in reader.pages for a in page.get("/Annots", ())]
    if "/OutputIntents" in root and all(a.get("/F") == 4 for a in annots):
        return pdf
    writer = PdfWriter(clone_from=reader)
    for page in writer.pages:
        for annot in page.get("/Annots", ()):
            annot.get_object()[NameObject("/F")] = NumberObject(4)
    if "/OutputIntents" not in writer._root_object:
        profile = StreamObject()
        profile.set_data(_srgb_profile())
        profile[NameObject("/N")] = NumberObject(3)
        intent = DictionaryObject({
            NameObject("/Type"): NameObject("/OutputIntent"),
            NameObject("/S"): NameObject("/GTS_PDFA1"),
            NameObject("/OutputConditionIdentifier"): TextStringObject("sRGB IEC61966-2.1"),
            NameObject("/Info"): TextStringObject("sRGB IEC61966-2.1"),
            NameObject("/DestOutputProfile"): writer._add_object(profile.flate_encode()),
        })
        writer._root_object[NameObject("/OutputIntents")] = ArrayObject([writer._add_object(intent)])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _srgb_profile() -> bytes:
    """The sRGB ICC profile WeasyPrint ships for its own PDF/A output."""
    return files("weasyprint").joinpath("pdf", "sRGB2014.icc").read_bytes()


_CLOCK = threading.Lock()


@contextmanager
def _clock_at(moment: datetime):
    """Run factur-x with a fixed clock and a document info that matches its XMP.

    factur-x stamps the PDF dates and the XMP with the current time; here they
    are `moment`.  PDF/A wants every document-info entry equal to its XMP
    twin: the XMP names pypdf as producer and has no keywords, so the info
    dictionary says the same (WeasyPrint's producer entry would contradict it).
    """
    import facturx.facturx as fx

    saved = fx._get_pdf_timestamp, fx._get_metadata_timestamp, fx._prepare_pdf_metadata_txt

    def pdf_timestamp(date=None):
        return saved[0](date or moment)

    def metadata_timestamp():
        return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")

    def info(pdf_metadata):
        out = saved[2](pdf_metadata)
        out.pop("/Keywords", None)
        out["/Producer"] = "pypdf"
        return out

    with _CLOCK:
        fx._get_pdf_timestamp, fx._get_metadata_timestamp, fx._prepare_pdf_metadata_txt = (
            pdf_timestamp, metadata_timestamp, info)
        try:
            yield
        finally:
            fx._get_pdf_timestamp, fx._get_metadata_timestamp, fx._prepare_pdf_metadata_txt = saved


def cii_number(xml: bytes) -> str:
    """BT-1 of a CII document, for a message."""
    found = etree.fromstring(xml).find(f"{{{RSM}}}ExchangedDocument/{{{RAM}}}ID")
    return found.text if found is not None and found.text else "an invoice"


def _issue_date(xml: bytes) -> datetime:
    """BT-2 of a CII document, as midnight UTC."""
    root = etree.fromstring(xml)
    found = root.find(f"{{{RSM}}}ExchangedDocument/{{{RAM}}}IssueDateTime/{{{UDT}}}DateTimeString")
    if found is None or not (found.text or "").strip():
        raise ValueError("not a CII invoice: no ExchangedDocument/IssueDateTime")
    return datetime.strptime(found.text.strip(), "%Y%m%d").replace(tzinfo=UTC)
