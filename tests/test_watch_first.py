"""The watch serves the pages an edit changed first (the documents and their clients' dashboard
pages), then builds the rest; once it settles, its output is what `textbill build` writes."""
from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pytest
from conftest import write_ledger
from ledgergen import generate
from test_incremental_build import outputs
from test_incremental_engine import edit, split, write

from textbill.building.manifest import MANIFEST, read_manifest
from textbill.building.plan import plan
from textbill.building.run import build
from textbill.building.site import write_client_pages
from textbill.building.spec import BuildError
from textbill.engine.aging import dues, overdue
from textbill.incremental.books_memo import BooksMemo
from textbill.incremental.workspace import Workspace
from textbill.pipeline import analyze
from textbill.watch.loop import Watcher

AS_OF = date(2026, 4, 20)

LEDGER = """
client acme "Acme Ltd"
  currency USD

client zeta "Zeta GmbH"
  currency USD

sow acme/dev "Development"
  period 2026-01-01 .. 2026-12-31
  hourly 100.00 USD

sow zeta/dev "Development"
  period 2026-01-01 .. 2026-12-31
  hourly 80.00 USD

2026-01-05 time acme/dev 2h "Design"
2026-01-06 time zeta/dev 3h "Review"
2026-02-03 time acme/dev 1h "Fixes"

2026-01-31 invoice INV-2026-0001 acme
  period 2026-01-01 .. 2026-01-31

2026-01-31 invoice INV-2026-0002 zeta
  period 2026-01-01 .. 2026-01-31
"""


def watcher(folder: Path, out: Path) -> Watcher:
    """A watcher driven by hand (rebuild() as its worker calls it), keeping what the watch keeps."""
    w = Watcher(folder, out, port=0, as_of=lambda: AS_OF)
    w.workspace.remember(w.root)
    w.workspace.books_memo = BooksMemo()
    return w


def fresh(ledger: Path, out: Path) -> dict[str, bytes] | None:
    """`textbill build --format html` in a new process."""
    try:
        build(analyze(ledger, cache=False, workspace=Workspace()), out, AS_OF, formats=("html",), jobs=1,
              workspace=Workspace())
    except BuildError:
        return None
    return outputs(out)


def publications(w: Watcher) -> list[tuple[int, bool, tuple | None]]:
    """Record (build, building, pages) of every publication that moves the build number."""
    seen: list[tuple[int, bool, tuple | None]] = []
    update = w.preview.update

    def recording(**changes):
        state = update(**changes)
        if "build" in changes:
            seen.append((state.build, state.building, state.pages))
        return state

    w.preview.update = recording
    return seen


def test_the_changed_invoice_and_its_client_page_are_served_first(tmp_path):
    folder = write_ledger(tmp_path / "ledger", LEDGER)
    w = watcher(folder, tmp_path / "out")
    try:
        w.rebuild({str(folder)})
        seen = publications(w)
        bill = folder / "ledger.bill"
        bill.write_text(bill.read_text().replace('acme/dev 2h "Design"', 'acme/dev 2h30m "Design"'))
        w.rebuild({str(bill)})
        assert len(seen) == 2, seen
        (n1, building1, first), (n2, building2, later) = seen
        assert n2 == n1 + 1 and building1 and not building2
        # first: the edited invoice and acme's page; not zeta's, not the dashboard, not model.json
        assert "invoices/INV-2026-0001.html" in first and "clients/acme.html" in first, first
        assert not {"clients/zeta.html", "index.html", "model.json", "invoices/INV-2026-0002.html"} & set(first)
        # then the rest that changed: the dashboard (its totals), not the pages already served
        assert "index.html" in later and "invoices/INV-2026-0001.html" not in later, later
        page = (tmp_path / "out" / "invoices" / "INV-2026-0001.html").read_text()
        assert "250.00" in page  # 2h30m at 100.00
        assert outputs(tmp_path / "out") == fresh(folder, tmp_path / "fresh")
    finally:
        w.workspace.close()
        w.server.server_close()


def test_work_not_invoiced_builds_in_one_publication(tmp_path):
    folder = write_ledger(tmp_path / "ledger", LEDGER)
    w = watcher(folder, tmp_path / "out")
    try:
        w.rebuild({str(folder)})
        seen = publications(w)
        bill = folder / "ledger.bill"
        bill.write_text(bill.read_text() + '2026-03-02 time zeta/dev 1h "New work"\n')
        w.rebuild({str(bill)})
        assert [(b, p) for _, b, p in seen] == [(False, None)]  # nothing to serve first: the whole build
        assert outputs(tmp_path / "out") == fresh(folder, tmp_path / "fresh")
    finally:
        w.workspace.close()
        w.server.server_close()


@pytest.mark.parametrize("seed", [3, 17, 2024])
def test_after_edits_the_preview_is_what_a_build_writes(tmp_path, seed):
    rng = random.Random(seed)
    ledger = tmp_path / "ledger"
    ledger.mkdir()
    files = split(generate(seed), "by-client")
    write(ledger, files)
    w = watcher(ledger, tmp_path / "out")
    seen = publications(w)
    try:
        done = []
        for i in range(6):
            if i:
                done.append(edit(files, rng))
                write(ledger, files)
            seen.clear()
            w.rebuild({str(ledger)})
            expected = fresh(ledger, tmp_path / f"fresh{i}")
            if expected is not None:
                assert w.preview.snapshot().ok, done
                assert outputs(tmp_path / "out") == expected, done
            if len(seen) == 2:  # what was served first is what the build ends with: not written again
                assert not set(seen[0][2] or ()) & set(seen[1][2] or ()), (done, seen)
    finally:
        w.workspace.close()
        w.server.server_close()


@pytest.mark.parametrize("seed", [3, 17, 2024, 77])
def test_a_client_page_made_alone_is_the_one_the_whole_site_makes(tmp_path, seed):
    """write_client_pages (the pages served first) computes only those clients' figures and links;
    every client's page so made is byte for byte the page of the whole site."""
    ledger = tmp_path / "ledger"
    ledger.mkdir()
    write(ledger, split(generate(seed), "by-client"))
    out = tmp_path / "out"
    workspace = Workspace()
    analysis = analyze(ledger, workspace=workspace, _check_cache=False)
    if not analysis.ok:
        pytest.skip("the generated ledger has errors")
    build(analysis, out, AS_OF, formats=("html",), jobs=1, workspace=workspace)
    whole = {p.name: p.read_bytes() for p in (out / "clients").glob("*.html")}
    assert whole
    rec = analysis.receivables(AS_OF)
    open_amounts = dues(rec, analysis.ledger.company)
    planned = plan(analysis, rec, overdue(rec, analysis.ledger.company, open_amounts), "theme", Workspace())
    done = read_manifest(out / MANIFEST, Workspace()).get("documents", {})
    for cid in analysis.ledger.clients:
        alone = tmp_path / f"alone-{cid}"
        written: list[str] = []
        write_client_pages(analysis, rec, open_amounts, planned, done, alone, frozenset({cid}), written, Workspace(),
                           durable=False)
        assert written, cid
        for rel in written:
            assert (alone / rel).read_bytes() == whole[Path(rel).name], (cid, rel)
