"""Writes to .textbill/ kept back (Workspace.later): the watch serves a save's pages first and writes
the caches' and the state's entries for the next process after.  Kept or not, the entries are the
same and a new process finds them; and nothing is written before write_kept()."""
from __future__ import annotations

import shutil
import time
from datetime import date
from pathlib import Path

from conftest import write_ledger
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_incremental_persist import EDITS, fresh, make_ledger, new_process, outcome

from textbill.building.run import build
from textbill.incremental.books_memo import BooksMemo
from textbill.incremental.workspace import Workspace
from textbill.pipeline import analyze
from textbill.watch.loop import Watcher

LEDGER = """
client globex "Globex"
  currency USD
sow globex/web "Web"
  period 2026-01-01 .. 2026-12-31
  hourly 100.00
2026-01-05 time globex/web 2h "Kickoff"
2026-01-31 invoice INV-2026-0001 globex
  period 2026-01-01 .. 2026-01-31
2026-02-03 time globex/web 3h "Sprint"
2026-02-28 invoice INV-2026-0002 globex
  period 2026-02-01 .. 2026-02-28
"""
AS_OF = date(2026, 3, 15)


def entries(folder: Path) -> dict[str, int]:
    """.textbill's entries: {cache/NAME or state/NAME: mtime in ns}."""
    found = {}
    for sub in ("cache", "state"):
        for p in sorted((folder / ".textbill" / sub).glob("*.pickle")):
            found[f"{sub}/{p.name}"] = p.stat().st_mtime_ns
    return found


def _analysis_and_build(folder: Path, workspace: Workspace) -> None:
    analysis = analyze(folder, workspace=workspace, _check_cache=False)
    assert analysis.ok, analysis.diagnostics
    build(analysis, folder / "out", AS_OF, formats=("html",), jobs=1, workspace=workspace)


def test_kept_writes_wait_and_then_are_what_writing_at_once_gives(tmp_path):
    folder = write_ledger(tmp_path / "ledger", LEDGER)
    _analysis_and_build(folder, Workspace())
    at_once = entries(folder)
    shutil.rmtree(folder / ".textbill")
    shutil.rmtree(folder / "out")

    workspace = Workspace()
    workspace.later = []
    _analysis_and_build(folder, workspace)
    assert entries(folder) == {}  # nothing yet: the parse, check and state entries wait
    assert workspace.later
    workspace.write_kept()
    assert workspace.later == []
    assert entries(folder).keys() == at_once.keys() and at_once

    # a new process finds them: every invoice read back, none computed
    again = analyze(folder, workspace=Workspace(), _check_cache=False)
    assert again.persistence.books.revived == 2
    assert again.loaded.cache.hits == len(again.loaded.files) and again.loaded.cache.misses == 0


def test_without_a_list_writes_happen_at_once(tmp_path):
    folder = write_ledger(tmp_path / "ledger", LEDGER)
    workspace = Workspace()
    assert workspace.later is None
    _analysis_and_build(folder, workspace)
    assert entries(folder)


def test_the_watch_serves_the_pages_before_writing_the_entries(tmp_path):
    folder = write_ledger(tmp_path / "ledger", LEDGER)
    w = Watcher(folder, tmp_path / "out", port=0, as_of=lambda: AS_OF)
    seen: dict[str, dict] = {}
    serve_first = w._serve_first

    def first(files):
        seen["first"] = entries(folder)
        serve_first(files)

    w._serve_first = first
    w.start()
    try:
        deadline = time.monotonic() + 15
        while not w.builds and time.monotonic() < deadline:
            time.sleep(0.05)
        assert w.builds and entries(folder)  # the first build's, written once it was done
        time.sleep(0.1)
        before = entries(folder)
        bill = folder / "ledger.bill"
        bill.write_text(bill.read_text().replace('3h "Sprint"', '4h "Sprint"'))  # INV-2026-0002 changes
        count = len(w.builds)
        while len(w.builds) == count and time.monotonic() < deadline:
            time.sleep(0.02)
        while w.workspace.later and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.1)
        after = entries(folder)
    finally:
        w.stop()
    assert seen["first"] == before  # the edited invoice's page was out, nothing written yet
    assert after != before  # then the edited file's parse entry and the new state
    assert any(k.startswith("cache/parse-") and k not in before for k in after)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(EDITS), min_size=1, max_size=5))
def test_what_a_watch_keeps_back_serves_a_new_process_after_any_edits(tmp_path_factory, edits):
    """A long-lived workspace that keeps its writes back, as the watch's (parse results remembered,
    invoices in its books memo), analyses after each edit and then writes what it kept: a new
    process then reports what a fresh `--no-cache` one does (incremental/persist.py's trust rules
    hold for entries written late)."""
    folder = make_ledger(tmp_path_factory.mktemp("kept") / "ledger")
    watch = Workspace()
    watch.remember(folder)
    watch.books_memo = BooksMemo()
    watch.later = []
    for change in (None, *edits):
        if change is not None:
            change(folder)
        assert outcome(analyze(folder, workspace=watch, _check_cache=False)) == fresh(folder)
        watch.write_kept()
        found, persistence = new_process(folder)
        assert found == fresh(folder), change and change.__name__
        # what the watch wrote is what the new process read: every invoice, none computed again
        assert persistence.books.revived == len(found[1]), change and change.__name__
