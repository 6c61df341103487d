"""Invoice computation: lines, tax groups, totals, due dates (docs/language.md, "How an invoice is computed", "Currencies")."""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import MutableMapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal, localcontext
from operator import itemgetter
from typing import Protocol

from textbill.core import model as m
from textbill.core.books import (
    AdjustmentPart,
    AdjustmentReason,
    Books,
    CompanyTax,
    CreditDoc,
    InvoiceDoc,
    Line,
    SowUsage,
    TaxGroup,
)
from textbill.core.diagnostics import Diagnostic, error, warning
from textbill.core.frozen import builder, gc_paused
from textbill.core.money import CONTEXT, ZERO, round_money
from textbill.core.numbering import Pattern, numbering_patterns
from textbill.core.periods import (
    add_days,
    calendar_anchor,
    month_end,
    period_end,
    period_label,
    period_starts,
)
from textbill.engine.budgets import sow_fee
from textbill.engine.fx import Rates
from textbill.engine.teams import RateChoice, entry_rate

_EPOCH = date(1970, 1, 1)


_LINE = builder(Line)  # Line(...) with every field given, without __init__'s per-field setattr


class BilledItems(MutableMapping):
    """Item key -> invoice number, as a dict; keys ("time"|"expense"|"done", id) are kept as the id
    alone in a table per kind, which saves a tuple per billed entry (a million, in a large ledger)."""

    __slots__ = ("_kinds", "_other")
    BY_ID = ("time", "expense", "done")  # the kinds whose table is by the item's id alone

    def __init__(self) -> None:
        self._kinds: dict[str, dict] = {kind: {} for kind in self.BY_ID}
        self._other: dict = {}

    def table(self, kind: str) -> dict:
        """The table of a kind's claims: by id for "time", "expense" and "done", else by whole key."""
        return self._kinds.get(kind, self._other)

    def claim_all(self, keys, number: str) -> None:
        """self[key] = number for every key (a recalled invoice's claims), without the mapping's
        per-key dispatch."""
        kinds, other = self._kinds, self._other
        for key in keys:
            table = kinds.get(key[0]) if type(key) is tuple and len(key) == 2 else None
            if table is None:
                other[key] = number
            else:
                table[key[1]] = number

    def _table(self, key):
        if type(key) is tuple and len(key) == 2:
            table = self._kinds.get(key[0])
            if table is not None:
                return table, key[1]
        return self._other, key

    def __getitem__(self, key):
        table, k = self._table(key)
        return table[k]

    def get(self, key, default=None):
        if type(key) is tuple and len(key) == 2:
            table = self._kinds.get(key[0])
            if table is not None:
                return table.get(key[1], default)
        return self._other.get(key, default)

    def __contains__(self, key) -> bool:
        if type(key) is tuple and len(key) == 2:
            table = self._kinds.get(key[0])
            if table is not None:
                return key[1] in table
        return key in self._other

    def __setitem__(self, key, value) -> None:
        table, k = self._table(key)
        table[k] = value

    def __delitem__(self, key) -> None:
        table, k = self._table(key)
        del table[k]

    def __iter__(self):
        for kind, table in self._kinds.items():
            for k in table:
                yield (kind, k)
        yield from self._other

    def __len__(self) -> int:
        return len(self._other) + sum(len(t) for t in self._kinds.values())

    def __repr__(self) -> str:
        return repr(dict(self.items()))


def due_date(day: date, terms: m.Terms) -> date | None:
    """The due date of an invoice of `day` on `terms`; None when it would be after 9999-12-31."""
    if terms.kind == "due-on-receipt":
        return day
    if terms.kind == "eom":
        return add_days(month_end(day), terms.days)
    return add_days(day, terms.days)


def round_up(minutes: Decimal, increment: Decimal) -> Decimal:
    """Minutes rounded up to a whole number of increments."""
    if increment <= 0:
        return minutes
    units = (minutes / increment).to_integral_value(rounding=ROUND_CEILING)
    return units * increment


def fmt_hours(minutes: Decimal) -> str:
    return f"{(minutes / 60).quantize(Decimal('0.01'))}h"


class _Index:
    """Billable entries per SOW, in date then source order."""

    def __init__(self, ledger: m.Ledger):
        self.times = defaultdict(list)
        self.expenses = defaultdict(list)
        self.dones = defaultdict(list)
        for t in ledger.times:
            if t.billable:
                self.times[t.sow].append(t)
        for e in ledger.expenses:
            if e.billable:
                self.expenses[e.sow].append(e)
        for d in ledger.dones:
            self.dones[d.sow].append(d)
        for table in (self.times, self.expenses, self.dones):
            for entries in table.values():
                entries.sort(key=lambda e: e.date)
        self._days: dict[tuple[int, str], list[date]] = {}

    def _dated(self, table: dict, ref: str) -> tuple[list, list[date]]:
        """The entries of table[ref] in order and their days (the days listed once per table and SOW)."""
        entries = table.get(ref)
        if not entries:
            return [], []
        key = (id(table), ref)
        days = self._days.get(key)
        if days is None:
            days = self._days[key] = [e.date for e in entries]
        return entries, days

    def between(self, table: dict, ref: str, period: m.Period) -> list:
        """The entries of table[ref] dated inside period, in order (a slice: no scan of the rest)."""
        entries, days = self._dated(table, ref)
        return entries[bisect_left(days, period.start):bisect_right(days, period.end)]

    def before(self, table: dict, ref: str, day: date) -> list:
        """The entries of table[ref] dated before day, in order."""
        entries, days = self._dated(table, ref)
        return entries[:bisect_left(days, day)]


