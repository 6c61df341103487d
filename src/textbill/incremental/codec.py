"""Model nodes to bytes and back, for the parse cache and for parsing in forked processes.

A pickle can call any function it names, so these bytes are read with a restricted
unpickler that resolves exactly these names and nothing else: the builders below (one per
model class: they set the fields of a new instance and call nothing), `decimal.Decimal` and
`datetime.date`.  A file's directives are not pickled one by one but as columns (see "nodes
by columns"): plain lists of field values, made into nodes again by this module's own code
from a class name it looks up among the model's node classes.  Tampered bytes can thus
produce at worst wrong nodes, never run code.  Whether bytes are trusted at all is the
caller's business (incremental.cache authenticates its entries before reading them).
"""
from __future__ import annotations

import dataclasses
import io
import pickle
from datetime import date
from decimal import Decimal
from operator import attrgetter

from textbill.core import model as m
from textbill.core.diagnostics import Diagnostic
from textbill.core.frozen import make_builder, mutable_twin
from textbill.core.money import Amount, Money
from textbill.core.source import Span
from textbill.syntax.fastpath import Interner

# ---------------------------------------------------------------------------- fast builders
# A frozen dataclass's __init__ sets each field through object.__setattr__; a new
# instance whose slots are set through their descriptors is the same object at
# half the cost.  Each builder takes the fields in declaration order.

_CLASSES = [Span, Amount, Money, Diagnostic] + [
    obj for obj in vars(m).values()
    if isinstance(obj, type) and dataclasses.is_dataclass(obj) and "__slots__" in vars(obj)
    and obj.__module__ == m.__name__
]
NODE_TYPES = frozenset(c for c in _CLASSES if "span" in {f.name for f in dataclasses.fields(c)}
                       and c is not Diagnostic)
_BUILDERS: dict[type, object] = {}
_NAMES: dict[str, object] = {}


for _cls in _CLASSES:
    _b, _fields = make_builder(_cls), tuple(f.name for f in dataclasses.fields(_cls))
    _b.__module__ = __name__
    _BUILDERS[_cls] = (_b, tuple(_fields))
    _NAMES[_b.__name__] = _b
    globals()[_b.__name__] = _b
del _cls, _b, _fields




class _Pickler(pickle.Pickler):
    def reducer_override(self, obj):
        entry = _BUILDERS.get(type(obj))
        if entry is None:
            return NotImplemented
        build, names = entry
        return build, tuple(getattr(obj, n) for n in names)


_ALLOWED = {(__name__, name): func for name, func in _NAMES.items()}
_ALLOWED[("decimal", "Decimal")] = Decimal
_ALLOWED[("datetime", "date")] = date


class _Unpickler(pickle.Unpickler):
    """Resolves only the builders, Decimal and date: a tampered entry cannot run code."""

    def find_class(self, module, name):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in the parse cache") from None


def dumps(obj) -> bytes:
    buf = io.BytesIO()
    _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buf.getvalue()


def loads(data: bytes):
    return _Unpickler(io.BytesIO(data)).load()


# ---------------------------------------------------------------------------- nodes by columns
# Building a node costs most of reading a cached file: a builder call, then one descriptor call
# per field, for the node and again for its span.  So a file's nodes are stored by class as
# columns (one list per field, a span's fields as columns of their own, shared values shared by
# the pickle's memo) with the order of their classes, and made again by one generated loop per
# class that fills a mutable twin of the class (core.frozen.mutable_twin) and then gives it the
# model's class: the same frozen node, equal with the same span, at 0.6 of the time
# (bench/README.md, 100k entries: 0.17 s -> 0.09 s to read 30 cached files).

_SPAN_FIELDS = tuple(f.name for f in dataclasses.fields(Span))


def _column_reader(cls: type):
    """A function that makes the nodes of cls from their columns (see _column_writer), in order,
    the number of columns, and which columns are line numbers (a span's line and end_line)."""
    names = [f.name for f in dataclasses.fields(cls)]
    env = {"_new": object.__new__, "_zip": zip, "_cls": cls, "_twin": mutable_twin(cls), "_Span": Span,
           "_span_twin": mutable_twin(Span)}
    values, body, line_columns = [], [], []
    for i, name in enumerate(names):
        if name == "span":
            parts = [f"v{i}_{j}" for j in range(len(_SPAN_FIELDS))]
            line_columns += [len(values) + _SPAN_FIELDS.index(f) for f in ("line", "end_line")]
            values += parts
            body += ["s = _new(_span_twin)", *(f"s.{f} = {v}" for f, v in zip(_SPAN_FIELDS, parts)),
                     "s.__class__ = _Span", f"o.{name} = s"]
        else:
            values.append(f"v{i}")
            body.append(f"o.{name} = v{i}")
    columns = [f"c{i}" for i in range(len(values))]
    lines = [f"def read({', '.join(columns)}):", "    out = []", "    add = out.append",
             f"    for {', '.join(values)} in _zip({', '.join(columns)}, strict=True):",
             "        o = _new(_twin)", *(f"        {line}" for line in body),
             "        o.__class__ = _cls", "        add(o)", "    return out"]
    exec("\n".join(lines), env)  # noqa: S102 - generated from the dataclass's own field names
    return env["read"], len(values), tuple(line_columns)


