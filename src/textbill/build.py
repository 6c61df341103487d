"""`textbill build`: computed documents -> files in the output folder, incremental and parallel.  [I/O]

    plan      every document of the ledger, its output names (slugs) and a content hash
    skip      documents whose hash is in the manifest and whose files are all there
    render    the others, HTML then PDF (and json, csv, Factur-X, UBL), in a process pool
    site      model.json and the dashboard files, written when their content changed
    prune     files that earlier builds wrote for documents that are gone
    manifest  `.textbill-build.json`: per document, its hash and the files written for it

A document's hash covers everything its files are made from: the document as
JSON, the parties and SOWs it names, the theme's files, the renderer's code,
the textbill version and the formats.  Nothing else decides whether it is
rendered again, so a no-op rebuild only hashes.  Every file is written
atomically (writer.write_atomic); the manifest is written last, so a build that
dies half-way renders the missing documents next time.
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import time
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date
from pathlib import Path
from typing import Callable, Iterable

from . import __version__
from .paths import slug
from .writer import locked, write_atomic

MANIFEST = ".textbill-build.json"
MANIFEST_VERSION = 1
FORMATS = ("html", "pdf", "json", "csv", "facturx", "ubl")
FOLDERS = {"invoice": "invoices", "credit-note": "credit-notes", "statement": "statements", "report": "reports"}

Progress = Callable[[int, int, str], None]  # (done, total, what was just finished)


class BuildError(Exception):
    """The build cannot start (an unknown format, a broken theme setting)."""


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

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.ref}"


# ---------------------------------------------------------------------------- planning

def output_names(kind: str, refs: Iterable[str]) -> dict[str, str]:
    """ref -> file stem in the kind's folder: slugs, unique even on case-insensitive file systems.

    The first ref (in sorted order) takes the plain slug; any other whose slug collides gets a
    short hash of its own ref, so names do not depend on which other documents exist."""
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


@lru_cache(maxsize=1)
def _code_digest() -> str:
    """The renderer's code as this process loaded it: a change to it re-renders (during development
    the version number stays the same).  Hashed once: a long-lived process (watch) keeps running
    the code it imported, whatever happens to the files."""
    h = hashlib.sha256(__version__.encode())
    here = Path(__file__).resolve().parent
    for rel in ("build.py", "render/html.py", "render/pdf.py", "render/i18n.py", "render/words.py",
                "render/json.py", "render/qr.py", "render/einvoice.py"):
        path = here / rel
        if path.is_file():
            h.update(path.read_bytes())
    return h.hexdigest()


def _logo_digest(ledger) -> str:
    from .render.html import logo_problem

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
    from .money import fmt
    from .render.json import group_doc

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
    from dataclasses import replace

    invoices: dict[str, dict] = {}
    events: dict[str, list] = {}
    for number, state in rec.invoices.items():
        invoices.setdefault(state.client, {})[number] = state
    for event in rec.events:
        events.setdefault(event.client, []).append(event)
    clients = set(invoices) | set(events)
    return {cid: replace(rec, invoices=invoices.get(cid, {}), events=events.get(cid, [])) for cid in clients}


def plan(analysis, rec, items, formats: tuple[str, ...], theme_digest: str) -> list[Job]:
    """Every document of the build with its output name and input hash (cheap: no rendering)."""
    from .billing.statement import statement
    from .render.json import overdue_row, statement_doc

    ledger = analysis.ledger
    common = _hash(MANIFEST_VERSION, _code_digest(), theme_digest, sorted(formats), _logo_digest(ledger),
                   dict(ledger.config.extra), ledger.config.locale, ledger.config.theme, repr(ledger.company))
    jobs: list[Job] = []

    books = analysis.books
    names = output_names("invoice", books.invoices)
    for number, doc in books.invoices.items():
        client = ledger.clients.get(doc.invoice.client)
        sows = [ledger.sows[r] for r in doc.sows if r in ledger.sows]
        digest = _digest(common, "invoice", _invoice_fingerprint(doc), client, sows)
        jobs.append(Job("invoice", number, names[number], digest))

    names = output_names("credit-note", books.credits)
    for number, credit in books.credits.items():
        inv = credit.invoice
        client = ledger.clients.get(inv.invoice.client) if inv else None
        digest = _digest(common, "credit-note", credit.note, credit.currency, credit.amount, credit.groups, client,
                         _invoice_fingerprint(inv) if inv else None)
        jobs.append(Job("credit-note", number, names[number], digest))

    names = output_names("statement", ledger.clients)
    per_client = by_client(rec)
    for cid, client in ledger.clients.items():
        st = statement(ledger, per_client.get(cid, rec), cid, None)
        digest = _hash(common, "statement", statement_doc(st), repr(client))
        jobs.append(Job("statement", cid, names[cid], digest))

    with_interest = bool(ledger.company and ledger.company.late_interest is not None)
    names_used = {d.state.client: ledger.clients[d.state.client].name for d in items
                  if d.state.client in ledger.clients}
    digest = _hash(common, "report", rec.as_of.isoformat(), [overdue_row(d, with_interest) for d in items],
                   names_used)
    jobs.append(Job("report", "overdue", output_names("report", ["overdue"])["overdue"], digest))
    return jobs


def _digest(*parts) -> str:
    """A hash of model values through their repr (frozen dataclasses, Decimals, dates: all exact;
    source spans are left out of the model's reprs, so moving an entry in its file changes nothing)."""
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------- rendering (in workers)

# What a worker needs, set before the pool forks so that it is inherited, never pickled.
_STATE: dict = {}


def _init_worker(need_pdf: bool) -> None:
    if need_pdf:
        from .render.pdf import warm_up

        warm_up()


def render_job(job: Job) -> tuple[str, list[str], list[str], str | None]:
    """Render one document and write its files: (key, files, warnings, error or None)."""
    try:
        files, warnings = _render(job)
        return job.key, files, warnings, None
    except Exception as exc:  # noqa: BLE001 - one broken document must not stop the others
        if os.environ.get("TEXTBILL_DEBUG"):
            import traceback

            traceback.print_exc()
        return job.key, [], [], f"{type(exc).__name__}: {exc}"


def _render(job: Job) -> tuple[list[str], list[str]]:
    from .render import html as render_html
    from .render.json import dumps, invoice_doc, overdue_row, statement_doc

    analysis, rec, items = _STATE["analysis"], _STATE["rec"], _STATE["items"]
    theme, formats, out_dir = _STATE["theme"], _STATE["formats"], _STATE["out_dir"]
    ledger = analysis.ledger
    warnings: list[str] = []
    outputs: dict[str, bytes] = {}
    doc = None
    if job.kind == "invoice":
        doc = analysis.books.invoices[job.ref]
        html = render_html.render_invoice(analysis, doc, theme=theme)
        data = invoice_doc(doc)
        rows = [_line_row(ln, doc.currency) for ln in doc.lines]
        columns = ("date", "kind", "description", "sow", "quantity", "unit", "unit_price", "amount", "tax")
    elif job.kind == "credit-note":
        doc = analysis.books.credits[job.ref]
        html = render_html.render_credit_note(analysis, doc, theme=theme)
        data = _credit_json(doc)
        rows, columns = data["tax_groups"], ("tax", "rate", "basis", "tax_amount")
    elif job.kind == "statement":
        from .billing.statement import statement

        st = statement(ledger, _STATE["per_client"].get(job.ref, rec), job.ref, None)
        html = render_html.render_statement(analysis, st, theme=theme)
        data = statement_doc(st)
        rows, columns = data["entries"], ("date", "kind", "ref", "amount", "balance", "detail")
    else:
        html = render_html.render_overdue_report(analysis, rec, items, theme=theme)
        with_interest = bool(ledger.company and ledger.company.late_interest is not None)
        rows = [overdue_row(d, with_interest) for d in items]
        data = {"as_of": rec.as_of.isoformat(), "items": rows}
        columns = ("invoice", "installment", "client", "currency", "due", "outstanding", "days_overdue",
                   "bucket", "late_interest", "status")

    if "html" in formats:
        outputs[job.base + ".html"] = html.encode("utf-8")
    if "pdf" in formats or "facturx" in formats:
        from .render.pdf import html_to_pdf

        refused: list[str] = []
        pdf = html_to_pdf(html, base_url=str(analysis.root), theme=theme, refused=refused)
        for url in dict.fromkeys(refused):
            warnings.append(f"{job.key}: not loaded (outside the ledger and theme): {url[:120]}")
        if "facturx" in formats and job.kind in ("invoice", "credit-note"):
            pdf = _einvoice(warnings, "facturx", lambda: _facturx(ledger, doc, pdf)) or pdf
        outputs[job.base + ".pdf"] = pdf
    if "ubl" in formats and job.kind in ("invoice", "credit-note"):
        from .render.einvoice import ubl_xml

        xml = _einvoice(warnings, "ubl", lambda: ubl_xml(ledger, doc))
        if xml is not None:
            outputs[job.base + ".ubl.xml"] = xml
    if "json" in formats:
        outputs[job.base + ".json"] = (dumps(data) + "\n").encode("utf-8")
    if "csv" in formats:
        outputs[job.base + ".csv"] = _csv(columns, rows)

    out = Path(out_dir)
    for rel, content in outputs.items():
        write_atomic(out / rel, content)
    return sorted(outputs), warnings


def _facturx(ledger, doc, pdf: bytes) -> bytes:
    from .render.einvoice import cii_xml, facturx_pdf

    return facturx_pdf(pdf, cii_xml(ledger, doc))


def _einvoice(warnings: list[str], fmt: str, make):
    try:
        return make()
    except NotImplementedError:
        warnings.append(f"format '{fmt}' is not available in this version of textbill; skipped")
        return None


def _line_row(ln, currency: str) -> dict:
    from .render.json import line_doc

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

def resolve_formats(formats: Iterable[str] | None, ledger) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(formats if formats is not None else ledger.config.formats))
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown:
        raise BuildError(f"unknown format '{unknown[0]}' (formats are: {', '.join(FORMATS)})")
    return chosen