def issue_order(ledger: m.Ledger) -> list[m.Invoice]:
    """Invoices in the order they were issued: date, then sequence number, then source order."""
    pattern = numbering_patterns(ledger).get("invoice")

    def seq(inv: m.Invoice) -> int:
        if isinstance(pattern, Pattern):
            parts = pattern.parse(inv.number)
            if parts:
                return parts["seq"]
        return 0

    indexed = list(enumerate(ledger.invoices))
    indexed.sort(key=lambda it: (it[1].date, seq(it[1]), it[0]))
    return [inv for _, inv in indexed]


@dataclass(frozen=True)
class InvoiceInputs:
    """What one invoice's document depends on besides the shared state (see SharedState)."""

    number: str
    objects: tuple  # (invoice, client, *SOWs, *people): ledger nodes, the same objects while a file is unchanged
    values: tuple  # (the previous period end of the client, the currency)


@dataclass(frozen=True)
class InvoiceOutcome:
    """What computing one invoice gave, besides the items it claimed and the periods it set."""

    doc: InvoiceDoc
    diags: tuple[Diagnostic, ...]
    missing_fx: frozenset


@dataclass(frozen=True)
class Reads:
    """What computing one invoice read of the state shared between invoices, in order.

    slices: (index table name, SOW ref, period, the entries found) for every entries_between()
    the invoice made; probes: (item key, its owner before this invoice) for every billable item it
    tried to take.  Filled while the invoice is computed, and only when a memo is given."""

    slices: list = field(default_factory=list)
    probes: list = field(default_factory=list)


class SharedState(Protocol):
    """The state shared between the invoices of one compute_books run, as a memo may read it."""

    @property
    def billed(self) -> BilledItems: ...

    def entries_between(self, table: str, ref: str, period: m.Period) -> list: ...


class InvoiceMemo(Protocol):
    """Documents of earlier compute_books runs, offered again (watch mode).  When a document may
    be used again is the memo's policy: incremental/books_memo.py holds the one textbill uses.

    compute_books calls begin(ledger) first and end() last, and recall() for each invoice: either
    (the outcome of an earlier run, the item keys the invoice claims), which compute_books applies
    as computing the invoice would (claims, latest periods, diagnostics), or None: the invoice is
    then computed with its Reads recorded, and keep() gets its inputs, reads and outcome."""

    def begin(self, ledger: m.Ledger) -> None: ...

    def recall(self, inputs: InvoiceInputs, state: SharedState) -> tuple[InvoiceOutcome, list] | None: ...

    def keep(self, inputs: InvoiceInputs, reads: Reads, outcome: InvoiceOutcome) -> None: ...

    def end(self) -> None: ...


