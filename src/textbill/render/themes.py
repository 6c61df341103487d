"""Themes: finding a theme's folders and its logo (the Jinja environment is render.templating).

Stage: render.  A theme is template folders searched in order (a user folder inside the
ledger first, the bundled default behind it).  Every template of every theme, the
documents' and the dashboard's, is rendered in a sandboxed Jinja environment (a theme
inside a ledger is its author's code) with autoescape on and undefined names as errors.
The company logo is checked here too: it is the other file a document takes from the ledger.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from textbill.core import model as m
from textbill.core.paths import entries_below, inside, is_special, resolves_outside

LOGO_TYPES = MappingProxyType({".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                               ".gif": "image/gif", ".svg": "image/svg+xml", ".webp": "image/webp"})
MAX_LOGO_BYTES = 2 * 1024 * 1024
# theme files that no document uses (the dashboard's and the reminder e-mails'): editing them
# must not re-render every invoice
NOT_DOCUMENTS = ("dashboard", "client", "site.", "reminders", "__pycache__")
# the two kinds of environment: documents (invoices, statements, ...) and the dashboard site
DOCUMENTS, SITE = "documents", "site"


class ThemeError(Exception):
    """The configured theme cannot be used (unknown name, folder outside the ledger, broken template)."""


def bundled_themes() -> Path:
    """The folder of the bundled themes: inside the installed package, else the source tree's themes/."""
    packaged = resources.files("textbill") / "themes"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[3] / "themes"


def bundled_names() -> tuple[str, ...]:
    root = bundled_themes()
    return tuple(sorted(p.name for p in root.iterdir() if (p / "base.html").is_file()))


def refusal(root: Path | None, path: Path) -> str | None:
    """Why a file of a user theme (inside the ledger at root) is never read: a symlink out of the
    ledger, or not a regular file (spec sections 1 and 11); None when it may be read, and always
    for a bundled theme (root None: the package's files are trusted)."""
    if root is None:
        return None
    if resolves_outside(root, path):
        return "is a symlink to a path outside the ledger"
    if is_special(path):
        return "is not a regular file (a device, a FIFO or a socket)"
    return None


@dataclass(frozen=True)
class Theme:
    """A theme: template folders searched in order, the last one the bundled default.

    root: the ledger root a user theme's folder lies in (None for a bundled theme): no file of the
    user folder that resolves outside it, and no special file, is ever read."""

    name: str
    dirs: tuple[Path, ...]
    user: bool = False
    root: Path | None = None

    def confined(self, folder: Path) -> Path | None:
        """The root a folder of this theme is confined to (None: a bundled folder, trusted)."""
        if self.root is None or not self.user or folder != self.dirs[0]:
            return None
        return self.root

    def find(self, name: str) -> Path | None:
        for folder in self.dirs:
            path = folder / name
            if not os.path.lexists(path):
                continue
            why = refusal(self.confined(folder), path)
            if why is not None:
                raise ThemeError(f"theme '{self.name}': {name} {why}; it is never read")
            if path.is_file():
                return path
        return None

    def refused(self) -> list[tuple[str, str]]:
        """(path relative to the theme folder, why) of every entry of the user folder that is never
        read: symlinks (files or folders) resolving outside the ledger, devices, FIFOs, sockets."""
        if not self.user or self.root is None:
            return []
        folder = self.dirs[0]
        out = []
        for entry in entries_below(folder):
            path = Path(entry.path)
            why = refusal(self.root, path)
            if why is not None:
                out.append((path.relative_to(folder).as_posix(), why))
        return sorted(out)

    def files(self) -> list[tuple[str, Path]]:
        """(name, path) of every file the documents may use (not the dashboard's or the reminders')."""
        seen: dict[str, Path] = {}
        for folder in self.dirs:
            for dirpath, dirnames, filenames in os.walk(folder):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in NOT_DOCUMENTS)
                for fname in sorted(filenames):
                    if fname.startswith(".") or fname.startswith(NOT_DOCUMENTS):
                        continue
                    path = Path(dirpath) / fname
                    if refusal(self.confined(folder), path) is not None:
                        continue  # never read (check_theme reports it)
                    seen.setdefault(f"{folder.name}:{path.relative_to(folder).as_posix()}", path)
        return sorted(seen.items())

    def digest(self) -> str:
        """A hash of every file of the theme: a changed template or stylesheet re-renders its documents."""
        h = hashlib.sha256()
        for name, path in self.files():
            h.update(name.encode("utf-8") + b"\0")
            h.update(hashlib.sha256(path.read_bytes()).digest())
        return h.hexdigest()

    def pdf_stylesheets(self) -> list[Path]:
        """Each folder's fonts.css (print fonts, resolved relative to its own folder), default first."""
        return [d / "fonts.css" for d in reversed(self.dirs)
                if (d / "fonts.css").is_file() and refusal(self.confined(d), d / "fonts.css") is None]


def load_theme(ledger: m.Ledger, name: str | None = None) -> Theme:
    """The ledger's theme (`theme:` in textbill.yaml): a folder inside the ledger, else a bundled name."""
    return theme_by_name(Path(ledger.root), name or ledger.config.theme or "default")


def theme_by_name(root: Path, name: str) -> Theme:
    """A theme by its textbill.yaml name, relative to the ledger root."""
    bundled = bundled_themes()
    default = bundled / "default"
    root = Path(root)
    if root.is_file():
        root = root.parent
    looks_like_path = "/" in name or "\\" in name or name.startswith(".")
    if looks_like_path or (root / name).is_dir():
        if not inside(root, name):
            raise ThemeError(f"theme folder '{name}' is outside the ledger; a theme must be a folder "
                             f"inside the ledger or one of: {', '.join(bundled_names())}")
        folder = (root / name).resolve()
        if not folder.is_dir():
            raise ThemeError(f"no theme folder '{name}' in the ledger")
        return Theme(name, (folder, default), user=True, root=root.resolve())
    if name == "default":
        return Theme(name, (default,))
    if name in bundled_names():
        return Theme(name, (bundled / name, default))
    raise ThemeError(f"unknown theme '{name}': not a folder of the ledger nor a bundled theme "
                     f"({', '.join(bundled_names())})")


def logo_problem(ledger: m.Ledger) -> str | None:
    """Why the company logo will not be shown, or None (no logo, or a usable one)."""
    company = ledger.company
    if company is None or not company.logo:
        return None
    root = Path(ledger.root)
    root = root.parent if root.is_file() else root
    if not inside(root, company.logo):
        return f"the company logo '{company.logo}' is outside the ledger; it is not used"
    path = root / company.logo
    if not path.is_file():
        return f"the company logo '{company.logo}' does not exist"
    if path.suffix.lower() not in LOGO_TYPES:
        return f"the company logo '{company.logo}' is not an image (use {', '.join(sorted(LOGO_TYPES))})"
    if path.stat().st_size > MAX_LOGO_BYTES:
        return f"the company logo '{company.logo}' is larger than 2 MB; it is not used"
    return None


# ---------------------------------------------------------------------------- Jinja
