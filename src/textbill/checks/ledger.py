"""Structural checks of a ledger: a registry of small functions Ledger -> [Diagnostic].

These need no invoice arithmetic; the checks that do live with the billing engine.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from itertools import pairwise
from types import MappingProxyType

from textbill.checks.accounts import check_if_configured
from textbill.checks.bank import check_client_ibans, check_rf_references
from textbill.checks.fallout import meant_numbers
from textbill.checks.teams import TEAM_CHECKS
from textbill.core import model as m
from textbill.core.diagnostics import Diagnostic, closest, error, warning
from textbill.core.numbering import Pattern, numbering_patterns
from textbill.core.source import Span
from textbill.engine.budgets import sow_fee
from textbill.engine.reminders import policy_for

Check = Callable[[m.Ledger], Iterable[Diagnostic]]


def _dym(word: str, candidates: Iterable[str]) -> str | None:
    guess = closest(word, candidates)
    return f"did you mean '{guess}'?" if guess else None


def _is_broken(ledger: m.Ledger, kind: str, ident: str) -> bool:
    return (kind, ident) in ledger.broken


# ---------------------------------------------------------------------------- company

def check_company(ledger: m.Ledger):
    company = m.Company
    companies = [d for d in ledger.directives if type(d) is company]  # the node classes are final
    if not companies and not _is_broken_kind(ledger, "company") and not _is_broken_kind(ledger, "unreadable"):
        yield error(Span(ledger.files[0], 1) if ledger.files else None, "E020", "the ledger has no company",
                    'add one, e.g.: company acme "Acme Consulting" (with its currency and address below)')
    for extra in companies[1:]:
        yield error(extra.span, "E021", f"a second company '{extra.id}' (the first is '{companies[0].id}' "
                    f"at {companies[0].span.short})", "a ledger describes exactly one company; remove one",
                    focus=extra.id)


def _is_broken_kind(ledger: m.Ledger, kind: str) -> bool:
    return any(k == kind for k, _ in ledger.broken)


# ---------------------------------------------------------------------------- duplicates

# the kinds of directive with an identity of their own (documents are told apart by number);
# looked up by type, not isinstance: the model's node classes are final
_IDENTIFIED = MappingProxyType({m.Client: "client", m.Sow: "sow", m.ReminderPolicy: "reminders",
                                m.Invoice: "document", m.CreditNote: "document"})


def check_duplicates(ledger: m.Ledger):
    seen: dict[tuple, object] = {}
    documents: dict[str, object] = {}
    identified = _IDENTIFIED
    for d in ledger.directives:
        kind = identified.get(type(d))
        if kind is None:
            continue  # entries: time, expenses, payments... (almost every directive)
        if kind == "document":
            first = documents.get(d.number)
            if first is not None:
                what = "invoice" if isinstance(first, m.Invoice) else "credit note"
                yield error(d.span, "E112", f"document number '{d.number}' is used twice "
                            f"(first by the {what} at {first.span.short})",
                            "give this document the next free number", focus=d.number)
            else:
                documents[d.number] = d
            continue
        if kind == "client":
            key, what, code, word = ("client", d.id), f"client '{d.id}'", "E110", d.id
        elif kind == "sow":
            key, what, code, word = ("sow", d.ref), f"SOW '{d.ref}'", "E111", d.ref
        else:
            key, what, code, word = ("reminders", d.id), f"reminder policy '{d.id}'", "E113", d.id
        if key in seen:
            yield error(d.span, code, f"{what} is defined twice (first at {seen[key].span.short})",
                        "remove one of the two, or give this one another id", focus=word)
        else:
            seen[key] = d


# ---------------------------------------------------------------------------- references

def _client_ref(ledger, client_id: str, span: Span):
    if client_id in ledger.clients or _is_broken(ledger, "client", client_id):
        return None
    return error(span, "E101", f"unknown client '{client_id}'",
                 _dym(client_id, ledger.clients) or "define it with: client " + client_id + ' "Name"',
                 focus=client_id)


def _sow_ref(ledger, ref: str, span: Span):
    if ref in ledger.sows or _is_broken(ledger, "sow", ref):
        return None
    client = ref.split("/", 1)[0]
    if client not in ledger.clients and not _is_broken(ledger, "client", client):
        return error(span, "E101", f"unknown client '{client}' in SOW reference '{ref}'",
                     _dym(client, ledger.clients), focus=ref)
    return error(span, "E102", f"unknown SOW '{ref}'",
                 _dym(ref, ledger.sows) or f"define it with: sow {ref} \"Title\"", focus=ref)


def _documents(ledger) -> dict[str, object]:
    docs: dict[str, object] = {}
    for inv in ledger.invoices:
        docs.setdefault(inv.number, inv)
    return docs


def _invoice_ref(ledger, invoices, number: str, span: Span, meant: Mapping[str, str]):
    if number in invoices or _is_broken(ledger, "document", number) or number in meant:
        return None  # a document with this number is there, written in another form (E140 says so)
    credit = {c.number for c in ledger.credit_notes}
    if number in credit:
        return error(span, "E103", f"'{number}' is a credit note, not an invoice",
                     "name the invoice the credit note corrects", focus=number)
    return error(span, "E103", f"unknown invoice '{number}'",
                 _dym(number, invoices) or "check the number against the invoice directives", focus=number)


def check_references(ledger: m.Ledger):
    invoices = _documents(ledger)
    meant = meant_numbers(ledger) if ledger.invoices else {}
    for sow in ledger.sows.values():
        d = _client_ref(ledger, sow.client, sow.span)
        if d:
            yield error(sow.span, "E101", f"SOW '{sow.ref}' names unknown client '{sow.client}'",
                        _dym(sow.client, ledger.clients), focus=sow.ref)
    for client in ledger.clients.values():
        if client.reminders and client.reminders != "off" and client.reminders not in ledger.policies \
                and not _is_broken(ledger, "reminders", client.reminders):
            yield error(client.span, "E104", f"unknown reminder policy '{client.reminders}'",
                        _dym(client.reminders, ledger.policies)
                        or f"define it with: reminders {client.reminders}, or write: reminders off",
                        focus=client.reminders)
    sows = ledger.sows
    for entries in (ledger.times, ledger.expenses, ledger.dones):
        for e in entries:
            if e.sow in sows:
                continue  # _sow_ref's first test, once per entry of a hundred thousand
            d = _sow_ref(ledger, e.sow, e.span)
            if d:
                yield d
    for inv in ledger.invoices:
        d = _client_ref(ledger, inv.client, inv.span)
        if d:
            yield d
            continue
        for sid in inv.sows or ():
            ref = sid if "/" in sid else f"{inv.client}/{sid}"
            if ref.split("/", 1)[0] != inv.client:
                yield error(inv.span, "E102", f"SOW '{ref}' belongs to another client than '{inv.client}'",
                            "an invoice bills the SOWs of its own client", focus=sid)
            elif ref not in ledger.sows and not _is_broken(ledger, "sow", ref):
                own = [s.id for s in ledger.sows.values() if s.client == inv.client]
                yield error(inv.span, "E102", f"unknown SOW '{sid}' of client '{inv.client}'",
                            _dym(sid, own) or ("the client's SOWs are: " + ", ".join(own) if own
                                               else f"define it with: sow {inv.client}/{sid} \"Title\""),
                            focus=sid)
    for p in ledger.payments:
        d = _client_ref(ledger, p.client, p.span)
        if d:
            yield d
        for number in p.invoices:
            d = _invoice_ref(ledger, invoices, number, p.span, meant)
            if d:
                yield d
            elif number in invoices and invoices[number].client != p.client and p.client in ledger.clients:
                yield error(p.span, "E151", f"invoice '{number}' belongs to client "
                            f"'{invoices[number].client}', not '{p.client}'",
                            "a payment settles invoices of the client who paid", focus=number)
    for e in (*ledger.credit_notes, *ledger.plans, *ledger.reminded, *ledger.writeoffs, *ledger.collections):
        d = _invoice_ref(ledger, invoices, e.invoice, e.span, meant)
        if d:
            yield d


def check_reminded_steps(ledger: m.Ledger):
    invoices = _documents(ledger)
    for r in ledger.reminded:
        inv = invoices.get(r.invoice)
        if inv is None:
            continue
        policy = policy_for(ledger, inv.client)
        if policy is None:
            continue
        names = [s.name for s in policy.steps]
        if r.step not in names:
            yield warning(r.span, "W106", f"step '{r.step}' is not in reminder policy '{policy.id}'",
                          _dym(r.step, names) or "steps are: " + ", ".join(names), focus=r.step)




# ---------------------------------------------------------------------------- SOWs

def check_sows(ledger: m.Ledger):
    for sow in ledger.sows.values():
        p = sow.pricing
        if p is None:
            yield error(sow.span, "E124", f"SOW '{sow.ref}' has no pricing line",
                        "add one of: hourly RATE, fixed AMOUNT, retainer AMOUNT monthly, value PCT of AMOUNT",
                        focus=sow.ref)
            continue
        if sow.milestones and p.kind not in ("fixed", "value"):
            yield error(sow.milestones[0].span, "E123",
                        f"milestones belong to fixed or value SOWs, not to {'an' if p.kind[0] in 'aeiouh' else 'a'} {p.kind} SOW",
                        "remove the milestones or change the pricing")
        if p.kind == "retainer" and sow.period is None:
            yield warning(sow.span, "W127", f"retainer SOW '{sow.ref}' has no period",
                          "add 'period START .. END' so retainer periods are counted from its start",
                          focus=sow.ref)
        names = [ms.name for ms in sow.milestones]
        for i, ms in enumerate(sow.milestones):
            if ms.name in names[:i]:
                yield error(ms.span, "E115", f"milestone '{ms.name}' is listed twice in SOW '{sow.ref}'",
                            "give each milestone its own name")
        if p.kind in ("fixed", "value") and sow.milestones:
            fee = sow_fee(sow, ledger.client_currency(sow.client))
            total = Decimal(0)
            for ms in sow.milestones:
                if ms.percent is not None:
                    total += ms.percent
                elif ms.amount is not None and fee:
                    total += ms.amount.value * 100 / fee
            if total != 100:
                shown = f"{total.quantize(Decimal('0.01')).normalize():f}%"
                yield error(sow.milestones[-1].span, "E122",
                            f"milestones of SOW '{sow.ref}' sum to {shown}, not 100%",
                            "adjust the shares so they add up to exactly 100% of the fee")


def _sow_period_check(ledger, entry, what: str):
    sow = ledger.sows.get(entry.sow)
    if sow is None or sow.period is None or entry.date in sow.period:
        return None
    return error(entry.span, "E120", f"{what} dated {entry.date} is outside the period of SOW "
                 f"'{sow.ref}' ({sow.period})",
                 "fix the date, or extend the SOW's period", focus=str(entry.date))


def check_entries(ledger: m.Ledger):
    sows = ledger.sows
    # per SOW: (the SOW, whether it is priced other than hourly, its period or None)
    rules: dict[str, tuple] = {}
    for t in ledger.times:
        rule = rules.get(t.sow)
        if rule is None:
            sow = sows.get(t.sow)
            rule = rules[t.sow] = (sow, sow is not None and bool(sow.pricing) and sow.pricing.kind != "hourly",
                                   sow.period if sow is not None else None)
        sow, wrong, period = rule
        if sow is None:
            continue
        if wrong:
            yield error(t.span, "E121", f"time entry on SOW '{sow.ref}', which is priced {sow.pricing.kind}",
                        "time is billed only on hourly SOWs; mark it nonbillable or log it on an hourly SOW"
                        if t.billable else "log it on an hourly SOW", focus=t.sow)
        if period is not None and not period.start <= t.date <= period.end:
            d = _sow_period_check(ledger, t, "time entry")
            if d:
                yield d
    for e in ledger.expenses:
        d = _sow_period_check(ledger, e, "expense")
        if d:
            yield d
    done_seen: dict[tuple, m.Done] = {}
    for dn in ledger.dones:
        sow = ledger.sows.get(dn.sow)
        if sow is None:
            continue
        if sow.pricing and sow.pricing.kind not in ("fixed", "value"):
            yield error(dn.span, "E125", f"'done' on SOW '{sow.ref}', which is priced {sow.pricing.kind}",
                        "milestones belong to fixed or value SOWs", focus=dn.sow)
            continue
        names = [ms.name for ms in sow.milestones] or ["complete"]
        if dn.milestone not in names:
            yield error(dn.span, "E105", f"unknown milestone '{dn.milestone}' of SOW '{sow.ref}'",
                        _dym(dn.milestone, names) or "milestones are: " + ", ".join(names),
                        focus=dn.milestone)
            continue
        key = (dn.sow, dn.milestone)
        if key in done_seen:
            yield error(dn.span, "E114", f"milestone '{dn.milestone}' of SOW '{sow.ref}' is marked done twice "
                        f"(first at {done_seen[key].span.short})", "remove one of the two", focus=dn.milestone)
        else:
            done_seen[key] = dn
        d = _sow_period_check(ledger, dn, "milestone")
        if d:
            yield d


def check_clock_overlaps(ledger: m.Ledger):
    by_day: dict[tuple, list[m.TimeEntry]] = defaultdict(list)
    for t in ledger.times:
        if t.clock:
            by_day[(t.sow, t.date)].append(t)
    for entries in by_day.values():
        if len(entries) < 2:
            continue
        entries.sort(key=lambda t: t.clock[0])
        for prev, cur in pairwise(entries):
            if cur.clock[0] < prev.clock[1]:
                yield warning(cur.span, "W130", f"clock range {'-'.join(cur.clock)} overlaps "
                              f"{'-'.join(prev.clock)} ({prev.span.short}) on the same SOW and day",
                              "check both entries: the same time is billed twice", focus="-".join(cur.clock))


# ---------------------------------------------------------------------------- numbering

def check_numbering(ledger: m.Ledger):
    company = ledger.company
    if company is None and _is_broken_kind(ledger, "company"):
        return  # the patterns are the company's: the defaults would misjudge every number
    patterns = numbering_patterns(ledger)
    for kind, docs, attr in (("invoice", ledger.invoices, "numbering"),
                             ("credit note", ledger.credit_notes, "credit-numbering")):
        pattern = patterns[kind]
        if isinstance(pattern, ValueError):
            if company:
                yield error(company.span, "E143", f"{attr} pattern '{getattr(company, attr.replace('-', '_'))}' "
                            f"is invalid: {pattern}",
                            "use {year}, {yy}, {month} and {seq:04} placeholders, e.g. \"INV-{year}-{seq:04}\"",
                            focus=attr)
            continue
        yield from _check_sequence(kind, docs, pattern, _broken_names(ledger, "document"))


def _broken_names(ledger: m.Ledger, kind: str) -> frozenset[str]:
    return frozenset(name for k, name in ledger.broken if k == kind)


def _check_sequence(kind: str, docs, pattern: Pattern, broken: frozenset[str] = frozenset()):
    """Numbers that break the pattern, gaps (a number of a document with an error is no gap: it
    is there, and its error is reported) and dates that go backwards."""
    scopes: dict[object, list[tuple[int, object]]] = defaultdict(list)
    seen_numbers = set()
    written = {doc.number for doc in docs}
    for doc in docs:
        if doc.number in seen_numbers:
            continue  # reported as a duplicate
        seen_numbers.add(doc.number)
        parts = pattern.parse(doc.number)
        if parts is None:
            example = pattern.format(doc.date, 1)
            yield error(doc.span, "E140", f"{kind} number '{doc.number}' does not follow the pattern "
                        f"'{pattern.text}'", f"number it like {example}", focus=doc.number)
            continue
        expected = pattern.format(doc.date, parts["seq"])
        if expected != doc.number:
            if "year" in parts and parts["year"] != doc.date.year or "yy" in parts and parts["yy"] != doc.date.year % 100:
                msg = f"{kind} '{doc.number}' is dated {doc.date}, but its number carries another year"
            elif "month" in parts and parts["month"] != doc.date.month:
                msg = f"{kind} '{doc.number}' is dated {doc.date}, but its number carries another month"
            else:
                msg = f"{kind} number '{doc.number}' does not follow the pattern '{pattern.text}'"
                if expected not in written and parts["seq"] >= 1:
                    # only its form is wrong (FV/2026/003): it holds its place, no gap is left
                    scopes[doc.date.year if pattern.yearly else None].append((parts["seq"], doc))
            yield error(doc.span, "E140", msg, f"number it {expected}, or fix the date", focus=doc.number)
            continue
        if parts["seq"] < 1:
            yield error(doc.span, "E140", f"{kind} '{doc.number}' has sequence number 0",
                        "sequences start at 1", focus=doc.number)
            continue
        scope = doc.date.year if pattern.yearly else None
        scopes[scope].append((parts["seq"], doc))
    for scope, items in sorted(scopes.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)):
        items.sort(key=lambda it: it[0])
        expected_seq = 1
        prev = None
        for seq, doc in items:
            where = f"{scope}'s sequence" if scope is not None else "the sequence"
            if seq > expected_seq and not all(pattern.format(doc.date, s) in broken
                                              for s in range(expected_seq, seq)):
                missing = [pattern.format(doc.date, s) for s in range(expected_seq, min(seq, expected_seq + 3))]
                more = " ..." if seq - expected_seq > 3 else ""
                yield error(doc.span, "E141", f"{kind} '{doc.number}' leaves a gap in {where}: "
                            f"{', '.join(missing)}{more} {'is' if seq - expected_seq == 1 else 'are'} missing",
                            "numbers are gapless: renumber this document, or issue the missing number",
                            focus=doc.number)
            elif seq < expected_seq:
                pass  # the same sequence number written differently: a duplicate in disguise
            if prev is not None and doc.date < prev.date:
                yield error(doc.span, "E142", f"{kind} '{doc.number}' is dated {doc.date}, before "
                            f"'{prev.number}' ({prev.date}) which comes earlier in the sequence",
                            "numbers follow date order: swap the numbers or fix the dates", focus=str(doc.date))
            expected_seq = max(expected_seq, seq + 1)
            prev = doc


CHECKS: tuple[Check, ...] = (
    check_company,
    check_duplicates,
    check_references,
    check_reminded_steps,
    check_sows,
    check_entries,
    check_clock_overlaps,
    check_numbering,
    check_client_ibans,
    check_rf_references,
    check_if_configured,
    *TEAM_CHECKS,
)


def run_checks(ledger: m.Ledger, checks: tuple[Check, ...] = CHECKS) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for check in checks:
        out.extend(check(ledger))
    return out
