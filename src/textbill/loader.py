"""Find a ledger's files, read them, parse them: (Ledger, diagnostics).  [I/O]"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from . import model as m
from .diagnostics import Diagnostic, error
from .parser import parse_text
from .source import Span, Sources

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


def find_root(start: Path) -> Path:
    """The nearest folder upward from start that holds textbill.yaml, else start."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    return start


def resolve_ledger(path: str | None, cwd: Path | None = None) -> Path:
    """The ledger path from -f/--ledger, TEXTBILL_LEDGER, or the upward search."""
    cwd = cwd or Path.cwd()
    chosen = path or os.environ.get("TEXTBILL_LEDGER")
    if chosen:
        p = Path(chosen).expanduser()
        if not p.exists():
            raise LedgerNotFound(f"no such ledger: {chosen}")
        return p
    return find_root(cwd)


def display_name(path: Path) -> str:
    """A path as the user would write it: relative to the current folder when inside it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def ledger_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.endswith(".bill") and not name.startswith("."):
                found.append(Path(dirpath) / name)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def read_source(path: Path, name: str) -> tuple[str | None, Diagnostic | None]:
    """A file's text, or a located diagnostic saying why it cannot be read."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, error(Span(name, 1), "E006", f"file is too large ({size // (1024 * 1024)} MB)",
                               f"split the ledger into several files of at most {MAX_FILE_BYTES // (1024 * 1024)} MB")
        data = path.read_bytes()
    except OSError as exc:
        return None, error(Span(name, 1), "E006", f"cannot read file: {exc.strerror or exc}",
                           "check that the file exists and is readable")
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
    if text.startswith("\ufeff"):
        text = text[1:]
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


def parse_files(root: Path, files: list[Path], sources: Sources):
    nodes: list = []
    diags: list[Diagnostic] = []
    broken: set = set()
    for path in files:
        name = display_name(path)
        text, problem = read_source(path, name)
        if problem:
            diags.append(problem)
            if text is None:
                broken.add(("unreadable", name))
                continue
        sources.add(name, text)
        text, long_diags = _long_lines(text, name)
        diags.extend(long_diags)
        file_nodes, file_diags, file_broken = parse_text(text, name)
        nodes.extend(file_nodes)
        diags.extend(file_diags)
        broken |= file_broken
    return nodes, diags, broken


def build_ledger(root: Path, nodes: list, config: m.Config, files: list[str], broken=frozenset()) -> m.Ledger:
    """Group parsed directives by kind; duplicates are left for the checks to report."""
    company = None
    clients: dict[str, m.Client] = {}
    sows: dict[str, m.Sow] = {}
    policies: dict[str, m.ReminderPolicy] = {}
    groups: dict[type, list] = {}
    for node in nodes:
        t = type(node)
        if t is m.Company:
            company = company or node
        elif t is m.Client:
            clients.setdefault(node.id, node)
        elif t is m.Sow:
            sows.setdefault(node.ref, node)
        elif t is m.ReminderPolicy:
            policies.setdefault(node.id, node)
        else:
            groups.setdefault(t, []).append(node)

    def g(t):
        return tuple(groups.get(t, ()))

    return m.Ledger(
        root=str(root), company=company, clients=MappingProxyType(clients),
        sows=MappingProxyType(sows), policies=MappingProxyType(policies),
        times=g(m.TimeEntry), expenses=g(m.Expense), dones=g(m.Done), invoices=g(m.Invoice),
        payments=g(m.Payment), credit_notes=g(m.CreditNote), plans=g(m.Plan), reminded=g(m.Reminded),
        writeoffs=g(m.WriteOff), collections=g(m.Collections), fxs=g(m.Fx), directives=tuple(nodes),
        config=config, files=tuple(files), broken=frozenset(broken),
    )


def load(path: Path) -> Loaded:
    """Read a ledger folder or a single `.bill` file."""
    from .config import read_config

    path = Path(path)
    sources = Sources()
    root = path if path.is_dir() else path.parent
    diags: list[Diagnostic] = []
    config, config_diags = read_config(root, sources)
    diags.extend(config_diags)
    files = ledger_files(path)
    if not files:
        diags.append(error(None, "E007", f"no .bill files in {display_name(path)}",
                           "create one, for example with 'textbill init', or point -f at a ledger"))
    nodes, parse_diags, broken = parse_files(root, files, sources)
    diags.extend(parse_diags)
    ledger = build_ledger(root, nodes, config, [display_name(f) for f in files], broken)
    return Loaded(ledger, diags, sources, root, files)
