"""An issued document as the EN 16931 semantic model, the one source of both XML syntaxes.

EN 16931-1 defines an invoice as business terms (BT-n) in groups (BG-n); CII and
UBL are two bindings of the same terms.  This module maps an engine document
(InvoiceDoc or CreditDoc) onto those terms once, so einvoice_cii.py and
einvoice_ubl.py only decide element names and order.  No amount is computed
here: lines, allowances, charges and VAT come from the engine as they are.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.languages import get_official_languages

from textbill.core import model as m
from textbill.core.books import CreditDoc, InvoiceDoc, Line, TaxGroup
from textbill.core.money import ZERO, minor_units, round_money
from textbill.core.payref import invoice_rf
from textbill.core.periods import period_end

INVOICE = "380"  # UNTDID 1001: commercial invoice
CREDIT_NOTE = "381"  # credit note

# UNECE Recommendation 20 unit codes
HOUR, MINUTE, ONE = "HUR", "MIN", "C62"


@dataclass(frozen=True)
class Address:
    lines: tuple[str, ...] = ()  # BT-35, BT-36, BT-162 (at most three)
    city: str | None = None  # BT-37
    postcode: str | None = None  # BT-38
    subdivision: str | None = None  # BT-39
    country: str | None = None  # BT-40


@dataclass(frozen=True)
class Contact:
    name: str | None = None  # BT-41 / BT-56
    phone: str | None = None  # BT-42 / BT-57
    email: str | None = None  # BT-43 / BT-58


@dataclass(frozen=True)
class Party:
    name: str  # BT-27 / BT-44
    address: Address
    vat_id: str | None = None  # BT-31 / BT-48
    tax_registration: str | None = None  # BT-32 (seller only)
    legal_id: str | None = None  # BT-30 / BT-47
    identifier: str | None = None  # BT-29 / BT-46
    endpoint: str | None = None  # BT-34 / BT-49, an e-mail address (scheme EM)
    contact: Contact | None = None  # BG-6 / BG-9


@dataclass(frozen=True)
class Category:
    """A VAT category with its rate: what lines, allowances and the breakdown share."""

    code: str  # UNTDID 5305 subset of EN 16931: S Z E AE O
    rate: Decimal | None  # None for O, which carries no rate (BR-O-05)
    reason: str | None = None  # BT-120
    reason_code: str | None = None  # BT-121 (VATEX)

    @property
    def key(self) -> tuple:
        return (self.code, self.rate)


@dataclass(frozen=True)
class InvoiceLine:
    id: str  # BT-126
    name: str  # BT-153
    quantity: Decimal  # BT-129
    unit: str  # BT-130
    price: Decimal  # BT-146 (net, never negative: BR-27)
    base_quantity: Decimal | None  # BT-149, in `unit`
    amount: Decimal  # BT-131, the engine's rounded line amount
    category: Category  # BT-151, BT-152
    period: tuple[date, date] | None = None  # BT-134, BT-135
    note: str | None = None  # BT-127


@dataclass(frozen=True)
class AllowanceCharge:
    charge: bool  # False: allowance (BG-20), True: charge (BG-21)
    amount: Decimal  # BT-92 / BT-99
    reason: str  # BT-97 / BT-104
    category: Category  # BT-95, BT-96 / BT-102, BT-103


@dataclass(frozen=True)
class VatBreakdown:
    category: Category  # BT-118, BT-119, BT-120, BT-121
    basis: Decimal  # BT-116
    tax: Decimal  # BT-117


@dataclass(frozen=True)
class Totals:
    lines: Decimal  # BT-106
    allowances: Decimal  # BT-107
    charges: Decimal  # BT-108
    basis: Decimal  # BT-109
    tax: Decimal  # BT-110
    tax_accounting: Decimal | None  # BT-111, in the VAT accounting currency (BT-6)
    grand: Decimal  # BT-112
    payable: Decimal  # BT-115


@dataclass(frozen=True)
class PaymentMeans:
    code: str  # BT-81: 58 SEPA credit transfer, 30 credit transfer
    account: str  # BT-84: an IBAN, or another account number
    is_iban: bool
    account_name: str | None  # BT-85
    provider: str | None  # BT-86: BIC, or a national routing code


@dataclass(frozen=True)
class EInvoice:
    type_code: str  # BT-3
    number: str  # BT-1
    issue_date: date  # BT-2
    currency: str  # BT-5
    tax_currency: str | None  # BT-6
    due_date: date | None  # BT-9
    notes: tuple[str, ...]  # BT-22
    buyer_reference: str | None  # BT-10
    order_reference: str | None  # BT-13
    preceding: tuple[str, date] | None  # BG-3: BT-25, BT-26
    period: tuple[date | None, date] | None  # BG-14: BT-73, BT-74
    delivery_date: date | None  # BT-72: the end of the period the services were supplied in
    seller: Party  # BG-4
    buyer: Party  # BG-7
    payment: PaymentMeans | None  # BG-16
    remittance: str | None  # BT-83
    terms: str | None  # BT-20
    lines: tuple[InvoiceLine, ...]  # BG-25
    adjustments: tuple[AllowanceCharge, ...]  # BG-20, BG-21
    vat: tuple[VatBreakdown, ...]  # BG-23
    totals: Totals  # BG-22

    @property
    def is_credit(self) -> bool:
        return self.type_code == CREDIT_NOTE


# ---------------------------------------------------------------------------- categories

def category(tax: m.Tax) -> Category:
    """The EN 16931 VAT category of a ledger tax treatment."""
    if tax.kind == "rate":
        return Category("S" if tax.percent > 0 else "Z", tax.percent)
    if tax.kind == "exempt":
        return Category("E", ZERO, tax.reason or "Exempt from VAT")
    if tax.kind == "reverse-charge":
        return Category("AE", ZERO, "Reverse charge", "VATEX-EU-AE")
    return Category("O", None, "Not subject to VAT", "VATEX-EU-O")


def _breakdown(groups: tuple[TaxGroup, ...]) -> tuple[VatBreakdown, ...]:
    """VAT once per category and rate (BR-CO-17 and the BR-x-08 rules): equal keys merge."""
    order: list[tuple] = []
    merged: dict[tuple, list] = {}
    for g in groups:
        cat = category(g.tax)
        if cat.key not in merged:
            order.append(cat.key)
            merged[cat.key] = [cat, ZERO, ZERO, []]
        entry = merged[cat.key]
        entry[1] += g.basis
        entry[2] += g.tax_amount
        if cat.reason and cat.reason not in entry[3]:
            entry[3].append(cat.reason)
    out = []
    for key in order:
        cat, basis, tax, reasons = merged[key]
        if len(reasons) > 1:
            cat = Category(cat.code, cat.rate, "; ".join(reasons), cat.reason_code)
        out.append(VatBreakdown(cat, basis, tax))
    return tuple(out)


# ---------------------------------------------------------------------------- parties

_VAT_PREFIX = re.compile(r"^[A-Z]{2}[0-9A-Za-z+*.-]{2,}$")


def _field(fields: tuple[tuple[str, str], ...], *names: str) -> str | None:
    for key, value in fields:
        if key in names and value:
            return value
    return None


def _country_names(code: str) -> frozenset[str]:
    """The country's name in English and in its official languages, lowercased."""
    names = set()
    for lang in ("en", *get_official_languages(code)):
        try:
            name = Locale.parse(lang).territories.get(code)
        except (ValueError, UnknownLocaleError):
            continue
        if name:
            names.add(name.lower())
    if code == "US":
        names |= {"usa", "united states of america"}
    if code == "GB":
        names |= {"uk", "great britain"}
    return frozenset(names)


