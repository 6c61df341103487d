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

SECURITY.  A ledger folder may come from a stranger (a pull request can commit `.textbill/`), so
an entry is never trusted for being there: each one is stored behind an HMAC-SHA256 of its kind,
key and bytes, under a secret of this machine's user kept outside every ledger
(`$XDG_CACHE_HOME/textbill/key`, else `~/.cache/textbill/key`: 32 random bytes, created 0600 on
first use, atomically).  An entry whose tag does not verify is a miss and is never unpickled:
a forged or copied-in entry, or a `.textbill/` restored from another machine (CI), is simply
parsed and checked again.  With no usable secret (no home folder, one inside the ledger, an
unwritable cache folder) the caches are off.  Keeping the entries in the ledger, rather than in
the user's cache folder, keeps a CI cache of `.textbill/` useful on the machine (or with the
key) that wrote it, and `rm -rf .textbill` still forgets everything.

Entries are pickles, because unpickling C-built tuples is the
fastest way back to a million frozen dataclasses.  A pickle can call any
function it names, so entries are read with a restricted unpickler that
resolves exactly these names and nothing else: the builders of incremental/codec.py
(one per model class: they set the fields of a new instance and call nothing),
`decimal.Decimal` and `datetime.date`.  A file's directives are not pickled one
by one but as columns (codec.py, "nodes by columns"): plain lists of field values, made
into nodes again by that module's own code from a class name it looks up among
the model's node classes.  A tampered or corrupt entry can thus
produce at worst a wrong parse, never run code; it is also checked after
loading (its key, the shape of its columns, the type of every diagnostic), and any
exception while reading it means the file is parsed again.  The cache is
local, written atomically, and optional: a read-only ledger, a full disk or a
missing folder only turn it off; `--no-cache` bypasses it entirely.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import tempfile
from collections.abc import Callable
from contextlib import suppress
from functools import lru_cache, partial
from pathlib import Path

from textbill.core.diagnostics import Diagnostic
from textbill.core.source import Sources
from textbill.incremental.codec import (
    dumps,
    from_columns,
    loads,
    to_columns,
)
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
from textbill.syntax.fastpath import Interner
from textbill.syntax.parser import grammar_text

FORMAT = 4
CACHE_DIR = Path(".textbill") / "cache"
KEY_BYTES = 32
TAG_BYTES = 32  # HMAC-SHA256
MAX_UNUSED = 64  # entries not used by the last run that are kept (other branches, other folders)

# ---------------------------------------------------------------------------- keys

# the parse of a file depends on the grammar and on the code that parses and stores it
PARSING_CODE = ("core", "syntax", "loading/loader.py", "incremental/codec.py", "incremental/cache.py")


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
    if config_name not in sources and os.path.lexists(root / CONFIG_NAME):
        return None  # there but unreadable (a FIFO, a symlink out): its error is not what a missing one gives
    config_text = sources.text(config_name) if config_name in sources else None
    lock_path = root / LOCK_NAME
    lock_bytes, _ = read_bytes(lock_path, LOCK_NAME, root)  # never a FIFO's endless wait, never outside
    if lock_bytes is None and os.path.lexists(lock_path):
        return None
    try:
        lock_text = None if lock_bytes is None else lock_bytes.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if lock_text:
        sources.add(display_name(lock_path), lock_text)
    return check_key(path, keys, config_text, lock_text), root, sources


# ---------------------------------------------------------------------------- the secret

def key_path() -> Path | None:
    """Where this user's cache secret lives: $XDG_CACHE_HOME/textbill/key, else ~/.cache/textbill/key."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # a relative XDG_CACHE_HOME is invalid (XDG Base Directory spec)
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:
            return None
    return Path(base) / "textbill" / "key"


def cache_secret(root: Path, create: bool) -> bytes | None:
    """The secret that authenticates the cache entries of the ledger at root, made on first use
    when create; None when there is none to be had (then nothing is cached)."""
    path = key_path()
    if path is None:
        return None
    try:
        base = Path(root).resolve()
        where = path.resolve()
        if where == base or base in where.parents:
            return None  # a secret that the ledger's own files could supply is no secret
        found = _read_secret(path)
        if found is None and create:
            found = _new_secret(path)
        return found
    except OSError:
        return None


def _read_secret(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            text = fh.read(4 * KEY_BYTES).strip()
    except FileNotFoundError:
        return None
    try:
        found = bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None
    return found if len(found) == KEY_BYTES else None


def _new_secret(path: Path) -> bytes | None:
    """Write a new secret atomically (mode 0600): a race of two first runs keeps one of them."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".key.", suffix=".tmp", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(KEY_BYTES).hex().encode("ascii") + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # never replaces a secret that another process made meanwhile
        except FileExistsError:
            if _read_secret(path) is None:  # a damaged secret is replaced
                os.replace(tmp, path)
    finally:
        with suppress(OSError):
            os.unlink(tmp)
    return _read_secret(path)


