"""Time and money by person and month (`textbill report team`, the dashboard's team section).

Hours are the time entries as tracked (before the SOW increment rounds them);
billable hours are entries not marked nonbillable; `billed` is what invoices
dated on or before the day took for a person's entries (invoice currency).
Utilisation is billable hours / all hours tracked (billable + nonbillable):
textbill keeps no capacity or working calendar, so it says which share of the
tracked time could be billed, not how busy a person was.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from textbill.core import model as m
from textbill.core.books import Books
from textbill.core.money import ZERO, fmt

NOBODY = ""  # entries without `by`: the company's own time


@dataclass
class TeamRow:
    month: str  # YYYY-MM
    person: str  # id, or NOBODY
    name: str
    role: str
    billable_minutes: Decimal = ZERO
    nonbillable_minutes: Decimal = ZERO
    billed: dict[str, Decimal] = field(default_factory=dict)  # currency -> amount

    @property
    def hours(self) -> Decimal:
        return (self.billable_minutes + self.nonbillable_minutes) / 60

    @property
    def utilisation(self) -> Decimal | None:
        """Billable share of the hours tracked, in percent (None without hours)."""
        total = self.billable_minutes + self.nonbillable_minutes
        return self.billable_minutes * 100 / total if total else None


def team_rows(ledger: m.Ledger, books: Books, as_of: date, start: date | None = None,
              end: date | None = None) -> list[TeamRow]:
    """One row per month and person (people in ledger order, the company's own time last)."""
    first = start or date.min
    last = min(as_of, end) if end is not None else as_of
    # summed by (year, month, person) first: one pass over every time entry of the ledger (the
    # dashboard's team page is made again on every build), without a string or a row per entry
    minutes: dict[tuple, list[Decimal]] = {}
    for t in ledger.times:
        day = t.date
        if first <= day <= last:
            key = (day.year, day.month, t.person or NOBODY)
            sums = minutes.get(key)
            if sums is None:
                sums = minutes[key] = [ZERO, ZERO]
            sums[0 if t.billable else 1] += t.minutes
    billed: dict[tuple, dict[str, Decimal]] = {}
    for doc in books.invoices.values():
        if doc.invoice.date > as_of:
            continue
        currency = doc.currency
        for day, person, amount in doc.time_amounts():  # the time lines' amounts per day and person
            if first <= day <= last:
                per = billed.setdefault((day.year, day.month, person or NOBODY), {})
                per[currency] = per.get(currency, ZERO) + amount
    rows = []
    for key in minutes.keys() | billed.keys():
        year, month, pid = key
        p = ledger.people.get(pid)
        row = TeamRow(f"{year:04d}-{month:02d}", pid, p.name if p else (pid or "(company)"),
                      (p.role or "") if p else "")
        if key in minutes:
            row.billable_minutes, row.nonbillable_minutes = minutes[key]
        if key in billed:
            row.billed = dict(sorted(billed[key].items()))
        rows.append(row)
    order = {pid: i for i, pid in enumerate(ledger.people)}
    return sorted(rows, key=lambda r: (r.month, order.get(r.person, len(order)), r.person))


TEAM_COLUMNS = ("month", "person", "name", "role", "billable_hours", "nonbillable_hours", "hours",
                "utilisation", "billed")


def _hours(minutes: Decimal) -> str:
    return str((minutes / 60).quantize(Decimal("0.01")))


def team_doc(r: TeamRow) -> dict:
    """A row as JSON: hours to 2 decimals, utilisation a percent to 1 decimal (null without hours),
    billed amounts as strings per currency."""
    util = r.utilisation
    return {
        "month": r.month, "person": r.person or None, "name": r.name, "role": r.role or None,
        "billable_hours": _hours(r.billable_minutes), "nonbillable_hours": _hours(r.nonbillable_minutes),
        "hours": _hours(r.billable_minutes + r.nonbillable_minutes),
        "utilisation": str(util.quantize(Decimal("0.1"))) if util is not None else None,
        "billed": {c: fmt(v, c) for c, v in r.billed.items()},
    }


def team_flat(r: TeamRow, percent_sign: bool = True) -> dict:
    """A row for a table or CSV: the billed amounts in one cell ("540.00 USD; 80.00 EUR")."""
    doc = team_doc(r)
    doc["person"] = doc["person"] or ""
    doc["role"] = doc["role"] or ""
    if doc["utilisation"] is None:
        doc["utilisation"] = ""
    elif percent_sign:
        doc["utilisation"] += "%"
    doc["billed"] = "; ".join(f"{v} {c}" for c, v in doc["billed"].items())
    return doc
