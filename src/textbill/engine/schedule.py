"""Schedules: the invoices that SOW schedules and retainers call for as of a day.

A SOW's `schedule` (or, for a retainer without one, its frequency) cuts time
into calendar billing periods: weekly and biweekly periods run Monday to
Sunday (biweekly ones counted from the Monday of the SOW's first week),
monthly, quarterly and yearly ones are calendar months, quarters and years.
As of day D a period is *due* when it ended before D, lies after everything
already invoiced for the SOW, and holds billable work not yet on an invoice
(time, expenses, milestones, retainer periods).  `on-completion` is due once
the SOW is complete — every milestone done (fixed and value SOWs), or the
SOW's period over (hourly and retainer SOWs) — and something is unbilled.

Due periods are grouped by client and period into hypothetical invoices
dated D, numbered with the company pattern after the last issued number, and
computed by the real engine (`compute_books` on the ledger with them added).
Nothing here reads a file or the clock, and nothing here validates: whether
the proposals would bring new problems is workflow/drafting.py's question.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, timedelta

from textbill.core import model as m
from textbill.core.books import Books, InvoiceDoc
from textbill.core.diagnostics import Diagnostic, error
from textbill.core.numbering import Pattern, numbering_patterns
from textbill.core.periods import period_end, plus_days
from textbill.engine.invoices import billable_items, compute_books

_BARE = re.compile(r'[^\s;"\\]+')  # a number needing no quotes


@dataclass(frozen=True)
class DuePeriod:
    """One SOW's billing period that is due, and why."""

    sow: str  # client/sow
    period: m.Period
    reason: str


@dataclass(frozen=True)
class Proposal:
    invoice: m.Invoice
    doc: InvoiceDoc
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Draft:
    """What `textbill draft` shows and `textbill issue` writes."""

    as_of: date
    proposals: tuple[Proposal, ...]
    ledger: m.Ledger  # the ledger with the proposed invoices added
    books: Books  # computed on that ledger
    # problems of the proposals: here only numbering ones; workflow/drafting.py adds the
    # errors the changed ledger would have that the original does not
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


def schedule_of(sow: m.Sow) -> str | None:
    """A SOW's billing rhythm: its schedule, else a retainer's frequency, else None (billed by hand)."""
    if sow.schedule:
        return sow.schedule
    if sow.pricing is not None and sow.pricing.kind == "retainer":
        return sow.pricing.frequency or "monthly"
    return None


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def period_around(unit: str, day: date, anchor: date | None = None) -> m.Period:
    """The calendar billing period of `unit` that holds `day`."""
    if unit == "weekly":
        start = _monday(day)
        return m.Period(start, plus_days(start, 6))
    if unit == "biweekly":
        base = _monday(anchor or day)
        k = (day - base).days // 14
        start = plus_days(base, 14 * k)
        return m.Period(start, plus_days(start, 13))
    if unit == "monthly":
        start = date(day.year, day.month, 1)
    elif unit == "quarterly":
        start = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    elif unit == "yearly":
        start = date(day.year, 1, 1)
    else:  # pragma: no cover - guarded by the grammar
        raise ValueError(unit)
    return m.Period(start, period_end(start, unit))


def _milestone_names(sow: m.Sow) -> list[str]:
    return [ms.name for ms in sow.milestones] or ["complete"]


def due_periods(ledger: m.Ledger, books: Books, as_of: date) -> list[DuePeriod]:
    """Every SOW billing period that is due as of a day (see the module docstring)."""
    billed_until: dict[str, date] = {}
    for doc in books.invoices.values():
        for ref in doc.sows:
            billed_until[ref] = max(billed_until.get(ref, date.min), doc.period.end)
    unbilled: dict[str, list[date]] = defaultdict(list)
    first_item: dict[str, date] = {}  # a stable anchor for biweekly periods of SOWs without a period
    for key, day, _span, ref, _what in billable_items(ledger):
        first_item[ref] = min(first_item.get(ref, day), day)
        if key not in books.billed:
            unbilled[ref].append(day)

    out: list[DuePeriod] = []
    for sow in ledger.sows.values():
        unit = schedule_of(sow)
        if unit is None or sow.pricing is None or sow.client not in ledger.clients:
            continue
        after = billed_until.get(sow.ref)
        days = sorted(d for d in unbilled.get(sow.ref, ()) if (after is None or d > after) and d < as_of)
        if not days:
            continue
        if unit == "on-completion":
            found = _completion(ledger, sow, after, days, as_of)
            if found:
                out.append(found)
            continue
        anchor = sow.period.start if sow.period else first_item.get(sow.ref, days[0])
        periods: dict[date, m.Period] = {}
        for day in days:
            p = period_around(unit, day, anchor)
            if p.end >= as_of:
                continue
            start = max(p.start, plus_days(after, 1)) if after else p.start
            periods.setdefault(start, m.Period(start, p.end))
        for p in periods.values():
            out.append(DuePeriod(sow.ref, p, f"{unit} schedule: the period {p} is over and has unbilled work"))
    return out


