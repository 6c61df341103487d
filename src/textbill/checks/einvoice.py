"""Checks that the company's bank details are sound and that the ledger can make valid e-invoices.

Bank details are checked always (an invalid IBAN on an invoice or in a payment
QR code sends money nowhere).  What a valid e-invoice needs is checked only for
the e-invoice formats textbill.yaml asks for (`facturx`, `ubl`, `ksef`), and
there it is an error (E221-E225, E230-E234): `build` would otherwise write a document
the receiving network rejects (docs/einvoicing.md).  What a UBL file still lacks
to be Peppol BIS Billing 3.0 is a warning (W226-W229): without it the file is
plain EN 16931 UBL, valid but not declared as Peppol.
"""
from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from textbill.core import model as m
from textbill.core.diagnostics import Diagnostic, error, warning
from textbill.core.einvoicing import (
    buyer_reference,
    german_domestic_gap,
    nip,
    order_reference,
)
from textbill.engine.fx import Rates

EINVOICE_FORMATS = ("facturx", "ubl", "ksef")
POLISH_RATES = frozenset(Decimal(r) for r in (23, 22, 8, 7, 5, 4, 3, 0))


def check_einvoice(ledger: m.Ledger) -> list[Diagnostic]:
    out = list(check_bank(ledger))
    formats = [f for f in ledger.config.formats if f in EINVOICE_FORMATS]
    if formats:
        asked = " and ".join(formats)
        out.extend(check_seller(ledger, asked))
        out.extend(check_buyers(ledger, asked))
        out.extend(check_exemption_reasons(ledger, asked))
    if "ubl" in formats:
        out.extend(check_peppol(ledger))
    if "ksef" in formats:
        out.extend(check_ksef(ledger))
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

def _taxes(ledger: m.Ledger) -> list[m.Tax]:
    """Every tax treatment the ledger names (clients, SOWs, invoice items, discounts and charges)."""
    found = [c.tax for c in ledger.clients.values()] + [s.tax for s in ledger.sows.values()]
    found += [part.tax for inv in ledger.invoices for part in (*inv.items, *inv.adjustments)]
    return [t for t in found if t is not None]


def check_seller(ledger: m.Ledger, asked: str) -> Iterable[Diagnostic]:
    company = ledger.company
    if company is None:
        return
    if not company.tax_id and any(t.kind != "none" for t in _taxes(ledger)):
        yield error(company.span, "E221", f"company '{company.id}' has no tax-id, which {asked} e-invoices with "
                    "VAT (standard, zero-rated, exempt or reverse charge) need: the seller's VAT number "
                    "(EN 16931 BR-S-02, BR-Z-02, BR-E-02, BR-AE-02)",
                    'add it, e.g.: tax-id "PL5252248481"', focus=company.id)
    if not company.country:
        yield error(company.span, "E222", f"company '{company.id}' has no country, which {asked} e-invoices "
                    "need: the seller's country code (EN 16931 BR-09)", "add it, e.g.: country PL",
                    focus=company.id)


def check_buyers(ledger: m.Ledger, asked: str) -> Iterable[Diagnostic]:
    reverse = _reverse_charge_clients(ledger)
    for client in ledger.clients.values():
        if not client.country:
            yield error(client.span, "E223", f"client '{client.id}' has no country, which {asked} e-invoices "
                        "need: the buyer's country code (EN 16931 BR-11)", "add it, e.g.: country DE",
                        focus=client.id)
        if client.id in reverse and not _is_vat_id(client.tax_id):
            has = f"its tax-id '{client.tax_id}' lacks the country prefix" if client.tax_id else "it has no tax-id"
            yield error(client.span, "E224", f"client '{client.id}' is billed with reverse charge but {has}: "
                        f"a reverse-charge {asked} e-invoice needs the buyer's VAT number (EN 16931 BR-AE-02)",
                        'add it with its country prefix, e.g.: tax-id "DE811569869"', focus=client.id)


def _is_vat_id(tax_id: str | None) -> bool:
    text = (tax_id or "").replace(" ", "")
    return len(text) > 3 and text[:2].isalpha() and text[:2].isupper()


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


def check_exemption_reasons(ledger: m.Ledger, asked: str) -> Iterable[Diagnostic]:
    def bare(tax: m.Tax | None) -> bool:
        return tax is not None and tax.kind == "exempt" and not tax.reason.strip()

    owners = [*ledger.clients.values(), *ledger.sows.values()]
    owners += [part for inv in ledger.invoices for part in (*inv.items, *inv.adjustments)]
    for owner in owners:
        if bare(owner.tax):
            yield error(owner.span, "E225", f"tax exempt without a reason: an exempt {asked} e-invoice must state "
                        "why (EN 16931 BR-E-10; KSeF P_19A), and the legal note is printed from it",
                        'add the legal reason, e.g.: tax exempt "Exempt under art. 43(1) of the VAT Act"',
                        focus="exempt")


# ---------------------------------------------------------------------------- Peppol BIS Billing 3.0

