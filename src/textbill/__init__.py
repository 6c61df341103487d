"""textbill: a plain-text, git-friendly invoice ledger compiler."""

from textbill.version import __version__

__all__ = ("__version__",)
