"""Finding the ledger (spec section 7) without walking an unrelated tree, and deep folders.

Without -f or TEXTBILL_LEDGER the ledger is the nearest folder upward holding textbill.yaml, else
the current folder when it directly holds a `.bill` file; otherwise a usage error (exit 2) that
says how to make one.  Run from a big shared folder (a home or /tmp), textbill once read every
`.bill` file below it until the kernel killed it.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import cli, write_ledger


@pytest.fixture(autouse=True)
def _no_ledger_in_env(monkeypatch):
    monkeypatch.delenv("TEXTBILL_LEDGER", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")


def test_the_nearest_folder_upward_with_textbill_yaml_is_the_ledger(tmp_path, monkeypatch):
    root = write_ledger(tmp_path / "books", 'client globex "Globex"\n  currency USD\n', config="out: site\n")
    deep = root / "2026" / "q1"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    r = cli("check")
    assert r.code == 0, r
    assert "1 file" in r.err


def test_the_current_folder_holding_a_bill_file_is_the_ledger(tmp_path, monkeypatch):
    root = write_ledger(tmp_path / "plain", 'client globex "Globex"\n  currency USD\n')
    monkeypatch.chdir(root)
    r = cli("check")
    assert r.code == 0, r


def test_an_unrelated_tree_is_not_walked_and_is_a_usage_error(tmp_path, monkeypatch):
    shared = tmp_path / "shared-tmp"
    for i in range(30):  # other people's projects: .bill files below, none in the folder itself
        write_ledger(shared / f"project{i}" / "src", f'client c{i} "Someone else {i}"\n', company=False)
    monkeypatch.chdir(shared)
    r = cli("check")
    assert r.code == 2, r
    assert "no ledger found" in r.err
    assert "textbill init" in r.err
    assert "Someone else" not in r.err + r.out


def test_a_fifo_below_an_unrelated_folder_is_never_opened(tmp_path, monkeypatch):
    # had the tree been walked, opening this FIFO would wait forever
    shared = tmp_path / "shared"
    (shared / "deep").mkdir(parents=True)
    os.mkfifo(shared / "deep" / "trap.bill")
    monkeypatch.chdir(shared)
    r = cli("invoices")
    assert r.code == 2, r
    assert "no ledger found" in r.err


def test_fifteen_hundred_nested_folders_give_no_recursion_error(tmp_path):
    root = write_ledger(tmp_path / "ledger", 'client globex "Globex"\n  currency USD\n')
    levels = [root / "d"]
    for _ in range(1499):  # one level at a time: Path.mkdir(parents=True) itself recurses
        levels.append(levels[-1] / "d")
    try:
        for level in levels:
            level.mkdir()
        (levels[-1] / "deep.bill").write_text('client initech "Initech"\n  currency USD\n', encoding="utf-8")
        r = cli("check", "-f", root, "--no-cache")
        assert r.code == 0, r
        assert "2 files" in r.err
        r = cli("check", "-f", root)
        assert r.code == 0, r
    finally:
        # bottom-up here: pytest's own clean-up of old temporary folders (shutil.rmtree) recurses
        # and would fail on this tree in a later run
        (levels[-1] / "deep.bill").unlink(missing_ok=True)
        for level in reversed(levels):
            if level.is_dir():
                for extra in level.iterdir():
                    if extra.is_file() or extra.is_symlink():
                        extra.unlink()
                if level.is_dir() and not any(p.is_dir() for p in level.iterdir()):
                    level.rmdir()


def test_a_symlinked_folder_loop_is_not_followed(tmp_path):
    root = write_ledger(tmp_path / "ledger", 'client globex "Globex"\n  currency USD\n')
    (root / "loop").symlink_to(root, target_is_directory=True)
    r = cli("check", "-f", root, "--no-cache")
    assert r.code == 0, r
    assert "1 file" in r.err


def test_init_needs_no_ledger(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = cli("init", "fresh")
    assert r.code == 0, r
    assert (Path(tmp_path) / "fresh" / "textbill.yaml").is_file()
