"""Path safety: user-named paths stay inside their folder; output names are slugs."""
from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path


def inside(root: Path, relative: str) -> bool:
    """True when root/relative (symlinks resolved) stays inside root."""
    if not relative or os.path.isabs(relative) or relative.startswith("~"):
        return False
    base = Path(root).resolve()
    target = (base / relative).resolve()
    return target == base or base in target.parents


def slug(text: str) -> str:
    """A file-name-safe form of a document number: 'FV/2026/0001' -> 'FV-2026-0001'."""
    norm = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", norm).strip("-.")
    s = re.sub(r"\.{2,}", ".", s)
    return s or "document"
