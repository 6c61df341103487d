"""Find a ledger's files, read them, parse them: (Ledger, diagnostics).  [I/O]"""
from __future__ import annotations

import os
import stat
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from textbill.core import model as m
from textbill.core.diagnostics import Diagnostic, error
from textbill.core.frozen import gc_paused
from textbill.core.paths import resolves_outside
from textbill.core.source import Sources, Span
from textbill.incremental import codec
from textbill.loading.config import parse_config
from textbill.loading.forked import available_cpus, fork_map
from textbill.syntax.parser import Syntax, parse_text

CONFIG_NAME = "textbill.yaml"
LOCK_NAME = "textbill.lock"
MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_LINE_CHARS = 10_000


class LedgerNotFound(Exception):
    """The path given as a ledger does not exist (a usage error)."""


@dataclass
class Loaded:
    ledger: m.Ledger
    diagnostics: list[Diagnostic]
    sources: Sources
    root: Path
    files: list[Path] = field(default_factory=list)
    cache: object = None  # the ParseCache used, if any (for its statistics)


def find_root(start: Path) -> Path | None:
    """The ledger the current folder is in (docs/commands.md, "Finding the ledger"): the nearest folder upward from start
    that holds textbill.yaml, else start itself when it directly holds a `.bill` file, else None.

    Only the folders on the way up are looked at, and only start's own entries: a big unrelated
    tree (a shared temporary folder) is never walked."""
    here = Path(start).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    try:
        with os.scandir(start) as entries:
            if any(e.name.endswith(".bill") and not e.name.startswith(".") for e in entries):
                return Path(start)
    except OSError:
        pass
    return None


def resolve_ledger(path: str | None, cwd: Path | None = None) -> Path:
    """The ledger path from -f/--ledger, TEXTBILL_LEDGER, or the upward search."""
    cwd = cwd or Path.cwd()
    chosen = path or os.environ.get("TEXTBILL_LEDGER")
    if chosen:
        p = Path(chosen).expanduser()
        if not p.exists():
            raise LedgerNotFound(f"no such ledger: {chosen}")
        return p
    found = find_root(cwd)
    if found is None:
        raise LedgerNotFound(f"no ledger found: no {CONFIG_NAME} in {cwd} or any folder above it, and no "
                             f".bill file in {cwd}; make one with 'textbill init DIR', or point -f (or "
                             "TEXTBILL_LEDGER) at a ledger folder or .bill file")
    return found


def display_name(path: Path) -> str:
    """A path as the user would write it: relative to the current folder when inside it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def ledger_files(root: Path) -> list[Path]:
    """Every `.bill` file below root, sorted by path: iteratively (any depth), symlinked folders not
    followed (one outside the ledger is never read; one inside would list its files twice), hidden
    names skipped.  A symlinked or special `.bill` file is listed: reading it reports it."""
    if root.is_file():
        return [root]
    found = []
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        continue
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
                        elif entry.name.endswith(".bill") and not entry.is_dir():
                            found.append(Path(entry.path))
                    except OSError:
                        continue
        except OSError:
            continue
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def read_source(path: Path, name: str, root: Path | None = None) -> tuple[str | None, Diagnostic | None]:
    """A file's text, or a located diagnostic saying why it cannot be read."""
    data, problem = read_bytes(path, name, root)
    if data is None:
        return None, problem
    return decode_source(data, name)