def _completion(ledger: m.Ledger, sow: m.Sow, after: date | None, days: list[date],
                as_of: date) -> DuePeriod | None:
    start = plus_days(after, 1) if after else (sow.period.start if sow.period else days[0])
    assert sow.pricing is not None  # due_periods() passes priced SOWs only
    if sow.pricing.kind in ("fixed", "value"):
        done = {d.milestone: d.date for d in ledger.dones if d.sow == sow.ref and d.date < as_of}
        names = _milestone_names(sow)
        if not all(n in done for n in names):
            return None
        end = max(max(done.values()), days[-1])
        return DuePeriod(sow.ref, m.Period(min(start, end), end),
                         "on-completion: every milestone is done")
    if sow.period is None or sow.period.end >= as_of:
        return None
    return DuePeriod(sow.ref, m.Period(start, sow.period.end), f"on-completion: the SOW ended {sow.period.end}")


# ---------------------------------------------------------------------------- numbering

def next_numbers(ledger: m.Ledger, day: date, count: int) -> tuple[list[str], list[Diagnostic]]:
    """The next `count` invoice numbers for invoices dated `day` (gapless, in date order)."""
    pattern = numbering_patterns(ledger).get("invoice")
    if not isinstance(pattern, Pattern):
        return [], [error(ledger.company.span if ledger.company else None, "E143",
                          f"the invoice numbering pattern is invalid: {pattern}",
                          "fix the company's numbering line first")]
    seqs: list[int] = []
    later: list[m.Invoice] = []
    for inv in ledger.invoices:
        parts = pattern.parse(inv.number)
        if parts is None:
            continue
        if pattern.yearly and inv.date.year != day.year:
            continue
        seqs.append(parts["seq"])
        if inv.date > day:
            later.append(inv)
    diags: list[Diagnostic] = []
    if later:
        last = max(later, key=lambda i: i.date)
        diags.append(error(last.span, "E142", f"invoices dated {day} cannot be issued: invoice "
                           f"'{last.number}' is already dated {last.date}, and numbers follow date order",
                           f"use --as-of {last.date} or later", focus=last.number))
    taken = {i.number for i in ledger.invoices} | {c.number for c in ledger.credit_notes}
    numbers: list[str] = []
    seq = max(seqs, default=0)
    while len(numbers) < count:
        seq += 1
        number = pattern.format(day, seq)
        if number not in taken:
            numbers.append(number)
    return numbers, diags


# ---------------------------------------------------------------------------- the draft

def propose_invoices(ledger: m.Ledger, books: Books, as_of: date) -> Draft:
    """The invoices the schedules call for as of a day, computed as if issued on that day; not
    validated (workflow.drafting.draft_invoices adds the problems they would bring)."""
    groups: dict[tuple, list[DuePeriod]] = defaultdict(list)
    for due in due_periods(ledger, books, as_of):
        client = due.sow.split("/", 1)[0]
        groups[(client, due.period.start, due.period.end)].append(due)
    order = sorted(groups)
    sow_order = {ref: i for i, ref in enumerate(ledger.sows)}
    candidates = []
    for key in order:
        client, start, end = key
        dues = sorted(groups[key], key=lambda d: sow_order.get(d.sow, 0))
        sows = tuple(d.sow.split("/", 1)[1] for d in dues)
        candidates.append((client, m.Period(start, end), sows, tuple(d.reason for d in dues)))

    # number, compute, drop invoices that would come out empty, and number again (numbers are gapless)
    while True:
        numbers, num_diags = next_numbers(ledger, as_of, len(candidates))
        invoices = [m.Invoice(as_of, number, client, sows=sows, period=period)
                    for number, (client, period, sows, _) in zip(numbers, candidates)]
        hyp = replace(ledger, invoices=ledger.invoices + tuple(invoices),
                      directives=ledger.directives + tuple(invoices))
        new_books = compute_books(hyp)
        empty = {i for i, inv in enumerate(invoices)
                 if inv.number in new_books.invoices and not new_books.invoices[inv.number].lines}
        if not empty:
            break
        candidates = [c for i, c in enumerate(candidates) if i not in empty]
    proposals = tuple(Proposal(inv, new_books.invoices[inv.number], c[3])
                      for inv, c in zip(invoices, candidates) if inv.number in new_books.invoices)
    return Draft(as_of, proposals, hyp, new_books, tuple(num_diags))


def format_invoice(inv: m.Invoice, reasons: tuple[str, ...] = ()) -> str:
    """The ledger text of a proposed invoice, as `textbill issue` appends it."""
    lines = []
    for r in reasons:
        lines.append(f"; {r}")
    lines.append(f"{inv.date} invoice {docno(inv.number)} {inv.client}")
    if inv.sows:
        lines.append("  sow " + " ".join(inv.sows))
    if inv.period:
        lines.append(f"  period {inv.period.start} .. {inv.period.end}")
    return "\n".join(lines) + "\n"


def docno(number: str) -> str:
    """An invoice number as a ledger token: bare when it can be, else a quoted string."""
    if _BARE.fullmatch(number):
        return number
    return '"' + number.replace("\\", "\\\\").replace('"', '\\"') + '"'

