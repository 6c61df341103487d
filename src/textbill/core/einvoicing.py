"""What e-invoicing networks need of a ledger, as plain values (docs/einvoicing.md).

Peppol participant ids: `SCHEME:ID`, SCHEME a code of the Electronic Address
Scheme list.  The list is the one the Peppol BIS Billing 3.0 rules accept for an EndpointID
(rule PEPPOL-EN16931-CL008, release 3.0.19 of May 2025); a code outside it is
rejected by every access point, so the parser refuses it (E220).
"""
from __future__ import annotations

import re
from decimal import Decimal
from types import MappingProxyType

from textbill.core import model as m
from textbill.core.books import InvoiceDoc, InvoiceState, Receivables
from textbill.core.money import ZERO

EAS_CODES = frozenset({
    "0002", "0007", "0009", "0037", "0060", "0088", "0096", "0097", "0106", "0130", "0135", "0142",
    "0147", "0151", "0154", "0158", "0170", "0177", "0183", "0184", "0188", "0190", "0191", "0192",
    "0193", "0194", "0195", "0196", "0198", "0199", "0200", "0201", "0202", "0203", "0204", "0205",
    "0208", "0209", "0210", "0211", "0212", "0213", "0215", "0216", "0217", "0218", "0221", "0225",
    "0230", "0235", "0240", "9910", "9913", "9914", "9915", "9918", "9919", "9920", "9922", "9923",
    "9924", "9925", "9926", "9927", "9928", "9929", "9930", "9931", "9932", "9933", "9934", "9935",
    "9936", "9937", "9938", "9939", "9940", "9941", "9942", "9943", "9944", "9945", "9946", "9947",
    "9948", "9949", "9950", "9951", "9952", "9953", "9957", "9959",
})


def _gln(v: str) -> bool:
    digits = [int(c) for c in reversed(v[:-1])]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(digits))
    return (10 - total % 10) % 10 == int(v[-1])


def _mod11(v: str) -> bool:
    digits = [int(c) for c in reversed(v[:-1])]
    total = sum(d * (i % 6 + 2) for i, d in enumerate(digits))
    return int(v) > 0 and (11 - total % 11) % 11 == int(v[-1])


def _luhn9(v: str) -> bool:
    total = 0
    for pos, c in enumerate(reversed(v[:9]), start=1):
        d = int(c) * 2 if pos % 2 == 1 else int(c)
        total += d % 10 + d // 10
    return (10 - total % 10) % 10 == int(v[9])


def _abn(v: str) -> bool:
    weights = (10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19)
    return sum((int(c) - (1 if i == 0 else 0)) * w for i, (c, w) in enumerate(zip(v, weights))) % 89 == 0


# the schemes whose identifiers a fatal Peppol rule checks (PEPPOL-COMMON-R040..R050, BIS Billing 3.0):
# scheme -> (rule, what the identifier is, its test)
PEPPOL_ID_RULES = MappingProxyType({
    "0088": ("PEPPOL-COMMON-R040", "a GLN (digits, GS1 check digit last)",
             lambda v: re.fullmatch(r"[0-9]+", v) is not None and _gln(v)),
    "0192": ("PEPPOL-COMMON-R041", "a Norwegian organisation number (9 digits, mod 11)",
             lambda v: re.fullmatch(r"[0-9]{9}", v) is not None and _mod11(v)),
    "0184": ("PEPPOL-COMMON-R042", "a Danish CVR number (8 digits, or DK and 8 digits)",
             lambda v: re.fullmatch(r"(DK)?[0-9]{8}", v) is not None),
    "0208": ("PEPPOL-COMMON-R043", "a Belgian enterprise number (10 digits, mod 97)",
             lambda v: re.fullmatch(r"[0-9]{10}", v) is not None and 97 - int(v[:8]) % 97 == int(v[8:])),
    "0007": ("PEPPOL-COMMON-R049", "a Swedish organisation number (10 digits, Luhn)",
             lambda v: re.fullmatch(r"[0-9]{10}", v) is not None and _luhn9(v)),
    "0151": ("PEPPOL-COMMON-R050", "an Australian Business Number (11 digits)",
             lambda v: re.fullmatch(r"[0-9]{11}", v) is not None and _abn(v)),
})


