"""`textbill build`: computed documents -> files in the output folder, incremental and parallel.  [I/O]

    no-op     nothing to do when every input of the last complete build is as it was (see below)
    plan      every document of the ledger, its output names (slugs) and a content hash
    skip      outputs whose hash is in the manifest and whose files are all there
    render    the others, HTML then PDF (and json, csv, Factur-X, UBL), in a process pool
    site      model.json and the dashboard files, written when their content changed
    prune     files that earlier builds wrote for documents that are gone, or that are out of date
    manifest  `.textbill-build.json`: per document and output (html, pdf, ubl, json, csv), its
              hash and the files written for it

A document's hash covers everything its files are made from: the document as
JSON, the parties and SOWs it names, the theme's files, the renderer's code and
the textbill version; each output adds its own kind (a Factur-X PDF is not a
plain one).  Nothing else decides whether it is rendered again.  A build that
makes only some formats (`--format html`, the watch preview) keeps the other
outputs of earlier builds that are still up to date, so that an HTML-first,
then-PDF loop renders only the PDFs that changed; an output it does not make
and that is out of date is removed (the output folder never holds a document
that disagrees with the ledger).

No-op builds.  After a complete build (no failures) the manifest records a key
of every input of the build -- the check cache's key of the ledger (all ledger
files, textbill.yaml, textbill.lock, the working folder, textbill's code), the
day, the formats, every file of the theme and of the bundled themes, the logo's
bytes, the versions of the libraries that render -- and the size and
modification time of every file it lists.  When a build finds the same key and
every file as recorded, the build it would do writes and removes nothing, so it
does nothing: it does not even compute the books.

Every file is written atomically (writer.write_atomic); the manifest is written
last, so a build that dies half-way renders the missing documents next time.
"""
from __future__ import annotations

import gc
import hashlib
import json
import multiprocessing
import os
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

from textbill.core.paths import slug
from textbill.incremental.fingerprint import code_digest
from textbill.incremental.memo import IdentityMemo
from textbill.incremental.render_memo import RenderMemo
from textbill.load.writer import locked, write_atomic
from textbill.reports.dashboard import dashboard_figures
from textbill.reports.overdue import overdue_totals
from textbill.version import __version__

MANIFEST = ".textbill-build.json"
MANIFEST_VERSION = 2
FORMATS = ("html", "pdf", "json", "csv", "facturx", "ubl")
FOLDERS = {"invoice": "invoices", "credit-note": "credit-notes", "statement": "statements", "report": "reports"}
# what a document may be written as; `facturx` is a flavour of the pdf output (the same file name)
OUTPUTS = ("html", "pdf", "ubl", "json", "csv")
SUFFIXES = {"html": ".html", "pdf": ".pdf", "ubl": ".ubl.xml", "json": ".json", "csv": ".csv"}
EINVOICES = ("invoice", "credit-note")
# libraries whose upgrade may change an output: part of the no-op key (by their files' stamps)
RENDERING_LIBRARIES = ("jinja2", "markupsafe", "babel", "weasyprint", "pydyf", "tinycss2", "cssselect2",
                       "fontTools", "facturx", "pypdf", "lxml", "segno")

Progress = Callable[[int, int, str], None]  # (done, total, what was just finished)


class BuildError(Exception):
    """The build cannot start or finish (an unknown format, a broken theme)."""


@dataclass
class BuildReport:
    out_dir: Path
    documents: int = 0  # documents in the ledger's output
    rendered: list[str] = field(default_factory=list)  # keys of the documents rendered this time
    unchanged: int = 0
    written: list[str] = field(default_factory=list)  # paths (relative to out_dir) whose content changed
    removed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    noop: bool = False  # nothing was looked at again: every input was as the last build left it

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        parts = [f"{self.documents} document{'s' if self.documents != 1 else ''}",
                 f"{len(self.rendered)} rendered", f"{self.unchanged} unchanged"]
        if self.removed:
            parts.append(f"{len(self.removed)} file{'s' if len(self.removed) != 1 else ''} removed")
        if self.failures:
            parts.append(f"{len(self.failures)} failed")
        return f"built {', '.join(parts)} in {self.seconds:.1f}s -> {self.out_dir}"


@dataclass(frozen=True)
class Job:
    """One document to render: what it is, where its files go, and the hash of its inputs."""

    kind: str  # invoice | credit-note | statement | report
    ref: str  # invoice/credit-note number, client id, or "overdue"
    base: str  # output path without extension, relative to out_dir: "invoices/FV-2026-0001"
    digest: str
    outputs: tuple[str, ...] = ()  # what to render this time (OUTPUTS), set by the build

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.ref}"


@dataclass
class Plan:
    """The documents of a build, and what planning computed that rendering and model.json reuse."""

    jobs: list[Job]
    statements: dict  # client id -> (Statement, its JSON dict)
    overdue_rows: list[dict]


def outputs_of(formats: Iterable[str], kind: str) -> dict[str, str]:
    """output -> flavour: what the formats make of a document of this kind."""
    formats = set(formats)
    out: dict[str, str] = {}
    if "html" in formats:
        out["html"] = "html"
    if "pdf" in formats or "facturx" in formats:
        out["pdf"] = "facturx" if "facturx" in formats and kind in EINVOICES else "pdf"
    if "ubl" in formats and kind in EINVOICES:
        out["ubl"] = "ubl"
    if "json" in formats:
        out["json"] = "json"
    if "csv" in formats:
        out["csv"] = "csv"
    return out


def _flavours(output: str, kind: str) -> tuple[str, ...]:
    return ("pdf", "facturx") if output == "pdf" and kind in EINVOICES else (output,)


def output_hash(digest: str, flavour: str) -> str:
    return hashlib.sha256(f"{flavour}\0{digest}".encode()).hexdigest()


# ---------------------------------------------------------------------------- planning

_NAMES: dict[str, tuple] = {}  # kind -> (refs, names) of the last call: watch mode asks again and again


