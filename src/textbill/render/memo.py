"""What rendering may keep between calls: the shape of the tables, not the tables.

Stage: render.  The tables themselves live in incremental/ (incremental.render_memo.RenderMemo,
kept by a build or a watch session); a renderer is handed one, or works with `scratch()`:
tables that last for one call only, so the output is the same either way.
"""
from __future__ import annotations

from typing import Any, Protocol


class RenderTables(Protocol):
    """The tables a renderer reads and fills.  Every one maps inputs to what they render to."""

    environments: dict[tuple, Any]  # (kind, folders, their file names) -> Jinja environment
    formats: dict[str | None, Any]  # locale -> dashboard.Formats (its caches carry over)
    pages: dict[tuple, tuple]  # dashboard page key -> (fingerprint, page, kept rows)
    rows: dict[tuple, Any]  # (theme, stamp, show_client, row) -> its rendered <tr>
    marked: dict[tuple, dict[str, tuple]]  # (root, prefix, show_client, dirs, stamp) -> number -> (inputs, row)
    client_pages: dict[tuple, tuple]  # (root, path) -> (inputs, linked documents, page)
    stylesheets: dict[tuple, Any]  # a print stylesheet's key -> weasyprint.CSS
    fonts: Any  # weasyprint's FontConfiguration, made on first use
    # rows' texts kept across processes: get(key) -> str | None, put(key, text)
    # (incremental.persist.StoredTexts, set by the build around the dashboard), or None
    stored: Any
    # kind -> the Jinja bytecode cache of the environments of that kind (compiled templates kept
    # across processes: incremental.templates, set by the build), or None
    templates: Any


class _Scratch:
    """RenderTables for one call."""

    def __init__(self) -> None:
        self.environments: dict[tuple, Any] = {}
        self.formats: dict[str | None, Any] = {}
        self.pages: dict[tuple, tuple] = {}
        self.rows: dict[tuple, Any] = {}
        self.marked: dict[tuple, dict[str, tuple]] = {}
        self.client_pages: dict[tuple, tuple] = {}
        self.stylesheets: dict[tuple, Any] = {}
        self.fonts: Any = None
        self.stored: Any = None
        self.templates: Any = None


def scratch() -> RenderTables:
    """Empty tables, for a caller that keeps nothing between calls."""
    return _Scratch()
