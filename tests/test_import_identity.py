"""Import identity is what a session means, not its row's bytes (issue 17); timeclock sessions are
booked as hledger books them: split at midnight, seconds kept."""
from __future__ import annotations

import csv
import io
import shutil
import subprocess
from collections import defaultdict
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from conftest import cli

from textbill.syntax.parser import parse_text
from textbill.workflow.importers import row_key

LEDGER = """
    client c "C"
      currency USD
    sow c/web "Web"
      period 2026-01-01 .. 2026-12-31
      hourly 150
    sow c/app "App"
      period 2026-01-01 .. 2026-12-31
      hourly 100
"""
CONFIG = 'toggl:\n  projects:\n    "Website redesign": c/web\n    "App": c/app\n'

TOGGL = """\
User,Email,Client,Project,Task,Description,Billable,Start date,Start time,End date,End time,Duration,Tags,Amount (USD)
Ann,ann@x.example,C,Website redesign,,Wireframes,Yes,2026-04-01,09:00:00,2026-04-01,11:30:00,02:30:00,Design,
Ann,ann@x.example,C,Website redesign,,Review,Yes,2026-04-02,14:00:00,2026-04-02,16:00:00,02:00:00,,
Bob,bob@x.example,C,App,,API work,Yes,2026-04-03,09:15:10,2026-04-03,12:45:40,03:30:30,,
Bob,bob@x.example,C,App,,Deploy,Yes,2026-04-06,22:00:00,2026-04-07,01:30:00,03:30:00,,
Ann,ann@x.example,C,Website redesign,,Copy edits,No,2026-04-08,10:00:00,2026-04-08,10:45:00,00:45:00,,
"""
# the same five sessions exported again: amounts filled in, columns reordered, other tags and
# e-mails, description case and spacing changed, and the Billable flag of nothing changed
TOGGL_AGAIN = """\
Project,User,Email,Description,Start date,Start time,End date,End time,Duration,Tags,Billable,Amount (USD)
Website redesign,Ann,ann@new.example,WIREFRAMES ,2026-04-01,09:00:00,2026-04-01,11:30:00,02:30:00,"Design, Client",375.00
Website redesign,Ann,ann@new.example,review,2026-04-02,14:00:00,2026-04-02,16:00:00,02:00:00,,300.00
App,Bob,robert@x.example,API  work,2026-04-03,09:15:10,2026-04-03,12:45:40,03:30:30,backend,350.83
App,Bob,robert@x.example,Deploy,2026-04-06,22:00:00,2026-04-07,01:30:00,03:30:00,,350.00
Website redesign,Ann,ann@new.example,Copy edits,2026-04-08,10:00:00,2026-04-08,10:45:00,00:45:00,,0.00
"""


def test_a_toggl_re_export_with_other_non_meaning_columns_writes_nothing(ledger, tmp_path):
    folder = ledger(LEDGER)
    (folder / "textbill.yaml").write_text(CONFIG)
    first, again = tmp_path / "april.csv", tmp_path / "april-again.csv"
    first.write_text(TOGGL)
    again.write_text(TOGGL_AGAIN)
    r = cli("import", "toggl", first, "-f", folder)
    assert r.code == 0 and "imported 6 time entries" in r.err, r  # the deploy runs past midnight
    before = (folder / "time.bill").read_text()
    for source in (again, first):
        r = cli("import", "toggl", source, "-f", folder)
        assert r.code == 0 and "nothing new" in r.err and "5 already imported" in r.err, r
        assert (folder / "time.bill").read_text() == before
    # and so April is billed once: 2.5h + 2h at 150 = 675.00; 3h30m30s (3h31m: 351.67) + 2h (200.00)
    # + 1h30m (150.00) at 100
    with (folder / "ledger.bill").open("a") as f:
        f.write("2026-04-30 invoice INV-2026-0001 c\n  period 2026-04-01 .. 2026-04-30\n")
    row = cli("invoices", "-f", folder, "--as-of", "2026-04-30", "--format", "json").json()[0]
    assert row["net"] == "1376.67"


def test_a_changed_start_or_end_is_a_new_session_and_check_still_warns(ledger, tmp_path):
    folder = ledger(LEDGER)
    (folder / "textbill.yaml").write_text(CONFIG)
    src = tmp_path / "t.csv"
    src.write_text(TOGGL)
    assert cli("import", "toggl", src, "-f", folder).code == 0
    src.write_text(TOGGL.replace("2026-04-02,16:00:00,02:00:00", "2026-04-02,16:30:00,02:30:00"))
    r = cli("import", "toggl", src, "-f", folder)
    assert r.code == 0 and "imported 1 time entry" in r.err and "4 already imported" in r.err
    checked = cli("check", folder, "--format", "json").json()
    assert [d["code"] for d in checked["diagnostics"] if d["code"] == "W130"] == ["W130"]


def test_toggl_rows_with_a_date_and_a_duration_only(ledger, tmp_path):
    folder = ledger(LEDGER)
    (folder / "textbill.yaml").write_text(CONFIG)
    src = tmp_path / "summary.csv"
    src.write_text("Project,Description,Start date,Start time,Duration\nApp,Call,2026-04-09,09:00:00,01:15:20\n")
    r = cli("import", "toggl", src, "-f", folder)
    assert r.code == 0, r
    assert (folder / "time.bill").read_text().startswith('2026-04-09 time c/app 09:00-10:15:20 "Call" #import-')
    # the same session with its end given instead means the same: nothing new
    src.write_text("Project,Description,Start date,Start time,End date,End time\n"
                   "App,call,2026-04-09,09:00:00,2026-04-09,10:15:20\n")
    assert "1 already imported" in cli("import", "toggl", src, "-f", folder).err


