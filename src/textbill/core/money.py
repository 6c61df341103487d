"""Exact money: Decimal amounts, ISO 4217 minor units, and the one place that rounds."""
from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

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
HUNDRED = Decimal(100)

# ISO 4217 lists a few funds/metals codes without minor units ("N.A."); these
# are not used for invoicing, so they fall back to 2.
_DEFAULT_MINOR = 2


@lru_cache(maxsize=None)
def minor_units(currency: str) -> int:
    """Digits after the decimal point for a currency, from ISO 4217 data."""
    try:
        import iso4217
        exp = iso4217.Currency(currency.upper()).exponent
    except (ValueError, KeyError, ImportError):
        return _DEFAULT_MINOR
    return _DEFAULT_MINOR if exp is None else int(exp)


@lru_cache(maxsize=None)
def is_known_currency(currency: str) -> bool:
    try:
        import iso4217
        iso4217.Currency(currency.upper())
        return True
    except (ValueError, KeyError):
        return False


@lru_cache(maxsize=None)
def _quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def round_money(value: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor unit, half away from zero (ISO 4217)."""
    return value.quantize(_quantum(currency), rounding=ROUND_HALF_UP, context=CONTEXT)


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

    def in_(self, default: str) -> "Money":
        return Money(self.value, self.currency or default)

    def __str__(self) -> str:
        return f"{self.value} {self.currency}" if self.currency else str(self.value)


@dataclass(frozen=True, slots=True)
class Money:
    value: Decimal
    currency: str

    def rounded(self) -> "Money":
        return Money(round_money(self.value, self.currency), self.currency)

    def __str__(self) -> str:
        return f"{fmt(self.value, self.currency)} {self.currency}"
