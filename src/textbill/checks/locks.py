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
  content changed points at the SOW's terms instead of the entry.

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

import hashlib
import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, fields, is_dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from textbill.core import model as m
from textbill.core.diagnostics import Diagnostic, error, warning
from textbill.core.money import CONTEXT, fmt
from textbill.core.source import Span, find_keyword_line
from textbill.incremental.memo import IdentityMemo
from textbill.loading.loader import display_name
from textbill.loading.writer import locked, write_atomic

LOCK_NAME = "textbill.lock"
FORMAT_VERSION = 1
HEADER = """\
# textbill.lock: issued documents are immutable (docs/language.md, "Issued documents are immutable").
# Written by 'textbill lock' and 'textbill issue'; commit it with the ledger, never edit it.
# One line per document, appended in issue order: number kind date client total currency
# sha256:<canonical content> and short digests of its parts (seller, buyer, header, totals,
# lines) that let textbill name the entry behind a change.
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


def _group(g, currency: str) -> dict:
    return {"tax": _tax(g.tax), "net": fmt(g.net, currency), "allowances": fmt(g.allowances, currency),
            "charges": fmt(g.charges, currency), "basis": fmt(g.basis, currency),
            "tax_amount": fmt(g.tax_amount, currency)}


def canonical_invoice(doc, company: m.Company | None) -> dict:
    """The canonical content of an invoice (see the module docstring)."""
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
        "lines": [_line(ln, c) for ln in doc.lines],
        "groups": [_group(g, c) for g in doc.groups],
        "net": fmt(doc.net, c),
        "tax": fmt(doc.tax, c),
        "total": fmt(doc.total, c),
    }


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
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


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

@dataclass(frozen=True)
class LineRecord:
    date: str  # ISO date or "-"
    line: str  # digest of the line's canonical content
    entry: str  # digest of the ledger entry it came from


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
    lines: tuple[LineRecord, ...] = ()
    lineno: int = 0  # where it is in textbill.lock (0: not yet written)

    def format(self) -> str:
        number = self.number if _DOCNO.fullmatch(self.number) else _quote(self.number)
        head = [number, self.kind, self.date, self.client, self.total, self.currency, self.sha256]
        head += [f"{k}:{self.parts[k]}" for k in ("s", "b", "h", "t") if k in self.parts]
        if self.lines:
            head.append("l:" + ",".join(f"{r.date}:{r.line}.{r.entry}" for r in self.lines))
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
                 doc.currency, digest(content), _parts(content), records)


def entry_for_credit(credit, company) -> Entry:
    content = canonical_credit(credit, company)
    client = credit.invoice.invoice.client if credit.invoice else "-"
    return Entry(credit.number, "credit-note", credit.date.isoformat(), client, content["total"],
                 credit.currency, digest(content), _parts(content))


def _parts(content: dict) -> dict:
    return {
        "s": _short(content["seller"]),
        "b": _short(content["buyer"]),
        "h": _short({k: content.get(k) for k in _HEADER_KEYS}),
        "t": _short({k: content[k] for k in _TOTAL_KEYS}),
    }


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


def parse_lock(text: str, name: str) -> tuple[dict[str, Entry], list[Diagnostic]]:
    entries: dict[str, Entry] = {}
    problems: list[Diagnostic] = []
    for lineno, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        toks = _TOKEN.findall(line)
        span = Span(name, lineno, 1, lineno, len(raw) + 1)
        if len(toks) < 7 or toks[1] not in ("invoice", "credit-note") or not toks[6].startswith("sha256:") \
                or not re.fullmatch(r"\d{4}-\d\d-\d\d", toks[2]):
            problems.append(error(span, "E173", "this line of textbill.lock cannot be read",
                                  "textbill.lock is written by 'textbill lock'; restore it from git "
                                  "(git checkout -- textbill.lock) instead of editing it"))
            continue
        parts, lines = {}, ()
        for tok in toks[7:]:
            key, _, value = tok.partition(":")
            if key == "l":
                recs = []
                for rec in value.split(","):
                    day, _, digests = rec.rpartition(":")
                    line_d, _, entry_d = digests.partition(".")
                    recs.append(LineRecord(day or "-", line_d, entry_d))
                lines = tuple(recs)
            elif key in ("s", "b", "h", "t"):
                parts[key] = value
        number = _unquote(toks[0])
        if number in entries:
            problems.append(error(span, "E173", f"'{number}' is locked twice in textbill.lock "
                                  f"(first on line {entries[number].lineno})",
                                  "two branches issued the same number: keep one document and renumber "
                                  "the other, then run 'textbill lock'"))
            continue
        entries[number] = Entry(number, toks[1], toks[2], toks[3], toks[4], toks[5], toks[6], parts, lines,
                                lineno)
    return entries, problems


def read_lock(root: Path, workspace=None) -> LockFile:
    """Read textbill.lock at the ledger root (a missing file is an empty lock).

    workspace: an incremental.workspace.Workspace whose last parse of the lock is reused when the
    text is the same (a watch reads the same textbill.lock on every build, and parsing a thousand
    entries costs more than comparing the text)."""
    path = Path(root) / LOCK_NAME
    name = display_name(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return LockFile(path, name, "", {}, [])
    except (OSError, UnicodeDecodeError) as exc:
        return LockFile(path, name, "", {}, [error(Span(name, 1), "E173", f"cannot read textbill.lock: {exc}",
                                                     "restore it from git")])
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
        last = workspace.lock_parse = ((name, text), *parse_lock(text, name))
    return dict(last[1]), list(last[2])


def render_lock(old_text: str, new_entries: list[Entry]) -> str:
    """The lock file with new entries appended at the end (old lines are kept byte for byte)."""
    text = old_text or HEADER
    if not text.endswith("\n"):
        text += "\n"
    return text + "".join(e.format() + "\n" for e in new_entries)


def unlocked(lock: LockFile, entries: dict[str, Entry]) -> list[Entry]:
    return [e for n, e in entries.items() if n not in lock.entries]


def write_lock(root: Path, ledger: m.Ledger, books, numbers=None) -> list[Entry]:
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
        if new:
            write_atomic(path, render_lock(lock.text, new).encode("utf-8"))
    return new


class LockError(Exception):
    def __init__(self, problems: list[Diagnostic]):
        super().__init__("; ".join(d.message for d in problems))
        self.problems = problems


# ---------------------------------------------------------------------------- the check

def _document_digest(memo: IdentityMemo, kind: str, doc, company) -> str:
    def make() -> str:
        return digest(canonical_invoice(doc, company) if kind == "invoice" else canonical_credit(doc, company))
    return memo.get((kind, doc.number), (doc, company), make)


def check_locks(loaded, books, workspace=None) -> list:
    """Diagnostics for locked documents that changed or disappeared, and documents not yet locked.

    workspace: its lock_digests keep the digests of the documents of the last check by number: a
    watch keeps unchanged documents as the same objects between builds (BooksMemo), and a
    document's canonical content depends on it (frozen) and the company only."""
    ledger = loaded.ledger
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
    index = None  # built when a document changed: only then are its lines traced to their entries
    # with syntax errors, entries that fail to parse are missing: a locked document that only lost
    # lines is then reported once the file reads again, not as a cascade of the syntax error
    unreadable = any(d.is_error for d in loaded.diagnostics)
    directives = {d.number: d for d in (*ledger.invoices, *ledger.credit_notes)}

    for number, old in lock.entries.items():
        found = docs.get(number)
        if found is None:
            if number in directives or ("document", number) in ledger.broken:
                continue  # it is there but cannot be computed: other errors say why
            diags.append(error(
                Span(lock.name, old.lineno), "E171",
                f"locked {_kind(old.kind)} '{number}' of {old.date} ({old.total} {old.currency}) is no longer "
                f"in the ledger", "an issued document cannot be deleted: restore it, and cancel it with a "
                "credit note if it was wrong"))
            continue
        kind, doc = found
        if _document_digest(memo, kind, doc, company) == old.sha256:
            continue  # unchanged: the per-line digests that explain a change are not needed
        if index is None:
            index = NodeIndex(ledger)
        new = entry_for_invoice(doc, company, index) if kind == "invoice" else entry_for_credit(doc, company)
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
        if number in lock.entries:
            continue
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
        if sow is not None and ("sow", sow.ref) not in seen:
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