_POSTCODE_FIRST = re.compile(r"^(?P<postcode>(?:[A-Z]{1,3}-)?\d[\dA-Z-]*)\s+(?P<city>\D.*)$")
_POSTCODE_LAST = re.compile(r"^(?P<city>[^,\d]+),\s*(?P<sub>[A-Z]{2})\s+(?P<postcode>\d{5}(?:-\d{4})?)$")


def address(text: str, country: str | None) -> Address:
    """Split a free-text address: street lines, then 'postcode city' (or 'City, ST 12345').

    A last line naming the country is dropped (the country code says it); a
    line that matches neither form stays a street line, and the city is left out.
    """
    lines = [ln.strip() for ln in text.replace("\\n", "\n").split("\n") if ln.strip()]
    if lines and country and lines[-1].lower() in _country_names(country):
        lines.pop()
    city = postcode = sub = None
    if lines:
        last = lines[-1]
        found = _POSTCODE_FIRST.match(last)
        if found:
            postcode, city = found["postcode"], found["city"].strip()
            lines.pop()
        else:
            found = _POSTCODE_LAST.match(last)
            if found:
                city, sub, postcode = found["city"].strip(), found["sub"], found["postcode"]
                lines.pop()
    if len(lines) > 3:
        lines = lines[:2] + [", ".join(lines[2:])]
    return Address(tuple(lines), city, postcode, sub, country)


