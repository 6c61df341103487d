"""Tables for the terminal: the commands' `--format table` output, drawn by rich.

A table fits the terminal without cutting what must be read whole: every column is kept whole
(no ellipsis, no wrap) unless the caller lets it wrap (`wrap`, e.g. a client's name).  When the
row is wider than the terminal, the caller's `optional` columns are dropped first, in order, then
the wrapping columns wrap; what is still too wide runs past the edge rather than being cut.
The width is the terminal's, else COLUMNS, else 250 (output to a pipe or a file).
"""
from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table

PAD = 2  # rich pads each cell with one space either side
NARROWEST = 10  # a wrapping column is never squeezed below this many characters


def terminal_width() -> int:
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else 250


def _cells(row: Mapping[str, Any], columns: Sequence[str]) -> list[str]:
    return ["" if row.get(c) is None else str(row.get(c)) for c in columns]


def _heading(col: str) -> str:
    return col.replace("_", " ")


def _natural(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Each column's width with nothing wrapped: its longest cell or its heading."""
    return {c: max([cell_len(_heading(c)), *(cell_len(v) for r in rows for v in _cells(r, [c]))]) for c in columns}


def fit_columns(columns: Sequence[str], rows: Sequence[Mapping[str, Any]], width: int,
                wrap: Iterable[str] = (), optional: Iterable[str] = ()) -> list[str]:
    """The columns shown at `width`: `optional` ones dropped, in order, while the whole columns
    plus the narrowest the wrapping ones may become do not fit."""
    wrap = frozenset(wrap)
    natural = _natural(columns, rows)

    def need(cols: list[str]) -> int:
        return sum((NARROWEST if c in wrap else natural[c]) + PAD for c in cols)

    def full(cols: list[str]) -> int:
        return sum(natural[c] + PAD for c in cols)

    shown = list(columns)
    for col in optional:
        if full(shown) <= width:
            break
        if col in shown and (need(shown) > width or not wrap):
            shown.remove(col)
    return shown


def print_table(columns: Sequence[str], rows: Sequence[Mapping[str, Any]], title: str | None = None,
                right: Iterable[str] = (), footer: Sequence[Mapping[str, Any]] | None = None,
                wrap: Iterable[str] = (), optional: Iterable[str] = ()) -> None:
    """Print rows (dicts keyed by column) to standard output; `right` columns are right-aligned,
    `footer` rows are set apart in bold.  A column's heading is its name with spaces for '_'.
    `wrap`: columns that may wrap onto several lines; `optional`: columns to leave out, first
    first, when the table is wider than the terminal.  No other column is ever cut."""
    width = terminal_width()
    wrap = frozenset(wrap)
    every = [*rows, *(footer or ())]
    shown = fit_columns(columns, every, width, wrap, optional)
    natural = _natural(shown, every)
    least = sum((min(NARROWEST, natural[c]) if c in wrap else natural[c]) + PAD for c in shown)
    if least > width:  # even the columns that must stay whole do not fit side by side
        _print_records(columns, rows, footer or (), title, width)  # every column: records have room
        return
    console = Console(width=width, highlight=False, soft_wrap=False)
    table = Table(title=title, header_style="bold", show_lines=False, box=None)
    right = tuple(right)
    for col in shown:
        whole = col not in wrap
        table.add_column(_heading(col), justify="right" if col in right else "left", no_wrap=whole,
                         overflow="fold", min_width=natural[col] if whole else None)
    for row in rows:
        table.add_row(*_cells(row, shown))
    if footer:
        table.add_section()
        for row in footer:
            table.add_row(*_cells(row, shown), style="bold")
    console.print(table)


def _print_records(columns: Sequence[str], rows: Sequence[Mapping[str, Any]],
                   footer: Sequence[Mapping[str, Any]], title: str | None, width: int) -> None:
    """Each row as a record: its first cell on a line of its own, then `heading value` pairs,
    wrapped between pairs (a pair is never split), indented by two spaces."""
    console = Console(width=max(width, 20), highlight=False, soft_wrap=True)
    if title:
        console.print(title, style="bold")
    for row, bold in [*((r, False) for r in rows), *((r, True) for r in footer)]:
        first, *rest = _cells(row, columns)
        pairs = [f"{_heading(c)} {v}" for c, v in zip(columns[1:], rest) if v]
        lines, line = [], ""
        for pair in pairs:
            if line and cell_len(line) + 2 + cell_len(pair) > width:
                lines.append(line)
                line = ""
            line = f"{line}  {pair}" if line else f"  {pair}"
        lines.append(line)
        console.print("\n".join([first, *lines]), style="bold" if bold else None, markup=False)
