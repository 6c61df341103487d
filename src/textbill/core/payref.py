"""Payment references: the ISO 11649 RF creditor reference of an invoice, and the normal forms
that bank reconciliation compares (invoice numbers, IBANs, party names).

An invoice's RF reference is derived from its number alone, so it never changes once the
invoice is issued: the number's letters and digits, upper-cased (INV-2026-0002 -> INV20260002),
after "RF" and the two ISO 11649 check digits (INV-2026-0002 -> RF86INV20260002, the check
digits as python-stdnum's mod 97-10 computes them).  ISO 11649 allows at most 21 characters after the check digits; a number with more
letters and digits than that, or with none, has no RF reference (warning W264).
"""
from __future__ import annotations

import re
import unicodedata

from stdnum import iso11649
from stdnum.iso7064 import mod_97_10

RF_MAX_BODY = 21
_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]+")
_LEGAL_DOTS = re.compile(r"[\W_]+", re.UNICODE)


def compact_number(number: str) -> str:
    """An invoice number without case or separators: 'inv 2026 0002' and 'INV-2026-0002' agree."""
    return _NOT_ALNUM.sub("", number).upper()


def rf_reference(number: str) -> str | None:
    """The ISO 11649 creditor reference of an invoice number (unspaced, like RF86INV20260002),
    or None when the number has no letters and digits or more than 21 of them."""
    body = compact_number(number)
    if not body or len(body) > RF_MAX_BODY:
        return None
    return "RF" + mod_97_10.calc_check_digits(body + "RF") + body


def invoice_rf(company, number: str) -> str | None:
    """The RF reference an invoice carries: with the company's `reference rf`, else None."""
    return rf_reference(number) if company is not None and company.reference == "rf" else None


def print_rf(reference: str) -> str:
    """An RF reference in groups of four, as printed on a payment slip (RF86 INV2 0260 002)."""
    return iso11649.format(reference)


def compact_iban(iban: str) -> str:
    """An IBAN without spaces, upper-cased: the form two IBANs are compared in."""
    return re.sub(r"\s+", "", iban).upper()


def compact_name(name: str) -> str:
    """A party name without case, punctuation, spacing or accents: 'Initech, L.L.C.' -> 'initechllc'."""
    folded = unicodedata.normalize("NFKD", name.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _LEGAL_DOTS.sub("", folded)
