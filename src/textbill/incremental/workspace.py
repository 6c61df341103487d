"""The Workspace: every memo that outlives one call, in one object passed in explicitly.

A one-shot command makes a fresh Workspace() and throws it away, so it computes everything as a new
process does.  The watch keeps one for its lifetime: unchanged files keep their parsed nodes (see
remember()), unchanged invoices their computed documents (books_memo), documents their digests,
statements, model.json parts and dashboard pages, so a save costs what it changed.  Whatever a
Workspace holds, the results are those of a fresh one (tests/test_incremental_build.py).
"""
from __future__ import annotations

from pathlib import Path

from textbill.incremental.cache import ParseCache
from textbill.incremental.memo import IdentityMemo
from textbill.incremental.render_memo import RenderMemo
from textbill.syntax.parser import Syntax


class Workspace:
    """What a process keeps from one analysis and build to the next."""

    def __init__(self) -> None:
        # parsing: the grammar's parser, built once for the watch's first edit of a block rather
        # than for every save, and the values shared by parsed nodes (each table is bounded)
        self.syntax = Syntax()
        # analysis: the engine's memo of computed invoices (pipeline.analyze passes it to
        # compute_books; None computes every invoice) and the render layer's memo of pages
        self.books_memo = None
        self.render_memo = RenderMemo()
        # the parse cache in memory: resolved root -> {file key: (nodes, diagnostics, broken)},
        # only for the ledgers remember() was called for
        self.parse_memory: dict[str, dict[str, tuple]] = {}
        # checks.locks: the last lock text parsed ((name, text), entries, problems) and the
        # locked documents' digests
        self.lock_parse: tuple | None = None
        self.lock_digests = IdentityMemo()
        # checks.locks.with_recorded_parties: locked documents drawn with their recorded client
        self.recorded_parties = IdentityMemo()
        # build.plan: output names per kind (kind -> (refs, names)), the documents' digests, the
        # statements and overdue rows of the last plan, the overdue report's digest
        self.names: dict[str, tuple] = {}
        self.doc_digests = IdentityMemo()
        self.statements: dict[tuple, tuple] = {}
        self.report_digest = IdentityMemo()
        # build.site: model.json's parts and the site files this process wrote (path -> (stamp, bytes))
        self.invoice_json: dict[str, tuple] = {}
        self.model_parts: dict[str, tuple] = {}
        self.rows_json: dict[tuple, str] = {}
        self.site_written: dict[str, tuple] = {}
        # build.manifest: the manifests written (path -> (stamp, manifest)), the files' digests
        # (path -> (stamp, sha256)) and the rendering libraries' stamps (read once)
        self.manifests: dict[str, tuple] = {}
        self.file_digests: dict[str, tuple] = {}
        self.libraries: tuple | None = None
        # incremental.persist.Persistence: what a new process finds again under .textbill/state/
        # (made by pipeline.analyze, which imports the engine this needs)
        self.persistence = None
        # a pool of PDF workers that lives as long as the workspace's owner (watch --pdf)
        self.pool = None
        # None: the caches' and the state's writes happen as they come.  A list: they are kept
        # here, in order, until write_kept() (watch: after the pages are served; the entries
        # are for the next process, and writing them took ~15 ms of a save's first page)
        self.later: list | None = None
        # the owner keeps the heap frozen between builds (watch's tidying): a build leaves the heap
        # frozen rather than unfreezing it at its end (core.frozen.heap_frozen)
        self.keeps_heap_frozen = False

    # ------------------------------------------------------------------ the parse cache
    def remember(self, root: Path) -> None:
        """Keep the parse results of this ledger in memory from now on."""
        self.parse_memory.setdefault(str(Path(root).resolve()), {})

    def forget(self, root: Path) -> None:
        self.parse_memory.pop(str(Path(root).resolve()), None)

    def parse_cache(self, root: Path, enabled: bool = True) -> ParseCache:
        """The parse cache of a ledger, with this workspace's memory of it (for load(cache=...))."""
        memory = self.parse_memory.get(str(Path(root).resolve())) if self.parse_memory and enabled else None
        found = ParseCache(root, enabled=enabled, memory=memory)
        found.later = self.later
        return found

    def write_kept(self) -> None:
        """Run the writes kept back in `later` (a no-op when there are none)."""
        if self.later:
            pending, self.later[:] = list(self.later), []
            for write in pending:  # in order: a prune after the writes it follows
                write()

    def close(self) -> None:
        """Stop the pool, if any (its workers are processes)."""
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None
