"""Checks that the company's bank details are sound and that the ledger can make valid e-invoices.

Bank details are checked always (an invalid IBAN on an invoice or in a payment
QR code sends money nowhere).  The EN 16931 prerequisites are checked only when
textbill.yaml asks for e-invoices (`formats` with facturx or ubl); each
warning names the business rule a generated e-invoice would break.
"""
from __future__ import annotations

from collections.abc import Iterable

from textbill.core import model as m
from textbill.core.diagnostics import Diagnostic, error, warning

EINVOICE_FORMATS = ("facturx", "ubl")


def check_einvoice(ledger: m.Ledger) -> list[Diagnostic]:
    out = list(check_bank(ledger))
    if any(f in EINVOICE_FORMATS for f in ledger.config.formats):
        out.extend(check_seller(ledger))
        out.extend(check_buyers(ledger))
        out.extend(check_exemption_reasons(ledger))
    return out


# ---------------------------------------------------------------------------- bank details

def check_bank(ledger: m.Ledger) -> Iterable[Diagnostic]:
    company = ledger.company
    bank = company.bank if company else None
    if bank is None:
        return
    from schwifty import BIC, IBAN

    iban = bic = None
    if bank.iban:
        try:
            iban = IBAN(bank.iban)
        except ValueError as exc:
            yield error(company.span, "E201", f"invalid IBAN '{bank.iban}': {_reason(exc)}",
                        "copy the IBAN from a bank statement; spaces between the groups are fine",
                        focus=bank.iban)
    if bank.bic:
        try:
            bic = BIC(bank.bic)
        except ValueError as exc:
            yield error(company.span, "E202", f"invalid BIC '{bank.bic}': {_reason(exc)}",
                        "a BIC has 8 or 11 letters and digits: bank, country, location (and branch), "
                        "e.g. BREXPLPW", focus=bank.bic)
    if iban is not None and bic is not None and iban.country_code != bic.country_code:
        yield warning(company.span, "W203", f"BIC '{bank.bic}' is of a bank in {bic.country_code}, "
                      f"but IBAN '{bank.iban}' is of an account in {iban.country_code}",
                      "check that the BIC is the one of the bank that holds this IBAN", focus=bank.bic)


def _reason(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[0].lower() + text[1:]


# ---------------------------------------------------------------------------- EN 16931 prerequisites

def check_seller(ledger: m.Ledger) -> Iterable[Diagnostic]:
    company = ledger.company
    if company is None:
        return
    if not company.tax_id:
        yield warning(company.span, "W210", f"company '{company.id}' has no tax-id: e-invoices with VAT "
                      "(standard, zero-rated, exempt or reverse charge) need the seller's VAT number "
                      "(EN 16931 BR-S-02, BR-Z-02, BR-E-02, BR-AE-02)",
                      'add it, e.g.: tax-id "PL5252248481"', focus=company.id)
    if not company.country:
        yield warning(company.span, "W211", f"company '{company.id}' has no country: e-invoices need the "
                      "seller's country code (EN 16931 BR-09)", "add it, e.g.: country PL", focus=company.id)
    if "ubl" in ledger.config.formats and not company.email:
        yield warning(company.span, "W215", f"company '{company.id}' has no email: Peppol (UBL) invoices "
                      "name the seller's electronic address (BT-34)", "add it, e.g.: email billing@example.com",
                      focus=company.id)


def check_buyers(ledger: m.Ledger) -> Iterable[Diagnostic]:
    reverse = _reverse_charge_clients(ledger)
    for client in ledger.clients.values():
        if not client.country:
            yield warning(client.span, "W212", f"client '{client.id}' has no country: e-invoices need the "
                          "buyer's country code (EN 16931 BR-11)", "add it, e.g.: country DE", focus=client.id)
        if client.id in reverse and not client.tax_id:
            yield warning(client.span, "W213", f"client '{client.id}' is billed with reverse charge but has no "
                          "tax-id: a reverse-charge e-invoice needs the buyer's VAT number (EN 16931 BR-AE-02)",
                          'add it, e.g.: tax-id "DE811569869"', focus=client.id)
        if "ubl" in ledger.config.formats and not (client.email or client.contact_email):
            yield warning(client.span, "W216", f"client '{client.id}' has no email: Peppol (UBL) invoices name "
                          "the buyer's electronic address (BT-49)", "add it, e.g.: email ap@example.com",
                          focus=client.id)


def _reverse_charge_clients(ledger: m.Ledger) -> set[str]:
    found = set()
    for client in ledger.clients.values():
        if client.tax and client.tax.kind == "reverse-charge":
            found.add(client.id)
    for sow in ledger.sows.values():
        if sow.tax and sow.tax.kind == "reverse-charge":
            found.add(sow.client)
    for inv in ledger.invoices:
        taxes = [i.tax for i in inv.items] + [a.tax for a in inv.adjustments]
        if any(t is not None and t.kind == "reverse-charge" for t in taxes):
            found.add(inv.client)
    return found


def check_exemption_reasons(ledger: m.Ledger) -> Iterable[Diagnostic]:
    def bare(tax: m.Tax | None) -> bool:
        return tax is not None and tax.kind == "exempt" and not tax.reason.strip()

    owners = [*ledger.clients.values(), *ledger.sows.values()]
    owners += [part for inv in ledger.invoices for part in (*inv.items, *inv.adjustments)]
    for owner in owners:
        if bare(owner.tax):
            yield warning(owner.span, "W214", "tax exempt without a reason: an exempt e-invoice must state "
                          "why (EN 16931 BR-E-10), and the legal note is printed from it",
                          'add the legal reason, e.g.: tax exempt "Exempt under art. 43(1) of the VAT Act"',
                          focus="exempt")
