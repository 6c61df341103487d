"""Who did the work and at what rate (docs/language.md, "person", "accepted").

A time entry's hourly rate is its person's role rate in the SOW, else the SOW's
default (`hourly`) rate; an entry without `by` is the company's own time and
takes the default rate.  One function says which rate applies and why, so the
invoice, the cap and `explain` never disagree.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from textbill.core import model as m


@dataclass(frozen=True, slots=True)
class RateChoice:
    """The rate of one time entry and the reason for it."""

    rate: Decimal  # per hour, in the SOW's pricing currency
    source: str  # role | default | no-role | unknown-person | no-person
    person: m.Person | None = None
    role: str | None = None

    def reason(self) -> str:
        """Why this rate, in plain words (for `explain`)."""
        who = self.person.name if self.person else None
        if self.source == "role":
            return f"{who} is {self.role}; the SOW's rate for {self.role}"
        if self.source == "default":
            return f"{who} is {self.role}, a role this SOW sets no rate for: the SOW's default rate"
        if self.source == "no-role":
            return f"{who} has no role: the SOW's default rate"
        if self.source == "unknown-person":
            return "an unknown person: the SOW's default rate"
        return "no 'by': the company's own time at the SOW's default rate"


def entry_rate(ledger: m.Ledger, sow: m.Sow, entry: m.TimeEntry) -> RateChoice:
    """The hourly rate of a time entry on an hourly SOW (its person's role rate, else the default)."""
    assert sow.pricing is not None
    default = sow.pricing.amount.value
    if entry.person is None:
        return RateChoice(default, "no-person")
    person = ledger.people.get(entry.person)
    if person is None:
        return RateChoice(default, "unknown-person")
    if person.role is None:
        return RateChoice(default, "no-role", person)
    found = sow.rate_of(person.role) if sow.rates else None
    if found is None:
        return RateChoice(default, "default", person, person.role)
    return RateChoice(found.amount.value, "role", person, person.role)
