"""The compiler's front half: load -> check -> compute, with every diagnostic collected."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from . import model as m
from .billing.invoices import Books, compute_books
from .billing.receivables import Receivables, check_receivables, replay
from .checks import run_checks
from .checks_einvoice import check_einvoice
from .diagnostics import Diagnostic, has_errors, narrow, sort_key
from .loader import Loaded, load
from .lockfile import check_locks
from .source import Sources


@dataclass
class Analysis:
    loaded: Loaded
    books: Books
    diagnostics: list[Diagnostic]

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

    def receivables(self, as_of: date) -> Receivables:
        return replay(self.ledger, self.books, as_of)


def analyze(path: Path, extra_checks=(), cache: bool = True) -> Analysis:
    """Everything `textbill check` reports, and the computed documents.

    cache: unchanged files come from the parse cache (False: `--no-cache`).
    """
    loaded = load(path, cache=cache)
    ledger = loaded.ledger
    diags = list(loaded.diagnostics)
    diags.extend(run_checks(ledger))
    books = compute_books(ledger)
    diags.extend(books.diagnostics)
    diags.extend(check_receivables(ledger, books))
    diags.extend(check_einvoice(ledger))
    diags.extend(check_locks(loaded, books))
    for check in extra_checks:
        diags.extend(check(loaded, books))
    diags = narrow(_dedupe(diags), loaded.sources)
    diags.sort(key=sort_key)
    return Analysis(loaded, books, diags)


def _dedupe(diags: list[Diagnostic]) -> list[Diagnostic]:
    seen = set()
    out = []
    for d in diags:
        key = (d.span, d.code, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out
