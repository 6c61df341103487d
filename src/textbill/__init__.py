"""textbill: a plain-text, git-friendly invoice ledger compiler."""

__version__ = "0.1.0"
