"""Issuing drafted invoices: append them to the ledger and lock them, as one transaction.  [I/O]

The caller holds the issue lock (`state_dir(root) / "issue"`) around the draft and this append,
so two concurrent runs never give out one number twice.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from textbill.checks.locks import write_lock
from textbill.core.diagnostics import has_errors
from textbill.engine.schedule import Proposal, format_invoice
from textbill.loading.writer import append_text
from textbill.pipeline import Analysis, analyze
from textbill.syntax.parser import parse_text


class IssueError(Exception):
    """The invoices cannot be written as they are (a bug of the printer)."""


def invoice_text(target: Path, proposals: Sequence[Proposal]) -> str:
    """The text appended to `target` for the proposals, checked to read back as the same invoices."""
    text = "\n".join(format_invoice(p.invoice) for p in proposals)
    if target.exists() and target.stat().st_size:
        text = "\n" + text  # a blank line between the file's last directive and the new ones
    nodes, diags, _ = parse_text(text, str(target))
    if diags or list(nodes) != [p.invoice for p in proposals]:  # pragma: no cover - a printer bug
        raise IssueError("internal: the invoice text does not read back the same; nothing written")
    return text


def append_and_lock(path: Path, root: Path, target: Path, text: str, numbers: set[str]) -> Analysis:
    """Append the invoices' text and lock them; the ledger's analysis after the append.

    A ledger with errors after the append (analysis.ok false) is left unlocked, for the user to fix.
    """
    append_text(target, text)
    after = analyze(path)
    if not has_errors(after.diagnostics):
        write_lock(root, after.ledger, after.books, numbers)
    return after
