"""`textbill fmt`: canonical, idempotent, and it never changes what a ledger means."""
from __future__ import annotations

from pathlib import Path

import pytest
from conftest import cli

from textbill.syntax.parser import Syntax, parse_text
from textbill.syntax.printer import format_text

ROOT = Path(__file__).parents[1]
SYNTAX = Syntax()  # one parser for the module: building one costs 0.1 s
LEDGERS = sorted([*ROOT.glob("example-ledger/**/*.bill"), *ROOT.glob("tests/errors/*.bill"),
                  *ROOT.glob("tests/data/**/*.bill"), *ROOT.glob("fuzz/corpus/*.bill")])


@pytest.mark.parametrize("path", LEDGERS, ids=[str(p.relative_to(ROOT)) for p in LEDGERS])
def test_fmt_is_idempotent_and_round_trips(path: Path):
    text = path.read_text(encoding="utf-8", errors="replace")
    once, diags = format_text(text, path.name, SYNTAX)
    if once is None:  # a file that does not parse is refused, with its syntax errors
        assert diags and all(d.is_error for d in diags)
        return
    twice, _ = format_text(once, path.name, SYNTAX)
    assert twice == once
    before, _, _ = parse_text(text, path.name, SYNTAX)
    after, _, _ = parse_text(once, path.name, SYNTAX)
    assert after == before
    assert once.count(";") >= text.count(";") - text.count('";') - text.count("\\;")  # comments kept


def test_canonical_layout():
    text = (
        "company a \"A\"\n"
        "\tcurrency   USD   ; the books\n"
        "\n\n\n"
        "client c \"C\"\n"
        "      terms net 30\n"
        "2026-01-05   time c/h 1h \"a\"\n"
        "2026-01-06 time c/h 09:00-12:30   \"bb\"  #x\n"
        "2026-01-07 payment c 1_000.00 USD for INV-1\n"
        "2026-01-08 payment c 5 for INV-2\n"
    )
    out, _ = format_text(text, "x.bill")
    assert out == (
        "company a \"A\"\n"
        "  currency USD  ; the books\n"
        "\n"
        "client c \"C\"\n"
        "  terms net 30\n"
        "2026-01-05 time c/h          1h \"a\"\n"
        "2026-01-06 time c/h 09:00-12:30 \"bb\" #x\n"
        "2026-01-07 payment c 1_000.00 USD for INV-1\n"
        "2026-01-08 payment c        5     for INV-2\n"
    )


def test_fmt_refuses_a_file_that_does_not_parse(tmp_path):
    f = tmp_path / "x.bill"
    original = 'company a "A"\n  currency USD\nclient c "C\n'
    f.write_text(original)
    r = cli("fmt", str(f))
    assert r.code == 1 and "does not parse" in r.err
    assert f.read_text() == original


def test_fmt_check_reports_without_writing(tmp_path):
    f = tmp_path / "x.bill"
    f.write_text('company a "A"\n    currency USD\n')
    r = cli("fmt", "--check", str(f))
    assert r.code == 1 and "would reformat" in r.err
    assert f.read_text() == 'company a "A"\n    currency USD\n'
    assert cli("fmt", str(f)).code == 0
    assert f.read_text() == 'company a "A"\n  currency USD\n'
    assert cli("fmt", "--check", str(f)).code == 0


def test_fmt_diff_prints_a_unified_diff_and_writes_nothing(tmp_path):
    """Issue 13: `fmt --diff` rewrote the files it was asked to show; it is a dry run like --check."""
    f = tmp_path / "x.bill"
    f.write_text('company a "A"\n    currency USD\n')
    r = cli("fmt", "--diff", str(f))
    assert r.code == 1, r
    assert f.read_text() == 'company a "A"\n    currency USD\n'
    assert r.out.startswith("--- ") and "-    currency USD\n" in r.out and "+  currency USD\n" in r.out
    assert "reformatted" not in r.err
    assert cli("fmt", str(f)).code == 0
    r = cli("fmt", "--diff", str(f))
    assert r.code == 0 and r.out == ""


def test_fmt_refuses_a_symlinked_bill_file(tmp_path):
    """Issue 14: fmt on a symlinked .bill replaced the link with a formatted copy."""
    target = tmp_path / "real.txt"
    target.write_text('company a "A"\n    currency USD\n')
    ledger = tmp_path / "ledger"
    ledger.mkdir()
    (ledger / "ok.bill").write_text('client c "C"\n')
    link = ledger / "link.bill"
    link.symlink_to(target)
    for args in (("fmt", str(link)), ("fmt", str(ledger))):
        r = cli(*args)
        assert r.code == 1, r
        assert "link.bill: skipped: it is a symbolic link" in r.err
        assert link.is_symlink() and target.read_text() == 'company a "A"\n    currency USD\n'