def build(analysis, out_dir: Path, as_of: date, *, jobs: int | None = None, formats: Iterable[str] | None = None,
          force: bool = False, progress: Progress | None = None) -> BuildReport:
    """Write every document of an error-free analysis into out_dir; only what changed is rendered.

    formats: default textbill.yaml's; ("html",) makes a fast preview.  jobs: worker processes for
    PDFs (default: the CPU count).  progress(done, total, key) is called as documents finish."""
    from .billing.aging import overdue
    from .render.html import ThemeError, load_theme

    start = time.perf_counter()
    if not analysis.ok:
        raise BuildError("the ledger has errors (see 'textbill check'); nothing was built")
    ledger = analysis.ledger
    formats = resolve_formats(formats, ledger)
    try:
        theme = load_theme(ledger)
        theme_digest = theme.digest()
    except ThemeError as exc:
        raise BuildError(str(exc)) from exc
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    report = BuildReport(out_dir)

    rec = analysis.receivables(as_of)
    items = overdue(rec, ledger.company)
    planned = plan(analysis, rec, items, formats, theme_digest)
    report.documents = len(planned)

    from .render.html import logo_problem

    problem = logo_problem(ledger)
    if problem:
        report.warnings.append(problem)

    manifest_path = out_dir / MANIFEST
    with locked(out_dir / "textbill-build"):
        old = _read_manifest(manifest_path)
        old_docs = old.get("documents", {})
        done: dict[str, dict] = {}
        todo: list[Job] = []
        for job in planned:
            entry = old_docs.get(job.key)
            if (not force and entry and entry.get("hash") == job.digest
                    and all((out_dir / f).is_file() for f in entry.get("files", ()))):
                done[job.key] = entry
                report.unchanged += 1
            else:
                todo.append(job)

        _STATE.update(analysis=analysis, rec=rec, items=items, theme=theme, formats=formats, out_dir=str(out_dir),
                      per_client=by_client(rec))
        digests = {job.key: job.digest for job in todo}
        try:
            results = _run(todo, formats, jobs, progress, len(planned) - len(todo), len(planned))
            for key, files, warnings, error in results:
                if error:
                    report.failures.append(f"{key}: {error}")
                    continue
                done[key] = {"hash": digests[key], "files": files}
                report.rendered.append(key)
                report.written.extend(files)
                report.warnings.extend(w for w in warnings if w not in report.warnings)
        finally:
            _STATE.clear()

        site_files, model_digest = _write_site(analysis, rec, items, planned, done, formats, out_dir, as_of,
                                               report, old.get("model", ""))

        keep = {f for entry in done.values() for f in entry["files"]} | set(site_files) | {MANIFEST}
        # a failed document keeps its old files (and is retried next time)
        failed = {f.split(": ", 1)[0] for f in report.failures}
        for key in failed:
            keep |= set(old_docs.get(key, {}).get("files", ()))
        previous = {f for entry in old_docs.values() for f in entry.get("files", ())} | set(old.get("site", ()))
        for rel in sorted(previous - keep):
            if _remove(out_dir, rel):
                report.removed.append(rel)

        documents = {k: v for k, v in done.items()}
        for key in failed:
            if key in old_docs:
                documents[key] = {"hash": "", "files": old_docs[key].get("files", [])}
        manifest = {"version": MANIFEST_VERSION, "textbill": __version__, "documents": documents,
                    "site": sorted(site_files), "model": model_digest}
        write_atomic(manifest_path, (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode("utf-8"))
    report.seconds = time.perf_counter() - start
    return report


def _run(todo: list[Job], formats, jobs: int | None, progress: Progress | None, done: int, total: int):
    """Render the jobs, in a process pool when PDFs are made and there is more than one."""
    need_pdf = "pdf" in formats or "facturx" in formats
    workers = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
    if workers == 1 or not need_pdf or "fork" not in multiprocessing.get_all_start_methods():
        if progress:
            progress(done, total, "")
        _init_worker(need_pdf and bool(todo))
        for job in todo:
            result = render_job(job)
            done += 1
            if progress:
                progress(done, total, job.key)
            yield result
        return
    # fork: the workers inherit the analysis (_STATE) instead of unpickling it
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(workers, initializer=_init_worker, initargs=(need_pdf,)) as pool:
        if progress:  # only now: a progress display may start a thread, and threads do not mix with fork
            progress(done, total, "")
        for result in pool.imap_unordered(render_job, todo, chunksize=1):
            done += 1
            if progress:
                progress(done, total, result[0])
            yield result


def _write_site(analysis, rec, items, planned: list[Job], done: dict, formats, out_dir: Path, as_of: date,
                report: BuildReport, old_model: str) -> tuple[list[str], str]:
    """model.json (made again only when its inputs changed) and the dashboard (written when its
    content changed); returns the files and model.json's input hash."""
    from .render.dashboard import DocRef, render_site

    refs: list[DocRef] = []
    files_of: dict[str, dict[str, str]] = {}
    ledger = analysis.ledger
    for job in planned:
        files = done.get(job.key, {}).get("files", [])
        html = next((f for f in files if f.endswith(".html")), None)
        pdf = next((f for f in files if f.endswith(".pdf")), None)
        files_of[job.key] = {Path(f).suffix.lstrip(".") if not f.endswith(".ubl.xml") else "ubl": f for f in files}
        client = None
        if job.kind == "invoice":
            client = analysis.books.invoices[job.ref].invoice.client
        elif job.kind == "credit-note":
            inv = analysis.books.credits[job.ref].invoice
            client = inv.invoice.client if inv else None
        elif job.kind == "statement":
            client = job.ref
        refs.append(DocRef(job.kind, job.ref, client, html, pdf))

    written: list[str] = []
    states = [(n, s.paid, s.credited, s.written_off, s.outstanding, s.status) for n, s in rec.invoices.items()]
    model_digest = _digest(MANIFEST_VERSION, _code_digest(), sorted((j.key, j.digest) for j in planned), files_of,
                           as_of, states)
    outputs: dict[str, bytes] = {}
    if model_digest != old_model or not (out_dir / "model.json").is_file():
        outputs["model.json"] = model_json(analysis, rec, items, as_of, files_of)
    else:
        written.append("model.json")
    try:
        site = render_site(analysis, rec, refs)
    except NotImplementedError:
        site = {}
    for rel, data in site.items():
        safe = _safe_rel(rel)
        if safe is None:
            report.warnings.append(f"dashboard file '{rel}' would be outside the output folder; not written")
            continue
        outputs[safe] = data
    for rel, data in outputs.items():
        if write_atomic(out_dir / rel, data):
            report.written.append(rel)
        written.append(rel)
    return written, model_digest


def _safe_rel(rel: str) -> str | None:
    p = Path(rel)
    if p.is_absolute() or not p.parts or any(part in ("..", "") for part in p.parts) or rel == MANIFEST:
        return None
    return p.as_posix()


def model_json(analysis, rec, items, as_of: date, files_of: dict[str, dict[str, str]]) -> bytes:
    """The whole computed model as JSON (render/json.py shapes), for scripts and the dashboard."""
    from .render.json import dumps, invoice_doc, overdue_row

    ledger = analysis.ledger
    with_interest = bool(ledger.company and ledger.company.late_interest is not None)
    invoices = []
    for number, doc in analysis.books.invoices.items():
        entry = invoice_doc(doc, rec.invoices.get(number))
        entry["files"] = files_of.get(f"invoice:{number}", {})
        invoices.append(entry)
    credits = []
    for number, credit in analysis.books.credits.items():
        entry = _credit_json(credit)
        entry["files"] = files_of.get(f"credit-note:{number}", {})
        credits.append(entry)
    company = ledger.company
    model = {
        "textbill": __version__,
        "as_of": as_of.isoformat(),
        "company": {"id": company.id, "name": company.name, "currency": company.currency} if company else None,
        "clients": [{"id": c.id, "name": c.name, "currency": ledger.client_currency(c.id),
                     "files": files_of.get(f"statement:{c.id}", {})} for c in ledger.clients.values()],
        "invoices": invoices,
        "credit_notes": credits,
        "overdue": [overdue_row(d, with_interest) for d in items],
        "reports": {"overdue": files_of.get("report:overdue", {})},
    }
    return (dumps(model) + "\n").encode("utf-8")


def _read_manifest(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION:
        return {}
    docs = data.get("documents")
    if not isinstance(docs, dict):
        return {}
    clean = {}
    for key, entry in docs.items():
        if isinstance(entry, dict) and isinstance(entry.get("files"), list):
            files = [f for f in entry["files"] if isinstance(f, str) and _safe_rel(f)]
            clean[key] = {"hash": str(entry.get("hash", "")), "files": files}
    site = [f for f in data.get("site", []) if isinstance(f, str) and _safe_rel(f)]
    return {"documents": clean, "site": site, "model": str(data.get("model", ""))}


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