class _Computer:
    def __init__(self, ledger: m.Ledger):
        self.ledger = ledger
        self.rates = Rates(ledger.fxs)
        self.index = _Index(ledger)
        self.diags: list[Diagnostic] = []
        self.billed: BilledItems = BilledItems()  # item key -> invoice number
        self.latest_start: dict[str, date] = {}  # sow ref -> start of its latest invoice period
        self.company_currency = ledger.company.currency if ledger.company else "USD"
        self.missing_fx: set[tuple] = set()
        self._refs: dict[str, dict[str, str]] = {}
        self._hourly: dict[tuple, tuple] = {}  # keeps the keyed objects alive, so their ids stay theirs
        self._client_sows: dict[str, tuple[str, ...]] | None = None
        # while an invoice is computed for a memo: what it reads of the shared state (Reads)
        self._slices: list | None = None
        self._probes: list | None = None

    # ------------------------------------------------------------------ helpers
    def convert(self, value: Decimal, source: str, target: str, day: date, inv: m.Invoice, what: str):
        """value x rate, unrounded; None (and one error) when no rate exists."""
        if source == target:
            return value, None
        found = self.rates.lookup(source, target, day)
        if found is None:
            key = (inv.number, source, target)
            if key not in self.missing_fx:
                self.missing_fx.add(key)
                self.diags.append(error(
                    inv.span, "E150", f"invoice '{inv.number}' is in {target} but {what} is in {source}, "
                    f"and there is no fx rate {source}/{target} on or before {day}",
                    f"add a rate, e.g.: {day} fx {source} {target} RATE", focus=inv.number))
            return None, None
        rate, fx = found
        return value * rate, (rate, fx)

    # ------------------------------------------------------------------ one invoice, remembered
    def compute_remembered(self, inv: m.Invoice, prev_end: date | None, memo: InvoiceMemo, finish) -> InvoiceDoc:
        """compute(inv, prev_end), then finish(doc): the document of an earlier run when the memo
        recalls one, with its effects on this computer (billed items, latest periods, diagnostics)
        made again as computing it would; else computed, with what it read handed to the memo."""
        chosen = self.sows_of(inv)
        ledger = self.ledger
        # the people too: a time line's rate and name follow its person's role
        inputs = InvoiceInputs(inv.number, (inv, ledger.clients.get(inv.client), *chosen[1],
                                            *ledger.people.values()),
                               (prev_end, ledger.client_currency(inv.client)))
        recalled = memo.recall(inputs, self)
        if recalled is not None:
            outcome, claims = recalled
            self.billed.claim_all(claims, inv.number)
            doc = outcome.doc
            for ref in doc.sows:
                self.latest_start[ref] = max(self.latest_start.get(ref, date.min), doc.period.start)
            self.missing_fx.update(outcome.missing_fx)
            self.diags.extend(outcome.diags)
            return doc
        reads = Reads()
        self._slices, self._probes = reads.slices, reads.probes
        first, missing = len(self.diags), set(self.missing_fx)
        try:
            doc = finish(self.compute(inv, prev_end, chosen))
        finally:
            self._slices = self._probes = None
        memo.keep(inputs, reads, InvoiceOutcome(doc, tuple(self.diags[first:]), frozenset(self.missing_fx - missing)))
        return doc

    def entries_between(self, table: str, ref: str, period: m.Period) -> list:
        """The entries of an index table ("times", "expenses", "dones") of a SOW inside a period."""
        return self.index.between(getattr(self.index, table), ref, period)

    # ------------------------------------------------------------------ one invoice
    def sows_of(self, inv: m.Invoice) -> tuple[tuple[str, ...], tuple[m.Sow, ...]]:
        """The SOWs an invoice bills: the ones it names, else every SOW of its client (ledger order)."""
        ledger = self.ledger
        if inv.sows is not None:
            refs = tuple(s if "/" in s else f"{inv.client}/{s}" for s in inv.sows)
            refs = tuple(r for r in refs if r in ledger.sows)
        else:
            if self._client_sows is None:
                per: dict[str, list[str]] = defaultdict(list)
                for s in ledger.sows.values():
                    per[s.client].append(s.ref)
                self._client_sows = {c: tuple(r) for c, r in per.items()}
            refs = self._client_sows.get(inv.client, ())
        return refs, tuple(ledger.sows[r] for r in refs)

    def compute(self, inv: m.Invoice, prev_end: date | None, chosen=None) -> InvoiceDoc:
        ledger = self.ledger
        client = ledger.clients.get(inv.client)
        currency = ledger.client_currency(inv.client)
        refs, sows = chosen or self.sows_of(inv)
        if inv.period is not None:
            period = inv.period
        else:
            if prev_end is not None:
                start = prev_end + timedelta(days=1)
            else:
                starts = [s.period.start for s in sows if s.period]
                start = min(starts) if starts else date.min
            period = m.Period(start, inv.date)

        client_tax = client.tax if client and client.tax else m.NO_TAX
        lines: list[Line] = []
        for sow in sows:
            self.latest_start[sow.ref] = max(self.latest_start.get(sow.ref, date.min), period.start)
            lines.extend(self._sow_lines(inv, sow, period, currency, sow.tax or client_tax))
        item_default = sows[0].tax if len(sows) == 1 and sows[0].tax else client_tax
        for item in inv.items:
            lines.append(self._item_line(inv, item, currency, item.tax or item_default))

        groups = self._groups(inv, client, lines, currency)
        net = sum((g.basis for g in groups), ZERO)
        tax = sum((g.tax_amount for g in groups), ZERO)
        due = inv.due or due_date(inv.date, client.terms if client else m.NET_30)
        if due is None:
            self.diags.append(error(
                inv.span, "E014", f"invoice '{inv.number}' of {inv.date} would be due after 9999-12-31, "
                "the last date textbill can compute", "date it earlier, or give it a 'due' date",
                focus=inv.number))
            due = date.max
        company_tax = None
        if currency != self.company_currency:
            found = self.rates.lookup(currency, self.company_currency, inv.date)
            if found is not None:
                rate, fx = found
                company_tax = CompanyTax(
                    self.company_currency, rate, fx.date if fx else None,
                    round_money(tax * rate, self.company_currency),
                    tuple(round_money(g.tax_amount * rate, self.company_currency) for g in groups))
            elif tax != 0:
                self.diags.append(warning(
                    inv.span, "W152", f"invoice '{inv.number}' is in {currency} with tax; its tax cannot be "
                    f"shown in {self.company_currency} without an fx rate on or before {inv.date}",
                    f"add: {inv.date} fx {currency} {self.company_currency} RATE", focus=inv.number))
        return InvoiceDoc(inv, client, currency, period, refs, due, tuple(lines), tuple(groups),
                          net, tax, net + tax, company_tax,
                          usage=_sow_usage(lines), billed_time=_time_billed(lines))

    def _take(self, table: dict, kind: str, k, number: str, entry_span, conflicts: dict) -> bool:
        """Claim a billable item for invoice `number`; False when an earlier invoice has it.

        table: BilledItems.table(kind); k: the item's key there (an entry's id, or a retainer
        period's whole key, which then starts with its kind)."""
        owner = table.get(k)
        if self._probes is not None:
            self._probes.append(((kind, k) if type(k) is int else k, owner))
        if owner is None:
            table[k] = number
            return True
        if owner != number:
            conflicts.setdefault(owner, []).append(entry_span)
        return False

    def _between(self, table: str, ref: str, period: m.Period) -> list:
        found = self.index.between(getattr(self.index, table), ref, period)
        if self._slices is not None:
            self._slices.append((table, ref, period, found))
        return found

    def _sow_lines(self, inv, sow: m.Sow, period: m.Period, currency: str, tax: m.Tax):
        pricing = sow.pricing
        if pricing is None:
            return []
        ref = self._refs.get(sow.client, {}).get(sow.id)
        if ref is None:
            # one string for every line of the SOW, not one per line (Sow.ref makes a new one)
            ref = self._refs.setdefault(sow.client, {})[sow.id] = sow.ref
        price_ccy = pricing.amount.currency or currency
        out: list[Line] = []
        conflicts: dict[str, list] = {}

        if pricing.kind == "retainer":
            unit = pricing.frequency or "monthly"
            anchor = sow.period.start if sow.period else calendar_anchor(unit, _EPOCH)
            first = max(period.start, sow.period.start) if sow.period else period.start
            last = min(period.end, sow.period.end) if sow.period else period.end
            for start in period_starts(anchor, unit, first, last):
                if not self._take(self.billed.table("retainer"), "retainer", ("retainer", ref, start), inv.number,
                                  sow.span, conflicts):
                    continue
                value, conv = self.convert(pricing.amount.value, price_ccy, currency, inv.date, inv,
                                           f"the retainer of SOW '{ref}'")
                amount = round_money(value, currency) if value is not None else ZERO
                out.append(Line("retainer", f"{sow.title} — retainer {period_label(start, unit)}",
                                Decimal(1), value if value is not None else ZERO, amount, tax, start, ref,
                                source=sow.span,
                                detail={"retainer": pricing.amount.value, "currency": price_ccy,
                                        "period": f"{start} .. {period_end(start, unit)}", "fx": conv}))

        if pricing.kind in ("fixed", "value"):
            shares = milestone_shares(sow, currency)
            claims = self.billed.table("done")
            for dn in self._between("dones", ref, period):
                if dn.milestone not in shares:
                    continue
                if not self._take(claims, "done", id(dn), inv.number, dn.span, conflicts):
                    continue
                share, how = shares[dn.milestone]
                value, conv = self.convert(share, price_ccy, currency, inv.date, inv,
                                           f"the fee of SOW '{ref}'")
                amount = round_money(value, currency) if value is not None else ZERO
                out.append(Line("milestone", f"{sow.title} — {dn.milestone}", Decimal(1),
                                value if value is not None else ZERO, amount, tax, dn.date, ref,
                                source=dn.span, detail={"share": share, "how": how, "currency": price_ccy,
                                                             "fx": conv}))

        if pricing.kind == "hourly":
            ledger = self.ledger
            claims, number = self.billed.table("time"), inv.number
            for t in self._between("times", ref, period):
                if not self._take(claims, "time", id(t), number, t.span, conflicts):
                    continue
                choice = entry_rate(ledger, sow, t) if t.person is not None else None
                rate = choice.rate if choice is not None else pricing.amount.value
                if price_ccy == currency:
                    # the same duration at the same rate always comes to the same line: computed once
                    # per (duration, increment, rate, person) object, so equal lines also share their numbers
                    key = (id(t.minutes), id(sow.increment), id(rate), currency, t.person)
                    hit = self._hourly.get(key)
                    if hit is None:
                        minutes = round_up(t.minutes, sow.increment)
                        value = minutes * rate / 60
                        detail = {"minutes": t.minutes, "billed_minutes": minutes, "increment": sow.increment,
                                  "rate": rate, "currency": price_ccy, "fx": None, "exact": value}
                        if choice is not None:
                            detail.update(_person_detail(choice))
                        hit = self._hourly[key] = (minutes, value, round_money(value, currency), minutes / 60,
                                                   detail, t.minutes, sow.increment, rate)
                    minutes, value, amount, hours, detail = hit[:5]
                    conv = None
                else:
                    minutes = round_up(t.minutes, sow.increment)
                    value, conv = self.convert(minutes * rate / 60, price_ccy, currency, inv.date, inv,
                                               f"the rate of SOW '{ref}'")
                    amount = round_money(value, currency) if value is not None else ZERO
                    hours = minutes / 60
                    detail = {"minutes": t.minutes, "billed_minutes": minutes, "increment": sow.increment,
                              "rate": rate, "currency": price_ccy, "fx": conv, "exact": value}
                    if choice is not None:
                        detail.update(_person_detail(choice))
                unit_price = rate * conv[0] if conv else rate
                # equal lines share their detail: it is read, never written (explain, e-invoices, lock)
                out.append(_LINE("time", t.description or sow.title, hours, unit_price, amount, tax,
                                 t.date, ref, "h", t.tags, t.span, detail))

        claims = self.billed.table("expense")
        for e in self._between("expenses", ref, period):
            if not self._take(claims, "expense", id(e), inv.number, e.span, conflicts):
                continue
            base = e.amount.value * (1 + (e.markup or ZERO) / 100)
            source_ccy = e.amount.currency or currency
            value, conv = self.convert(base, source_ccy, currency, inv.date, inv, f"expense '{e.description}'")
            amount = round_money(value, currency) if value is not None else ZERO
            out.append(Line("expense", e.description or "Expense", Decimal(1),
                            value if value is not None else ZERO, amount, tax, e.date, ref,
                            tags=e.tags, source=e.span,
                            detail={"amount": e.amount.value, "currency": source_ccy, "markup": e.markup,
                                    "fx": conv, "exact": value}))

        for owner, spans in conflicts.items():
            first = spans[0]
            self.diags.append(error(
                inv.span, "E160",
                f"invoice '{inv.number}' takes {len(spans)} billable item{'s' if len(spans) != 1 else ''} of SOW "
                f"'{ref}' already billed on '{owner}' (first: {first.short})",
                "make the invoice periods not overlap, or name the SOWs each invoice bills",
                focus=inv.number))
        order = {"retainer": 0, "milestone": 1, "time": 2, "expense": 3}
        out.sort(key=lambda ln: (order[ln.kind], ln.date or date.min))
        return out

    def _item_line(self, inv, item: m.Item, currency: str, tax: m.Tax) -> Line:
        source_ccy = item.price.currency or currency
        value, conv = self.convert(item.quantity * item.price.value, source_ccy, currency, inv.date, inv,
                                   f"item '{item.description}'")
        amount = round_money(value, currency) if value is not None else ZERO
        unit_price = item.price.value * conv[0] if conv else item.price.value
        return Line("item", item.description, item.quantity, unit_price, amount, tax, inv.date, None,
                    source=item.span if item.span.line else inv.span,
                    detail={"quantity": item.quantity, "price": item.price.value, "currency": source_ccy,
                            "fx": conv, "exact": value})

    # ------------------------------------------------------------------ tax groups
    def _groups(self, inv: m.Invoice, client, lines: list[Line], currency: str) -> list[TaxGroup]:
        order: list[tuple] = []
        taxes: dict[tuple, m.Tax] = {}
        nets: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
        key_of: dict[int, tuple] = {}  # a tax object's key: the lines of an invoice share a few taxes
        for ln in lines:
            tax = ln.tax
            k = key_of.get(id(tax))
            if k is None:
                k = key_of[id(tax)] = tax.key
                if k not in taxes:
                    order.append(k)
                    taxes[k] = tax
            nets[k] += ln.amount
        for adj in inv.adjustments:
            if adj.tax is not None and adj.tax.key not in taxes:
                order.append(adj.tax.key)
                taxes[adj.tax.key] = adj.tax
                nets[adj.tax.key] += ZERO
        if not order:
            return []

        allow = {k: ZERO for k in order}
        charge = {k: ZERO for k in order}
        parts: dict[tuple, list[AdjustmentPart]] = {k: [] for k in order}

        # percent discounts (the client's standing one included) add up, rounded once per group
        pct_discount = {k: ZERO for k in order}
        pct_charge = {k: ZERO for k in order}
        labels_d: list[str] = []
        labels_c: list[str] = []
        reasons_d: list[AdjustmentReason] = []
        reasons_c: list[AdjustmentReason] = []
        if client is not None and client.discount:
            for k in order:
                pct_discount[k] += client.discount
            labels_d.append(f"standing discount {client.discount.normalize():f}%")
            reasons_d.append(AdjustmentReason(True, "", client.discount))
        for adj in inv.adjustments:
            if adj.percent is None:
                continue
            targets = [adj.tax.key] if adj.tax is not None else order
            table = pct_discount if adj.kind == "discount" else pct_charge
            for k in targets:
                table[k] += adj.percent
            label = f"{adj.reason or adj.kind} {adj.percent.normalize():f}%"
            (labels_d if adj.kind == "discount" else labels_c).append(label)
            reason = AdjustmentReason(False, adj.reason, adj.percent)
            (reasons_d if adj.kind == "discount" else reasons_c).append(reason)
        for k in order:
            if pct_discount[k]:
                a = round_money(nets[k] * pct_discount[k] / 100, currency)
                allow[k] += a
                parts[k].append(AdjustmentPart("discount", "; ".join(labels_d), a,
                                               f"round({nets[k]} x {pct_discount[k].normalize():f}%)",
                                               tuple(reasons_d)))
            if pct_charge[k]:
                c = round_money(nets[k] * pct_charge[k] / 100, currency)
                charge[k] += c
                parts[k].append(AdjustmentPart("charge", "; ".join(labels_c), c,
                                               f"round({nets[k]} x {pct_charge[k].normalize():f}%)",
                                               tuple(reasons_c)))

        # fixed amounts: split over the groups in proportion to net, the remainder on the largest
        for adj in inv.adjustments:
            if adj.amount is None:
                continue
            source_ccy = adj.amount.currency or currency
            value, _ = self.convert(adj.amount.value, source_ccy, currency, inv.date, inv,
                                    f"the {adj.kind} '{adj.reason}'")
            if value is None:
                continue
            total = round_money(value, currency)
            label = adj.reason or adj.kind
            if adj.tax is not None:
                shares = {adj.tax.key: (total, "named tax")}
            else:
                shares = split_proportionally(total, order, nets, currency)
            for k, (share, how) in shares.items():
                if adj.kind == "discount":
                    allow[k] += share
                else:
                    charge[k] += share
                parts[k].append(AdjustmentPart(adj.kind, label, share, how, (AdjustmentReason(reason=adj.reason),)))

        groups = []
        for k in order:
            basis = nets[k] - allow[k] + charge[k]
            rate = taxes[k].percent if taxes[k].kind == "rate" else ZERO
            tax_amount = round_money(basis * rate / 100, currency)
            groups.append(TaxGroup(taxes[k], nets[k], allow[k], charge[k], basis, tax_amount, tuple(parts[k])))
        return groups


