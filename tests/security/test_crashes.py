"""Valid or hostile input ends in a located error or a clean result, never a crash (issue 14.9).

Each case crashed before the fix: a garbage `.textbill/timers.json` raised KeyError, a CR in a
`clock in` description wrote a ledger that no longer parsed, an invoice dated 9999-12-31 raised
OverflowError, and a 300-character invoice number passed `check` but failed `build` with
ENAMETOOLONG.
"""
from __future__ import annotations

import json

import pytest
from conftest import cli

CLOCK = """
    client c "C"
    sow c/web "Web"
      hourly 100
"""

GARBAGE = [
    '{"timers": [{"start": "2026-01-05T09:00:00"}]}',          # no sow: KeyError
    '{"timers": [{"sow": "c/web"}]}',                           # no start: KeyError
    '{"timers": [{"sow": "c/web", "start": 5}]}',               # TypeError
    '{"timers": [{"sow": "c/web", "start": "yesterday"}]}',     # ValueError
    '{"timers": [{"sow": ["c/web"], "start": "2026-01-05T09:00:00"}]}',
    '{"timers": [{"sow": "c/web", "start": "2026-01-05T09:00:00", "tags": "a b"}]}',
    '{"timers": "all of them"}',
    '{"timers": [7]}',
    '[1, 2, 3]',
    '"just a string"',
    'null',
    '{"timers": [], "pending": [{"sow": "c/web"}]}',
    '\x00\x01 not json',
]


@pytest.mark.parametrize("text", GARBAGE)
@pytest.mark.parametrize("command", [("status",), ("in", "c/web"), ("out",), ("cancel",)])
def test_a_garbage_timers_file_is_a_clear_error(ledger, text, command):
    folder = ledger(CLOCK)
    (folder / ".textbill").mkdir()
    (folder / ".textbill" / "timers.json").write_text(text)
    before = {p: p.read_bytes() for p in folder.glob("*.bill")}
    r = cli("clock", *command, "-f", folder)
    assert r.code == 1, r
    assert "timers.json" in r.err and "fix or delete it" in r.err
    assert "Traceback" not in r.err and "internal error" not in r.err
    assert {p: p.read_bytes() for p in folder.glob("*.bill")} == before


@pytest.mark.parametrize("char", ["\r", "\x00", "\x1b", "\x0b", "\x85", "\u2028"])
def test_a_control_character_in_a_clock_in_description_is_refused(ledger, char):
    folder = ledger(CLOCK)
    r = cli("clock", "in", "c/web", f"Wire{char}frames", "--at", "2026-01-05T09:00", "-f", folder)
    assert r.code == 1, r
    assert "control character" in r.err
    assert cli("clock", "status", "--format", "json", "-f", folder).json() == []


@pytest.mark.parametrize("char", ["\r", "\r\n", "\n", "\x00", "\x1b", "\x0b", "\x0c", "\x85", "\u2028", "\t", '"', "\\"])
def test_whatever_a_description_holds_the_ledger_still_parses(ledger, char):
    """A description that reaches the writer anyway (a timers.json written by an older textbill,
    `clock out -m`, an import) is escaped: the entry reads back as one entry."""
    folder = ledger(CLOCK)
    (folder / ".textbill").mkdir()
    (folder / ".textbill" / "timers.json").write_text(json.dumps({"version": 1, "timers": [
        {"sow": "c/web", "start": "2026-01-05T09:00:00", "description": f"Wire{char}frames", "tags": []}]}))
    r = cli("clock", "out", "--at", "2026-01-05T10:00", "-f", folder)
    assert r.code == 0, r
    check = cli("check", folder, "--no-cache", "--format", "json").json()
    assert check["errors"] == 0, check
    times = [ln for f in folder.glob("*.bill") for ln in f.read_text().split("\n") if " time " in ln]
    assert len(times) == 1 and times[0].startswith("2026-01-05 time c/web 09:00-10:00 \"Wire")


# ---------------------------------------------------------------------------- the end of the calendar

LATE = """
    client acme "Acme"
      terms net 30
    sow acme/web "Web"
      hourly 100
    9999-12-30 time acme/web 1h
    9999-12-31 invoice INV-9999-0001 acme
"""


