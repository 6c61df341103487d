"""EPC/SEPA credit-transfer QR codes ("GiroCode", EPC069-12) for invoices.

A banking app that scans the code fills in a SEPA credit transfer: the
company as beneficiary, its IBAN (and BIC), the amount in euro and the invoice
number as remittance text (with `reference rf`, the invoice's RF creditor reference as the
structured reference instead: EPC069-12 allows one or the other).  SEPA credit transfers are in euro only, so the code
exists only for EUR invoices of a company with a valid IBAN.
"""
from __future__ import annotations

from decimal import Decimal

from textbill.core.books import InvoiceDoc
from textbill.core.money import round_money
from textbill.core.payref import invoice_rf

MAX_AMOUNT = Decimal("999999999.99")  # EPC069-12: EUR 0.01 .. 999999999.99
NAME_LIMIT = 70
TEXT_LIMIT = 140


def epc_payload(ledger, doc, amount=None) -> str | None:
    """The EPC069-12 payload for a EUR invoice with the company IBAN, else None.

    amount: what to pay (default: the invoice total; a template may pass the
    outstanding).  Nothing to pay, or more than the format allows, gives None.
    """
    company = ledger.company
    if not isinstance(doc, InvoiceDoc) or doc.currency != "EUR" or company is None:
        return None
    bank = company.bank
    iban = _valid_iban(bank.iban if bank else None)
    if iban is None:
        return None
    value = round_money(Decimal(doc.total if amount is None else amount), "EUR")
    if not Decimal("0.01") <= value <= MAX_AMOUNT:
        return None
    bic = (bank.bic or "").replace(" ", "").upper()
    rf = invoice_rf(company, doc.number)  # `reference rf`: the structured reference replaces the text
    fields = [
        "BCD",  # service tag
        "002",  # version: the BIC is optional inside the EEA
        "1",  # character set: UTF-8
        "SCT",  # SEPA credit transfer
        bic,
        company.name.strip()[:NAME_LIMIT],  # beneficiary
        iban,
        f"EUR{value:.2f}",
        "",  # purpose code
        rf or "",  # structured (RF) creditor reference, with `reference rf`
        "" if rf else doc.number[:TEXT_LIMIT],  # else the invoice number as unstructured remittance
    ]
    return "\n".join(fields)


def epc_qr(ledger, doc, amount=None):
    """The segno QR code (error correction M, as EPC069-12 requires), else None."""
    payload = epc_payload(ledger, doc, amount)
    if payload is None:
        return None
    import segno

    return segno.make(payload, error="m", boost_error=False, micro=False, encoding="utf-8")


def epc_qr_svg(ledger, doc, amount=None) -> str | None:
    """An inline SVG of the EPC QR code (about 3 cm wide, quiet zone included), else None."""
    qr = epc_qr(ledger, doc, amount)
    if qr is None:
        return None
    return qr.svg_inline(scale=0.6, unit="mm", border=4, svgclass="epc-qr", lineclass=None,
                         title="SEPA credit transfer QR code", dark="#000")


def _valid_iban(iban: str | None) -> str | None:
    if not iban:
        return None
    from schwifty import IBAN

    try:
        return IBAN(iban).compact
    except ValueError:
        return None