def _tax_ids(tax_id: str | None, no_vat_ids: bool) -> tuple[str | None, str | None]:
    """(VAT id, other tax id): a tax id with a country prefix is a VAT id (BR-CO-09).

    An invoice 'not subject to VAT' must carry no VAT ids at all (BR-O-02), so
    then every tax id counts as the other kind.
    """
    if not tax_id:
        return None, None
    tax_id = tax_id.replace(" ", "")
    if _VAT_PREFIX.match(tax_id) and not no_vat_ids:
        return tax_id, None
    return None, tax_id


def seller(company: m.Company, no_vat_ids: bool) -> Party:
    vat_id, other = _tax_ids(company.tax_id, no_vat_ids)
    legal_id = _field(company.fields, "legal-id")
    # BR-CO-26: a seller identifier, legal registration id or VAT id must be present
    identifier = None if (vat_id or legal_id) else (other or company.id)
    contact = None
    if company.phone or company.email:
        contact = Contact(None, company.phone, company.email)
    return Party(company.name, address(company.address, company.country), vat_id, other, legal_id,
                 identifier, company.email, contact)


def buyer(client: m.Client, no_vat_ids: bool) -> Party:
    vat_id, other = _tax_ids(client.tax_id, no_vat_ids)
    legal_id = _field(client.fields, "legal-id")
    contact = None
    if client.contact or client.contact_email or client.phone:
        contact = Contact(client.contact, client.phone, client.contact_email)
    return Party(client.name, address(client.address, client.country), vat_id, None, legal_id,
                 other, client.email or client.contact_email, contact)


# ---------------------------------------------------------------------------- lines

def _line(index: int, ln: Line, ledger: m.Ledger, period: m.Period | None) -> InvoiceLine:
    quantity, unit, price, base = ln.quantity, ONE, ln.unit_price, None
    if ln.kind == "time":
        minutes = ln.detail.get("billed_minutes", ln.quantity * 60)
        if (minutes * 100) % 60 == 0:  # whole hundredths of an hour: hours as they are
            quantity, unit = minutes / 60, HOUR
        else:  # 50 minutes is 0.8333..h: bill minutes, priced per 60 (BT-149), so qty x price stays exact
            quantity, unit, base = minutes, MINUTE, Decimal(60)
    elif ln.quantity == 1:
        price = ln.amount  # one unit: its price is the (rounded) line amount
    if price < 0:
        price, quantity = -price, -quantity
    return InvoiceLine(str(index), ln.description, quantity, unit, price, base, ln.amount,
                       category(ln.tax), _line_period(ln, ledger, period))


