"""Issuing drafted invoices: append them to the ledger and lock them, as one transaction.  [I/O]

The caller holds the issue lock (`state_dir(root) / "issue"`) around the draft and this append,
so two concurrent runs never give out one number twice.

The append and the lock are two writes, so the numbers to lock are recorded first
(`.textbill/issue-pending.json`) and forgotten only after the lock is written.  A run killed
between the two leaves the record; the next `issue` locks those of its invoices that the
ledger holds (recover), so an issued invoice is never left unlocked by a crash.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from textbill.checks.locks import write_lock
from textbill.core.diagnostics import has_errors
from textbill.engine.schedule import Proposal, format_invoice
from textbill.loading.writer import append_text, write_atomic
from textbill.pipeline import Analysis, analyze
from textbill.syntax.parser import parse_text
from textbill.workflow.timers import STATE_DIR, state_dir

PENDING = "issue-pending.json"


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
    pending = state_dir(root) / PENDING
    write_atomic(pending, (json.dumps({"version": 1, "lock": sorted(numbers)}) + "\n").encode("utf-8"))
    append_text(target, text)
    after = analyze(path)
    if not has_errors(after.diagnostics):
        write_lock(root, after.ledger, after.books, numbers)
    pending.unlink(missing_ok=True)
    return after


def recover(root: Path, analysis: Analysis) -> list[str]:
    """Lock the invoices of an `issue` that stopped between its append and its lock; returns their
    numbers.  analysis: the ledger as it is now, without errors (the caller checked)."""
    pending = Path(root) / STATE_DIR / PENDING
    try:
        data = json.loads(pending.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError):
        data = None
    numbers = data.get("lock") if isinstance(data, dict) else None
    locked = []
    if isinstance(numbers, list) and all(isinstance(n, str) for n in numbers):
        # only invoices the ledger holds: a run killed before its append left nothing to lock
        present = set(numbers) & {inv.number for inv in analysis.ledger.invoices}
        if present:
            locked = [e.number for e in write_lock(root, analysis.ledger, analysis.books, present)]
    pending.unlink(missing_ok=True)
    return locked
