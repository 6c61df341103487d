"""A SOW as an agreement: the facts its document shows (docs/language.md, "person", "accepted").

Numbers and states only (the fee's milestone schedule, the rate of each role
and who holds it, the reminder policy, where the agreement stands); the words
and the layout are render/agreement.py's.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from textbill.core import model as m
from textbill.engine.budgets import sow_fee
from textbill.engine.invoices import milestone_shares
from textbill.engine.reminders import policy_for


@dataclass(frozen=True)
class RoleLine:
    role: str
    rate: m.Amount
    people: tuple[str, ...]  # the names of the people with this role


@dataclass(frozen=True)
class Agreement:
    """Everything an agreement document states about one SOW."""

    sow: m.Sow
    client: m.Client | None
    currency: str  # the SOW's pricing currency
    state: str  # draft | sent | accepted
    sent: m.Sent | None
    accepted: m.Accepted | None
    fee: Decimal | None  # fixed or value SOWs
    milestones: tuple[tuple[str, Decimal, Decimal | None], ...]  # (name, amount, percent or None)
    roles: tuple[RoleLine, ...]
    policy: m.ReminderPolicy | None

    @property
    def date(self) -> date | None:
        """The day the document speaks from: accepted, else sent, else the SOW's start."""
        if self.accepted is not None:
            return self.accepted.date
        if self.sent is not None:
            return self.sent.date
        return self.sow.period.start if self.sow.period else None


def agreement_state(ledger: m.Ledger, ref: str) -> str:
    """draft (neither sent nor accepted), sent, or accepted."""
    if ledger.acceptance(ref) is not None:
        return "accepted"
    return "sent" if any(s.sow == ref for s in ledger.sents) else "draft"


def agreement(ledger: m.Ledger, ref: str) -> Agreement:
    sow = ledger.sows[ref]
    currency = (sow.pricing.amount.currency if sow.pricing else None) or ledger.client_currency(sow.client)
    sents = sorted((s for s in ledger.sents if s.sow == ref), key=lambda s: s.date)
    fee = sow_fee(sow, currency)
    milestones: tuple = ()
    if fee is not None:
        shares = milestone_shares(sow, currency)
        milestones = tuple((name, share, next((ms.percent for ms in sow.milestones if ms.name == name), None)
                            if sow.milestones else Decimal(100))
                           for name, (share, _) in shares.items())
    roles = tuple(RoleLine(r.role, r.amount, tuple(p.name for p in ledger.people.values() if p.role == r.role))
                  for r in sow.rates)
    return Agreement(sow, ledger.clients.get(sow.client), currency, agreement_state(ledger, ref),
                     sents[0] if sents else None, ledger.acceptance(ref), fee, milestones, roles,
                     policy_for(ledger, sow.client))


def _plain(value: Decimal) -> str:
    return f"{value:f}"


def agreement_doc(ledger: m.Ledger, ref: str) -> dict:
    """The agreement as JSON (build's agreements/*.json): amounts as exact decimal strings."""
    a = agreement(ledger, ref)
    sow, p = a.sow, a.sow.pricing
    cap = None
    if sow.cap is not None:
        cap = ({"hours": _plain(sow.cap.minutes / 60)} if sow.cap.minutes is not None else
               {"amount": _plain(sow.cap.amount.value) if sow.cap.amount else None,
                "currency": (sow.cap.amount.currency if sow.cap.amount else None) or a.currency})
    return {
        "sow": ref, "title": sow.title, "client": sow.client, "state": a.state, "currency": a.currency,
        "sent": a.sent.date.isoformat() if a.sent else None,
        "accepted": ({"date": a.accepted.date.isoformat(), "signer": a.accepted.signer, "ref": a.accepted.ref}
                     if a.accepted else None),
        "period": ({"start": sow.period.start.isoformat(), "end": sow.period.end.isoformat()}
                   if sow.period else None),
        "pricing": ({"kind": p.kind, "amount": _plain(p.amount.value), "frequency": p.frequency,
                     "percent": _plain(p.percent) if p.percent is not None else None} if p else None),
        "fee": _plain(a.fee) if a.fee is not None else None,
        "increment_minutes": _plain(sow.increment),
        "rates": [{"role": r.role, "rate": _plain(r.rate.value), "currency": r.rate.currency or a.currency,
                   "people": ", ".join(r.people)} for r in a.roles],
        "milestones": [{"name": n, "amount": _plain(v), "percent": _plain(pct) if pct is not None else None}
                       for n, v, pct in a.milestones],
        "cap": cap, "deliverables": list(sow.deliverables), "schedule": sow.schedule, "po": sow.po,
    }
