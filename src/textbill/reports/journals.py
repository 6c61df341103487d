"""The receivables as plain-text accounting: hledger and Beancount journals, or CSV postings.

One transaction per document and money event up to the as-of day, each in the document's
currency, with the account roots of `export:` in textbill.yaml (core/accounts.py):

- invoice:      RECEIVABLE:CLIENT +total; INCOME:TAX -basis per tax group; TAX:NAME-RATE -tax
- credit note:  the credited share of each group, signs reversed, against the receivable of the
                invoice; what the invoice no longer needed (it was paid or written off) goes where
                the settlement replay sent it: other invoices, CREDIT:CLIENT, or back off WRITEOFF
- payment:      BANK +amount (in the currency paid, priced @@ in the invoice currency when they
                differ); one RECEIVABLE:CLIENT posting per invoice it settles; CREDIT:CLIENT for
                what is left (an overpayment)
- client credit settling a later invoice, on its date: CREDIT:CLIENT +x, RECEIVABLE:CLIENT -x
- write-off:    WRITEOFF +written off, RECEIVABLE:CLIENT -written off

Every receivable posting names the one invoice it concerns (`Posting.invoice`), as the settlement
replay (engine/receivables.py) decided it: its allocations and what it gave back.  So the postings
of one invoice sum, on every day, to textbill's outstanding for it, each client's receivable to
the client's outstanding, and the credit account to minus the client's unapplied credit.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import MappingProxyType

from textbill.core import model as m
from textbill.core.accounts import Accounts
from textbill.core.books import Allocation, Books, InvoiceState, Receivables, TaxGroup
from textbill.core.money import ZERO, fmt, round_money
from textbill.engine.fx import Rates


@dataclass(frozen=True)
class Posting:
    account: str
    amount: Decimal
    currency: str
    price: tuple[Decimal, str] | None = None  # total price (@@) in another currency
    invoice: str | None = None  # the one invoice a receivable posting concerns


@dataclass(frozen=True)
class Txn:
    date: date
    kind: str  # invoice | credit-note | payment | credit | writeoff
    id: str  # unique in the export and stable from one export to the next
    ref: str  # document number, or the payment's reference
    client: str
    payee: str
    narration: str
    postings: tuple[Posting, ...]

    @property
    def invoices(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.invoice for p in self.postings if p.invoice))


def _group_postings(acc: Accounts, groups: tuple[TaxGroup, ...], currency: str, sign: int) -> list[Posting]:
    out = []
    for g in groups:
        if g.basis:
            out.append(Posting(acc.income(g.tax), -sign * g.basis, currency))
        if g.tax_amount:
            out.append(Posting(acc.tax(g.tax), -sign * g.tax_amount, currency))
    return out


def _by_source(rec: Receivables) -> dict[int, list[tuple[InvoiceState, Allocation, bool]]]:
    """The replay's allocations (False) and give-backs (True), by the entry that caused them (its id())."""
    out: dict[int, list[tuple[InvoiceState, Allocation, bool]]] = {}
    for state in rec.invoices.values():
        for given_back, found in ((False, state.allocations), (True, state.returned)):
            for a in found:
                if a.source is not None:
                    out.setdefault(id(a.source), []).append((state, a, given_back))
    return out


