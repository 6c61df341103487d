"""JSON shapes of the command line (docs/commands.md): amounts as strings, snake_case keys."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import orjson

from textbill.core.books import Due, InvoiceDoc, InvoiceState, Line, Statement, TaxGroup
from textbill.core.money import fmt
from textbill.reports.explain import CreditChange, line_story

INVOICE_COLUMNS = ("number", "client", "date", "due", "currency", "net", "tax", "total", "paid",
                   "credited", "outstanding", "status")
OVERDUE_COLUMNS = ("invoice", "client", "currency", "due", "outstanding", "days_overdue", "bucket",
                   "installment", "late_interest", "status")


def invoice_row(state: InvoiceState) -> dict:
    doc = state.doc
    c = doc.currency
    return {
        "number": doc.number,
        "client": doc.invoice.client,
        "date": doc.date.isoformat(),
        "due": doc.due.isoformat(),
        "currency": c,
        "net": fmt(doc.net, c),
        "tax": fmt(doc.tax, c),
        "total": fmt(doc.total, c),
        "paid": fmt(state.paid, c),
        "outstanding": fmt(state.outstanding, c),
        "status": state.status,
        "credited": fmt(state.credited, c),
        "written_off": fmt(state.written_off, c),
    }


def overdue_row(d: Due, with_interest: bool) -> dict:
    c = d.state.currency
    row = {
        "invoice": d.number,
        "client": d.state.client,
        "currency": c,
        "due": d.due.isoformat(),
        "outstanding": fmt(d.outstanding, c),
        "days_overdue": d.days_overdue,
        "bucket": d.bucket,
    }
    if d.installment is not None:
        row["installment"] = d.installment
    if with_interest and d.late_interest is not None:
        row["late_interest"] = fmt(d.late_interest, c)
    row["status"] = d.state.status
    return row


def statement_doc(st: Statement) -> dict:
    c = st.currency
    return {
        "client": st.client.id,
        "client_name": st.client.name,
        "currency": c,
        "from": st.start.isoformat() if st.start else None,
        "to": st.end.isoformat(),
        "opening_balance": fmt(st.opening, c),
        "closing_balance": fmt(st.closing, c),
        "entries": [
            {
                "date": ln.event.date.isoformat(),
                "kind": ln.event.kind,
                "ref": ln.event.ref,
                "amount": fmt(ln.event.amount, c),
                "balance": fmt(ln.balance, c),
                "detail": ln.event.detail,
            }
            for ln in st.lines
        ],
        "aging": {b: fmt(v, c) for b, v in st.aging.items()},
        "credit": fmt(st.credit, c),
    }


def line_doc(ln: Line, currency: str) -> dict:
    doc = _line_doc(ln, currency)
    if ln.detail.get("person"):  # a time line `by` a person
        doc["person"] = ln.detail["person"]
        doc["person_name"] = ln.detail["person_name"]
    return doc


def _line_doc(ln: Line, currency: str) -> dict:
    return {
        "kind": ln.kind,
        "date": ln.date.isoformat() if ln.date else None,
        "description": ln.description,
        "sow": ln.sow,
        "quantity": _num(ln.quantity),
        "unit": ln.unit,
        "unit_price": _num(ln.unit_price),
        "amount": fmt(ln.amount, currency),
        "tax": ln.tax.label,
        "tags": list(ln.tags),
    }


def group_doc(g: TaxGroup, currency: str) -> dict:
    return {
        "tax": g.tax.label,
        "kind": g.tax.kind,
        "name": g.tax.name,
        "rate": _num(g.tax.percent),
        "reason": g.tax.reason,
        "net": fmt(g.net, currency),
        "allowances": fmt(g.allowances, currency),
        "charges": fmt(g.charges, currency),
        "basis": fmt(g.basis, currency),
        "tax_amount": fmt(g.tax_amount, currency),
    }


def invoice_doc(doc: InvoiceDoc, state: InvoiceState | None = None) -> dict:
    c = doc.currency
    out = {
        "number": doc.number,
        "client": doc.invoice.client,
        "date": doc.date.isoformat(),
        "due": doc.due.isoformat(),
        "currency": c,
        "period": {"start": _day(doc.period.start), "end": doc.period.end.isoformat()},
        "sows": list(doc.sows),
        "lines": [line_doc(ln, c) for ln in doc.lines],
        "tax_groups": [group_doc(g, c) for g in doc.groups],
        "net": fmt(doc.net, c),
        "tax": fmt(doc.tax, c),
        "total": fmt(doc.total, c),
    }
    if doc.company_tax is not None:
        ct = doc.company_tax
        out["company_currency_tax"] = {
            "currency": ct.currency,
            "rate": _num(ct.rate),
            "rate_date": _day(ct.rate_date),
            "tax": fmt(ct.amount, ct.currency),
        }
    if state is not None:
        out.update(paid=fmt(state.paid, c), credited=fmt(state.credited, c),
                   written_off=fmt(state.written_off, c), outstanding=fmt(state.outstanding, c),
                   status=state.status)
    return out


def _num(v: Decimal) -> str:
    s = format(v.normalize(), "f") if v == v.to_integral_value() else format(v, "f")
    return s


def _day(d: date | None) -> str | None:
    if d is None or d == date.min:
        return None
    return d.isoformat()


# orjson writes exactly what json.dumps(obj, indent=2, ensure_ascii=False) writes for the plain
# data these shapes are (str, int, bool, None, lists, dicts), ten times faster: a large ledger's
# model.json is tens of MB.  Dates and dataclasses are passed through to the missing default, i.e.
# refused as json refuses them, and take the standard path.  (Floats would differ in exponents,
# 1e-7 against 1e-07; the shapes have none: amounts are strings, days and counts integers.)
_ORJSON_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def dumps(obj) -> str:
    """Indented JSON, as json.dumps(obj, indent=2, ensure_ascii=False)."""
    try:
        return orjson.dumps(obj, option=_ORJSON_OPTIONS).decode("utf-8")
    except TypeError:  # orjson.JSONEncodeError is one: a type or value orjson does not write
        return json.dumps(obj, indent=2, ensure_ascii=False)


def explain_json(doc: InvoiceDoc) -> dict:
    """`textbill explain --format json`: the invoice's JSON with each line's sources and story
    (reports.explain) and each tax group's adjustments."""
    out = invoice_doc(doc)
    for ln_json, ln in zip(out["lines"], doc.lines):
        ln_json["sources"] = [s.short for s in ln.sources if getattr(s, "line", 0)]
        ln_json["explanation"] = line_story(ln, doc.currency)[1:]
    for g_json, g in zip(out["tax_groups"], doc.groups):
        g_json["adjustments"] = [{"kind": p.kind, "label": p.label, "amount": fmt(p.amount, doc.currency),
                                  "how": p.how} for p in g.parts]
    return out


