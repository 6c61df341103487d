"""Rendering one job of a build: a document's html, pdf (Factur-X), ubl, json and csv outputs.  [I/O]

Everything a job needs is in its Context, handed to the worker with the job (a forked worker
inherits it; it is never pickled); pdf_of needs nothing but its arguments, so a worker of any
start method can run it.  Every file is written atomically (writer.write_atomic).
"""
from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textbill.building.spec import EINVOICES, SUFFIXES, Job
from textbill.core.einvoicing import paid_in_advance
from textbill.core.money import ZERO, fmt
from textbill.incremental.render_memo import process_memo
from textbill.loading.writer import write_atomic
from textbill.render import html as render_html
from textbill.render.agreement import render_agreement
from textbill.render.csv import csv_text
from textbill.render.einvoice import writers as einvoice
from textbill.render.json import dumps, group_doc, invoice_doc, line_doc
from textbill.render.pdf import html_to_pdf, warm_up
from textbill.reports.agreement import agreement_doc
from textbill.reports.overdue import overdue_totals

# (key, output -> files, warnings, error or None): what rendering a job gives back
Result = tuple[str, dict[str, list[str]], list[str], "str | None"]
# pdf(context, job, html, doc, warnings) -> bytes: how a job's PDF is made
PdfMaker = Callable[["Context", Job, str, object, list], bytes]


@dataclass(frozen=True)
class Context:
    """What every job of one build renders from."""

    analysis: object
    rec: object
    items: list
    theme: object
    formats: tuple[str, ...]
    out_dir: str
    statements: dict  # client id -> (Statement, its JSON dict), from the plan
    overdue_rows: list[dict]
    durable: bool = True
    memo: object = None  # the workspace's RenderMemo (templates, stylesheets, fonts)


def warm_up_pdf(need_pdf: bool, memo=None) -> None:
    """Import and prepare WeasyPrint before the PDFs (a forked worker then inherits it); a pool
    worker, handed no memo, prepares its own."""
    if need_pdf:
        warm_up(memo if memo is not None else process_memo())


def render_job(context: Context, job: Job) -> Result:
    """Render one document's outputs and write their files: (key, output -> files, warnings, error or None)."""
    try:
        files, warnings = _render(context, job)
        return job.key, files, warnings, None
    except Exception as exc:  # noqa: BLE001 - one broken document must not stop the others
        if os.environ.get("TEXTBILL_DEBUG"):
            traceback.print_exc()
        return job.key, {}, [], failure(exc)


def _render(context: Context, job: Job) -> tuple[dict[str, list[str]], list[str]]:
    """Make and write a job's outputs (the PDF here and now)."""
    outputs = job_outputs(context, job, pdf_here)
    return write_outputs(context, job, outputs), outputs.pop(None, [])


def write_outputs(context: Context, job: Job, outputs: dict) -> dict[str, list[str]]:
    """Write the files of job_outputs (but the warnings, under None): output -> files written."""
    out = Path(context.out_dir)
    files: dict[str, list[str]] = {name: [] for name in job.outputs}
    for name, made in outputs.items():
        if name is None:
            continue
        rel, content = made
        write_atomic(out / rel, content, durable=context.durable)
        files[name] = [rel]
    return files


def job_outputs(context: Context, job: Job, pdf: PdfMaker) -> dict:
    """output -> (relative path, bytes) for the job's outputs; None -> warnings."""
    analysis, rec, items, theme = context.analysis, context.rec, context.items, context.theme
    ledger = analysis.ledger
    wanted = set(job.outputs)
    warnings: list[str] = []
    outputs: dict = {None: warnings}
    doc = html = data = rows = columns = None
    paid = ZERO
    need_html = bool(wanted & {"html", "pdf"})
    if job.kind == "invoice":
        doc = analysis.books.invoices[job.ref]
        paid = paid_in_advance(rec, doc)
        if need_html:
            html = render_html.render_invoice(analysis, doc, theme=theme, memo=context.memo, paid=paid)
        data = invoice_doc(doc)
        rows = [_line_row(ln, doc.currency) for ln in doc.lines]
        columns = ("date", "kind", "description", "sow", "quantity", "unit", "unit_price", "amount", "tax",
                   "person", "person_name")  # section 12: invoice lines name the person
    elif job.kind == "credit-note":
        doc = analysis.books.credits[job.ref]
        if need_html:
            html = render_html.render_credit_note(analysis, doc, theme=theme, memo=context.memo)
        data = credit_json(doc)
        rows, columns = data["tax_groups"], ("tax", "rate", "basis", "tax_amount")
    elif job.kind == "statement":
        st, data = context.statements[job.ref]
        if need_html:
            html = render_html.render_statement(analysis, st, theme=theme, memo=context.memo)
        rows, columns = data["entries"], ("date", "kind", "ref", "amount", "balance", "detail")
    elif job.kind == "agreement":
        if need_html:
            html = render_agreement(analysis, job.ref, theme=theme, memo=context.memo)
        data = agreement_doc(ledger, job.ref)
        rows, columns = _agreement_rows(data), ("term", "name", "amount", "currency", "people")
    else:
        if need_html:
            html = render_html.render_overdue_report(analysis, rec, items, theme=theme,
                                                     totals=overdue_totals(items), memo=context.memo)
        rows = context.overdue_rows
        data = {"as_of": rec.as_of.isoformat(), "items": rows}
        columns = ("invoice", "installment", "client", "currency", "due", "outstanding", "days_overdue",
                   "bucket", "late_interest", "status")

    if "html" in wanted:
        outputs["html"] = (job.base + SUFFIXES["html"], html.encode("utf-8"))
    if "pdf" in wanted:
        outputs["pdf"] = (job.base + SUFFIXES["pdf"], pdf(context, job, html, doc, warnings))
    if "ubl" in wanted:
        xml = _einvoice(warnings, "ubl", lambda: einvoice.ubl_xml(ledger, doc, paid))
        if xml is not None:
            outputs["ubl"] = (job.base + SUFFIXES["ubl"], xml)
    if "ksef" in wanted:
        xml = _einvoice(warnings, "ksef", lambda: einvoice.ksef_xml(ledger, doc, paid))
        if xml is not None:
            outputs["ksef"] = (job.base + SUFFIXES["ksef"], xml)
    if "json" in wanted:
        outputs["json"] = (job.base + SUFFIXES["json"], (dumps(data) + "\n").encode("utf-8"))
    if "csv" in wanted:
        outputs["csv"] = (job.base + SUFFIXES["csv"], _csv(columns, rows))
    return outputs


