"""The cyclic garbage collector around large analyses: what is frozen, and for how long."""
from __future__ import annotations

import gc
from datetime import date

import pytest
from conftest import write_ledger

from textbill.building.run import build
from textbill.core.frozen import gc_paused, heap_frozen
from textbill.incremental.workspace import Workspace
from textbill.pipeline import analyze


@pytest.fixture(autouse=True)
def _unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()  # the rest of the suite runs with a heap it can collect


def test_a_build_stage_freezes_the_heap_and_gives_it_back():
    with heap_frozen():
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_a_heap_its_owner_keeps_frozen_stays_frozen():
    gc.freeze()
    before = gc.get_freeze_count()
    with heap_frozen(keep=True):
        pass
    assert gc.get_freeze_count() >= before > 0


LEDGER = ('client acme "Acme"\n\nsow acme/web "Web"\n  hourly 100 USD\n\n2026-01-05 time acme/web 3h "Kickoff"\n'
          '2026-01-31 invoice INV-2026-0001 acme\n')


@pytest.mark.parametrize("one_shot", [False, True])
def test_a_build_leaves_the_heap_frozen_only_after_a_commands_analysis(tmp_path, one_shot):
    """A library caller's build gives the heap back collectable; a command's (whose process ends
    after it), or one in a workspace whose owner keeps it frozen (watch), leaves it frozen."""
    folder = write_ledger(tmp_path / "ledger", LEDGER)
    analysis = analyze(folder, cache=False, one_shot=one_shot)
    report = build(analysis, tmp_path / "out", date(2026, 2, 1), formats=("json",))
    assert report.ok and (gc.get_freeze_count() > 0) == one_shot
    gc.unfreeze()
    workspace = Workspace()
    workspace.keeps_heap_frozen = True
    build(analyze(folder, cache=False), tmp_path / "out2", date(2026, 2, 1), formats=("json",), workspace=workspace)
    assert gc.get_freeze_count() > 0


def test_a_paused_stage_freezes_what_it_made_only_when_asked():
    with gc_paused():
        made = [[] for _ in range(1000)]
    assert gc.isenabled() and gc.get_freeze_count() == 0
    with gc_paused(freeze=True):
        made = [[] for _ in range(1000)]
    assert gc.isenabled() and gc.get_freeze_count() >= len(made)


def test_only_a_command_leaves_its_analysis_frozen(tmp_path):
    folder = write_ledger(tmp_path / "ledger", LEDGER)
    analysis = analyze(folder, cache=False)  # the library: a long-lived caller's heap stays collectable
    assert analysis.ok and gc.get_freeze_count() == 0
    analysis = analyze(folder, cache=False, one_shot=True)  # a command: its process ends after it
    assert analysis.ok and gc.get_freeze_count() > 0
