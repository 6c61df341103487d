"""The dashboard's figures: totals, balances per client, aging, months billed and collected,
SOW budgets, and the sums under the invoice table.

Stage: reports.  Numbers only, from the engine's results (books, receivables, open amounts);
render/dashboard.py formats them and turns them into chart geometry.  Every sum adds amounts
the engine already rounded, and never across currencies.  Figures are computed for the
whole ledger (key None) and for each client (key: the client id).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from textbill.core import model as m
from textbill.core.books import BUCKETS, Books, Due, Event, InvoiceState, Receivables
from textbill.core.money import ZERO, fmt
from textbill.core.periods import period_starts
from textbill.engine.aging import dues
from textbill.engine.budgets import sow_fee
from textbill.engine.invoices import round_up

TABLE_COLUMNS = ("net", "tax", "total", "paid", "credited", "outstanding")


@dataclass(frozen=True)
class Totals:
    """What a currency's invoices came to: billed, collected, credited, outstanding, overdue."""

    currency: str
    billed: Decimal
    collected: Decimal
    credited: Decimal
    outstanding: Decimal
    overdue: Decimal
    open_count: int
    overdue_count: int


@dataclass(frozen=True)
class Balance:
    """A client's outstanding in one currency, its overdue part, and its bar (percent of the
    currency's largest outstanding)."""

    client: str
    currency: str
    outstanding: Decimal
    overdue: Decimal
    invoices: int
    credit: Decimal
    bar_due: float
    bar_over: float


@dataclass(frozen=True)
class Aging:
    """What a currency has outstanding, per bucket (in BUCKETS order), and in all."""

    currency: str
    buckets: dict[str, Decimal]
    total: Decimal


@dataclass(frozen=True)
class Monthly:
    """Billed and collected per month, the last twelve months up to the as-of date."""

    currency: str
    months: tuple[tuple[int, int], ...]
    billed: dict[tuple[int, int], Decimal]
    collected: dict[tuple[int, int], Decimal]
    billed_total: Decimal
    collected_total: Decimal


@dataclass(frozen=True)
class Budget:
    """A SOW's burn: what is used (billed, and hours not invoiced yet) against its limit.

    unit: hours (a cap in hours) | money (a cap in money) | fee (a fixed or value fee) |
    periods (a retainer's periods)."""

    ref: str
    title: str
    client: str
    start: date | None
    end: date | None
    kind: str
    unit: str
    currency: str | None
    billed: Decimal
    unbilled: Decimal  # hours not invoiced yet (unit hours)
    used: Decimal
    limit: Decimal
    unbilled_hours: Decimal  # hours not invoiced yet beside a money cap
    milestones_done: int
    milestones: int
    frequency: str  # a retainer's period
    retainer: Decimal  # a retainer's amount per period
    pct: float
    level: str  # ok | warn | over
    bar_billed: float
    bar_unbilled: float
    cap_at: float


@dataclass(frozen=True)
class TableSums:
    """The invoice table's footer for one currency: the rows' count and column sums."""

    currency: str
    count: int
    sums: dict[str, Decimal]  # TABLE_COLUMNS -> sum


@dataclass(frozen=True)
class DashboardFigures:
    """Every figure of the dashboard; per-client tables are keyed by client id, None for all."""

    as_of: date
    dues: Sequence[Due]
    totals: dict[str | None, tuple[Totals, ...]]
    balances: tuple[Balance, ...]
    aging: dict[str | None, tuple[Aging, ...]]
    monthly: dict[str | None, tuple[Monthly, ...]]
    budgets: tuple[Budget, ...]
    table: dict[str | None, tuple[TableSums, ...]]


