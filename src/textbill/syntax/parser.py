"""Parse `.bill` text into model nodes, and syntax errors into diagnostics.

A file is first split into directive chunks (a header line in column 0 and the
indented lines below it).  Each chunk is parsed on its own with the LALR
grammar, so a mistake costs one located diagnostic and every other chunk of
the file is still read.
"""
from __future__ import annotations

import calendar
import contextlib
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date
from decimal import Decimal, InvalidOperation
from types import MappingProxyType

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import (
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

from textbill.core import model as m
from textbill.core.diagnostics import Diagnostic, closest, error, warning
from textbill.core.einvoicing import EAS_CODES as PEPPOL_EAS
from textbill.core.einvoicing import KSEF_NUMBER, peppol_id_problem
from textbill.core.money import CONTEXT, Amount, is_known_currency
from textbill.core.source import Span
from textbill.incremental.shared import shared
from textbill.syntax import fastpath, lalr
from textbill.syntax.lalr import grammar_path, grammar_text

MAX_DIGITS = fastpath.MAX_DIGITS  # significant digits of any number in a ledger
MAX_MINUTES = fastpath.MAX_MINUTES  # one entry may not exceed a year of hours

DIRECTIVES = ("company", "client", "sow", "reminders", "person")
DATED = ("time", "expense", "done", "invoice", "payment", "credit-note", "plan",
         "reminded", "writeoff", "collections", "fx", "sent", "accepted")

BLOCK_ATTRIBUTES = MappingProxyType({
    "company": ("address", "country", "email", "phone", "website", "tax-id", "bank", "currency",
                "locale", "numbering", "credit-numbering", "payment-methods",
                "late-interest", "late-fee", "logo", "field", "peppol", "reference"),
    "client": ("address", "country", "contact", "email", "phone", "tax-id", "currency",
               "locale", "terms", "tax", "discount", "reminders", "field",
               "peppol", "buyer-reference", "split-payment", "iban"),
    "sow": ("period", "hourly", "fixed", "retainer", "value", "increment", "cap", "tax",
            "schedule", "milestone", "deliverable", "po", "field", "rate"),
    "reminders": ("step",),
    "person": ("role", "email"),
    "invoice": ("sow", "period", "item", "discount", "charge", "due", "note", "field", "po",
                "buyer-reference", "split-payment", "ksef-number"),
    "credit-note": ("note", "field", "ksef-number"),
})


class Syntax:
    """What parsing keeps between files: the grammar's LALR parser and the shared values.

    The parser is made on first use (a ledger of one-line entries may never need it) and then
    kept; the Interner shares repeated values between the
    nodes of every file parsed with this object.  loading.load() makes one per load, a watch's
    Workspace keeps one for its lifetime; a one-off parse_text() call makes a fresh one.
    fast_path=False sends every line through Lark (the tests compare both paths).
    """

    def __init__(self, fast_path: bool = True) -> None:
        self.fast_path = fast_path
        self.interner = fastpath.Interner()
        self._lark: Lark | None = None
        self._literals: Mapping[str, str] | None = None

    def __reduce__(self):
        # sent to a parsing worker process: a fresh one there (a Lark parser does not pickle)
        return (Syntax, (self.fast_path,))

    @property
    def lark(self) -> Lark:
        if self._lark is None:
            # the same tables for every ledger: loaded once per process (incremental.shared), from
            # the ones shipped with textbill (syntax/lalr.py)
            self._lark = shared(("lark", grammar_path()), _build_lark)
        return self._lark

    def terminal_literals(self) -> Mapping[str, str]:
        """Terminal name -> the literal text it stands for ("CREDIT_NOTE" -> "credit-note")."""
        if self._literals is None:
            out = {}
            for term in self.lark.terminals:
                pattern = term.pattern
                if pattern.type == "str":
                    out[term.name] = pattern.value
                else:
                    value = pattern.value
                    if re.fullmatch(r"\(\?:[a-z\-|]+\)|[a-z\-|]+", value):
                        out[term.name] = value.strip("(?:)").split("|")[0]
            self._literals = MappingProxyType(out)
        return self._literals


def _build_lark() -> Lark:
    return lalr.parser(grammar_text())


def _literal_words(syntax: Syntax, names) -> list[str]:
    lits = syntax.terminal_literals()
    words = []
    for name in names:
        term = next((t for t in syntax.lark.terminals if t.name == name), None)
        if term is None:
            continue
        if term.pattern.type == "str":
            words.append(term.pattern.value)
        elif re.fullmatch(r"(\(\?:)?[a-z\-|]+\)?", term.pattern.value):
            words.extend(term.pattern.value.replace("(?:", "").rstrip(")").split("|"))
    return [w for w in words if re.fullmatch(r"[a-z][a-z\-]*", w)] or [lits[n] for n in names if n in lits]


TERMINAL_DESCRIPTIONS = MappingProxyType({
    "DATE": "a date like 2026-01-31",
    "CLOCK": "a clock range like 09:00-12:30 (or 09:00:15-12:30:40)",
    "DURATION": "a duration like 3h, 3h30m, 45m or 1.25h",
    "PERCENT": "a percentage like 23%",
    "OFFSET": "a day offset like -3d or +7d",
    "NUMBER": "a number like 1500 or 1_500.50",
    "SOWREF": "a SOW reference like globex/web-2026",
    "ID": "an id (lowercase letters, digits, '-' and '_')",
    "TAG": "a tag like #meeting",
    "CURRENCY": "a currency code like USD",
    "COUNTRY": "a two-letter country code like PL",
    "LOCALE": "a locale like en or pl",
    "TAXNAME": "a tax name like VAT",
    "EMAIL": "an e-mail address",
    "BARE": "a word",
    "DOCNO": "a document number like INV-2026-0001",
    "STRING": 'a quoted string like "Kickoff meeting"',
    "PEPPOL_ID": "a Peppol participant id like 0088:5790000435975",
    "_NL": "the end of the line",
    "_NLI": "the end of the line",
    "$END": "the end of the file",
})


def describe_expected(syntax: Syntax, names) -> list[str]:
    lits = syntax.terminal_literals()
    out: list[str] = []
    for name in sorted(names):
        if name in TERMINAL_DESCRIPTIONS:
            desc = TERMINAL_DESCRIPTIONS[name]
        elif name in lits:
            desc = f"'{lits[name]}'"
        else:
            continue
        if desc not in out:
            out.append(desc)
    return out


# ---------------------------------------------------------------------------- chunks

def split_chunks(text: str, shared: Callable[[int], list[int]] | None = None):
    """Yield (first_line_number, lines, glued) per directive; orphans as (n, None, ()).

    shared: the line numbers to yield, as a table covering up to a given number, or as far as
    it goes (Interner.line_numbers: the spans of every file then share one object per number);
    None: made here.

    A chunk starts at a line in column 0 that is neither blank nor a comment.
    Comment and blank lines before the first header belong to no chunk.  A line
    that lost its indentation is not a header: a column-0 line that starts with an
    attribute of the block above (`terms net 15` under a client) stays in that
    block, and its index in the chunk's lines is listed in glued (reported once,
    as E018, and read as the attribute the user meant).
    """
    lines = text.split("\n")
    table = shared(len(lines)) if shared is not None else ()
    known = len(table)
    start = first = None
    attributes: frozenset[str] | None = None  # of the current block, computed when first needed
    glued: list[int] = []
    for i, line in enumerate(lines):
        if not line or line[0] in " \t":
            if start is None and line.strip() and not line.lstrip().startswith(";"):
                yield i + 1, None, ()
            continue
        if line[0] == ";":
            continue
        if start is not None and not line[0].isdigit():  # dated lines (most of them) are headers
            if attributes is None:
                attributes = _LOST_INDENT.get(_block_kind(lines[start]) or "", frozenset())
            word = _FIRST_WORD.match(line)
            if word is not None and word.group(0) in attributes:
                glued.append(i - start)
                continue
        if start is not None:
            yield first, lines[start:i], tuple(glued)
        start, attributes, glued = i, None, []
        first = table[i + 1] if i + 1 < known else i + 1
    if start is not None:
        yield first, lines[start:], tuple(glued)


# the attributes a column-0 line may start with to be read as its block's attribute: a
# word that is also a directive (`reminders`) starts a directive of its own
_LOST_INDENT = MappingProxyType({kind: frozenset(words) - frozenset(DIRECTIVES)
                                 for kind, words in BLOCK_ATTRIBUTES.items()})
_FIRST_WORD = re.compile(r"[a-z][a-z-]*(?=[ \t;]|$)")
_BLOCK_NAMES = MappingProxyType({"credit-note": "credit note", "reminders": "reminder policy"})


def _unindented(cp: _ChunkParser, first: int, lines: list[str], glued: tuple[int, ...]) -> list[str]:
    """Report each line of a chunk that lost its indentation; the lines with it restored."""
    kind = _block_kind(lines[0]) or "block"
    what = _BLOCK_NAMES.get(kind, kind)
    fixed = list(lines)
    for g in glued:
        word = _FIRST_WORD.match(lines[g])
        length = len(word.group(0)) if word else 1
        cp.diags.append(error(
            Span(cp.file, first + g, 1, first + g, 1 + length), "E018",
            f"attribute '{lines[g][:length]}' is not indented: read as part of the {what} above",
            f"indent it under the {what} above"))
        fixed[g] = " " + lines[g]
    return fixed


def _restore_columns(diags: list[Diagnostic], start: int, lines: set[int]) -> None:
    """diags[start:] on lines parsed with one space of indentation added point at the text as written."""
    for i in range(start, len(diags)):
        d = diags[i]
        if d.span is not None and d.span.line in lines and d.span.col > 1:
            diags[i] = replace(d, span=replace(d.span, col=d.span.col - 1,
                                               end_col=max(d.span.col - 1, d.span.end_col - 1)))


# ---------------------------------------------------------------------------- transformer

class _Fail(Exception):
    """A token-level error that makes the directive unusable."""


def _unquote(tok: str) -> str:
    body = tok[1:-1]
    if "\\" not in body:
        return body
    return re.sub(r'\\(.)', lambda mt: {"n": "\n", "t": "\t"}.get(mt.group(1), mt.group(1)), body)


@v_args(inline=True)
class _ToModel(Transformer):
    """Lark tree -> model nodes.  Token errors are collected, not raised."""

    def __init__(self, parse: _ChunkParser):
        super().__init__()
        self.p = parse

    # ----- tokens
    def _span(self, tok: Token) -> Span:
        return self.p.span(tok)

    def _date(self, tok: Token) -> date:
        y, mo, d = int(tok[0:4]), int(tok[5:7]), int(tok[8:10])
        try:
            return date(y, mo, d)
        except ValueError:
            if not 1 <= mo <= 12:
                msg = f"impossible date {tok}: there is no month {mo:02d}"
                mo = min(max(mo, 1), 12)
            elif y < 1:
                msg = f"impossible date {tok}: there is no year 0"
            else:
                last = calendar.monthrange(y, mo)[1]
                msg = f"impossible date {tok}: {calendar.month_name[mo]} {y} has {last} days"
            self.p.err(tok, "E010", msg, "write a real calendar date as YYYY-MM-DD")
            # no guess (the last day of the month) stands in for it: a guessed date would be
            # compared, billed and locked as if it were written, and each consequence reported
            raise _Fail from None

    def _dates(self, *toks: Token) -> list[date]:
        """Several dates of one line, each impossible one reported before the line is given up."""
        out, failed = [], False
        for tok in toks:
            try:
                out.append(self._date(tok))
            except _Fail:
                failed = True
        if failed:
            raise _Fail
        return out

    def _number(self, tok: Token, text: str | None = None) -> Decimal:
        raw = (text if text is not None else str(tok)).replace("_", "")
        digits = len(raw.replace("-", "").replace(".", "").lstrip("0"))
        if digits > MAX_DIGITS:
            self.p.err(tok, "E012", f"number with {digits} digits is too long (at most {MAX_DIGITS})",
                       "check for a pasted or repeated value")
            raise _Fail
        try:
            return Decimal(raw)
        except InvalidOperation:  # pragma: no cover - the grammar admits only digits
            self.p.err(tok, "E012", f"'{tok}' is not a number")
            raise _Fail

    def _int(self, tok: Token, what: str, minimum: int = 0) -> int:
        value = self._number(tok)
        if value != value.to_integral_value() or value < minimum:
            self.p.err(tok, "E017", f"{what} must be a whole number of at least {minimum}, not {tok}")
            raise _Fail
        return int(value)

    def _percent(self, tok: Token) -> Decimal:
        value = self._number(tok, str(tok)[:-1])
        if abs(value) > 1000:
            self.p.err(tok, "E014", f"percentage {tok} is out of range", "percentages are between -1000% and 1000%")
            raise _Fail
        return value

    def _duration(self, tok: Token) -> Decimal:
        text = str(tok)
        mt = re.fullmatch(r"(\d+)h(\d+)m", text)
        if mt:
            minutes = Decimal(mt.group(1)) * 60 + Decimal(mt.group(2))
            if int(mt.group(2)) >= 60:
                self.p.warn(tok, "W015", f"{text}: {mt.group(2)} minutes is an hour or more",
                            f"write it as {int(minutes) // 60}h{int(minutes) % 60}m")
        elif text.endswith("h"):
            minutes = self._number(tok, text[:-1]) * 60
        else:
            minutes = self._number(tok, text[:-1])
        if len(text) > 12 or minutes > MAX_MINUTES:
            self.p.err(tok, "E014", f"duration {text} is out of range", "a single entry is at most a year of hours")
            raise _Fail
        return minutes

    def _currency(self, tok: Token) -> str:
        code = str(tok)
        if not is_known_currency(code):
            self.p.err(tok, "E013", f"unknown currency code '{code}'",
                       "use an ISO 4217 code such as USD, EUR, PLN or JPY")
        return code

    def amount(self, number: Token, currency: Token | None = None) -> Amount:
        return Amount(self._number(number), self._currency(currency) if currency is not None else None)

    def _text(self, tok) -> str:
        s = str(tok)
        return _unquote(s) if s.startswith('"') else s

    # ----- attributes: (keyword, value, token)
    def _attr(key):  # a small factory for one-string attributes, used while the class body runs
        def handler(self, tok, *rest):
            return (key, self._text(tok), tok)
        return handler

    address = _attr("address")
    phone = _attr("phone")
    website = _attr("website")
    tax_id = _attr("tax-id")
    numbering = _attr("numbering")
    credit_numbering = _attr("credit-numbering")
    logo = _attr("logo")
    deliverable = _attr("deliverable")
    po = _attr("po")
    note = _attr("note")
    email = _attr("email")
    buyer_reference = _attr("buyer-reference")
    del _attr

    def ksef_number(self, tok):
        text = _unquote(tok)
        if not KSEF_NUMBER.fullmatch(text):
            self.p.err(tok, "E232", f"'{text}' is not a KSeF number",
                       'copy the number KSeF assigned, e.g.: ksef-number "5260001246-20260131-0100A0B1C2D3-4F"')
        return ("ksef-number", text, tok)

    def peppol(self, tok):
        """`peppol SCHEME:ID`: an EAS scheme code from Peppol's code list, a colon, the identifier."""
        text = self._text(tok)
        scheme, _, ident = text.partition(":")
        if not ident.strip() or scheme not in PEPPOL_EAS:
            self.p.err(tok, "E220", f"'{text}' is not a Peppol participant id of a known scheme",
                       "write SCHEME:ID with a code of Peppol's Electronic Address Scheme list, "
                       "e.g. peppol 0088:5790000435975 (GLN) or peppol 9930:DE123456789 (German VAT)")
        elif (problem := peppol_id_problem(scheme, ident)) is not None:
            self.p.err(tok, "E220", f"'{text}' is not a valid Peppol participant id: scheme {scheme} takes {problem}",
                       "copy the id from the Peppol directory (directory.peppol.eu); a mistyped digit breaks the "
                       "check digit")
        return ("peppol", text, tok)

    def split_payment(self, *_):
        return ("split-payment", True, None)

    def country(self, tok):
        return ("country", str(tok), tok)

    def currency(self, tok):
        return ("currency", self._currency(tok), tok)

    def locale(self, tok):
        return ("locale", str(tok), tok)

    def field(self, key, value):
        return ("field", (str(key), _unquote(value)), key)

    def reference(self, kind):
        return ("reference", str(kind), kind)

    def client_iban(self, tok):
        return ("iban", (self._text(tok), self._span(tok)), tok)

    def bank_detail(self, key, value):
        return (str(key), self._text(value))

    def bank(self, name, *details):
        info = dict(details)
        return ("bank", m.Bank(_unquote(name), iban=info.get("iban"), bic=info.get("bic"),
                               account=info.get("account"), routing=info.get("routing")), name)

    def payment_methods(self, *ids):
        return ("payment-methods", tuple(str(i) for i in ids), ids[0])

    def late_interest(self, pct, *_):
        return ("late-interest", self._percent(pct), pct)

    def late_fee(self, amt):
        return ("late-fee", amt, None)

    def contact(self, name, mail=None):
        return ("contact", (_unquote(name), self._text(mail) if mail is not None else None), name)

    def terms(self, kind, days=None):
        if kind == "due-on-receipt":
            return ("terms", m.Terms("due-on-receipt"), kind)
        return ("terms", m.Terms(str(kind), self._int(days, "days", 0) if days is not None else 0), kind)

    def tax(self, kind, arg=None):
        if kind == "exempt":
            return ("tax", m.Tax("exempt", "exempt", Decimal(0), _unquote(arg) if arg is not None else ""), kind)
        if kind == "reverse-charge":
            return ("tax", m.Tax("reverse-charge", "reverse-charge"), kind)
        pct = self._percent(arg)
        if pct < 0:
            self.p.err(arg, "E014", f"tax rate {arg} is negative", "tax rates are 0% or more")
        return ("tax", m.Tax("rate", str(kind), pct), kind)

    def client_discount(self, pct):
        return ("standing-discount", self._percent(pct), pct)

    def client_reminders(self, tok):
        return ("reminders", str(tok), tok)

    def period(self, start, end):
        s, e = self._dates(start, end)
        if e < s:
            self.p.err(end, "E011", f"period ends ({e}) before it starts ({s})", "swap the two dates")
        return ("period", m.Period(s, e), start)

    def hourly(self, kw, amt):
        return ("pricing", m.Pricing("hourly", amt), kw)

    def fixed(self, kw, amt):
        return ("pricing", m.Pricing("fixed", amt), kw)

    def retainer(self, kw, amt, freq):
        if str(freq) not in ("monthly", "quarterly", "yearly"):
            self.p.err(freq, "E001", f"a retainer renews monthly, quarterly or yearly, not {freq}")
            raise _Fail
        return ("pricing", m.Pricing("retainer", amt, frequency=str(freq)), kw)

    def value(self, kw, pct, amt, basis=None):
        return ("pricing", m.Pricing("value", amt, percent=self._percent(pct),
                                     basis=_unquote(basis) if basis is not None else ""), kw)

    def increment(self, tok):
        minutes = self._duration(tok)
        if minutes <= 0:
            self.p.err(tok, "E014", "the increment must be more than zero", "write for example 15m or 6m")
            raise _Fail
        return ("increment", minutes, tok)

    def cap(self, tok):
        if isinstance(tok, Amount):
            return ("cap", m.Cap(amount=tok), None)
        return ("cap", m.Cap(minutes=self._duration(tok)), tok)

    def schedule(self, tok):
        return ("schedule", str(tok), tok)

    def milestone(self, name, share):
        if isinstance(share, Amount):
            return ("milestone", m.Milestone(_unquote(name), amount=share, span=self._span(name)), name)
        return ("milestone", m.Milestone(_unquote(name), percent=self._percent(share), span=self._span(name)), name)

    def step(self, offset, name, fee=None):
        return ("step", m.Step(int(str(offset).rstrip("d")), self._text(name), fee is not None,
                               span=self._span(offset)), offset)

    def role(self, tok):
        return ("role", str(tok), tok)

    def role_rate(self, role, amt):
        if amt.value <= 0:
            self.p.err(role, "E014", f"the rate of role '{role}' is not positive", "write the hourly rate, e.g. 120.00")
        return ("rate", m.RoleRate(str(role), amt, span=self._span(role)), role)

    def by_person(self, tok):
        return ("by", str(tok), tok)

    def person(self, ident, name, *attrs):
        a = self._block("person", ident, attrs)
        return m.Person(str(ident), _unquote(name), role=a.get("role"), email=a.get("email"),
                        span=self.p.header_span())

    def sent(self, day, ref):
        return m.Sent(self._date(day), str(ref), span=self.p.header_span())

    def accepted(self, day, ref, signer, ref_opt=None):
        if not _unquote(signer).strip():
            self.p.err(signer, "E001", "'accepted' names who signed the SOW, and this name is empty",
                       f'write the signer\'s name: {day} accepted {ref} "Hank Scorpio"')
        return m.Accepted(self._date(day), str(ref), _unquote(signer),
                          ref_opt[1] if ref_opt is not None else None, span=self.p.header_span())

    def invoice_sows(self, *refs):
        return ("sow", tuple(str(r) for r in refs), refs[0])

    def item(self, desc, *rest):
        tax = None
        if rest and isinstance(rest[-1], tuple):
            tax, rest = rest[-1][1], rest[:-1]
        if len(rest) == 2:
            qty, price = self._number(rest[0]), rest[1]
        else:
            qty, price = Decimal(1), rest[0]
        return ("item", m.Item(_unquote(desc), qty, price, tax, span=self._span(desc)), desc)

    def _adjustment(self, kind, args):
        tax = None
        if args and isinstance(args[-1], tuple):
            tax, args = args[-1][1], args[:-1]
        first, reason = args[0], ""
        if len(args) > 1:
            reason = _unquote(args[1])
        if isinstance(first, Amount):
            adj = m.Adjustment(kind, amount=first, reason=reason, tax=tax)
        else:
            adj = m.Adjustment(kind, percent=self._percent(first), reason=reason, tax=tax)
        return (kind, adj, None)

    def discount(self, *args):
        return self._adjustment("discount", args)

    def charge(self, *args):
        return self._adjustment("charge", args)

    def due(self, tok):
        return ("due", self._date(tok), tok)

    # ----- blocks
    def _block(self, kind: str, header_tok: Token, attrs) -> dict:
        """Fold attribute tuples into a dict; repeated single-valued attributes are errors."""
        multi = {"field", "iban", "milestone", "step", "item", "discount", "charge", "deliverable", "note", "rate"}
        out: dict = {}
        for attr in attrs:
            if attr is None:
                continue
            key, value, tok = attr
            if key in multi:
                out.setdefault(key, []).append(value)
                continue
            if key in out:
                where = tok if isinstance(tok, Token) else None
                if key == "pricing":
                    self.p.err_line(where, "E016", f"a second pricing line '{tok}' in SOW '{header_tok}'",
                                    "a SOW has exactly one of: hourly, fixed, retainer, value")
                else:
                    self.p.err_line(where, "E015", f"'{key.replace('standing-', '')}' is given twice in this {kind}",
                                    "keep one of the two lines")
                continue
            out[key] = value
        return out

    def company(self, ident, name, *attrs):
        a = self._block("company", ident, attrs)
        kw = {
            "address": a.get("address", ""), "country": a.get("country"), "email": a.get("email"),
            "phone": a.get("phone"), "website": a.get("website"), "tax_id": a.get("tax-id"),
            "bank": a.get("bank"), "locale": a.get("locale"),
            "payment_methods": a.get("payment-methods", ()), "late_interest": a.get("late-interest"),
            "late_fee": a.get("late-fee"), "logo": a.get("logo"), "fields": tuple(a.get("field", ())),
            "reference": a.get("reference"),
        }
        if "peppol" in a:
            kw["peppol"] = a["peppol"]
        if "currency" in a:
            kw.update(currency=a["currency"])
        if "numbering" in a:
            kw["numbering"] = a["numbering"]
        if "credit-numbering" in a:
            kw["credit_numbering"] = a["credit-numbering"]
        return m.Company(str(ident), _unquote(name), span=self.p.header_span(), **kw)

    def client(self, ident, name, *attrs):
        a = self._block("client", ident, attrs)
        contact = a.get("contact", (None, None))
        return m.Client(
            str(ident), _unquote(name), address=a.get("address", ""), country=a.get("country"),
            contact=contact[0], contact_email=contact[1], email=a.get("email"), phone=a.get("phone"),
            tax_id=a.get("tax-id"), currency=a.get("currency"), locale=a.get("locale"),
            terms=a.get("terms", m.NET_30), tax=a.get("tax"), discount=a.get("standing-discount"),
            reminders=a.get("reminders"), fields=tuple(a.get("field", ())), span=self.p.header_span(),
            ibans=tuple(i for i, _ in a.get("iban", ())), iban_spans=tuple(s for _, s in a.get("iban", ())),
            peppol=a.get("peppol"), buyer_reference=a.get("buyer-reference"),
            split_payment=a.get("split-payment", False),
        )

    def sow(self, ref, title, *attrs):
        a = self._block("sow", ref, attrs)
        client, ident = str(ref).split("/", 1)
        return m.Sow(
            client, ident, _unquote(title), period=a.get("period"), pricing=a.get("pricing"),
            increment=a.get("increment", Decimal(1)), cap=a.get("cap"), tax=a.get("tax"),
            schedule=a.get("schedule"), milestones=tuple(a.get("milestone", ())),
            deliverables=tuple(a.get("deliverable", ())), po=a.get("po"),
            fields=tuple(a.get("field", ())), span=self.p.header_span(),
            rates=tuple(a.get("rate", ())),
        )

    def reminder_policy(self, ident, *steps):
        a = self._block("reminders", ident, steps)
        return m.ReminderPolicy(str(ident), tuple(a.get("step", ())), span=self.p.header_span())

    def entry_flag(self, tok):
        return str(tok)

    def markup(self, pct):
        return ("markup", self._percent(pct))

    def time(self, day, ref, length, *rest):
        desc = ""
        flags = []
        person = None
        for r in rest:
            if isinstance(r, tuple):
                if person is not None:
                    self.p.err(r[2], "E015", "'by' is given twice in this time entry", "keep one of the two")
                person = r[1]
            elif getattr(r, "type", None) == "STRING":
                desc = _unquote(r)
            else:
                flags.append(r)
        clock = None
        if length.type == "CLOCK":
            start, end = str(length).split("-")
            minutes = self._clock_minutes(length, start, end)
            clock = (start, end)
        else:
            minutes = self._duration(length)
        return m.TimeEntry(
            self._date(day), str(ref), minutes, desc, clock,
            tags=tuple(f[1:] for f in flags if f.startswith("#")),
            billable="nonbillable" not in flags, span=self.p.header_span(), person=person,
        )

    def _clock_minutes(self, tok, start: str, end: str) -> Decimal:
        def parse(hhmm: str) -> int:
            """Seconds since midnight of HH:MM or HH:MM:SS (seconds as a timeclock import keeps them)."""
            h, mi, *sec = (int(x) for x in hhmm.split(":"))
            s = sec[0] if sec else 0
            if h > 24 or mi > 59 or s > 59 or (h == 24 and (mi or s)):
                self.p.err(tok, "E011", f"'{hhmm}' is not a time of day",
                           "hours run 00-24, minutes and seconds 00-59")
                raise _Fail
            return (h * 60 + mi) * 60 + s
        a, b = parse(start), parse(end)
        if b <= a:
            self.p.err(tok, "E011", f"clock range {tok} ends before it starts",
                       f"swap the times ({end}-{start}) or split an entry that runs past midnight")
            raise _Fail
        if (b - a) % 60 == 0:
            return Decimal((b - a) // 60)
        return CONTEXT.divide(Decimal(b - a), Decimal(60))  # exact to the context's digits; the SOW increment rounds it up

    def expense(self, day, ref, amt, *rest):
        desc, markup, flags = "", None, []
        for r in rest:
            if isinstance(r, tuple):
                markup = r[1]
            elif getattr(r, "type", None) == "STRING":
                desc = _unquote(r)
            else:
                flags.append(r)
        return m.Expense(self._date(day), str(ref), amt, desc, markup,
                         tags=tuple(f[1:] for f in flags if f.startswith("#")),
                         billable="nonbillable" not in flags, span=self.p.header_span())

    def done(self, day, ref, name):
        return m.Done(self._date(day), str(ref), _unquote(name), span=self.p.header_span())

    def invoice(self, day, number, client, *attrs):
        a = self._block("invoice", number, attrs)
        adjustments = tuple(a.get("discount", ())) + tuple(a.get("charge", ()))
        return m.Invoice(
            self._date(day), self._text(number), str(client), sows=a.get("sow"), period=a.get("period"),
            items=tuple(a.get("item", ())), adjustments=adjustments, due=a.get("due"),
            notes=tuple(a.get("note", ())), po=a.get("po"), fields=tuple(a.get("field", ())),
            span=self.p.header_span(), buyer_reference=a.get("buyer-reference"),
            split_payment=a.get("split-payment", False), ksef_number=a.get("ksef-number"),
        )

    def pay_for(self, *numbers):
        return ("for", tuple(self._text(n) for n in numbers))

    def pay_via(self, tok):
        return ("via", str(tok))

    def pay_ref(self, tok):
        return ("ref", _unquote(tok))

    def payment(self, day, client, amt, *opts):
        o = {}
        for key, value in opts:
            if key in o:
                self.p.err_line(None, "E015", f"'{key}' is given twice in this payment", "keep one of them")
            o[key] = value
        if amt.value <= 0:
            self.p.err_line(None, "E014", f"a payment of {amt} is not positive",
                            "record refunds as a credit note; amounts are positive")
        return m.Payment(self._date(day), str(client), amt, o.get("for", ()), o.get("via"), o.get("ref"),
                         span=self.p.header_span())

    def credit_note(self, day, number, invoice, amt, *rest):
        reason = ""
        attrs = []
        for r in rest:
            if getattr(r, "type", None) == "STRING":
                reason = _unquote(r)
            else:
                attrs.append(r)
        a = self._block("credit-note", number, attrs)
        amount = None if getattr(amt, "type", None) == "FULL" else amt
        if amount is not None and amount.value <= 0:
            self.p.err_line(None, "E014", f"a credit note of {amount} is not positive",
                            "write the amount the credit note takes off the invoice")
        return m.CreditNote(self._date(day), self._text(number), self._text(invoice), amount, reason,
                            notes=tuple(a.get("note", ())), fields=tuple(a.get("field", ())),
                            span=self.p.header_span(), ksef_number=a.get("ksef-number"))

    def plan_every(self, tok):
        if tok.type == "FREQ":
            return (str(tok), 1)
        return ("days", self._int(tok, "the days between installments", 1))

    def plan(self, day, invoice, count, every):
        n = self._int(count, "the number of installments", 1)
        if n > 1000:
            self.p.err(count, "E014", f"{n} installments are too many", "a plan has at most 1000 installments")
            raise _Fail
        return m.Plan(self._date(day), self._text(invoice), n, every[0], every[1], span=self.p.header_span())

    def reminded(self, day, invoice, step):
        return m.Reminded(self._date(day), self._text(invoice), self._text(step), span=self.p.header_span())

    def writeoff(self, day, invoice, reason=None):
        return m.WriteOff(self._date(day), self._text(invoice), _unquote(reason) if reason else "",
                          span=self.p.header_span())

    def collections(self, day, invoice, agency=None):
        return m.Collections(self._date(day), self._text(invoice), _unquote(agency) if agency else "",
                             span=self.p.header_span())

    def fx(self, day, base, quote, rate):
        value = self._number(rate)
        if value <= 0:
            self.p.err(rate, "E014", f"an exchange rate of {rate} is not positive")
            raise _Fail
        if base == quote:
            self.p.err(quote, "E014", f"an exchange rate from {base} to itself")
            raise _Fail
        return m.Fx(self._date(day), self._currency(base), self._currency(quote), value, span=self.p.header_span())

    def start(self, *directives):
        return list(directives)


class _ChunkParser:
    """Parses the chunks of one file and collects their diagnostics."""

    def __init__(self, filename: str, syntax: Syntax):
        self.file = filename
        self.syntax = syntax
        self.diags: list[Diagnostic] = []
        self.offset = 0
        self.lines: list[str] = []
        self.transformer = _ToModel(self)
        self.direct: fastpath.Direct | None = None  # the transformer for the fast path, made on first use

    # location helpers
    def span(self, tok: Token | None) -> Span:
        if tok is None or getattr(tok, "line", None) is None:
            return self.header_span()
        line = tok.line + self.offset
        end_col = (tok.end_column or tok.column + len(tok))
        return Span(self.file, line, tok.column, line, end_col)

    def header_span(self) -> Span:
        first = self.lines[0] if self.lines else ""
        line = self.syntax.interner.line(self.offset + 1)
        return Span(self.file, line, 1, line, len(first.rstrip()) + 1)

    def err(self, tok, code, message, hint=None):
        self.diags.append(error(self.span(tok), code, message, hint))

    def warn(self, tok, code, message, hint=None):
        self.diags.append(warning(self.span(tok), code, message, hint))

    def err_line(self, tok, code, message, hint=None):
        self.diags.append(error(self.span(tok) if tok is not None else self.header_span(), code, message, hint))

    def parse(self, first_line: int, lines: list[str]):
        self.offset = first_line - 1
        self.lines = lines
        if self.syntax.fast_path and (len(lines) == 1 or all(not ln.strip() or ln.lstrip().startswith(";")
                                                             for ln in lines[1:])):
            mark = len(self.diags)
            if self.direct is None:
                self.direct = fastpath.Direct(self.transformer)
            try:
                node = fastpath.parse_line(self.direct, self.syntax.interner, lines[0], self.header_span())
            except _Fail:
                node = None
            if node is not None:
                return [node]
            del self.diags[mark:]  # Lark reads the line again and says it all, in its order
        text = "\n".join(lines) + "\n"
        try:
            tree = self.syntax.lark.parse(text)
            return self.transformer.transform(tree)
        except UnexpectedInput as exc:
            first_error = explain_syntax_error(self.syntax, exc, text, self.file, self.offset)
            self.diags.append(first_error)
            self._later_line_errors(lines, first_error.span.line - self.offset)
            return None
        except VisitError as exc:
            if isinstance(exc.orig_exc, _Fail):
                return None
            raise
        except RecursionError:  # pragma: no cover - absurdly long lines
            self.diags.append(error(self.header_span(), "E001", "this directive is too long to read"))
            return None


    def _later_line_errors(self, lines: list[str], failed: int) -> None:
        """After a syntax error in attribute line `failed` (1 = the header), the attribute lines
        below it, each read with the header alone: every error of a block is reported, not only
        its first (a bad `email` does not hide a bad `role` under it)."""
        if failed < 2:
            return
        for j in range(failed + 1, len(lines) + 1):
            line = lines[j - 1]
            if not line.strip() or line.lstrip().startswith(";"):
                continue
            text = lines[0] + "\n" + line + "\n"
            try:
                self.syntax.lark.parse(text)
            except UnexpectedInput as exc:
                diag = explain_syntax_error(self.syntax, exc, text, self.file, self.offset + j - 2)
                if diag.span.line == self.offset + j:  # an error of this line, not of the header
                    self.diags.append(diag)


def parse_text(text: str, filename: str, syntax: Syntax | None = None):
    """Parse one file's text: (directives, diagnostics, names of broken directives).

    syntax: the parser and shared values of the load this file belongs to (None: a fresh one,
    for a one-off parse; it builds the Lark parser again if the text needs it)."""
    if syntax is None:
        syntax = Syntax()
    cp = _ChunkParser(filename, syntax)
    nodes = []
    broken: set[tuple[str, str]] = set()
    whole_line = syntax.interner.whole_line if syntax.fast_path else None
    for first, lines, glued in split_chunks(text, syntax.interner.line_numbers):
        if whole_line is not None and lines is not None and len(lines) == 1:
            node = whole_line(lines[0], filename, first)
            if node is not None:
                nodes.append(node)
                continue
        if lines is None:
            line = text.split("\n")[first - 1]
            col = len(line) - len(line.lstrip()) + 1
            cp.diags.append(error(
                Span(filename, first, col, first, len(line) + 1), "E004",
                "indented line outside a block",
                "attributes are indented below a header line in column 0; remove the indentation "
                "or move the line under its directive"))
            continue
        n_before = len(cp.diags)
        if glued:
            lines = _unindented(cp, first, lines, glued)
        n_parse = len(cp.diags)
        result = cp.parse(first, lines)
        if glued and len(cp.diags) > n_parse:
            _restore_columns(cp.diags, n_parse, {first + g for g in glued})
        if result:
            nodes.extend(result)
        if result is None or len(cp.diags) > n_before and any(d.is_error for d in cp.diags[n_before:]):
            # what it declares or feeds is unknown or guessed: the checks that would only report
            # the consequences (an unknown reference, a locked document that changed) keep quiet
            broken |= salvage_names(lines[0])
    return nodes, cp.diags, broken


_HEAD = re.compile(r"(?P<date>\d{4}-\d\d-\d\d\s+)?(?P<kw>[a-z][a-z-]*)\s")
_ARG = re.compile(r'"[^"]*"|[^\s"]+')
_NAME = re.compile(r"[a-z0-9][a-z0-9_/-]*")
# a broken dated entry: the names of what it feeds, by the position of the word that says so
#   entry    a time entry, expense or milestone of this SOW
#   billing  an invoice of this client (its other invoices' periods and items depend on it)
#   account  a payment of this client
#   settles  a credit note, plan, reminder, write-off or collections entry of this invoice
#   fx       a rate of this pair, BASE/QUOTE
_FEEDS = MappingProxyType({
    "time": (("entry", 0),), "expense": (("entry", 0),), "done": (("entry", 0),),
    "invoice": (("document", 0), ("billing", 1)),
    "credit-note": (("document", 0), ("settles", 2)),
    "payment": (("account", 0),),
    "plan": (("settles", 0),), "reminded": (("settles", 0),), "writeoff": (("settles", 0),),
    "collections": (("settles", 0),),
})


def salvage_names(header: str) -> set[tuple[str, str]]:
    """What a broken header line declares or feeds, as (kind, name) pairs, so that what refers to
    it or is computed from it does not cascade: ("client", "globex"), ("document", "INV-1"),
    ("entry", "globex/web") ..."""
    mt = _HEAD.match(header)
    if not mt:
        return set()
    args = [a[1:-1] if a.startswith('"') else a for a in _ARG.findall(_strip_comment(header[mt.end():]))]
    if not args:
        return set()
    if not mt.group("date"):
        kw = closest(mt.group("kw"), DIRECTIVES)
        name = _NAME.match(args[0])
        return {(kw, name.group(0))} if kw and name else set()
    kw = closest(mt.group("kw"), DATED)
    if kw == "fx":
        return {("fx", "/".join(args[:2]))} if len(args) >= 2 else set()
    if kw == "credit-note" and len(args) > 2 and args[1] != "for":
        args = args[:2]  # not `NUMBER for INVOICE`: the invoice is unknown
    return {(kind, args[i]) for kind, i in _FEEDS.get(kw or "", ()) if i < len(args)}


# ---------------------------------------------------------------------------- syntax errors

_WORD = re.compile(r'"(?:\\.|[^"\\\n])*"?|[^\s;]+')


def _word_at(line: str, col: int) -> str:
    for mt in _WORD.finditer(line):
        if mt.start() <= col - 1 < mt.end():
            return mt.group(0)
    return line[col - 1:col]


def _accepted(exc: UnexpectedInput, fallback) -> set:
    """What the parser could really take here: LALR's merged states over-promise."""
    ip = getattr(exc, "interactive_parser", None)
    if ip is not None:
        with contextlib.suppress(Exception):  # a better message is a nicety, never a crash
            found = ip.accepts()
            if found:
                return set(found)
    return set(fallback or ())


def explain_syntax_error(syntax: Syntax, exc: UnexpectedInput, text: str, filename: str, offset: int) -> Diagnostic:
    """Turn a Lark exception into a diagnostic that says what was expected, in words."""
    lines = text.split("\n")
    if isinstance(exc, UnexpectedToken) and exc.token.type in ("_NL", "_NLI", "$END"):
        # the line ended too early: point just past its last character
        line_no = exc.token.line if exc.token.type != "$END" else len(lines) - 1
        line_no = max(1, line_no or 1)
        line = lines[line_no - 1]
        code_part = _strip_comment(line).rstrip()
        col = len(code_part) + 1
        expected = describe_expected(syntax, _accepted(exc, exc.expected))
        span = Span(filename, line_no + offset, col, line_no + offset, col + 1)
        return error(span, "E001", f"this line ends too early: expected {_or(expected)}",
                     _example_hint(lines[0], line, expected))
    line_no = getattr(exc, "line", 1) or 1
    col = getattr(exc, "column", 1) or 1
    line = lines[line_no - 1] if line_no - 1 < len(lines) else ""
    word = _word_at(line, col)
    if isinstance(exc, UnexpectedToken):
        expected_names = _accepted(exc, exc.expected)
    else:
        expected_names = _accepted(exc, getattr(exc, "allowed", None))
    expected = describe_expected(syntax, expected_names)
    keywords = _literal_words(syntax, expected_names)
    span = Span(filename, line_no + offset, col, line_no + offset, col + max(1, len(word)))
    is_header = line_no == 1
    first_word_col = len(line) - len(line.lstrip()) + 1
    after_date = re.match(r"\d{4}-\d\d-\d\d\s+", line)

    if word.startswith('"') and (len(word) == 1 or not word.endswith('"') or word.endswith('\\"')):
        return error(span, "E005", "unterminated string", 'close the string with a " on the same line')

    comma = _comma_number(line, col)
    if comma is not None:
        start, word, message, hint = comma
        return error(Span(filename, line_no + offset, start, line_no + offset, start + len(word)), "E001",
                     message, hint)

    if is_header and (col == 1 or (after_date and col == after_date.end() + 1)) and re.fullmatch(r"[a-z][a-z-]*", word):
        candidates = DATED if after_date else DIRECTIVES
        hint = None
        guess = closest(word, candidates + (DIRECTIVES if after_date else DATED))
        owners = [_BLOCK_NAMES.get(k, k) for k, words in BLOCK_ATTRIBUTES.items() if word in words]
        if guess in candidates:
            hint = f"did you mean '{guess}'?"
        elif owners and not after_date:
            # an attribute in column 0 where the block above does not take it (else it is E018)
            hint = f"'{word}' is an attribute: indent it under {_article(' or '.join(owners))}"
        elif guess:
            hint = (f"'{guess}' takes a date in front: 2026-01-31 {guess} ..." if guess in DATED
                    else f"'{guess}' does not take a date in front")
        else:
            hint = "directives are: " + ", ".join(candidates)
        return error(span, "E002", f"unknown directive '{word}'", hint)

    if col == 1 and re.match(r"\d", word):
        return error(span, "E001", f"'{word}' is not a date", "dates are written YYYY-MM-DD, like 2026-01-31")

    if not is_header and col == first_word_col and re.fullmatch(r"[a-z][a-z-]*", word) and keywords:
        block = _block_kind(lines[0])
        hint = None
        guess = closest(word, keywords)
        if guess:
            hint = f"did you mean '{guess}'?"
        elif block in BLOCK_ATTRIBUTES:
            hint = f"a {block} takes: " + ", ".join(BLOCK_ATTRIBUTES[block])
        what = f"a {block}" if block else "this block"
        return error(span, "E003", f"unknown attribute '{word}' in {what}", hint)

    guess = closest(word, keywords) if re.fullmatch(r"[a-z][a-z-]*", word) and keywords else None
    if guess and guess != word:
        return error(span, "E001", f"unexpected '{word}'", f"did you mean '{guess}'?")
    what = _block_kind(lines[0])
    message = f"unexpected '{word}'" + (f" in {_article(what)}" if what else "")
    if expected:
        message += f": expected {_or(expected)}"
    return error(span, "E001", message, _example_hint(lines[0], word, expected))


_BARE_WORD = re.compile(r'[^\s;"]+')
_COMMA_NUMBER = re.compile(r"[-+]?(?P<num>\d[\d.,_]*\d)(?P<unit>%|h|m)?")


def _comma_number(line: str, col: int) -> tuple[int, str, str, str] | None:
    """A number written with a comma at the error (`180,00`, `1.500,00`, `1,500.00`):
    (its column, the word, the message, the fix) -- a European decimal mark is the usual slip."""
    for mt in _BARE_WORD.finditer(line):
        if not mt.start() <= col - 1 < mt.end():
            continue
        word = mt.group(0)
        number = _COMMA_NUMBER.fullmatch(word)
        if number is None or "," not in number.group("num"):
            return None
        num, unit = number.group("num"), number.group("unit") or ""
        written = word[: number.start("num")]
        if ("." in num and num.rfind(",") < num.rfind(".")) or num.count(",") > 1:
            fixed = written + num.replace(",", "") + unit
            return (mt.start() + 1, word, f"'{word}' groups its digits with commas",
                    f"write {fixed} (digits are grouped with '_' if at all, never with commas)")
        whole, frac = num.replace(".", "").split(",")
        fixed = f"{written}{whole}.{frac}{unit}"
        if len(frac) == 3 and "." not in num:
            grouped = f"{written}{whole}_{frac}{unit}"
            return (mt.start() + 1, word, f"'{word}' has a comma in it",
                    f"write {fixed} (a point as decimal mark) or {grouped} (digits grouped with '_')")
        return (mt.start() + 1, word, f"'{word}' has a comma as decimal mark",
                f"write {fixed} (a point as decimal mark)")
    return None


def _strip_comment(line: str) -> str:
    out, in_str, esc = [], False, False
    for ch in line:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch == ";":
            break
        out.append(ch)
    return "".join(out)


def _block_kind(header: str) -> str | None:
    mt = re.match(r"(?:\d{4}-\d\d-\d\d\s+)?([a-z][a-z-]*)", header)
    if not mt:
        return None
    word = mt.group(1)
    if word == "reminders":
        return "reminders"
    return word if word in DIRECTIVES + DATED else None


def _article(what: str) -> str:
    names = {"time": "time entry", "done": "done entry", "fx": "fx rate", "reminders": "reminder policy",
             "reminded": "reminded entry", "writeoff": "write-off", "collections": "collections entry"}
    name = names.get(what, what)
    return ("an " if name[0] in "aeiou" else "a ") + name


def _or(items: list[str]) -> str:
    if not items:
        return "something else"
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " or " + items[-1]


def _example_hint(header: str, word: str, expected: list[str]) -> str | None:
    """Typical mistakes, recognised by example, with the fix spelled out."""
    exp = " ".join(expected)
    if "Peppol participant id" in exp:
        return "write SCHEME:ID with a Peppol scheme code: peppol 0088:5790000435975 (GLN) or peppol 9930:DE123456789"
    if "duration" in exp and re.fullmatch(r"\d+(\.\d+)?", word):
        return f"a duration needs a unit: {word}h or {word}m"
    if "currency code" in exp and re.fullmatch(r"[a-z]{3}", word):
        return f"currency codes are capitals: {word.upper()}"
    if "SOW reference" in exp and re.fullmatch(r"[a-z0-9][a-z0-9_-]*", word):
        return f"name the SOW with its client: CLIENT/{word}"
    if "quoted string" in exp and re.fullmatch(r"[A-Za-z][\w'-]*", word):
        return f'text goes in double quotes: "{word} ..."'
    if "date" in exp and re.fullmatch(r"\d{4}[/.]\d\d?[/.]\d\d?", word):
        return "dates are written YYYY-MM-DD, like 2026-01-31"
    if "percentage" in exp and re.fullmatch(r"-?\d+(\.\d+)?", word):
        return f"write a percentage with a % sign: {word}%"
    if "an id" in exp and re.fullmatch(r"[\w-]+", word) and re.search(r"[A-Z]", word):
        return f"ids are lowercase: {word.lower()}"
    return None