def read_bytes(path: Path, name: str, root: Path | None = None) -> tuple[bytes | None, Diagnostic | None]:
    """A file's bytes, or a located diagnostic saying why it cannot be read.

    root: the ledger's root; a symlink that resolves outside it is never read (E030).  Whatever the
    root, only a regular file is read (a device, a FIFO or /dev/stdin would give endless bytes or
    wait forever), and at most MAX_FILE_BYTES of it: the size is checked on the open file."""
    if root is not None and resolves_outside(root, path):
        return None, error(Span(name, 1), "E030",
                           f"'{name}' is not read: it is a symlink to a file outside the ledger",
                           "a ledger is its folder and nothing else: replace the link by the file itself")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        return None, error(Span(name, 1), "E006", f"cannot read file: {exc.strerror or exc}",
                           "check that the file exists and is readable")
    with os.fdopen(fd, "rb") as fh:
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                return None, error(Span(name, 1), "E030",
                                   f"'{name}' is not read: it is not a regular file (a device, a FIFO or a "
                                   "socket), which is never read",
                                   "ledger files are plain text files; remove this one from the ledger")
            if st.st_size > MAX_FILE_BYTES:
                return None, _too_large(name, st.st_size)
            data = fh.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            return None, error(Span(name, 1), "E006", f"cannot read file: {exc.strerror or exc}",
                               "check that the file exists and is readable")
    if len(data) > MAX_FILE_BYTES:  # grew while it was read
        return None, _too_large(name, len(data))
    return data, None


def _too_large(name: str, size: int) -> Diagnostic:
    return error(Span(name, 1), "E006", f"file is too large ({size // (1024 * 1024)} MB)",
                 f"split the ledger into several files of at most {MAX_FILE_BYTES // (1024 * 1024)} MB")


def decode_source(data: bytes, name: str) -> tuple[str | None, Diagnostic | None]:
    """A file's bytes as normalized text, or a located diagnostic saying why they are not text."""
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        return None, error(Span(name, line), "E006", "this is not a text file (it holds NUL bytes)",
                           "ledger files are UTF-8 text; remove or rename binary files ending in .bill")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before) - (before.rfind(b"\n") + 1) + 1
        # report it, and read on with the bad bytes replaced so the rest of the file
        # is still checked and its names are known to the other files
        problem = error(Span(name, line, col, line, col + 1), "E006",
                        f"invalid UTF-8 (byte 0x{data[exc.start]:02x})",
                        "save the file as UTF-8 in your editor")
        return _normalize(data.decode("utf-8", errors="replace")), problem
    return _normalize(text), None


def _normalize(text: str) -> str:
    text = text.removeprefix("\ufeff")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _long_lines(text: str, name: str) -> tuple[str, list[Diagnostic]]:
    """Blank out absurdly long lines (one diagnostic each) so the rest still parses."""
    if len(text) < MAX_LINE_CHARS:
        return text, []
    diags = []
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if len(line) > MAX_LINE_CHARS:
            diags.append(error(Span(name, i + 1, 1, i + 1, 2), "E009",
                               f"line is too long ({len(line)} characters, at most {MAX_LINE_CHARS})",
                               "a directive fits on one line; split long text over attributes"))
            lines[i] = ";" if not line[:1].isspace() else "  ;"
    return ("\n".join(lines) if diags else text), diags


def parse_source(name: str, data: bytes, syntax: Syntax):
    """One file's bytes -> (text, nodes, diagnostics, broken names); text None if it is not text."""
    text, problem = decode_source(data, name)
    diags: list[Diagnostic] = [problem] if problem else []
    if text is None:
        return None, [], diags, {("unreadable", name)}
    parsed, long_diags = _long_lines(text, name)
    diags.extend(long_diags)
    nodes, file_diags, broken = parse_text(parsed, name, syntax)
    diags.extend(file_diags)
    return text, nodes, diags, broken


# Parsing in forked processes (forked.fork_map): each child parses a share of the files, this
# process its own meanwhile, and the children's nodes come back by columns (codec.dump_parse).
# On 2 cores this takes a cold parse of 100k entries from 1.2 s to 0.8 s and of 1M from 11 s
# to 8 s (bench/README.md); a pool whose workers sent back plain pickles while this process
# waited was slower.  Below PARALLEL_MIN_BYTES of text the fork does not pay for itself.
PARALLEL_MIN_BYTES = 512 * 1024


def _parse_job(job: tuple[str, bytes], syntax: Syntax) -> tuple:
    return parse_source(*job, syntax)[1:]


