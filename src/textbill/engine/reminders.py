"""Which reminder is due for which invoice as of a day (docs/language.md, "How money owed is tracked")."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from textbill.core import model as m
from textbill.core.books import InvoiceState, Receivables, Reminder
from textbill.core.diagnostics import Diagnostic, error
from textbill.core.money import Amount, round_money
from textbill.core.periods import add_days, plus_days
from textbill.engine.aging import late_interest
from textbill.engine.fx import Rates

NO_REMINDERS = ("paid", "credited", "written-off", "collections")


def policy_for(ledger: m.Ledger, client_id: str) -> m.ReminderPolicy | None:
    """A client's reminder policy: its own, else the only one, else one named 'default'."""
    client = ledger.clients.get(client_id)
    if client is None or client.reminders == "off":
        return None
    if client.reminders:
        return ledger.policies.get(client.reminders)
    if len(ledger.policies) == 1:
        return next(iter(ledger.policies.values()))
    return ledger.policies.get("default")


def _current_since(state: InvoiceState, number: int) -> date:
    """The day installment `number` became the earliest one not yet settled."""
    plan = state.plan
    assert plan is not None  # asked for invoices under a plan only
    need = sum((i.amount for i in plan.installments[:number - 1]), Decimal(0))
    if number == 1 or need <= 0:
        return plan.plan.date
    total = Decimal(0)
    for a in sorted((a for a in state.allocations if a.date > plan.plan.date), key=lambda a: a.date):
        total += a.amount
        if total >= need:
            return a.date
    return plan.plan.date


def _reached(due: date, offset: int, as_of: date) -> bool:
    """Whether the step `offset` days from due has come by as_of (a day after 9999-12-31 never)."""
    day = add_days(due, offset)
    return day is not None and day <= as_of


def late_fee(company: m.Company, state: InvoiceState, day: date,
             rates: Rates) -> tuple[Amount | None, Diagnostic | None]:
    """The company's late fee in the invoice's currency, converted with the latest `fx` rate on or
    before day (docs/language.md, "Currencies") and rounded to the currency; else None and the error a missing
    rate gives (E150), on the invoice."""
    fee = company.late_fee
    assert fee is not None  # asked only when the company charges one
    source, target = fee.currency or company.currency, state.currency
    if source == target:
        return Amount(fee.value, target), None
    found = rates.lookup(source, target, day)
    if found is None:
        inv = state.doc.invoice
        return None, error(inv.span, "E150", f"invoice '{inv.number}' is in {target} but the company's late fee "
                           f"is in {source}, and there is no fx rate {source}/{target} on or before {day}",
                           f"add a rate, e.g.: {day} fx {source} {target} RATE", focus=inv.number)
    return Amount(round_money(fee.value * found[0], target), target), None


def due_reminders(ledger: m.Ledger, rec: Receivables) -> list[Reminder]:
    as_of = rec.as_of
    company = ledger.company
    rates = Rates(ledger.fxs)
    sent: dict[str, list[m.Reminded]] = {}
    for r in ledger.reminded:
        if r.date <= as_of:
            sent.setdefault(r.invoice, []).append(r)
    out = []
    for state in rec.invoices.values():
        if state.status in NO_REMINDERS or state.outstanding <= 0:
            continue
        policy = policy_for(ledger, state.client)
        if policy is None or not policy.steps:
            continue
        installment = None
        due = state.doc.due
        amount_due = state.outstanding
        if state.plan is not None:
            nxt = state.plan.next_unsettled()
            if nxt is None:
                continue
            installment, due, amount_due = nxt.number, nxt.due, nxt.outstanding
        recorded = sent.get(state.number, [])
        if state.plan is not None:
            # under a plan each installment starts a new round of steps
            window = plus_days(due, min(s.offset for s in policy.steps))
            assert installment is not None  # set above, from the plan
            start = max(window, _current_since(state, installment))
            recorded = [r for r in recorded if r.date >= start]
        names = {r.step for r in recorded}
        offsets = [s.offset for s in policy.steps if s.name in names]
        done_upto = max(offsets) if offsets else None
        candidates = [s for s in policy.steps
                      if _reached(due, s.offset, as_of) and s.name not in names
                      and (done_upto is None or s.offset > done_upto)]
        if not candidates:
            continue
        step = max(candidates, key=lambda s: s.offset)
        days = (as_of - due).days
        interest = None
        if company and company.late_interest is not None and days > 0:
            interest = late_interest(amount_due, company.late_interest, days, state.currency)
        fee, problem = None, None
        # a late-fee step skipped because a later one is due passes its fee on
        if any(s.late_fee for s in candidates) and company and company.late_fee is not None:
            fee_steps = {s.name for s in policy.steps if s.late_fee}
            if not any(r.step in fee_steps for r in sent.get(state.number, [])):
                fee, problem = late_fee(company, state, as_of, rates)
        out.append(Reminder(state, policy, step, due, installment, state.outstanding, amount_due, days,
                            interest, fee, (problem,) if problem else ()))
    return out
