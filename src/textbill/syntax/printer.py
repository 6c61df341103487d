"""`textbill fmt`: the canonical layout of a `.bill` file.

The formatter works on lines and tokens, not on the parse tree, so comments and
blank-line groups survive.  It only ever changes white space outside strings,
and it refuses to write unless the result parses to the same directives.
"""
from __future__ import annotations

import re

from textbill.core.diagnostics import Diagnostic, error
from textbill.syntax.parser import Syntax, parse_text

INDENT = "  "
SYNTAX_CODES = frozenset({"E001", "E002", "E003", "E004", "E005", "E009", "E018"})
_TOKEN = re.compile(r'"(?:\\.|[^"\\\n])*"|;.*|[^\s;"]+(?:"(?:\\.|[^"\\\n])*")?|"[^\n]*')

_CURRENCY = re.compile(r"[A-Z]{3}")
_ALIGNED_KINDS = ("time", "expense", "payment", "fx")


def tokens(line: str) -> tuple[list[str], str | None]:
    """Split a line into tokens and its trailing comment."""
    out, comment = [], None
    for m in _TOKEN.finditer(line):
        tok = m.group(0)
        if tok.startswith(";"):
            comment = tok.rstrip()
            break
        out.append(tok)
    return out, comment


def _join(toks: list[str], comment: str | None, indent: str = "") -> str:
    body = indent + " ".join(toks)
    if comment is not None:
        return (body + "  " + comment) if toks else indent + comment
    return body


def _kind(toks: list[str]) -> str | None:
    if len(toks) >= 2 and re.fullmatch(r"\d{4}-\d\d-\d\d", toks[0]):
        return toks[1]
    return None


def _layout(text: str) -> str:
    lines = text.split("\n")
    out: list[tuple[str, list[str] | None, str | None, bool]] = []  # (kind, tokens, comment, is_block_start)
    rendered: list[str] = []
    blank_pending = False
    for raw in lines:
        stripped = raw.strip()
        if not stripped:
            blank_pending = bool(rendered)
            continue
        if blank_pending:
            rendered.append("")
            out.append(("", None, None, False))
            blank_pending = False
        indented = raw[:1] in (" ", "\t")
        toks, comment = tokens(stripped)
        if not indented:
            if stripped.startswith(";"):
                rendered.append(stripped.rstrip())
                out.append(("", None, None, False))
                continue
            rendered.append(_join(toks, comment))
            out.append((_kind(toks) or "", toks, comment, True))
        else:
            rendered.append(_join(toks, comment, INDENT))
            out.append(("", None, None, False))
            if out[-2:-1] and out[-2][3]:
                # a block with attributes is never aligned with its one-line neighbours
                _, t, c, _ = out[-2]
                out[-2] = ("", t, c, True)
    _align(out, rendered)
    return "\n".join(rendered) + "\n" if rendered else ""


def _cells(kind: str, toks: list[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """The aligned cells of a one-line entry ((text, 'l'|'r')) and the tokens after them."""
    if kind == "time":
        head = [(t, "l") for t in toks[:3]] + [(t, "r") for t in toks[3:4]]
        return head, toks[4:]
    if kind == "fx":
        return [(t, "l") for t in toks[:4]] + [(t, "r") for t in toks[4:5]], toks[5:]
    head = [(t, "l") for t in toks[:3]]
    rest = toks[3:]
    if rest:
        number = rest[0]
        currency = rest[1] if len(rest) > 1 and _CURRENCY.fullmatch(rest[1]) else None
        head.append((number, "r"))
        head.append((currency or "", "l"))
        rest = rest[2 if currency else 1:]
    return head, rest


def _align(out, rendered: list[str]) -> None:
    """Align the columns of runs of consecutive one-line entries of the same kind."""
    i = 0
    while i < len(out):
        kind = out[i][0]
        j = i
        while j < len(out) and out[j][0] == kind and kind in _ALIGNED_KINDS:
            j += 1
        if j - i < 2:
            i = max(j, i + 1)
            continue
        split = [_cells(kind, out[r][1]) for r in range(i, j)]
        widths: dict[int, int] = {}
        for cells, _ in split:
            for c, (text, _) in enumerate(cells):
                widths[c] = max(widths.get(c, 0), len(text))
        for r, (cells, rest) in zip(range(i, j), split):
            parts = []
            for c, (text, side) in enumerate(cells):
                if side == "r":
                    parts.append(text.rjust(widths[c]))
                elif text or widths[c]:
                    parts.append(text.ljust(widths[c]))
            line = " ".join(parts)
            line = re.sub(r" +$", "", line) if not rest and out[r][2] is None else line
            tail = " ".join(rest)
            body = (line + (" " + tail if tail else "")).rstrip() if rest else line.rstrip()
            rendered[r] = body + ("  " + out[r][2] if out[r][2] is not None else "")
        i = j


def format_text(text: str, name: str = "<text>",
                syntax: Syntax | None = None) -> tuple[str | None, list[Diagnostic]]:
    """The canonical form of a file, or None (with the syntax errors) when it does not parse.

    syntax: the parser to use (pass one when formatting many files; None: a fresh one)."""
    if syntax is None:
        syntax = Syntax()
    nodes, diags, _ = parse_text(text, name, syntax)
    errors = [d for d in diags if d.code in SYNTAX_CODES]
    if errors:
        return None, errors
    result = _layout(text)
    new_nodes, _, _ = parse_text(result, name, syntax)
    if new_nodes != nodes:  # pragma: no cover - a formatter bug must never cost the user data
        return None, [error(None, "E900", "internal: formatting would change the meaning of this file; "
                            "it was left as it is")]
    return result, []
