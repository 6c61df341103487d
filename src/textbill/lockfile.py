"""textbill.lock: issued documents are immutable (LANGUAGE.md section 6).  (Stub.)"""
from __future__ import annotations


def check_locks(loaded, books) -> list:
    """Diagnostics for locked documents that changed and documents not yet locked."""
    return []
