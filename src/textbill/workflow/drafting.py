"""Drafting: the invoices the schedules call for, and the problems they would bring.

The engine (engine/schedule.py) proposes the invoices and computes them on the
ledger with them added; here they are validated with the ledger checks and the
receivables replay, for `textbill draft` and `textbill issue`.  A problem the
ledger already had is not the drafts' fault, so only new errors are reported.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date

from textbill.checks.ledger import run_checks
from textbill.core import model as m
from textbill.core.books import Books
from textbill.core.diagnostics import Diagnostic
from textbill.engine.receivables import check_receivables
from textbill.engine.schedule import Draft, propose_invoices


def draft_invoices(ledger: m.Ledger, books: Books, as_of: date) -> Draft:
    """The invoices the schedules call for as of a day, with every new problem they would cause."""
    proposed = propose_invoices(ledger, books, as_of)
    found = new_problems(ledger, books, proposed.ledger, proposed.books)
    return replace(proposed, diagnostics=(*proposed.diagnostics, *found))


def new_problems(ledger: m.Ledger, books: Books, hyp: m.Ledger, hyp_books: Books) -> list[Diagnostic]:
    """Errors the changed ledger has that the original did not (by code and message)."""
    before = {(d.code, d.message) for d in _errors(ledger, books)}
    return [d for d in _errors(hyp, hyp_books) if (d.code, d.message) not in before]


def _errors(ledger: m.Ledger, books: Books) -> list[Diagnostic]:
    found = [*run_checks(ledger), *books.diagnostics, *check_receivables(ledger, books)]
    return [d for d in found if d.is_error]
