"""EN 16931 e-invoices: CII (Factur-X) and UBL 2.1 XML, and Factur-X PDF/A-3.

The documents are mapped once onto the EN 16931 semantic model
(einvoice_model.py) and written in either syntax (einvoice_cii.py,
einvoice_ubl.py).  Everything here is a pure function of its input: the same
ledger gives the same bytes, PDFs included.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import datetime, timezone

from lxml import etree

from .einvoice_cii import RAM, RSM, UDT, cii
from .einvoice_model import from_doc
from .einvoice_ubl import ubl


def cii_xml(ledger, doc) -> bytes:
    """CII XML (Factur-X EN16931 profile) of an InvoiceDoc or CreditDoc."""
    return cii(from_doc(ledger, doc))


def ubl_xml(ledger, doc) -> bytes:
    """UBL 2.1 / Peppol BIS Billing 3.0 XML of an InvoiceDoc or CreditDoc."""
    return ubl(from_doc(ledger, doc))


def facturx_pdf(pdf: bytes, xml: bytes) -> bytes:
    """The PDF as PDF/A-3b with the CII XML embedded as factur-x.xml (Factur-X EN16931).

    The input PDF should already be PDF/A-3b (WeasyPrint: pdf_variant="pdf/a-3b"),
    since fonts and colour profile come from it; this adds the attachment
    (AFRelationship Data), the Factur-X XMP and the document info.  Every
    timestamp is the invoice's issue date, so the bytes are reproducible.
    """
    from facturx import generate_from_binary

    with _clock_at(_issue_date(xml)):
        return generate_from_binary(pdf, xml, flavor="factur-x", level="en16931", check_xsd=True,
                                    afrelationship="data")


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


def _issue_date(xml: bytes) -> datetime:
    """BT-2 of a CII document, as midnight UTC."""
    root = etree.fromstring(xml)
    found = root.find(f"{{{RSM}}}ExchangedDocument/{{{RAM}}}IssueDateTime/{{{UDT}}}DateTimeString")
    if found is None or not (found.text or "").strip():
        raise ValueError("not a CII invoice: no ExchangedDocument/IssueDateTime")
    return datetime.strptime(found.text.strip(), "%Y%m%d").replace(tzinfo=timezone.utc)
