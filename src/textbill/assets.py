"""Checks of what the documents are drawn with -- the company's logo and the chosen theme.  [I/O]

They read the ledger folder and the themes, so they are not in checks/ (pure validations of the
model); pipeline.analyze() runs them with the other checks.
"""
from __future__ import annotations

from pathlib import Path

from textbill.core import model as m
from textbill.core.diagnostics import Diagnostic, error, warning
from textbill.core.paths import inside
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


def check_assets(ledger: m.Ledger) -> list[Diagnostic]:
    """The logo's and the theme's diagnostics."""
    return [*check_logo(ledger), *check_theme(ledger)]
