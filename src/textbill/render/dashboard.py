"""The static dashboard site (`index.html`, per-client pages) written by `build`.  (Stub.)"""
from __future__ import annotations

import html
from dataclasses import dataclass


@dataclass(frozen=True)
class DocRef:
    """A document `build` wrote, for linking from the dashboard."""

    kind: str  # invoice | credit-note | statement | report
    number: str  # the document number; the client id for a statement; "overdue" for the report
    client: str | None
    html: str | None  # path relative to the output folder
    pdf: str | None


def render_site(analysis, rec, docs: list[DocRef]) -> dict[str, bytes]:
    """Relative path -> content of every dashboard file."""
    items = "\n".join(
        f'<li><a href="{html.escape(d.html or d.pdf or "")}">{html.escape(d.kind)} {html.escape(d.number)}</a></li>'
        for d in docs)
    page = f"<!doctype html><meta charset=utf-8><title>textbill</title><ul>{items}</ul>\n"
    return {"index.html": page.encode("utf-8")}
