"""Timers: `textbill clock in/out/status/cancel`, several at once, safe under concurrency."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from conftest import cli

from textbill.syntax.parser import parse_text

LEDGER = """
    client c "C"
    sow c/web "Web"
      hourly 100
      increment 15m
    sow c/app "App"
      hourly 80
    sow c/fixed "Fixed"
      fixed 1000
"""


def entries(path) -> list[str]:
    return [ln for ln in path.read_text().splitlines() if ln.strip()]


def test_clock_in_and_out_on_one_day_writes_a_clock_range(ledger):
    folder = ledger(LEDGER)
    r = cli("clock", "in", "c/web", "Wireframes", "--tag", "design", "--at", "2026-01-05T09:00", "-f", folder)
    assert r.code == 0, r
    r = cli("clock", "out", "--at", "2026-01-05T12:31:59", "-f", folder)
    assert r.code == 0, r
    # the entry is written as measured: seconds dropped, no rounding to the SOW increment
    assert entries(folder / "time.bill") == ['2026-01-05 time c/web 09:00-12:31 "Wireframes" #design']
    assert cli("check", folder, "--format", "json").json()["errors"] == 0
    # billing applies the increment: 3h31m -> 3h45m x 100
    bill = folder / "ledger.bill"
    bill.write_text(bill.read_text() + "2026-01-31 invoice INV-2026-0001 c\n")
    rows = cli("invoices", "-f", folder, "--as-of", "2026-02-01", "--format", "json").json()
    assert rows[0]["total"] == "375.00"


def test_a_timer_across_midnight_is_a_duration_on_its_first_day(ledger):
    folder = ledger(LEDGER)
    cli("clock", "in", "c/app", "--at", "2026-01-05T22:10", "-f", folder)
    r = cli("clock", "out", "c/app", "-m", "Night deploy", "--at", "2026-01-06T01:25", "-f", folder)
    assert r.code == 0, r
    assert entries(folder / "time.bill") == ['2026-01-05 time c/app 3h15m "Night deploy"']


def test_several_timers_at_once(ledger):
    folder = ledger(LEDGER)
    assert cli("clock", "in", "c/web", "a", "--at", "2026-01-05T09:00", "-f", folder).code == 0
    assert cli("clock", "in", "c/app", "b", "--at", "2026-01-05T09:30", "-f", folder).code == 0
    status = cli("clock", "status", "--format", "json", "-f", folder).json()
    assert [(s["sow"], s["start"], s["description"]) for s in status] == [
        ("c/web", "2026-01-05T09:00", "a"), ("c/app", "2026-01-05T09:30", "b")]
    r = cli("clock", "out", "--at", "2026-01-05T10:00", "-f", folder)
    assert r.code == 1 and "several timers are running" in r.err
    assert cli("clock", "out", "c/app", "--at", "2026-01-05T10:00", "-f", folder).code == 0
    assert cli("clock", "out", "--at", "2026-01-05T11:00", "-f", folder).code == 0
    assert entries(folder / "time.bill") == ['2026-01-05 time c/app 09:30-10:00 "b"',
                                            '2026-01-05 time c/web 09:00-11:00 "a"']
    assert cli("clock", "status", "--format", "json", "-f", folder).json() == []


def test_clock_mistakes_are_reported(ledger):
    folder = ledger(LEDGER)
    r = cli("clock", "in", "c/wbe", "-f", folder)
    assert r.code == 2 and "did you mean 'c/web'" in r.err
    r = cli("clock", "in", "c/fixed", "-f", folder)
    assert r.code == 2 and "priced fixed" in r.err
    assert cli("clock", "out", "-f", folder).code == 1
    cli("clock", "in", "c/web", "--at", "2026-01-05T09:00", "-f", folder)
    r = cli("clock", "in", "c/web", "-f", folder)
    assert r.code == 1 and "already running since 2026-01-05 09:00" in r.err
    r = cli("clock", "out", "--at", "2026-01-05T08:00", "-f", folder)
    assert r.code == 1 and "after" in r.err
    r = cli("clock", "in", "c/app", "--at", "25:00", "-f", folder)
    assert r.code == 2
    r = cli("clock", "cancel", "c/web", "-f", folder)
    assert r.code == 0 and not (folder / "time.bill").exists()


def test_under_a_minute_records_nothing(ledger):
    folder = ledger(LEDGER)
    cli("clock", "in", "c/web", "--at", "2026-01-05T09:00:10", "-f", folder)
    r = cli("clock", "out", "--at", "2026-01-05T09:00:50", "-f", folder)
    assert r.code == 0 and "nothing recorded" in r.err
    assert not (folder / "time.bill").exists()


def test_state_is_local_and_git_ignored(ledger):
    folder = ledger(LEDGER)
    cli("clock", "in", "c/web", "--at", "2026-01-05T09:00", "-f", folder)
    state = json.loads((folder / ".textbill" / "timers.json").read_text())
    assert state["timers"][0]["sow"] == "c/web"
    assert (folder / ".textbill" / ".gitignore").read_text().splitlines()[-1] == "*"


def test_entries_go_to_the_file_the_user_chooses(ledger):
    folder = ledger(LEDGER)
    cli("clock", "in", "c/web", "--at", "2026-01-05T09:00", "-f", folder)
    target = folder / "2026" / "time.bill"
    assert cli("clock", "out", "--at", "2026-01-05T10:00", "--file", target, "-f", folder).code == 0
    assert entries(target) == ["2026-01-05 time c/web 09:00-10:00"]


def test_twenty_concurrent_clock_outs_leave_twenty_intact_entries(ledger):
    sows = "\n".join(f"    sow c/s{i:02} \"S{i}\"\n      hourly 10" for i in range(20))
    folder = ledger('    client c "C"\n' + sows + "\n")
    for i in range(20):
        r = cli("clock", "in", f"c/s{i:02}", f"task {i}", "--at", "2026-01-05T08:00", "-f", folder)
        assert r.code == 0, r
    env = {k: v for k, v in os.environ.items() if k != "TEXTBILL_LEDGER"}

    def out(i):
        return subprocess.run([sys.executable, "-m", "textbill", "clock", "out", f"c/s{i:02}", "--at",
                               f"2026-01-05T{9 + i % 10:02}:{i:02}", "-f", str(folder)],
                              capture_output=True, check=False, text=True, env=env)

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(out, range(20)))
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    text = (folder / "time.bill").read_text()
    nodes, diags, _ = parse_text(text, "time.bill")
    assert diags == []
    assert sorted(n.sow for n in nodes) == [f"c/s{i:02}" for i in range(20)]
    assert {n.description for n in nodes} == {f"task {i}" for i in range(20)}
    assert cli("clock", "status", "--format", "json", "-f", folder).json() == []
    assert cli("check", folder, "--format", "json").json()["errors"] == 0
