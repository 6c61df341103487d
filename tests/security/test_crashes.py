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
