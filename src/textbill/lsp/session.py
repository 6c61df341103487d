"""One ledger as the editor sees it: the files on disk with the unsaved buffers laid over them.

A Session owns the long-lived Workspace of its ledger (incremental/workspace.py), so a keystroke
re-parses the one buffer that changed and recomputes only the invoices whose inputs changed, as
`textbill watch` does on a save.  The last analysis is kept for completion and hover, which must
answer while a buffer does not parse; its figures "as of today" are computed once per day asked.
"""
from __future__ import annotations

import os
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from textbill.core import model as m
from textbill.core.books import Receivables
from textbill.incremental.books_memo import BooksMemo
from textbill.incremental.cache import file_key
from textbill.incremental.workspace import Workspace
from textbill.loading.loader import MAX_LINE_CHARS, display_name, read_source
from textbill.lsp.reparse import Reparser
from textbill.lsp.text import Role, all_roles
from textbill.pipeline import Analysis, analyze


def path_of(name: str) -> str:
    """A diagnostic's or span's file name (as display_name gives it) as an absolute path."""
    return os.path.abspath(name)


@dataclass
class Index:
    """Lookups over one analysis, made when first asked for."""

    analysis: Analysis
    today: date | None = None
    receivables: Receivables | None = None
    invoices: dict[str, m.Invoice] | None = None
    credits: dict[str, m.CreditNote] | None = None
    times_by_sow: dict[str, list[m.TimeEntry]] | None = None
    file_order: dict[str, int] = field(default_factory=dict)


class Session:
    """The ledger at `root`: its unsaved buffers, its Workspace and its last analysis."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        self.workspace = Workspace()
        self.workspace.remember(self.root)
        self.workspace.books_memo = BooksMemo()
        self.overlay: dict[str, str] = {}  # absolute path -> the editor's text
        self.analysis: Analysis | None = None
        self.index: Index | None = None
        self.published: set[str] = set()  # paths whose diagnostics the client holds
        self.reparser = Reparser(self.workspace.syntax)
        self._roles: dict[str, tuple[str, list[tuple[int, Role]]]] = {}  # path -> (text, roles)

    def reanalyze(self) -> Analysis:
        memory = self.workspace.parse_memory.setdefault(str(self.root), {})
        for path, text in self.overlay.items():
            if not path.endswith(".bill"):
                continue  # textbill.yaml and the lock are read from the disk
            # the buffer's chunks parsed again only where they changed (reparse.py), handed to the
            # loader as the parse memory's entry for this very text, keyed as the loader keys it
            name = display_name(Path(path))
            key = file_key(name, text.encode("utf-8"))
            if key in memory:
                continue
            normal = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
            if "\x00" in normal or len(normal) >= MAX_LINE_CHARS and \
                    any(len(line) > MAX_LINE_CHARS for line in normal.split("\n")):
                continue  # not text, or too long a line: the loader reports it
            nodes, diags, broken = self.reparser.parse(name, normal)
            memory[key] = (tuple(nodes), tuple(diags), frozenset(broken))
        self.analysis = analyze(self.root, workspace=self.workspace, overlay=dict(self.overlay))
        self.index = Index(self.analysis)
        return self.analysis

    def close(self, path: str) -> None:
        """The editor closed a buffer: the file on disk counts again."""
        self.overlay.pop(path, None)
        self.reparser.forget(display_name(Path(path)))

    # ------------------------------------------------------------------ lookups
    @property
    def ledger(self) -> m.Ledger | None:
        return self.analysis.ledger if self.analysis is not None else None

    def receivables(self, today: date) -> Receivables | None:
        index = self.index
        if index is None:
            return None
        if index.receivables is None or index.today != today:
            index.receivables, index.today = index.analysis.receivables(today), today
        return index.receivables

    def invoice(self, number: str) -> m.Invoice | None:
        index = self.index
        if index is None:
            return None
        if index.invoices is None:
            index.invoices = _first_by_number(index.analysis.ledger.invoices)
        return index.invoices.get(number)

    def credit_note(self, number: str) -> m.CreditNote | None:
        index = self.index
        if index is None:
            return None
        if index.credits is None:
            index.credits = _first_by_number(index.analysis.ledger.credit_notes)
        return index.credits.get(number)

    def times_of(self, sow_ref: str) -> list[m.TimeEntry]:
        index = self.index
        if index is None:
            return []
        if index.times_by_sow is None:
            index.times_by_sow = {}
            for t in index.analysis.ledger.times:
                index.times_by_sow.setdefault(t.sow, []).append(t)
        return index.times_by_sow.get(sow_ref, [])

    def entry_at(self, entries: tuple, path: str, line: int):
        """The node among `entries` (in file, then line order) whose header is at `line` (from 1)."""
        index = self.index
        if index is None or not entries:
            return None
        if not index.file_order:
            index.file_order = {path_of(name): i for i, name in enumerate(index.analysis.ledger.files)}
        order = index.file_order
        if path not in order:
            return None

        def key(node):
            return order.get(path_of(node.span.file), -1), node.span.line

        target = (order[path], line)
        i = bisect_left(entries, target, key=key)
        if i < len(entries) and key(entries[i]) == target:
            return entries[i]
        return None

    # ------------------------------------------------------------------ texts and names
    def text(self, path: str) -> str | None:
        """A file's text: the editor's buffer if open, else the disk."""
        if path in self.overlay:
            return self.overlay[path]
        text, _ = read_source(Path(path), path, self.root)
        return text

    def files(self) -> list[str]:
        ledger = self.ledger
        names = [path_of(n) for n in ledger.files] if ledger is not None else []
        return names + [p for p in self.overlay if p not in names and p.endswith(".bill")]

    def roles(self, path: str) -> list[tuple[int, Role]]:
        """Every name a file defines or refers to (kept while its text is unchanged)."""
        text = self.text(path)
        if text is None:
            return []
        kept = self._roles.get(path)
        if kept is not None and kept[0] == text:
            return kept[1]
        found = all_roles(text)
        self._roles[path] = (text, found)
        return found


def _first_by_number(docs) -> dict:
    """Documents by number; where a number repeats (an error check reports), the first one."""
    out: dict = {}
    for doc in docs:
        out.setdefault(doc.number, doc)
    return out
