"""One digest of textbill's own code, for every cache whose entries the code could change.

A cache keyed by its inputs is only as old as the code that filled it: during development the
version number stays the same while the modules change.  Hashed once per process and per set of
folders: a long-lived process (watch) keeps running the code it imported, whatever happens to the
files.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from textbill.version import __version__

PACKAGE = Path(__file__).resolve().parents[1]


@lru_cache(maxsize=8)
def code_digest(*folders: str) -> str:
    """sha256 of the version and of every module below the given folders of the package
    (all of textbill when none is given), each with its path."""
    h = hashlib.sha256(f"textbill {__version__}\0".encode())
    roots = [PACKAGE / f for f in folders] if folders else [PACKAGE]
    for root in roots:
        paths = [root] if root.is_file() else sorted(root.rglob("*.py"))
        for path in paths:
            h.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0")
            try:
                h.update(path.read_bytes())
            except OSError:
                h.update(b"?")
    return h.hexdigest()
