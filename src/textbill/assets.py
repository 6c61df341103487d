"""Checks of what the documents are drawn with -- the company's logo and the chosen theme.  [I/O]

They read the ledger folder and the themes, so they are not in checks/ (pure validations of the
model); pipeline.analyze() runs them with the other checks.
"""
from __future__ import annotations

import os
from pathlib import Path

from textbill.core import model as m
from textbill.core.diagnostics import Diagnostic, error, warning
from textbill.core.paths import entries_below, inside
from textbill.render.themes import ThemeError, theme_by_name


def check_logo(ledger: m.Ledger):
    company = ledger.company
    if not company or not company.logo:
        return
    if not inside(Path(ledger.root), company.logo):
        yield error(company.span, "E180", f"logo path '{company.logo}' points outside the ledger",
                    "put the image inside the ledger folder and give its relative path, e.g. assets/logo.png",
                    focus=company.logo)
    elif not (Path(ledger.root) / company.logo).is_file():
        yield warning(company.span, "W181", f"logo file '{company.logo}' does not exist",
                      "check the path; it is relative to the ledger root", focus=company.logo)


def check_theme(ledger: m.Ledger):
    name = ledger.config.theme
    if not name or name == "default":
        return
    try:
        theme = theme_by_name(Path(ledger.root), name)
    except ThemeError as exc:
        yield error(ledger.config.spans.get("theme"), "E182", str(exc),
                    "use 'default', 'modern', or the path of a folder inside the ledger")
        return
    for rel, why in theme.refused():
        yield error(ledger.config.spans.get("theme"), "E183", f"theme '{name}': {rel} {why}; it is never read",
                    "a theme is files inside the ledger: replace the link by the file itself, remove a device "
                    "or FIFO", focus=name)


LEDGER_NAMES = ("textbill.yaml", "textbill.lock")


def _under(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def output_problem(root: Path, out_dir: Path) -> str | None:
    """Why a build may not write into out_dir, or None (spec sections 1 and 11).

    The output folder is never the ledger root, never holds it and never holds ledger files; one
    named inside the ledger must not resolve outside it (`site -> /elsewhere`); and nothing in it
    may lead a write or a deletion out of it (a symlinked `build/invoices`, a device).  A folder
    outside the ledger, given with -o, is the user's own: only the first rule applies to it."""
    root_path = Path(root)
    root_r = root_path.resolve()
    if root_r.is_file():
        root_path, root_r = root_path.parent, root_r.parent
    lexical = Path(os.path.abspath(out_dir))
    out_r = lexical.resolve()
    shown = str(out_dir)
    if out_r == root_r or out_r in root_r.parents:
        return (f"the output folder '{shown}' is the ledger folder (or holds it): a build would write among, "
                "and prune, the ledger's own files; use a folder inside it, like 'build'")
    named_inside = _under(lexical, Path(os.path.abspath(root_path))) or _under(lexical, root_r)
    if named_inside and not _under(out_r, root_r):
        return (f"the output folder '{shown}' resolves outside the ledger (to {out_r}) through a symlink; "
                "a build never writes through it: remove the link, or give the folder with -o")
    if not _under(out_r, root_r):
        return None
    for entry in entries_below(out_r):
        # the cheap tests first: a preview folder holds a thousand pages, and this runs on every save
        if entry.is_symlink():
            if not _under(Path(entry.path).resolve(), out_r):
                return (f"'{_rel(shown, entry, out_r)}' in the output folder is a symlink that leads out of it; "
                        "a build never writes through it: remove the link")
        elif entry.is_dir(follow_symlinks=False):
            continue
        elif entry.name.endswith(".bill") or entry.name in LEDGER_NAMES:
            return (f"the output folder '{shown}' holds ledger files ('{_rel(shown, entry, out_r)}'); a build may "
                    "write and prune only its own files: choose another output folder")
        elif not entry.is_file(follow_symlinks=False):
            return (f"'{_rel(shown, entry, out_r)}' in the output folder is not a regular file (a device, a FIFO); "
                    "remove it")
    return None


def _rel(shown: str, entry: os.DirEntry, out_r: Path) -> str:
    return os.path.join(shown, Path(entry.path).relative_to(out_r).as_posix())


def check_output(ledger: m.Ledger):
    """The output folder of textbill.yaml (`out:`), as build would use it."""
    root = Path(ledger.root)
    root = root.parent if root.is_file() else root
    problem = output_problem(root, root / ledger.config.out)
    if problem:
        yield error(ledger.config.spans.get("out"), "E184", problem,
                    "the output folder is a plain folder inside the ledger, like 'build', holding only what "
                    "textbill writes")


def check_assets(ledger: m.Ledger) -> list[Diagnostic]:
    """The logo's, the theme's and the output folder's diagnostics."""
    return [*check_logo(ledger), *check_theme(ledger), *check_output(ledger)]