def output_names(kind: str, refs: Iterable[str]) -> dict[str, str]:
    """ref -> file stem in the kind's folder: slugs, unique even on case-insensitive file systems.

    The first ref (in sorted order) takes the plain slug; any other whose slug collides gets a
    short hash of its own ref, so names do not depend on which other documents exist."""
    refs = tuple(refs)
    known = _NAMES.get(kind)
    if known is not None and known[0] == refs:
        return known[1]
    _NAMES[kind] = (refs, _names(kind, refs))
    return _NAMES[kind][1]


def _names(kind: str, refs: tuple[str, ...]) -> dict[str, str]:
    taken: set[str] = set()
    out: dict[str, str] = {}
    for ref in sorted(refs):
        name = slug(ref)
        if name.casefold() in taken:
            suffix = hashlib.sha1(ref.encode("utf-8")).hexdigest()
            n = 8
            while f"{name}-{suffix[:n]}".casefold() in taken:
                n += 2
            name = f"{name}-{suffix[:n]}"
        taken.add(name.casefold())
        out[ref] = f"{FOLDERS[kind]}/{name}"
    return out


def _logo_digest(ledger) -> str:
    from textbill.render.themes import logo_problem

    company = ledger.company
    if company is None or not company.logo:
        return ""
    problem = logo_problem(ledger)
    if problem:
        return problem
    root = Path(ledger.root)
    root = root.parent if root.is_file() else root
    return hashlib.sha256((root / company.logo).read_bytes()).hexdigest()


def _hash(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
                          .encode("utf-8")).hexdigest()


def _credit_json(credit) -> dict:
    from textbill.core.money import fmt
    from textbill.render.json import group_doc

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


def _invoice_fingerprint(doc) -> tuple:
    """Everything of a computed invoice a document shows, as plain values (repr is exact for Decimal)."""
    lines = [(ln.kind, ln.description, ln.quantity, ln.unit_price, ln.amount, ln.tax, ln.date, ln.sow, ln.unit,
              ln.tags) for ln in doc.lines]
    groups = [(g.tax, g.net, g.allowances, g.charges, g.basis, g.tax_amount, g.parts) for g in doc.groups]
    return (doc.invoice, doc.currency, doc.period, doc.sows, doc.due, lines, groups, doc.net, doc.tax, doc.total,
            doc.company_tax, doc.seq)


def by_client(rec) -> dict:
    """The receivables split per client: a statement then looks at one client's invoices only
    (the same figures; billing.statement filters by client itself, but over every invoice)."""
    invoices: dict[str, dict] = {}
    events: dict[str, list] = {}
    for number, state in rec.invoices.items():
        invoices.setdefault(state.client, {})[number] = state
    for event in rec.events:
        events.setdefault(event.client, []).append(event)
    clients = set(invoices) | set(events)
    return {cid: replace(rec, invoices=invoices.get(cid, {}), events=events.get(cid, [])) for cid in clients}


# A document's digest is a pure function of frozen values (the computed invoice, its client and
# SOWs) and the build's common part; a long-lived process (watch) whose engine hands back the same
# objects for unchanged invoices finds the digest here instead of hashing the document again.
_DIGESTS = IdentityMemo()


def plan(analysis, rec, items, theme_digest: str) -> Plan:
    """Every document of the build with its output name and input hash (cheap: no rendering)."""
    from textbill.engine.statement import statement
    from textbill.render.json import overdue_row, statement_doc

    ledger = analysis.ledger
    common = _hash(MANIFEST_VERSION, code_digest(), theme_digest, _logo_digest(ledger),
                   dict(ledger.config.extra), ledger.config.locale, ledger.config.theme, repr(ledger.company))
    jobs: list[Job] = []
    _DIGESTS.begin()

    books = analysis.books
    names = output_names("invoice", books.invoices)
    for number, doc in books.invoices.items():
        client = ledger.clients.get(doc.invoice.client)
        sows = tuple(ledger.sows[r] for r in doc.sows if r in ledger.sows)
        key = ("invoice", number, common)
        digest = _DIGESTS.get(key, (doc, client, *sows),
                              lambda: _digest(common, "invoice", _invoice_fingerprint(doc), client, list(sows)))
        jobs.append(Job("invoice", number, names[number], digest))

    names = output_names("credit-note", books.credits)
    for number, credit in books.credits.items():
        inv = credit.invoice
        client = ledger.clients.get(inv.invoice.client) if inv else None
        key = ("credit-note", number, common)
        digest = _DIGESTS.get(key, (credit, client),
                              lambda: _digest(common, "credit-note", credit.note, credit.currency, credit.amount,
                                              credit.groups, client, _invoice_fingerprint(inv) if inv else None))
        jobs.append(Job("credit-note", number, names[number], digest))
    _DIGESTS.end()

    names = output_names("statement", ledger.clients)
    per_client = by_client(rec)
    statements = {}
    seen: dict[tuple, tuple] = {}
    for cid, client in ledger.clients.items():
        part = per_client.get(cid, rec)
        key = _statement_inputs(ledger, part, cid, client)
        hit = _STATEMENTS.get(("statement", cid))
        if hit is not None and hit[0][0] is client and hit[0][1:] == key[1:] and hit[1][2] == common:
            st, data, _, digest = hit[1]
        else:
            st = statement(ledger, part, cid, None)
            data = statement_doc(st)
            digest = _digest(common, "statement", data, client)
        seen[("statement", cid)] = (key, (st, data, common, digest))
        statements[cid] = (st, data)
        jobs.append(Job("statement", cid, names[cid], digest))

    with_interest = bool(ledger.company and ledger.company.late_interest is not None)
    rows = []
    for d in items:
        state = d.state
        key = (state.number, state.client, state.currency, state.status, d.installment, d.due, d.outstanding,
               d.days_overdue, d.bucket, d.late_interest, with_interest)
        hit = _STATEMENTS.get(key)
        row = hit[1] if hit is not None else overdue_row(d, with_interest)
        seen[key] = (key, row)
        rows.append(row)
    _STATEMENTS.clear()
    _STATEMENTS.update(seen)
    names_used = {d.state.client: ledger.clients[d.state.client].name for d in items
                  if d.state.client in ledger.clients}
    # the rows are the kept objects when their inputs did not change: the same rows, the same digest
    _REPORT_DIGEST.begin()
    digest = _REPORT_DIGEST.get((common, rec.as_of, tuple(sorted(names_used.items()))), tuple(rows),
                                lambda: _digest(common, "report", rec.as_of.isoformat(), rows, names_used))
    _REPORT_DIGEST.end()
    jobs.append(Job("report", "overdue", output_names("report", ["overdue"])["overdue"], digest))
    return Plan(jobs, statements, rows)