def _parse_all(jobs: list[tuple[str, bytes]], workers: int | None, syntax: Syntax) -> list[tuple]:
    """(text, nodes, diags, broken) per job, in order: in forked processes when it pays.

    workers: processes to parse in (None: the CPUs available, from PARALLEL_MIN_BYTES of text)."""
    sizes = [len(data) for _, data in jobs]
    if workers is None:
        workers = available_cpus() if sum(sizes) >= PARALLEL_MIN_BYTES else 1
    if workers < 2:
        return [parse_source(name, data, syntax) for name, data in jobs]
    parsed = fork_map(lambda job: _parse_job(job, syntax), jobs, workers, codec.dump_parse,
                      lambda data: codec.load_parse(data, syntax.interner), sizes)
    return [(decode_source(data, name)[0], *rest) for (name, data), rest in zip(jobs, parsed, strict=True)]


def parse_files(root: Path, files: list[Path], sources: Sources, cache=None, workers: int | None = None,
                syntax: Syntax | None = None, overlay: Mapping[str, str] | None = None):
    """Read and parse every file; served from the parse cache (a ParseCache) where a file is unchanged.

    syntax: the parser and shared values for the files parsed (None: a fresh one).  overlay: the
    text of some files by their path (an editor's unsaved buffers, `textbill lsp`), read instead
    of the disk."""
    if syntax is None:
        syntax = Syntax()
    nodes: list = []
    diags: list[Diagnostic] = []
    broken: set = set()
    per_file: list = []  # per file: a diagnostic (unreadable), a cached result, or a job index
    jobs: list[tuple[str, bytes]] = []
    files_by_name: dict[str, Path] = {}
    for path in files:
        name = display_name(path)
        files_by_name[name] = path
        if overlay is not None and str(path) in overlay:
            data, problem = overlay[str(path)].encode("utf-8"), None
        else:
            data, problem = read_bytes(path, name, root)
        if data is None:
            per_file.append(("unreadable", name, problem))
            if cache is not None:
                cache.keys.append("unreadable:" + name)
            continue
        key = cache.key(name, data) if cache is not None and cache.enabled else None
        if cache is not None:
            cache.keys.append(key or "")
        hit = cache.get(key, syntax.interner) if key is not None else None
        if hit is not None:
            sources.add_lazy(name, _decoder(data, name))
            per_file.append(("cached", name, hit))
        else:
            per_file.append(("parse", name, (len(jobs), key)))
            jobs.append((name, data))
    parsed = _parse_all(jobs, workers, syntax) if jobs else []
    for kind, name, value in per_file:
        if kind == "unreadable":
            diags.append(value)
            broken.add(("unreadable", name))
            continue
        if kind == "cached":
            file_nodes, file_diags, file_broken = value
        else:
            index, key = value
            text, file_nodes, file_diags, file_broken = parsed[index]
            if text is not None:
                path = files_by_name[name]
                sources.add_lazy(name, _decoder(jobs[index][1], name) if overlay is not None and str(path) in overlay
                                 else _reader(path, name, zlib.crc32(jobs[index][1]), root))
                if key is not None:
                    cache.put(key, file_nodes, file_diags, file_broken)
        nodes.extend(file_nodes)
        diags.extend(file_diags)
        broken |= file_broken
    return nodes, diags, broken


def _decoder(data: bytes, name: str):
    return lambda: decode_source(data, name)[0]


def _reader(path: Path, name: str, crc: int, root: Path):
    """A parsed file's text read again when a diagnostic quotes it (most files are never quoted,
    and a large ledger's text is a twentieth of its memory); None if the file changed since."""
    def read():
        data, _ = read_bytes(path, name, root)
        if data is None:
            return None
        return decode_source(data, name)[0] if zlib.crc32(data) == crc else None
    return read


