"""textbill: a plain-text, git-friendly invoice ledger compiler.

The library API (docs/api.md): load(), analyze(), build() and the reports invoices(),
overdue(), statement(), explain().  They live in textbill.api and are imported on first use,
so that the command line, which imports this package first, starts without the whole compiler.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from textbill.version import __version__

if TYPE_CHECKING:
    from textbill.api import (
        UnknownName,
        analyze,
        build,
        explain,
        invoices,
        load,
        overdue,
        statement,
    )

__all__ = ("UnknownName", "__version__", "analyze", "build", "explain", "invoices", "load", "overdue",
           "statement")


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("textbill.api"), name)
    raise AttributeError(f"module 'textbill' has no attribute '{name}'")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
