"""Accepted SOWs are binding: their terms are locked in textbill.lock (docs/language.md, "person", "accepted").

`textbill lock` appends one line per accepted SOW not yet locked, after the
documents' lines, in the same append-only way::

    sow globex/web-2026 accepted 2026-01-04 sha256:9c1e... terms:eyJwZXJpb2QiOi...

the SOW reference, the date it was accepted, the sha256 of its canonical terms,
and the terms themselves (base64url of their canonical JSON, no padding), so a
change can be reported term by term with its old and new value.  The terms are
the ones an agreement binds: period, pricing (the default rate, fee or
retainer), increment, the rate of each role, cap, milestones and deliverables.
A SOW's title, tax, schedule, PO number and fields are not terms: editing
them is free.  An unaccepted SOW is not locked and may change freely.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from textbill.core import model as m
from textbill.core.diagnostics import Diagnostic, error, warning
from textbill.core.source import Sources, Span, find_keyword_line

PREFIX = "sow "
_LINE = re.compile(r"sow (?P<ref>[a-z0-9][a-z0-9_-]*/[a-z0-9][a-z0-9_-]*) accepted (?P<date>\d{4}-\d\d-\d\d) "
                   r"sha256:(?P<sha>[0-9a-f]{64}) terms:(?P<terms>[A-Za-z0-9_-]*)")


def _num(v) -> str:
    return f"{v:f}"


def _amount(a: m.Amount) -> str:
    return _num(a.value) + (f" {a.currency}" if a.currency else "")


def sow_terms(sow: m.Sow) -> dict[str, str]:
    """The binding terms of a SOW, each as the text a user reads (term name -> value)."""
    terms: dict[str, str] = {"period": str(sow.period) if sow.period else "none"}
    p = sow.pricing
    if p is None:
        terms["pricing"] = "none"
    elif p.kind == "retainer":
        terms["pricing"] = f"retainer {_amount(p.amount)} {p.frequency}"
    elif p.kind == "value":
        terms["pricing"] = f"value {_num(p.percent or 0)}% of {_amount(p.amount)}"
    else:
        terms["pricing"] = f"{p.kind} {_amount(p.amount)}"
    terms["increment"] = f"{_num(sow.increment)}m"
    for r in sow.rates:
        terms.setdefault(f"rate {r.role}", _amount(r.amount))
    if sow.cap is None:
        terms["cap"] = "none"
    elif sow.cap.minutes is not None:
        terms["cap"] = f"{_num(sow.cap.minutes / 60)}h"
    else:
        assert sow.cap.amount is not None
        terms["cap"] = _amount(sow.cap.amount)
    terms["milestones"] = "; ".join(
        f"{ms.name} " + (f"{_num(ms.percent)}%" if ms.percent is not None else _amount(ms.amount or m.Amount(0)))
        for ms in sow.milestones) or "none"
    terms["deliverables"] = "; ".join(sow.deliverables) or "none"
    return terms


def _json(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True)
class AgreementEntry:
    """One locked SOW: what `textbill lock` appends and later compares."""

    number: str  # the SOW reference
    date: str  # accepted on
    terms: Mapping[str, str]
    lineno: int = 0
    kind: str = "agreement"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(_json(dict(self.terms))).hexdigest()

    @property
    def total(self) -> str:  # what `textbill lock` prints beside the date
        return self.terms.get("pricing", "")

    currency = ""

    def format(self) -> str:
        blob = base64.urlsafe_b64encode(_json(dict(self.terms))).decode("ascii").rstrip("=")
        return f"sow {self.number} accepted {self.date} sha256:{self.sha256} terms:{blob}"


def read_agreements(text: str) -> dict[str, AgreementEntry]:
    """The locked SOWs of textbill.lock's text (lines that do not read are skipped: the terms then
    count as not locked, and `textbill lock` records them again)."""
    out: dict[str, AgreementEntry] = {}
    for lineno, raw in enumerate(text.split("\n"), 1):
        mt = _LINE.fullmatch(raw.strip())
        if mt is None:
            continue
        blob = mt.group("terms")
        try:
            terms = json.loads(base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4)))
        except (binascii.Error, ValueError):
            continue
        if isinstance(terms, dict) and all(isinstance(v, str) for v in terms.values()):
            out.setdefault(mt.group("ref"), AgreementEntry(mt.group("ref"), mt.group("date"), terms, lineno))
    return out


def current_agreements(ledger: m.Ledger) -> dict[str, AgreementEntry]:
    """Every accepted SOW of the ledger with its terms as they are now."""
    out = {}
    for sow in ledger.sows.values():
        acc = ledger.acceptance(sow.ref)
        if acc is not None:
            out[sow.ref] = AgreementEntry(sow.ref, acc.date.isoformat(), sow_terms(sow))
    return out


def new_agreements(ledger: m.Ledger, lock_text: str) -> list[AgreementEntry]:
    """The accepted SOWs that textbill.lock does not hold yet."""
    locked = read_agreements(lock_text)
    return [e for ref, e in current_agreements(ledger).items() if ref not in locked]


def _term_span(sow: m.Sow, term: str, sources: Sources | None) -> Span:
    if term.startswith("rate "):
        rate = sow.rate_of(term[5:])
        if rate is not None:
            return rate.span
    if term == "milestones" and sow.milestones:
        return sow.milestones[0].span
    keyword = {"pricing": (sow.pricing.kind if sow.pricing else "hourly"), "milestones": "milestone",
               "deliverables": "deliverable"}.get(term, term)
    if sources is not None:
        return find_keyword_line(sources, sow.span, keyword)
    return sow.span


def check_agreement_locks(ledger: m.Ledger, lock_text: str, lock_name: str,
                          sources: Sources | None = None) -> list[Diagnostic]:
    """E307 for each term of a locked (accepted) SOW that changed, or a locked SOW that is gone;
    W302 for an accepted SOW textbill.lock does not hold yet."""
    locked = read_agreements(lock_text)
    out: list[Diagnostic] = []
    for ref, old in locked.items():
        sow = ledger.sows.get(ref)
        if sow is None:
            if ("sow", ref) in ledger.broken:
                continue
            out.append(error(Span(lock_name, old.lineno), "E307",
                             f"SOW '{ref}', accepted on {old.date}, is no longer in the ledger",
                             "an accepted SOW is binding: restore it; amend it with a new SOW"))
            continue
        now = sow_terms(sow)
        if now == dict(old.terms):
            continue
        for term in sorted(set(now) | set(old.terms), key=lambda k: (k.startswith("rate "), k)):
            before, after = old.terms.get(term, "none"), now.get(term, "none")
            if before == after:
                continue
            out.append(error(_term_span(sow, term, sources), "E307",
                             f"SOW '{ref}' was accepted on {old.date}: its {term} changed from "
                             f"{before} to {after}",
                             "an accepted SOW is binding: undo the edit, and amend the terms with a new SOW "
                             "the client accepts"))
    for acc in ledger.accepteds:
        if acc.sow in ledger.sows and acc.sow not in locked and acc == ledger.acceptance(acc.sow):
            out.append(warning(acc.span, "W302", f"SOW '{acc.sow}' is accepted but its terms are not locked",
                               "run 'textbill lock' (and commit textbill.lock) so any later change to its "
                               "terms is caught", focus=acc.sow))
    return out
