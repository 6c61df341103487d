"""The front end: every mistake of a run reported, located; never a traceback."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import cli, write_ledger

FILE_A = '''\
company acme "Acme"
  currency USD

client globex "Globex"
sow globex/web "Web"
  hourly 100

2026-01-05 time globex/web 1h "Kickoff"
2026-02-30 time globex/web 1h "Impossible date"
2026-01-06 time globex/web 12:30-09:00 "Reversed clock range"
2026-01-31 invoice INV-2026-0001 globex
'''

FILE_B = '''\
2026-02-28 invoice INV-2026-0002 globx
  item "Misspelled client" 10
2026-02-28 invoice INV-2026-0001 globex
  item "Duplicate number" 10
2026-03-01 payment globex 10.00 for INV-2026-0009
2026-03-02 paymnet globex 10.00
'''


def test_six_independent_mistakes_in_two_files_give_six_located_diagnostics(tmp_path, monkeypatch):
    (tmp_path / "a.bill").write_text(FILE_A)
    (tmp_path / "b.bill").write_text(FILE_B)
    monkeypatch.chdir(tmp_path)
    r = cli("check", ".", "--format", "json")
    assert r.code == 1
    doc = r.json()
    errors = [d for d in doc["diagnostics"] if d["severity"] == "error"]
    found = {(d["file"], d["line"], d["code"]) for d in errors}
    assert found == {
        ("a.bill", 9, "E010"),    # impossible date
        ("a.bill", 10, "E011"),   # reversed clock range
        ("b.bill", 1, "E101"),    # misspelled client id
        ("b.bill", 3, "E112"),    # duplicate invoice number
        ("b.bill", 5, "E103"),    # payment for an unknown invoice
        ("b.bill", 6, "E002"),    # misspelled directive
    }, json.dumps(errors, indent=1)
    by_code = {d["code"]: d for d in errors}
    assert by_code["E101"]["hint"] == "did you mean 'globex'?"
    assert by_code["E101"]["col"] == 34
    assert by_code["E002"]["hint"] == "did you mean 'payment'?"
    assert all(d["col"] >= 1 for d in errors)


def test_text_diagnostics_quote_the_line_with_a_caret(tmp_path, monkeypatch):
    write_ledger(tmp_path, '''
        client globex "Globex"
        2026-01-31 invoice INV-2026-0001 globx
          item "x" 10
    ''')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    r = cli("check", ".")
    assert r.code == 1
    assert r.err.splitlines()[:5] == [
        "ledger.bill:7:34: error[E101]: unknown client 'globx'",
        "  |",
        "7 | 2026-01-31 invoice INV-2026-0001 globx",
        "  |                                  ^^^^^",
        "  help: did you mean 'globex'?",
    ]


def test_a_syntax_error_does_not_hide_later_directives(ledger):
    folder = ledger('''
        client globex "Globex"
          terms net thirty
        client initech "Initech"
        2026-01-31 invoice INV-2026-0001 initech
          item "x" 10
        2026-02-01 payment initec 10.00
    ''')
    r = cli("check", folder, "--format", "json")
    codes = sorted(d["code"] for d in r.json()["diagnostics"] if d["code"] != "W172")  # not locked
    assert codes == ["E001", "E101"]


def test_exit_codes(ledger, tmp_path):
    clean = ledger('client c "C"\n')
    assert cli("check", clean).code == 0
    warn = ledger('''
        client c "C"
        sow c/r "R"
          retainer 10 monthly
    ''')
    r = cli("check", warn)
    assert r.code == 0 and "W127" in r.err
    assert cli("check", warn, "--strict").code == 1
    assert cli("check", tmp_path / "missing").code == 2
    assert cli("check", clean, "--format", "yaml").code == 2
    assert cli("invoices", "-f", clean, "--as-of", "2026-13-01").code == 2


def test_json_diagnostics_document(ledger):
    folder = ledger('client c "C"\n  curency USD\n')
    r = cli("check", folder, "--format", "json")
    doc = r.json()
    assert doc["errors"] == 1 and doc["warnings"] == 0
    d = doc["diagnostics"][0]
    assert set(d) >= {"severity", "code", "message", "hint", "file", "line", "col"}
    assert (d["code"], d["line"], d["col"], d["hint"]) == ("E003", 7, 3, "did you mean 'currency'?")


def test_ledger_from_environment_and_upward_search(tmp_path, monkeypatch):
    root = write_ledger(tmp_path / "books", 'client c "C"\n')
    (root / "textbill.yaml").write_text("out: build\n")
    sub = root / "2026" / "q1"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    r = cli("check")
    assert r.code == 0 and "1 file" in r.err
    monkeypatch.chdir(tmp_path)
    r = cli("check", env={"TEXTBILL_LEDGER": str(root)})
    assert r.code == 0 and "1 file" in r.err
    r = cli("check", "-f", str(root / "ledger.bill"))
    assert r.code == 0


def test_config_unknown_key_is_a_located_error(ledger):
    folder = ledger('client c "C"\n')
    (folder / "textbill.yaml").write_text("out: build\nthem: modern\nformats: [html, pfd]\n")
    r = cli("check", folder, "--format", "json")
    diags = r.json()["diagnostics"]
    assert r.code == 1
    assert [(d["code"], d["line"], d["hint"]) for d in diags] == [
        ("E008", 2, "did you mean 'theme'?"),
        ("E008", 3, "did you mean 'pdf'?"),
    ]


def test_config_password_is_refused(ledger):
    folder = ledger('client c "C"\n')
    (folder / "textbill.yaml").write_text("smtp: {host: x, password: hunter2}\n")
    r = cli("check", folder)
    assert r.code == 1 and "TEXTBILL_SMTP_PASSWORD" in r.err


@pytest.mark.parametrize("content", [
    b"\x00\x01\x02binary junk\xff\xfe",
    b'company a "A"\n  address "caf\xe9"\n',
    b"\xef\xbb\xbfcompany a \"A\"\n",
    b"company a \"A\"\n  address \"" + b"9" * 500 + b"\"\n",
    b'company a "A"\n2026-01-01 fx USD EUR ' + b"9" * 500 + b"\n",
    b"\n" * 1000 + b"   \t ; only comments\n",
    b"company a \"A\"\r\n  currency EUR\r\n",
])
def test_hostile_input_never_tracebacks(tmp_path, content):
    (tmp_path / "x.bill").write_bytes(content)
    r = cli("check", tmp_path)
    assert r.code in (0, 1)
    assert "Traceback" not in r.err + r.out


def test_invalid_utf8_is_located(tmp_path, monkeypatch):
    (tmp_path / "x.bill").write_bytes(b'company a "A"\n  address "caf\xe9"\n')
    monkeypatch.chdir(tmp_path)
    r = cli("check", ".", "--format", "json")
    d = r.json()["diagnostics"][0]
    assert (d["code"], d["file"], d["line"], d["col"]) == ("E006", "x.bill", 2, 15)


def test_folder_without_bill_files(tmp_path):
    r = cli("check", tmp_path)
    assert r.code == 1 and "E007" in r.err


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file(tmp_path):
    f = tmp_path / "x.bill"
    f.write_text('company a "A"\n')
    f.chmod(0)
    r = cli("check", tmp_path)
    assert r.code == 1 and "E006" in r.err


def test_unreadable_directory_entry_is_reported_not_raised(tmp_path):
    (tmp_path / "dir.bill").mkdir()  # a folder named like a ledger file
    (tmp_path / "ok.bill").write_text('company a "A"\n')
    r = cli("check", tmp_path)
    assert r.code in (0, 1) and "Traceback" not in r.err


def test_a_50_mb_file_is_read_without_a_traceback(tmp_path):
    line = '2026-01-05 time c/h 1h "x"\n'
    head = 'company a "A"\nclient c "C"\nsow c/h "H"\n  hourly 10\n'
    n = 50 * 1024 * 1024 // len(line)
    (tmp_path / "big.bill").write_text(head + line * n)
    # run in a subprocess: the in-process runner keeps everything in memory twice
    proc = subprocess.run([sys.executable, "-m", "textbill", "check", str(tmp_path)],
                          capture_output=True, check=False, text=True, timeout=900)
    assert proc.returncode in (0, 1)
    assert "Traceback" not in proc.stderr


def test_a_very_long_line_fails_cleanly(tmp_path):
    (tmp_path / "x.bill").write_text('company a "A"\nclient c "' + "x" * 200_000 + '"\n')
    r = cli("check", tmp_path)
    assert r.code == 1 and "E009" in r.err


def _mutations(text: str, rng: random.Random) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 4)):
        op = rng.random()
        pos = rng.randrange(len(chars) + 1)
        if op < 0.3 and chars:
            del chars[min(pos, len(chars) - 1)]
        elif op < 0.6:
            chars.insert(pos, rng.choice('"\\;#%:-./_ \t\n0123456789abcxyzUSD\x00é'))
        elif op < 0.8 and chars:
            i, j = sorted(rng.sample(range(len(chars)), 2)) if len(chars) > 1 else (0, 0)
            chars[i:j] = chars[i:j][::-1]
        else:
            lines = "".join(chars).split("\n")
            rng.shuffle(lines)
            chars = list("\n".join(lines))
    return "".join(chars)


def test_thousands_of_mutated_ledgers_never_traceback(tmp_path):
    """Seeded mutations of the example ledger: exit 0 or 1, never a traceback."""
    from textbill.pipeline import analyze

    example = Path(__file__).parents[1] / "example-ledger"
    sources = [p.read_text(encoding="utf-8") for p in sorted(example.rglob("*.bill"))]
    base = "\n".join(sources)
    rng = random.Random(20261127)
    target = tmp_path / "m.bill"
    for i in range(1500):
        target.write_text(_mutations(base, rng), encoding="utf-8", errors="surrogateescape")
        try:
            analyze(target)
        except Exception as exc:  # pragma: no cover - the failure is the point
            raise AssertionError(f"mutation {i} crashed: {exc!r}\n{target.read_text()[:2000]}") from exc


def test_narrowing_points_the_caret_at_the_focus_word_and_keeps_everything_else():
    import dataclasses

    from textbill.core.diagnostics import Diagnostic, narrow, warning
    from textbill.core.source import Sources, Span

    sources = Sources()
    sources.add("a.bill", '2026-01-31 invoice INV-1 acme ; INV-2\n  note "INV-2 is next"\n')
    found = warning(Span("a.bill", 1, 1, 1, 30), "W172", "document issued but not locked", "lock it", focus="INV-1")
    later = warning(Span("a.bill", 1, 1, 1, 30), "W172", "in a quoted attribute", focus="INV-2 is next")
    plain = warning(Span("a.bill", 1, 1, 1, 30), "W172", "no focus")
    narrowed, quoted, same = narrow([found, later, plain], sources)
    assert narrowed.span == Span("a.bill", 1, 20, 1, 25) and quoted.span == Span("a.bill", 2, 8, 2, 23)
    assert same is plain
    for before, after in ((found, narrowed), (later, quoted)):  # every other field as it was
        assert after.focus is None
        assert {f.name: getattr(after, f.name) for f in dataclasses.fields(Diagnostic) if f.name not in ("span", "focus")} \
            == {f.name: getattr(before, f.name) for f in dataclasses.fields(Diagnostic) if f.name not in ("span", "focus")}
