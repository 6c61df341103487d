"""`textbill import timeclock|toggl`: time from other trackers, idempotent and checked before writing."""
from __future__ import annotations

from conftest import cli

from textbill.syntax.parser import parse_text

LEDGER = """
    client c "C"
    sow c/web "Web"
      period 2026-01-01 .. 2026-12-31
      hourly 100
    sow c/app "App"
      period 2026-01-01 .. 2026-12-31
      hourly 80
"""

TIMECLOCK = """\
; exported from timeclock.el
i 2026/01/05 09:00:00 c:web  Kickoff meeting
o 2026/01/05 10:30:00
i 2026/01/05 22:15 work:c:app  Night deploy
o 2026/01/06 01:00
i 2026-01-07 13:00:00 Acme website
o 2026-01-07 14:20:30
i 2026/01/08 08:00:00 c/app
o 2026/01/08 08:45:00
"""

TOGGL = """\
User,Email,Client,Project,Task,Description,Billable,Start date,Start time,End date,End time,Duration,Tags,Amount (USD)
Ann,ann@x.example,C,Website redesign,,Wireframes,Yes,2026-01-12,09:00:00,2026-01-12,11:30:00,02:30:00,"Design, Client Meeting",
Ann,ann@x.example,C,Website redesign,,Internal sync,No,2026-01-12,14:00:00,2026-01-12,14:30:00,00:30:00,,
Bob,bob@x.example,C,c/app,,API,Yes,2026-01-13,23:00:00,2026-01-14,00:40:00,01:40:00,,
"""


def times(path) -> list:
    nodes, diags, _ = parse_text(path.read_text(), path.name)
    assert diags == []
    return nodes


def test_timeclock_import_maps_accounts_and_is_idempotent(ledger, tmp_path):
    folder = ledger(LEDGER)
    (folder / "textbill.yaml").write_text('timeclock:\n  accounts:\n    "Acme website": c/web\n')
    src = tmp_path / "work.timeclock"
    src.write_text(TIMECLOCK)
    r = cli("import", "timeclock", src, "-f", folder)
    assert r.code == 0, r
    # the night session is split at midnight, as hledger splits it; seconds are kept
    assert "imported 5 time entries" in r.err
    lines = (folder / "time.bill").read_text().splitlines()
    assert [ln.split(" #import-")[0] for ln in lines] == [
        '2026-01-05 time c/web 09:00-10:30 "Kickoff meeting"',
        '2026-01-05 time c/app 22:15-24:00 "Night deploy"',
        '2026-01-06 time c/app 00:00-01:00 "Night deploy"',
        "2026-01-07 time c/web 13:00-14:20:30",
        "2026-01-08 time c/app 08:00-08:45",
    ]
    assert all(len(ln.split(" #import-")[1]) == 12 for ln in lines)
    assert cli("check", folder, "--format", "json").json()["errors"] == 0

    before = (folder / "time.bill").read_text()
    r = cli("import", "timeclock", src, "-f", folder)
    assert r.code == 0 and "nothing new" in r.err and "4 already imported" in r.err
    assert (folder / "time.bill").read_text() == before

    # a longer log of the same sessions adds only the new one
    src.write_text(TIMECLOCK + "i 2026/01/09 10:00:00 c:web  More\no 2026/01/09 11:00:00\n")
    r = cli("import", "timeclock", src, "-f", folder)
    assert r.code == 0 and "imported 1 time entry" in r.err
    assert len(times(folder / "time.bill")) == 6


def test_identical_sessions_are_two_entries_once(ledger, tmp_path):
    folder = ledger(LEDGER)
    src = tmp_path / "t.timeclock"
    src.write_text("i 2026/01/05 09:00:00 c:web  Same\no 2026/01/05 10:00:00\n" * 2)
    assert cli("import", "timeclock", src, "-f", folder).code == 0
    assert cli("import", "timeclock", src, "-f", folder).code == 0
    nodes = times(folder / "time.bill")
    assert len(nodes) == 2 and nodes[0].tags != nodes[1].tags


def test_an_unknown_account_imports_nothing(ledger, tmp_path):
    folder = ledger(LEDGER)
    src = tmp_path / "t.timeclock"
    src.write_text(TIMECLOCK)  # 'Acme website' is not mapped here
    r = cli("import", "timeclock", src, "-f", folder)
    assert r.code == 1
    assert "error[E192]: timeclock account 'Acme website' names no SOW" in r.err
    assert "t.timeclock:6:1" in r.err
    assert "nothing was imported" in r.err
    assert not (folder / "time.bill").exists()