def split_proportionally(total: Decimal, order: list, nets: dict, currency: str) -> dict:
    """Split an amount over groups in proportion to their net; the largest takes the remainder."""
    whole = sum((nets[k] for k in order), ZERO)
    largest = max(order, key=lambda k: nets[k])  # first of equals
    if whole == 0:
        return {largest: (total, "all on one group (no net to split by)")}
    shares = {}
    for k in order:
        if k == largest:
            continue
        share = round_money(total * nets[k] / whole, currency)
        shares[k] = (share, f"round({total} x {nets[k]} / {whole})")
    rest = total - sum((s for s, _ in shares.values()), ZERO)
    shares[largest] = (rest, f"{total} minus the other groups' shares (largest group)")
    return {k: shares[k] for k in order if k in shares}


def milestone_shares(sow: m.Sow, client_currency: str | None = None) -> dict[str, tuple[Decimal, str]]:
    """Each milestone's amount; the last takes the remainder so they sum to the fee."""
    currency = (sow.pricing.amount.currency if sow.pricing else None) or client_currency or "USD"
    fee = sow_fee(sow, currency)
    if fee is None:
        return {}
    milestones = sow.milestones or (m.Milestone("complete", Decimal(100)),)

    def rnd(v: Decimal) -> Decimal:
        return round_money(v, currency)

    out: dict[str, tuple[Decimal, str]] = {}
    running = ZERO
    for i, ms in enumerate(milestones):
        if i == len(milestones) - 1:
            share, how = fee - running, f"the remainder of the fee {fee}"
        elif ms.amount is not None:
            share, how = ms.amount.value, "a fixed amount"
        else:
            assert ms.percent is not None  # the grammar gives a milestone an amount or a percent
            share, how = rnd(fee * ms.percent / 100), f"round({fee} x {ms.percent.normalize():f}%)"
        running += share
        out.setdefault(ms.name, (share, how))
    return out