def explain_credit_json(change: CreditChange) -> dict:
    """`textbill explain CREDIT-NOTE --format json`: the credit note, each tax group it credits with
    the invoice's basis and tax before and after it, and the invoice's net, tax and total likewise."""
    credit = change.credit
    c = credit.currency
    inv = credit.invoice
    out = {
        "kind": "credit-note",
        "number": credit.number,
        "date": credit.date.isoformat(),
        "invoice": credit.note.invoice,
        "client": inv.invoice.client if inv is not None else None,
        "currency": c,
        "amount": fmt(credit.amount, c),
        "full": credit.note.amount is None,
        "reason": credit.note.reason,
        "source": credit.note.span.short,
        "earlier_credit_notes": [{"number": e.number, "amount": fmt(e.amount, c)} for e in change.earlier],
        "tax_groups": [{
            "tax": g.tax.label, "kind": g.tax.kind, "rate": _num(g.tax.percent),
            "basis_before": fmt(g.basis_before, c), "tax_before": fmt(g.tax_before, c),
            "basis_credited": fmt(g.basis_credited, c), "tax_credited": fmt(g.tax_credited, c),
            "basis_after": fmt(g.basis_after, c), "tax_after": fmt(g.tax_after, c),
        } for g in change.groups],
        "invoice_before": {"net": fmt(change.net_before, c), "tax": fmt(change.tax_before, c),
                           "total": fmt(change.total_before, c)},
        "invoice_after": {"net": fmt(change.net_after, c), "tax": fmt(change.tax_after, c),
                          "total": fmt(change.total_after, c)},
    }
    if credit.company_tax is not None:
        ct = credit.company_tax
        out["company_currency_tax"] = {"currency": ct.currency, "rate": _num(ct.rate),
                                       "rate_date": _day(ct.rate_date), "tax": fmt(ct.amount, ct.currency)}
    return out
