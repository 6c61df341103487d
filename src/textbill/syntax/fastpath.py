"""A fast path for one-line dated entries, the bulk of any large ledger.

A line is split into words and matched against the shape of its directive
with the grammar's own token patterns; the words then go through the same
transformer methods as a Lark parse, so both paths build identical nodes.
Anything the fast path is not sure about (a missing space, an unusual order,
an error) returns None and is parsed by Lark, which stays the single
authority on syntax and on error messages.
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from types import MappingProxyType

from textbill.core.frozen import builder
from textbill.core.model import Expense, Payment, TimeEntry
from textbill.core.money import Amount, is_known_currency
from textbill.core.source import Span

MAX_DIGITS = 20  # as parser.MAX_DIGITS
MAX_MINUTES = Decimal(24 * 60 * 366)  # as parser.MAX_MINUTES

_TIME = builder(TimeEntry)
_EXPENSE = builder(Expense)
_PAYMENT = builder(Payment)
_SPAN = builder(Span)


class Tok(str):
    """A word with the attributes of a Lark token that the transformer reads."""

    type: str
    line = 1
    column: int
    end_column: int


def _tok(kind: str, text: str, col: int) -> Tok:
    t = Tok(text)
    t.type = kind
    t.column = col + 1
    t.end_column = col + 1 + len(text)
    return t

# the grammar's terminals (grammar/textbill.lark), matched against whole words
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
CLOCK = re.compile(r"\d{1,2}:\d{2}-\d{1,2}:\d{2}")
DURATION = re.compile(r"\d+h\d+m|\d+(\.\d+)?h|\d+m")
PERCENT = re.compile(r"-?\d+(_\d+)*(\.\d+)?%")
NUMBER = re.compile(r"-?\d+(_\d+)*(\.\d+(_\d+)*)?")
SOWREF = re.compile(r"[a-z0-9][a-z0-9_-]*/[a-z0-9][a-z0-9_-]*")
ID = re.compile(r"[a-z0-9][a-z0-9_-]*")
TAG = re.compile(r"#[a-z0-9][a-z0-9_-]*")
CURRENCY = re.compile(r"[A-Z]{3}")
DOCNO = re.compile(r'[^\s;"]+')
FREQ = ("weekly", "biweekly", "monthly", "quarterly", "yearly")

_WORDS = re.compile(r'"(?:\\.|[^"\\\n])*"|;.*|[^\s;"]+|\S')


class _Miss(Exception):
    """The line is not in a shape the fast path handles."""


def _words(line: str) -> list[tuple[str, int]]:
    out = []
    for m in _WORDS.finditer(line):
        w = m.group(0)
        if w[0] == ";":
            break
        if w == '"':
            raise _Miss
        out.append((w, m.start()))
    return out


class _Cursor:
    def __init__(self, words):
        self.words = words
        self.i = 0

    def peek(self) -> str | None:
        return self.words[self.i][0] if self.i < len(self.words) else None

    def take(self, kind: str, pattern=None) -> Tok:
        if self.i >= len(self.words):
            raise _Miss
        text, col = self.words[self.i]
        if pattern is not None and not pattern.fullmatch(text):
            raise _Miss
        self.i += 1
        return _tok(kind, text, col)

    def take_if(self, kind: str, pattern) -> Tok | None:
        text = self.peek()
        if text is not None and pattern.fullmatch(text):
            return self.take(kind)
        return None

    def string(self) -> Tok | None:
        text = self.peek()
        if text is not None and text.startswith('"'):
            return self.take("STRING")
        return None

    def done(self) -> bool:
        return self.i >= len(self.words)


def _amount(tf, c: _Cursor):
    number = c.take("NUMBER", NUMBER)
    currency = c.take_if("CURRENCY", CURRENCY)
    return tf.amount(number, currency)


def _docno(c: _Cursor) -> Tok:
    text = c.peek()
    if text is None:
        raise _Miss
    if text.startswith('"'):
        return c.take("STRING")
    return c.take("DOCNO", DOCNO)


def _time(tf, day, c):
    ref = c.take("SOWREF", SOWREF)
    text = c.peek() or ""
    length = c.take("CLOCK") if CLOCK.fullmatch(text) else c.take("DURATION", DURATION)
    rest = []
    desc = c.string()
    if desc is not None:
        rest.append(desc)
    while not c.done():
        text = c.peek()
        if text == "nonbillable":
            rest.append(str(c.take("NONBILLABLE")))
        elif text == "by":
            c.take("BY")
            rest.append(tf.by_person(c.take("ID", ID)))
        else:
            rest.append(str(c.take("TAG", TAG)))
    return tf.time(day, ref, length, *rest)


def _expense(tf, day, c):
    ref = c.take("SOWREF", SOWREF)
    amount = _amount(tf, c)
    rest = []
    desc = c.string()
    if desc is not None:
        rest.append(desc)
    while not c.done():
        text = c.peek()
        if text == "nonbillable":
            rest.append(str(c.take("NONBILLABLE")))
        elif text == "markup":
            c.take("MARKUP")
            rest.append(tf.markup(c.take("PERCENT", PERCENT)))
        else:
            rest.append(str(c.take("TAG", TAG)))
    return tf.expense(day, ref, amount, *rest)


def _payment(tf, day, c):
    client = c.take("ID", ID)
    amount = _amount(tf, c)
    opts = []
    if c.peek() == "for":
        c.take("FOR")
        numbers = [_docno(c)]
        while not c.done() and c.peek() not in ("via", "ref"):
            numbers.append(_docno(c))
        opts.append(tf.pay_for(*numbers))
    if c.peek() == "via":
        c.take("VIA")
        opts.append(tf.pay_via(c.take("ID", ID)))
    if c.peek() == "ref":
        c.take("REF")
        tok = c.string()
        if tok is None:
            raise _Miss
        opts.append(tf.pay_ref(tok))
    if not c.done():
        raise _Miss
    return tf.payment(day, client, amount, *opts)


def _fx(tf, day, c):
    base = c.take("CURRENCY", CURRENCY)
    quote = c.take("CURRENCY", CURRENCY)
    rate = c.take("NUMBER", NUMBER)
    if not c.done():
        raise _Miss
    return tf.fx(day, base, quote, rate)


def _done(tf, day, c):
    ref = c.take("SOWREF", SOWREF)
    name = c.string()
    if name is None or not c.done():
        raise _Miss
    return tf.done(day, ref, name)


def _doc_then_text(method):
    def handle(tf, day, c):
        number = _docno(c)
        reason = c.string()
        if not c.done():
            raise _Miss
        return getattr(tf, method)(day, number, *([reason] if reason is not None else []))
    return handle


def _reminded(tf, day, c):
    number = _docno(c)
    step = c.string() or c.take("ID", ID)
    if not c.done():
        raise _Miss
    return tf.reminded(day, number, step)


def _plan(tf, day, c):
    number = _docno(c)
    count = c.take("NUMBER", NUMBER)
    if c.peek() != "installments":
        raise _Miss
    c.take("INSTALLMENTS")
    if c.peek() == "every":
        c.take("EVERY")
        every = tf.plan_every(c.take("NUMBER", NUMBER))
        if c.peek() != "days":
            raise _Miss
        c.take("DAYS")
    elif c.peek() in FREQ:
        every = tf.plan_every(c.take("FREQ"))
    else:
        raise _Miss
    if not c.done():
        raise _Miss
    return tf.plan(day, number, count, every)


HANDLERS = MappingProxyType({
    "time": _time,
    "expense": _expense,
    "payment": _payment,
    "fx": _fx,
    "done": _done,
    "writeoff": _doc_then_text("writeoff"),
    "collections": _doc_then_text("collections"),
    "reminded": _reminded,
    "plan": _plan,
})


class Direct:
    """The transformer's methods without Lark's per-call v_args wrappers (one per transformer)."""

    def __init__(self, tf):
        self._tf = tf

    def __getattr__(self, name):
        raw = type(self._tf).__dict__.get(name)
        func = getattr(raw, "base_func", None)
        if func is None:
            bound = getattr(self._tf, name)
        else:
            tf = self._tf

            def bound(*args, _f=func):
                return _f(tf, *args)
        setattr(self, name, bound)
        return bound


# ---------------------------------------------------------------------------- whole-line patterns
# The three kinds that make up almost every large ledger are matched by one
# regular expression each and built without any token objects.  A value that
# would need a diagnostic (an impossible date, 75 minutes, an unknown
# currency, too many digits) is left to the slow path, which reports it.

_S = r"[ \t]+"
_DATE = r"(\d{4})-(\d{2})-(\d{2})"
_REF = r"([a-z0-9][a-z0-9_-]*/[a-z0-9][a-z0-9_-]*)"
_NUM = r"(-?\d{1,15}(?:_\d{1,15})*(?:\.\d{1,15}(?:_\d{1,15})*)?)"
_STR = r'("(?:\\.|[^"\\\n])*")'
_PCT = r"-?\d{1,6}(?:_\d{1,6})*(?:\.\d{1,6})?%"
_END = r"[ \t]*(?:;.*)?$"

_TIME_RE = re.compile(
    "^" + _DATE + _S + "time" + _S + _REF + _S +
    r"(?:(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})|(\d{1,5})h(\d{1,2})m|(\d{1,5}(?:\.\d{1,6})?)h|(\d{1,6})m)"
    "(?:" + _S + _STR + ")?"
    r"((?:[ \t]+(?:#[a-z0-9][a-z0-9_-]*|nonbillable|by[ \t]+[a-z0-9][a-z0-9_-]*))*)" + _END)
_EXPENSE_RE = re.compile(
    "^" + _DATE + _S + "expense" + _S + _REF + _S + _NUM + "(?:" + _S + "([A-Z]{3}))?"
    "(?:" + _S + _STR + ")?"
    r"((?:[ \t]+(?:#[a-z0-9][a-z0-9_-]*|nonbillable|markup[ \t]+" + _PCT + "))*)" + _END)
_DOC = r'(?:"(?:\\.|[^"\\\n])*"|(?!(?:via|ref)(?=[ \t;]|$))[^\s;"]+)'
_PAYMENT_RE = re.compile(
    "^" + _DATE + _S + "payment" + _S + r"([a-z0-9][a-z0-9_-]*)" + _S + _NUM + "(?:" + _S + "([A-Z]{3}))?"
    "(?:" + _S + "for((?:" + _S + _DOC + ")+))?"
    "(?:" + _S + r"via[ \t]+([a-z0-9][a-z0-9_-]*))?"
    "(?:" + _S + "ref" + _S + _STR + ")?" + _END)
_DOCS = re.compile(_DOC)
_FLAGS = re.compile(r"#[a-z0-9][a-z0-9_-]*|nonbillable|markup[ \t]+(" + _PCT + ")")


def _unquote(tok: str) -> str:
    body = tok[1:-1]
    if "\\" not in body:
        return body
    return re.sub(r'\\(.)', lambda mt: {"n": "\n", "t": "\t"}.get(mt.group(1), mt.group(1)), body)


def _dec(text: str) -> Decimal:
    return Decimal(text.replace("_", ""))


def _significant_ok(text: str) -> bool:
    return len(text.replace("_", "").replace("-", "").replace(".", "").lstrip("0")) <= MAX_DIGITS


MAX_SHARED = 200_000  # per table: a ledger of unique values must not grow them without end
# line numbers past this are not shared: the table holds one int per number up to the largest
# asked for, 40 bytes each, and a file of blank lines must not make it grow without end
MAX_SHARED_LINE = 1 << 20


class Interner:
    """The values that repeat across a ledger (days, durations, SOW refs, clients, descriptions,
    tags), shared between the nodes built from its lines, and the whole-line builders using them.

    A large ledger then holds each value once, and the parse cache stores and loads each once.
    Nodes are frozen, so sharing is safe.  One Interner serves one load (all files of one ledger)
    or one watch session; each table stops growing at MAX_SHARED entries.
    """

    __slots__ = ("_lines", "_whole", "days", "durations", "minutes", "numbers", "strings", "tuples")

    def __init__(self) -> None:
        self.days: dict[str, date] = {}
        self.strings: dict[str, str] = {}
        self.minutes: dict[int, Decimal] = {}  # clock ranges: at most a day of distinct lengths
        self.durations: dict[tuple, Decimal] = {}
        self.tuples: dict[tuple, tuple] = {}
        # numbers of nodes read back by columns (a parse cache entry, a forked parse), by their text
        self.numbers: dict[str, Decimal] = {}
        # line numbers: table[n] is n, one object per number for the spans of every file.  A span
        # holds its line twice (line, end_line), and a number above 256 made on its own is a
        # 32-byte object: 64 MB in a ledger of a million entries read back by columns
        self._lines: list[int] = list(range(1024))
        # bound once here: the dispatch of whole_line(), the hot loop of a cold parse
        self._whole = {"time": self.time_node, "expense": self.expense_node, "payment": self.payment_node}

    def line_numbers(self, top: int) -> list[int]:
        """The shared line numbers, a list in which table[n] is n for every n up to top (up to
        MAX_SHARED_LINE when top is past it: later numbers are not shared).  It grows by a longer
        copy, so a thread holding the old one still reads the right numbers."""
        table = self._lines
        if top >= len(table) <= MAX_SHARED_LINE:
            end = min(max(top + 1, 2 * len(table)), MAX_SHARED_LINE + 1)
            table = self._lines = table + list(range(len(table), end))
        return table

    def line(self, number: int) -> int:
        """The shared object for a line number (the number itself past MAX_SHARED_LINE)."""
        table = self.line_numbers(number)
        return table[number] if number < len(table) else number

    def day(self, m) -> date | None:
        key = m.group(0)[:10]
        day = self.days.get(key)
        if day is None:
            try:
                day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                return None
            if len(self.days) < MAX_SHARED:
                self.days[key] = day
        return day

    def shared(self, text: str) -> str:
        found = self.strings.get(text)
        if found is None:
            if len(self.strings) < MAX_SHARED:
                self.strings[text] = text
            return text
        return found

    def shared_tuple(self, t: tuple) -> tuple:
        if not t:
            return ()
        found = self.tuples.get(t)
        if found is None:
            if len(self.tuples) < MAX_SHARED:
                self.tuples[t] = t
            return t
        return found

    def time_node(self, line: str, span: Span):
        mt = _TIME_RE.match(line)
        if not mt:
            return None
        day = self.day(mt)
        if day is None:
            return None
        clock = None
        if mt.group(5) is not None:
            h1, m1, h2, m2 = int(mt.group(5)), int(mt.group(6)), int(mt.group(7)), int(mt.group(8))
            if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59 or (h1 == 24 and m1) or (h2 == 24 and m2):
                return None
            a, b = h1 * 60 + m1, h2 * 60 + m2
            if b <= a:
                return None
            minutes = self.minutes.get(b - a)
            if minutes is None:
                minutes = self.minutes[b - a] = Decimal(b - a)
            clock = self.shared_tuple((f"{mt.group(5)}:{mt.group(6)}", f"{mt.group(7)}:{mt.group(8)}"))
        else:
            key = mt.group(9, 10, 11, 12)
            minutes = self.durations.get(key)
            if minutes is None:
                if key[0] is not None:
                    if int(key[1]) >= 60:
                        return None
                    minutes = Decimal(key[0]) * 60 + Decimal(key[1])
                elif key[2] is not None:
                    minutes = _dec(key[2]) * 60
                else:
                    minutes = _dec(key[3])
                if minutes > MAX_MINUTES:
                    return None
                if len(self.durations) < MAX_SHARED:
                    self.durations[key] = minutes
        desc = self.shared(_unquote(mt.group(13))) if mt.group(13) is not None else ""
        person = None
        if mt.group(14):
            flags = mt.group(14).split()
            if "by" in flags:
                if flags.count("by") > 1:
                    return None  # the slow path reports a second `by`
                at = flags.index("by")
                person = self.shared(flags[at + 1])
                flags = flags[:at] + flags[at + 2:]
            tags = self.shared_tuple(tuple(f[1:] for f in flags if f[0] == "#"))
            billable = "nonbillable" not in flags
        else:
            tags, billable = (), True
        return _TIME(day, self.shared(mt.group(4)), minutes, desc, clock, tags, billable, span, person)


    def expense_node(self, line: str, span: Span):
        mt = _EXPENSE_RE.match(line)
        if not mt:
            return None
        day = self.day(mt)
        currency = mt.group(6)
        if day is None or not _significant_ok(mt.group(5)) or (currency and not is_known_currency(currency)):
            return None
        desc = self.shared(_unquote(mt.group(7))) if mt.group(7) is not None else ""
        markup, tags, billable = None, [], True
        for f in _FLAGS.finditer(mt.group(8) or ""):
            word = f.group(0)
            if word[0] == "#":
                tags.append(word[1:])
            elif word == "nonbillable":
                billable = False
            else:
                value = _dec(f.group(1)[:-1])
                if abs(value) > 1000:
                    return None
                markup = value
        return _EXPENSE(day, self.shared(mt.group(4)), Amount(_dec(mt.group(5)), currency), desc, markup,
                        self.shared_tuple(tuple(tags)), billable, span)


    def payment_node(self, line: str, span: Span):
        mt = _PAYMENT_RE.match(line)
        if not mt:
            return None
        day = self.day(mt)
        currency = mt.group(6)
        if day is None or not _significant_ok(mt.group(5)) or (currency and not is_known_currency(currency)):
            return None
        value = _dec(mt.group(5))
        if value <= 0:
            return None
        numbers = tuple(_unquote(d) if d.startswith('"') else d for d in _DOCS.findall(mt.group(7) or ""))
        ref = _unquote(mt.group(9)) if mt.group(9) is not None else None
        return _PAYMENT(day, self.shared(mt.group(4)), Amount(value, currency), numbers, mt.group(8), ref, span)

    def whole_line(self, line: str, file: str, number: int):
        """The node of a one-line time entry, expense or payment at line `number`, or None.

        Its span is the header span the chunk parser gives (the line without trailing blanks).
        """
        if len(line) < 12 or line[10] not in " \t" or line[11] in " \t":
            return None
        handler = self._whole.get(line[11:20].split(None, 1)[0])
        if handler is None:
            return None
        return handler(line, _SPAN(file, number, 1, number, len(line.rstrip()) + 1))


def parse_line(direct: Direct, interner: Interner, line: str, span: Span | None = None):
    """The node for a one-line dated entry, or None to let Lark parse it.

    direct: the chunk parser's transformer, wrapped once; interner: the load's shared values."""
    if len(line) < 12 or line[10] not in " \t":
        return None
    if span is not None:
        kind = line[11:20].split(None, 1)[0] if line[11:12] not in " \t" else None
        whole = interner._whole.get(kind)
        if whole is not None:
            node = whole(line, span)
            if node is not None:
                return node
    tf = direct
    try:
        words = _words(line)
        if len(words) < 2:
            return None
        handler = HANDLERS.get(words[1][0])
        if handler is None or not DATE.fullmatch(words[0][0]):
            return None
        c = _Cursor(words)
        day = c.take("DATE")
        c.take("KEYWORD")
        return handler(tf, day, c)
    except _Miss:
        return None
