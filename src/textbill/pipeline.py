"""The compiler's front half: load -> check -> compute, with every diagnostic collected."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from textbill.assets import check_assets
from textbill.checks.einvoice import check_einvoice
from textbill.checks.fallout import without_fallout
from textbill.checks.ledger import run_checks
from textbill.checks.locks import check_locks, read_lock, with_recorded_parties
from textbill.checks.teams import check_billing
from textbill.checks.terms import check_agreement_locks
from textbill.core import model as m
from textbill.core.books import Books, Receivables
from textbill.core.diagnostics import Diagnostic, has_errors, narrow, sort_key
from textbill.core.frozen import gc_paused
from textbill.core.source import Sources
from textbill.engine.invoices import compute_books
from textbill.engine.receivables import check_receivables, replay, seen_from
from textbill.incremental.cache import check_key
from textbill.incremental.checked import cached_check
from textbill.incremental.persist import Persistence
from textbill.incremental.workspace import Workspace
from textbill.loading.loader import (
    CONFIG_NAME,
    LOCK_NAME,
    Loaded,
    display_name,
    load,
    read_config,
)


@dataclass
class Analysis:
    loaded: Loaded
    books: Books
    diagnostics: list[Diagnostic]
    check_key: str | None = None  # the check cache's key of the inputs analyzed (None: not cached)
    # the replay over the whole ledger that the checks made, for the first receivables() it fits
    spare: Receivables | None = field(default=None, repr=False, compare=False)
    # the persistent memos of the workspace analyzed in (incremental.persist): the documents'
    # tokens, for the build's digests
    persistence: Persistence | None = field(default=None, repr=False, compare=False)
    # made for a command whose process ends after using it (analyze's one_shot): what it made stays
    # frozen, and a build leaves it so (core.frozen.heap_frozen)
    one_shot: bool = field(default=False, repr=False, compare=False)

    @property
    def books_key(self) -> str | None:
        """The key of the inputs the books were computed from (a build records it: build.py)."""
        return self.check_key

    @property
    def config(self) -> m.Config:
        return self.ledger.config

    @property
    def ledger(self) -> m.Ledger:
        return self.loaded.ledger

    @property
    def sources(self) -> Sources:
        return self.loaded.sources

    @property
    def root(self) -> Path:
        return self.loaded.root

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)

    def counts(self) -> tuple[int, int, int]:
        """Files, directives and invoices, as `textbill check` reports them."""
        return len(self.loaded.files), len(self.ledger.directives), len(self.books.invoices)

    def receivables(self, as_of: date) -> Receivables:
        spare, self.spare = self.spare, None
        if spare is not None and (spare.last_day is None or spare.last_day <= as_of):
            return seen_from(spare, as_of)  # every entry is dated by as_of: the same replay
        return replay(self.ledger, self.books, as_of)


def analyze(path: Path, extra_checks=(), cache: bool = True, _check_cache: bool = True,
            workspace: Workspace | None = None, overlay: Mapping[str, str] | None = None,
            lines: bool = False, one_shot: bool = False) -> Analysis:
    """Everything `textbill check` reports, and the computed documents.

    cache: unchanged files come from the parse cache, and an unchanged ledger's diagnostics
    from the check cache (False: `--no-cache`).  workspace: what is kept from one analysis to the
    next (watch mode: parsed nodes of remembered ledgers, computed invoices in its books_memo,
    the lock's digests); by default a fresh one, as a new process has.  overlay: {absolute path:
    text} of files as an editor holds them (`textbill lsp`), read instead of the disk; the check
    cache, keyed by the files on disk, is then neither read nor written.  lines: every invoice's
    lines will be needed (a build that renders every document): invoices are computed with them
    rather than read back from .textbill/state/ without them, which would compute them twice.
    one_shot: the caller is a command whose process ends after using the analysis: what the
    analysis made is left out of the garbage collector's scans for the rest of the process
    (core.frozen.gc_paused's freeze; a long-lived process must not, its old analyses would never
    be collected).
    """
    if workspace is None:
        workspace = Workspace()
    if cache and _check_cache and not extra_checks and not overlay:
        hit = _from_check_cache(path, workspace, lines, one_shot)
        if hit is not None:
            return hit
    # the ledger's nodes and the books are hundreds of thousands of long-lived objects without
    # cycles: a collection in the middle of the analysis would scan them all again, for nothing
    # (at 100k entries three full collections cost ~0.25 s); reference counting frees as usual
    with gc_paused(freeze=one_shot):
        return _analyze(path, extra_checks, cache, workspace, overlay, lines, one_shot)


def _analyze(path: Path, extra_checks, cache: bool, workspace: Workspace,
             overlay: Mapping[str, str] | None, lines: bool, one_shot: bool) -> Analysis:
    loaded = load(path, cache=workspace.parse_cache if cache else None, syntax=workspace.syntax, overlay=overlay)
    ledger = loaded.ledger
    persistence = _persistence(workspace)
    persistence.books.read_back = not lines
    session = persistence.attach(loaded, cache and not overlay)  # unsaved buffers are not sealed to disk
    diags = run_checks(ledger)
    diags.extend(check_assets(ledger))
    memo = persistence.books if session is not None or workspace.books_memo is not None else None
    books = compute_books(ledger, memo)
    computed = list(books.diagnostics)
    # issued documents keep the party details textbill.lock recorded for them (docs/language.md, "Issued documents are immutable")
    lock = read_lock(loaded.root, workspace)
    books = with_recorded_parties(books, lock, workspace.recorded_parties, ledger.company)
    whole = replay(ledger, books, date.max)
    # what the engine finds in figures computed from a directive with an error (a total fallen to
    # 0.00, an overpayment) is a consequence of that error, reported once at the directive
    diags.extend(without_fallout(ledger, [*computed, *check_receivables(ledger, books, whole)]))
    diags.extend(check_einvoice(ledger))
    diags.extend(check_billing(ledger, books))
    diags.extend(check_agreement_locks(ledger, lock.text, lock.name, loaded.sources))
    diags.extend(check_locks(loaded, books, workspace, lock))
    for check in extra_checks:
        diags.extend(check(loaded, books))
    persistence.finish()
    analysis = Analysis(loaded, books, _in_order(loaded, diags), spare=whole, persistence=persistence,
                        one_shot=one_shot)
    if cache and not extra_checks and not overlay and loaded.cache is not None:
        _to_check_cache(path, analysis)
    return analysis


def _persistence(workspace: Workspace) -> Persistence:
    """The workspace's persistent memos, made on its first analysis."""
    if workspace.persistence is None:
        workspace.persistence = found = Persistence(workspace.later)
        workspace.lock_digests, workspace.recorded_parties = found.digests, found.recorded
    return workspace.persistence


