"""The receivables as plain-text accounting: hledger and Beancount journals, or CSV postings.

One transaction per document and money event up to the as-of day, each in
the document's currency and tagged with the invoice number(s) it concerns:

- invoice:      Assets:Receivables:CLIENT  +total
                Income:Sales:TAX           -basis, one per tax group
                Liabilities:Tax:NAME-RATE  -tax, one per taxed group
- credit note:  the same with the credited share of each group, signs reversed
- payment:      Assets:Bank +amount (in the currency paid, priced in the
                invoice currency when they differ), Assets:Receivables:CLIENT -amount
- write-off:    Expenses:Bad-Debt +written off, Assets:Receivables:CLIENT -written off

So each client's receivables account holds, per currency, exactly textbill's
outstanding minus the client's unapplied credit as of the day.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import MappingProxyType

from textbill.core import model as m
from textbill.core.books import Books, Receivables, TaxGroup
from textbill.core.money import ZERO, fmt, round_money
from textbill.engine.fx import Rates

RECEIVABLES = "Assets:Receivables"
SALES = "Income:Sales"
TAX = "Liabilities:Tax"
BANK = "Assets:Bank"
BAD_DEBT = "Expenses:Bad-Debt"


@dataclass(frozen=True)
class Posting:
    account: str
    amount: Decimal
    currency: str
    price: tuple[Decimal, str] | None = None  # total price (@@) in another currency


@dataclass(frozen=True)
class Txn:
    date: date
    kind: str  # invoice | credit-note | payment | writeoff
    ref: str  # document number, or the payment's reference
    client: str
    payee: str
    narration: str
    invoices: tuple[str, ...]
    postings: tuple[Posting, ...]


def component(text: str) -> str:
    """An account name component both hledger and Beancount accept: 'VAT 23%' -> 'VAT-23'."""
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    s = re.sub(r"[^A-Za-z0-9]+", "-", ascii_).strip("-") or "X"
    return s[0].upper() + s[1:]


def client_account(client: str) -> str:
    return f"{RECEIVABLES}:{component(client)}"


def _tax_component(tax: m.Tax) -> str:
    if tax.kind == "rate":
        return component(f"{tax.name} {tax.percent.normalize():f}")
    return {"exempt": "Exempt", "reverse-charge": "Reverse-Charge"}.get(tax.kind, "No-Tax")


def _group_postings(groups: tuple[TaxGroup, ...], currency: str, sign: int) -> list[Posting]:
    out = []
    for g in groups:
        if g.basis:
            out.append(Posting(f"{SALES}:{_tax_component(g.tax)}", -sign * g.basis, currency))
        if g.tax_amount:
            out.append(Posting(f"{TAX}:{_tax_component(g.tax)}", -sign * g.tax_amount, currency))
    return out


def transactions(ledger: m.Ledger, books: Books, rec: Receivables) -> list[Txn]:
    """Every accounting transaction up to rec.as_of, in date order."""
    def name(client: str) -> str:
        c = ledger.clients.get(client)
        return c.name if c else client

    out: list[tuple] = []
    for i, state in enumerate(rec.invoices.values()):
        doc = state.doc
        postings = [Posting(client_account(state.client), doc.total, doc.currency),
                    *_group_postings(doc.groups, doc.currency, +1)]
        out.append((doc.date, 0, i, Txn(doc.date, "invoice", doc.number, state.client, name(state.client),
                                        f"Invoice {doc.number}", (doc.number,), tuple(postings))))
    for i, ev in enumerate(e for e in rec.events if e.kind == "credit-note"):
        credit = books.credits[ev.ref]
        inv = credit.invoice
        assert inv is not None  # a credit note on the receivables corrects an issued invoice
        postings = [Posting(client_account(ev.client), -credit.amount, credit.currency),
                    *_group_postings(credit.groups, credit.currency, -1)]
        out.append((ev.date, 1, i, Txn(ev.date, "credit-note", credit.number, ev.client, name(ev.client),
                                       f"Credit note {credit.number} for {inv.number}", (inv.number,),
                                       tuple(postings))))
    rates = Rates(ledger.fxs)
    settled: dict[tuple, list[str]] = {}
    for state in rec.invoices.values():
        for a in state.allocations:
            if a.kind == "payment":
                settled.setdefault((state.client, a.date, a.ref), []).append(state.number)
    for i, p in enumerate(sorted(ledger.payments, key=lambda p: p.date)):
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
        ref = p.ref or (" ".join(p.invoices) if p.invoices else "")
        invoices = tuple(dict.fromkeys([*p.invoices, *settled.get((p.client, p.date, ref), [])]))
        bank = Posting(BANK, p.amount.value, paid_ccy, price) if price else Posting(BANK, amount, currency)
        postings = [bank, Posting(client_account(p.client), -amount, currency)]
        what = f"Payment {p.ref}" if p.ref else "Payment"
        if p.via:
            what += f" via {p.via}"
        out.append((p.date, 2, i, Txn(p.date, "payment", p.ref or "", p.client, name(p.client), what, invoices,
                                      tuple(postings))))
    written = {e.ref: -e.amount for e in rec.events if e.kind == "writeoff"}
    for i, state in enumerate(rec.invoices.values()):
        w = state.writeoff
        amount = written.get(state.number, ZERO)
        if w is None or not amount:
            continue
        out.append((w.date, 4, i, _writeoff(state, amount, w.date, name(state.client),
                                            f"Write-off {state.number}" + (f": {w.reason}" if w.reason else ""))))
        if state.written_off < amount:
            # a credit note after the write-off took part of it back: book that on the credit note's
            # day, so the history of an earlier export is never rewritten
            later = [c for c in ledger.credit_notes
                     if c.invoice == state.number and w.date <= c.date <= rec.as_of]
            day = max((c.date for c in later), default=w.date)
            refs = " ".join(c.number for c in later)
            out.append((day, 5, i, _writeoff(state, state.written_off - amount, day, name(state.client),
                                             f"Write-off {state.number} reduced by {refs or 'a credit note'}")))
    out.sort(key=lambda t: t[:3])
    return [t[3] for t in out]


def _writeoff(state, amount: Decimal, day: date, payee: str, narration: str) -> Txn:
    postings = (Posting(BAD_DEBT, amount, state.currency),
                Posting(client_account(state.client), -amount, state.currency))
    return Txn(day, "writeoff", state.number, state.client, payee, narration, (state.number,), postings)


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


def to_hledger(txns: list[Txn], as_of: date, company: m.Company | None = None) -> str:
    out = [f"; textbill receivables as of {as_of}: invoices, credit notes, payments and write-offs",
           "; generated by 'textbill export hledger'; do not edit, export again", ""]
    width = max((len(p.account) for t in txns for p in t.postings), default=20) + 4
    for t in txns:
        tags = [f"type:{t.kind}", f"client:{t.client}"] + [f"invoice:{_tag_value(n)}" for n in t.invoices]
        desc = f"{_one_line(t.payee)} | {_one_line(t.narration)}".replace(";", ",")
        out.append(f"{t.date} * {desc}  ; {', '.join(tags)}")
        for p in t.postings:
            out.append(f"    {p.account:<{width}}{_posting_amount(p):>20}")
        out.append("")
    return "\n".join(out)


def _one_line(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------------------- beancount

def _bean_string(text: str) -> str:
    return '"' + _one_line(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _link(number: str) -> str:
    return "^" + (re.sub(r"[^A-Za-z0-9\-_/.]", "-", number) or "doc")


def to_beancount(txns: list[Txn], as_of: date, company: m.Company | None = None) -> str:
    out = [f"; textbill receivables as of {as_of}: invoices, credit notes, payments and write-offs",
           "; generated by 'textbill export beancount'; do not edit, export again"]
    if company is not None:
        out += [f'option "title" {_bean_string(company.name + " receivables")}',
                f'option "operating_currency" "{company.currency}"']
    out.append("")
    first: dict[str, date] = {}
    currencies: set[str] = set()
    for t in txns:
        for p in t.postings:
            first.setdefault(p.account, t.date)
            currencies.add(p.currency)
            if p.price:
                currencies.add(p.price[1])
    opened = min(first.values(), default=as_of)
    for account in sorted(first):
        out.append(f"{opened} open {account}")
    out.append("")
    for t in txns:
        links = " ".join(_link(n) for n in t.invoices)
        out.append(f"{t.date} * {_bean_string(t.payee)} {_bean_string(t.narration)} #{t.kind}"
                   + (f" {links}" if links else ""))
        out.append(f"  client: {_bean_string(t.client)}")
        if t.kind in ("invoice", "credit-note", "writeoff"):
            out.append(f"  document: {_bean_string(t.ref)}")
        width = max(len(p.account) for p in t.postings) + 4
        for p in t.postings:
            out.append(f"  {p.account:<{width}}{_posting_amount(p):>20}")
        out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------------------- csv

CSV_COLUMNS = ("date", "kind", "ref", "client", "account", "amount", "currency", "invoices", "description")


def csv_rows(txns: list[Txn]) -> list[dict[str, str]]:
    """One row per posting, by CSV_COLUMNS; written by render/csv.py, which makes text cells inert."""
    return [dict(zip(CSV_COLUMNS, (t.date.isoformat(), t.kind, t.ref, t.client, p.account,
                                   fmt(p.amount, p.currency), p.currency, " ".join(t.invoices), t.narration),
                     strict=True))
            for t in txns for p in t.postings]


FORMATS = MappingProxyType({"hledger": to_hledger, "beancount": to_beancount})
