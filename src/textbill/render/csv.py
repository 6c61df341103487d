"""CSV for spreadsheets: one writer for every CSV textbill produces, its text cells made inert.

A spreadsheet reads a cell that starts with `=`, `+`, `-` or `@` as a formula, and a tab or
carriage return at the start can lead it there too; a formula can fetch URLs or, in older
programs, run commands (CSV injection).  Ledger text reaches CSV cells — client names,
descriptions, document numbers from a numbering pattern — so, as OWASP advises, such a text
cell is written with a single quote in front: `=1+1` becomes `'=1+1`, which every spreadsheet
shows as the text =1+1.  A number stays a number: `-12.50` is not a formula and is written as
it is, so amount columns still add up.  The look-alikes some spreadsheets also accept (leading
spaces before `=`, the full-width `＝＋－＠`) are quoted the same way.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, TextIO

FORMULA_START = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


def cell(value: Any) -> Any:
    """The value as a safe CSV cell: None -> '', a number as it is, formula-like text quoted."""
    if value is None:
        return ""
    if isinstance(value, (bool, int, float, Decimal)):
        return value
    text = str(value)
    start = text.lstrip(" \u00a0")[:1]
    if start in FORMULA_START and not NUMBER_RE.fullmatch(text):
        return "'" + text
    return text


def write_csv(columns: Iterable[str], rows: Iterable[Mapping[str, Any]], stream: TextIO) -> None:
    """A header line and one line per row (the named columns, in order; missing ones empty)."""
    cols = list(columns)
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(cols)
    for row in rows:
        writer.writerow([cell(row.get(c)) for c in cols])


def csv_text(columns: Iterable[str], rows: Iterable[Mapping[str, Any]]) -> str:
    buf = io.StringIO()
    write_csv(columns, rows, buf)
    return buf.getvalue()
