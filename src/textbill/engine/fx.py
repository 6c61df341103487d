"""Exchange rates: the latest `fx` rate on or before a day, in either direction."""
from __future__ import annotations

import bisect
from collections import defaultdict
from datetime import date
from decimal import Decimal

from textbill.core import model as m
from textbill.core.money import CONTEXT


class Rates:
    def __init__(self, fxs: tuple[m.Fx, ...]):
        pairs: dict[tuple[str, str], list[tuple[date, int, m.Fx]]] = defaultdict(list)
        for i, fx in enumerate(fxs):
            pairs[(fx.base, fx.quote)].append((fx.date, i, fx))
        self._pairs = {k: sorted(v, key=lambda t: (t[0], t[1])) for k, v in pairs.items()}
        self._days = {k: [t[0] for t in v] for k, v in self._pairs.items()}

    def _latest(self, base: str, quote: str, day: date) -> m.Fx | None:
        days = self._days.get((base, quote))
        if not days:
            return None
        i = bisect.bisect_right(days, day)
        return self._pairs[(base, quote)][i - 1][2] if i else None

    def lookup(self, source: str, target: str, day: date) -> tuple[Decimal, m.Fx | None] | None:
        """The multiplier from source to target currency as of day, and the fx entry it comes from."""
        if source == target:
            return Decimal(1), None
        direct = self._latest(source, target, day)
        inverse = self._latest(target, source, day)
        if direct is not None and (inverse is None or direct.date >= inverse.date):
            return direct.rate, direct
        if inverse is not None:
            return CONTEXT.divide(Decimal(1), inverse.rate), inverse
        return None
