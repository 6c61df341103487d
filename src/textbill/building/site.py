"""The build's site files: model.json and the dashboard, each written when its content changed.  [I/O]

model.json is put together from its parts, and a workspace that builds again and again (watch)
keeps the parts: an invoice's JSON whose document, state and files are what they were is not
encoded again, nor a site page handed back unchanged (render.dashboard keeps pages) compared again
with its file.
"""
from __future__ import annotations

import json
import marshal
import os
from datetime import date
from pathlib import Path

from textbill.building.manifest import safe_rel, stamp
from textbill.building.outputs import credit_json
from textbill.building.plan import Plan
from textbill.building.spec import OUTPUTS
from textbill.incremental.workspace import Workspace
from textbill.loading.forked import fork_map
from textbill.loading.writer import write_atomic
from textbill.render.dashboard import DocRef, render_site
from textbill.render.json import dumps, invoice_doc, overdue_row
from textbill.reports.dashboard import dashboard_figures
from textbill.version import __version__

ROWS_KEPT = 100_000  # overdue rows' JSON kept by a workspace, at most


def write_site(analysis, rec, items, open_amounts, planned: Plan, done: dict, out_dir: Path, as_of: date,
               written_now: list[str], standing: list[str], workspace: Workspace, durable: bool,
               workers: int = 1) -> list[str]:
    """Write model.json and the dashboard, each when its content changed; returns the site's files.

    written_now: the files whose content changed are added to it; standing: warnings of the build.
    workers: 2 makes model.json and the dashboard at the same time, one of them in a forked child
    (loading.forked.fork_map), for a one-off build: a long-lived workspace keeps what each part
    makes (the dashboard's pages, model.json's parts), which a child would lose."""
    refs, files_of = _refs(analysis, planned, done)

    def make(part: str) -> dict[str, bytes]:
        if part == "dashboard":  # a theme error raises before anything is written
            return _dashboard(analysis, rec, open_amounts, refs, workspace)
        # made every time (its parts are kept in the workspace: see model_json)
        return {"model.json": model_json(analysis, rec, items, as_of, files_of, planned.overdue_rows, workspace)}

    # model.json first: this process, which takes the first part as the child starts, then does not
    # read back its 30 MB (at 100k entries) from the child, only the dashboard's pages
    model, site = fork_map(make, ("model", "dashboard"), workers, marshal.dumps, marshal.loads)
    outputs: dict[str, bytes] = dict(model)
    for rel, data in site.items():
        safe = safe_rel(rel)
        if safe is None:
            standing.append(f"dashboard file '{rel}' would be outside the output folder; not written")
            continue
        outputs[safe] = data
    return _write(outputs, out_dir, written_now, workspace, durable)


def _dashboard(analysis, rec, open_amounts, refs: list[DocRef], workspace: Workspace) -> dict[str, bytes]:
    """The dashboard's files, rendered with the invoice rows an earlier process rendered (sealed in
    .textbill/state) and those this one renders kept there in turn."""
    memo = workspace.render_memo
    persistence = getattr(analysis, "persistence", None)
    stored = persistence.rows if persistence is not None else None
    if stored is not None:
        stored.open(persistence.session.state if persistence.session is not None else None)
        memo.stored = stored
    try:
        figures = dashboard_figures(analysis.ledger, analysis.books, rec, open_amounts)
        return render_site(analysis, rec, refs, figures=figures, memo=memo)
    except NotImplementedError:
        return {}
    finally:
        if stored is not None:
            memo.stored = None
            stored.close()


def write_client_pages(analysis, rec, open_amounts, planned: Plan, done: dict, out_dir: Path, clients: frozenset[str],
                       written_now: list[str], workspace: Workspace, durable: bool) -> None:
    """Only the dashboard pages of these clients, from their own figures (watch serves them before
    the rest of the site).  The pages are kept in the workspace: write_site, which follows, finds
    them again when nothing else changed."""
    # a client's page links its own documents and the overdue report: not the other 1,000 (the
    # page's memo key holds its links, so the whole site that follows would make it again if not)
    refs, _ = _refs(analysis, planned, done, lambda client: client is None or client in clients)
    figures = dashboard_figures(analysis.ledger, analysis.books, rec, open_amounts, clients)
    try:
        site = render_site(analysis, rec, refs, figures=figures, memo=workspace.render_memo, only=clients)
    except NotImplementedError:
        return
    outputs = {safe: data for rel, data in site.items() if (safe := safe_rel(rel)) is not None}
    _write(outputs, out_dir, written_now, workspace, durable)


def _refs(analysis, planned: Plan, done: dict, wanted=None) -> tuple[list[DocRef], dict[str, dict[str, str]]]:
    """Every document as the dashboard links it (wanted(client): only those of the clients it
    accepts), and each document's files by format."""
    refs: list[DocRef] = []
    files_of: dict[str, dict[str, str]] = {}
    for job in planned.jobs:
        client = client_of(analysis, job)
        if wanted is not None and not wanted(client):
            continue
        entry = done.get(job.key, {})
        files = {name: entry[name]["files"][0] for name in OUTPUTS if entry.get(name, {}).get("files")}
        files_of[job.key] = files
        refs.append(DocRef(job.kind, job.ref, client, files.get("html"), files.get("pdf")))
    return refs, files_of


