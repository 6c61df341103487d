"""What the command modules share: the ledger options, loading, diagnostics and CSV output.

The command line's front end; commands import this module, never each other.  Tables are drawn by
textbill.render.table and JSON by textbill.render.json, imported only by the commands that print them
(rich and the books' types take a while to import; `textbill check` needs neither).
"""
from __future__ import annotations

import functools
import importlib
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from textbill.core.diagnostics import (
    Diagnostic,
    closest,
    format_text,
    has_errors,
    summary,
)
from textbill.core.money import fmt_grouped
from textbill.core.source import Sources
from textbill.loading.loader import LedgerNotFound, resolve_ledger
from textbill.render.csv import write_csv
from textbill.render.diagnostics_formats import (
    format_codeclimate,
    format_sarif,
    github_commands,
)
from textbill.version import __version__

if TYPE_CHECKING:  # the compiler is imported when a command first analyzes (analyze_ledger)
    from textbill.pipeline import Analysis

FORMATS = ("table", "json", "csv")
# diagnostics for CI, besides text (and check's json): see docs/ci.md
CI_FORMATS = ("github", "sarif", "codeclimate")


@dataclass(frozen=True)
class Ctx:
    """What every command shares: the ledger named by -f/--ledger, and --no-cache."""

    ledger_arg: str | None
    no_cache: bool = False

    def ledger_path(self, positional: str | None = None) -> Path:
        try:
            return resolve_ledger(positional or self.ledger_arg)
        except LedgerNotFound as exc:
            raise click.UsageError(str(exc))

    def root(self) -> tuple[Path, Path]:
        """(the ledger path as given, the ledger root folder)."""
        path = self.ledger_path()
        return path, (path if path.is_dir() else path.parent)


def ledger_options(func: Callable) -> Callable:
    """-f/--ledger (also TEXTBILL_LEDGER) and --no-cache, on every command."""

    @click.option("-f", "--ledger", "ledger", metavar="PATH", envvar="TEXTBILL_LEDGER",
                  help="Ledger folder or .bill file (default: nearest folder upward with textbill.yaml, "
                       "else the current folder). Also TEXTBILL_LEDGER.")
    @click.option("--no-cache", is_flag=True, help="Parse every file again; do not read or write the parse cache.")
    @functools.wraps(func)
    def wrapper(*args, ledger=None, no_cache=False, **kwargs):
        return func(Ctx(ledger, no_cache), *args, **kwargs)

    return wrapper


def parse_day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date (write YYYY-MM-DD)", param_hint=name)


def as_of_option(func: Callable) -> Callable:
    return click.option("--as-of", "as_of", metavar="YYYY-MM-DD",
                        help="The day to look from (default: today).")(func)


def today(value: str | None) -> date:
    # the one place that reads the clock: the engine is always handed its day
    return parse_day(value, "--as-of") or date.today()


def unknown(what: str, name: str, known: Iterable[str], param_hint: str) -> click.BadParameter:
    """The error for a name that is not one of `known`, with the closest one as a suggestion."""
    guess = closest(name, known)
    return click.BadParameter(f"unknown {what} '{name}'" + (f" — did you mean '{guess}'?" if guess else ""),
                              param_hint=param_hint)


def stderr_is_tty() -> bool:
    return sys.stderr.isatty() and not os.environ.get("NO_COLOR")


def print_problems(diags: Iterable[Diagnostic], sources: Sources) -> None:
    for d in diags:
        click.echo(format_text(d, sources, color=stderr_is_tty()) + "\n", err=True)


def repository_root(ledger: Path) -> Path:
    """The root CI paths are relative to: the git work tree holding the ledger (the nearest folder
    upward with a `.git` folder or file), else the current folder."""
    start = Path(os.path.abspath(ledger))
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return Path(os.getcwd())


def ci_report(fmt: str, diags: Sequence[Diagnostic], ledger: Path) -> str:
    """The diagnostics as GitHub workflow commands, a SARIF log or a GitLab Code Quality report,
    with paths relative to the repository root (repository_root)."""
    root = repository_root(ledger)

    def where(name: str) -> str:
        path = os.path.abspath(name)  # a span's file is relative to the current folder, or absolute
        rel = os.path.relpath(path, root)
        return Path(path).as_posix() if rel.startswith("..") else Path(rel).as_posix()

    if fmt == "github":
        return github_commands(diags, where)
    if fmt == "sarif":
        base = root.as_uri()
        return format_sarif(diags, where, base if base.endswith("/") else base + "/", __version__)
    return format_codeclimate(diags, where)


def print_diagnostics(analysis: Analysis, quiet_warnings: bool = False) -> None:
    diags = analysis.diagnostics
    if quiet_warnings:
        errors = [d for d in diags if d.is_error]
        print_problems(errors, analysis.sources)
        warnings = len(diags) - len(errors)
        if errors:
            click.echo(f"textbill: {summary(diags)}; nothing was produced", err=True)
        elif warnings:
            click.echo(f"textbill: {warnings} warning{'s' if warnings != 1 else ''} "
                       f"(see 'textbill check')", err=True)
        return
    print_problems(diags, analysis.sources)


def analyze_ledger(ctx: Ctx, positional: str | None = None, looked_up: bool = False,
                   lines: bool = False) -> Analysis:
    """The analysis of the ledger the options name (the parse and check caches unless --no-cache).

    looked_up: the command asked the check cache already (incremental.checked) and missed, so
    the pipeline does not read and hash every file once more to ask it again.  lines: as
    pipeline.analyze's (every document will be rendered).
    textbill.analyze() is this very call, but the library API it lives in also imports the builder
    (renderers, Jinja, Babel: 0.3 s) that check never uses; the pipeline is imported on first use,
    as the package imports the library API."""
    pipeline = importlib.import_module("textbill.pipeline")
    return pipeline.analyze(ctx.ledger_path(positional), cache=not ctx.no_cache, _check_cache=not looked_up,
                            lines=lines, one_shot=True)  # a command: its process ends after it


def load_clean(ctx: Ctx, positional: str | None = None, lines: bool = False) -> Analysis:
    """Analyze the ledger; on errors, print them and exit 1 (commands need a valid ledger).
    lines: as analyze_ledger's."""
    analysis = analyze_ledger(ctx, positional, lines=lines)
    print_diagnostics(analysis, quiet_warnings=True)
    if has_errors(analysis.diagnostics):
        sys.exit(1)
    return analysis


def emit_csv(columns: Sequence[str], rows: Iterable[Mapping[str, Any]], stream=None) -> None:
    """CSV to stream (standard output), formula-like text cells made inert (render/csv.py)."""
    write_csv(columns, rows, stream or sys.stdout)


def grouped(rows: Iterable[Mapping[str, Any]], amount_cols: Iterable[str]) -> list[dict[str, Any]]:
    """Rows for a terminal table: amounts with thousands separators."""
    cols = tuple(amount_cols)
    return [{**row, **{c: fmt_grouped(Decimal(str(row[c])), row["currency"]) for c in cols
                       if row.get(c) not in (None, "")}} for row in rows]