def transactions(ledger: m.Ledger, books: Books, rec: Receivables, acc: Accounts) -> list[Txn]:
    """Every accounting transaction up to rec.as_of, in date order."""
    def name(client: str) -> str:
        c = ledger.clients.get(client)
        return c.name if c else client

    moved = _by_source(rec)

    def receivable(source: object, kinds: tuple[str, ...]) -> list[Posting]:
        return [Posting(acc.client(s.client), -a.amount, s.currency, invoice=s.number)
                for s, a, given_back in moved.get(id(source), ()) if a.kind in kinds and a.amount and not given_back]

    out: list[tuple] = []
    for i, state in enumerate(rec.invoices.values()):
        doc = state.doc
        postings = [Posting(acc.client(state.client), doc.total, doc.currency, invoice=doc.number),
                    *_group_postings(acc, doc.groups, doc.currency, +1)]
        out.append((doc.date, 0, i, Txn(doc.date, "invoice", doc.number, doc.number, state.client,
                                        name(state.client), f"Invoice {doc.number}", tuple(postings))))
        from_credit = receivable(doc, ("credit",))
        if from_credit:
            used = -sum((p.amount for p in from_credit), ZERO)
            out.append((doc.date, 3, i, Txn(doc.date, "credit", f"{doc.number}/credit", doc.number, state.client,
                                            name(state.client), f"Client credit applied to {doc.number}",
                                            (Posting(acc.credit(state.client), used, doc.currency),
                                             *from_credit))))
    for i, cn in enumerate(ledger.credit_notes):
        credit = books.credits.get(cn.number)
        corrected = rec.invoices.get(cn.invoice)
        if credit is None or corrected is None or cn.date > rec.as_of:
            continue
        client, ccy = corrected.client, corrected.currency
        back = [a for s, a, given_back in moved.get(id(cn), ()) if s is corrected and given_back]
        kept = credit.amount - sum((a.amount for a in back), ZERO)
        postings = [*_group_postings(acc, credit.groups, ccy, -1)]
        if kept:
            postings.append(Posting(acc.client(client), -kept, ccy, invoice=corrected.number))
        others = receivable(cn, ("credit",))
        postings += others
        freed = sum((a.amount for a in back if a.kind == "paid"), ZERO) + sum((p.amount for p in others), ZERO)
        if freed:
            postings.append(Posting(acc.credit(client), -freed, ccy))
        undone = sum((a.amount for a in back if a.kind == "writeoff"), ZERO)
        if undone:
            postings.append(Posting(acc.writeoff, -undone, ccy))
        out.append((cn.date, 1, i, Txn(cn.date, "credit-note", cn.number, cn.number, client, name(client),
                                       f"Credit note {cn.number} for {cn.invoice}", tuple(postings))))
    rates = Rates(ledger.fxs)
    count: dict[tuple, int] = {}
    for i, p in enumerate(ledger.payments):
        if p.date > rec.as_of or p.client not in ledger.clients:
            continue
        currency = ledger.client_currency(p.client)
        paid_ccy = p.amount.currency or currency
        amount, price = p.amount.value, None
        if paid_ccy != currency:
            found = rates.lookup(paid_ccy, currency, p.date)
            if found is None:
                continue  # an error in the ledger (E150): the payment settles nothing
            amount = round_money(p.amount.value * found[0], currency)
            price = (amount, currency)
        key = (p.date, p.client)
        count[key] = count.get(key, 0) + 1
        bank = Posting(acc.bank, p.amount.value, paid_ccy, price) if price else Posting(acc.bank, amount, currency)
        settled = receivable(p, ("payment",))
        left = amount + sum((q.amount for q in settled), ZERO)
        postings = [bank, *settled]
        if left:
            postings.append(Posting(acc.credit(p.client), -left, currency))
        what = f"Payment {p.ref}" if p.ref else "Payment"
        if p.via:
            what += f" via {p.via}"
        out.append((p.date, 2, i, Txn(p.date, "payment", f"payment/{p.date}/{p.client}/{count[key]}", p.ref or "",
                                      p.client, name(p.client), what, tuple(postings))))
    for i, w in enumerate(ledger.writeoffs):
        taken = receivable(w, ("writeoff",))
        if w.date > rec.as_of or not taken:
            continue
        state = rec.invoices[w.invoice]
        total = -sum((q.amount for q in taken), ZERO)
        out.append((w.date, 4, i, Txn(w.date, "writeoff", f"{w.invoice}/writeoff", w.invoice, state.client,
                                      name(state.client),
                                      f"Write-off {w.invoice}" + (f": {w.reason}" if w.reason else ""),
                                      (Posting(acc.writeoff, total, state.currency), *taken))))
    out.sort(key=lambda t: t[:3])
    return [t[3] for t in out]