def test_an_open_session_is_left_for_later(ledger, tmp_path):
    folder = ledger(LEDGER)
    src = tmp_path / "t.timeclock"
    src.write_text("i 2026/01/05 09:00:00 c:web  Done\no 2026/01/05 10:00:00\ni 2026/01/06 09:00:00 c:web  Running\n")
    r = cli("import", "timeclock", src, "-f", folder)
    assert r.code == 0 and "W191" in r.err and "still clocked in" in r.err
    assert len(times(folder / "time.bill")) == 1


def test_a_bad_line_is_located(ledger, tmp_path):
    folder = ledger(LEDGER)
    src = tmp_path / "t.timeclock"
    src.write_text("i 2026/01/05 09:00:00 c:web\nclock out at ten\n")
    r = cli("import", "timeclock", src, "-f", folder)
    assert r.code == 1 and "t.timeclock:2:1: error[E190]" in r.err


def test_entries_that_would_change_a_locked_invoice_are_refused(ledger, tmp_path):
    folder = ledger(LEDGER + """
    2026-01-05 time c/web 1h "billed"
    2026-01-31 invoice INV-2026-0001 c
      period 2026-01-01 .. 2026-01-31
    """)
    assert cli("lock", "-f", folder).code == 0
    src = tmp_path / "t.timeclock"
    src.write_text("i 2026/01/20 09:00:00 c:web  Forgotten\no 2026/01/20 10:00:00\n")
    before = (folder / "ledger.bill").read_text()
    r = cli("import", "timeclock", src, "-f", folder)
    assert r.code == 1
    # the entry would go where the latest time entry lives (spec section 1), here ledger.bill's line 17
    assert "E170" in r.err and "INV-2026-0001" in r.err and "ledger.bill:17" in r.err
    assert (folder / "ledger.bill").read_text() == before and not (folder / "time.bill").exists()


def test_entries_outside_the_sow_period_are_refused(ledger, tmp_path):
    folder = ledger(LEDGER)
    src = tmp_path / "t.timeclock"
    src.write_text("i 2025/12/20 09:00:00 c:web  Too early\no 2025/12/20 10:00:00\n")
    r = cli("import", "timeclock", src, "-f", folder)
    assert r.code == 1 and "E120" in r.err
    assert not (folder / "time.bill").exists()


def test_toggl_import_maps_projects_and_is_idempotent(ledger, tmp_path):
    folder = ledger(LEDGER)
    (folder / "textbill.yaml").write_text('toggl:\n  projects:\n    "Website redesign": c/web\n')
    src = tmp_path / "toggl.csv"
    src.write_text(TOGGL)
    r = cli("import", "toggl", src, "-f", folder, "--file", folder / "2026" / "toggl.bill")
    assert r.code == 0, r
    target = folder / "2026" / "toggl.bill"
    lines = [ln.split(" #import-")[0] for ln in target.read_text().splitlines()]
    assert lines == [
        '2026-01-12 time c/web 09:00-11:30 "Wireframes" #design #client-meeting',
        '2026-01-12 time c/web 14:00-14:30 "Internal sync"',
        '2026-01-13 time c/app 23:00-24:00 "API"',
        '2026-01-14 time c/app 00:00-00:40 "API"',
    ]
    nodes = times(target)
    assert [n.billable for n in nodes] == [True, False, True, True]
    before = target.read_text()
    r = cli("import", "toggl", src, "-f", folder, "--file", target)
    assert r.code == 0 and "3 already imported" in r.err
    assert target.read_text() == before


def test_toggl_unmapped_project_and_foreign_files(ledger, tmp_path):
    folder = ledger(LEDGER)
    src = tmp_path / "toggl.csv"
    src.write_text(TOGGL)
    r = cli("import", "toggl", src, "-f", folder)
    assert r.code == 1 and "Toggl project 'Website redesign' names no SOW" in r.err
    assert 'toggl: {projects: {"Website redesign": client/sow}}' in r.err
    src.write_text("a,b,c\n1,2,3\n")
    r = cli("import", "toggl", src, "-f", folder)
    assert r.code == 1 and "not a Toggl detailed export" in r.err
    assert not (folder / "time.bill").exists()


def test_dry_run_writes_nothing(ledger, tmp_path):
    folder = ledger(LEDGER)
    src = tmp_path / "t.timeclock"
    src.write_text("i 2026/01/05 09:00:00 c:web  X\no 2026/01/05 10:00:00\n")
    r = cli("import", "timeclock", src, "--dry-run", "-f", folder)
    assert r.code == 0 and r.out.startswith('2026-01-05 time c/web 09:00-10:00 "X" #import-')
    assert not (folder / "time.bill").exists()
