"""textbill: a plain-text, git-friendly invoice ledger compiler.

The library API is textbill.api (docs/api.md): load(), analyze(), build() and the reports
invoices(), overdue(), statement(), explain().  This package imports nothing else, so that the
command line, which imports it first, starts without the whole compiler.
"""

from textbill.version import __version__

__all__ = ("__version__",)