def dashboard_figures(ledger: m.Ledger, books: Books, rec: Receivables,
                      open_amounts: Sequence[Due] | None = None,
                      clients: Collection[str] | None = None) -> DashboardFigures:
    """The dashboard's figures at rec.as_of.  open_amounts: aging.dues(rec, company), when the caller
    has them already.  clients: only these clients' own figures (their pages; the whole ledger's,
    keyed None, and the index's balances are then left empty, the budgets are their SOWs')."""
    items = dues(rec, ledger.company) if open_amounts is None else open_amounts
    states_of: dict[str, list[InvoiceState]] = defaultdict(list)
    for state in rec.invoices.values():
        states_of[state.client].append(state)
    dues_of: dict[str, list[Due]] = defaultdict(list)
    for d in items:
        dues_of[d.state.client].append(d)
    events_of: dict[str, list[Event]] = defaultdict(list)
    for e in rec.events:
        events_of[e.client].append(e)
    every_state = list(rec.invoices.values()) if clients is None else []
    totals: dict[str | None, tuple[Totals, ...]] = {None: _totals(every_state, items if clients is None else ())}
    aging: dict[str | None, tuple[Aging, ...]] = {None: _aging(items if clients is None else ())}
    monthly: dict[str | None, tuple[Monthly, ...]] = {None: _monthly(rec.events if clients is None else (), rec.as_of)}
    table: dict[str | None, tuple[TableSums, ...]] = {None: _table(every_state)}
    for cid in ledger.clients if clients is None else [c for c in ledger.clients if c in clients]:
        states, its_dues = states_of.get(cid, []), dues_of.get(cid, [])
        totals[cid] = _totals(states, its_dues)
        aging[cid] = _aging(its_dues)
        monthly[cid] = _monthly(events_of.get(cid, []), rec.as_of)
        table[cid] = _table(states)
    if clients is None:
        return DashboardFigures(rec.as_of, items, totals, _balances(ledger, rec, items), aging, monthly,
                                _budgets(ledger, books, rec), table)
    # the balances are the index's (each client's bar is scaled to the largest), the budgets only
    # those of these clients' SOWs: what their pages show, in the same order
    sows = frozenset(ref for ref, sow in ledger.sows.items() if sow.client in clients)
    return DashboardFigures(rec.as_of, items, totals, (), aging, monthly, _budgets(ledger, books, rec, sows), table)


def _totals(states: Iterable[InvoiceState], items: Iterable[Due]) -> tuple[Totals, ...]:
    per: dict[str, dict] = {}
    for state in states:
        t = per.setdefault(state.currency, defaultdict(lambda: ZERO))
        t["billed"] += state.doc.total
        t["collected"] += state.paid
        t["credited"] += state.credited
        t["outstanding"] += max(state.outstanding, ZERO)
        t["open_count"] += 1 if state.outstanding > 0 else 0
    for d in items:
        if d.days_overdue > 0:
            t = per[d.state.currency]
            t["overdue"] += d.outstanding
            t.setdefault("overdue_invoices", set()).add(d.number)
    return tuple(Totals(c, per[c]["billed"], per[c]["collected"], per[c]["credited"], per[c]["outstanding"],
                        per[c]["overdue"], int(per[c]["open_count"]), len(per[c].get("overdue_invoices", ())))
                 for c in sorted(per))


def _balances(ledger: m.Ledger, rec: Receivables, items: Iterable[Due]) -> tuple[Balance, ...]:
    """Outstanding per client and currency, by currency then largest first (every client shows,
    in its own currency at least)."""
    out_amt: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    over_amt: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for state in rec.invoices.values():
        key = (state.client, state.currency)
        counts[key] += 1
        if state.outstanding > 0:
            out_amt[key] += state.outstanding
    for d in items:
        if d.days_overdue > 0:
            over_amt[(d.state.client, d.state.currency)] += d.outstanding
    peak: dict[str, Decimal] = {}
    for (cid, c), v in out_amt.items():
        peak[c] = max(peak.get(c, ZERO), v)
    keys = set(counts) | {(cid, ledger.client_currency(cid)) for cid in ledger.clients}
    rows = []
    for cid, c in keys:
        outstanding, overdue = out_amt.get((cid, c), ZERO), over_amt.get((cid, c), ZERO)
        top = peak.get(c) or Decimal(1)
        rows.append(Balance(cid, c, outstanding, overdue, counts.get((cid, c), 0), rec.credit.get((cid, c), ZERO),
                            round(float((outstanding - overdue) / top) * 100, 1),
                            round(float(overdue / top) * 100, 1)))
    rows.sort(key=lambda r: (r.currency, -r.outstanding, r.client))
    return tuple(rows)


