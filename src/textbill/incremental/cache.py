"""The parse cache: each file's parse result, found again by the file's content.  [I/O]

Parsing is a pure function of a file's bytes and its displayed name, so the
result (nodes, diagnostics, names of broken directives) is stored in
`.textbill/cache/` under the ledger root, keyed by the sha256 of

    textbill's version, the grammar, the source of the parsing modules,
    the file's displayed name and the file's bytes.

A one-file edit therefore re-parses only that file, a new textbill or grammar
never reads an old entry, and nothing is ever invalidated by hand.  A second
cache, for `check` alone, keys the whole run's diagnostics by every input of
the analysis (all files, textbill.yaml, textbill.lock, the logo's existence,
the working folder, textbill's whole source), so a check of an unchanged
ledger does no work beyond reading and hashing its files.

SECURITY.  Entries are pickles, because unpickling C-built tuples is the
fastest way back to a million frozen dataclasses.  A pickle can call any
function it names, so entries are read with a restricted unpickler that
resolves exactly these names and nothing else: the builders below (one per
model class: they set the fields of a new instance and call nothing),
`decimal.Decimal` and `datetime.date`.  A tampered or corrupt entry can thus
produce at worst a wrong parse, never run code; it is also checked after
loading (its key, and the type of every node and diagnostic), and any
exception while reading it means the file is parsed again.  The cache is
local, written atomically, and optional: a read-only ledger, a full disk or a
missing folder only turn it off; `--no-cache` bypasses it entirely.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import pickle
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from textbill.core import model as m
from textbill.core.diagnostics import Diagnostic
from textbill.core.frozen import make_builder
from textbill.core.money import Amount, Money
from textbill.core.source import Sources, Span
from textbill.incremental.fingerprint import code_digest
from textbill.loading.loader import (
    CONFIG_NAME,
    LOCK_NAME,
    decode_source,
    display_name,
    ledger_files,
    read_bytes,
    read_config,
)
from textbill.loading.writer import write_atomic
from textbill.syntax.parser import grammar_text

FORMAT = 2
CACHE_DIR = Path(".textbill") / "cache"
MAX_UNUSED = 64  # entries not used by the last run that are kept (other branches, other folders)

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





# ---------------------------------------------------------------------------- keys

# the parse of a file depends on the grammar and on the code that parses and stores it
PARSING_CODE = ("core", "syntax", "loading/loader.py", "incremental/cache.py")


@lru_cache(maxsize=1)
def parser_digest() -> str:
    """What the parse of a file depends on besides the file: version, grammar, parsing code."""
    h = hashlib.sha256(f"cache {FORMAT}\0{code_digest(*PARSING_CODE)}\0".encode())
    h.update(grammar_text().encode("utf-8"))
    return h.hexdigest()


def whole_code_digest() -> str:
    """Every module of textbill: the check cache is as old as the code that filled it."""
    return hashlib.sha256((parser_digest() + code_digest()).encode()).hexdigest()


def file_key(name: str, data: bytes) -> str:
    h = hashlib.sha256(parser_digest().encode())
    h.update(name.encode("utf-8", "surrogatepass") + b"\0")
    h.update(data)
    return h.hexdigest()


def check_key(path: Path, file_keys: list[str], config_text: str | None, lock_text: str | None) -> str:
    """Every input of `textbill check` but the logo's existence (a probe, checked on reading).

    config_text and lock_text: the files' text, None when there is no such file.  A file that is
    there but cannot be read as text has no key: its diagnostics are not those of a missing or
    an empty file (current_check_key and pipeline._to_check_cache then neither read nor write)."""
    h = hashlib.sha256(whole_code_digest().encode())
    for part in (os.getcwd(), str(Path(path).resolve()), str(path)):
        h.update(part.encode("utf-8", "surrogatepass") + b"\0")
    for key in file_keys:
        h.update(key.encode("utf-8", "surrogatepass") + b"\0")
    for text in (config_text, lock_text):
        h.update(b"-" if text is None else b"+" + text.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def current_check_key(path: Path):
    """(key, root, sources) of a ledger as it is now, reading every file once; None if unreadable."""
    path = Path(path)
    root = path if path.is_dir() else path.parent
    sources = Sources()
    keys = []
    for file in ledger_files(path):
        name = display_name(file)
        data, _ = read_bytes(file, name, root)
        if data is None:
            return None
        keys.append(file_key(name, data))
        sources.add_lazy(name, lambda d=data, n=name: decode_source(d, n)[0])
    config_name = display_name(root / CONFIG_NAME)
    read_config(root, sources)
    if config_name not in sources and (root / CONFIG_NAME).is_file():
        return None  # there but unreadable: its error is not what a missing textbill.yaml gives
    config_text = sources.text(config_name) if config_name in sources else None
    lock_path = root / LOCK_NAME
    try:
        lock_text = lock_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        lock_text = None
    except (OSError, UnicodeDecodeError):
        return None
    if lock_text:
        sources.add(display_name(lock_path), lock_text)
    return check_key(path, keys, config_text, lock_text), root, sources


# ---------------------------------------------------------------------------- the store

class ParseCache:
    """Per-file parse results in ROOT/.textbill/cache/, or nothing at all when disabled.

    memory: {file key: (nodes, diagnostics, broken)} kept by a long-lived process for this ledger
    (Workspace.remember): a file whose key is unchanged then gives back the very same node objects,
    read from nothing, and the engine can tell an unchanged directive by its identity
    (BooksMemo).  Nodes are frozen: sharing them is safe."""

    # how the loader's parse workers send nodes back: the same fast, restricted pickles
    dumps = staticmethod(dumps)
    loads = staticmethod(loads)
    key = staticmethod(file_key)

    def __init__(self, root: Path, enabled: bool = True, memory: dict | None = None):
        self.dir = Path(root) / CACHE_DIR
        self.enabled = enabled
        self.memory = memory if enabled else None
        self.used: set[str] = set()
        self.keys: list[str] = []  # the key of every file read, in order (for the check cache)
        self.hits = 0
        self.misses = 0
        self.written = 0

    def _path(self, key: str, kind: str = "parse") -> Path:
        return self.dir / f"{kind}-{key}.pickle"

    def get(self, key: str):
        """(nodes, diagnostics, broken) for a file key, or None."""
        if not self.enabled:
            return None
        self.used.add(key)
        if self.memory is not None and key in self.memory:
            self.hits += 1
            nodes, diags, broken = self.memory[key]
            return list(nodes), list(diags), set(broken)
        try:
            data = self._path(key).read_bytes()
        except OSError:
            self.misses += 1
            return None
        result = _verified_parse(data, key)
        if result is None:
            self.misses += 1
        else:
            self.hits += 1
            self._remember(key, *result)
        return result

    def _remember(self, key: str, nodes, diags, broken) -> None:
        if self.memory is not None:
            self.memory[key] = (tuple(nodes), tuple(diags), frozenset(broken))

    def put(self, key: str, nodes, diags, broken) -> None:
        if not self.enabled:
            return
        self.used.add(key)
        self._remember(key, nodes, diags, broken)
        try:
            data = dumps((FORMAT, key, list(nodes), list(diags), frozenset(broken)))
        except Exception:  # noqa: BLE001 - an unpicklable node is a reason not to cache, not to fail
            return
        if self._write(self._path(key), data):
            self.written += 1

    def _write(self, path: Path, data: bytes) -> bool:
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            write_atomic(path, data)
            return True
        except OSError:
            self.enabled = self.enabled and self.dir.is_dir() and os.access(self.dir, os.W_OK)
            return False

    # ------------------------------------------------------------------ the check cache
    def get_check(self, key: str):
        if not self.enabled:
            return None
        try:
            data = self._path(key, "check").read_bytes()
            payload = loads(data)
            fmt, stored, diags, counts, probes = payload
            if fmt != FORMAT or stored != key or type(diags) is not list \
                    or not all(type(d) is Diagnostic for d in diags) \
                    or type(counts) is not tuple or not all(type(c) is int for c in counts) \
                    or type(probes) is not tuple:
                return None
            for rel, exists in probes:
                if (self.dir.parent.parent / rel).is_file() != exists:
                    return None
            return diags, counts
        except Exception:  # noqa: BLE001 - a bad entry is a miss
            return None

    def put_check(self, key: str, diags, counts: tuple[int, ...], probes: tuple) -> None:
        if not self.enabled:
            return
        try:
            data = dumps((FORMAT, key, list(diags), tuple(counts), tuple(probes)))
        except Exception:  # noqa: BLE001
            return
        self._write(self._path(key, "check"), data)
        self.used.add("check-" + key)

    def prune(self) -> None:
        """Forget entries this run did not use, beyond the most recent MAX_UNUSED (in memory: all)."""
        if self.memory is not None:
            for key in [k for k in self.memory if k not in self.used]:
                del self.memory[key]
        if not self.enabled or not self.written:
            return
        try:
            unused = []
            for entry in os.scandir(self.dir):
                name = entry.name
                if not name.endswith(".pickle"):
                    continue
                kind, _, rest = name[:-7].partition("-")
                if (rest if kind == "parse" else name[:-7]) in self.used:
                    continue
                unused.append((entry.stat().st_mtime, entry.path))
            unused.sort(reverse=True)
            for _, path in unused[MAX_UNUSED:]:
                os.unlink(path)
        except OSError:
            pass


def _verified_parse(data: bytes, key: str):
    try:
        fmt, stored, nodes, diags, broken = loads(data)
        if fmt != FORMAT or stored != key or type(nodes) is not list or type(diags) is not list \
                or type(broken) is not frozenset:
            return None
        types = NODE_TYPES
        for n in nodes:
            if type(n) not in types:
                return None
        for d in diags:
            if type(d) is not Diagnostic:
                return None
        for b in broken:
            if type(b) is not tuple or len(b) != 2 or type(b[0]) is not str or type(b[1]) is not str:
                return None
        return nodes, diags, set(broken)
    except Exception:  # noqa: BLE001 - anything wrong with an entry means: parse the file again
        return None
