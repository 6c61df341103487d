"""Values every Workspace of a process shares: constants of the program too costly to build per call.

The compiled grammar (Lark's LALR tables, about 0.1 s) is the same for every ledger and every
call; a process that runs many commands (the test suite, an editor plugin through the library)
builds it once.  Only values that are pure functions of their key belong here.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

_VALUES: dict[Hashable, Any] = {}


def shared(key: Hashable, make: Callable[[], Any]) -> Any:
    """The value for key, made once per process by make()."""
    try:
        return _VALUES[key]
    except KeyError:
        value = _VALUES[key] = make()
        return value
