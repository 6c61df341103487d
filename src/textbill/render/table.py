"""Tables for the terminal: the commands' `--format table` output, drawn by rich."""
from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table


def _cells(row: Mapping[str, Any], columns: Sequence[str]) -> list[str]:
    return ["" if row.get(c) is None else str(row.get(c)) for c in columns]


def print_table(columns: Sequence[str], rows: Sequence[Mapping[str, Any]], title: str | None = None,
                right: Iterable[str] = (), footer: Sequence[Mapping[str, Any]] | None = None) -> None:
    """Print rows (dicts keyed by column) to standard output; `right` columns are right-aligned,
    `footer` rows are set apart in bold.  A column's heading is its name with spaces for '_'."""
    console = Console(width=None if sys.stdout.isatty() else 250, highlight=False, soft_wrap=False)
    table = Table(title=title, header_style="bold", show_lines=False, box=None)
    right = tuple(right)
    for col in columns:
        table.add_column(col.replace("_", " "), justify="right" if col in right else "left", no_wrap=True)
    for row in rows:
        table.add_row(*_cells(row, columns))
    if footer:
        table.add_section()
        for row in footer:
            table.add_row(*_cells(row, columns), style="bold")
    console.print(table)