def build_ledger(root: Path, nodes: list, config: m.Config, files: list[str], broken=frozenset()) -> m.Ledger:
    """Group parsed directives by kind; duplicates are left for the checks to report."""
    company = None
    clients: dict[str, m.Client] = {}
    sows: dict[str, m.Sow] = {}
    policies: dict[str, m.ReminderPolicy] = {}
    people: dict[str, m.Person] = {}
    groups: dict[type, list] = {}
    for node in nodes:
        t = type(node)
        group = groups.get(t)  # the dated entries, nearly every node: one lookup
        if group is not None:
            group.append(node)
        elif t is m.Company:
            company = company or node
        elif t is m.Client:
            clients.setdefault(node.id, node)
        elif t is m.Sow:
            sows.setdefault(node.ref, node)
        elif t is m.ReminderPolicy:
            policies.setdefault(node.id, node)
        elif t is m.Person:
            people.setdefault(node.id, node)
        else:
            groups[t] = [node]

    def g(t):
        return tuple(groups.get(t, ()))

    return m.Ledger(
        root=str(root), company=company, clients=MappingProxyType(clients),
        sows=MappingProxyType(sows), policies=MappingProxyType(policies),
        times=g(m.TimeEntry), expenses=g(m.Expense), dones=g(m.Done), invoices=g(m.Invoice),
        payments=g(m.Payment), credit_notes=g(m.CreditNote), plans=g(m.Plan), reminded=g(m.Reminded),
        writeoffs=g(m.WriteOff), collections=g(m.Collections), fxs=g(m.Fx), directives=tuple(nodes),
        config=config, files=tuple(files), broken=frozenset(broken),
        people=MappingProxyType(people), sents=g(m.Sent), accepteds=g(m.Accepted),
    )


def read_config(root: Path, sources: Sources) -> tuple[m.Config, list[Diagnostic]]:
    """textbill.yaml at the ledger root, validated (no file: the defaults)."""
    path = root / CONFIG_NAME
    if not os.path.lexists(path):
        return m.Config(), []
    name = display_name(path)
    text, problem = read_source(path, name, root)
    if problem:
        return m.Config(), [problem]
    sources.add(name, text)
    return parse_config(text, name)


def _with_unsaved(root: Path, files: list[Path], overlay: Mapping[str, str]) -> list[Path]:
    """The ledger's files plus the overlay's new `.bill` files below root (not hidden), by path."""
    known = {str(f) for f in files}
    extra = []
    for name in overlay:
        p = Path(name)
        if name in known or p.suffix != ".bill" or not p.is_relative_to(root):
            continue
        if any(part.startswith(".") for part in p.relative_to(root).parts):
            continue
        extra.append(p)
    if not extra:
        return files
    return sorted([*files, *extra], key=lambda p: p.relative_to(root).as_posix())


def load(path: Path, cache: Callable[[Path], object] | None = None, workers: int | None = None,
         syntax: Syntax | None = None, overlay: Mapping[str, str] | None = None) -> Loaded:
    """Read a ledger folder or a single `.bill` file.

    cache: a factory of the parse cache for the ledger's root (incremental.cache.ParseCache, or a
    Workspace's parse_cache): unchanged files are served from it (None or False: parse
    everything, read and write nothing).  workers: processes to parse in (default: the CPUs
    available, from PARALLEL_MIN_BYTES of text to parse; never while threads run).  syntax: the parser and the values shared by the
    nodes of all files (a Workspace's, kept between loads; None: a fresh one for this load).
    overlay: {absolute path: text} of files as an editor holds them, unsaved (`textbill lsp`):
    read instead of the disk; a `.bill` file below a ledger folder that is only in the overlay
    (new, not yet saved) is part of the ledger too.
    """
    path = Path(path)
    sources = Sources()
    root = path if path.is_dir() else path.parent
    diags: list[Diagnostic] = []
    config, config_diags = read_config(root, sources)
    diags.extend(config_diags)
    files = ledger_files(path)
    if overlay and path.is_dir():
        files = _with_unsaved(root, files, overlay)
    if not files:
        diags.append(error(None, "E007", f"no .bill files in {display_name(path)}",
                           "create one, for example with 'textbill init', or point -f at a ledger"))
    store = cache(root) if cache else None
    with gc_paused():
        nodes, parse_diags, broken = parse_files(root, files, sources, store, workers, syntax, overlay)
    if store is not None:
        store.prune()
    diags.extend(parse_diags)
    ledger = build_ledger(root, nodes, config, [display_name(f) for f in files], broken)
    return Loaded(ledger, diags, sources, root, files, store)