def client_of(analysis, job) -> str | None:
    """The client a document is for (None: the overdue report, or a credit note without invoice)."""
    if job.kind == "invoice":
        return analysis.books.invoices[job.ref].invoice.client
    if job.kind == "credit-note":
        inv = analysis.books.credits[job.ref].invoice
        return inv.invoice.client if inv else None
    if job.kind == "statement":
        return job.ref
    if job.kind == "agreement":
        return job.ref.split("/", 1)[0]
    return None


def _write(outputs: dict[str, bytes], out_dir: Path, written_now: list[str], workspace: Workspace,
           durable: bool) -> list[str]:
    """Write each file whose content changed (added to written_now); returns every file's name."""
    written: list[str] = []
    base = str(out_dir)
    site_written = workspace.site_written  # path -> (stamp, bytes) of the site files written last
    for rel, data in outputs.items():
        path = os.path.join(base, rel)
        known = site_written.get(path)
        try:
            # the very page this workspace wrote there, and the file is as it left it: nothing to do
            if known is not None and known[1] is data and known[0] == stamp(os.stat(path)):
                written.append(rel)
                continue
        except OSError:
            pass
        if write_atomic(Path(path), data, durable=durable):
            written_now.append(rel)
        written.append(rel)
        try:
            site_written[path] = (stamp(os.stat(path)), data)
        except OSError:
            site_written.pop(path, None)
    return written


def model_json(analysis, rec, items, as_of: date, files_of: dict[str, dict[str, str]],
               overdue_rows: list[dict] | None = None, workspace: Workspace | None = None) -> bytes:
    """The whole computed model as JSON (render/json.py shapes), for scripts and the dashboard.

    The same bytes as render.json.dumps of the model, put together from its parts: each invoice
    is encoded on its own (and kept in the workspace for its next build)."""
    if workspace is None:
        workspace = Workspace()
    ledger = analysis.ledger
    with_interest = bool(ledger.company and ledger.company.late_interest is not None)
    invoices = []
    kept = workspace.invoice_json  # number -> (doc, state values, files, text)
    used: dict[str, tuple] = {}
    persistence = getattr(analysis, "persistence", None)
    stored = persistence.json if persistence is not None else None  # by the documents' tokens
    if stored is not None:
        stored.begin()
    for number, doc in analysis.books.invoices.items():
        state = rec.invoices.get(number)
        values = None if state is None else (state.paid, state.credited, state.written_off, state.outstanding,
                                             state.status)
        files = files_of.get(f"invoice:{number}", {})
        hit = kept.get(number)
        # an equal document has the same JSON (invoice_doc reads only fields that == compares)
        if hit is not None and (hit[0] is doc or hit[0] == doc) and hit[1] == values and hit[2] == files:
            text = hit[3]
        elif stored is not None:
            text = stored.get((number, values, tuple(files.items())), (doc,),
                              lambda doc=doc, state=state, files=files: _invoice_text(doc, state, files))
        else:
            text = _invoice_text(doc, state, files)
        used[number] = (doc, values, dict(files), text)
        invoices.append(text)
    if stored is not None:
        stored.end()
    kept.clear()
    kept.update(used)
    credits = []
    for number, credit in analysis.books.credits.items():
        entry = credit_json(credit)
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
    # the pieces of the text in order, joined and encoded once: the invoices are ~55 MB at 100k
    # entries, and each concatenation of the whole would copy them again
    pieces = ["{\n"]
    model_parts = workspace.model_parts  # key -> (value, its JSON)
    for i, (key, value) in enumerate(model.items()):
        pieces.append((",\n  " if i else "  ") + json.dumps(key) + ": ")
        if key == "invoices":
            pieces.extend(_list_pieces(invoices, indented=True))
        elif key == "overdue":
            pieces.extend(_list_pieces([_encoded_row(row, workspace.rows_json) for row in value]))
        else:
            hit = model_parts.get(key)
            if hit is None or hit[0] != value:
                hit = model_parts[key] = (value, dumps(value).replace("\n", "\n  "))
            pieces.append(hit[1])
    pieces.append("\n}\n")
    return "".join(pieces).encode("utf-8")


def _invoice_text(doc, state, files: dict[str, str]) -> str:
    """An invoice's JSON as model.json's list holds it (one level down: kept that way, so that
    a build does not indent again the megabytes of invoices it did not change)."""
    entry = invoice_doc(doc, state)
    entry["files"] = files
    return _one_level_down(dumps(entry))


def _encoded_row(row: dict, known: dict[tuple, str]) -> str:
    """An overdue row's JSON; known: a row's items -> its JSON."""
    key = tuple(row.items())
    text = known.get(key)
    if text is None:
        if len(known) > ROWS_KEPT:
            known.clear()
        text = known[key] = dumps(row)
    return text


def _one_level_down(text: str) -> str:
    """A JSON text as dumps writes it as an item of a list one level down."""
    return "    " + text.replace("\n", "\n    ")


def _list_pieces(items: list[str], indented: bool = False) -> list[str]:
    """A list of JSON texts (each as dumps wrote it, or already one level down: indented) as
    dumps writes it one level down, in pieces to join."""
    if not items:
        return ["[]"]
    if not indented:
        items = [_one_level_down(text) for text in items]
    pieces = ["[\n"]
    for i, text in enumerate(items):
        if i:
            pieces.append(",\n")
        pieces.append(text)
    pieces.append("\n  ]")
    return pieces