def _sow_usage(lines) -> tuple[SowUsage, ...]:
    """Per SOW billed by the lines (in order of the SOW's first line): the sums budgets read."""
    per: dict[str, list] = {}
    for ln in lines:
        if not ln.sow:
            continue
        u = per.get(ln.sow)
        if u is None:
            u = per[ln.sow] = [ZERO, ZERO, ZERO, 0, 0]
        u[1] += ln.amount
        if ln.kind == "time":
            u[0] += ln.quantity
        elif ln.kind == "milestone":
            u[2] += ln.amount
            u[3] += 1
        elif ln.kind == "retainer":
            u[4] += 1
    return tuple(SowUsage(ref, *u) for ref, u in per.items())


def _time_billed(lines) -> tuple:
    """The amounts of the time lines per day and person (in order of first line), flattened
    (InvoiceDoc.time_amounts): what the team report reads of an invoice."""
    per: dict[tuple, Decimal] = {}
    for ln in lines:
        if ln.kind == "time" and ln.date is not None:
            key = (ln.date, ln.detail.get("person"))
            per[key] = per.get(key, ZERO) + ln.amount
    return tuple(value for (day, person), amount in per.items() for value in (day, person, amount))


def compute_books(ledger: m.Ledger, memo: InvoiceMemo | None = None) -> Books:
    """Compute every invoice and credit note of the ledger.

    memo: invoices of earlier runs, used again where nothing they depend on changed (watch mode)."""
    with localcontext(CONTEXT), gc_paused():
        comp = _Computer(ledger)
        docs: dict[str, InvoiceDoc] = {}
        prev_end: dict[str, date] = {}
        pattern = numbering_patterns(ledger).get("invoice")

        def numbered(doc: InvoiceDoc) -> InvoiceDoc:
            if isinstance(pattern, Pattern):
                parts = pattern.parse(doc.number)
                if parts:
                    doc = replace(doc, seq=parts["seq"])
            return doc

        if memo is not None:
            memo.begin(ledger)
        for inv in issue_order(ledger):
            if inv.number in docs or inv.client not in ledger.clients:
                continue
            if memo is not None:
                doc = comp.compute_remembered(inv, prev_end.get(inv.client), memo, numbered)
            else:
                doc = numbered(comp.compute(inv, prev_end.get(inv.client)))
            docs[inv.number] = doc
            if doc.total < 0:
                comp.diags.append(error(
                    inv.span, "E156", f"invoice '{inv.number}' totals {doc.total} {doc.currency}: its discounts "
                    "exceed its lines", "money owed to a client is a credit note: issue one instead",
                    focus=inv.number))
            prev_end[inv.client] = max(prev_end.get(inv.client, date.min), doc.period.end)
        if memo is not None:
            memo.end()
        credits = _credit_docs(ledger, docs, comp.diags)
        comp.diags.extend(_unbilled(ledger, comp))
        comp.diags.extend(_caps(ledger, comp))
    return Books(docs, credits, tuple(comp.diags), comp.billed)