def _aging(items: Iterable[Due]) -> tuple[Aging, ...]:
    per: dict[str, dict[str, Decimal]] = {}
    for d in items:
        per.setdefault(d.state.currency, {b: ZERO for b in BUCKETS})[d.bucket] += d.outstanding
    return tuple(Aging(c, per[c], sum(per[c].values(), ZERO)) for c in sorted(per))


def _monthly(events: Iterable[Event], as_of: date) -> tuple[Monthly, ...]:
    billed: dict[str, dict] = defaultdict(lambda: defaultdict(lambda: ZERO))
    collected: dict[str, dict] = defaultdict(lambda: defaultdict(lambda: ZERO))
    first: date | None = None
    for e in events:
        key = (e.date.year, e.date.month)
        if e.kind == "invoice":
            billed[e.currency][key] += e.amount
            first = e.date if first is None else min(first, e.date)
        elif e.kind == "payment":
            collected[e.currency][key] -= e.amount
            first = e.date if first is None else min(first, e.date)
    if first is None:
        return ()
    months = month_range(first, as_of)
    return tuple(Monthly(c, months, dict(billed[c]), dict(collected[c]),
                         sum((billed[c].get(k, ZERO) for k in months), ZERO),
                         sum((collected[c].get(k, ZERO) for k in months), ZERO))
                 for c in sorted(set(billed) | set(collected)))


def month_range(first: date, last: date, limit: int = 12) -> tuple[tuple[int, int], ...]:
    """(year, month) from first's month to last's, the last `limit` of them."""
    months = []
    y, mo = first.year, first.month
    while (y, mo) <= (last.year, last.month):
        months.append((y, mo))
        y, mo = (y + 1, 1) if mo == 12 else (y, mo + 1)
    return tuple(months[-limit:])


def _table(states: Iterable[InvoiceState]) -> tuple[TableSums, ...]:
    """Sums of the invoice table's columns per currency, of the amounts as the table prints them
    (the site's script redoes them for the rows a filter leaves, from the same strings)."""
    sums: dict[str, dict[str, Decimal]] = {}
    counts: dict[str, int] = defaultdict(int)
    for state in states:
        c, doc = state.currency, state.doc
        per = sums.setdefault(c, {k: ZERO for k in TABLE_COLUMNS})
        counts[c] += 1
        for k, v in (("net", doc.net), ("tax", doc.tax), ("total", doc.total), ("paid", state.paid),
                     ("credited", state.credited), ("outstanding", state.outstanding)):
            per[k] += Decimal(fmt(v, c))
    return tuple(TableSums(c, counts[c], per) for c, per in sorted(sums.items()))


# ---------------------------------------------------------------------------- budgets

def _budgets(ledger: m.Ledger, books: Books, rec: Receivables,
             sows: frozenset[str] | None = None) -> tuple[Budget, ...]:
    """SOW budget burn: hours or money used against the cap, or billed against a fixed fee.

    Billed usage is read from what each invoice bills of each SOW (the sums of its lines the
    engine computed: InvoiceDoc.usage); unbilled hours are the billable time entries not on an
    invoice yet, rounded up to the SOW increment.  sows: only these SOWs' budgets."""
    usage: dict[str, list] = defaultdict(list)
    for number in rec.invoices:
        doc = books.invoices[number]
        for u in doc.usage:
            usage[u.sow].append((doc, u))
    unbilled_min: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for t in ledger.times:
        if sows is not None and t.sow not in sows:
            continue
        if t.billable and t.date <= rec.as_of and ("time", id(t)) not in books.billed:
            sow = ledger.sows.get(t.sow)
            if sow is not None and sow.pricing is not None and sow.pricing.kind == "hourly":
                unbilled_min[t.sow] += round_up(t.minutes, sow.increment)
    out = []
    for ref, sow in ledger.sows.items():
        if sows is not None and ref not in sows:
            continue
        budget = _budget(ledger, ref, sow, usage.get(ref, []), unbilled_min.get(ref, ZERO))
        if budget is not None:
            out.append(budget)
    out.sort(key=lambda b: (-b.pct, b.ref))
    return tuple(out)


