"""Matching statement transactions to clients and invoices (docs/commands.md, "textbill import bank").

First rule that applies:
1. the remittance text names invoice numbers of one client (compared without case and
   separators: "inv 2026 0002" is INV-2026-0002) or the RF creditor reference of an invoice:
   a payment `for` those invoices, in the order named;
2. the payer's IBAN is a client's `iban`, or the payer's name is a client's name compared
   without case, punctuation and spacing ("Initech, L.L.C." is "Initech LLC"): a payment
   without `for` (settled oldest due first);
3. otherwise unmatched.
A matched credit in another currency than the client's is written in the statement's currency
(the engine converts it with the `fx` rate of its day); without such a rate it is not written.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from textbill.core import model as m
from textbill.core.books import InvoiceState
from textbill.core.payref import (
    compact_iban,
    compact_name,
    compact_number,
    rf_reference,
)
from textbill.engine.fx import Rates
from textbill.workflow.bank.statement import Transaction

_TOKEN = re.compile(r"[0-9A-Za-z]+")
_MAX_TOKENS = 8  # an invoice number or RF reference written with at most this many separators


@dataclass(frozen=True, slots=True)
class Match:
    tx: Transaction
    client: str | None  # None: unmatched
    invoices: tuple[str, ...] = ()
    rule: str = ""  # "invoice", "rf", "iban", "name"; or why it is not written
    candidates: tuple[str, ...] = ()


class Matcher:
    """Looks transactions up against one ledger's clients and invoices."""

    def __init__(self, ledger: m.Ledger, invoices: Iterable[InvoiceState]):
        self.ledger = ledger
        self.rates = Rates(ledger.fxs)
        self.states = {s.number: s for s in invoices}
        self.numbers: dict[str, tuple[str, str]] = {}  # compact number or RF -> (invoice, "invoice"|"rf")
        for number in self.states:
            self.numbers.setdefault(compact_number(number), (number, "invoice"))
            rf = rf_reference(number)
            if rf:
                self.numbers.setdefault(rf, (number, "rf"))
        self.lengths = {len(k) for k in self.numbers}
        self.by_iban: dict[str, list[str]] = {}
        self.by_name: dict[str, list[str]] = {}
        self.names = tuple((c.id, _trigrams(compact_name(c.name))) for c in ledger.clients.values())
        self.by_amount: dict[tuple, list[InvoiceState]] | None = None  # built on the first unmatched credit
        for client in ledger.clients.values():
            for iban in client.ibans:
                self.by_iban.setdefault(compact_iban(iban), []).append(client.id)
            self.by_name.setdefault(compact_name(client.name), []).append(client.id)

    def named(self, text: str) -> list[tuple[str, str]]:
        """The invoices a remittance text names, in the order named: (number, "invoice"|"rf")."""
        tokens = [t.upper() for t in _TOKEN.findall(text)]
        found: list[tuple[str, str]] = []
        seen: set[str] = set()
        i = 0
        while i < len(tokens):
            hit = None
            joined = ""
            for j in range(i, min(i + _MAX_TOKENS, len(tokens))):
                joined += tokens[j]
                if len(joined) in self.lengths and joined in self.numbers:
                    hit = (self.numbers[joined], j)  # the longest run wins
                if len(joined) > 40:
                    break
            if hit is None:
                i += 1
                continue
            (number, how), end = hit
            if number not in seen:
                seen.add(number)
                found.append((number, how))
            i = end + 1
        return found

    def match(self, tx: Transaction) -> Match:
        named = self.named(tx.text)
        clients = {self.states[n].client for n, _ in named}
        if named and len(clients) == 1:
            client = clients.pop()
            rule = "rf" if any(how == "rf" for _, how in named) else "invoice"
            return self._in_currency(Match(tx, client, tuple(n for n, _ in named), rule))
        if tx.iban:
            owners = self.by_iban.get(compact_iban(tx.iban), [])
            if len(owners) == 1:
                return self._in_currency(Match(tx, owners[0], (), "iban"))
        if tx.payer:
            owners = self.by_name.get(compact_name(tx.payer), [])
            if len(owners) == 1:
                return self._in_currency(Match(tx, owners[0], (), "name"))
        if len(clients) > 1:  # the invoices it names are the likeliest candidates
            states = [self.states[n] for n, _ in named]
            return Match(tx, None, (), "names invoices of several clients",
                         tuple(f"{s.number} ({s.client}, " + (f"{s.outstanding} {s.currency} open)" if s.outstanding > 0
                                                               else "settled)") for s in states[:3]))
        return Match(tx, None, (), "no invoice, account or name matches", self.candidates(tx))

    def _in_currency(self, found: Match) -> Match:
        assert found.client is not None
        currency = self.ledger.client_currency(found.client)
        tx = found.tx
        if tx.currency != currency and self.rates.lookup(tx.currency, currency, tx.date) is None:
            return Match(tx, None, (), f"{tx.currency} from client '{found.client}' (invoices in {currency}) "
                         f"and no fx rate {tx.currency}/{currency} on or before {tx.date}",
                         (f"{found.client}: add '{tx.date} fx {tx.currency} {currency} RATE'",))
        return found

    def candidates(self, tx: Transaction, limit: int = 3) -> tuple[str, ...]:
        """The likeliest invoices and clients for a transaction that matched nothing: open invoices
        of the same amount (outstanding or total), then clients of a similar name."""
        if self.by_amount is None:
            self.by_amount = {}
            for state in sorted(self.states.values(), key=lambda s: (s.doc.due, s.number)):
                if state.outstanding > 0:
                    for value in {state.outstanding, state.doc.total}:
                        self.by_amount.setdefault((state.currency, value), []).append(state)
        out = [f"{s.number} ({s.client}, {s.outstanding} {s.currency} open)"
               for s in self.by_amount.get((tx.currency, tx.amount), ())[:limit]]
        if tx.payer and len(out) < limit:
            grams = _trigrams(compact_name(tx.payer))
            scored = []
            for ident, theirs in self.names:
                shared = len(grams & theirs)
                if shared and 2 * shared >= 0.6 * (len(grams) + len(theirs)):  # Dice similarity >= 0.6
                    scored.append((-shared, ident))
            out += [f"client {ident}" for _, ident in sorted(scored)]
        return tuple(out[:limit])


def _trigrams(text: str) -> frozenset[str]:
    return frozenset(text[i:i + 3] for i in range(max(len(text) - 2, 1)))


def account_matches(company_iban: str, account: str) -> bool:
    """Whether a statement's account is the company's: the same IBAN, or (a statement naming
    the domestic account number only) the IBAN's trailing digits."""
    ours, theirs = compact_iban(company_iban), compact_iban(account)
    if theirs in (ours, ours + theirs[-3:]) and (theirs == ours or theirs[-3:].isalpha()):
        return True  # the same IBAN, or the IBAN with its currency after it (DE89...3000EUR, as some MT940 :25:)
    if re.fullmatch(r"[A-Z]{2}\d\d[A-Z0-9]+", theirs):
        return False
    digits = re.sub(r"\D", "", theirs).lstrip("0")
    return len(digits) >= 6 and re.sub(r"\D", "", ours[4:]).endswith(digits)


