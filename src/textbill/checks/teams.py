"""Checks of people, role rates and agreements (docs/language.md, "person", "accepted").

Codes E300-E329 / W300-W329.  The billing warning (W301) needs the computed
invoices, so it takes the books as well.
"""
from __future__ import annotations

from collections.abc import Iterable

from textbill.core import model as m
from textbill.core.books import Books
from textbill.core.diagnostics import Diagnostic, closest, error, warning


def _dym(word: str, candidates: Iterable[str]) -> str | None:
    guess = closest(word, candidates)
    return f"did you mean '{guess}'?" if guess else None


def check_people(ledger: m.Ledger):
    """Duplicate people (E301) and `by` an unknown person (E300)."""
    seen: dict[str, m.Person] = {}
    person = m.Person
    for d in ledger.directives:
        if type(d) is person:  # the node classes are final
            if d.id in seen:
                yield error(d.span, "E301", f"person '{d.id}' is defined twice (first at {seen[d.id].span.short})",
                            "remove one of the two, or give this one another id", focus=d.id)
            else:
                seen[d.id] = d
    for t in ledger.times:
        if t.person is None or t.person in ledger.people or ("person", t.person) in ledger.broken:
            continue
        yield error(t.span, "E300", f"unknown person '{t.person}'",
                    _dym(t.person, ledger.people) or f'define them with: person {t.person} "Full Name"',
                    focus=t.person)


def check_role_rates(ledger: m.Ledger):
    """A SOW's `rate ROLE AMOUNT` lines: hourly SOWs only (E303), in the SOW's currency (E302),
    one per role (E304), and for a role some person holds (E308 for a misspelt one, else W300)."""
    roles = {p.role for p in ledger.people.values() if p.role}
    for sow in ledger.sows.values():
        seen: dict[str, m.RoleRate] = {}
        for r in sow.rates:
            if sow.pricing is not None and sow.pricing.kind != "hourly":
                yield error(r.span, "E303", f"SOW '{sow.ref}' is priced {sow.pricing.kind}: a rate per role "
                            "applies to hourly SOWs only", "remove the rate line, or price the SOW: hourly RATE",
                            focus=r.role)
                continue
            if r.role in seen:
                yield error(r.span, "E304", f"SOW '{sow.ref}' gives a rate for role '{r.role}' twice "
                            f"(first at {seen[r.role].span.short})", focus=r.role)
                continue
            seen[r.role] = r
            currency = (sow.pricing.amount.currency if sow.pricing else None) \
                or ledger.client_currency(sow.client)
            if r.amount.currency is not None and r.amount.currency != currency:
                yield error(r.span, "E302", f"the rate for '{r.role}' is in {r.amount.currency} but SOW "
                            f"'{sow.ref}' is priced in {currency}",
                            f"write: rate {r.role} {r.amount.value} {currency} (or leave the currency out)",
                            focus=r.amount.currency)
            if r.role not in roles:
                # a role is declared by the people who hold it; a rate names one.  Close to a role a
                # person holds that this SOW does not price: a misspelling (E308); else a role for
                # nobody yet (W300)
                guess = closest(r.role, roles - {x.role for x in sow.rates})
                if guess:
                    holders = ", ".join(sorted(p.id for p in ledger.people.values() if p.role == guess))
                    yield error(r.span, "E308", f"unknown role '{r.role}': no person has it, so SOW '{sow.ref}' "
                                f"bills nobody at this rate", f"did you mean '{guess}' (the role of {holders})?",
                                focus=r.role)
                else:
                    yield warning(r.span, "W300", f"no person has the role '{r.role}' that SOW '{sow.ref}' prices",
                                  f"give a person this role: person ID \"Name\" / role {r.role}", focus=r.role)


def check_agreements(ledger: m.Ledger):
    """`sent` and `accepted`: a known SOW (E102), accepted once (E306), not before it was sent (E305)."""
    first_sent: dict[str, m.Sent] = {}
    for s in sorted(ledger.sents, key=lambda e: e.date):
        if s.sow not in ledger.sows:
            if ("sow", s.sow) not in ledger.broken:
                yield error(s.span, "E102", f"unknown SOW '{s.sow}'", _dym(s.sow, ledger.sows), focus=s.sow)
            continue
        first_sent.setdefault(s.sow, s)
    accepted: dict[str, m.Accepted] = {}
    for a in sorted(ledger.accepteds, key=lambda e: (e.date, e.span.file, e.span.line)):
        if a.sow not in ledger.sows:
            if ("sow", a.sow) not in ledger.broken:
                yield error(a.span, "E102", f"unknown SOW '{a.sow}'", _dym(a.sow, ledger.sows), focus=a.sow)
            continue
        if a.sow in accepted:
            first = accepted[a.sow]
            yield error(a.span, "E306", f"SOW '{a.sow}' is accepted twice (first by {first.signer} on "
                        f"{first.date} at {first.span.short})", focus=str(a.date))
            continue
        accepted[a.sow] = a
        sent = first_sent.get(a.sow)
        if sent is not None and a.date < sent.date:
            yield error(a.span, "E305", f"SOW '{a.sow}' is accepted on {a.date}, before it was sent on "
                        f"{sent.date} ({sent.span.short})", "fix one of the two dates", focus=str(a.date))


TEAM_CHECKS = (check_people, check_role_rates, check_agreements)


def check_billing(ledger: m.Ledger, books: Books) -> list[Diagnostic]:
    """W301: an invoice takes lines from a SOW not accepted on or before its date.

    Only in a ledger that uses agreements (any `sent` or `accepted` entry): a ledger that never
    records acceptance bills as before, without a warning per invoice."""
    if not ledger.uses_agreements():
        return []
    out = []
    for doc in books.invoices.values():
        billed = sorted(u.sow for u in doc.usage)
        for ref in billed:
            acc = ledger.acceptance(ref)
            if acc is not None and acc.date <= doc.invoice.date:
                continue
            state = f"was only accepted on {acc.date}" if acc is not None else "is not accepted"
            sent = any(s.sow == ref for s in ledger.sents)
            out.append(warning(doc.invoice.span, "W301", f"invoice '{doc.invoice.number}' bills SOW '{ref}', "
                               f"which {state}" + ("" if sent or acc else " (nor sent)"),
                               f"record the client's acceptance: DATE accepted {ref} \"Signer\"",
                               focus=doc.invoice.number))
    return out
