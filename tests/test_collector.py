"""The cyclic garbage collector around large analyses: what is frozen, and for how long."""
from __future__ import annotations

import gc

import pytest
from conftest import write_ledger

from textbill.core.frozen import gc_paused, heap_frozen
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


def test_a_heap_frozen_before_stays_frozen_for_whoever_froze_it():
    gc.freeze()
    before = gc.get_freeze_count()
    with heap_frozen():
        pass
    assert gc.get_freeze_count() >= before > 0


def test_a_paused_stage_freezes_what_it_made_only_when_asked():
    with gc_paused():
        made = [[] for _ in range(1000)]
    assert gc.isenabled() and gc.get_freeze_count() == 0
    with gc_paused(freeze=True):
        made = [[] for _ in range(1000)]
    assert gc.isenabled() and gc.get_freeze_count() >= len(made)


def test_only_a_command_leaves_its_analysis_frozen(tmp_path):
    folder = write_ledger(tmp_path / "ledger", 'client acme "Acme"\n\n'
                          'sow acme/web "Web"\n  hourly 100 USD\n\n2026-01-05 time acme/web 3h "Kickoff"\n'
                          '2026-01-31 invoice INV-2026-0001 acme\n')
    analysis = analyze(folder, cache=False)  # the library: a long-lived caller's heap stays collectable
    assert analysis.ok and gc.get_freeze_count() == 0
    analysis = analyze(folder, cache=False, one_shot=True)  # a command: its process ends after it
    assert analysis.ok and gc.get_freeze_count() > 0
