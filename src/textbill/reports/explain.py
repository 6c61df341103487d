"""`textbill explain`: how every figure of one invoice came about, in words."""
from __future__ import annotations

from decimal import Decimal

from textbill.core.books import InvoiceDoc, Line
from textbill.core.money import fmt


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
