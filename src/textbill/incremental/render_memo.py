"""What rendering keeps between builds of one process (watch mode, build workers).

Stage: incremental.  The renderers (render/) read and fill these tables through the
render.memo.RenderTables protocol; keeping one RenderMemo for a session lets a rebuild
reuse compiled templates, dashboard pages and rows, number formats and print stylesheets.
"""
from __future__ import annotations

import atexit
import weakref
from typing import Any


class RenderMemo:
    """The render tables of a session (see render.memo.RenderTables for what each holds)."""

    def __init__(self) -> None:
        self.environments: dict[tuple, Any] = {}
        self.formats: dict[str | None, Any] = {}
        self.pages: dict[tuple, tuple] = {}
        self.rows: dict[tuple, Any] = {}
        self.marked: dict[tuple, dict[str, tuple]] = {}
        self.client_pages: dict[tuple, tuple] = {}
        self.stylesheets: dict[tuple, Any] = {}
        self.fonts: Any = None
        self.stored: Any = None  # incremental.persist.StoredTexts during a build's dashboard
        self.templates: Any = None  # kind -> incremental.templates.SealedTemplates, set by the build
        # forgotten at exit while the interpreter is whole: WeasyPrint's FontConfiguration
        # removes its temporary folder when it goes, which fails once modules are torn down
        atexit.register(_clear_at_exit, weakref.ref(self))

    def clear(self) -> None:
        """Forget everything (what a new process starts with)."""
        for table in (self.environments, self.formats, self.pages, self.rows, self.marked,
                      self.client_pages, self.stylesheets):
            table.clear()
        self.fonts = None


# the memo of a worker process that renders for a pool (watch --pdf): it lives as long as the worker
_PROCESS: list[RenderMemo] = []


def process_memo() -> RenderMemo:
    """This process's own memo, for pool workers that are handed nothing but a page."""
    if not _PROCESS:
        _PROCESS.append(RenderMemo())
    return _PROCESS[0]


def _clear_at_exit(ref: weakref.ref) -> None:
    memo = ref()
    if memo is not None:
        memo.clear()