# Statements and overdue rows of the last plan of this process, by everything they are made of
# (watch mode plans after every save; most clients did not change).
_STATEMENTS: dict[tuple, tuple] = {}
# the overdue report's digest of the last plan, by the row objects it was made from
_REPORT_DIGEST = IdentityMemo()


def _statement_inputs(ledger, rec, cid: str, client) -> tuple:
    """Everything billing.statement.statement reads for a client (with no start date), as values."""
    currency = ledger.client_currency(cid)
    states = tuple((s.number, s.client, s.currency, s.doc.due, s.outstanding, s.writeoff is None,
                    tuple((i.number, i.due, i.outstanding) for i in s.plan.installments) if s.plan else None)
                   for s in rec.invoices.values())
    return (client, currency, rec.as_of, tuple(e for e in rec.events if e.client == cid), states,
            rec.credit.get((cid, currency)))


def _digest(*parts) -> str:
    """A hash of model values through their repr (frozen dataclasses, Decimals, dates: all exact;
    source spans are left out of the model's reprs, so moving an entry in its file changes nothing)."""
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------- rendering (in workers)

# What a worker needs, set before the pool forks so that it is inherited, never pickled.
_STATE: dict = {}
# what rendering keeps from one build of this process to the next (templates, dashboard pages, fonts)
_RENDER_MEMO = RenderMemo()


def _init_worker(need_pdf: bool) -> None:
    if need_pdf:
        from textbill.render.pdf import warm_up

        warm_up(_RENDER_MEMO)


def render_job(job: Job) -> tuple[str, dict[str, list[str]], list[str], str | None]:
    """Render one document's outputs and write their files: (key, output -> files, warnings, error or None)."""
    try:
        files, warnings = _render(job)
        return job.key, files, warnings, None
    except Exception as exc:  # noqa: BLE001 - one broken document must not stop the others
        if os.environ.get("TEXTBILL_DEBUG"):
            import traceback

            traceback.print_exc()
        return job.key, {}, [], f"{type(exc).__name__}: {exc}"


def _render(job: Job, pdf=None) -> tuple[dict[str, list[str]], list[str]]:
    """Make and write a job's outputs.  pdf(html, doc, warnings) -> bytes renders the PDF
    (default: here and now, with Factur-X when the formats ask for it)."""
    outputs = _outputs(job, pdf)
    out = Path(_STATE["out_dir"])
    files: dict[str, list[str]] = {name: [] for name in job.outputs}
    warnings = outputs.pop(None, [])
    for name, (rel, content) in outputs.items():
        write_atomic(out / rel, content, durable=_STATE.get("durable", True))
        files[name] = [rel]
    return files, warnings


def _outputs(job: Job, pdf=None) -> dict:
    """output -> (relative path, bytes) for the job's outputs; None -> warnings."""
    from textbill.render import html as render_html
    from textbill.render.json import dumps, invoice_doc

    analysis, rec, items = _STATE["analysis"], _STATE["rec"], _STATE["items"]
    theme, formats = _STATE["theme"], _STATE["formats"]
    ledger = analysis.ledger
    wanted = set(job.outputs)
    warnings: list[str] = []
    outputs: dict = {None: warnings}
    doc = html = data = rows = columns = None
    need_html = bool(wanted & {"html", "pdf"})
    if job.kind == "invoice":
        doc = analysis.books.invoices[job.ref]
        if need_html:
            html = render_html.render_invoice(analysis, doc, theme=theme, memo=_RENDER_MEMO)
        data = invoice_doc(doc)
        rows = [_line_row(ln, doc.currency) for ln in doc.lines]
        columns = ("date", "kind", "description", "sow", "quantity", "unit", "unit_price", "amount", "tax")
    elif job.kind == "credit-note":
        doc = analysis.books.credits[job.ref]
        if need_html:
            html = render_html.render_credit_note(analysis, doc, theme=theme, memo=_RENDER_MEMO)
        data = _credit_json(doc)
        rows, columns = data["tax_groups"], ("tax", "rate", "basis", "tax_amount")
    elif job.kind == "statement":
        st, data = _STATE["statements"][job.ref]
        if need_html:
            html = render_html.render_statement(analysis, st, theme=theme, memo=_RENDER_MEMO)
        rows, columns = data["entries"], ("date", "kind", "ref", "amount", "balance", "detail")
    else:
        if need_html:
            html = render_html.render_overdue_report(analysis, rec, items, theme=theme, totals=overdue_totals(items),
                                                     memo=_RENDER_MEMO)
        rows = _STATE["overdue_rows"]
        data = {"as_of": rec.as_of.isoformat(), "items": rows}
        columns = ("invoice", "installment", "client", "currency", "due", "outstanding", "days_overdue",
                   "bucket", "late_interest", "status")

    if "html" in wanted:
        outputs["html"] = (job.base + ".html", html.encode("utf-8"))
    if "pdf" in wanted:
        make = pdf or _pdf_here
        outputs["pdf"] = (job.base + ".pdf", make(job, html, doc, warnings))
    if "ubl" in wanted:
        from textbill.render.einvoice.writers import ubl_xml

        xml = _einvoice(warnings, "ubl", lambda: ubl_xml(ledger, doc))
        if xml is not None:
            outputs["ubl"] = (job.base + ".ubl.xml", xml)
    if "json" in wanted:
        outputs["json"] = (job.base + ".json", (dumps(data) + "\n").encode("utf-8"))
    if "csv" in wanted:
        outputs["csv"] = (job.base + ".csv", _csv(columns, rows))
    return outputs


