"""The invoices of earlier compute_books runs, kept for the next one (watch mode).

The engine (engine/invoices.py) asks an InvoiceMemo whether an invoice can be used again and
tells it what each computed invoice read; the memo here holds the documents and decides.
"""
from __future__ import annotations

from dataclasses import dataclass

from textbill.core import model as m
from textbill.engine.invoices import InvoiceInputs, InvoiceOutcome, Reads, SharedState


@dataclass(frozen=True)
class _Remembered:
    """One invoice as computed, with everything it read that is not part of the invoice itself."""

    objects: tuple  # (invoice, client, *SOWs), kept alive so that their ids stay theirs
    ids: tuple  # their ids: the same objects, not merely equal ones (a moved entry has a new span)
    values: tuple  # (the previous period end of the client, the currency)
    slices: tuple  # (index table, SOW ref, period, the entries found, their ids): what between() gave
    probes: tuple  # (item key, owner before): every billable item it tried to take
    outcome: InvoiceOutcome


class BooksMemo:
    """Invoices computed by earlier runs of compute_books in this process (watch mode).

    An invoice's document depends on: its directive, the end of its client's previous invoice
    period, its client, its currency, its SOWs, the entries of its SOWs inside its period, which of
    the items it may bill earlier invoices took, and -- for every invoice alike -- the company
    (currency, numbering) and the fx rates.  Ledger nodes are compared by identity (the parse
    cache hands back the very same nodes for a file that did not change, cache.remember), values
    by equality; when all of them are what they were, recall() gives the document computed then,
    and the engine does again what computing it did to the shared state (items claimed, latest
    periods, diagnostics).  A changed company or fx rate forgets everything.
    tests/test_incremental_engine.py checks that books computed with a memo equal books computed
    without, over edits of every kind.
    """

    def __init__(self) -> None:
        self.invoices: dict[str, _Remembered] = {}
        self.seen: dict[str, _Remembered] = {}
        self.context: tuple = ()
        self.hits = self.misses = 0

    def begin(self, ledger: m.Ledger) -> None:
        context = (ledger.company, *ledger.fxs)
        if len(context) != len(self.context) or any(a is not b for a, b in zip(context, self.context)):
            self.invoices = {}
        self.context = context
        self.seen = {}
        self.hits = self.misses = 0

    def end(self) -> None:
        self.invoices, self.seen = self.seen, {}

    def recall(self, inputs: InvoiceInputs, state: SharedState) -> tuple[InvoiceOutcome, list] | None:
        """The outcome of the invoice's earlier run and the items it claims again, when its inputs
        are the very same and what it read of the shared state is as it was; else None."""
        entry = self.invoices.get(inputs.number)
        if entry is not None and entry.ids == tuple(map(id, inputs.objects)) and entry.values == inputs.values:
            claims = _still(entry, inputs.number, state)
            if claims is not None:
                self.hits += 1
                self.seen[inputs.number] = entry
                return entry.outcome, claims
        self.misses += 1
        return None

    def keep(self, inputs: InvoiceInputs, reads: Reads, outcome: InvoiceOutcome) -> None:
        self.remember(inputs, reads.slices, reads.probes, outcome)

    def remember(self, inputs: InvoiceInputs, slices, probes, outcome: InvoiceOutcome) -> None:
        """Keep an invoice's outcome for the next run, with what it read: slices (index table,
        SOW ref, period, the entries found) and probes (item key, its owner before)."""
        kept = tuple((table, ref, period, tuple(found), tuple(map(id, found))) for table, ref, period, found in slices)
        self.seen[inputs.number] = _Remembered(inputs.objects, tuple(map(id, inputs.objects)), inputs.values,
                                               kept, tuple(probes), outcome)


def _still(entry: _Remembered, number: str, state: SharedState) -> list | None:
    """The items the invoice claims again when the entries it took and the items earlier
    invoices took are as they were (its own inputs are the same: see BooksMemo.recall)."""
    for table, ref, period, _, ids in entry.slices:
        if tuple(map(id, state.entries_between(table, ref, period))) != ids:
            return None
    claimed: dict = {}
    billed = state.billed
    for key, before in entry.probes:
        owner = claimed[key] if claimed and key in claimed else billed.get(key)
        if owner != before:
            return None
        if owner is None:
            claimed[key] = number
    return list(claimed)
