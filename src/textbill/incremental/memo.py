"""Values computed from frozen objects, kept while the very same objects come back.

A long-lived process (watch) computes the books again after every save, and the engine hands back
the same objects for what did not change (Workspace.remember, incremental.books_memo.BooksMemo).  A value
derived only from such objects -- a document's digest -- is then the value computed last time.
Identity, not equality: comparing two documents costs what computing the digest costs.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable

_MISSING = object()


class IdentityMemo:
    """Rounds of lookups: what a round asked for is what the next round can reuse.

    get(key, inputs, make) returns the value of the last round for key when its inputs were the
    very same objects, else make().  The inputs are held with the value, so their ids cannot be
    taken by new objects; only the last round is kept, so the memo never outgrows one ledger.
    """

    def __init__(self) -> None:
        self._last: dict[Hashable, tuple] = {}
        self._round: dict[Hashable, tuple] = {}

    def begin(self) -> None:
        self._round = {}

    def get(self, key: Hashable, inputs: tuple, make: Callable[[], object]):
        value = self._found(key, inputs)
        if value is _MISSING:
            value = make()
        self._round[key] = (inputs, value)
        return value

    def _found(self, key: Hashable, inputs: tuple):
        hit = self._last.get(key)
        if hit is not None and len(hit[0]) == len(inputs) and all(a is b for a, b in zip(hit[0], inputs)):
            return hit[1]
        return _MISSING

    def needs(self, key: Hashable, inputs: tuple) -> bool:
        """get(key, inputs, make) would call make (nothing is recorded)."""
        return self._found(key, inputs) is _MISSING

    def end(self) -> None:
        """The round is complete: its lookups are what the next round may reuse."""
        self._last, self._round = self._round, {}

    def clear(self) -> None:
        """Forget everything (what a new process starts with)."""
        self._last, self._round = {}, {}