def _facturx_xml(job: Job, doc, warnings: list[str]) -> bytes | None:
    """The CII XML to embed when this PDF is a Factur-X one, else None."""
    if "facturx" not in _STATE["formats"] or job.kind not in EINVOICES:
        return None
    from textbill.render.einvoice.writers import cii_xml

    return _einvoice(warnings, "facturx", lambda: cii_xml(_STATE["analysis"].ledger, doc))


def _pdf_here(job: Job, html: str, doc, warnings: list[str]) -> bytes:
    xml = _facturx_xml(job, doc, warnings)
    pdf, refused, problem = pdf_of(html, str(_STATE["analysis"].root), _STATE["theme"], xml)
    _pdf_warnings(job, refused, problem, warnings)
    return pdf


def _pdf_warnings(job: Job, refused: list[str], problem: str | None, warnings: list[str]) -> None:
    for url in dict.fromkeys(refused):
        warnings.append(f"{job.key}: not loaded (outside the ledger and theme): {url[:120]}")
    if problem and problem not in warnings:
        warnings.append(problem)


def pdf_of(html: str, base_url: str, theme, xml: bytes | None) -> tuple[bytes, list[str], str | None]:
    """(PDF, refused URLs, a warning or None): the PDF of a rendered page, a Factur-X one with xml.
    Needs nothing but its arguments, so a worker of any start method can run it."""
    from textbill.render.pdf import html_to_pdf

    refused: list[str] = []
    pdf = html_to_pdf(html, base_url=base_url, theme=theme, refused=refused, memo=_RENDER_MEMO)
    problem = None
    if xml is not None:
        from textbill.render.einvoice.writers import facturx_pdf

        try:
            pdf = facturx_pdf(pdf, xml)
        except NotImplementedError:
            problem = "format 'facturx' is not available in this version of textbill; skipped"
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
    from textbill.render.json import line_doc

    row = line_doc(ln, currency)
    row.pop("tags", None)
    return row


def _csv(columns, rows) -> bytes:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: "" if row.get(c) is None else row.get(c) for c in columns})
    return buf.getvalue().encode("utf-8")


# ---------------------------------------------------------------------------- the build

def resolve_formats(formats: Iterable[str] | None, ledger_or_config) -> tuple[str, ...]:
    config = getattr(ledger_or_config, "config", ledger_or_config)
    chosen = tuple(dict.fromkeys(formats if formats is not None else config.formats))
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown:
        raise BuildError(f"unknown format '{unknown[0]}' (formats are: {', '.join(FORMATS)})")
    return chosen


def build(analysis, out_dir: Path, as_of: date, *, jobs: int | None = None, formats: Iterable[str] | None = None,
          force: bool = False, progress: Progress | None = None, pool=None, noop: bool = True,
          durable: bool = True) -> BuildReport:
    """Write every document of an error-free analysis into out_dir; only what changed is rendered.

    formats: default textbill.yaml's; ("html",) makes a fast preview (outputs of other formats
    that are still up to date stay).  jobs: worker processes for PDFs (default: the CPU count).
    progress(done, total, key) is called as documents finish.  pool: a multiprocessing pool of
    any start method to render PDFs in (watch mode keeps one); by default a pool is forked
    for the build when that is safe.  noop=False: look at everything even when no input changed
    (a long-lived process fills what it keeps for its next builds).  durable=False: files are not
    fsynced (watch's preview folder, made again on every start)."""
    from textbill.engine.aging import dues, overdue
    from textbill.render.themes import ThemeError

    start = time.perf_counter()
    if not analysis.ok:
        raise BuildError("the ledger has errors (see 'textbill check'); nothing was built")
    out_dir = Path(out_dir).resolve()
    if noop and not force:
        report = _noop(analysis, out_dir, as_of, formats)
        if report is not None:
            report.seconds = time.perf_counter() - start
            return report

    ledger = analysis.ledger
    formats = resolve_formats(formats, ledger)
    theme, theme_digest = _theme(ledger)
    inputs = _inputs_key(analysis.books_key, Path(analysis.root), formats, as_of, out_dir,
                         ledger.company.logo if ledger.company else None, theme)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = BuildReport(out_dir)

    rec = analysis.receivables(as_of)
    open_amounts = dues(rec, ledger.company)  # once: the overdue report and the dashboard both need them
    items = overdue(rec, ledger.company, open_amounts)
    planned = plan(analysis, rec, items, theme_digest)
    report.documents = len(planned.jobs)

    from textbill.render.themes import logo_problem

    standing: list[str] = []  # warnings of every build, not of one document's rendering
    problem = logo_problem(ledger)
    if problem:
        standing.append(problem)

    manifest_path = out_dir / MANIFEST
    with locked(out_dir / "textbill-build"):
        old = _read_manifest(manifest_path)
        old_docs = old.get("documents", {})
        done: dict[str, dict] = {}
        todo: list[Job] = []
        stamps = old.get("noop", {}).get("stamps")
        there = _Unchanged(out_dir, stamps if isinstance(stamps, dict) else {})
        for job in planned.jobs:
            entry, missing = _reuse(job, old_docs.get(job.key, {}), formats, there, force)
            done[job.key] = entry
            if missing:
                todo.append(replace(job, outputs=tuple(missing)))
            else:
                report.unchanged += 1

        _STATE.update(analysis=analysis, rec=rec, items=items, theme=theme, formats=formats, out_dir=str(out_dir),
                      statements=planned.statements, overdue_rows=planned.overdue_rows, durable=durable)
        try:
            results = _run(todo, jobs, progress, len(planned.jobs) - len(todo), len(planned.jobs), pool)
            digests = {job.key: job.digest for job in todo}
            for key, files, warnings, error in results:
                if error:
                    report.failures.append(f"{key}: {error}")
                    continue
                kind = key.split(":", 1)[0]
                wanted = outputs_of(formats, kind)
                for name, written in files.items():
                    done[key][name] = {"hash": output_hash(digests[key], wanted[name]), "files": written}
                report.rendered.append(key)
                report.written.extend(f for written in files.values() for f in written)
                report.warnings.extend(w for w in warnings if w not in report.warnings)
        finally:
            _STATE.clear()

        site_error = None
        try:
            site_files, model_digest = _write_site(analysis, rec, items, open_amounts, planned, done, out_dir,
                                                   as_of, report, standing, old.get("model", ""), durable)
        except ThemeError as exc:  # a user's dashboard template: the documents are built all the same
            site_error = exc
            site_files, model_digest = list(old.get("site", ())), ""

        # a failed document keeps its old files (and is retried next time)
        failed = {f.split(": ", 1)[0] for f in report.failures}
        for key in failed:
            entry = done.setdefault(key, {})
            for name, old_entry in old_docs.get(key, {}).items():
                if name not in entry:
                    entry[name] = {"hash": "", "files": old_entry["files"]}
        keep = {f for entry in done.values() for o in entry.values() for f in o["files"]} | set(site_files) \
            | {MANIFEST}
        previous = {f for entry in old_docs.values() for o in entry.values() for f in o["files"]} \
            | set(old.get("site", ()))
        for rel in sorted(previous - keep):
            if _remove(out_dir, rel):
                report.removed.append(rel)

        report.warnings[:0] = [w for w in standing if w not in report.warnings]
        manifest = {"version": MANIFEST_VERSION, "textbill": __version__,
                    "documents": {k: v for k, v in done.items() if v}, "site": sorted(site_files),
                    "model": model_digest}
        if report.ok and inputs is not None and site_error is None:
            manifest["noop"] = {"key": inputs, "documents": report.documents, "warnings": standing,
                                "logo": ledger.company.logo if ledger.company else None,
                                "stamps": _stamps(out_dir, sorted(keep - {MANIFEST}), there.kept)}
        _write_manifest(manifest_path, manifest, durable)
    if site_error is not None:
        raise BuildError(_located(site_error, theme)) from site_error
    report.seconds = time.perf_counter() - start
    return report