TIMECLOCK = """\
i 2026/01/05 22:15:30 c:app  Night deploy
o 2026/01/06 01:00:00
i 2026/01/07 09:00:00 c:web  Long day
o 2026/01/07 18:40:48
i 2026/01/08 23:00:00 c:web  Two nights
o 2026/01/10 00:30:10
i 2026/01/12 10:00:00 c:web  Short
o 2026/01/12 10:20:00
"""


def test_a_tab_for_two_spaces_imports_nothing_new(ledger, tmp_path):
    folder = ledger(LEDGER)
    src = tmp_path / "t.timeclock"
    src.write_text(TIMECLOCK)
    assert cli("import", "timeclock", src, "-f", folder).code == 0
    before = (folder / "time.bill").read_text()
    src.write_text(TIMECLOCK.replace("  ", "\t").replace(" c:", "  c:").replace("\n", "\r\n"))
    r = cli("import", "timeclock", src, "-f", folder)
    assert r.code == 0 and "nothing new" in r.err and "4 already imported" in r.err, r
    assert (folder / "time.bill").read_text() == before


def test_sessions_imported_by_an_earlier_textbill_are_not_imported_again(ledger, tmp_path):
    """Before, the tag hashed the raw row; such tags in a ledger still stop a re-import."""
    old = row_key("timeclock", "i 2026/01/07 09:00:00 c:web  Long day\no 2026/01/07 18:40:48", 1)
    folder = ledger(LEDGER + f'\n    2026-01-07 time c/web 9h40m "Long day" #import-{old}\n')
    src = tmp_path / "t.timeclock"
    src.write_text("i 2026/01/07 09:00:00 c:web  Long day\no 2026/01/07 18:40:48\n")
    r = cli("import", "timeclock", src, "-f", folder)
    assert r.code == 0 and "1 already imported" in r.err, r
    assert not (folder / "time.bill").exists()


def _hledger_daily(path) -> dict[tuple[str, str], Decimal]:
    run = subprocess.run(["hledger", "-f", str(path), "bal", "--daily", "-O", "csv", "--no-total"],
                         capture_output=True, text=True, check=True)
    rows = list(csv.reader(io.StringIO(run.stdout)))
    out = {}
    for row in rows[1:]:
        for day, cell in zip(rows[0][1:], row[1:], strict=True):
            if cell not in ("0", ""):
                out[(row[0].replace(":", "/"), day)] = Decimal(cell.rstrip("h"))
    return out


@pytest.mark.skipif(shutil.which("hledger") is None, reason="hledger is not installed")
def test_timeclock_hours_equal_hledgers(ledger, tmp_path):
    folder = ledger(LEDGER)
    src = tmp_path / "t.timeclock"
    src.write_text(TIMECLOCK)
    r = cli("import", "timeclock", src, "-f", folder)
    assert r.code == 0 and "imported 7 time entries" in r.err, r
    text = (folder / "time.bill").read_text()
    assert [ln.split(" #import-")[0] for ln in text.splitlines()] == [
        '2026-01-05 time c/app 22:15:30-24:00 "Night deploy"',
        '2026-01-06 time c/app 00:00-01:00 "Night deploy"',
        '2026-01-07 time c/web 09:00-18:40:48 "Long day"',
        '2026-01-08 time c/web 23:00-24:00 "Two nights"',
        '2026-01-09 time c/web 00:00-24:00 "Two nights"',
        '2026-01-10 time c/web 00:00-00:30:10 "Two nights"',
        '2026-01-12 time c/web 10:00-10:20 "Short"',
    ]
    nodes, diags, _ = parse_text(text, "time.bill")
    assert diags == []
    ours: dict = defaultdict(Decimal)
    for n in nodes:
        ours[(n.sow, n.date.isoformat())] += n.minutes / 60
    theirs = _hledger_daily(src)
    assert theirs[("c/web", "2026-01-07")] == Decimal("9.68")  # 9h40m48s, where textbill once said 9h40m
    assert {k: v.quantize(Decimal("0.01"), ROUND_HALF_EVEN) for k, v in ours.items()} == theirs
    # hledger holds each day's hours to the hundredth and adds those; textbill keeps the seconds
    # (the SOW increment rounds them when billed), so per SOW the totals agree to that rounding
    run = subprocess.run(["hledger", "-f", str(src), "bal", "-O", "csv", "--no-total"], capture_output=True,
                         text=True, check=True)
    totals = {row[0].replace(":", "/"): Decimal(row[1].rstrip("h"))
              for row in list(csv.reader(io.StringIO(run.stdout)))[1:]}
    assert totals == {"c/app": Decimal("2.74"), "c/web": Decimal("35.51")}
    for sow, total in totals.items():
        exact = sum((v for (s, _), v in ours.items() if s == sow), Decimal(0))
        assert abs(exact - total) < Decimal("0.005") * len(nodes), sow


def test_the_increment_rounds_what_the_seconds_kept(ledger, tmp_path):
    folder = ledger(LEDGER.replace("hourly 150", "hourly 150\n      increment 15m"))
    src = tmp_path / "t.timeclock"
    src.write_text("i 2026/01/07 09:00:00 c:web  Long day\no 2026/01/07 18:40:48\n"
                   "i 2026/01/08 09:00:00 c:web  Exact\no 2026/01/08 09:45:00\n")
    assert cli("import", "timeclock", src, "-f", folder).code == 0
    with (folder / "ledger.bill").open("a") as f:
        f.write("2026-01-31 invoice INV-2026-0001 c\n  sow web\n")
    row = cli("invoices", "-f", folder, "--as-of", "2026-01-31", "--format", "json").json()[0]
    # 9h40m48s rounds up to 9h45m, 45m stays: 10.5h x 150 = 1575.00
    assert row["net"] == "1575.00"
