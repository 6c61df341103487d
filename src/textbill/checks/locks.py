"""textbill.lock: issued documents are immutable (docs/language.md, "Issued documents are immutable").

The lock file sits at the ledger root, is written by `textbill lock` and
`textbill issue`, and is committed with the ledger.  It holds one line per
issued document, in the order the documents were locked (new ones are always
appended at the end)::

    FV/2026/0001 invoice 2026-01-31 globex 5012.50 USD sha256:9c1e... s:1a2b3c4d b:... h:... t:... l:2026-01-05:ab12cd.ef34ab,...

Fields: the number (quoted like a ledger string when it holds spaces), the
kind (`invoice` or `credit-note`), the date, the client, the total and its
currency, then the sha256 of the document's canonical content.  The sha256
alone decides whether a document changed; the short digests after it only
help to say *what* changed:

- `s:` the seller (company), `b:` the buyer (client), `h:` the header (dates,
  period, SOWs, notes, the corrected invoice), `t:` the totals and tax groups;
- `l:` one record per invoice line, `DATE:LINE.ENTRY`: the line's digest and
  the digest of the ledger entry it came from (the time entry, expense,
  milestone, SOW or invoice item).  A line whose entry is unchanged but whose
  content changed points at the SOW's terms instead of the entry;
- `p:` the party details the document was issued with (docs/language.md, "client" and
  "Issued documents are immutable"): base64url, without padding, of the canonical JSON `{"s": company,
  "b": client}`, each the non-empty details of COMPANY_DETAILS and
  CLIENT_DETAILS (null for a missing party).  pipeline.analyze() draws every
  locked document with its recorded client (with_recorded_parties), so the
  sha256 of an unchanged document still matches after the client moved.  A
  line without `p:` (written before they were recorded) compares the current
  details, and the next `textbill lock` appends them to it if its document is
  unchanged -- the only edit ever made to an old line.

A digest that is not of the length written (a sha256 of 64 hex digits, parts of
8, line records of 6) or a `p:` that does not decode is a damaged line: E173 on
it, and its document is neither compared nor reported as unlocked.

Canonical content.  A document is reduced to a JSON object (keys sorted, no
white space, UTF-8, strings in Unicode NFC) holding exactly what is printed on
it: `kind`, `number`, `date`, `due`, `currency`, `period`, `sows`, `po`,
`notes`; for credit notes the corrected `invoice`, the `reason` and the
`amount`; the `seller` and the `buyer` (id, name, address, country, tax id);
the `lines` (kind, date, sow, description, quantity, unit, unit price,
amount, tax) in document order; the tax `groups` (tax, net, allowances,
charges, basis, tax); and `net`, `tax`, `total`.  Amounts are written with the
currency's minor digits, quantities and unit prices rounded to 6 decimals
with trailing zeros removed, dates in ISO form, a tax as
`kind:name:percent:reason`.  Nothing depends on file names, line numbers,
the machine, the locale or the order of files, so the digest is stable
across runs, machines and refactorings of the ledger's files.

Why one line per document appended at the end: two git branches that each
issue the next number both append a line after the same last line, which git
reports as a merge conflict in textbill.lock instead of letting two invoices
with one number land silently.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, fields, is_dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from types import MappingProxyType

from textbill.checks.fallout import Fallout, meant_numbers
from textbill.checks.terms import PREFIX as AGREEMENT_PREFIX
from textbill.checks.terms import new_agreements
from textbill.core import model as m
from textbill.core.books import Books
from textbill.core.diagnostics import Diagnostic, error, warning
from textbill.core.frozen import builder
from textbill.core.money import CONTEXT, fmt
from textbill.core.source import Span, find_keyword_line
from textbill.incremental.cache import whole_code_digest
from textbill.incremental.memo import IdentityMemo
from textbill.loading.forked import available_cpus, fork_map
from textbill.loading.loader import display_name, read_bytes
from textbill.loading.writer import locked, write_atomic

LOCK_NAME = "textbill.lock"
FORMAT_VERSION = 1
HEADER = """\
# textbill.lock: issued documents are immutable (docs/language.md, "Issued documents are immutable").
# Written by 'textbill lock' and 'textbill issue'; commit it with the ledger, never edit it.
# One line per document, appended in issue order: number kind date client total currency
# sha256:<canonical content> and short digests of its parts (seller, buyer, header, totals,
# lines) that let textbill name the entry behind a change; p: the party details it was issued with.
"""
_QUANTUM = Decimal("0.000001")
_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|\S+')
_DOCNO = re.compile(r'[^\s;"]+')


# ---------------------------------------------------------------------------- canonical content

def _text(s: str | None) -> str:
    return unicodedata.normalize("NFC", s or "")


def _num(v: Decimal) -> str:
    """A quantity or unit price: rounded to 6 decimals, trailing zeros dropped."""
    q = Decimal(v).quantize(_QUANTUM, rounding=ROUND_HALF_UP, context=CONTEXT)
    s = format(q.normalize(CONTEXT), "f")
    return "0" if s == "-0" else s


def _tax(t: m.Tax) -> str:
    pct = format(t.percent.normalize(), "f") if t.percent else "0"
    return f"{t.kind}:{_text(t.name)}:{pct}:{_text(t.reason)}"


def _day(d: date | None) -> str | None:
    if d is None or d == date.min:
        return None
    return d.isoformat()


def _party(p) -> dict:
    if p is None:
        return {}
    return {"id": p.id, "name": _text(p.name), "address": _text(p.address), "country": p.country or "",
            "tax_id": _text(p.tax_id)}


def _line(ln, currency: str) -> dict:
    return {
        "kind": ln.kind,
        "date": _day(ln.date),
        "sow": ln.sow,
        "description": _text(ln.description),
        "quantity": _num(ln.quantity),
        "unit": ln.unit,
        "unit_price": _num(ln.unit_price),
        "amount": fmt(ln.amount, currency),
        "tax": _tax(ln.tax),
    }


def _lines(lines, currency: str) -> list[dict]:
    """[_line(ln, currency) for ln in lines], each quantity, price, tax and description formatted
    once per document (an invoice's lines share most of them)."""
    memo: dict = {}
    out = []
    for ln in lines:
        key = (ln.quantity, ln.unit_price, ln.tax, ln.description)
        parts = memo.get(key)
        if parts is None:
            parts = memo[key] = (_text(ln.description), _num(ln.quantity), _num(ln.unit_price), _tax(ln.tax))
        out.append({"kind": ln.kind, "date": _day(ln.date), "sow": ln.sow, "description": parts[0],
                    "quantity": parts[1], "unit": ln.unit, "unit_price": parts[2],
                    "amount": fmt(ln.amount, currency), "tax": parts[3]})
    return out


def _group(g, currency: str) -> dict:
    return {"tax": _tax(g.tax), "net": fmt(g.net, currency), "allowances": fmt(g.allowances, currency),
            "charges": fmt(g.charges, currency), "basis": fmt(g.basis, currency),
            "tax_amount": fmt(g.tax_amount, currency)}


def canonical_invoice(doc, company: m.Company | None) -> dict:
    """The canonical content of an invoice (see the module docstring)."""
    content = _invoice_head(doc, company)
    content["lines"] = _lines(doc.lines, doc.currency)
    return content


def _invoice_head(doc, company: m.Company | None) -> dict:
    """The canonical content of an invoice but its lines."""
    inv, c = doc.invoice, doc.currency
    return {
        "v": FORMAT_VERSION,
        "kind": "invoice",
        "number": _text(inv.number),
        "date": inv.date.isoformat(),
        "due": doc.due.isoformat(),
        "currency": c,
        "period": [_day(doc.period.start), _day(doc.period.end)],
        "sows": list(doc.sows),
        "po": _text(inv.po),
        "notes": [_text(n) for n in inv.notes],
        "seller": _party(company),
        "buyer": _party(doc.client),
        "groups": [_group(g, c) for g in doc.groups],
        "net": fmt(doc.net, c),
        "tax": fmt(doc.tax, c),
        "total": fmt(doc.total, c),
    }


def invoice_digest(doc, company: m.Company | None) -> str:
    """digest(canonical_invoice(doc, company)), its lines written as JSON text directly: the
    lock check hashes every invoice of a new process, and a hundred thousand lines made into
    dictionaries, then sorted and encoded, cost most of that."""
    text = _json_text({**_invoice_head(doc, company), "lines": []})
    # the only '"lines":[]' of the text is the key: inside a JSON string every quote is escaped,
    # and no part of an invoice's content has a key of that name
    text = text.replace('"lines":[]', '"lines":' + _lines_json(doc.lines, doc.currency), 1)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


_ENCODE = json.encoder.encode_basestring  # how json.dumps(ensure_ascii=False) writes a string


def _value_json(value) -> str:
    """A plain value as _json writes it."""
    if type(value) is str:
        return _ENCODE(value)
    return _json_text(value)


def _lines_json(lines, currency: str) -> str:
    """_json_text(_lines(lines, currency)), without the dictionaries: each line's keys in sorted
    order, and what an invoice's lines share (days, descriptions, quantities, prices, taxes, SOWs)
    encoded once."""
    texts: dict = {}  # description -> its JSON
    nums: dict = {}  # quantity or unit price -> its JSON
    taxes: dict = {}  # id(tax) -> its JSON (every line holds its tax for the whole loop)
    days: dict = {}  # date -> its JSON
    plain: dict = {}  # kind, SOW or unit -> its JSON
    out = []
    for ln in lines:
        desc = texts.get(ln.description)
        if desc is None:
            desc = texts[ln.description] = _ENCODE(_text(ln.description))
        qty = nums.get(ln.quantity)
        if qty is None:
            qty = nums[ln.quantity] = _ENCODE(_num(ln.quantity))
        price = nums.get(ln.unit_price)
        if price is None:
            price = nums[ln.unit_price] = _ENCODE(_num(ln.unit_price))
        tax = taxes.get(id(ln.tax))
        if tax is None:
            tax = taxes[id(ln.tax)] = _ENCODE(_tax(ln.tax))
        day = days.get(ln.date)
        if day is None:
            day = days[ln.date] = _value_json(_day(ln.date))
        kind, sow, unit = ln.kind, ln.sow, ln.unit
        kind = plain[kind] if kind in plain else plain.setdefault(kind, _value_json(kind))
        sow = plain[sow] if sow in plain else plain.setdefault(sow, _value_json(sow))
        unit = plain[unit] if unit in plain else plain.setdefault(unit, _value_json(unit))
        # an amount is written with digits, a sign and a point only: nothing to escape
        out.append(f'{{"amount":"{fmt(ln.amount, currency)}","date":{day},"description":{desc},'
                   f'"kind":{kind},"quantity":{qty},"sow":{sow},"tax":{tax},"unit":{unit},'
                   f'"unit_price":{price}}}')
    return "[" + ",".join(out) + "]"


def canonical_credit(credit, company: m.Company | None) -> dict:
    """The canonical content of a credit note: what it corrects, by how much, per tax group."""
    cn, c = credit.note, credit.currency
    tax = sum((g.tax_amount for g in credit.groups), Decimal(0))
    return {
        "v": FORMAT_VERSION,
        "kind": "credit-note",
        "number": _text(cn.number),
        "date": cn.date.isoformat(),
        "invoice": _text(cn.invoice),
        "currency": c,
        "reason": _text(cn.reason),
        "notes": [_text(n) for n in cn.notes],
        "seller": _party(company),
        "buyer": _party(credit.invoice.client if credit.invoice else None),
        "lines": [],
        "groups": [_group(g, c) for g in credit.groups],
        "net": fmt(credit.amount - tax, c),
        "tax": fmt(tax, c),
        "total": fmt(credit.amount, c),
    }


def _json(obj) -> bytes:
    return _json_text(obj).encode("utf-8")


def _json_text(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _short(obj, n: int = 8) -> str:
    return hashlib.sha256(_json(obj)).hexdigest()[:n]


def digest(content: dict) -> str:
    """`sha256:` of a document's canonical content."""
    return "sha256:" + hashlib.sha256(_json(content)).hexdigest()


_HEADER_KEYS = ("kind", "number", "date", "due", "currency", "period", "sows", "po", "notes", "invoice", "reason")
_TOTAL_KEYS = ("groups", "net", "tax", "total")


def _plain(obj):
    """A model node as plain JSON data, without its source location."""
    if is_dataclass(obj):
        return {f.name: _plain(getattr(obj, f.name)) for f in fields(obj) if f.name != "span"}
    if isinstance(obj, (tuple, list)):
        return [_plain(x) for x in obj]
    if isinstance(obj, Decimal):
        return format(obj.normalize(), "f")
    if isinstance(obj, date):
        return obj.isoformat()
    if isinstance(obj, str):
        return _text(obj)
    if obj is None or isinstance(obj, (bool, int)):
        return obj
    return str(obj)


# ---------------------------------------------------------------------------- lock entries

@dataclass(frozen=True, slots=True)
class LineRecord:
    date: str  # ISO date or "-"
    line: str  # digest of the line's canonical content
    entry: str  # digest of the ledger entry it came from


_LINE = builder(LineRecord)


class _InText:
    """A part of a text kept anyway (textbill.lock's), by position: an entry's `l:` records are
    its longest part (30 MB of a million-entry ledger's lock), and a check reads few of them."""

    __slots__ = ("start", "stop", "text")

    def __init__(self, text: str, start: int, stop: int) -> None:
        self.text, self.start, self.stop = text, start, stop

    def __str__(self) -> str:
        return self.text[self.start:self.stop]

    def __reduce__(self):
        return str, (str(self),)  # never the whole text


class _Records:
    """Entry.lines, the line records: given as records, or as the text of a lock line's `l:`
    (checked against its pattern) that is read into records when first asked for.  A lock of a
    thousand invoices holds a hundred thousand records, and a check reads those of a changed
    document only."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = "_" + name

    def __get__(self, obj, owner=None) -> tuple[LineRecord, ...]:
        if obj is None:
            return ()  # the field's default
        value = obj.__dict__[self.slot]
        if type(value) is _InText:
            value = str(value)
        if type(value) is str:
            # each record is DAY:LINE.ENTRY (_LINE_RECORD): day, line and entry in turn
            fields_ = iter(value.replace(":", ",").replace(".", ",").split(","))
            value = obj.__dict__[self.slot] = tuple(map(_LINE, fields_, fields_, fields_))
        return value

    def __set__(self, obj, value: tuple[LineRecord, ...] | str) -> None:
        obj.__dict__[self.slot] = value


@dataclass(frozen=True)
class Entry:
    """One locked document: a line of textbill.lock."""

    number: str
    kind: str  # invoice | credit-note
    date: str
    client: str
    total: str
    currency: str
    sha256: str
    parts: dict  # s, b, h, t -> short digests
    lines: tuple[LineRecord, ...] = _Records()  # type: ignore[assignment]  # or an l:'s text (or its place)
    lineno: int = 0  # where it is in textbill.lock (0: not yet written)
    parties: dict | None = None  # {"s": company details, "b": client details} at issue (None: not recorded)
    damaged: bool = False  # its line is damaged (an E173 says where): it is neither compared nor locked again

    def format(self) -> str:
        number = self.number if _DOCNO.fullmatch(self.number) else _quote(self.number)
        head = [number, self.kind, self.date, self.client, self.total, self.currency, self.sha256]
        head += [f"{k}:{self.parts[k]}" for k in ("s", "b", "h", "t") if k in self.parts]
        if self.lines:
            head.append("l:" + ",".join(f"{r.date}:{r.line}.{r.entry}" for r in self.lines))
        if self.parties is not None:
            head.append(parties_token(self.parties))
        return " ".join(head)


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _unquote(tok: str) -> str:
    if tok.startswith('"') and tok.endswith('"') and len(tok) >= 2:
        return re.sub(r"\\(.)", lambda mt: "\n" if mt.group(1) == "n" else mt.group(1), tok[1:-1])
    return tok


class NodeIndex:
    """Ledger directives (and invoice items) by where they come from, to go from a line to its entry."""

    def __init__(self, ledger: m.Ledger):
        self.by_place: dict[tuple[str, int], object] = {}
        for d in ledger.directives:
            self.by_place.setdefault((d.span.file, d.span.line), d)
            for item in getattr(d, "items", ()) or ():
                if item.span.line:
                    self.by_place.setdefault((item.span.file, item.span.line), item)

    def node(self, span) -> object | None:
        if span is None or not getattr(span, "line", 0):
            return None
        return self.by_place.get((span.file, span.line))


def _entry_digest(ln, index: NodeIndex, currency: str) -> str:
    """The digest of the ledger entry behind a line (a manual item without a span of its own: the line)."""
    for span in ln.sources:
        node = index.node(span)
        if node is not None and not isinstance(node, m.Invoice):
            return _short(_plain(node), 6)
    return _short(_line(ln, currency), 6)


def entry_for_invoice(doc, company, index: NodeIndex) -> Entry:
    content = canonical_invoice(doc, company)
    records = tuple(
        LineRecord(_day(ln.date) or "-", _short(line, 6), _entry_digest(ln, index, doc.currency))
        for ln, line in zip(doc.lines, content["lines"]))
    return Entry(doc.number, "invoice", doc.date.isoformat(), doc.invoice.client, content["total"],
                 doc.currency, digest(content), _parts(content), records,
                 parties=parties_of(company, doc.client))


def entry_for_credit(credit, company) -> Entry:
    content = canonical_credit(credit, company)
    client = credit.invoice.invoice.client if credit.invoice else "-"
    return Entry(credit.number, "credit-note", credit.date.isoformat(), client, content["total"],
                 credit.currency, digest(content), _parts(content),
                 parties=parties_of(company, credit.invoice.client if credit.invoice else None))


def _parts(content: dict) -> dict:
    return {
        "s": _short(content["seller"]),
        "b": _short(content["buyer"]),
        "h": _short({k: content.get(k) for k in _HEADER_KEYS}),
        "t": _short({k: content[k] for k in _TOTAL_KEYS}),
    }


# ---------------------------------------------------------------------------- party details

# what a document keeps of its parties (docs/language.md, "Issued documents are immutable"): the details printed on it
COMPANY_DETAILS = ("name", "address", "country", "email", "phone", "website", "tax_id", "fields")
CLIENT_DETAILS = ("name", "address", "country", "contact", "contact_email", "email", "phone", "tax_id", "fields")
_EMPTY = MappingProxyType({"name": "", "address": "", "fields": ()})  # a detail recorded as absent; others None


def _details(party, names: tuple[str, ...]) -> dict | None:
    if party is None:
        return None
    out: dict = {}
    for name in names:
        value = getattr(party, name)
        if value:
            out[name] = [[k, v] for k, v in value] if name == "fields" else value
    return out


def parties_of(company: m.Company | None, client: m.Client | None) -> dict:
    """The party details a lock entry records: {"s": the company's, "b": the client's}."""
    return {"s": _details(company, COMPANY_DETAILS), "b": _details(client, CLIENT_DETAILS)}


def parties_token(parties: dict) -> str:
    """`p:` and the party details as base64url (no padding) of their canonical JSON."""
    return "p:" + base64.urlsafe_b64encode(_json(parties)).decode("ascii").rstrip("=")


def _read_parties(value: str) -> dict | None:
    """The party details of a `p:` token, or None when the token is damaged."""
    try:
        obj = json.loads(base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_", validate=True))
    except (binascii.Error, ValueError):  # bad base64, UTF-8 or JSON
        return None
    if not isinstance(obj, dict) or set(obj) != {"s", "b"}:
        return None
    for key, names in (("s", COMPANY_DETAILS), ("b", CLIENT_DETAILS)):
        details = obj[key]
        if details is None:
            continue
        if not isinstance(details, dict) or not set(details) <= set(names):
            return None
        for name, detail in details.items():
            if name == "fields":
                ok = isinstance(detail, list) and all(
                    isinstance(f, list) and len(f) == 2 and all(isinstance(x, str) for x in f) for f in detail)
            else:
                ok = isinstance(detail, str)
            if not ok:
                return None
    return obj


def as_recorded(party, details: dict | None, names: tuple[str, ...]):
    """The party with the details recorded for a document (the very same object when they are equal)."""
    if party is None or details is None:
        return party
    values = {}
    for name in names:
        value = details.get(name)
        if name == "fields":
            value = tuple((k, v) for k, v in value) if value else ()
        elif value is None:
            value = _EMPTY.get(name)
        values[name] = value
    if all(getattr(party, name) == value for name, value in values.items()):
        return party
    return replace(party, **values)


def with_recorded_parties(books: Books, lock: LockFile, memo: IdentityMemo | None = None,
                          company: m.Company | None = None) -> Books:
    """The books with each locked document's client and company as textbill.lock recorded them (docs/language.md, "Issued documents are immutable").

    An issued document keeps the details it was issued with: a client's move changes the documents
    issued after it only.  Documents locked without party details (a lock written before they were
    recorded) and documents not yet locked keep the ledger's current details.  memo: a
    Workspace's recorded_parties, so a watch gets the same document objects back while the
    document and its lock entry are the same (its digests and pages are then reused)."""
    if memo is None:
        memo = IdentityMemo()
    memo.begin()
    invoices = dict(books.invoices)
    for number, doc in books.invoices.items():
        entry = lock.entries.get(number)
        if entry is not None and entry.kind == "invoice" and entry.parties is not None:
            invoices[number] = memo.get(("invoice", number), (doc, entry, company),
                                        lambda d=doc, e=entry: _recorded_invoice(d, e, company))
    credits = dict(books.credits)
    for number, credit in books.credits.items():
        entry = lock.entries.get(number)
        if credit.invoice is not None and entry is not None and entry.kind == "credit-note" \
                and entry.parties is not None:
            credits[number] = memo.get(("credit-note", number), (credit, entry, company),
                                       lambda c=credit, e=entry: _recorded_credit(c, e, company))
    memo.end()
    if all(invoices[n] is d for n, d in books.invoices.items()) and all(
            credits[n] is c for n, c in books.credits.items()):
        return books
    return replace(books, invoices=invoices, credits=credits)


def _recorded_invoice(doc, entry: Entry, company: m.Company | None):
    client = as_recorded(doc.client, entry.parties["b"], CLIENT_DETAILS)
    seller = as_recorded(company, entry.parties["s"], COMPANY_DETAILS)
    if client is doc.client and seller is company:
        return doc
    return replace(doc, client=client, company=None if seller is company else seller)


def _recorded_credit(credit, entry: Entry, company: m.Company | None):
    """The credit note with its parties printed as they were at its issue (the buyer: its invoice's
    client as recorded for the note; the seller: the company as recorded)."""
    client = as_recorded(credit.invoice.client, entry.parties["b"], CLIENT_DETAILS)
    seller = as_recorded(company, entry.parties["s"], COMPANY_DETAILS)
    if client is credit.invoice.client and seller is company:
        return credit
    invoice = credit.invoice if client is credit.invoice.client else replace(credit.invoice, client=client)
    return replace(credit, invoice=invoice, company=None if seller is company else seller)


def current_documents(books) -> dict[str, tuple[str, object]]:
    """Every computed document by number, (kind, document), in issue order (as current_entries)."""
    docs = [(d.date, 0, i, d) for i, d in enumerate(books.invoices.values())]
    docs += [(c.date, 1, i, c) for i, c in enumerate(books.credits.values())]
    docs.sort(key=lambda t: t[:3])
    return {doc.number: ("invoice" if kind == 0 else "credit-note", doc) for _, kind, _, doc in docs}


def current_entries(ledger: m.Ledger, books) -> dict[str, Entry]:
    """What the lock would record for every computed document now, in issue order."""
    index = NodeIndex(ledger)
    out: dict[str, Entry] = {}
    docs = [(d.date, 0, i, d) for i, d in enumerate(books.invoices.values())]
    docs += [(c.date, 1, i, c) for i, c in enumerate(books.credits.values())]
    docs.sort(key=lambda t: t[:3])
    for _, kind, _, doc in docs:
        if kind == 0:
            out[doc.number] = entry_for_invoice(doc, ledger.company, index)
        else:
            out[doc.number] = entry_for_credit(doc, ledger.company)
    return out


# ---------------------------------------------------------------------------- the file

@dataclass
class LockFile:
    path: Path
    name: str  # as shown in diagnostics
    text: str
    entries: dict[str, Entry]
    problems: list[Diagnostic]


_SHA256 = re.compile(r"sha256:[0-9a-f]{64}")
_PART = re.compile(r"[0-9a-f]{8}")
_LINE_RECORD = re.compile(r"(?:\d{4}-\d\d-\d\d|-):[0-9a-f]{6}\.[0-9a-f]{6}")
_DAY = re.compile(r"\d{4}-\d\d-\d\d")
_LINE_RECORDS = re.compile(rf"{_LINE_RECORD.pattern}(?:,{_LINE_RECORD.pattern})*")  # every record of an l:


def _lines_of(text: str) -> Iterator[str]:
    """text.split("\n"), one line at a time: a large lock's lines are not all copied at once."""
    start = 0
    while True:
        end = text.find("\n", start)
        if end < 0:
            yield text[start:]
            return
        yield text[start:end]
        start = end + 1


def parse_lock(text: str, name: str) -> tuple[dict[str, Entry], list[Diagnostic]]:
    entries: dict[str, Entry] = {}
    problems: list[Diagnostic] = []
    parties_memo: dict[str, dict | None] = {}  # a client's documents record the same details
    offset = 0  # of the line in text
    for lineno, raw in enumerate(_lines_of(text), 1):
        at, offset = offset, offset + len(raw) + 1
        line = raw.strip()
        if not line or line.startswith(("#", AGREEMENT_PREFIX)):
            continue  # an accepted SOW's terms (checks.terms reads those lines)
        toks = _TOKEN.findall(line)
        if len(toks) < 7 or toks[1] not in ("invoice", "credit-note") or not toks[6].startswith("sha256:") \
                or not _DAY.fullmatch(toks[2]):
            problems.append(error(Span(name, lineno, 1, lineno, len(raw) + 1), "E173",
                                  "this line of textbill.lock cannot be read",
                                  "textbill.lock is written by 'textbill lock'; restore it from git "
                                  "(git checkout -- textbill.lock) instead of editing it"))
            continue
        number = _unquote(toks[0])
        if number in entries:
            problems.append(error(Span(name, lineno, 1, lineno, len(raw) + 1), "E173",
                                  f"'{number}' is locked twice in textbill.lock "
                                  f"(first on line {entries[number].lineno})",
                                  "two branches issued the same number: keep one document and renumber "
                                  "the other, then run 'textbill lock'"))
            continue
        parts, lines, parties, damage = _fields(toks, parties_memo)
        if lines:  # the records as a place in the text, not a copy of it
            start = raw.rfind(" l:" + lines) + 3
            if start > 2:
                lines = _InText(text, at + start, at + start + len(lines))
        if damage is not None:
            what, token = damage
            col = raw.find(token) + 1  # the caret under the damaged digest
            where = Span(name, lineno, col, lineno, col + len(token)) if col else \
                Span(name, lineno, 1, lineno, len(raw) + 1)
            problems.append(error(
                where, "E173", f"textbill.lock is damaged: the line of '{number}' has {what}",
                "the lock no longer says what was issued; restore textbill.lock from git (git checkout -- "
                "textbill.lock, or an older commit: git log -p -- textbill.lock). Without an intact copy, "
                "delete this line and run 'textbill lock' to lock the document as it is now"))
        entries[number] = Entry(number, toks[1], toks[2], toks[3], toks[4], toks[5], toks[6], parts, lines,
                                lineno, parties, damage is not None)
    return entries, problems


def _fields(toks: list[str], parties_memo: dict[str, dict | None]):
    """(parts, line records, party details, damage) of a lock line's digests; damage: (what, token) or None.
    parties_memo: the details of the `p:` values read so far (shared: nothing changes them)."""
    if not _SHA256.fullmatch(toks[6]):
        return {}, (), None, ("a sha256 that is not a full digest (64 hex digits)", toks[6])
    parts: dict = {}
    lines: tuple[LineRecord, ...] | str = ()  # the records' text, read when first asked for (Entry.lines)
    parties = None
    for tok in toks[7:]:
        key, _, value = tok.partition(":")
        if key == "l":
            if not _LINE_RECORDS.fullmatch(value):
                return {}, (), None, ("damaged line digests", tok)
            lines = value
        elif key in ("s", "b", "h", "t"):
            if not _PART.fullmatch(value):
                return {}, (), None, (f"a damaged '{key}:' digest", tok)
            parts[key] = value
        elif key == "p":
            if value in parties_memo:
                parties = parties_memo[value]
            else:
                parties = parties_memo[value] = _read_parties(value)
            if parties is None:
                return {}, (), None, ("damaged party details", tok)
    return parts, lines, parties, None


def read_lock(root: Path, workspace=None) -> LockFile:
    """Read textbill.lock at the ledger root (a missing file is an empty lock).

    workspace: an incremental.workspace.Workspace whose last parse of the lock is reused when the
    text is the same (a watch reads the same textbill.lock on every build, and parsing a thousand
    entries costs more than comparing the text)."""
    path = Path(root) / LOCK_NAME
    name = display_name(path)
    if not os.path.lexists(path):
        return LockFile(path, name, "", {}, [])
    # read as ledger files are: never a FIFO's endless wait, never through a symlink out of the ledger
    data, problem = read_bytes(path, name, Path(root))
    try:
        text = data.decode("utf-8") if data is not None else None
    except UnicodeDecodeError as exc:
        text, problem = None, error(Span(name, 1), "E173", f"cannot read textbill.lock: {exc}", "restore it from git")
    data = None  # the bytes are not kept while the text is parsed (a large ledger's lock is 30 MB)
    if text is None:
        assert problem is not None
        return LockFile(path, name, "", {}, [problem])
    if "<<<<<<<" in text or ">>>>>>>" in text:
        line = next(i for i, ln in enumerate(text.split("\n"), 1) if ln.startswith(("<<<<<<<", ">>>>>>>")))
        return LockFile(path, name, text, {}, [error(
            Span(name, line), "E174", "textbill.lock has unresolved git merge conflict markers",
            "two branches issued documents concurrently: keep the documents of one branch, renumber the "
            "other branch's in the ledger, then run 'textbill lock' again")])
    entries, problems = _parsed(text, name, workspace)
    return LockFile(path, name, text, entries, problems)


def _parsed(text: str, name: str, workspace) -> tuple[dict[str, Entry], list[Diagnostic]]:
    """parse_lock, or the workspace's last parse of the same text (callers get their own copies)."""
    if workspace is None:
        return parse_lock(text, name)
    last = workspace.lock_parse
    if last is None or last[0] != (name, text):
        last = workspace.lock_parse = ((name, text), *_parsed_kept(text, name, workspace))
    return dict(last[1]), list(last[2])


LOCK_PARSE = "lockparse"  # .textbill/state/lockparse-KEY: a parse of textbill.lock (incremental/persist.py)


def _parsed_kept(text: str, name: str, workspace) -> tuple[dict[str, Entry], list[Diagnostic]]:
    """parse_lock, or what an earlier process's parse of the same text by the same code left in
    .textbill/state/ (hashing the text costs a tenth of parsing it: 4 ms against 45 at 100k
    entries).  Only with the state of an analysis that keeps it (persistence's session)."""
    persistence = getattr(workspace, "persistence", None)
    session = persistence.session if persistence is not None else None
    if session is None:
        return parse_lock(text, name)
    h = hashlib.sha256(f"{whole_code_digest()}\0{name}\0".encode("utf-8", "surrogatepass"))
    h.update(text.encode("utf-8", "surrogatepass"))
    key = h.hexdigest()
    found = _decoded(session.state.load(LOCK_PARSE, key), text)
    if found is None:
        found = parse_lock(text, name)
        session.state.save(LOCK_PARSE, key, _encoded(*found))
    return found


def _encoded(entries: dict[str, Entry], problems: list[Diagnostic]) -> tuple:
    """parse_lock's result as plain values: an entry's `l:` records as their place in the text."""
    rows = []
    for e in entries.values():
        raw = e.__dict__["_lines"]
        lines = (raw.start, raw.stop) if type(raw) is _InText else raw
        rows.append((e.number, e.kind, e.date, e.client, e.total, e.currency, e.sha256, e.parts, lines, e.lineno,
                     e.parties, e.damaged))
    return tuple(rows), list(problems)


def _decoded(value, text: str) -> tuple[dict[str, Entry], list[Diagnostic]] | None:
    """_encoded's values back, their `l:` records in this text; None for anything else."""
    try:
        rows, problems = value
        entries = {}
        for number, kind, day, client, total, currency, sha, parts, lines, lineno, parties, damaged in rows:
            if type(lines) is tuple and len(lines) == 2 and all(type(n) is int for n in lines):
                lines = _InText(text, *lines)
            elif type(lines) is not str and lines != ():
                return None
            entries[number] = Entry(number, kind, day, client, total, currency, sha, parts, lines, lineno, parties,
                                    damaged)
        if type(problems) is not list or not all(type(d) is Diagnostic for d in problems):
            return None
        return entries, problems
    except (TypeError, ValueError):
        return None


def render_lock(old_text: str, new_entries: list[Entry]) -> str:
    """The lock file with new entries appended at the end (old lines are kept byte for byte)."""
    text = old_text or HEADER
    if not text.endswith("\n"):
        text += "\n"
    return text + "".join(e.format() + "\n" for e in new_entries)


def unlocked(lock: LockFile, entries: dict[str, Entry]) -> list[Entry]:
    return [e for n, e in entries.items() if n not in lock.entries]


def write_lock(root: Path, ledger: m.Ledger, books, numbers=None) -> list:
    """Lock documents not yet locked (all of them, or only `numbers`); returns what was added.  [I/O]

    The read-modify-write runs under an exclusive lock, so concurrent runs never lose a line.
    """
    path = Path(root) / LOCK_NAME
    entries = current_entries(ledger, books)
    with locked(path):
        lock = read_lock(root)
        if lock.problems:
            raise LockError(lock.problems)
        new = [e for e in unlocked(lock, entries) if numbers is None or e.number in numbers]
        if numbers is None:  # `textbill lock`: accepted SOWs' terms lock too (not `issue`'s invoices-only lock)
            new += new_agreements(ledger, lock.text)
        # a line written before party details were recorded gets them once, from a 'textbill lock'
        # that finds its document unchanged (so the details are those it was locked with)
        upgrades = {} if numbers is not None else {
            old.lineno: parties_token(entries[n].parties) for n, old in lock.entries.items()
            if old.parties is None and n in entries and entries[n].parties is not None
            and (entries[n].kind, entries[n].sha256) == (old.kind, old.sha256)}
        if new or upgrades:
            write_atomic(path, render_lock(_with_tokens(lock.text, upgrades), new).encode("utf-8"))
    return new


def _with_tokens(text: str, tokens: dict[int, str]) -> str:
    """The lock text with a token appended to some lines (by number), every other byte kept."""
    if not tokens:
        return text
    lines = text.split("\n")
    for lineno, token in tokens.items():
        line = lines[lineno - 1]
        body = line.rstrip("\r \t")
        lines[lineno - 1] = body + " " + token + line[len(body):]
    return "\n".join(lines)


class LockError(Exception):
    def __init__(self, problems: list[Diagnostic]):
        super().__init__("; ".join(d.message for d in problems))
        self.problems = problems


# ---------------------------------------------------------------------------- the check

def _document_digest(memo: IdentityMemo, kind: str, doc, company, ready: dict[str, str] | None = None) -> str:
    """The memo's digest of a document as sealed by company; ready: digests computed ahead."""
    def make() -> str:
        if ready and doc.number in ready:
            return ready[doc.number]
        return _make_digest((kind, doc, company))
    return memo.get((kind, doc.number), (doc, company), make)


def _make_digest(job: tuple) -> str:
    kind, doc, company = job
    return invoice_digest(doc, company) if kind == "invoice" else digest(canonical_credit(doc, company))


# Digesting a document is a pure function of it and its seller: with this many to digest, a
# new process shares them with a forked child (loading.forked; 960 invoices: 0.3 s -> 0.17 s)
PARALLEL_MIN_DIGESTS = 200


def _digests_ahead(memo: IdentityMemo, lock: LockFile, docs: dict, company) -> dict[str, str]:
    """{number: digest} of the locked documents the memo does not have, computed on every CPU
    when there are many (else nothing: they are digested one by one as they are compared)."""
    jobs = []
    for number, old in lock.entries.items():
        found = docs.get(number)
        if found is None or old.damaged:
            continue
        kind, doc = found
        seller = doc.company or company
        if memo.needs((kind, number), (doc, seller)):
            jobs.append((kind, doc, seller))
    cpus = available_cpus()
    if len(jobs) < PARALLEL_MIN_DIGESTS or cpus < 2:
        return {}
    values = fork_map(_make_digest, jobs, cpus, str.encode, bytes.decode,
                      [len(doc.lines) + 10 if kind == "invoice" else 10 for kind, doc, _ in jobs])
    return {doc.number: value for (_, doc, _), value in zip(jobs, values, strict=True)}


def check_locks(loaded, books, workspace=None, lock: LockFile | None = None) -> list:
    """Diagnostics for locked documents that changed or disappeared, and documents not yet locked.

    workspace: its lock_digests keep the digests of the documents of the last check by number: a
    watch keeps unchanged documents as the same objects between builds (BooksMemo), and a
    document's canonical content depends on it (frozen) and the company only.  lock: textbill.lock
    as read_lock() gave it (by default it is read here); the books are compared as
    with_recorded_parties() made them from it."""
    ledger = loaded.ledger
    if lock is None:
        lock = read_lock(loaded.root, workspace)
    if lock.text:
        loaded.sources.add(lock.name, lock.text)
    diags: list[Diagnostic] = list(lock.problems)
    if any(d.code == "E174" for d in lock.problems):
        return diags
    docs = current_documents(books)
    company = ledger.company
    memo = workspace.lock_digests if workspace is not None else IdentityMemo()
    memo.begin()
    ready = _digests_ahead(memo, lock, docs, company)
    index = None  # built when a document changed: only then are its lines traced to their entries
    # with syntax errors, entries that fail to parse are missing: a locked document that only lost
    # lines is then reported once the file reads again, not as a cascade of the syntax error
    unreadable = any(d.is_error for d in loaded.diagnostics)
    directives = {d.number: d for d in (*ledger.invoices, *ledger.credit_notes)}
    fallout = Fallout(ledger)
    meant = meant_numbers(ledger) if lock.entries else {}
    mistyped = {written for number, written in meant.items() if number in lock.entries}

    for number, old in lock.entries.items():
        if old.damaged:
            continue  # its E173 says so; what it locked is unknown
        found = docs.get(number)
        if found is None:
            if number in directives or ("document", number) in ledger.broken or fallout.unreadable \
                    or number in meant:
                continue  # there, but not computed, readable or found by its number: its own error says why
            diags.append(error(
                Span(lock.name, old.lineno), "E171",
                f"locked {_kind(old.kind)} '{number}' of {old.date} ({old.total} {old.currency}) is no longer "
                f"in the ledger", "an issued document cannot be deleted: restore it, and cancel it with a "
                "credit note if it was wrong"))
            continue
        kind, doc = found
        if fallout and fallout.document(number, kind, doc.note.invoice if kind == "credit-note" else None):
            continue  # computed from a directive with an error: compared once that error is fixed
        seller = doc.company or company  # as recorded at issue, else the ledger's
        if _document_digest(memo, kind, doc, seller, ready) == old.sha256:
            continue  # unchanged: the per-line digests that explain a change are not needed
        if index is None:
            index = NodeIndex(ledger)
        new = entry_for_invoice(doc, seller, index) if kind == "invoice" else entry_for_credit(doc, seller)
        if new.kind != old.kind:
            diags.append(error(
                directives[number].span if number in directives else Span(lock.name, old.lineno), "E170",
                f"locked {_kind(old.kind)} '{number}' is now a {_kind(new.kind)}",
                "issued documents are immutable: give the new document its own number", focus=number))
            continue
        found = _changed(ledger, books, old, new, directives.get(number), index, loaded.sources, unreadable)
        if found is not None:
            diags.append(found)

    memo.end()
    for number, (kind, _) in docs.items():
        if number in lock.entries or number in mistyped:
            continue  # locked, or a locked number written in another form (E140)
        node = directives.get(number)
        diags.append(warning(
            node.span if node else None, "W172",
            f"{_kind(kind)} '{number}' is issued but not locked",
            "run 'textbill lock' (and commit textbill.lock) so any later change to it is caught",
            focus=number))
    return diags


def _kind(kind: str) -> str:
    return "credit note" if kind == "credit-note" else kind


@dataclass
class Culprit:
    span: Span
    what: str
    gone: bool = False  # a line that is no longer there (its entry may just fail to parse)


def find_culprits(ledger: m.Ledger, books, old: Entry, new: Entry, node, index: NodeIndex,
                  sources=None) -> list[Culprit]:
    """The ledger entries behind the difference between a locked document and its current form."""
    out: list[Culprit] = []
    doc = books.invoices.get(new.number) if new.kind == "invoice" else books.credits.get(new.number)
    doc_span = node.span if node is not None else Span(LOCK_NAME, old.lineno)
    if old.parts.get("s") and old.parts.get("s") != new.parts.get("s") and ledger.company:
        out.append(Culprit(ledger.company.span, "the company's name, address or tax id changed"))
    if old.parts.get("b") and old.parts.get("b") != new.parts.get("b"):
        client = ledger.clients.get(new.client)
        out.append(Culprit(client.span if client else doc_span, "the client's name, address or tax id changed"))
    if new.kind == "invoice" and doc is not None:
        out.extend(_line_culprits(ledger, doc, old, new, index, doc_span, sources))
    if old.parts.get("h") and old.parts.get("h") != new.parts.get("h"):
        out.append(Culprit(doc_span, "its dates, period, SOWs or notes changed (the document itself, or the "
                                     "client's terms)"))
    if not out and old.parts.get("t") != new.parts.get("t"):
        if new.kind == "credit-note":
            out.append(Culprit(doc_span, "its amount changed, or the invoice it corrects did"))
        else:
            out.append(Culprit(doc_span, "its discounts, charges or tax changed (the document itself, or the "
                                         "client's discount or tax)"))
    if not out:
        out.append(Culprit(doc_span, "its content changed"))
    return out


def _line_culprits(ledger, doc, old: Entry, new: Entry, index: NodeIndex, doc_span: Span, sources):
    remaining = Counter(r.line for r in old.lines)
    added = []
    for ln, rec in zip(doc.lines, new.lines):
        if remaining[rec.line] > 0:
            remaining[rec.line] -= 1
        else:
            added.append((ln, rec))
    gone = []
    for r in old.lines:
        if remaining[r.line] > 0:
            remaining[r.line] -= 1
            gone.append(r)
    # an added line and a gone line of the same entry, or of the same day, are one changed line
    unpaired = list(gone)
    for _, rec in added:
        match = next((g for g in unpaired if g.entry == rec.entry), None) \
            or next((g for g in unpaired if g.date == rec.date), None)
        if match is not None:
            unpaired.remove(match)

    out: list[Culprit] = []
    seen: set = set()
    old_entries = {r.entry for r in old.lines}
    for ln, rec in added:
        src = next((s for s in ln.sources if getattr(s, "line", 0)), None)
        entry_node = index.node(src)
        day = ln.date or doc.date
        if entry_node is None or isinstance(entry_node, m.Invoice):
            if ("invoice",) not in seen:
                seen.add(("invoice",))
                out.append(Culprit(doc_span, f"the document's own item '{ln.description}' changed"))
            continue
        if rec.entry not in old_entries:
            if (src.file, src.line) not in seen:
                seen.add((src.file, src.line))
                verb = "changed" if any(g.date == rec.date for g in gone) else "changed or was added"
                out.append(Culprit(src, f"{_describe(entry_node)} of {day} {verb} (line '{ln.description}')"))
            continue
        sow = ledger.sows.get(ln.sow) if ln.sow else None
        person = (ln.detail or {}).get("person")
        if sow is not None and person and ("person", sow.ref, person) not in seen:
            # a line `by` a person: their role's rate (or their role) is what changed
            seen.add(("person", sow.ref, person))
            role = (ln.detail or {}).get("role")
            rate = sow.rate_of(role) if role else None
            who = ledger.people.get(person)
            span = rate.span if rate is not None else (who.span if who is not None else sow.span)
            # the lock keeps digests only: the rate, the increment or a tax may be what moved
            out.append(Culprit(span, f"the rate of {person} (role {role or 'none'}) on SOW '{sow.ref}', the "
                                     f"SOW's increment or tax, or the client's tax, changed the line "
                                     f"'{ln.description}' of {day}"))
        elif sow is not None and not person and ("sow", sow.ref) not in seen:
            seen.add(("sow", sow.ref))
            span = sow.span
            if sources is not None and sow.pricing is not None:
                span = find_keyword_line(sources, sow.span, sow.pricing.kind)
            out.append(Culprit(span, f"the terms of SOW '{sow.ref}' (rate, increment or tax), or the client's "
                                     f"tax, changed the line '{ln.description}' of {day}"))
        fx = (ln.detail or {}).get("fx")
        if fx and fx[1] is not None and ("fx", fx[1].span) not in seen:
            seen.add(("fx", fx[1].span))
            out.append(Culprit(fx[1].span, f"the fx rate {fx[1].base}/{fx[1].quote} of {fx[1].date} "
                                           f"converts its lines"))
    for r in unpaired:
        out.append(_gone_line(ledger, doc, r, doc_span))
    return out


def _gone_line(ledger: m.Ledger, doc, rec: LineRecord, doc_span: Span) -> Culprit:
    """A line the locked document had and no longer has: find the entry it came from if it is still there."""
    day = rec.date
    refs = set(doc.sows)
    for entry in (*ledger.times, *ledger.expenses):
        if entry.sow in refs and entry.date.isoformat() == day and not entry.billable:
            return Culprit(entry.span, f"{_describe(entry)} of {day} was billed and is now nonbillable")
    return Culprit(doc_span, f"a line of {day} it billed is gone (its entry was deleted, re-dated out of "
                             f"the period, or billed elsewhere)", gone=True)


def _describe(node) -> str:
    if isinstance(node, m.TimeEntry):
        return "the time entry"
    if isinstance(node, m.Expense):
        return "the expense"
    if isinstance(node, m.Done):
        return f"the milestone '{node.milestone}'"
    if isinstance(node, m.Sow):
        return f"SOW '{node.ref}'"
    if isinstance(node, m.Item):
        return f"the item '{node.description}'"
    return "the entry"


def _changed(ledger: m.Ledger, books, old: Entry, new: Entry, node, index: NodeIndex, sources,
             unreadable: bool = False) -> Diagnostic | None:
    culprits = find_culprits(ledger, books, old, new, node, index, sources)
    if unreadable and all(c.gone for c in culprits):
        return None
    what = _kind(new.kind)
    if old.total == new.total and old.currency == new.currency:
        totals = f"its total is still {old.total} {old.currency}, but its content changed"
    else:
        totals = f"its total was {old.total} {old.currency} and is now {new.total} {new.currency}"
    shown = culprits[:3]
    causes = "; ".join(f"{c.what}, at {c.span.short}" for c in shown)
    if len(culprits) > 3:
        causes += f"; and {len(culprits) - 3} more"
    return error(
        shown[0].span, "E170",
        f"locked {what} '{new.number}' of {old.date} changed: {totals}. Caused by: {causes}",
        "issued documents are immutable: undo this edit, then correct the document with a credit note "
        "or bill the difference on a new invoice")