def _theme(ledger):
    from textbill.render.themes import ThemeError, load_theme

    try:
        theme = load_theme(ledger)
        return theme, theme.digest()
    except ThemeError as exc:
        raise BuildError(str(exc)) from exc


class _Unchanged:
    """Whether the files an earlier build wrote are there as it left them: with the size and time
    it recorded (after a complete build), else at least there."""

    def __init__(self, out_dir: Path, stamps: dict):
        self.base, self.stamps = str(out_dir), stamps
        self.kept: dict[str, list[int]] = {}  # the stamps of the files of outputs kept as they are

    def __call__(self, files) -> bool:
        seen = []
        for rel in files:
            try:
                now = _stamp(os.stat(os.path.join(self.base, rel)))
            except OSError:
                return False
            stamp = self.stamps.get(rel)
            if stamp is not None and stamp != now:
                return False
            seen.append((rel, now))
        self.kept.update(seen)
        return True


def _reuse(job: Job, old_entry: dict, formats, there: _Unchanged, force: bool) -> tuple[dict, list[str]]:
    """The manifest entry a document keeps (output -> hash and files) and the outputs to render.

    An output of this build is kept when its hash is the same and its files are there; an output
    of another format is kept only while it is up to date (its hash is one this document has now)."""
    wanted = outputs_of(formats, job.kind)
    entry: dict[str, dict] = {}
    missing: list[str] = []
    for name, flavour in wanted.items():
        o = old_entry.get(name)
        if not force and o and o["hash"] == output_hash(job.digest, flavour) and there(o["files"]):
            entry[name] = o
        else:
            missing.append(name)
    for name, o in old_entry.items():
        if name in wanted:
            continue
        current = {output_hash(job.digest, f) for f in _flavours(name, job.kind)}
        if o["hash"] in current and there(o["files"]):
            entry[name] = o
    return entry, missing


def _costliest_first(todo: list[Job], analysis) -> list[Job]:
    """The report and statements (long documents) first, then invoices by their number of lines:
    a pool does not end waiting on one long document."""
    order = {"report": 0, "statement": 1, "credit-note": 2, "invoice": 3}
    invoices = analysis.books.invoices if any(j.kind == "invoice" for j in todo) else {}

    def cost(job: Job):
        lines = len(invoices[job.ref].lines) if job.kind == "invoice" and job.ref in invoices else 0
        return order[job.kind], -lines

    return sorted(todo, key=cost)


def _located(exc: Exception, theme) -> str:
    """A theme error's message, led by the template's file and line where Jinja knows them."""
    from textbill.load.loader import display_name

    cause = exc.__cause__
    where = None
    filename, lineno = getattr(cause, "filename", None), getattr(cause, "lineno", None)
    if filename and lineno:
        where = (filename, lineno)
    else:
        folders = [Path(d).resolve() for d in theme.dirs]
        tb = cause.__traceback__ if cause is not None else None
        while tb is not None:  # Jinja gives a template's code its file's name
            name = tb.tb_frame.f_code.co_filename
            if any(Path(name).resolve().is_relative_to(d) for d in folders) and os.path.isfile(name):
                where = (name, tb.tb_lineno)
            tb = tb.tb_next
    if where is None:
        return str(exc)
    return f"{display_name(Path(where[0]))}:{where[1]}: {exc}"


def _run(todo: list[Job], jobs: int | None, progress: Progress | None, done: int, total: int, pool=None):
    """Render the jobs: in the pool given, in a forked pool when PDFs are made and there is more
    than one, else here."""
    need_pdf = any("pdf" in job.outputs for job in todo)
    workers = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
    if (pool is None and workers == 1) or not need_pdf:
        yield from _run_here(todo, need_pdf, progress, done, total)
        return
    todo = _costliest_first(todo, _STATE["analysis"])
    if pool is not None:
        yield from _run_in(pool, todo, progress, done, total)
        return
    forkable = "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1
    if not forkable:
        # forking a process with threads is not safe: a fresh pool whose workers get the pages
        with new_pool(workers) as fresh:
            yield from _run_in(fresh, todo, progress, done, total)
        return
    # fork: the workers inherit the analysis (_STATE) and an imported WeasyPrint instead of
    # unpickling and importing them; frozen objects are not scanned by the workers' collector,
    # which would otherwise touch (and copy) every page of the inherited heap
    _init_worker(True)
    gc.freeze()
    try:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(workers) as pool:
            if progress:  # only now: a progress display may start a thread, and threads do not mix with fork
                progress(done, total, "")
            for result in pool.imap_unordered(render_job, todo, chunksize=1):
                done += 1
                if progress:
                    progress(done, total, result[0])
                yield result
    finally:
        gc.unfreeze()