def _column_writer(cls: type):
    """A function from nodes of cls to their columns: each field's values, a span's five fields
    each a column."""
    getters = []
    for f in dataclasses.fields(cls):
        if f.name == "span":
            getters += [attrgetter(f"span.{name}") for name in _SPAN_FIELDS]
        else:
            getters.append(attrgetter(f.name))

    def write(nodes: list) -> list[list]:
        for node in nodes:
            if type(node.span) is not Span:
                raise TypeError(f"a span of type {type(node.span).__name__}")
        return [list(map(get, nodes)) for get in getters]
    return write


_NODE_NAMES = {cls.__name__: cls for cls in NODE_TYPES}
_READERS: dict[str, tuple] = {}  # made on first use: a process reads a few classes, and each costs a compile
_WRITERS: dict[type, object] = {}


def _reader_of(name: str):
    """(read, number of columns, line columns) for the node class of that name; None for any
    other name."""
    found = _READERS.get(name)
    if found is None and name in _NODE_NAMES:
        found = _READERS[name] = _column_reader(_NODE_NAMES[name])
    return found


def _writer_of(cls: type):
    found = _WRITERS.get(cls)
    if found is None:
        if cls not in NODE_TYPES:
            raise TypeError(f"{cls.__name__} is not a node")
        found = _WRITERS[cls] = _column_writer(cls)
    return found


def to_columns(nodes) -> tuple[bytes, tuple]:
    """(kinds, groups): groups is ((class name, columns), ...), one per class in order of first
    appearance; kinds, the group of each node in order.  Raises TypeError for a node that is not
    a model node (the file is then not cached)."""
    index: dict[type, int] = {}
    members: list[list] = []
    kinds = bytearray()
    for node in nodes:
        cls = type(node)
        k = index.get(cls)
        if k is None:
            _writer_of(cls)
            k = index[cls] = len(members)
            members.append([])
        members[k].append(node)
        kinds.append(k)
    return bytes(kinds), tuple((cls.__name__, tuple(_writer_of(cls)(group))) for cls, group in zip(index, members))


def from_columns(kinds: bytes, groups: tuple, shared: Interner | None = None) -> list | None:
    """The nodes that to_columns stored, in order; None when the columns are not what it makes.

    shared: the values shared by every load of a process (syntax.fastpath.Interner).  A column
    of numbers then holds the same object for the same written number as the files read before,
    as one parse shares them (the engine computes a time line once per duration object), and a
    column of line numbers the interner's (unpickled, each would be an object of its own)."""
    if type(kinds) is not bytes or type(groups) is not tuple:
        return None
    made = []
    for group in groups:
        if type(group) is not tuple or len(group) != 2:
            return None
        name, columns = group
        found = _reader_of(name) if type(name) is str else None
        if found is None or type(columns) is not tuple or len(columns) != found[1] \
                or not all(type(c) is list for c in columns):
            return None
        if shared is not None:
            columns = _shared_columns(columns, found[2], shared)
        made.append(iter(found[0](*columns)))  # columns of unequal length raise: a miss
    nodes = [next(made[k]) for k in kinds]  # a kind without its group, or one too many, raises
    if any(next(rest, None) is not None for rest in made):
        return None  # nodes that no kind places
    return nodes


def _shared_columns(columns: tuple, line_columns: tuple, shared: Interner) -> tuple:
    """The columns with their numbers and line numbers the shared objects."""
    out = [_shared_numbers(c, shared.numbers) if c and type(c[0]) is Decimal else c for c in columns]
    for line, end_line in zip(line_columns[0::2], line_columns[1::2], strict=True):
        # a span's; most spans end on their first line: shared once
        out[line] = _shared_lines(columns[line], shared)
        out[end_line] = out[line] if columns[end_line] == columns[line] \
            else _shared_lines(columns[end_line], shared)
    return tuple(out)


def _shared_numbers(column: list, numbers: dict) -> list:
    """The column with each Decimal replaced by numbers' object of the same text (str(): 90 and
    90.0 stay apart), added there when new; other values as they are."""
    same = {}
    for value in column:
        if type(value) is Decimal and id(value) not in same:
            same[id(value)] = numbers.setdefault(str(value), value) if len(numbers) < MAX_NUMBERS else value
    return [same.get(id(value), value) for value in column]


def _shared_lines(column: list, shared: Interner) -> list:
    """A column of line numbers with each number the interner's object; the column as it is
    when it holds anything but line numbers (a cache entry is checked, not trusted)."""
    try:
        top, low = max(column, default=0), min(column, default=0)
        if low < 0:
            return column
        table = shared.line_numbers(int(top))
        if top >= len(table):  # past the shared numbers (fastpath.MAX_SHARED_LINE): as it is
            return column
        return list(map(table.__getitem__, column))  # a number that is not an int raises: as it is
    except (TypeError, ValueError):
        return column


MAX_NUMBERS = 200_000  # a ledger of unique numbers must not grow the table without end


def dump_parse(parsed: tuple) -> bytes:
    """One file's parse, (nodes, diagnostics, broken names), as bytes: its nodes by columns."""
    nodes, diags, broken = parsed
    return dumps((to_columns(nodes), list(diags), frozenset(broken)))


def load_parse(data: bytes, shared: Interner | None = None) -> tuple[list, list, set]:
    """(nodes, diagnostics, broken names) from dump_parse's bytes; shared: as from_columns."""
    columns, diags, broken = loads(data)
    nodes = from_columns(*columns, shared)
    if nodes is None:
        raise pickle.UnpicklingError("the nodes' columns are damaged")
    return nodes, diags, set(broken)