def check_peppol(ledger: m.Ledger) -> Iterable[Diagnostic]:
    """What a UBL invoice lacks to be declared Peppol BIS Billing 3.0 (docs/einvoicing.md)."""
    company = ledger.company
    if company is None:
        return
    if not company.peppol:
        yield warning(company.span, "W226", f"company '{company.id}' has no peppol id: its UBL invoices are "
                      "plain EN 16931, not Peppol BIS Billing 3.0 (the seller's electronic address, BT-34, "
                      "PEPPOL-EN16931-R020)", "add the Peppol participant id, e.g.: peppol 0088:5790000435975",
                      focus=company.id)
        return
    billed = {inv.client for inv in ledger.invoices}
    for client in ledger.clients.values():
        if client.id in billed and not client.peppol:
            yield warning(client.span, "W227", f"client '{client.id}' has no peppol id: its UBL invoices are "
                          "plain EN 16931, not Peppol BIS Billing 3.0 (the buyer's electronic address, BT-49, "
                          "PEPPOL-EN16931-R010)", "add the buyer's Peppol id, e.g.: peppol 9930:DE811569869",
                          focus=client.id)
    german = [c for c in ledger.clients.values() if c.id in billed and c.peppol and c.country == "DE"]
    if company.country == "DE" and german:
        gap = german_domestic_gap("DE", "DE", company.phone, company.email, ())
        if gap:
            yield warning(company.span, "W229", f"company '{company.id}' lacks {gap}, which Peppol asks of a "
                          f"German invoice to a German buyer (client '{german[0].id}'): those UBL files are plain "
                          "EN 16931", 'add them, e.g.: phone "+49 30 123456" and email billing@example.com',
                          focus=company.id)
        for client in german:
            if client.tax is None or client.tax.kind == "none":
                yield warning(client.span, "W229", f"client '{client.id}' is billed without tax: Peppol asks a "
                              "German invoice to a German buyer for a VAT rate on every line (DE-R-014), so its "
                              "UBL files are plain EN 16931", "give the client its tax, e.g.: tax VAT 19%",
                              focus=client.id)
    for inv in ledger.invoices:
        client = ledger.clients.get(inv.client)
        if client is None or not client.peppol:
            continue
        if not (buyer_reference(inv, client) or order_reference(ledger, inv)):
            yield warning(inv.span, "W228", f"invoice '{inv.number}' has neither a buyer reference nor a PO: "
                          "its UBL is plain EN 16931, not Peppol BIS Billing 3.0 (PEPPOL-EN16931-R003)",
                          f'add one, e.g. to client \'{client.id}\': buyer-reference "DEPT-42", or to the '
                          'invoice: po "PO-1234"', focus=inv.number)


# ---------------------------------------------------------------------------- KSeF FA(3)

def check_ksef(ledger: m.Ledger) -> Iterable[Diagnostic]:
    """What the Polish FA(3) structure needs: the seller's NIP, PLN books, Polish VAT rates."""
    company = ledger.company
    if company is None:
        return
    if nip(company.tax_id) is None:
        has = f": tax-id '{company.tax_id}' is not a Polish NIP" if company.tax_id else " has no tax-id"
        yield error(company.span, "E230", f"company '{company.id}'{has}: a KSeF invoice needs the seller's "
                    "Polish NIP (FA(3) Podmiot1/NIP)", 'give the 10-digit NIP, e.g.: tax-id "PL5260001246"',
                    focus=company.id)
    if company.currency != "PLN":
        yield error(company.span, "E233", f"company '{company.id}' keeps its books in {company.currency}: a KSeF "
                    "invoice in another currency gives its VAT in PLN (P_14_xW), from the company currency",
                    "keep the books in PLN: currency PLN", focus=company.id)
    yield from _ksef_rates_to_pln(ledger)
    owners = [*ledger.clients.values(), *ledger.sows.values()]
    owners += [part for inv in ledger.invoices for part in (*inv.items, *inv.adjustments)]
    for owner in owners:
        tax = owner.tax
        if tax is not None and tax.kind == "rate" and tax.percent not in POLISH_RATES:
            rate = f"{tax.percent.normalize():f}%"
            yield error(owner.span, "E231", f"VAT rate {rate} is not a Polish rate: a KSeF invoice has 23, 8, 5 "
                        "or 0% (or the reduced 22, 7, 4, 3%)", "use a Polish rate, or leave ksef out of formats",
                        focus=rate)


def _ksef_rates_to_pln(ledger: m.Ledger) -> Iterable[Diagnostic]:
    """A foreign-currency KSeF invoice with VAT gives it in PLN too (P_14_xW): it needs an fx rate to
    PLN on or before its date (E234; without one the VAT in PLN cannot be written)."""
    rates = Rates(ledger.fxs)
    for inv in ledger.invoices:
        currency = ledger.client_currency(inv.client)
        if currency == "PLN" or rates.lookup(currency, "PLN", inv.date) is not None:
            continue
        client = ledger.clients.get(inv.client)
        taxes = [client.tax if client else None]
        taxes += [sow.tax for sow in ledger.sows.values() if sow.client == inv.client]
        taxes += [part.tax for part in (*inv.items, *inv.adjustments)]
        if any(t is not None and t.kind == "rate" and t.percent > 0 for t in taxes):
            yield error(inv.span, "E234", f"invoice '{inv.number}' is in {currency} with VAT, and there is no fx "
                        f"rate {currency}/PLN on or before {inv.date}: a KSeF invoice gives its VAT in PLN too "
                        "(P_14_xW)", f"add: {inv.date} fx {currency} PLN RATE", focus=inv.number)