def _run_here(todo: list[Job], need_pdf: bool, progress: Progress | None, done: int, total: int):
    if progress:
        progress(done, total, "")
    _init_worker(need_pdf)
    for job in todo:
        result = render_job(job)
        done += 1
        if progress:
            progress(done, total, job.key)
        yield result


def new_pool(workers: int | None = None):
    """A pool for PDFs that is safe to start from a process with threads (forkserver, else spawn)."""
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    return ctx.Pool(workers or os.cpu_count() or 1, initializer=_init_worker, initargs=(True,))


def _run_in(pool, todo: list[Job], progress: Progress | None, done: int, total: int):
    """Pages here, PDFs in the pool (its workers share nothing with this process but the page):
    a few jobs ahead of the workers, so that an abandoned build leaves them little to finish."""
    if progress:
        progress(done, total, "")
    ahead = 2 * (getattr(pool, "_processes", None) or os.cpu_count() or 1)
    pending: list[tuple] = []  # (job, outputs or None, async PDF, warnings, error)
    queue = list(todo)
    base_url = str(_STATE["analysis"].root)
    theme = _STATE["theme"]

    def submit(job: Job):
        warnings: list[str] = []
        calls: list = []

        def later(job, html, doc, warnings):
            calls.append(pool.apply_async(pdf_of, (html, base_url, theme, _facturx_xml(job, doc, warnings))))
            return b""

        try:
            outputs = _outputs(job, later)
        except Exception as exc:  # noqa: BLE001 - as render_job
            pending.append((job, None, None, [], f"{type(exc).__name__}: {exc}"))
            return
        warnings = outputs.pop(None)
        pending.append((job, outputs, calls[0] if calls else None, warnings, None))

    while queue or pending:
        while queue and len(pending) < ahead:
            submit(queue.pop(0))
        job, outputs, call, warnings, error = pending.pop(0)
        if error is None:
            try:
                if call is not None:
                    pdf, refused, problem = call.get()
                    _pdf_warnings(job, refused, problem, warnings)
                    outputs["pdf"] = (outputs["pdf"][0], pdf)
                files = {name: [] for name in job.outputs}
                out = Path(_STATE["out_dir"])
                for name, (rel, content) in outputs.items():
                    write_atomic(out / rel, content, durable=_STATE.get("durable", True))
                    files[name] = [rel]
                result = (job.key, files, warnings, None)
            except Exception as exc:  # noqa: BLE001
                result = (job.key, {}, [], f"{type(exc).__name__}: {exc}")
        else:
            result = (job.key, {}, [], error)
        done += 1
        if progress:
            progress(done, total, job.key)
        yield result


# ---------------------------------------------------------------------------- site and model

def _write_site(analysis, rec, items, open_amounts, planned: Plan, done: dict, out_dir: Path, as_of: date,
                report: BuildReport, standing: list[str], old_model: str, durable: bool) -> tuple[list[str], str]:
    """model.json and the dashboard, each written when its content changed; returns the files
    (and an empty hash: the manifest's "model" field is no longer used)."""
    from textbill.render.dashboard import DocRef, render_site

    refs: list[DocRef] = []
    files_of: dict[str, dict[str, str]] = {}
    for job in planned.jobs:
        entry = done.get(job.key, {})
        files = {name: entry[name]["files"][0] for name in OUTPUTS if entry.get(name, {}).get("files")}
        files_of[job.key] = files
        client = None
        if job.kind == "invoice":
            client = analysis.books.invoices[job.ref].invoice.client
        elif job.kind == "credit-note":
            inv = analysis.books.credits[job.ref].invoice
            client = inv.invoice.client if inv else None
        elif job.kind == "statement":
            client = job.ref
        refs.append(DocRef(job.kind, job.ref, client, files.get("html"), files.get("pdf")))

    written: list[str] = []
    outputs: dict[str, bytes] = {}
    try:
        figures = dashboard_figures(analysis.ledger, analysis.books, rec, open_amounts)
        site = render_site(analysis, rec, refs, figures=figures, memo=_RENDER_MEMO)  # first: a theme error writes nothing
    except NotImplementedError:
        site = {}
    # made every time (its parts are kept between builds of a process: see model_json)
    outputs["model.json"] = model_json(analysis, rec, items, as_of, files_of, planned.overdue_rows)
    for rel, data in site.items():
        safe = _safe_rel(rel)
        if safe is None:
            standing.append(f"dashboard file '{rel}' would be outside the output folder; not written")
            continue
        outputs[safe] = data
    base = str(out_dir)
    for rel, data in outputs.items():
        path = os.path.join(base, rel)
        known = _SITE_WRITTEN.get(path)
        try:
            # the very page this process wrote there, and the file is as it left it: nothing to do
            if known is not None and known[1] is data and known[0] == _stamp(os.stat(path)):
                written.append(rel)
                continue
        except OSError:
            pass
        if write_atomic(Path(path), data, durable=durable):
            report.written.append(rel)
        written.append(rel)
        try:
            _SITE_WRITTEN[path] = (_stamp(os.stat(path)), data)
        except OSError:
            _SITE_WRITTEN.pop(path, None)
    return written, ""


# path -> (stamp, bytes) of the site files this process wrote last: a page handed back unchanged
# (render.dashboard keeps pages) need not be read again to find it is the same
_SITE_WRITTEN: dict[str, tuple] = {}


def _safe_rel(rel: str) -> str | None:
    p = Path(rel)
    if p.is_absolute() or not p.parts or any(part in ("..", "") for part in p.parts) or rel == MANIFEST:
        return None
    return p.as_posix()


