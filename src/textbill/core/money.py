"""Exact money: Decimal amounts, ISO 4217 minor units, and the one place that rounds."""
from __future__ import annotations

import decimal
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType

from textbill.core.currencies import CODES, MINOR_UNITS

# Money arithmetic runs in a local context with ample precision; nothing
# rounds except round_money() below.  Invalid operations raise, so a bug
# never turns into a silent NaN on an invoice.
CONTEXT = decimal.Context(
    prec=60,
    rounding=ROUND_HALF_UP,
    Emin=-999_999,
    Emax=999_999,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)

ZERO = Decimal(0)

# ISO 4217 lists a few funds/metals codes without minor units ("N.A."); these
# are not used for invoicing, so they fall back to 2.
_DEFAULT_MINOR = 2

# Digits after the decimal point per ISO 4217 code, and the quantum round_money() uses: built
# once, as every currency is looked up again for every amount.
_MINOR: Mapping[str, int] = MappingProxyType({code: MINOR_UNITS.get(code, _DEFAULT_MINOR) for code in CODES})
_QUANTUM: Mapping[str, Decimal] = MappingProxyType({
    code: Decimal(1).scaleb(-digits) for code, digits in _MINOR.items()
})
_DEFAULT_QUANTUM = Decimal(1).scaleb(-_DEFAULT_MINOR)


def minor_units(currency: str) -> int:
    """Digits after the decimal point for a currency, from ISO 4217 data."""
    try:  # a code as written first: the common case, without a new string
        return _MINOR[currency]
    except KeyError:
        return _MINOR.get(currency.upper(), _DEFAULT_MINOR)


def is_known_currency(currency: str) -> bool:
    return currency in _MINOR or currency.upper() in _MINOR


def round_money(value: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor unit, half away from zero (ISO 4217)."""
    try:
        quantum = _QUANTUM[currency]
    except KeyError:
        quantum = _QUANTUM.get(currency.upper(), _DEFAULT_QUANTUM)
    return value.quantize(quantum, rounding=ROUND_HALF_UP, context=CONTEXT)


def fmt(value: Decimal, currency: str) -> str:
    """The JSON/CSV form of an amount: a string with the currency's minor digits."""
    return str(round_money(value, currency))


def fmt_grouped(value: Decimal, currency: str) -> str:
    """1234567.5 -> '1,234,567.50' for terminal tables."""
    return f"{round_money(value, currency):,}"


@dataclass(frozen=True, slots=True)
class Amount:
    """An amount as written in the ledger; the currency may be left to context."""

    value: Decimal
    currency: str | None = None

    def __str__(self) -> str:
        return f"{self.value} {self.currency}" if self.currency else str(self.value)


@dataclass(frozen=True, slots=True)
class Money:
    value: Decimal
    currency: str

    def __str__(self) -> str:
        return f"{fmt(self.value, self.currency)} {self.currency}"
