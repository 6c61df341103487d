"""Diagnostics: located errors and warnings, and the one formatter for all of them."""
from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from textbill.core.codes import ERROR, ERROR_CODES, WARNING, WARNING_CODES, describe
from textbill.core.source import Sources, Span, find_token


@dataclass(frozen=True, slots=True)
class Diagnostic:
    span: Span | None
    code: str
    severity: str
    message: str
    hint: str | None = None
    focus: str | None = None  # a word on the span's line to point the caret at

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR


def error(span: Span | None, code: str, message: str, hint: str | None = None,
          focus: str | None = None) -> Diagnostic:
    """An error; code must be an E code declared in textbill.core.codes."""
    if code not in ERROR_CODES:
        _undeclared(code, ERROR)
    return Diagnostic(span, code, ERROR, message, hint, focus)


def warning(span: Span | None, code: str, message: str, hint: str | None = None,
            focus: str | None = None) -> Diagnostic:
    """A warning; code must be a W code declared in textbill.core.codes."""
    if code not in WARNING_CODES:
        _undeclared(code, WARNING)
    return Diagnostic(span, code, WARNING, message, hint, focus)


def _undeclared(code: str, severity: str) -> None:
    """A programming error: a code used without being declared, or with the other severity."""
    declared = describe(code)  # KeyError for an undeclared code
    raise AssertionError(f"diagnostic code {code} is declared as {declared.severity}, not {severity}, "
                         "in textbill/core/codes.py")


def narrow(diags: Iterable[Diagnostic], sources: Sources) -> list[Diagnostic]:
    """Point each diagnostic's caret at its focus word, found again on its line."""
    out = []
    for d in diags:
        if d.focus and d.span is not None:  # Diagnostic(...) rather than replace(): 4x quicker
            d = Diagnostic(find_token(sources, d.span, d.focus), d.code, d.severity, d.message, d.hint)
        out.append(d)
    return out


def did_you_mean(word: str, candidates: Iterable[str], what: str = "") -> str | None:
    """A 'did you mean' hint naming the closest candidate, if one is close."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    if matches:
        return f"did you mean '{matches[0]}'?"
    return None


def closest(word: str, candidates: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def has_errors(diags: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diags)


def sort_key(d: Diagnostic):
    if d.span is None:
        return ("", 0, 0, d.code)
    return (d.span.file, d.span.line, d.span.col, d.code)


def format_text(d: Diagnostic, sources: Sources, color: bool = False) -> str:
    """`file:line:col: error[E104]: message`, the source line with a caret, a help line."""
    def paint(text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if color else text

    sev = paint(f"{d.severity}[{d.code}]", "1;31" if d.is_error else "1;33")
    if d.span is None:
        out = [f"{sev}: {d.message}"]
    else:
        out = [f"{paint(str(d.span), '1')}: {sev}: {d.message}"]
        line = sources.line(d.span.file, d.span.line)
        if line is not None:
            shown = line.replace("\t", " ")
            if len(shown) > 200:
                start = max(0, d.span.col - 80)
                shown = ("..." if start else "") + shown[start:start + 160] + "..."
                col = d.span.col - start + (3 if start else 0)
            else:
                col = d.span.col
            width = 1
            if d.span.end_line == d.span.line and d.span.end_col > d.span.col:
                width = min(d.span.end_col - d.span.col, max(1, len(shown) - col + 1))
            gutter = str(d.span.line)
            out.append(f"{' ' * len(gutter)} |")
            out.append(f"{gutter} | {shown}")
            out.append(f"{' ' * len(gutter)} | {' ' * (col - 1)}{paint('^' * width, '1;31' if d.is_error else '1;33')}")
    if d.hint:
        out.append(f"  {paint('help', '1;36')}: {d.hint}")
    return "\n".join(out)


def to_json(d: Diagnostic) -> dict:
    obj = {
        "severity": d.severity,
        "code": d.code,
        "message": d.message,
        "hint": d.hint,
        "file": d.span.file if d.span else None,
        "line": d.span.line if d.span else None,
        "col": d.span.col if d.span else None,
    }
    if d.span and d.span.end_line:
        obj["end_line"] = d.span.end_line
        obj["end_col"] = d.span.end_col
    return obj


def format_json(diags: list[Diagnostic]) -> str:
    errors = sum(1 for d in diags if d.is_error)
    return json.dumps(
        {
            "errors": errors,
            "warnings": len(diags) - errors,
            "diagnostics": [to_json(d) for d in diags],
        },
        indent=2,
        ensure_ascii=False,
    )


def summary(diags: list[Diagnostic]) -> str:
    errors = sum(1 for d in diags if d.is_error)
    warnings = len(diags) - errors
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return ", ".join(parts) if parts else "no problems"
