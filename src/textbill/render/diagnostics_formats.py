"""Diagnostics for CI: GitHub workflow commands, SARIF 2.1.0 and GitLab's Code Quality report.

Values in, text out, like the rest of render/: the caller says where each diagnostic's file is
relative to the repository root (`where`, a function of Span.file; see cli/common.py, which
finds that root), and these functions only lay the diagnostics out.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from urllib.parse import quote

from textbill.core.codes import BY_CODE
from textbill.core.diagnostics import Diagnostic

# Where the user documentation is published: SARIF rules link to a code's entry in docs/errors.md.
HOMEPAGE = "https://github.com/textbill/textbill"
ERRORS_DOC = HOMEPAGE + "/blob/main/docs/errors.md"
SRCROOT = "%SRCROOT%"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

Where = Callable[[str], str]


def escape_data(text: str) -> str:
    """A workflow command's message: %, CR and LF percent-encoded (the runner's escapeData)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: also ':' and ',', which delimit the properties."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _text(d: Diagnostic) -> str:
    """The message, and the help (a 'did you mean', the usual fix) on a line of its own."""
    return d.message + (f"\nhelp: {d.hint}" if d.hint else "")


def _end(d: Diagnostic) -> tuple[int, int] | None:
    """(end line, end column) of the span, the column just past its last character; None if unknown."""
    span = d.span
    if span is None or not span.end_line or span.end_line < span.line or span.end_col < 1:
        return None
    if span.end_line == span.line and span.end_col <= span.col:
        return None
    return span.end_line, span.end_col


def github_commands(diags: Iterable[Diagnostic], where: Where) -> str:
    """One `::error`/`::warning` workflow command per diagnostic, each on its own line."""
    lines = []
    for d in diags:
        props: list[tuple[str, str]] = []
        if d.span is not None:
            props += [("file", where(d.span.file)), ("line", str(d.span.line)), ("col", str(d.span.col))]
            end = _end(d)
            if end is not None:
                props += [("endLine", str(end[0])), ("endColumn", str(end[1]))]
        props.append(("title", d.code))
        command = "error" if d.is_error else "warning"
        joined = ",".join(f"{key}={escape_property(value)}" for key, value in props)
        lines.append(f"::{command} {joined}::{escape_data(_text(d))}")
    return "".join(line + "\n" for line in lines)


def anchor(code: str) -> str:
    """The GitHub anchor of a code's heading `### E104 unknown reminder policy` in docs/errors.md."""
    heading = f"{code} {BY_CODE[code].title}".lower()
    return re.sub(r"[^\w\- ]", "", heading).replace(" ", "-")


def _rule(code: str) -> dict:
    declared = BY_CODE[code]
    url = f"{ERRORS_DOC}#{anchor(code)}"
    help_text = declared.help or f"See {url} for when {code} is reported and what usually fixes it."
    return {
        "id": code,
        "shortDescription": {"text": declared.title},
        "help": {"text": help_text},
        "helpUri": url,
        "defaultConfiguration": {"level": declared.severity},
    }


def _uri(path: str) -> str:
    return quote(path.replace("\\", "/"), safe="/")


def sarif_log(diags: Iterable[Diagnostic], where: Where, root_uri: str, version: str) -> dict:
    """A SARIF 2.1.0 log: one run of textbill, one rule per code present, one result per diagnostic.

    root_uri: the repository root as a file: URI ending in '/', the base of every artifact URI."""
    diags = list(diags)
    codes = sorted({d.code for d in diags})
    index = {code: i for i, code in enumerate(codes)}
    results = []
    for d in diags:
        result: dict = {
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": "error" if d.is_error else "warning",
            "message": {"text": _text(d)},
        }
        if d.span is not None:
            region = {"startLine": d.span.line, "startColumn": max(1, d.span.col)}
            end = _end(d)
            if end is not None:
                region.update(endLine=end[0], endColumn=end[1])
            result["locations"] = [{"physicalLocation": {
                "artifactLocation": {"uri": _uri(where(d.span.file)), "uriBaseId": SRCROOT},
                "region": region,
            }}]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "textbill",
                "version": version,
                "informationUri": HOMEPAGE,
                "rules": [_rule(code) for code in codes],
            }},
            "originalUriBaseIds": {SRCROOT: {"uri": root_uri}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def format_sarif(diags: Iterable[Diagnostic], where: Where, root_uri: str, version: str) -> str:
    return json.dumps(sarif_log(diags, where, root_uri, version), indent=2, ensure_ascii=False) + "\n"


def format_codeclimate(diags: Iterable[Diagnostic], where: Where) -> str:
    """GitLab's Code Quality report (a Code Climate JSON array): errors are major, warnings minor.

    The fingerprint is the code, file and message (and which repeat of them it is), not the line,
    so a finding that only moved is not reported as new on a merge request."""
    issues = []
    seen: dict[tuple[str, str, str], int] = {}
    for d in diags:
        path = where(d.span.file) if d.span is not None else ""
        key = (d.code, path, d.message)
        seen[key] = seen.get(key, 0) + 1
        fingerprint = hashlib.sha256("\0".join((*key, str(seen[key]))).encode("utf-8")).hexdigest()
        issues.append({
            "type": "issue",
            "check_name": d.code,
            "description": f"{d.code} {_text(d)}",
            "categories": ["Bug Risk"],
            "severity": "major" if d.is_error else "minor",
            "fingerprint": fingerprint,
            "location": {"path": path, "lines": {"begin": d.span.line if d.span is not None else 1}},
        })
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
