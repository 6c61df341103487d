"""`textbill build`: computed documents -> files in the output folder, incremental and parallel.  [I/O]

    no-op     nothing to do when every input of the last complete build is as it was (manifest.py)
    plan      every document of the ledger, its output names (slugs) and a content hash (plan.py)
    skip      outputs whose hash is in the manifest and whose files are all there
    render    the others, HTML then PDF (and json, csv, Factur-X, UBL), in worker processes: each
              job is handed to a worker with the build's Context as arguments (outputs.py)
    site      model.json and the dashboard files, written when their content changed (site.py)
    prune     files that earlier builds wrote for documents that are gone, or that are out of date
    manifest  `.textbill-build.json`: per document and output, its hash and the files written for it

A build that makes only some formats (`--format html`, the watch preview) keeps the other outputs
of earlier builds that are still up to date, so that an HTML-first, then-PDF loop renders only the
PDFs that changed; an output it does not make and that is out of date is removed (the output folder
never holds a document that disagrees with the ledger).

What a build keeps for the next one (digests, statements, model.json parts, the manifest it wrote,
a pool of PDF workers) is in the Workspace it is given; a fresh one builds as a new process does.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

from textbill.assets import output_problem
from textbill.building.manifest import (
    MANIFEST,
    Unchanged,
    file_digests,
    inputs_key,
    noop,
    read_manifest,
    remove,
    reuse,
    stamps,
    write_manifest,
)
from textbill.building.outputs import (
    Context,
    Result,
    facturx_xml,
    failure,
    job_outputs,
    located,
    pdf_of,
    pdf_warnings,
    render_job,
    warm_up_pdf,
    write_outputs,
)
from textbill.building.plan import plan
from textbill.building.site import client_of, write_client_pages, write_site
from textbill.building.spec import (
    MANIFEST_VERSION,
    SUFFIXES,
    BuildError,
    BuildReport,
    Job,
    output_hash,
    outputs_of,
    resolve_formats,
)
from textbill.core.frozen import heap_frozen
from textbill.engine.aging import dues, overdue
from textbill.incremental.templates import sealed_templates
from textbill.incremental.workspace import Workspace
from textbill.loading.forked import available_cpus, forkable
from textbill.loading.loader import display_name
from textbill.loading.writer import locked
from textbill.render.einvoice.writers import EInvoiceError
from textbill.render.themes import ThemeError, load_theme, logo_problem
from textbill.version import __version__

Progress = Callable[[int, int, str], None]  # (done, total, what was just finished)


def build(analysis, out_dir: Path, as_of: date, *, jobs: int | None = None, formats: Iterable[str] | None = None,
          force: bool = False, progress: Progress | None = None, pool=None, noop: bool = True,
          durable: bool = True, workspace: Workspace | None = None,
          first: Callable[[list[str]], None] | None = None) -> BuildReport:
    """Write every document of an error-free analysis into out_dir; only what changed is rendered.

    formats: default textbill.yaml's; ("html",) makes a fast preview (outputs of other formats
    that are still up to date stay).  jobs: worker processes for PDFs, and for HTML pages from
    HTML_FORK_MIN of them (default: the CPU count).
    progress(done, total, key) is called as documents finish.  pool: a multiprocessing pool of
    any start method to render PDFs in (default: the workspace's, which watch mode keeps); without
    one a pool is forked for the build when that is safe.  noop=False: look at everything even
    when no input changed (a long-lived workspace fills what it keeps for its next builds).
    durable=False: files are not fsynced (watch's preview folder, made again on every start).
    workspace: what is kept between builds (default: a fresh one, as a new process has).
    first(files): called once the documents that changed (all but the overdue report) and their
    clients' dashboard pages are written, before the rest (watch serves them first); the files
    in the end are the same as without it."""
    start = time.perf_counter()
    if workspace is None:
        workspace = Workspace()
    if pool is None:
        pool = workspace.pool
    if not analysis.ok:
        raise BuildError("the ledger has errors (see 'textbill check'); nothing was built")
    problem = output_problem(Path(analysis.root), Path(out_dir))
    if problem:  # before anything in it is read or written (its manifest included)
        raise BuildError(problem)
    out_dir = Path(out_dir).resolve()
    if noop and not force:
        found = _noop_report(analysis, out_dir, as_of, formats, workspace)
        if found is not None:
            found.seconds = time.perf_counter() - start
            return found

    ledger = analysis.ledger  # the analysis, when it was answered from the check cache
    # what the analysis made (a million objects at 100k entries) is out of the collector's way
    # while the build runs: a full collection of it cost 0.5 s of a build's 2 s before the pages
    with heap_frozen(keep=analysis.one_shot or workspace.keeps_heap_frozen):
        return _build(analysis, ledger, out_dir, as_of, jobs, formats, force, progress, pool, durable,
                      workspace, first, start)


def _build(analysis, ledger, out_dir: Path, as_of: date, jobs, formats, force: bool, progress, pool,
           durable: bool, workspace: Workspace, first, start: float) -> BuildReport:
    formats = resolve_formats(formats, ledger)
    theme, theme_digest = _theme(ledger)
    inputs = inputs_key(analysis.books_key, Path(analysis.root), formats, as_of, out_dir,
                        ledger.company.logo if ledger.company else None, theme, workspace)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = BuildReport(out_dir)

    rec = analysis.receivables(as_of)
    open_amounts = dues(rec, ledger.company)  # once: the overdue report and the dashboard both need them
    items = overdue(rec, ledger.company, open_amounts)
    persistence = getattr(analysis, "persistence", None)
    if persistence is not None and workspace.doc_digests is not persistence.plan:
        workspace.doc_digests = persistence.plan  # digests of documents found again by their tokens
    session = persistence.session if persistence is not None else None  # None: --no-cache
    workspace.render_memo.templates = sealed_templates(session.state) if session is not None else None
    planned = plan(analysis, rec, items, theme_digest, workspace)
    report.documents = len(planned.jobs)

    standing: list[str] = []  # warnings of every build, not of one document's rendering
    problem = logo_problem(ledger)
    if problem:
        standing.append(problem)

    manifest_path = out_dir / MANIFEST
    with locked(out_dir / "textbill-build"):
        old = read_manifest(manifest_path, workspace)
        old_docs = old.get("documents", {})
        done: dict[str, dict] = {}
        todo: list[Job] = []
        recorded = old.get("noop", {}).get("stamps")
        there = Unchanged(out_dir, recorded if isinstance(recorded, dict) else {})
        for job in planned.jobs:
            entry, missing = reuse(job, old_docs.get(job.key, {}), formats, there, force)
            done[job.key] = entry
            if missing:
                todo.append(replace(job, outputs=tuple(missing)))
            else:
                report.unchanged += 1

        context = Context(analysis=analysis, rec=rec, items=items, theme=theme, formats=formats,
                          out_dir=str(out_dir), statements=planned.statements, overdue_rows=planned.overdue_rows,
                          durable=durable, memo=workspace.render_memo)
        digests = {job.key: job.digest for job in todo}
        head, tail = todo, []
        if first is not None:  # the long overdue report after the pages that are served first
            head, tail = [j for j in todo if j.kind != "report"], [j for j in todo if j.kind == "report"]
        # the pages in forked workers: the dashboard and model.json at the same time, in a process of
        # their own, from the files the pages will have (checked against what they wrote, below)
        ahead = _site_ahead(analysis, rec, items, open_amounts, planned, done, todo, formats, digests, out_dir,
                            as_of, workspace, durable, pool, jobs) if first is None else None
        results = _run(context, head, jobs, progress, len(planned.jobs) - len(todo), len(planned.jobs), pool)
        if first is not None:
            results = list(results)
            # the report's links as the last build wrote them (its file's name does not change)
            later = {job.key: old_docs[job.key] for job in tail if old_docs.get(job.key)}
            _first(first, analysis, rec, open_amounts, planned, {**done, **later}, out_dir, results, formats,
                   digests, report, workspace, durable)
            results += list(_run(context, tail, jobs, progress, len(planned.jobs) - len(tail), len(planned.jobs),
                                 pool))
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

        site_error = None
        made = ahead.result(done) if ahead is not None else None
        if made is not None:  # the pages wrote the files the site was made from
            site_files, written, said = made
            report.written.extend(written)
            standing.extend(said)
        else:
            try:
                # a one-off build makes model.json and the dashboard at once (site.write_site)
                site_files = write_site(analysis, rec, items, open_amounts, planned, done, out_dir, as_of,
                                        report.written, standing, workspace, durable,
                                        min(2, jobs or available_cpus()) if durable else 1)
            except ThemeError as exc:  # a user's dashboard template: the documents are built all the same
                site_error = exc
                site_files = list(old.get("site", ()))

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
        digests = file_digests(out_dir, keep - {MANIFEST}, old.get("digests", {}), report.written)
        for rel in sorted(previous - keep):
            if remove(out_dir, rel, old.get("digests", {}).get(rel)):
                report.removed.append(rel)

        report.warnings[:0] = [w for w in standing if w not in report.warnings]
        # "model": no longer used (an empty hash), kept for the manifest's readers
        manifest = {"version": MANIFEST_VERSION, "textbill": __version__,
                    "documents": {k: v for k, v in done.items() if v}, "site": sorted(site_files),
                    "model": "", "digests": digests}
        if report.ok and inputs is not None and site_error is None:
            manifest["noop"] = {"key": inputs, "documents": report.documents, "warnings": standing,
                                "logo": ledger.company.logo if ledger.company else None,
                                "stamps": stamps(out_dir, sorted(keep - {MANIFEST}), there.kept)}
        write_manifest(manifest_path, manifest, workspace, durable)
    if first is not None:  # a client page written first and then again is one file written
        report.written[:] = dict.fromkeys(report.written)
    if site_error is not None:
        raise BuildError(_located(site_error, theme)) from site_error
    report.seconds = time.perf_counter() - start
    return report


def _first(first, analysis, rec, open_amounts, planned, done: dict, out_dir: Path, results: list, formats,
           digests: dict, report: BuildReport, workspace: Workspace, durable: bool) -> None:
    """The documents rendered so far, then their clients' dashboard pages; first(their files)."""
    files = [f for _, written, _, error in results if not error for fs in written.values() for f in fs]
    rendered = {key for key, _, _, error in results if not error}
    staged = {key: dict(done[key]) for key in rendered}  # the manifest's entries as they will be
    for key, written, _, _ in results:
        if key in rendered:
            wanted = outputs_of(formats, key.split(":", 1)[0])
            for name, fs in written.items():
                staged[key][name] = {"hash": output_hash(digests[key], wanted[name]), "files": fs}
    clients = frozenset(c for job in planned.jobs if job.key in rendered if (c := client_of(analysis, job)))
    if clients:
        now: list[str] = []
        try:
            write_client_pages(analysis, rec, open_amounts, planned, {**done, **staged}, out_dir, clients,
                                         now, workspace, durable)
        except ThemeError:
            now = []  # the whole site reports it, next
        files += now
        report.written.extend(now)
    if files:
        first(files)


def _noop_report(analysis, out_dir: Path, as_of: date, formats, workspace: Workspace) -> BuildReport | None:
    found = noop(analysis, out_dir, as_of, formats, workspace)
    if found is None:
        return None
    documents, warnings = found
    return BuildReport(out_dir, documents=documents, unchanged=documents, warnings=warnings, noop=True)


def _theme(ledger):
    try:
        theme = load_theme(ledger)
        return theme, theme.digest()
    except ThemeError as exc:
        raise BuildError(str(exc)) from exc


def _located(exc: Exception, theme) -> str:
    """A theme error's message, led by the template's file and line where Jinja knows them."""
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


# ---------------------------------------------------------------------------- the workers

def _costliest_first(todo: list[Job], analysis) -> list[Job]:
    """The report and statements (long documents) first, then invoices by their number of lines:
    the workers do not end waiting on one long document."""
    order = {"report": 0, "statement": 1, "agreement": 1, "credit-note": 2, "invoice": 3}
    invoices = analysis.books.invoices if any(j.kind == "invoice" for j in todo) else {}

    def cost(job: Job):
        lines = len(invoices[job.ref].lines) if job.kind == "invoice" and job.ref in invoices else 0
        return order[job.kind], -lines

    return sorted(todo, key=cost)


# HTML-only builds fork workers from this many documents to render: a forked worker costs ~0.1 s
# (the fork, its first templates, its exit), a page 5-20 ms
HTML_FORK_MIN = 64


def _run(context: Context, todo: list[Job], jobs: int | None, progress: Progress | None, done: int, total: int,
         pool=None) -> Iterator[Result]:
    """Render the jobs: in the pool given (PDFs), in forked workers when there is more than one and
    PDFs are made or at least HTML_FORK_MIN pages, else here."""
    need_pdf = any("pdf" in job.outputs for job in todo)
    workers = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
    if not need_pdf:
        # pages: forked workers (a pool of another start method would be sent the whole analysis)
        if pool is None and workers > 1 and len(todo) >= HTML_FORK_MIN and forkable():
            yield from _run_forked(context, _costliest_first(todo, context.analysis), workers, progress, done,
                                   total, need_pdf=False)
        else:
            yield from _run_here(context, todo, need_pdf, progress, done, total)
        return
    if pool is None and workers == 1:
        yield from _run_here(context, todo, need_pdf, progress, done, total)
        return
    todo = _costliest_first(todo, context.analysis)
    if pool is not None:
        yield from _run_in(pool, context, todo, progress, done, total)
        return
    if not forkable():
        # forking a process with threads is not safe: a fresh pool whose workers get the pages
        with new_pool(workers) as fresh:
            yield from _run_in(fresh, context, todo, progress, done, total)
        return
    yield from _run_forked(context, todo, workers, progress, done, total)


class _SiteAhead:
    """The dashboard and model.json made in a forked process while the pages render (on 2 cores
    the site's second or so would otherwise follow the pages).  They are made from the files
    each page will have; result(done) gives (site files, files written, warnings) when the pages
    wrote exactly those, else None: the caller then makes the site itself, as without this."""

    def __init__(self, predicted: dict, proc, conn) -> None:
        self.predicted, self.proc, self.conn = predicted, proc, conn

    def result(self, done: dict) -> tuple | None:
        try:
            made = self.conn.recv()  # the child's answer (EOFError: it died)
        except (EOFError, OSError):
            made = None
        finally:
            self.conn.close()
            self.proc.join()
        if made is None or self.proc.exitcode != 0 or done != self.predicted:
            return None
        return made


def _site_ahead(analysis, rec, items, open_amounts, planned, done: dict, todo: list[Job], formats, digests: dict,
                out_dir: Path, as_of: date, workspace: Workspace, durable: bool, pool, jobs) -> _SiteAhead | None:
    """Start making the site in a forked process, when the pages go to forked workers too (the
    same conditions as _run's) and each output's file is known before it is written: HTML, JSON
    and CSV (an e-invoice may not be made; a PDF is made in a pool).  A one-off build only
    (durable): a long-lived workspace keeps what the site makes, which a child would lose."""
    workers = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
    if (not durable or pool is not None or workers < 2 or len(todo) < HTML_FORK_MIN or not forkable()
            or any(not set(job.outputs) <= {"html", "json", "csv"} for job in todo)):
        return None
    predicted = {key: dict(entry) for key, entry in done.items()}
    for job in todo:
        wanted = outputs_of(formats, job.kind)
        for name in job.outputs:
            predicted[job.key][name] = {"hash": output_hash(digests[job.key], wanted[name]),
                                        "files": [job.base + SUFFIXES[name]]}
    ctx = multiprocessing.get_context("fork")
    conn, child = ctx.Pipe(duplex=False)

    def make() -> None:
        conn.close()
        try:
            written: list[str] = []
            said: list[str] = []
            files = write_site(analysis, rec, items, open_amounts, planned, predicted, out_dir, as_of, written,
                               said, workspace, durable)
            child.send((files, written, said))
        except Exception:  # noqa: BLE001 - the parent makes the site itself, and reports what fails
            child.send(None)
        finally:
            child.close()

    proc = ctx.Process(target=make, daemon=True)
    proc.start()
    child.close()
    return _SiteAhead(predicted, proc, conn)


def _serve(context: Context, tasks, results) -> None:
    """A forked worker: render the jobs it is sent until it is sent None."""
    for job in iter(tasks.get, None):
        results.put(render_job(context, job))


def _run_forked(context: Context, todo: list[Job], workers: int, progress: Progress | None, done: int,
                total: int, need_pdf: bool = True) -> Iterator[Result]:
    """Forked workers that inherit the build's context (the analysis) and an imported WeasyPrint
    as the arguments of their process instead of unpickling and importing them; frozen objects
    are not scanned by the workers' collector, which would otherwise touch (and copy) every page
    of the inherited heap.  Jobs go out one at a time as results come back (a few ahead of the
    workers), so that neither pipe fills while the other waits."""
    warm_up_pdf(need_pdf, context.memo)
    gc.freeze()  # and what was made since the build froze the analysis (heap_frozen)
    ctx = multiprocessing.get_context("fork")
    tasks, results = ctx.SimpleQueue(), ctx.SimpleQueue()
    procs = [ctx.Process(target=_serve, args=(context, tasks, results), daemon=True) for _ in range(workers)]
    try:
        for proc in procs:
            proc.start()
        if progress:  # only now: a progress display may start a thread, and threads do not mix with fork
            progress(done, total, "")
        queue = list(todo)
        sent = 0
        while sent < len(queue) and sent < 2 * workers:
            tasks.put(queue[sent])
            sent += 1
        for _ in range(len(queue)):
            result = results.get()
            if sent < len(queue):
                tasks.put(queue[sent])
                sent += 1
            done += 1
            if progress:
                progress(done, total, result[0])
            yield result
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        for proc in procs:
            proc.join()


def _run_here(context: Context, todo: list[Job], need_pdf: bool, progress: Progress | None, done: int,
              total: int) -> Iterator[Result]:
    if progress:
        progress(done, total, "")
    warm_up_pdf(need_pdf, context.memo)
    for job in todo:
        result = render_job(context, job)
        done += 1
        if progress:
            progress(done, total, job.key)
        yield result


def new_pool(workers: int | None = None):
    """A pool for PDFs that is safe to start from a process with threads (forkserver, else spawn)."""
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    return ctx.Pool(workers or os.cpu_count() or 1, initializer=warm_up_pdf, initargs=(True,))


def _run_in(pool, context: Context, todo: list[Job], progress: Progress | None, done: int,
            total: int) -> Iterator[Result]:
    """Pages here, PDFs in the pool (its workers share nothing with this process but the page):
    a few jobs ahead of the workers, so that an abandoned build leaves them little to finish."""
    if progress:
        progress(done, total, "")
    ahead = 2 * (getattr(pool, "_processes", None) or os.cpu_count() or 1)
    pending: list[tuple] = []  # (job, outputs or None, async PDF, warnings, error)
    queue = list(todo)
    base_url = str(context.analysis.root)

    def submit(job: Job):
        calls: list = []
        places: list[str] = []  # the document's ledger entry, for a Factur-X refusal in the pool

        def later(context, job, html, doc, warnings):
            xml = facturx_xml(context, job, doc, warnings)
            calls.append(pool.apply_async(pdf_of, (html, base_url, context.theme, xml)))
            places.append(located(context, doc) if xml is not None else "")
            return b""

        try:
            outputs = job_outputs(context, job, later)
        except Exception as exc:  # noqa: BLE001 - as render_job
            pending.append((job, None, None, [], failure(exc)))
            return
        warnings = outputs.pop(None)
        pending.append((job, outputs, (calls[0], places[0]) if calls else None, warnings, None))

    while queue or pending:
        while queue and len(pending) < ahead:
            submit(queue.pop(0))
        job, outputs, call, warnings, error = pending.pop(0)
        if error is None:
            try:
                if call is not None:
                    try:
                        pdf, refused, problem = call[0].get()
                    except EInvoiceError as exc:
                        raise EInvoiceError(f"{call[1]}: {exc}") from exc
                    pdf_warnings(job, refused, problem, warnings)
                    outputs["pdf"] = (outputs["pdf"][0], pdf)
                result = (job.key, write_outputs(context, job, outputs), warnings, None)
            except Exception as exc:  # noqa: BLE001
                result = (job.key, {}, [], failure(exc))
        else:
            result = (job.key, {}, [], error)
        done += 1
        if progress:
            progress(done, total, job.key)
        yield result
