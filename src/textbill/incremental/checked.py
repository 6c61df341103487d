"""The check cache's answer for an unchanged ledger, found without importing the compiler.

`textbill check` on a ledger whose inputs (every file, textbill.yaml, textbill.lock, textbill's
own code) are as they were at the last check prints that check's diagnostics.  The lookup needs
only the loader's file listing and the cache, so the command asks here first and imports the
engine, the checks and the renderers (pipeline.analyze) only on a miss.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textbill.core.diagnostics import Diagnostic
from textbill.core.source import Sources
from textbill.incremental.cache import ParseCache, current_check_key


@dataclass(frozen=True)
class CachedCheck:
    """What the last check of these very inputs reported."""

    path: Path
    root: Path
    sources: Sources
    diagnostics: list[Diagnostic]
    counts: tuple[int, int, int]  # files, directives, invoices
    key: str

    @property
    def check_key(self) -> str:
        """The key of the inputs checked (as Analysis.check_key: what a build's no-op record holds)."""
        return self.key


def cached_check(path: Path) -> CachedCheck | None:
    """The cached diagnostics of the ledger at path, or None when any input changed (or no cache
    can be trusted: its entries are authenticated, see incremental.cache)."""
    try:
        current = current_check_key(path)
        if current is None:
            return None
        key, root, sources = current
        hit = ParseCache(root).get_check(key)
    except Exception:  # noqa: BLE001 - the cache is an optimisation; any problem means: compute
        return None
    if hit is None:
        return None
    diagnostics, counts = hit
    return CachedCheck(Path(path), root, sources, diagnostics, counts, key)
