"""Source locations: where every node and diagnostic comes from."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Span:
    """A region of a source file; lines and columns count from 1."""

    file: str
    line: int
    col: int = 1
    end_line: int = 0
    end_col: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    @property
    def short(self) -> str:
        return f"{self.file}:{self.line}"


class Sources:
    """The text of every file read in a run, for quoting lines in diagnostics.

    A file's lines are split only when a diagnostic quotes one of them, and a file
    served from the parse cache is not even decoded until then (add_lazy).
    """

    def __init__(self) -> None:
        self._texts: dict[str, str] = {}
        self._lazy: dict[str, Callable[[], str | None]] = {}
        self._lines: dict[str, list[str]] = {}

    def add(self, name: str, text: str) -> None:
        self._texts[name] = text
        self._lazy.pop(name, None)
        self._lines.pop(name, None)

    def add_lazy(self, name: str, load: Callable[[], str | None]) -> None:
        """A file whose text is made (decoded) only when it is asked for."""
        self._texts.pop(name, None)
        self._lazy[name] = load
        self._lines.pop(name, None)

    def line(self, name: str, number: int) -> str | None:
        lines = self._lines.get(name)
        if lines is None:
            text = self.text(name)
            if text is None:
                return None
            lines = self._lines[name] = text.split("\n")
        if 1 <= number <= len(lines):
            return lines[number - 1]
        return None

    def __contains__(self, name: str) -> bool:
        return name in self._texts or name in self._lazy

    def text(self, name: str) -> str | None:
        text = self._texts.get(name)
        if text is None and name in self._lazy:
            text = self._lazy.pop(name)()
            if text is not None:
                self._texts[name] = text
        return text


_TOKEN_RE = re.compile(r'"(?:\\.|[^"\\\n])*"|;.*|[^\s;]+')


def find_token(sources: Sources, span: Span, token: str, nth: int = 0) -> Span:
    """Narrow a span to one token of its directive (the nth occurrence).

    Nodes keep only their header line; the column of a particular word is
    found again here, when a diagnostic needs it, which keeps the model small.
    The header line is searched first, then the block's indented lines.
    """
    if not token:
        return span
    seen = 0
    line_no = span.line
    text = sources.line(span.file, line_no)
    while text is not None:
        if line_no > span.line and text[:1] not in (" ", "\t", ""):
            break
        for m in _TOKEN_RE.finditer(text):
            word = m.group(0)
            if word.startswith(";"):
                break
            if word == token or (word.startswith('"') and word[1:-1] == token):
                if seen == nth:
                    return Span(span.file, line_no, m.start() + 1, line_no, m.end() + 1)
                seen += 1
        line_no += 1
        text = sources.line(span.file, line_no)
    return span


def find_keyword_line(sources: Sources, span: Span, keyword: str) -> Span:
    """The first attribute line of a block (header at span.line) that starts with keyword."""
    line_no = span.line
    text = sources.line(span.file, line_no)
    while text is not None:
        stripped = text.lstrip()
        if line_no > span.line and text[:1] not in (" ", "\t") and stripped and not stripped.startswith(";"):
            break
        if line_no > span.line and stripped.split(" ", 1)[0] == keyword:
            col = len(text) - len(stripped) + 1
            return Span(span.file, line_no, col, line_no, len(text) + 1)
        line_no += 1
        text = sources.line(span.file, line_no)
    return span
