"""textbill: a plain-text, git-friendly invoice ledger compiler.

The library API (docs/api.md)::

    import textbill
    analysis = textbill.analyze("example-ledger")
    rows = textbill.invoices(analysis, as_of=datetime.date(2026, 3, 31))

load(), analyze(), build() and the reports invoices(), overdue(), statement(), explain() are
defined in textbill.api and looked up from there on first use, so that the command line, which
imports this package first, starts without the whole compiler.
"""
from __future__ import annotations

import importlib
from typing import Any

from textbill.version import __version__

API = ("BuildError", "BuildReport", "UnknownName", "analyze", "build", "explain", "invoices", "load",
       "overdue", "statement")
__all__ = ("BuildError", "BuildReport", "UnknownName", "__version__", "analyze", "build", "explain", "invoices",
           "load", "overdue", "statement")


def __getattr__(name: str) -> Any:
    if name in API:
        return getattr(importlib.import_module("textbill.api"), name)
    raise AttributeError(f"module 'textbill' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
