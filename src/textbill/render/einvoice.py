"""EN 16931 e-invoices: CII (Factur-X) and UBL 2.1 XML, and Factur-X PDF/A-3."""
from __future__ import annotations

from .einvoice_cii import cii
from .einvoice_model import from_doc
from .einvoice_ubl import ubl


def cii_xml(ledger, doc) -> bytes:
    """CII XML (Factur-X EN16931 profile) of an InvoiceDoc or CreditDoc."""
    return cii(from_doc(ledger, doc))


def ubl_xml(ledger, doc) -> bytes:
    """UBL 2.1 / Peppol BIS Billing 3.0 XML of an InvoiceDoc or CreditDoc."""
    return ubl(from_doc(ledger, doc))


def facturx_pdf(pdf: bytes, xml: bytes) -> bytes:
    """The PDF as PDF/A-3b with the CII XML embedded (Factur-X)."""
    raise NotImplementedError