def _credit_docs(ledger: m.Ledger, docs: dict[str, InvoiceDoc], diags: list) -> dict[str, CreditDoc]:
    out: dict[str, CreditDoc] = {}
    credited: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for cn in sorted(ledger.credit_notes, key=lambda c: c.date):
        if cn.number in out:
            continue
        doc = docs.get(cn.invoice)
        if doc is None:
            continue
        currency = doc.currency
        if cn.amount is None:
            amount = doc.total - credited[cn.invoice]
        else:
            amount = cn.amount.value
            if cn.amount.currency and cn.amount.currency != currency:
                diags.append(error(cn.span, "E150", f"credit note '{cn.number}' is in {cn.amount.currency}, "
                                   f"but invoice '{doc.number}' is in {currency}",
                                   f"write the amount in {currency}", focus=cn.amount.currency))
                continue
            if amount != round_money(amount, currency):
                diags.append(error(cn.span, "E014", f"credit note amount {amount} has more decimals than "
                                   f"{currency} allows", "round it to the currency's minor unit",
                                   focus=str(cn.amount.value)))
        if cn.date < doc.date:
            diags.append(error(cn.span, "E153", f"credit note '{cn.number}' is dated {cn.date}, before the "
                               f"invoice '{doc.number}' it corrects ({doc.date})", "fix the date",
                               focus=str(cn.date)))
        if credited[cn.invoice] + amount > doc.total:
            left = doc.total - credited[cn.invoice]
            diags.append(error(cn.span, "E152", f"credit note '{cn.number}' of {amount} {currency} is larger than "
                               f"what is left to correct on '{doc.number}' ({left} {currency} of {doc.total})",
                               f"credit at most {left} {currency}", focus=cn.number))
        credited[cn.invoice] += amount
        groups = credit_groups(doc, amount)
        company_tax = None
        if doc.company_tax is not None:
            ct = doc.company_tax
            tax = sum((g.tax_amount for g in groups), ZERO)
            company_tax = CompanyTax(ct.currency, ct.rate, ct.rate_date, round_money(tax * ct.rate, ct.currency),
                                     tuple(round_money(g.tax_amount * ct.rate, ct.currency) for g in groups))
        out[cn.number] = CreditDoc(cn, doc, currency, amount, groups, company_tax)
    return out