def credit_json(credit) -> dict:
    c = credit.currency
    return {
        "number": credit.number,
        "date": credit.date.isoformat(),
        "invoice": credit.note.invoice,
        "client": credit.invoice.invoice.client if credit.invoice else None,
        "currency": c,
        "amount": fmt(credit.amount, c),
        "full": credit.note.amount is None,
        "reason": credit.note.reason,
        "tax_groups": [group_doc(g, c) for g in credit.groups],
    }


def facturx_xml(context: Context, job: Job, doc, warnings: list[str]) -> bytes | None:
    """The CII XML to embed when this PDF is a Factur-X one, else None."""
    if "facturx" not in context.formats or job.kind not in EINVOICES:
        return None
    paid = paid_in_advance(context.rec, doc) if job.kind == "invoice" else ZERO
    return _einvoice(warnings, "facturx", lambda: einvoice.cii_xml(context.analysis.ledger, doc, paid))


def pdf_here(context: Context, job: Job, html: str, doc, warnings: list[str]) -> bytes:
    xml = facturx_xml(context, job, doc, warnings)
    try:
        pdf, refused, problem = pdf_of(html, str(context.analysis.root), context.theme, xml, context.memo)
    except einvoice.EInvoiceError as exc:
        raise einvoice.EInvoiceError(f"{located(context, doc)}: {exc}") from exc
    pdf_warnings(job, refused, problem, warnings)
    return pdf


def located(context: Context, doc) -> str:
    """file:line of a document's ledger entry, relative to the ledger root."""
    return einvoice.where(doc, context.analysis.ledger)


def failure(exc: Exception) -> str:
    """What a failed job reports: a located e-invoice refusal as it is, anything else with its type."""
    return str(exc) if isinstance(exc, einvoice.EInvoiceError) else f"{type(exc).__name__}: {exc}"


def pdf_warnings(job: Job, refused: list[str], problem: str | None, warnings: list[str]) -> None:
    for url in dict.fromkeys(refused):
        warnings.append(f"{job.key}: not loaded (outside the ledger and theme): {url[:120]}")
    if problem and problem not in warnings:
        warnings.append(problem)


def pdf_of(html: str, base_url: str, theme, xml: bytes | None, memo=None) -> tuple[bytes, list[str], str | None]:
    """(PDF, refused URLs, a warning or None): the PDF of a rendered page, a Factur-X one with xml.
    Needs nothing but its arguments, so a worker of any start method can run it (a pool worker,
    handed no memo, uses its own).  factur-x refusing the XML is an EInvoiceError naming the document."""
    refused: list[str] = []
    memo = memo if memo is not None else process_memo()
    pdf = html_to_pdf(html, base_url=base_url, theme=theme, refused=refused, memo=memo)
    problem = None
    if xml is not None:
        try:
            pdf = einvoice.facturx_pdf(pdf, xml)
        except NotImplementedError:
            problem = "format 'facturx' is not available in this version of textbill; skipped"
        except Exception as exc:
            raise einvoice.EInvoiceError(f"{einvoice.cii_number(xml)}: the Factur-X PDF was not written, "
                                         f"factur-x refused its XML: {exc}") from exc
    return pdf, refused, problem


def _einvoice(warnings: list[str], fmt: str, make):
    try:
        return make()
    except NotImplementedError:
        message = f"format '{fmt}' is not available in this version of textbill; skipped"
        if message not in warnings:
            warnings.append(message)
        return None


def _line_row(ln, currency: str) -> dict:
    row = line_doc(ln, currency)
    row.pop("tags", None)
    return row


def _csv(columns, rows) -> bytes:
    return csv_text(columns, rows).encode("utf-8")


def _agreement_rows(data: dict) -> list[dict]:
    """An agreement's CSV: its price list, one row per priced term (the pricing, each role's rate, each
    milestone, the cap), so a spreadsheet holds what the client accepts."""
    cur = data["currency"]
    rows = []
    if (p := data["pricing"]) is not None:
        kind = p["kind"] if not p["frequency"] else f'{p["kind"]} {p["frequency"]}'
        rows.append({"term": kind, "name": "", "amount": data["fee"] or p["amount"], "currency": cur, "people": ""})
    rows += [{"term": "rate", "name": r["role"], "amount": r["rate"], "currency": r["currency"],
              "people": r["people"]} for r in data["rates"]]
    rows += [{"term": "milestone", "name": m["name"], "amount": m["amount"], "currency": cur, "people": ""}
             for m in data["milestones"]]
    if (cap := data["cap"]) is not None:
        rows.append({"term": "cap", "name": "hours" if "hours" in cap else "amount",
                     "amount": cap.get("hours", cap.get("amount")), "currency": "" if "hours" in cap else cap["currency"],
                     "people": ""})
    return rows
