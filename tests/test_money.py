"""ISO 4217 data kept in core/currencies.py, held equal to the iso4217 package's table."""
from __future__ import annotations

from decimal import Decimal

import iso4217

from textbill.core.currencies import CODES, MINOR_UNITS
from textbill.core.money import is_known_currency, minor_units, round_money


def test_the_kept_table_is_the_iso4217_packages():
    package = {c.value: (2 if c.exponent is None else int(c.exponent)) for c in iso4217.Currency}
    assert set(package) == CODES
    assert {code: minor_units(code) for code in CODES} == package
    assert all(digits != 2 for digits in MINOR_UNITS.values())


def test_minor_units_round_half_away_from_zero():
    assert round_money(Decimal("2.675"), "USD") == Decimal("2.68")
    assert round_money(Decimal("-2.675"), "USD") == Decimal("-2.68")
    assert round_money(Decimal("1234.5"), "JPY") == Decimal(1235)
    assert round_money(Decimal("1.2345"), "KWD") == Decimal("1.235")
    assert round_money(Decimal("1.005"), "XAU") == Decimal("1.01")  # no minor unit in ISO 4217: 2
    assert is_known_currency("pln") and not is_known_currency("ABC")
