"""Two-step writes survive a kill between their steps (issue 14, "also weak").

`clock out` appends a time entry and forgets the timer; `issue` appends invoices and locks them.
Each test kills the command between its two writes (an exception that nothing catches, as a
SIGKILL would leave the files), then reruns it as a user would.  Before the fix, the rerun of
`clock out` wrote the entry a second time, and the rerun of `issue` left the invoices unlocked.
"""
from __future__ import annotations

import pytest
from conftest import cli

from textbill.checks.locks import read_lock
from textbill.workflow import issue as issue_mod
from textbill.workflow import timers

CLOCK = """
    client c "C"
    sow c/web "Web"
      hourly 100
"""

ISSUE = """
    client c "C"
      tax VAT 10%
    sow c/web "Web"
      period 2026-01-01 .. 2026-12-31
      hourly 100
      schedule monthly
    2026-01-05 time c/web 2h "a"
"""


class Killed(BaseException):
    """The process dies here: no handler runs, the files stay as they are."""


def all_lines(folder, word: str) -> list[str]:
    return [ln for f in sorted(folder.rglob("*.bill")) for ln in f.read_text().splitlines() if f" {word} " in ln]


def test_clock_out_killed_after_the_entry_is_written_does_not_write_it_twice(ledger, monkeypatch):
    folder = ledger(CLOCK)
    assert cli("clock", "in", "c/web", "Wireframes", "--at", "2026-01-05T09:00", "-f", folder).code == 0
    real = timers.write_atomic

    def die_once_the_entry_is_in_the_ledger(path, data, *args, **kwargs):
        if all_lines(folder, "time"):
            raise Killed
        return real(path, data, *args, **kwargs)

    monkeypatch.setattr(timers, "write_atomic", die_once_the_entry_is_in_the_ledger)
    with pytest.raises(Killed):
        cli("clock", "out", "--at", "2026-01-05T12:00", "-f", folder)
    monkeypatch.setattr(timers, "write_atomic", real)
    assert all_lines(folder, "time") == ['2026-01-05 time c/web 09:00-12:00 "Wireframes"']
    # the user runs it again
    r = cli("clock", "out", "--at", "2026-01-05T12:05", "-f", folder)
    assert r.code == 0, r
    assert all_lines(folder, "time") == ['2026-01-05 time c/web 09:00-12:00 "Wireframes"']
    assert cli("clock", "status", "--format", "json", "-f", folder).json() == []
    assert cli("check", folder).code == 0


def test_clock_out_killed_before_the_entry_is_written_loses_nothing(ledger, monkeypatch):
    folder = ledger(CLOCK)
    assert cli("clock", "in", "c/web", "--at", "2026-01-05T09:00", "-f", folder).code == 0

    def die(*args, **kwargs):
        raise Killed

    monkeypatch.setattr(timers, "append_text", die)
    with pytest.raises(Killed):
        cli("clock", "out", "--at", "2026-01-05T10:30", "-f", folder)
    monkeypatch.undo()
    r = cli("clock", "out", "--at", "2026-01-05T11:00", "-f", folder)
    assert r.code == 0, r
    # the entry measured by the interrupted run, once (not a second, longer one)
    assert all_lines(folder, "time") == ["2026-01-05 time c/web 09:00-10:30"]
    assert cli("clock", "status", "--format", "json", "-f", folder).json() == []


def test_an_owed_entry_planted_in_timers_json_cannot_write_outside_the_ledger(ledger, tmp_path):
    """.textbill/ may come from a stranger's commit: the recovery record is input too."""
    folder = ledger(CLOCK)
    victim = tmp_path / "victim.bill"
    victim.write_text("")
    (folder / ".textbill").mkdir(exist_ok=True)
    (folder / ".textbill" / "timers.json").write_text(
        '{"version": 1, "timers": [], "pending": [{"sow": "c/web", "target": "../victim.bill", '
        '"offset": 0, "text": "2026-01-05 time c/web 1h\\n"}]}')
    r = cli("clock", "status", "-f", folder)
    assert r.code == 1 and "timers.json" in r.err and "Traceback" not in r.err
    assert victim.read_text() == ""


def test_issue_killed_between_append_and_lock_is_locked_by_the_rerun(ledger, monkeypatch):
    folder = ledger(ISSUE)

    def die(*args, **kwargs):
        raise Killed

    monkeypatch.setattr(issue_mod, "write_lock", die)
    with pytest.raises(Killed):
        cli("issue", "-f", folder, "--as-of", "2026-02-01")
    monkeypatch.undo()
    assert all_lines(folder, "invoice") == ["2026-02-01 invoice INV-2026-0001 c"]
    assert read_lock(folder).entries == {} or "INV-2026-0001" not in read_lock(folder).entries
    r = cli("issue", "-f", folder, "--as-of", "2026-02-01")
    assert r.code == 0, r
    assert all_lines(folder, "invoice") == ["2026-02-01 invoice INV-2026-0001 c"]  # not issued twice
    assert set(read_lock(folder).entries) == {"INV-2026-0001"}
    assert cli("check", folder, "--format", "json").json()["diagnostics"] == []


def test_issue_killed_before_its_append_issues_once_on_the_rerun(ledger, monkeypatch):
    folder = ledger(ISSUE)

    def die(*args, **kwargs):
        raise Killed

    monkeypatch.setattr(issue_mod, "append_text", die)
    with pytest.raises(Killed):
        cli("issue", "-f", folder, "--as-of", "2026-02-01")
    monkeypatch.undo()
    assert all_lines(folder, "invoice") == []
    r = cli("issue", "-f", folder, "--as-of", "2026-02-01")
    assert r.code == 0, r
    assert all_lines(folder, "invoice") == ["2026-02-01 invoice INV-2026-0001 c"]
    assert set(read_lock(folder).entries) == {"INV-2026-0001"}
