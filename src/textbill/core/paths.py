"""Path safety: user-named paths stay inside their folder; output names are slugs."""
from __future__ import annotations

import hashlib
import os
import re
import stat
import unicodedata
from collections.abc import Iterator
from pathlib import Path


def inside(root: Path, relative: str) -> bool:
    """True when root/relative (symlinks resolved) stays inside root."""
    if not relative or os.path.isabs(relative) or relative.startswith("~"):
        return False
    base = Path(root).resolve()
    target = (base / relative).resolve()
    return target == base or base in target.parents


# A slug is at most this long, so that a file name made of it (a suffix, a collision hash, the
# step of a reminder, a temporary file's prefix) stays well inside the 255 bytes a file system allows.
MAX_SLUG = 80


def slug(text: str) -> str:
    """A file-name-safe form of a document number: 'FV/2026/0001' -> 'FV-2026-0001'.

    A long one is cut and given a short hash of the whole text, so that two numbers that differ
    only past the cut keep different names."""
    norm = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", norm).strip("-.")
    s = re.sub(r"\.{2,}", ".", s)
    if len(s) > MAX_SLUG:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:10]
        s = s[:MAX_SLUG - len(digest) - 1].rstrip("-.") + "-" + digest
    return s or "document"


def resolves_outside(root: Path, path: Path) -> bool:
    """True when path (a symlink, or below one) resolves outside root: the ledger is everything
    below its root and nothing else (spec sections 1 and 11), so such a file is never read nor
    written through.  A path that cannot be resolved (a symlink loop) counts as outside."""
    try:
        base = Path(root).resolve()
        target = Path(path).resolve()
    except (OSError, RuntimeError):
        return True
    return target != base and base not in target.parents


def is_special(path: Path) -> bool:
    """True when path exists and is not a regular file or folder (a device, a FIFO, a socket)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def entries_below(folder: Path) -> Iterator[os.DirEntry]:
    """Every entry below folder, each folder's entries by name, without following a symlinked
    folder: iterative, so a deep tree ends cleanly (the caller decides what a link or a device is)."""
    stack = [Path(folder)]
    while stack:
        here = stack.pop()
        try:
            with os.scandir(here) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            yield entry
            if entry.is_dir(follow_symlinks=False):
                stack.append(Path(entry.path))