# ---------------------------------------------------------------------------- hledger

def _amount(value: Decimal, currency: str) -> str:
    return f"{fmt(value, currency)} {currency}"


def _posting_amount(p: Posting) -> str:
    text = _amount(p.amount, p.currency)
    if p.price:
        text += f" @@ {_amount(p.price[0], p.price[1])}"
    return text


def _tag_value(text: str) -> str:
    return re.sub(r"[,\s]+", "_", text)


@dataclass(frozen=True)
class Declare:
    """Which declarations an export writes: accounts (hledger `account`, Beancount `open`) and
    commodities; leave out what the books it is included into already declare."""

    accounts: bool = True
    commodities: bool = True
    have_accounts: frozenset[str] = frozenset()  # declared by the user's books: left out
    have_commodities: frozenset[str] = frozenset()


DECLARE_ALL = Declare()

_BEAN_OPEN = re.compile(r"^\d{4}-\d{2}-\d{2}\s+open\s+(\S+)", re.MULTILINE)
_BEAN_COMMODITY = re.compile(r"^\d{4}-\d{2}-\d{2}\s+commodity\s+(\S+)", re.MULTILINE)


def declared_in(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """The accounts a Beancount file opens and the commodities it declares (its own lines, not its includes)."""
    return frozenset(_BEAN_OPEN.findall(text)), frozenset(_BEAN_COMMODITY.findall(text))


def _used(txns: list[Txn]) -> tuple[dict[str, date], list[str]]:
    """Every account (with the day it is first used) and every currency the transactions use."""
    first: dict[str, date] = {}
    currencies: set[str] = set()
    for t in txns:
        for p in t.postings:
            first.setdefault(p.account, t.date)
            currencies.add(p.currency)
            if p.price:
                currencies.add(p.price[1])
    return first, sorted(currencies)


def _account_type(account: str, acc: Accounts) -> str:
    """hledger's account type of an account below a root: A, L, R or X."""
    for key, kind in (("receivable", "A"), ("bank", "A"), ("credit", "L"), ("tax", "L"), ("income", "R"),
                      ("writeoff", "X")):
        root = acc.root(key)
        if account == root or account.startswith(root + ":"):
            return kind
    return ""


def _payee(text: str) -> str:
    return _one_line(text).replace(";", ",").replace("|", "/")


def to_hledger(txns: list[Txn], as_of: date, company: m.Company | None, acc: Accounts,
               declare: Declare = DECLARE_ALL) -> str:
    out = [f"; textbill receivables as of {as_of}: invoices, credit notes, payments and write-offs",
           "; generated by 'textbill export hledger'; do not edit, export again", ""]
    first, currencies = _used(txns)
    if declare.commodities and currencies:
        out += [f"commodity {fmt(Decimal(1000), c)} {c}" for c in currencies] + [""]
    if declare.accounts and first:
        for account in sorted(first):
            kind = _account_type(account, acc)
            out.append(f"account {account}" + (f"  ; type:{kind}" if kind else ""))
        out.append("")
    payees = sorted({_payee(t.payee) for t in txns})
    if payees:
        out += [f"payee {p}" for p in payees] + [""]
    width = max((len(p.account) for t in txns for p in t.postings), default=20) + 4
    for t in txns:
        tags = [f"type:{t.kind}", f"client:{t.client}", f"id:{_tag_value(t.id)}"]
        out.append(f"{t.date} * {_payee(t.payee)} | {_one_line(t.narration).replace(';', ',')}  ; {', '.join(tags)}")
        for p in t.postings:
            line = f"    {p.account:<{width}}{_posting_amount(p):>20}"
            if p.invoice:
                line += f"  ; invoice:{_tag_value(p.invoice)}"
            out.append(line)
        out.append("")
    return "\n".join(out)


def _one_line(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------------------- beancount

def _bean_string(text: str) -> str:
    return '"' + _one_line(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _link(number: str) -> str:
    return "^" + (re.sub(r"[^A-Za-z0-9\-_/.]", "-", number) or "doc")


def _bean_parts(t: Txn, acc: Accounts) -> list[tuple[Txn, str | None]]:
    """A transaction as Beancount transactions linked to at most one invoice each: a link names a
    whole transaction, so money for several invoices passes through the client's credit account
    (two transactions of the same day that leave it as it was)."""
    invoices = t.invoices
    if len(invoices) <= 1:
        return [(t, invoices[0] if invoices else None)]
    credit = acc.credit(t.client)
    moved = [p for p in t.postings if p.invoice]
    rest = [p for p in t.postings if not p.invoice]
    currency = moved[0].currency
    main = Txn(t.date, t.kind, t.id, t.ref, t.client, t.payee, t.narration,
               (*rest, Posting(credit, sum((p.amount for p in moved), ZERO), currency)))
    parts: list[tuple[Txn, str | None]] = [(main, None)]
    for number in invoices:
        mine = [p for p in moved if p.invoice == number]
        amount = sum((p.amount for p in mine), ZERO)
        parts.append((Txn(t.date, t.kind, t.id, t.ref, t.client, t.payee, f"{t.narration}: {number}",
                          (Posting(credit, -amount, currency), *mine)), number))
    return parts


def to_beancount(txns: list[Txn], as_of: date, company: m.Company | None, acc: Accounts,
                 declare: Declare = DECLARE_ALL) -> str:
    out = [f"; textbill receivables as of {as_of}: invoices, credit notes, payments and write-offs",
           "; generated by 'textbill export beancount'; do not edit, export again"]
    if company is not None:
        out += [f'option "title" {_bean_string(company.name + " receivables")}',
                f'option "operating_currency" "{company.currency}"']
    out.append("")
    parts = [part for t in txns for part in _bean_parts(t, acc)]
    first, currencies = _used([t for t, _ in parts])
    opened = min(first.values(), default=as_of)
    currencies = [c for c in currencies if c not in declare.have_commodities]
    if declare.commodities and currencies:
        out += [f"{opened} commodity {c}" for c in currencies] + [""]
    accounts = [a for a in sorted(first) if a not in declare.have_accounts]
    if declare.accounts and accounts:
        out += [f"{opened} open {account}" for account in accounts] + [""]
    for t, number in parts:
        links = " ".join(dict.fromkeys(_link(x) for x in (number, t.id) if x))
        out.append(f"{t.date} * {_bean_string(t.payee)} {_bean_string(t.narration)} #{t.kind} {links}")
        out.append(f"  client: {_bean_string(t.client)}")
        if t.kind in ("invoice", "credit-note", "writeoff"):
            out.append(f"  document: {_bean_string(t.ref)}")
        width = max(len(p.account) for p in t.postings) + 4
        for p in t.postings:
            out.append(f"  {p.account:<{width}}{_posting_amount(p):>20}")
            if p.invoice:
                out.append(f"    invoice: {_bean_string(p.invoice)}")
        out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------------------- csv

CSV_COLUMNS = ("txn", "date", "kind", "ref", "client", "account", "amount", "currency", "price", "price_currency",
               "invoice", "description")


def csv_rows(txns: list[Txn]) -> list[dict[str, str]]:
    """One row per posting, by CSV_COLUMNS; written by render/csv.py, which makes text cells inert.
    The rows of one `txn` balance in `currency`, a row with a `price` counting as that price."""
    return [dict(zip(CSV_COLUMNS, (t.id, t.date.isoformat(), t.kind, t.ref, t.client, p.account,
                                   fmt(p.amount, p.currency), p.currency,
                                   fmt(p.price[0], p.price[1]) if p.price else "", p.price[1] if p.price else "",
                                   p.invoice or "", t.narration),
                     strict=True))
            for t in txns for p in t.postings]


FORMATS = MappingProxyType({"hledger": to_hledger, "beancount": to_beancount})
