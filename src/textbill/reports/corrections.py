"""A credit note's correction, as accountants print it: the invoice's figures before it, the
correction itself, and the figures after it — per tax group and in total.

Stage: reports.  Numbers only (render/html.py formats them).  "Before" is the invoice less the
credit notes issued on it earlier; "after" is before less this one.  Every figure adds or
subtracts amounts the engine already rounded, within one currency.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from textbill.core import model as m
from textbill.core.books import CreditDoc
from textbill.core.money import ZERO


@dataclass(frozen=True, slots=True)
class Figures:
    basis: Decimal
    tax: Decimal

    @property
    def gross(self) -> Decimal:
        return self.basis + self.tax


@dataclass(frozen=True, slots=True)
class CorrectionRow:
    tax: m.Tax | None  # None: the totals row
    before: Figures
    change: Figures  # negative: what the credit note takes off
    after: Figures


def correction(credit: CreditDoc, earlier: Iterable[CreditDoc] = ()) -> tuple[CorrectionRow, ...]:
    """One row per tax group of the corrected invoice, then the totals row; () when the invoice is
    unknown or the credit note has no split by tax.  `earlier`: credit notes issued on the same
    invoice before this one (others are ignored)."""
    doc = credit.invoice
    if doc is None or len(credit.groups) != len(doc.groups) or not doc.groups:
        return ()
    before = [[g.basis, g.tax_amount] for g in doc.groups]
    for other in earlier:
        if other.invoice is not None and other.invoice.number == doc.number and len(other.groups) == len(before):
            for figures, g in zip(before, other.groups):
                figures[0] -= g.basis
                figures[1] -= g.tax_amount
    rows = [CorrectionRow(g.tax, Figures(b, t), Figures(-cg.basis, -cg.tax_amount),
                          Figures(b - cg.basis, t - cg.tax_amount))
            for g, cg, (b, t) in zip(doc.groups, credit.groups, before)]
    total = CorrectionRow(None, _sum(r.before for r in rows), _sum(r.change for r in rows),
                          _sum(r.after for r in rows))
    return (*rows, total)


def _sum(figures: Iterable[Figures]) -> Figures:
    basis, tax = ZERO, ZERO
    for f in figures:
        basis += f.basis
        tax += f.tax
    return Figures(basis, tax)