# Watch mode writes model.json after every save: an invoice's JSON whose document, state and
# files are what they were is not encoded again.  number -> (doc, state values, files, text)
_INVOICE_JSON: dict[str, tuple] = {}
_MODEL_PARTS: dict[str, tuple] = {}  # the other parts of model.json: key -> (value, its JSON)
_ROWS_JSON: dict[tuple, str] = {}  # an overdue row's items -> its JSON


def model_json(analysis, rec, items, as_of: date, files_of: dict[str, dict[str, str]],
               overdue_rows: list[dict] | None = None) -> bytes:
    """The whole computed model as JSON (render/json.py shapes), for scripts and the dashboard.

    The same bytes as render.json.dumps of the model, put together from its parts: each invoice
    is encoded on its own (and kept for the next build of this process)."""
    from textbill.render.json import dumps, invoice_doc, overdue_row

    ledger = analysis.ledger
    with_interest = bool(ledger.company and ledger.company.late_interest is not None)
    invoices = []
    used: dict[str, tuple] = {}
    for number, doc in analysis.books.invoices.items():
        state = rec.invoices.get(number)
        values = None if state is None else (state.paid, state.credited, state.written_off, state.outstanding,
                                             state.status)
        files = files_of.get(f"invoice:{number}", {})
        hit = _INVOICE_JSON.get(number)
        # an equal document has the same JSON (invoice_doc reads only fields that == compares)
        if hit is not None and (hit[0] is doc or hit[0] == doc) and hit[1] == values and hit[2] == files:
            text = hit[3]
        else:
            entry = invoice_doc(doc, state)
            entry["files"] = files
            text = dumps(entry)
        used[number] = (doc, values, dict(files), text)
        invoices.append(text)
    _INVOICE_JSON.clear()
    _INVOICE_JSON.update(used)
    credits = []
    for number, credit in analysis.books.credits.items():
        entry = _credit_json(credit)
        entry["files"] = files_of.get(f"credit-note:{number}", {})
        credits.append(entry)
    company = ledger.company
    rows = overdue_rows if overdue_rows is not None else [overdue_row(d, with_interest) for d in items]
    model = {
        "textbill": __version__,
        "as_of": as_of.isoformat(),
        "company": {"id": company.id, "name": company.name, "currency": company.currency} if company else None,
        "clients": [{"id": c.id, "name": c.name, "currency": ledger.client_currency(c.id),
                     "files": files_of.get(f"statement:{c.id}", {})} for c in ledger.clients.values()],
        "invoices": None,
        "credit_notes": credits,
        "overdue": rows,
        "reports": {"overdue": files_of.get("report:overdue", {})},
    }
    parts = []
    for key, value in model.items():
        if key == "invoices":
            text = _encoded_list(invoices)
        elif key == "overdue":
            text = _encoded_list([_encoded_row(row) for row in value])
        else:
            hit = _MODEL_PARTS.get(key)
            if hit is None or hit[0] != value:
                hit = _MODEL_PARTS[key] = (value, dumps(value).replace("\n", "\n  "))
            text = hit[1]
        parts.append(f"  {json.dumps(key)}: {text}")
    return ("{\n" + ",\n".join(parts) + "\n}\n").encode("utf-8")


def _encoded_row(row: dict) -> str:
    key = tuple(row.items())
    text = _ROWS_JSON.get(key)
    if text is None:
        from textbill.render.json import dumps

        if len(_ROWS_JSON) > 100_000:
            _ROWS_JSON.clear()
        text = _ROWS_JSON[key] = dumps(row)
    return text


def _encoded_list(items: list[str]) -> str:
    """A list of JSON texts (each as dumps wrote it) as dumps writes it one level down."""
    if not items:
        return "[]"
    return "[\n" + ",\n".join("    " + text.replace("\n", "\n    ") for text in items) + "\n  ]"


# ---------------------------------------------------------------------------- manifest and no-op

# The manifest this process wrote last, per output folder, with the stamp of its file: watch mode
# builds again and again and need not parse it again.  path -> (stamp, the manifest as read)
_MANIFESTS: dict[str, tuple] = {}


