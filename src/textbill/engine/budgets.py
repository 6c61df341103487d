"""SOW fees and budgets: what a fixed or value SOW is worth, and how much of a cap is used."""
from __future__ import annotations

from decimal import Decimal

from textbill.core import model as m
from textbill.core.money import ZERO, round_money


def sow_fee(sow: m.Sow, currency: str | None = None) -> Decimal | None:
    """The fee of a fixed SOW, or of a value SOW (PCT x AMOUNT, rounded to the minor
    unit of the price's currency, else of `currency`, the client's)."""
    p = sow.pricing
    if p is None or p.kind not in ("fixed", "value"):
        return None
    if p.kind == "fixed":
        return p.amount.value
    fee = p.amount.value * (p.percent or ZERO) / 100
    return round_money(fee, p.amount.currency or currency or "USD")
