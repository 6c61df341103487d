"""Calendar arithmetic for terms, retainer periods, schedules and installments.

Dates end at 9999-12-31: arithmetic that would pass either end of the calendar holds at
date.max (date.min) instead of raising, and callers that must tell (a due date) ask
add_days, which says so by returning None."""
from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import date, timedelta
from types import MappingProxyType

MONTHS: Mapping[str, int] = MappingProxyType({"monthly": 1, "quarterly": 3, "yearly": 12})
DAYS: Mapping[str, int] = MappingProxyType({"weekly": 7, "biweekly": 14})


def add_days(day: date, days: int) -> date | None:
    """day + days, or None past either end of the calendar (9999-12-31 + 30 days)."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return None


def plus_days(day: date, days: int) -> date:
    """day + days, held at date.max (date.min) past the end of the calendar."""
    found = add_days(day, days)
    return found if found is not None else (date.max if days > 0 else date.min)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (Jan 31 + 1 = Feb 28), and held
    within the calendar."""
    idx = day.year * 12 + (day.month - 1) + months
    year, month = divmod(idx, 12)
    month += 1
    if year > date.max.year:
        return date.max
    if year < date.min.year:
        return date.min
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_end(day: date) -> date:
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def step(anchor: date, unit: str, k: int, every: int = 1) -> date:
    """The k-th date after anchor in a series of `unit` (monthly, weekly, days...)."""
    if unit in MONTHS:
        return add_months(anchor, MONTHS[unit] * k)
    if unit in DAYS:
        return plus_days(anchor, DAYS[unit] * k)
    return plus_days(anchor, every * k)


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
    previous = None
    while True:
        day = step(anchor, unit, k)
        if day > last or day == previous:  # past `last`, or held at the end of the calendar
            return
        if day >= first:
            yield day
        previous = day
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
        return start.strftime("%B %Y") if start.day == 1 else f"{start} .. {_last_day(start, 1)}"
    if unit == "quarterly":
        if start.day == 1 and start.month in (1, 4, 7, 10):
            return f"Q{(start.month - 1) // 3 + 1} {start.year}"
        return f"{start} .. {_last_day(start, 3)}"
    if unit == "yearly":
        return str(start.year) if (start.month, start.day) == (1, 1) else f"{start} .. {_last_day(start, 12)}"
    return str(start)


def _last_day(start: date, months: int) -> date:
    """The day before the same day `months` later: the last day of a period starting at start."""
    following = add_months(start, months)
    return date.max if following == date.max else following - timedelta(days=1)


def period_end(start: date, unit: str) -> date:
    return _last_day(start, MONTHS[unit])