def _line_period(ln: Line, ledger: m.Ledger, period: m.Period | None) -> tuple[date, date] | None:
    """The day (or retainer period) a line bills, when it lies inside the invoice period."""
    if ln.date is None or ln.kind == "item":
        return None
    start = end = ln.date
    if ln.kind == "retainer":
        sow = ledger.sows.get(ln.sow or "")
        unit = sow.pricing.frequency if sow and sow.pricing and sow.pricing.frequency else "monthly"
        end = period_end(start, unit)
    if period is not None and not (period.start <= start and end <= period.end):
        return None  # Peppol: line periods lie within the invoice period
    return start, end


def _adjustments(groups: tuple[TaxGroup, ...]) -> tuple[AllowanceCharge, ...]:
    out = []
    for g in groups:
        cat = category(g.tax)
        for part in g.parts:
            if part.amount:
                out.append(AllowanceCharge(part.kind == "charge", part.amount, part.label or part.kind, cat))
    return tuple(out)


def _totals(groups: tuple[TaxGroup, ...], lines: tuple[InvoiceLine, ...], net: Decimal, tax: Decimal,
            total: Decimal, tax_accounting: Decimal | None) -> Totals:
    return Totals(
        lines=sum((ln.amount for ln in lines), ZERO),
        allowances=sum((g.allowances for g in groups), ZERO),
        charges=sum((g.charges for g in groups), ZERO),
        basis=net, tax=tax, tax_accounting=tax_accounting, grand=total, payable=total)


# ---------------------------------------------------------------------------- terms and payment

def terms_text(client: m.Client | None, company: m.Company) -> str:
    terms = client.terms if client else m.NET_30
    if terms.kind == "due-on-receipt":
        text = "Due on receipt."
    elif terms.kind == "eom":
        text = f"Due {terms.days} days after the end of the invoice month."
    else:
        text = f"Net {terms.days} days."
    if company.late_interest:
        text += f" Late payment interest: {company.late_interest.normalize():f}% a year."
    return text


def payment_means(company: m.Company, currency: str) -> PaymentMeans | None:
    bank = company.bank
    if bank is None or not (bank.iban or bank.account):
        return None
    if bank.iban:
        iban = bank.iban.replace(" ", "").upper()
        code = "58" if currency == "EUR" else "30"
        return PaymentMeans(code, iban, True, company.name, bank.bic or None)
    return PaymentMeans("30", bank.account or "", False, company.name, bank.bic or bank.routing or None)


# ---------------------------------------------------------------------------- documents

def _po(ledger: m.Ledger, doc: InvoiceDoc) -> str | None:
    if doc.invoice.po:
        return doc.invoice.po
    for ref in doc.sows:
        sow = ledger.sows.get(ref)
        if sow is not None and sow.po:
            return sow.po
    return None


def _buyer_reference(doc: InvoiceDoc) -> str | None:
    return (_field(doc.invoice.fields, "buyer-reference")
            or (_field(doc.client.fields, "buyer-reference") if doc.client else None))


def _no_vat_ids(groups: tuple[TaxGroup, ...]) -> bool:
    return any(category(g.tax).code == "O" for g in groups)


def from_invoice(ledger: m.Ledger, doc: InvoiceDoc) -> EInvoice:
    company = doc.company or _company(ledger)  # the seller as recorded at issue, else the ledger's
    if doc.client is None:
        raise ValueError(f"invoice '{doc.number}' has no client")
    period = doc.period
    lines = tuple(_line(i, ln, ledger, period) for i, ln in enumerate(doc.lines, start=1))
    ct = doc.company_tax
    start = None if period.start == date.min else period.start
    no_vat = _no_vat_ids(doc.groups)
    return EInvoice(
        type_code=INVOICE, number=doc.number, issue_date=doc.date, currency=doc.currency,
        tax_currency=ct.currency if ct else None, due_date=doc.due, notes=tuple(doc.invoice.notes),
        buyer_reference=_buyer_reference(doc), order_reference=_po(ledger, doc), preceding=None,
        period=(start, period.end), delivery_date=period.end, seller=seller(company, no_vat), buyer=buyer(doc.client, no_vat),
        payment=payment_means(company, doc.currency), remittance=invoice_rf(company, doc.number) or doc.number,
        terms=terms_text(doc.client, company), lines=lines, adjustments=_adjustments(doc.groups),
        vat=_breakdown(doc.groups),
        totals=_totals(doc.groups, lines, doc.net, doc.tax, doc.total, ct.amount if ct else None))