def credit_groups(doc: InvoiceDoc, amount: Decimal) -> tuple[TaxGroup, ...]:
    """The credited share of each of the invoice's tax groups (gross split by gross)."""
    if amount == doc.total:
        return doc.groups
    if not doc.groups or doc.total == 0:
        return ()
    currency = doc.currency
    order = list(range(len(doc.groups)))
    gross = {i: g.basis + g.tax_amount for i, g in enumerate(doc.groups)}
    shares = split_proportionally(amount, order, gross, currency)
    out = []
    for i, g in enumerate(doc.groups):
        share = shares.get(i, (ZERO, ""))[0]
        rate = g.tax.percent if g.tax.kind == "rate" else ZERO
        basis = round_money(share * 100 / (100 + rate), currency)
        out.append(TaxGroup(g.tax, basis, ZERO, ZERO, basis, share - basis))
    return tuple(out)


def _person_detail(choice: RateChoice) -> dict:
    """What a time line says of its person: who, which role, and why the rate applies."""
    person = choice.person
    return {"person": person.id if person else None, "person_name": person.name if person else None,
            "role": choice.role, "rate_source": choice.source, "rate_reason": choice.reason()}


def billable_items(ledger: m.Ledger, index: _Index | None = None):
    """(key, date, span, sow ref, description) of every billable item the SOWs produce up to their ends."""
    index = index or _Index(ledger)
    for sow in ledger.sows.values():
        if sow.pricing is None:
            continue
        if sow.pricing.kind == "retainer" and sow.period is not None:
            unit = sow.pricing.frequency or "monthly"
            for start in period_starts(sow.period.start, unit, sow.period.start, sow.period.end):
                yield ("retainer", sow.ref, start), start, sow.span, sow.ref, f"retainer {period_label(start, unit)}"
        for t in index.times.get(sow.ref, ()):
            if sow.pricing.kind == "hourly":
                yield ("time", id(t)), t.date, t.span, sow.ref, "time entry"
        for e in index.expenses.get(sow.ref, ()):
            yield ("expense", id(e)), e.date, e.span, sow.ref, "expense"
        if sow.pricing.kind in ("fixed", "value"):
            for d in index.dones.get(sow.ref, ()):
                yield ("done", id(d)), d.date, d.span, sow.ref, f"milestone '{d.milestone}'"