def test_an_invoice_whose_due_date_is_past_9999_is_a_located_error(ledger):
    folder = ledger(LATE)
    for args in (("check", folder), ("check", "--no-cache", folder), ("build", folder, "--out", folder / "out"),
                 ("invoices", "-f", folder)):
        r = cli(*args)
        assert r.code == 1, r
        assert "internal error" not in r.err and "Traceback" not in r.err
        assert "ledger.bill:11:20: error[E014]: invoice 'INV-9999-0001' of 9999-12-31 would be due after " \
               "9999-12-31" in r.err, r


@pytest.mark.parametrize("schedule", ["weekly", "biweekly", "monthly", "quarterly", "yearly"])
def test_every_command_survives_the_last_days_of_the_calendar(ledger, tmp_path, schedule):
    """Due dates that fit, but reminder steps, schedules and plans that reach past 9999-12-31."""
    folder = ledger(f"""
    client acme "Acme"
      terms eom 30
      email ap@acme.example
      reminders std
    reminders std
      step -3d "before"
      step +7d "first"
      step +30000d "late"
    sow acme/web "Web"
      period 9999-01-01 .. 9999-12-31
      hourly 100
      schedule {schedule}
    9999-11-29 time acme/web 1h
    9999-11-30 invoice INV-9999-0001 acme
    9999-12-01 plan INV-9999-0001 12 installments monthly
    9999-12-31 time acme/web 1h
    9999-12-31 payment acme 10.00 for INV-9999-0001
    """)
    as_of = ("--as-of", "9999-12-31")
    for args in (("check", folder), ("invoices", "-f", folder, *as_of), ("report", "overdue", "-f", folder, *as_of),
                 ("statement", "acme", "-f", folder, *as_of), ("draft", "-f", folder, *as_of),
                 ("issue", "-f", folder, "--dry-run", *as_of), ("export", "csv", "-f", folder),
                 ("remind", "-f", folder, "--out", tmp_path / "eml", *as_of),
                 ("build", folder, "--out", folder / "out")):
        r = cli(*args)
        assert r.code in (0, 1), (args, r)
        assert "internal error" not in r.err and "Traceback" not in r.err, (args, r)


# ---------------------------------------------------------------------------- long names

LONG = "A" * 290


def test_a_300_character_number_that_passes_check_builds(tmp_path):
    from conftest import write_ledger

    client = "c" + "x" * 299
    folder = write_ledger(tmp_path / "ledger", f"""
        client {client} "Acme"
          country US
        sow {client}/web "Web"
          hourly 100
        2026-01-05 time {client}/web 1h
        2026-01-31 invoice {LONG}-2026-0001 {client}
        2026-02-28 invoice {LONG}-2026-0002 {client}
        2026-03-01 credit-note {LONG}-CN-0001 for {LONG}-2026-0001 10.00 "Goodwill"
        2026-03-05 payment {client} 10.00
    """, config="formats: [html, json, csv, ubl]\n")
    bill = folder / "ledger.bill"
    bill.write_text(bill.read_text().replace("  currency USD\n",
                                             f'  currency USD\n  numbering "{LONG}-{{year}}-{{seq:04}}"\n'
                                             f'  credit-numbering "{LONG}-CN-{{seq:04}}"\n', 1))
    check = cli("check", folder, "--format", "json")
    assert check.json()["errors"] == 0, check
    r = cli("build", folder)
    assert r.code == 0, r
    assert "File name too long" not in r.err and "failed" not in r.err, r
    names = [p.name for p in (folder / "build").rglob("*")]
    assert max(len(n.encode()) for n in names) <= 120
    invoices = sorted(p.name for p in (folder / "build" / "invoices").iterdir() if p.suffix == ".html")
    assert len(invoices) == 2 and len(set(invoices)) == 2  # cut, yet distinct
    assert cli("build", folder).code == 0  # and a second build finds them again
    r = cli("remind", "-f", folder, "--out", tmp_path / "eml", "--as-of", "2026-12-31")
    assert "File name too long" not in r.err and "internal error" not in r.err, r
