"""Hostile input and failures: nothing escapes the ledger, nothing the user wrote is lost."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import cli, write_ledger

from textbill.loading import writer

LEDGER = '''
    client c "C"
    sow c/h "Hourly"
      period 2026-01-01 .. 2026-12-31
      hourly 100
      schedule monthly
    2026-01-05   time c/h 1h "x"
    2026-01-06 time c/h   2h "y"
'''


class Crash(Exception):
    pass


def _crash_before_rename(monkeypatch):
    def boom(tmp, path):
        raise Crash(f"killed while writing {path}")
    monkeypatch.setattr(writer, "_before_rename", boom)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and ".textbill" not in p.parts}


def test_fmt_killed_before_the_rename_leaves_the_ledger_unchanged(tmp_path, monkeypatch):
    folder = write_ledger(tmp_path / "l", LEDGER)
    before = _snapshot(folder)
    _crash_before_rename(monkeypatch)
    with pytest.raises(Crash):
        cli("fmt", "-f", folder)
    assert _snapshot(folder) == before  # no half-written file, no temporary file left behind


def test_issue_killed_before_the_rename_leaves_the_ledger_unchanged(tmp_path, monkeypatch):
    folder = write_ledger(tmp_path / "l", LEDGER)
    before = _snapshot(folder)
    assert "INV-2026-0001" in cli("draft", "-f", folder, "--as-of", "2026-02-10").out
    _crash_before_rename(monkeypatch)
    with pytest.raises(Crash):
        cli("issue", "-f", folder, "--as-of", "2026-02-10")
    assert _snapshot(folder) == before


def test_write_atomic_keeps_the_old_content_when_the_disk_is_full(tmp_path, monkeypatch):
    target = tmp_path / "ledger.bill"
    target.write_text("old content\n")

    real_fdopen = os.fdopen

    class Full:
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, data):
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fdopen", lambda fd, mode: Full(real_fdopen(fd, mode)))
    with pytest.raises(OSError):
        writer.write_atomic(target, b"new content\n")
    assert target.read_text() == "old content\n"
    assert [p.name for p in tmp_path.iterdir()] == ["ledger.bill"]


def test_theme_outside_the_ledger_is_a_located_error(tmp_path):
    folder = write_ledger(tmp_path / "l", 'client c "C"\n')
    (tmp_path / "evil").mkdir()
    (folder / "textbill.yaml").write_text("out: build\ntheme: ../evil\n")
    r = cli("check", folder, "--format", "json")
    assert r.code == 1
    d = next(x for x in r.json()["diagnostics"] if x["code"] == "E182")
    assert (d["line"], d["col"]) == (2, 8)
    assert "outside the ledger" in d["message"]


def test_unknown_theme_name_is_a_located_error(tmp_path):
    folder = write_ledger(tmp_path / "l", 'client c "C"\n')
    (folder / "textbill.yaml").write_text("theme: modrn\n")
    r = cli("check", folder)
    assert r.code == 1 and "E182" in r.err and "unknown theme 'modrn'" in r.err


def test_output_folder_outside_the_ledger_is_refused(tmp_path):
    folder = write_ledger(tmp_path / "l", 'client c "C"\n')
    (folder / "textbill.yaml").write_text("out: ../../somewhere\n")
    r = cli("check", folder)
    assert r.code == 1 and "E008" in r.err


def test_append_targets_must_stay_inside_the_ledger(tmp_path):
    folder = write_ledger(tmp_path / "l", LEDGER)
    outside = tmp_path / "outside.bill"
    r = cli("issue", "-f", folder, "--as-of", "2026-02-10", "--file", str(outside))
    assert r.code == 2 and not outside.exists()
    r = cli("issue", "-f", folder, "--as-of", "2026-02-10", "--file", "../escape.bill")
    assert r.code == 2 and not (tmp_path / "escape.bill").exists()


def test_document_numbers_cannot_write_outside_the_output_folder(tmp_path):
    folder = write_ledger(tmp_path / "l", '''
        client c "C"
        2026-01-31 invoice "../../../escape" c
          item "x" 10
        2026-02-01 invoice FV/2026/1 c
          item "y" 10
    ''')
    (folder / "textbill.yaml").write_text('formats: [html]\n')
    text = (folder / "ledger.bill").read_text().replace('  currency USD\n', '  currency USD\n  numbering "{seq}"\n', 1)
    text = text.replace("FV/2026/1", "2").replace('"../../../escape"', '"../../../1"')
    (folder / "ledger.bill").write_text(text)
    r = cli("build", folder, "--as-of", "2026-03-01")
    assert r.code == 1  # "../../../1" does not follow the pattern; nothing is built
    text = text.replace('numbering "{seq}"', 'numbering "../../{seq}"').replace('"../../../1"', '"../../1"') \
        .replace("invoice 2 c", 'invoice "../../2" c')
    (folder / "ledger.bill").write_text(text)
    r = cli("build", folder, "--as-of", "2026-03-01")
    assert r.code == 0, r
    out = (folder / "build").resolve()
    written = [p.resolve() for p in folder.rglob("*.html")]
    assert written and all(out in p.parents for p in written)
    assert not any(p.name.startswith(".") for p in (out / "invoices").iterdir())
    assert not (tmp_path / "1.html").exists() and not (tmp_path.parent / "1.html").exists()


def test_huge_values_are_bounded_not_computed(tmp_path):
    folder = write_ledger(tmp_path / "l", '''
        client c "C"
        sow c/h "H"
          hourly 99999999999999999999
        2026-01-05 time c/h 999999999h "x"
        2026-01-06 time c/h 9999999m "y"
        2026-01-31 invoice INV-2026-0001 c
          item "x" 99999999999999999999 x 99999999999999999999
          discount 1000000000% "x"
    ''')
    r = cli("check", folder, "--format", "json")
    assert r.code == 1
    codes = {d["code"] for d in r.json()["diagnostics"]}
    assert "E014" in codes
