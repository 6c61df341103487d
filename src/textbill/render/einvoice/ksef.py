"""The Polish structured invoice FA(3) (KSeF), schema `schemat_FA(3)_v1-0E.xsd`.

Written with lxml from the same EN 16931 model as CII and UBL (reports.einvoice),
so every amount is the engine's: net and VAT per rate (P_13_x / P_14_x) are the
engine's tax groups, merged per FA(3) field; the total due (P_15) is the
document's gross total.  The ledger's tax treatments map onto FA(3) like this
(docs/einvoicing.md):

  S 23%/22%  -> P_13_1, P_14_1    S 8%/7% -> P_13_2, P_14_2    S 5% -> P_13_3, P_14_3
  S 4%/3%    -> P_13_4, P_14_4    Z (0%)  -> P_13_6_1 ("0 KR")
  exempt     -> P_13_7 ("zw"), its reason as the legal basis (Adnotacje/Zwolnienie/P_19A)
  reverse charge: a buyer in Poland -> P_13_10 ("oo"); in another EU state -> P_13_9
             ("np II", services under art. 28b, art. 100(1)(4)); elsewhere -> P_13_8 ("np I");
             P_18 (odwrotne obciazenie) for "oo" and "np II"
  no tax     -> P_13_8 ("np I"): not taxable in Poland

A foreign-currency document carries its VAT in PLN too (P_14_xW), at the rate the
engine used (the `fx` entry on or before the invoice date).  A credit note is a
correction (RodzajFaktury KOR) naming the invoice it corrects, with the
differences it makes: negative amounts, as it decreases the invoice.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import MappingProxyType

from lxml import etree

from textbill.core.books import CreditDoc, InvoiceDoc
from textbill.core.einvoicing import nip
from textbill.core.money import ZERO
from textbill.reports.einvoice import (
    HOUR,
    MINUTE,
    AllowanceCharge,
    EInvoice,
    InvoiceLine,
    Party,
    category,
    decimal_text,
)

NS = "http://crd.gov.pl/wzor/2025/06/25/13775/"
EU = frozenset(["AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "HR", "HU", "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PT", "RO", "SE", "SI", "SK", "XI"])
# FA(3) field numbers of the standard rates; P_14_xW (VAT in PLN) exists for these four only
RATE_FIELD = MappingProxyType({Decimal(23): "1", Decimal(22): "1", Decimal(8): "2", Decimal(7): "2",
                               Decimal(5): "3", Decimal(4): "4", Decimal(3): "4"})
# the order of the amount fields in Fa (after P_6 / OkresFa)
FIELDS = ("1", "2", "3", "4", "5", "6_1", "6_2", "6_3", "7", "8", "9", "10", "11")
PAYMENT_TRANSFER = "6"  # TFormaPlatnosci: przelew


class KsefError(ValueError):
    """A document FA(3) cannot express (a VAT rate Poland does not have)."""


def _q(name: str) -> str:
    return f"{{{NS}}}{name}"


def _sub(parent, name: str, text: str | None = None, **attrs) -> etree._Element:
    el = etree.SubElement(parent, _q(name), attrs)
    if text is not None:
        el.text = text
    return el


def _amount(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def slot(code: str, rate: Decimal | None, buyer_country: str | None) -> tuple[str, str]:
    """(FA(3) amount field, P_12 rate code) of an EN 16931 category."""
    if code == "S":
        if rate not in RATE_FIELD:
            raise KsefError(f"VAT rate {decimal_text(rate or ZERO)}% is not a Polish rate "
                            "(23, 8, 5, or the reduced 22, 7, 4, 3)")
        assert rate is not None
        return RATE_FIELD[rate], decimal_text(rate)
    if code == "Z":
        return "6_1", "0 KR"
    if code == "E":
        return "7", "zw"
    if code == "AE":
        if buyer_country == "PL":
            return "10", "oo"
        if buyer_country in EU or buyer_country == "GR":
            return "9", "np II"
        return "8", "np I"
    return "8", "np I"


def ksef(e: EInvoice, doc: InvoiceDoc | CreditDoc) -> bytes:
    """FA(3) XML of a document and its EN 16931 model."""
    sign = Decimal(-1) if e.is_credit else Decimal(1)
    buyer_country = e.buyer.address.country
    root = etree.Element(_q("Faktura"), nsmap={None: NS})

    head = _sub(root, "Naglowek")
    _sub(head, "KodFormularza", "FA", kodSystemowy="FA (3)", wersjaSchemy="1-0E")
    _sub(head, "WariantFormularza", "3")
    # the engine never reads the clock: the file is made "at" the issue date, so it is reproducible
    _sub(head, "DataWytworzeniaFa", f"{max(e.issue_date, date(2025, 9, 1)).isoformat()}T00:00:00Z")
    _sub(head, "SystemInfo", "textbill")

    seller = _sub(root, "Podmiot1")
    ids = _sub(seller, "DaneIdentyfikacyjne")
    seller_nip = nip(e.seller.vat_id or e.seller.tax_registration)
    if seller_nip is None:
        raise KsefError("the seller's tax-id is not a Polish NIP")
    _sub(ids, "NIP", seller_nip)
    _sub(ids, "Nazwa", e.seller.name)
    _address(seller, e.seller)
    _contact(seller, e.seller)

    buyer = _sub(root, "Podmiot2")
    _buyer_ids(_sub(buyer, "DaneIdentyfikacyjne"), e.buyer)
    _address(buyer, e.buyer)
    _contact(buyer, e.buyer)
    _sub(buyer, "JST", "2")  # not a unit of local government
    _sub(buyer, "GV", "2")  # not a member of a VAT group

    fa = _sub(root, "Fa")
    _sub(fa, "KodWaluty", e.currency)
    _sub(fa, "P_1", e.issue_date.isoformat())
    _sub(fa, "P_2", e.number)
    if not e.is_credit and e.period:
        start, end = e.period
        if start and start != end:
            period = _sub(fa, "OkresFa")
            _sub(period, "P_6_Od", start.isoformat())
            _sub(period, "P_6_Do", end.isoformat())
        else:
            _sub(fa, "P_6", end.isoformat())

    # amounts per FA(3) field: net, VAT, VAT in PLN (the engine's groups, merged)
    foreign = e.currency != "PLN"
    pln = _pln_taxes(doc)
    sums: dict[str, list[Decimal]] = {}
    codes: dict[str, str] = {}
    for i, group in enumerate(doc.groups):
        cat = category(group.tax)
        field, code = slot(cat.code, cat.rate, buyer_country)
        entry = sums.setdefault(field, [ZERO, ZERO, ZERO])
        entry[0] += group.basis
        entry[1] += group.tax_amount
        entry[2] += pln[i] if i < len(pln) else ZERO
        codes[(cat.code, cat.rate)] = code
    for field in FIELDS:
        if field not in sums:
            continue
        net, tax, tax_pln = (sign * v for v in sums[field])
        _sub(fa, f"P_13_{field}", _amount(net))
        if field in ("1", "2", "3", "4"):
            _sub(fa, f"P_14_{field}", _amount(tax))
            if foreign:
                if doc.company_tax is None and tax:
                    raise KsefError(f"its VAT cannot be given in PLN (P_14_{field}W): no fx rate {e.currency}/PLN")
                _sub(fa, f"P_14_{field}W", _amount(tax_pln))
    _sub(fa, "P_15", _amount(sign * e.totals.grand))

    notes = _sub(fa, "Adnotacje")
    _sub(notes, "P_16", "2")  # cash accounting method: no
    _sub(notes, "P_17", "2")  # self-billing: no
    reverse = any(c in ("oo", "np II") for c in codes.values())
    _sub(notes, "P_18", "1" if reverse else "2")
    _sub(notes, "P_18A", "1" if e.split_payment else "2")
    exemption = _sub(notes, "Zwolnienie")
    reasons = [v.category.reason for v in e.vat if v.category.code == "E" and v.category.reason]
    if reasons:
        _sub(exemption, "P_19", "1")
        _sub(exemption, "P_19A", "; ".join(dict.fromkeys(reasons))[:256])
    else:
        _sub(exemption, "P_19N", "1")
    _sub(_sub(notes, "NoweSrodkiTransportu"), "P_22N", "1")
    _sub(notes, "P_23", "2")  # simplified triangular procedure: no
    _sub(_sub(notes, "PMarzy"), "P_PMarzyN", "1")

    _sub(fa, "RodzajFaktury", "KOR" if e.is_credit else "VAT")
    if e.is_credit and isinstance(doc, CreditDoc):
        if doc.note.reason:
            _sub(fa, "PrzyczynaKorekty", doc.note.reason[:256])
        _sub(fa, "TypKorekty", "2")  # in effect from the correction's date
        assert e.preceding is not None
        corrected = _sub(fa, "DaneFaKorygowanej")
        _sub(corrected, "DataWystFaKorygowanej", e.preceding[1].isoformat())
        _sub(corrected, "NrFaKorygowanej", e.preceding[0])
        sent = doc.invoice.invoice.ksef_number if doc.invoice else None
        if sent:
            _sub(corrected, "NrKSeF", "1")
            _sub(corrected, "NrKSeFFaKorygowanej", sent)
        else:
            _sub(corrected, "NrKSeFN", "1")  # the corrected invoice was issued outside KSeF

    rate = doc.company_tax.rate if foreign and doc.company_tax else None
    row = 0
    for line in e.lines:
        row += 1
        _line(fa, row, line, codes, sign, rate)
    for adj in e.adjustments:
        row += 1
        _adjustment(fa, row, adj, codes, sign, rate)

    if e.totals.paid:
        settle = _sub(fa, "Rozliczenie")
        deduction = _sub(settle, "Odliczenia")
        _sub(deduction, "Kwota", _amount(e.totals.paid))
        _sub(deduction, "Powod", "Zapłacono przed wystawieniem faktury")
        _sub(settle, "SumaOdliczen", _amount(e.totals.paid))
        _sub(settle, "DoZaplaty", _amount(e.totals.payable))
    if not e.is_credit and (e.due_date or e.payment):
        pay = _sub(fa, "Platnosc")
        if e.due_date:
            _sub(_sub(pay, "TerminPlatnosci"), "Termin", e.due_date.isoformat())
        if e.payment:
            _sub(pay, "FormaPlatnosci", PAYMENT_TRANSFER)
            account = _sub(pay, "RachunekBankowy")
            _sub(account, "NrRB", e.payment.account)
            if e.payment.provider and len(e.payment.provider) in (8, 11):
                _sub(account, "SWIFT", e.payment.provider)
    if e.order_reference and not e.is_credit:
        terms = _sub(fa, "WarunkiTransakcji")
        _sub(_sub(terms, "Zamowienia"), "NrZamowienia", e.order_reference[:256])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _pln_taxes(doc: InvoiceDoc | CreditDoc) -> tuple[Decimal, ...]:
    """The VAT of each tax group in the company currency (PLN), as the engine computed it."""
    ct = doc.company_tax
    if ct is None:
        return tuple(g.tax_amount for g in doc.groups)
    return tuple(ct.groups)


def _line(fa, row: int, line: InvoiceLine, codes: dict, sign: Decimal, rate: Decimal | None) -> None:
    el = _sub(fa, "FaWiersz")
    _sub(el, "NrWierszaFa", str(row))
    _sub(el, "P_7", line.name[:512])
    quantity, price = line.quantity, line.price
    if line.unit == MINUTE and line.base_quantity:  # minutes priced per hour: hours, rounded for display
        quantity, unit = (quantity / line.base_quantity).quantize(Decimal("0.000001")), "h"
    else:
        unit = {HOUR: "h", MINUTE: "min"}.get(line.unit, "szt.")
    _sub(el, "P_8A", unit)
    _sub(el, "P_8B", decimal_text(quantity.quantize(Decimal("0.000001")).normalize()))
    _sub(el, "P_9A", decimal_text(price.quantize(Decimal("0.00000001")).normalize()))
    _sub(el, "P_11", _amount(sign * line.amount))
    _sub(el, "P_12", codes[line.category.key])
    if rate is not None:
        _sub(el, "KursWaluty", decimal_text(rate.quantize(Decimal("0.000001")).normalize()))


def _adjustment(fa, row: int, adj: AllowanceCharge, codes: dict, sign: Decimal, rate: Decimal | None) -> None:
    """A discount or charge as a row of its own: negative for a discount, so the rows add up per rate."""
    amount = sign * (adj.amount if adj.charge else -adj.amount)
    el = _sub(fa, "FaWiersz")
    _sub(el, "NrWierszaFa", str(row))
    _sub(el, "P_7", (adj.reason or ("Opłata" if adj.charge else "Rabat"))[:512])
    _sub(el, "P_11", _amount(amount))
    _sub(el, "P_12", codes[adj.category.key])
    if rate is not None:
        _sub(el, "KursWaluty", decimal_text(rate.quantize(Decimal("0.000001")).normalize()))


def _buyer_ids(ids, party: Party) -> None:
    country = party.address.country
    tax_id = (party.vat_id or party.identifier or party.tax_registration or "").replace(" ", "")
    polish = nip(tax_id) if country in (None, "PL") else None
    if polish:
        _sub(ids, "NIP", polish)
    elif tax_id and country in EU | {"GR"} and tax_id[:2].isalpha():
        prefix = tax_id[:2].upper()
        _sub(ids, "KodUE", "EL" if prefix == "GR" else prefix)
        _sub(ids, "NrVatUE", tax_id[2:])
    elif tax_id:
        if country:
            _sub(ids, "KodKraju", country)
        _sub(ids, "NrID", tax_id[:50])
    else:
        _sub(ids, "BrakID", "1")
    _sub(ids, "Nazwa", party.name[:512])


def _address(parent, party: Party) -> None:
    a = party.address
    if not a.country:
        return
    el = _sub(parent, "Adres")
    _sub(el, "KodKraju", a.country)
    street = ", ".join(a.lines) or a.city or party.name
    _sub(el, "AdresL1", street[:512])
    town = " ".join(p for p in (a.postcode, a.city) if p)
    if town and town != street:
        _sub(el, "AdresL2", town[:512])


def _contact(parent, party: Party) -> None:
    c = party.contact
    email = c.email if c else None
    phone = c.phone if c else None
    if email or phone:
        el = _sub(parent, "DaneKontaktowe")
        if email:
            _sub(el, "Email", email)
        if phone:
            _sub(el, "Telefon", phone[:16])
