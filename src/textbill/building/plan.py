"""Planning a build: every document of the ledger, its output names (slugs) and a content hash.  [cheap]

A document's hash covers everything its files are made from: the document as JSON, the parties and
SOWs it names, the theme's files, the renderer's code and the textbill version; each output adds its
own kind (a Factur-X PDF is not a plain one).  Nothing else decides whether it is rendered again.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from textbill.building.spec import FOLDERS, MANIFEST_VERSION, Job, json_hash
from textbill.core.einvoicing import paid_in_advance
from textbill.core.paths import slug
from textbill.engine.statement import statement
from textbill.incremental.fingerprint import code_digest
from textbill.incremental.workspace import Workspace
from textbill.render.json import overdue_row, statement_doc
from textbill.render.themes import logo_problem


@dataclass
class Plan:
    """The documents of a build, and what planning computed that rendering and model.json reuse."""

    jobs: list[Job]
    statements: dict  # client id -> (Statement, its JSON dict)
    overdue_rows: list[dict]


def output_names(kind: str, refs: Iterable[str], known: dict[str, tuple] | None = None) -> dict[str, str]:
    """ref -> file stem in the kind's folder: slugs, unique even on case-insensitive file systems.

    The first ref (in sorted order) takes the plain slug; any other whose slug collides gets a
    short hash of its own ref, so names do not depend on which other documents exist.
    known: kind -> (refs, names) of the last call (a Workspace's names: watch mode asks again
    and again)."""
    refs = tuple(refs)
    if known is None:
        return _names(kind, refs)
    last = known.get(kind)
    if last is not None and last[0] == refs:
        return last[1]
    known[kind] = (refs, _names(kind, refs))
    return known[kind][1]


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
    company = ledger.company
    if company is None or not company.logo:
        return ""
    problem = logo_problem(ledger)
    if problem:
        return problem
    root = Path(ledger.root)
    root = root.parent if root.is_file() else root
    return hashlib.sha256((root / company.logo).read_bytes()).hexdigest()


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


def plan(analysis, rec, items, theme_digest: str, workspace: Workspace) -> Plan:
    """Every document of the build with its output name and input hash (cheap: no rendering).

    A document's digest is a pure function of frozen values (the computed invoice, its client and
    SOWs) and the build's common part; a long-lived workspace (watch) whose engine hands back the
    same objects for unchanged invoices finds the digest in its doc_digests instead of hashing the
    document again, and the statements and overdue rows of its last plan by everything they are
    made of (most clients did not change)."""
    ledger = analysis.ledger
    common = json_hash(MANIFEST_VERSION, code_digest(), theme_digest, _logo_digest(ledger),
                       dict(ledger.config.extra), ledger.config.locale, ledger.config.theme, repr(ledger.company))
    jobs: list[Job] = []
    digests = workspace.doc_digests
    known_names = workspace.names
    digests.begin()

    books = analysis.books
    names = output_names("invoice", books.invoices, known_names)
    invoice_digests: dict[str, str] = {}
    for number, doc in books.invoices.items():
        client = ledger.clients.get(doc.invoice.client)
        sows = tuple(ledger.sows[r] for r in doc.sows if r in ledger.sows)
        paid = paid_in_advance(rec, doc)  # BT-113 and the PDF's "paid in advance": a deposit re-renders it
        key = ("invoice", number, common, paid)
        digest = digests.get(key, (doc, client, *sows),
                             lambda doc=doc, client=client, sows=sows, paid=paid:
                             _digest(common, "invoice", _invoice_fingerprint(doc), client, list(sows), paid))
        jobs.append(Job("invoice", number, names[number], digest))
        invoice_digests[number] = digest

    names = output_names("credit-note", books.credits, known_names)
    for number, credit in books.credits.items():
        inv = credit.invoice
        client = ledger.clients.get(inv.invoice.client) if inv else None
        key = ("credit-note", number, common)
        digest = digests.get(key, (credit, client),
                             # the invoice it corrects as the invoice's own page's digest (everything it shows)
                             lambda credit=credit, client=client, inv=inv:
                             _digest(common, "credit-note", credit.note, credit.currency, credit.amount,
                                     credit.groups, client, invoice_digests.get(inv.number) if inv else None))
        jobs.append(Job("credit-note", number, names[number], digest))
    digests.end()

    names = output_names("statement", ledger.clients, known_names)
    per_client = by_client(rec)
    statements = {}
    kept = workspace.statements
    seen: dict[tuple, tuple] = {}
    for cid, client in ledger.clients.items():
        part = per_client.get(cid, rec)
        key = _statement_inputs(ledger, part, cid, client)
        hit = kept.get(("statement", cid))
        if hit is not None and hit[0][0] is client and hit[0][1:] == key[1:] and hit[1][2] == common:
            st, data, _, digest = hit[1]
        else:
            st = statement(ledger, part, cid, None)
            data = statement_doc(st)
            digest = _digest(common, "statement", data, client)
        seen[("statement", cid)] = (key, (st, data, common, digest))
        statements[cid] = (st, data)
        jobs.append(Job("statement", cid, names[cid], digest))

    jobs.extend(agreement_jobs(ledger, common, known_names))

    with_interest = bool(ledger.company and ledger.company.late_interest is not None)
    rows = []
    for d in items:
        state = d.state
        key = (state.number, state.client, state.currency, state.status, d.installment, d.due, d.outstanding,
               d.days_overdue, d.bucket, d.late_interest, with_interest)
        hit = kept.get(key)
        row = hit[1] if hit is not None else overdue_row(d, with_interest)
        seen[key] = (key, row)
        rows.append(row)
    kept.clear()
    kept.update(seen)
    names_used = {d.state.client: ledger.clients[d.state.client].name for d in items
                  if d.state.client in ledger.clients}
    # the rows are the kept objects when their inputs did not change: the same rows, the same digest
    report_digest = workspace.report_digest
    report_digest.begin()
    digest = report_digest.get((common, rec.as_of, tuple(sorted(names_used.items()))), tuple(rows),
                               lambda: _digest(common, "report", rec.as_of.isoformat(), rows, names_used))
    report_digest.end()
    jobs.append(Job("report", "overdue", output_names("report", ["overdue"], known_names)["overdue"], digest))
    return Plan(jobs, statements, rows)


def agreement_jobs(ledger, common: str, known_names) -> list[Job]:
    """One agreement document per SOW (docs/language.md, "person", "accepted"): its digest covers the SOW, its client,
    its sent and accepted entries, the people (the rate table names them) and the reminder policies.
    Every SOW has one (docs/language.md, "accepted"), marked DRAFT until it is accepted."""
    names = output_names("agreement", ledger.sows, known_names)
    people = tuple(ledger.people.values())
    policies = tuple(ledger.policies.values())
    jobs = []
    for ref, sow in ledger.sows.items():
        marks = tuple(e for e in (*ledger.sents, *ledger.accepteds) if e.sow == ref)
        digest = _digest(common, "agreement", sow, ledger.clients.get(sow.client), marks, people, policies)
        jobs.append(Job("agreement", ref, names[ref], digest))
    return jobs


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
