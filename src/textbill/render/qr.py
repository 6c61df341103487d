"""EPC/SEPA credit-transfer QR codes ("GiroCode") for invoices.  (Stub.)"""
from __future__ import annotations


def epc_payload(ledger, doc, amount=None) -> str | None:
    """The EPC069-12 payload for a EUR invoice with the company IBAN, else None."""
    return None


def epc_qr_svg(ledger, doc, amount=None) -> str | None:
    """An inline SVG of the EPC QR code, else None."""
    return None
