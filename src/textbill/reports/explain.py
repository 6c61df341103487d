"""`textbill explain`: how every figure of one invoice, or one credit note, came about, in words."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from textbill.core import model as m
from textbill.core.books import CreditDoc, InvoiceDoc, Line
from textbill.core.money import ZERO, fmt


def _hours(minutes: Decimal) -> str:
    return f"{(minutes / 60).quantize(Decimal('0.01'))}h"


def _min(v: Decimal) -> str:
    return f"{v.normalize():f}min"


def _num(v) -> str:
    if v is None:
        return ""
    return f"{Decimal(v).normalize():f}"


def line_story(ln: Line, currency: str) -> list[str]:
    d = ln.detail
    src = ", ".join(s.short for s in ln.sources if getattr(s, "line", 0))
    out = [f"{ln.date or ''!s:10}  {ln.kind:9} {ln.description}  = {fmt(ln.amount, currency)} {currency}"]
    if src:
        out.append(f"    from {src}")
    fx = d.get("fx")
    fx_text = ""
    if fx:
        rate, entry = fx
        fx_text = f" x fx {_num(rate)} ({d.get('currency')}->{currency}" + \
                  (f", rate of {entry.date} at {entry.span.short})" if entry is not None else ")")
    if ln.kind == "time":
        inc = d["increment"]
        rounding = (f"{_min(d['minutes'])} rounded up to the {_min(inc)} increment = {_min(d['billed_minutes'])}"
                    if d["billed_minutes"] != d["minutes"] else f"{_min(d['minutes'])} (no rounding needed)")
        out.append(f"    {rounding} ({_hours(d['billed_minutes'])})")
        out.append(f"    rate {_num(d['rate'])} {d['currency']}/h: "
                   + d.get("rate_reason", "no 'by': the company's own time at the SOW's default rate"))
        out.append(f"    {_min(d['billed_minutes'])} x {_num(d['rate'])} {d['currency']}/h / 60{fx_text} "
                   f"= {_num(d['exact'])} -> rounded once to {fmt(ln.amount, currency)}")
    elif ln.kind == "expense":
        markup = f" x (1 + {_num(d['markup'])}%)" if d.get("markup") else ""
        out.append(f"    {_num(d['amount'])} {d['currency']}{markup}{fx_text} = {_num(d['exact'])} "
                   f"-> rounded to {fmt(ln.amount, currency)}")
    elif ln.kind == "item":
        out.append(f"    {_num(d['quantity'])} x {_num(d['price'])} {d['currency']}{fx_text} = {_num(d['exact'])} "
                   f"-> rounded to {fmt(ln.amount, currency)}")
    elif ln.kind == "milestone":
        out.append(f"    share of the fee: {d['how']} = {_num(d['share'])} {d['currency']}{fx_text}")
    elif ln.kind == "retainer":
        out.append(f"    retainer {_num(d['retainer'])} {d['currency']} for {d['period']}{fx_text}")
    out.append(f"    tax: {ln.tax.label}")
    return out


def explain_invoice(doc: InvoiceDoc) -> str:
    c = doc.currency
    inv = doc.invoice
    start = "the beginning" if doc.period.start.year == 1 else str(doc.period.start)
    out = [
        f"Invoice {doc.number} to {doc.invoice.client}, dated {doc.date}, in {c}  ({inv.span.short})",
        f"  period {start} .. {doc.period.end}" + (" (explicit)" if inv.period else
                                                    " (from the client's previous invoice or the SOW start)"),
        f"  SOWs: {', '.join(doc.sows) or 'none'}",
        f"  due {doc.due}" + (" (explicit)" if inv.due else
                              f" (terms: {doc.client.terms if doc.client else 'net 30'})"),
        "",
        "Lines",
    ]
    for ln in doc.lines:
        out.extend("  " + s for s in line_story(ln, c))
    out.append("")
    out.append("Tax groups (tax is computed once per group, never per line)")
    for g in doc.groups:
        out.append(f"  {g.tax.label}:")
        out.append(f"    net          {fmt(g.net, c):>14}   sum of the group's line amounts")
        for p in g.parts:
            sign = "-" if p.kind == "discount" else "+"
            out.append(f"    {p.kind:<12} {sign}{fmt(p.amount, c):>13}   {p.label}: {p.how}")
        out.append(f"    basis        {fmt(g.basis, c):>14}   net - discounts + charges")
        rate = g.tax.percent if g.tax.kind == "rate" else Decimal(0)
        out.append(f"    tax          {fmt(g.tax_amount, c):>14}   round({fmt(g.basis, c)} x {_num(rate)}%)"
                   + (f"  [{g.tax.label}{': ' + g.tax.reason if g.tax.reason else ''}]"
                      if g.tax.kind in ("exempt", "reverse-charge") else ""))
    out.append("")
    out.append(f"  net (sum of bases)  {fmt(doc.net, c):>14} {c}")
    out.append(f"  tax (sum of taxes)  {fmt(doc.tax, c):>14} {c}")
    out.append(f"  total               {fmt(doc.total, c):>14} {c}")
    if doc.company_tax is not None:
        ct = doc.company_tax
        out.append(f"  tax in {ct.currency}: {fmt(ct.amount, ct.currency)} (rate {_num(ct.rate)}"
                   + (f" of {ct.rate_date})" if ct.rate_date else ")"))
    return "\n".join(out)


@dataclass(frozen=True)
class GroupChange:
    """One tax group of the corrected invoice: before this credit note, credited by it, after it."""

    tax: m.Tax
    basis_before: Decimal
    tax_before: Decimal
    basis_credited: Decimal
    tax_credited: Decimal

    @property
    def basis_after(self) -> Decimal:
        return self.basis_before - self.basis_credited

    @property
    def tax_after(self) -> Decimal:
        return self.tax_before - self.tax_credited


@dataclass(frozen=True)
class CreditChange:
    """What a credit note changes on the invoice it corrects: the invoice's net, tax and total
    before it (after any earlier credit notes on that invoice) and after it."""

    credit: CreditDoc
    earlier: tuple[CreditDoc, ...]
    groups: tuple[GroupChange, ...]
    total_before: Decimal

    @property
    def total_after(self) -> Decimal:
        return self.total_before - self.credit.amount

    @property
    def net_before(self) -> Decimal:
        return sum((g.basis_before for g in self.groups), ZERO)

    @property
    def net_after(self) -> Decimal:
        return sum((g.basis_after for g in self.groups), ZERO)

    @property
    def tax_before(self) -> Decimal:
        return sum((g.tax_before for g in self.groups), ZERO)

    @property
    def tax_after(self) -> Decimal:
        return sum((g.tax_after for g in self.groups), ZERO)


def credit_change(credit: CreditDoc, credits: Mapping[str, CreditDoc]) -> CreditChange:
    """credits: every credit note of the books, in the order they apply (books.credits)."""
    inv = credit.invoice
    earlier: list[CreditDoc] = []
    for other in credits.values():
        if other.number == credit.number:
            break
        if inv is not None and other.invoice is not None and other.invoice.number == inv.number:
            earlier.append(other)
    groups: list[GroupChange] = []
    if inv is not None:
        for i, g in enumerate(inv.groups):
            done = [c.groups[i] for c in earlier if i < len(c.groups)]
            basis = g.basis - sum((d.basis for d in done), ZERO)
            tax = g.tax_amount - sum((d.tax_amount for d in done), ZERO)
            this = credit.groups[i] if i < len(credit.groups) else None
            groups.append(GroupChange(g.tax, basis, tax, this.basis if this else ZERO,
                                      this.tax_amount if this else ZERO))
    total = (inv.total if inv is not None else ZERO) - sum((c.amount for c in earlier), ZERO)
    return CreditChange(credit, tuple(earlier), tuple(groups), total)


def explain_credit(change: CreditChange) -> str:
    credit = change.credit
    note, inv, c = credit.note, credit.invoice, credit.currency
    client = inv.invoice.client if inv is not None else "?"
    out = [f"Credit note {credit.number} to {client}, dated {credit.date}, in {c}  ({note.span.short})",
           f"  corrects invoice {note.invoice}" + (f" of {inv.date} (total {fmt(inv.total, c)} {c}, "
                                                    f"{inv.invoice.span.short})" if inv is not None else "")]
    if note.amount is None:
        out.append(f"  amount {fmt(credit.amount, c)} {c}: 'full', i.e. all that was left to correct")
    else:
        out.append(f"  amount {fmt(credit.amount, c)} {c} (gross, tax included)")
    if note.reason:
        out.append(f"  reason: {note.reason}")
    if change.earlier:
        out.append("  earlier credit notes on this invoice: " + ", ".join(
            f"{e.number} ({fmt(e.amount, c)} {c})" for e in change.earlier))
    out.append("")
    out.append("Tax groups credited (the gross amount split over the invoice's groups by their gross)")
    for g in change.groups:
        out.append(f"  {g.tax.label}:")
        out.append(f"    {'':12} {'before':>14} {'credited':>14} {'after':>14}")
        out.append(f"    {'basis':<12} {fmt(g.basis_before, c):>14} {fmt(-g.basis_credited, c):>14} "
                   f"{fmt(g.basis_after, c):>14}")
        out.append(f"    {'tax':<12} {fmt(g.tax_before, c):>14} {fmt(-g.tax_credited, c):>14} "
                   f"{fmt(g.tax_after, c):>14}")
    out.append("")
    out.append(f"Invoice {note.invoice}" + (" before and after this credit note" if inv is not None else ""))
    out.append(f"  {'':12} {'before':>14} {'credited':>14} {'after':>14}")
    for label, before, credited, after in (
            ("net", change.net_before, change.net_before - change.net_after, change.net_after),
            ("tax", change.tax_before, change.tax_before - change.tax_after, change.tax_after),
            ("total", change.total_before, credit.amount, change.total_after)):
        out.append(f"  {label:<12} {fmt(before, c):>14} {fmt(-credited, c):>14} {fmt(after, c):>14}  {c}")
    if credit.company_tax is not None:
        ct = credit.company_tax
        out.append(f"  tax credited in {ct.currency}: {fmt(ct.amount, ct.currency)} (the invoice's rate "
                   f"{_num(ct.rate)}" + (f" of {ct.rate_date})" if ct.rate_date else ")"))
    return "\n".join(out)