def from_credit(ledger: m.Ledger, doc: CreditDoc) -> EInvoice:
    """A credit note: the invoice mirrored when it credits all of it, else one line per tax group."""
    inv = doc.invoice
    if inv is None or inv.client is None:
        raise ValueError(f"credit note '{doc.number}' corrects no known invoice")
    company = doc.company or _company(ledger)
    note = doc.note
    reason = note.reason or f"Correction of invoice {inv.number}"
    full = doc.groups is inv.groups or tuple(doc.groups) == tuple(inv.groups)
    if full:
        lines = tuple(_line(i, ln, ledger, inv.period) for i, ln in enumerate(inv.lines, start=1))
        adjustments = _adjustments(inv.groups)
    else:
        lines = tuple(
            InvoiceLine(str(i), reason, Decimal(1), ONE, g.basis, None, g.basis, category(g.tax))
            for i, g in enumerate((g for g in doc.groups if g.basis or g.tax_amount), start=1))
        adjustments = ()
    basis = sum((g.basis for g in doc.groups), ZERO)
    tax = sum((g.tax_amount for g in doc.groups), ZERO)
    ct = inv.company_tax
    tax_accounting = None
    if ct is not None:
        tax_accounting = ct.amount if full else round_money(tax * ct.rate, ct.currency)
    no_vat = _no_vat_ids(doc.groups)
    notes = ((note.reason,) if note.reason else ()) + tuple(note.notes)
    return EInvoice(
        type_code=CREDIT_NOTE, number=doc.number, issue_date=doc.date, currency=doc.currency,
        tax_currency=ct.currency if ct else None, due_date=None, notes=notes,
        buyer_reference=_buyer_reference(inv), order_reference=_po(ledger, inv),
        preceding=(inv.number, inv.date), period=None, delivery_date=inv.period.end,
        seller=seller(company, no_vat), buyer=buyer(inv.client, no_vat), payment=None, remittance=None,
        terms=f"Credits invoice {inv.number} of {inv.date.isoformat()}.", lines=lines,
        adjustments=adjustments, vat=_breakdown(doc.groups),
        totals=_totals(doc.groups, lines, basis, tax, basis + tax, tax_accounting))


def from_doc(ledger: m.Ledger, doc: InvoiceDoc | CreditDoc) -> EInvoice:
    if isinstance(doc, CreditDoc):
        return from_credit(ledger, doc)
    return from_invoice(ledger, doc)


def _company(ledger: m.Ledger) -> m.Company:
    if ledger.company is None:
        raise ValueError("the ledger has no company")
    return ledger.company


# ---------------------------------------------------------------------------- number formats

def amount_text(value: Decimal, currency: str) -> str:
    """An amount with exactly the currency's minor digits (BR-DEC: at most two)."""
    return str(round_money(value, currency))


def decimal_text(value: Decimal, min_places: int = 0) -> str:
    """A plain decimal without exponent or trailing zeros, with at least min_places decimals."""
    text = format(value.normalize(), "f")
    places = len(text.split(".")[1]) if "." in text else 0
    if places < min_places:
        text = format(value.quantize(Decimal(1).scaleb(-min_places)), "f")
    return text


def price_text(value: Decimal, currency: str) -> str:
    return decimal_text(value, minor_units(currency))