def _budget(ledger: m.Ledger, ref: str, sow: m.Sow, billed_by: list, unbilled_minutes: Decimal) -> Budget | None:
    if sow.pricing is None:
        return None
    base: dict[str, Any] = {
        "ref": ref, "title": sow.title, "client": sow.client, "start": sow.period.start if sow.period else None,
        "end": sow.period.end if sow.period else None, "kind": sow.pricing.kind, "unbilled": ZERO,
        "unbilled_hours": ZERO, "milestones_done": 0, "milestones": 0, "frequency": "", "retainer": ZERO,
        "currency": None}
    if sow.cap is not None and sow.cap.minutes is not None:
        billed = sum((u.hours for _, u in billed_by), ZERO)
        unbilled = unbilled_minutes / 60
        limit = sow.cap.minutes / 60
        base.update(unit="hours", unbilled=unbilled, **_burn(billed, unbilled, limit))
    elif sow.cap is not None and sow.cap.amount is not None:
        currency = sow.cap.amount.currency or sow.pricing.amount.currency or ledger.client_currency(sow.client)
        billed = sum((u.amount for doc, u in billed_by if doc.currency == currency), ZERO)
        base.update(unit="money", currency=currency, unbilled_hours=unbilled_minutes / 60,
                    **_burn(billed, ZERO, sow.cap.amount.value))
    elif sow.pricing.kind in ("fixed", "value"):
        fee = sow_fee(sow)
        currency = sow.pricing.amount.currency or ledger.client_currency(sow.client)
        if fee is None or fee <= 0:
            return None
        billed = sum((u.milestone_amount for doc, u in billed_by if doc.currency == currency), ZERO)
        base.update(unit="fee", currency=currency, milestones_done=sum(u.milestones for _, u in billed_by),
                    milestones=len(sow.milestones) or 1, **_burn(billed, ZERO, fee))
        if base["level"] == "warn":
            base["level"] = "ok"  # invoicing a fixed fee in full is completion, not a warning
    elif sow.pricing.kind == "retainer" and sow.period is not None:
        unit = sow.pricing.frequency or "monthly"
        total = sum(1 for _ in period_starts(sow.period.start, unit, sow.period.start, sow.period.end))
        billed_periods = sum(u.retainers for _, u in billed_by)
        if total <= 0:
            return None
        base.update(unit="periods", frequency=unit, retainer=sow.pricing.amount.value,
                    currency=sow.pricing.amount.currency or ledger.client_currency(sow.client),
                    **_burn(Decimal(billed_periods), ZERO, Decimal(total)))
        base["level"] = "over" if billed_periods > total else "ok"
    else:
        return None
    return Budget(**base)


def _burn(billed: Decimal, unbilled: Decimal, limit: Decimal) -> dict:
    used = billed + unbilled
    pct = float(used / limit * 100) if limit else 0.0
    scale = max(float(limit), float(used), 1e-9)
    level = "over" if used > limit else "warn" if pct >= 80 else "ok"
    return {"billed": billed, "used": used, "limit": limit, "pct": pct, "level": level,
            "bar_billed": round(float(billed) / scale * 100, 2),
            "bar_unbilled": round(float(unbilled) / scale * 100, 2),
            "cap_at": round(float(limit) / scale * 100, 2)}
