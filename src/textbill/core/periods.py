"""Calendar arithmetic for terms, retainer periods, schedules and installments."""
from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import date, timedelta
from types import MappingProxyType

MONTHS: Mapping[str, int] = MappingProxyType({"monthly": 1, "quarterly": 3, "yearly": 12})
DAYS: Mapping[str, int] = MappingProxyType({"weekly": 7, "biweekly": 14})


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (Jan 31 + 1 = Feb 28)."""
    idx = day.year * 12 + (day.month - 1) + months
    year, month = divmod(idx, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_end(day: date) -> date:
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def step(anchor: date, unit: str, k: int, every: int = 1) -> date:
    """The k-th date after anchor in a series of `unit` (monthly, weekly, days...)."""
    if unit in MONTHS:
        return add_months(anchor, MONTHS[unit] * k)
    if unit in DAYS:
        return anchor + timedelta(days=DAYS[unit] * k)
    return anchor + timedelta(days=every * k)


def period_starts(anchor: date, unit: str, first: date, last: date):
    """Starts of the periods of a series anchored at `anchor` that fall in [first, last]."""
    if last < first:
        return
    k = 0
    if unit in MONTHS:
        span = MONTHS[unit]
        months_between = (first.year - anchor.year) * 12 + first.month - anchor.month
        k = max(0, months_between // span - 1)
    elif unit in DAYS:
        k = max(0, (first - anchor).days // DAYS[unit] - 1)
    while True:
        day = step(anchor, unit, k)
        if day > last:
            return
        if day >= first:
            yield day
        k += 1


def calendar_anchor(unit: str, day: date) -> date:
    """Where calendar-aligned periods start when a SOW gives no start date."""
    if unit == "yearly":
        return date(day.year, 1, 1)
    if unit == "quarterly":
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return date(day.year, day.month, 1)


def period_label(start: date, unit: str) -> str:
    if unit == "monthly":
        return start.strftime("%B %Y") if start.day == 1 else f"{start} .. {add_months(start, 1) - timedelta(days=1)}"
    if unit == "quarterly":
        if start.day == 1 and start.month in (1, 4, 7, 10):
            return f"Q{(start.month - 1) // 3 + 1} {start.year}"
        return f"{start} .. {add_months(start, 3) - timedelta(days=1)}"
    if unit == "yearly":
        return str(start.year) if (start.month, start.day) == (1, 1) else \
            f"{start} .. {add_months(start, 12) - timedelta(days=1)}"
    return str(start)


def period_end(start: date, unit: str) -> date:
    return add_months(start, MONTHS[unit]) - timedelta(days=1)