def peppol_id_problem(scheme: str, ident: str) -> str | None:
    """Why a fatal Peppol rule rejects this identifier of its scheme, or None."""
    rule = PEPPOL_ID_RULES.get(scheme)
    if rule is None or rule[2](ident.strip()):
        return None
    return f"{rule[1]}, as rule {rule[0]} requires"


def split_id(text: str) -> tuple[str, str]:
    """(scheme, identifier) of a `SCHEME:ID` participant id."""
    scheme, _, ident = text.partition(":")
    return scheme, ident


def _field(fields: tuple[tuple[str, str], ...], name: str) -> str | None:
    return next((value for key, value in fields if key == name and value), None)


def buyer_reference(invoice: m.Invoice, client: m.Client | None) -> str | None:
    """BT-10: the invoice's own buyer-reference, else the client's (a `field buyer-reference` too)."""
    return (invoice.buyer_reference or _field(invoice.fields, "buyer-reference")
            or (client.buyer_reference or _field(client.fields, "buyer-reference") if client else None))


def order_reference(ledger: m.Ledger, invoice: m.Invoice) -> str | None:
    """BT-13: the invoice's PO, else the first PO of the SOWs it bills (all the client's when none is named)."""
    if invoice.po:
        return invoice.po
    if invoice.sows is None:
        refs = [s.ref for s in ledger.sows.values() if s.client == invoice.client]
    else:
        refs = [r if "/" in r else f"{invoice.client}/{r}" for r in invoice.sows]
    for ref in refs:
        sow = ledger.sows.get(ref)
        if sow is not None and sow.po:
            return sow.po
    return None


def peppol_ready(company: m.Company | None, client: m.Client | None, reference: str | None) -> bool:
    """Peppol BIS Billing 3.0 is declared only when both parties have Peppol ids and BT-10 or BT-13 is
    present (PEPPOL-EN16931-R003, R010, R020)."""
    return bool(company and company.peppol and client and client.peppol and reference)


# TNumerKSeF of the FA(3) schema: the seller's NIP, the date, a hexadecimal id and a check sum
KSEF_NUMBER = re.compile(r"([1-9]((\d[1-9])|([1-9]\d))\d{7}|M\d{9}|[A-Z]{3}\d{7})-(20[2-9][0-9]|2[1-9][0-9]{2}"
                         r"|[3-9][0-9]{3})(0[1-9]|1[0-2])(0[1-9]|[1-2][0-9]|3[0-1])-([0-9A-F]{6})-?([0-9A-F]{6})"
                         r"-([0-9A-F]{2})")
def german_domestic_gap(seller_country: str | None, buyer_country: str | None, phone: str | None,
                        email: str | None, codes) -> str | None:
    """What a German seller's Peppol invoice to a German buyer lacks under the national rules Peppol
    runs for it (DE-R-005..007: the seller's contact with phone and e-mail; DE-R-014: a VAT rate on
    every category, which 'not subject to VAT' may not have, BR-O-05), or None."""
    if seller_country != "DE" or buyer_country != "DE":
        return None
    if not (phone and email):
        return "a phone and an email (DE-R-006, DE-R-007)"
    if "O" in codes:
        return "a VAT rate on every line: 'no tax' lines cannot be (DE-R-014)"
    return None


_NIP_WEIGHTS = (6, 5, 7, 2, 3, 4, 5, 6, 7)


def nip(tax_id: str | None) -> str | None:
    """The 10-digit Polish NIP of a tax id ('PL526-000-12-46', '5260001246'), or None if it is not one."""
    text = re.sub(r"[\s-]", "", tax_id or "").upper()
    text = text.removeprefix("PL")
    if not re.fullmatch(r"\d{10}", text):
        return None
    check = sum(int(d) * w for d, w in zip(text, _NIP_WEIGHTS)) % 11
    return text if check == int(text[9]) else None


def paid_in_advance(rec: Receivables | None, doc: InvoiceDoc) -> Decimal:
    """BT-113: what payments (and client credit from earlier payments) dated on or before the invoice
    date settled of it -- the `paid` of `textbill invoices --as-of` the invoice date."""
    state = rec.invoices.get(doc.number) if rec is not None else None
    return advance_of(state) if state is not None else ZERO


def advance_of(state: InvoiceState) -> Decimal:
    """paid_in_advance of one invoice's settlement state (of a replay as of its date or later)."""
    day = state.doc.date
    return sum((a.amount for a in state.allocations if a.kind in ("payment", "credit") and a.date <= day), ZERO)