class _Cached(Analysis):
    """An unchanged ledger: diagnostics from the check cache; the rest computed if asked for."""

    def __init__(self, path: Path, root: Path, sources: Sources, diagnostics: list[Diagnostic],
                 counts: tuple[int, int, int], key: str | None = None, workspace: Workspace | None = None,
                 lines: bool = False, one_shot: bool = False):
        self.path, self._root, self._sources, self._workspace = path, root, sources, workspace
        self._lines, self.one_shot = lines, one_shot  # as analyze() was asked, for the analysis made later
        self.diagnostics, self._counts, self._full = diagnostics, counts, None
        self.check_key = key  # the inputs as they were when the cache was looked up

    def _analysis(self) -> Analysis:
        if self._full is None:
            self._full = analyze(self.path, cache=True, _check_cache=False, workspace=self._workspace,
                                 lines=self._lines, one_shot=self.one_shot)
        return self._full

    loaded = property(lambda self: self._analysis().loaded)
    persistence = property(lambda self: self._analysis().persistence)
    books = property(lambda self: self._analysis().books)
    sources = property(lambda self: self._sources)
    root = property(lambda self: self._root)
    # the books are computed when first asked for, from the files as they are then
    books_key = property(lambda self: self._analysis().check_key)

    @property
    def config(self) -> m.Config:
        """textbill.yaml's settings, without computing the ledger (a no-op build needs no more)."""
        if self._full is not None:
            return self._full.ledger.config
        return read_config(self._root, Sources())[0]

    def counts(self) -> tuple[int, int, int]:
        return self._counts

    def receivables(self, as_of: date) -> Receivables:
        return self._analysis().receivables(as_of)


def _from_check_cache(path: Path, workspace: Workspace, lines: bool, one_shot: bool) -> Analysis | None:
    hit = cached_check(path)
    if hit is None:
        return None
    return _Cached(path, hit.root, hit.sources, hit.diagnostics, hit.counts, hit.key, workspace, lines, one_shot)


def _to_check_cache(path: Path, analysis: Analysis) -> None:
    loaded = analysis.loaded
    store = loaded.cache
    if not loaded.files or not store.enabled or len(store.keys) != len(loaded.files):
        return  # no ledger, no cache: a folder without .bill files gets no .textbill/
    sources = loaded.sources
    config_name = display_name(loaded.root / CONFIG_NAME)
    lock_name = display_name(loaded.root / LOCK_NAME)
    # the texts the analysis read; a file that is there without its text in sources could not be
    # read (or the lock is empty): not cached, since an unreadable file's diagnostics are not
    # those of the empty or missing file a later lookup would take it for
    if config_name not in sources and (loaded.root / CONFIG_NAME).is_file():
        return
    if lock_name not in sources and (loaded.root / LOCK_NAME).exists():
        return
    lock_text = sources.text(lock_name) if lock_name in sources else None
    key = check_key(path, store.keys, sources.text(config_name) if config_name in sources else None,
                    lock_text)
    company = analysis.ledger.company
    probes = ()
    if company is not None and company.logo:
        probes = ((company.logo, (loaded.root / company.logo).is_file()),)
    store.put_check(key, analysis.diagnostics, analysis.counts(), probes)
    analysis.check_key = key


def _in_order(loaded: Loaded, found: list[Diagnostic]) -> list[Diagnostic]:
    """Causes before effects: what reading and parsing found (a file that cannot be read, a
    syntax error), then what the checks found, each in file and line order."""
    causes = sorted(narrow(loaded.diagnostics, loaded.sources), key=sort_key)
    effects = sorted(narrow(found, loaded.sources), key=sort_key)
    return _dedupe(causes + effects)


def _dedupe(diags: list[Diagnostic]) -> list[Diagnostic]:
    seen = set()
    out = []
    for d in diags:
        key = (d.span, d.code, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out
