"""The library API: load, analyze and build a ledger, and the reports the commands print.

Every name here is also on the package: `import textbill; textbill.analyze(...)` (docs/api.md
shows it at work).
Every report returns plain data, the same rows and documents as the matching command's
`--format json`; a name the ledger does not have raises UnknownName.  build() raises BuildError
(importable from here) for a ledger with errors.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from os import PathLike
from pathlib import Path
from typing import Any

from textbill.building.run import build as build_outputs
from textbill.building.spec import BuildError, BuildReport
from textbill.core.diagnostics import closest
from textbill.engine.aging import overdue as overdue_items
from textbill.engine.statement import statement as client_statement
from textbill.loading.loader import Loaded
from textbill.loading.loader import load as load_ledger
from textbill.pipeline import Analysis
from textbill.pipeline import analyze as analyze_ledger
from textbill.render.json import (
    explain_credit_json,
    explain_json,
    invoice_row,
    overdue_row,
    statement_doc,
)
from textbill.reports.explain import credit_change

__all__ = ("BuildError", "BuildReport", "UnknownName", "analyze", "build", "explain", "invoices", "load",
           "overdue", "statement")

STATUSES = frozenset({"open", "overdue", "paid", "credited", "written-off", "collections"})


class UnknownName(LookupError):
    """A client, invoice or status the ledger does not have; `guess` is the closest one it has."""

    def __init__(self, what: str, name: str, known: Iterable[str]):
        self.what, self.name, self.guess = what, name, closest(name, known)
        super().__init__(f"unknown {what} '{name}'" + (f" — did you mean '{self.guess}'?" if self.guess else ""))


def load(path: str | PathLike[str]) -> Loaded:
    """Read a ledger folder (or one .bill file) into the typed model, unchecked.

    >>> loaded = api.load("example-ledger")
    >>> sorted(loaded.ledger.clients), loaded.diagnostics
    (['bauer', 'globex', 'kowalski'], [])
    """
    return load_ledger(Path(path))


def analyze(path: str | PathLike[str], *, cache: bool = True) -> Analysis:
    """Load, check and compute a ledger: every diagnostic, and the computed documents.

    cache=False parses every file again and reads or writes no cache (`--no-cache`).

    >>> analysis = api.analyze("example-ledger")
    >>> analysis.ok, sorted(analysis.books.invoices)[:2]
    (True, ['FV/2026/0001', 'FV/2026/0002'])
    """
    return analyze_ledger(Path(path), cache=cache)


def build(path_or_analysis: str | PathLike[str] | Analysis, out_dir: str | PathLike[str], as_of: date, *,
          formats: Iterable[str] | None = None, jobs: int | None = None, force: bool = False,
          progress: Callable[[int, int, str], None] | None = None) -> BuildReport:
    """Write the ledger's documents into out_dir as `textbill build` does (only what changed).

    formats: some of html, pdf, json, csv, facturx, ubl (default: textbill.yaml's, else html and
    pdf).  force: render every document again.  progress(done, total, key) is called as documents
    finish.  Raises BuildError for a ledger with errors or an unknown format.

    >>> report = api.build("example-ledger", "/tmp/out", date(2026, 3, 31), formats=["json"])
    >>> report.ok, report.documents
    (True, 13)
    """
    analysis = path_or_analysis if isinstance(path_or_analysis, Analysis) else analyze(path_or_analysis)
    return build_outputs(analysis, Path(out_dir), as_of, formats=formats, jobs=jobs, force=force,
                         progress=progress)


def invoices(analysis: Analysis, as_of: date, *, client: str | None = None,
             statuses: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Every invoice as of a day, in issue order: the rows of `textbill invoices --format json`.

    client and statuses narrow the list (UnknownName for a client or status that does not exist).

    >>> [(r["number"], r["outstanding"]) for r in api.invoices(analysis, date(2026, 3, 31), client="bauer")]
    [('FV/2026/0003', '114.50'), ('FV/2026/0008', '13968.00')]
    """
    if client and client not in analysis.ledger.clients:
        raise UnknownName("client", client, analysis.ledger.clients)
    wanted = frozenset(statuses or ())
    for status in sorted(wanted - STATUSES):
        raise UnknownName("status", status, STATUSES)
    rec = analysis.receivables(as_of)
    return [invoice_row(state) for state in rec.invoices.values()
            if (not client or state.client == client) and (not wanted or state.status in wanted)]


def overdue(analysis: Analysis, as_of: date, *, client: str | None = None) -> list[dict[str, Any]]:
    """Open invoices (or installments) past due as of a day: `textbill report overdue --format json`.

    >>> [(r["invoice"], r["days_overdue"], r["bucket"]) for r in api.overdue(analysis, date(2026, 3, 31))]
    [('FV/2026/0003', 16, '1-30'), ('FV/2026/0004', 1, '1-30')]
    """
    ledger = analysis.ledger
    rec = analysis.receivables(as_of)
    with_interest = bool(ledger.company and ledger.company.late_interest is not None)
    return [overdue_row(d, with_interest) for d in overdue_items(rec, ledger.company)
            if not client or d.state.client == client]


def statement(analysis: Analysis, client: str, as_of: date, start: date | None = None) -> dict[str, Any]:
    """A client's statement from `start` (default: the beginning) to as_of: opening balance,
    entries with running balance, closing balance, aging (`textbill statement --format json`).

    >>> api.statement(analysis, "globex", date(2026, 3, 31))["closing_balance"]
    '6167.00'
    """
    if client not in analysis.ledger.clients:
        raise UnknownName("client", client, analysis.ledger.clients)
    rec = analysis.receivables(as_of)
    return statement_doc(client_statement(analysis.ledger, rec, client, start))


def explain(analysis: Analysis, number: str) -> dict[str, Any]:
    """How every figure of one invoice came about (`textbill explain NUMBER --format json`); for a
    credit note's number, what it corrects and the invoice before and after it.

    >>> api.explain(analysis, "FV/2026/0001")["total"]
    '4707.00'
    """
    doc = analysis.books.invoices.get(number)
    if doc is not None:
        return explain_json(doc)
    credit = analysis.books.credits.get(number)  # a credit note: what it corrects, before and after
    if credit is None:
        raise UnknownName("invoice", number, analysis.books.invoices)
    return explain_credit_json(credit_change(credit, analysis.books.credits))