def _write_manifest(path: Path, manifest: dict, durable: bool = True) -> None:
    # one line, by the C encoder: with a thousand documents an indented one takes a tenth of a second
    write_atomic(path, (json.dumps(manifest, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
                        + "\n").encode("utf-8"), durable=durable)
    try:
        _MANIFESTS[str(path)] = (_stamp(os.stat(path)), {k: manifest[k] for k in ("documents", "site", "model", "noop")
                                                           if k in manifest})
    except OSError:
        _MANIFESTS.pop(str(path), None)


def _remembered_manifest(path: Path) -> dict | None:
    """The manifest this process wrote at path, while the file is still the one it wrote."""
    known = _MANIFESTS.get(str(path))
    return known[1] if known is not None and known[0] == _stamp(os.stat(path)) else None


def _read_manifest(path: Path) -> dict:
    try:
        known = _remembered_manifest(path)
        if known is not None:
            return known
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    docs = data.get("documents")
    if not isinstance(docs, dict):
        return {}
    version = data.get("version")
    clean: dict[str, dict] = {}
    for key, entry in docs.items():
        if not isinstance(entry, dict):
            continue
        if version == 1:  # one hash for all formats: its files are known (and pruned), never current
            if isinstance(entry.get("files"), list):
                files = [f for f in entry["files"] if isinstance(f, str) and _safe_rel(f)]
                clean[key] = {_output_of(f): {"hash": "", "files": [f]} for f in files}
            continue
        if version != MANIFEST_VERSION:
            return {}
        outputs = {}
        for name, o in entry.items():
            if name in OUTPUTS and isinstance(o, dict) and isinstance(o.get("files"), list):
                files = [f for f in o["files"] if isinstance(f, str) and _safe_rel(f)]
                outputs[name] = {"hash": str(o.get("hash", "")), "files": files}
        clean[key] = outputs
    site = [f for f in data.get("site", []) if isinstance(f, str) and _safe_rel(f)]
    out = {"documents": clean, "site": site, "model": str(data.get("model", ""))}
    if version == MANIFEST_VERSION and isinstance(data.get("noop"), dict):
        out["noop"] = data["noop"]
    return out


def _output_of(rel: str) -> str:
    if rel.endswith(".xml"):
        return "ubl"
    return next((name for name, suffix in SUFFIXES.items() if rel.endswith(suffix)), "html")


def _stamps(out_dir: Path, files: list[str], known: dict | None = None) -> dict[str, list[int]]:
    """The stamp of every file; known: stamps taken during this build of files it did not write."""
    stamps = {}
    base = str(out_dir)
    for rel in files:
        if known and rel in known:
            stamps[rel] = known[rel]
            continue
        try:
            stamps[rel] = _stamp(os.stat(os.path.join(base, rel)))
        except OSError:
            continue
    return stamps


def _stamp(st: os.stat_result) -> list[int]:
    """A file as written: a change of its content changes its size, time or (a new file) inode."""
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def _noop(analysis, out_dir: Path, as_of: date, formats) -> BuildReport | None:
    """The report of a build that has nothing to do, or None when it may have something to do.

    Nothing to do: the manifest's no-op record has this build's input key (see the module's
    docstring) and every file it lists is there with the size and time it had when written.
    Looked at before the books are computed: on an unchanged ledger the analysis comes from the
    check cache, and they are never computed."""
    key = getattr(analysis, "check_key", None)
    if key is None or not (out_dir / MANIFEST).is_file():
        return None
    try:
        with locked(out_dir / "textbill-build"):  # not while another build writes
            found = _noop_record(analysis, key, out_dir, as_of, formats)
    except (OSError, ValueError, TypeError, AttributeError, BuildError):
        return None
    if found is None:
        return None
    documents, warnings = found
    return BuildReport(out_dir, documents=documents, unchanged=documents, warnings=warnings, noop=True)


def _noop_record(analysis, key: str, out_dir: Path, as_of: date, formats) -> tuple[int, list[str]] | None:
    path = out_dir / MANIFEST
    known = _remembered_manifest(path)  # as this process wrote it (watch), else the record alone is read
    if known is not None:
        record = known.get("noop")
    else:
        data = json.loads(path.read_text(encoding="utf-8"))
        record = data.get("noop") if data.get("version") == MANIFEST_VERSION else None
    if not isinstance(record, dict) or not isinstance(record.get("stamps"), dict):
        return None
    from textbill.core.source import Sources
    from textbill.load.config import read_config
    from textbill.render.themes import ThemeError, theme_by_name

    root = Path(analysis.root)
    config, problems = read_config(root, Sources())
    if problems:
        return None
    chosen = resolve_formats(formats, config)
    try:
        theme = theme_by_name(root, config.theme or "default")
    except ThemeError:
        return None
    logo = record.get("logo")
    if logo is not None and not isinstance(logo, str):
        return None
    if _inputs_key(key, root, chosen, as_of, out_dir, logo, theme) != record.get("key"):
        return None
    for rel, stamp in record["stamps"].items():
        if _safe_rel(rel) is None or _stamp(os.stat(out_dir / rel)) != stamp:
            return None
    return int(record.get("documents", 0)), [w for w in record.get("warnings", []) if isinstance(w, str)]


def _inputs_key(check_key: str | None, root: Path, formats, as_of: date, out_dir: Path, logo: str | None,
                theme) -> str | None:
    """Every input of a build, as one hash (None when the ledger's inputs have no key)."""
    if check_key is None:
        return None
    from textbill.render.themes import bundled_themes

    bundled = bundled_themes().resolve()
    trees = [bundled] + [Path(d).resolve() for d in theme.dirs
                         if not (Path(d).resolve() == bundled or bundled in Path(d).resolve().parents)]
    return _hash("noop", MANIFEST_VERSION, __version__, sys.version, check_key, as_of.isoformat(), sorted(formats),
                 str(out_dir), theme.name, [str(d) for d in theme.dirs], theme.user,
                 [_tree_digest(t) for t in trees], _logo_state(root, logo), _libraries())


# file -> (its stamp, the sha256 of its content): a file is read again only when its stamp changed
_FILE_DIGESTS: dict[str, tuple] = {}


def _tree_digest(folder: Path) -> str:
    """Every file below a folder, by name and content."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            h.update(os.path.relpath(path, folder).replace(os.sep, "/").encode("utf-8", "surrogatepass") + b"\0")
            try:
                stamp = _stamp(os.stat(path))
                known = _FILE_DIGESTS.get(path)
                if known is None or known[0] != stamp:
                    with open(path, "rb") as fh:
                        known = _FILE_DIGESTS[path] = (stamp, hashlib.sha256(fh.read()).digest())
                h.update(known[1])
            except OSError:
                h.update(b"?")
    return h.hexdigest()


def _logo_state(root: Path, logo: str | None) -> str:
    """What the documents take from the logo: where it resolves to and its bytes."""
    if not logo:
        return ""
    path = root / logo
    try:
        return f"{path.resolve()}\0{hashlib.sha256(path.read_bytes()).hexdigest()}"
    except OSError as exc:
        return f"{path}\0{type(exc).__name__}"


@lru_cache(maxsize=1)
def _libraries() -> tuple:
    """The rendering libraries' files as installed: an upgrade rewrites them."""
    import importlib.util

    out = []
    for name in RENDERING_LIBRARIES:
        try:
            spec = importlib.util.find_spec(name)
            origin = spec.origin if spec else None
            st = os.stat(origin) if origin else None
        except (ImportError, ValueError, OSError):
            origin, st = None, None
        out.append((name, origin, st.st_size if st else None, st.st_mtime_ns if st else None))
    return tuple(out)


def _remove(out_dir: Path, rel: str) -> bool:
    """Delete a file an earlier build wrote (never outside out_dir), and its folder when left empty."""
    safe = _safe_rel(rel)
    if safe is None:
        return False
    path = out_dir / safe
    try:
        resolved = path.resolve()
        if out_dir not in resolved.parents:
            return False
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError:
        return False
    parent = path.parent
    while parent != out_dir and out_dir in parent.parents:
        try:
            parent.rmdir()
        except OSError:
            break
        parent = parent.parent
    return True