def _unbilled(ledger: m.Ledger, comp: _Computer):
    """W161 for the items of billable_items dated before the latest invoice period of their SOW and
    on no invoice, in billable_items' order; a SOW never invoiced has none, and of the others only
    the entries before that period are looked at (the index keeps them by date)."""
    index, billed = comp.index, comp.billed
    for sow in ledger.sows.values():
        if sow.pricing is None:
            continue
        ref = sow.ref
        latest = comp.latest_start.get(ref)
        if latest is None:
            continue
        kind = sow.pricing.kind
        if kind == "retainer" and sow.period is not None:
            unit = sow.pricing.frequency or "monthly"
            for start in period_starts(sow.period.start, unit, sow.period.start, sow.period.end):
                if start < latest and ("retainer", ref, start) not in billed:
                    yield _unbilled_warning(sow.span, f"retainer {period_label(start, unit)}", start, ref, latest, ref)
        if kind == "hourly":
            claims = billed.table("time")
            for t in index.before(index.times, ref, latest):
                if id(t) not in claims:
                    yield _unbilled_warning(t.span, "time entry", t.date, ref, latest)
        claims = billed.table("expense")
        for e in index.before(index.expenses, ref, latest):
            if id(e) not in claims:
                yield _unbilled_warning(e.span, "expense", e.date, ref, latest)
        if kind in ("fixed", "value"):
            claims = billed.table("done")
            for d in index.before(index.dones, ref, latest):
                if id(d) not in claims:
                    yield _unbilled_warning(d.span, f"milestone '{d.milestone}'", d.date, ref, latest)


def _unbilled_warning(span, what: str, day: date, ref: str, latest: date, focus: str | None = None) -> Diagnostic:
    return warning(span, "W161", f"unbilled {what} of {day} on SOW '{ref}': it is dated before the latest "
                   f"invoice period ({latest} ..) but on no invoice",
                   "widen an invoice period to take it, or mark the entry nonbillable",
                   focus=focus or str(day))


def _caps(ledger: m.Ledger, comp: _Computer):
    index = comp.index
    for sow in ledger.sows.values():
        if sow.cap is None or sow.pricing is None:
            continue
        if sow.cap.minutes is not None:
            limit, unit = sow.cap.minutes, "h"
        else:
            assert sow.cap.amount is not None  # a cap is hours or an amount
            limit, unit = sow.cap.amount.value, sow.cap.amount.currency or sow.pricing.amount.currency or ""
        if limit <= 0:
            continue
        entries: list[tuple[date, int, m.TimeEntry | m.Expense, Decimal]] = []
        if sow.pricing.kind == "hourly":  # only an hourly SOW's time counts against its cap
            by_amount = sow.cap.minutes is None
            values: dict[int, Decimal] = {}  # by duration object: equal entries count the same
            for t in index.times.get(sow.ref, ()):
                value: Decimal | None
                if t.person is not None and by_amount:
                    # an amount cap counts each entry at its own (role) rate
                    value = round_up(t.minutes, sow.increment) * entry_rate(ledger, sow, t).rate / 60
                else:
                    value = values.get(id(t.minutes))
                    if value is None:
                        minutes = round_up(t.minutes, sow.increment)
                        value = minutes * sow.pricing.amount.value / 60 if by_amount else minutes
                        values[id(t.minutes)] = value
                entries.append((t.date, 0, t, value))
        if sow.cap.minutes is None:
            for e in index.expenses.get(sow.ref, ()):
                entries.append((e.date, 1, e, e.amount.value * (1 + (e.markup or ZERO) / 100)))
        if sow.cap.minutes is None:  # time entries, then expenses: both by date (the index's order)
            entries.sort(key=itemgetter(0, 1))
        total = sum((v for *_, v in entries), ZERO)
        over = total > limit
        if not over and total * 100 < limit * 80:
            continue
        used = ZERO
        for day, _, entry, value in entries:
            used += value
            if (used > limit) if over else (used * 100 >= limit * 80):
                break
        shown_used = fmt_hours(used) if unit == "h" else f"{used:.2f} {unit}"
        shown_cap = fmt_hours(limit) if unit == "h" else f"{limit} {unit}"
        share = (used * 100 / limit).quantize(Decimal(1))
        if over:
            yield error(entry.span, "E163", f"SOW '{sow.ref}' goes over its cap with this entry: "
                        f"{shown_used} of {shown_cap} ({share}%)",
                        "raise the cap with the client's agreement, or mark the work nonbillable",
                        focus=str(day))
        else:
            yield warning(entry.span, "W162", f"SOW '{sow.ref}' has used {shown_used} of its cap "
                          f"{shown_cap} ({share}%) by this entry",
                          "tell the client before the budget runs out", focus=str(day))