def seal(secret: bytes, name: str, payload: bytes) -> bytes:
    """An entry as stored: the HMAC of its name (kind and key) and payload, then the payload."""
    return hmac.new(secret, name.encode("utf-8", "surrogatepass") + b"\0" + payload, hashlib.sha256).digest() + payload


def unseal(secret: bytes, name: str, data: bytes) -> bytes | None:
    """The payload of a stored entry, or None when its tag was not made with this secret for name."""
    payload = data[TAG_BYTES:]
    expected = hmac.new(secret, name.encode("utf-8", "surrogatepass") + b"\0" + payload, hashlib.sha256).digest()
    return payload if hmac.compare_digest(data[:TAG_BYTES], expected) else None


# ---------------------------------------------------------------------------- the store

class ParseCache:
    """Per-file parse results in ROOT/.textbill/cache/, or nothing at all when disabled.

    Every entry is sealed with this user's secret (cache_secret): one that does not verify is a
    miss and is never unpickled.

    memory: {file key: (nodes, diagnostics, broken)} kept by a long-lived process for this ledger
    (Workspace.remember): a file whose key is unchanged then gives back the very same node objects,
    read from nothing, and the engine can tell an unchanged directive by its identity
    (BooksMemo).  Nodes are frozen: sharing them is safe."""

    key = staticmethod(file_key)

    def __init__(self, root: Path, enabled: bool = True, memory: dict | None = None, folder: Path = CACHE_DIR):
        self.root = Path(root)
        self.folder = folder
        self.dir = self.root / folder
        self.enabled = enabled
        self._secret: bytes | None = None
        self._folder_ok: bool | None = None
        self._looked = 0  # 1: looked for the secret, 2: also tried to make it
        self.memory = memory if enabled else None
        self.used: set[str] = set()
        self.keys: list[str] = []  # the key of every file read, in order (for the check cache)
        self.counts: dict[str, int] = {}  # file key -> how many nodes it gave (incremental.persist)
        self.hits = 0
        self.misses = 0
        self.written = 0
        # entries to encode and write, and prunes, kept back for the owner to run (Workspace.later)
        self.later: list[Callable[[], object]] | None = None

    def _path(self, key: str, kind: str = "parse") -> Path:
        return self.dir / f"{kind}-{key}.pickle"

    def secret(self, create: bool = False) -> bytes | None:
        """This user's cache secret (looked up once; made on the first write when create)."""
        wanted = 2 if create else 1
        if self._secret is None and self._looked < wanted:
            self._looked = wanted
            self._secret = cache_secret(self.root, create)
        return self._secret

    def _own_folder(self) -> bool:
        """Whether ROOT/.textbill/cache is that very folder (no symlink leads elsewhere): a committed
        `.textbill -> /elsewhere` must not make the cache read, write or prune outside the ledger."""
        if self._folder_ok is None:
            try:
                self._folder_ok = self.dir.resolve() == self.root.resolve() / self.folder
            except (OSError, RuntimeError):
                self._folder_ok = False
        return self._folder_ok

    def _read(self, key: str, kind: str) -> bytes | None:
        """The authenticated payload of an entry, or None (missing, unreadable, forged, foreign)."""
        if not self._own_folder():
            return None
        data = _read_regular(self._path(key, kind))
        if data is None:
            return None
        secret = self.secret()
        return None if secret is None else unseal(secret, f"{kind}-{key}", data)

    def _in_turn(self, work: Callable[..., object], *args) -> None:
        """work(*args) now, or kept in `later` for the owner to run (the values handed over are
        not changed afterwards: every caller passes copies or values it no longer changes)."""
        if self.later is not None:
            self.later.append(partial(work, *args))
        else:
            work(*args)

    def _store(self, key: str, kind: str, payload: bytes) -> bool:
        secret = self.secret(create=True)
        if secret is None:
            self.enabled = False  # nothing written can be trusted later: do not write at all
            return False
        return self._write(self._path(key, kind), seal(secret, f"{kind}-{key}", payload))

    def get(self, key: str, shared: Interner | None = None):
        """(nodes, diagnostics, broken) for a file key, or None; shared: codec.from_columns's."""
        if not self.enabled:
            return None
        self.used.add(key)
        if self.memory is not None and key in self.memory:
            self.hits += 1
            nodes, diags, broken = self.memory[key]
            self.counts[key] = len(nodes)
            return list(nodes), list(diags), set(broken)
        data = self._read(key, "parse")
        result = None if data is None else _verified_parse(data, key, shared)
        if result is None:
            self.misses += 1
        else:
            self.hits += 1
            self.counts[key] = len(result[0])
            self._remember(key, *result)
        return result

    def _remember(self, key: str, nodes, diags, broken) -> None:
        if self.memory is not None:
            self.memory[key] = (tuple(nodes), tuple(diags), frozenset(broken))

    def put(self, key: str, nodes, diags, broken) -> None:
        if not self.enabled:
            return
        self.used.add(key)
        self.counts[key] = len(nodes)
        self._remember(key, nodes, diags, broken)
        self._in_turn(self._put, key, tuple(nodes), tuple(diags), frozenset(broken))

    def _put(self, key: str, nodes: tuple, diags: tuple, broken: frozenset) -> None:
        try:
            data = dumps((FORMAT, key, to_columns(nodes), list(diags), broken))
        except Exception:  # noqa: BLE001 - an unpicklable node is a reason not to cache, not to fail
            return
        if self._store(key, "parse", data):
            self.written += 1

    def _write(self, path: Path, data: bytes) -> bool:
        if not self._own_folder():
            self.enabled = False
            return False
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            with suppress(FileNotFoundError):
                if not stat.S_ISREG(os.lstat(path).st_mode):
                    os.unlink(path)  # a planted symlink or FIFO: replaced, never read or followed
            # atomic but not fsynced (0.1 s of waiting per entry on a busy disk): an entry that a
            # power cut leaves torn or empty fails its HMAC, which makes it a miss like any other
            write_atomic(path, data, durable=False)
            return True
        except OSError:
            self.enabled = self.enabled and self.dir.is_dir() and os.access(self.dir, os.W_OK)
            return False

    # ------------------------------------------------------------------ the check cache
    def get_check(self, key: str):
        if not self.enabled:
            return None
        try:
            data = self._read(key, "check")
            if data is None:
                return None
            payload = loads(data)
            fmt, stored, diags, counts, probes = payload
            if fmt != FORMAT or stored != key or type(diags) is not list \
                    or not all(type(d) is Diagnostic for d in diags) \
                    or type(counts) is not tuple or not all(type(c) is int for c in counts) \
                    or type(probes) is not tuple:
                return None
            for rel, exists in probes:
                if (self.root / rel).is_file() != exists:
                    return None
            return diags, counts
        except Exception:  # noqa: BLE001 - a bad entry is a miss
            return None

    def put_check(self, key: str, diags, counts: tuple[int, ...], probes: tuple) -> None:
        if not self.enabled:
            return
        self.used.add("check-" + key)
        self._in_turn(self._put_check, key, list(diags), tuple(counts), tuple(probes))

    def _put_check(self, key: str, diags: list, counts: tuple, probes: tuple) -> None:
        try:
            data = dumps((FORMAT, key, diags, counts, probes))
        except Exception:  # noqa: BLE001
            return
        self._store(key, "check", data)

    def prune(self) -> None:
        """Forget entries this run did not use, beyond the most recent MAX_UNUSED (in memory: all)."""
        if self.memory is not None:
            for key in [k for k in self.memory if k not in self.used]:
                del self.memory[key]
        def in_use(name: str) -> bool:
            kind, _, rest = name.partition("-")
            return (rest if kind == "parse" else name) in self.used

        self._prune_folder(in_use, MAX_UNUSED)

    def _prune_folder(self, in_use: Callable[[str], bool], keep: int,
                      stale: Callable[[str], bool] = lambda name: False) -> None:
        """Delete the entries (NAME.pickle) not in_use beyond the `keep` most recent; stale ones
        at once.  Only after a run that wrote something, and only in the folder's own cache."""
        self._in_turn(self._prune_now, in_use, keep, stale)

    def _prune_now(self, in_use: Callable[[str], bool], keep: int, stale: Callable[[str], bool]) -> None:
        if not self.enabled or not self.written or not self._own_folder():
            return
        try:
            unused = []
            for entry in os.scandir(self.dir):
                if not entry.name.endswith(".pickle") or in_use(entry.name[:-7]):
                    continue
                if stale(entry.name[:-7]):
                    os.unlink(entry.path)
                else:
                    unused.append((entry.stat().st_mtime, entry.path))
            unused.sort(reverse=True)
            for _, path in unused[keep:]:
                os.unlink(path)
        except OSError:
            pass


def _read_regular(path: Path) -> bytes | None:
    """A regular file's bytes; None for anything else: a missing file, a symlink (to /dev/zero,
    say), a FIFO (opened without waiting for a writer), a device."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read()
    except OSError:
        return None
    finally:
        os.close(fd)


def _verified_parse(data: bytes, key: str, shared: Interner | None = None):
    try:
        fmt, stored, columns, diags, broken = loads(data)
        if fmt != FORMAT or stored != key or type(columns) is not tuple or len(columns) != 2 \
                or type(diags) is not list or type(broken) is not frozenset:
            return None
        nodes = from_columns(*columns, shared)
        if nodes is None:
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
