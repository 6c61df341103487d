"""Attack: a pull request commits a `.textbill/` whose cache entries hide an error (issue 14.3).

The PR author changes a locked invoice (E170) and ships cache entries that say the ledger is clean.
The keys of both caches are predictable (version, paths, file contents), so the author can make
them on their own machine with textbill itself.  CI runs `check`, `check --strict` and `build` on
the PR: each must do exactly what it does with `--no-cache`.

Each attacker below uses textbill's own cache writer with their own secret (another
XDG_CACHE_HOME); before entries were sealed with a secret outside the ledger, every one of these
tests failed: `check` exited 0 and `build` rendered the changed invoice.
"""
from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest
from conftest import cli, write_ledger

from textbill.incremental.cache import CACHE_DIR, ParseCache, file_key, key_path
from textbill.loading.loader import display_name

LEDGER = """
    client globex "Globex"
      currency USD
      tax VAT 10%
    sow globex/web "Web"
      period 2026-01-01 .. 2026-12-31
      hourly 100.00
    2026-01-05 time globex/web 2h "Kickoff"
    2026-01-06 time globex/web 09:00-12:30 "Wireframes"
    2026-01-31 invoice INV-2026-0001 globex
      period 2026-01-01 .. 2026-01-31
"""


@pytest.fixture
def homes(tmp_path, monkeypatch):
    """Two users' cache folders: the attacker's machine and the CI runner; the CI one is active."""
    attacker, ci = tmp_path / "attacker-cache", tmp_path / "ci-cache"

    def use(which: Path) -> None:
        monkeypatch.setenv("XDG_CACHE_HOME", str(which))

    use(ci)
    return use, attacker, ci


@pytest.fixture
def locked_ledger(tmp_path, monkeypatch):
    """A ledger whose invoice is locked (as on main), and the PR's edit of a billed entry."""
    monkeypatch.chdir(tmp_path)
    folder = write_ledger(tmp_path / "ledger", LEDGER, config="formats: [html]\n")
    assert cli("lock", "-f", folder, "--no-cache").code == 0
    shutil.rmtree(folder / ".textbill", ignore_errors=True)
    return folder


def tamper(folder: Path) -> None:
    bill = folder / "ledger.bill"
    bill.write_text(bill.read_text().replace("09:00-12:30", "09:00-18:30"))


def no_cache_results(folder: Path, tmp: Path) -> dict:
    """What CI must see: check, check --strict and build without any cache."""
    return results(folder, tmp / "expected-out", "--no-cache")


def results(folder: Path, out: Path, *extra: str) -> dict:
    check = cli("check", folder, *extra)
    strict = cli("check", "--strict", folder, *extra)
    build = cli("build", folder, "--out", out, *extra)
    written = sorted(p.name for p in out.rglob("*") if p.is_file()) if out.exists() else []
    return {"check": (check.code, check.err), "strict": (strict.code, strict.err),
            "build": (build.code, written)}


def forge_check_entries(folder: Path) -> int:
    """The attacker's forgery: every check entry rewritten to say 'no problems'."""
    store = ParseCache(folder)
    forged = 0
    for entry in sorted((folder / CACHE_DIR).glob("check-*.pickle")):
        key = entry.name[len("check-"):-len(".pickle")]
        hit = store.get_check(key)
        assert hit is not None, "the attacker reads their own entry"
        store.put_check(key, [], hit[1], ())
        forged += 1
    return forged


def test_a_forged_check_entry_does_not_hide_e170(locked_ledger, homes, tmp_path):
    use, attacker, ci = homes
    tamper(locked_ledger)
    expected = no_cache_results(locked_ledger, tmp_path)
    assert expected["check"][0] == 1 and "E170" in expected["check"][1]
    assert expected["build"][0] == 1
    # the attacker, on their machine: a genuine run fills the cache, then the forgery
    use(attacker)
    assert cli("check", locked_ledger).code == 1
    assert forge_check_entries(locked_ledger) >= 1
    assert cli("check", locked_ledger).code == 0  # on the attacker's machine the forgery "works"
    # CI, with the PR's .textbill/ in the checkout
    use(ci)
    assert results(locked_ledger, tmp_path / "out") == expected


def test_a_forged_parse_entry_does_not_hide_e170(locked_ledger, homes, tmp_path):
    use, attacker, ci = homes
    bill = locked_ledger / "ledger.bill"
    use(attacker)
    assert cli("check", locked_ledger).code == 0  # parse entries of the untouched file
    store = ParseCache(locked_ledger)
    name = display_name(bill)
    original = store.get(file_key(name, bill.read_bytes()))
    assert original is not None
    tamper(locked_ledger)
    # the changed file's entry holds the nodes of the untouched file
    store.put(file_key(name, bill.read_bytes()), *original)
    for entry in (locked_ledger / CACHE_DIR).glob("check-*.pickle"):
        entry.unlink()
    assert cli("check", locked_ledger).code == 0  # on the attacker's machine the forgery "works"
    use(ci)
    expected = no_cache_results(locked_ledger, tmp_path)
    assert expected["check"][0] == 1 and "E170" in expected["check"][1]
    shutil.rmtree(tmp_path / "expected-out", ignore_errors=True)
    assert results(locked_ledger, tmp_path / "out") == expected


def test_a_secret_committed_inside_the_ledger_is_not_used(locked_ledger, homes, tmp_path):
    """CI that points XDG_CACHE_HOME into the checkout: the PR can then ship the secret too."""
    use, _, ci = homes
    planted = locked_ledger / ".cache"
    use(planted)
    tamper(locked_ledger)
    cli("check", locked_ledger)
    forge_check_entries(locked_ledger)
    use(ci)
    expected = no_cache_results(locked_ledger, tmp_path)
    use(planted)
    assert results(locked_ledger, tmp_path / "out") == expected
    assert not (planted / "textbill" / "key").exists()


def test_a_cache_copied_from_another_checkout_changes_nothing(locked_ledger, homes, tmp_path):
    """Entries of the same files made elsewhere (another machine) are misses, not results."""
    use, attacker, ci = homes
    use(attacker)
    assert cli("build", locked_ledger, "--out", tmp_path / "theirs").code == 0
    theirs = tmp_path / "their-cache"
    shutil.copytree(locked_ledger / ".textbill", theirs)
    tamper(locked_ledger)
    cli("check", locked_ledger)
    forge_check_entries(locked_ledger)
    shutil.copytree(theirs, locked_ledger / ".textbill", dirs_exist_ok=True)
    use(ci)
    expected = no_cache_results(locked_ledger, tmp_path)
    assert results(locked_ledger, tmp_path / "out") == expected
    # and CI's own cache, once written, gives the same answers
    assert results(locked_ledger, tmp_path / "out2") == expected


def test_the_secret_is_private_and_outside_the_ledger(locked_ledger, homes):
    _, _, ci = homes
    assert cli("check", locked_ledger).code == 0
    key = key_path()
    assert key == ci / "textbill" / "key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(bytes.fromhex(key.read_text().strip())) == 32
    before = key.read_bytes()
    assert cli("check", locked_ledger).code == 0
    assert key.read_bytes() == before  # made once, then reused
    # a damaged secret is replaced, never used as it is (an empty HMAC key is public)
    key.write_text("")
    assert cli("check", locked_ledger).code == 0
    assert len(bytes.fromhex(key.read_text().strip())) == 32
    assert not any(p.name == "key" for p in locked_ledger.rglob("*"))


def test_a_warm_check_still_comes_from_the_cache(locked_ledger, homes):
    from textbill import pipeline

    first = pipeline.analyze(locked_ledger)
    again = pipeline.analyze(locked_ledger)
    assert type(again) is not pipeline.Analysis  # the check cache answered
    assert again.diagnostics == first.diagnostics


def test_without_a_home_nothing_is_cached(locked_ledger, monkeypatch):
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: (_ for _ in ()).throw(RuntimeError("no home"))))
    assert cli("check", locked_ledger).code == 0
    assert not (locked_ledger / CACHE_DIR).exists() or not os.listdir(locked_ledger / CACHE_DIR)


@pytest.mark.parametrize("contents", ["empty", "yaml-only", "other-files"])
def test_a_folder_without_ledger_files_gets_no_cache(tmp_path, monkeypatch, contents):
    """Issue 13: `check` on a folder with no .bill files wrote .textbill/ into it."""
    folder = tmp_path / "not-a-ledger"
    folder.mkdir()
    if contents == "yaml-only":
        (folder / "textbill.yaml").write_text("formats: [html]\n")
    elif contents == "other-files":
        (folder / "notes.txt").write_text("hello\n")
    monkeypatch.chdir(folder)
    for args in (("check", folder), ("check", "--strict", folder), ("check", "--format", "json", folder)):
        r = cli(*args)
        assert r.code in (1, 2), r  # E007, or a usage error: no ledger here
    assert not (folder / ".textbill").exists()


def test_a_committed_cache_folder_symlink_cannot_write_or_delete_outside(locked_ledger, tmp_path):
    """`.textbill -> /elsewhere` (git stores symlinks): the cache neither writes nor prunes there."""
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "cache").mkdir(parents=True)
    precious = [elsewhere / "cache" / f"check-{i:064x}.pickle" for i in range(80)]
    for p in precious:
        p.write_bytes(b"someone else's file")
    (locked_ledger / ".textbill").symlink_to(elsewhere, target_is_directory=True)
    for i in range(3):  # enough runs with changes for a prune
        (locked_ledger / f"more{i}.bill").write_text(f'2026-02-0{i + 1} time globex/web 1h\n')
        assert cli("check", locked_ledger).code == 0
    assert sorted((elsewhere / "cache").iterdir()) == sorted(precious)
    assert all(p.read_bytes() == b"someone else's file" for p in precious)


@pytest.mark.parametrize("special", ["dev-zero", "fifo", "outside-file"])
def test_a_planted_entry_that_is_not_a_regular_file_is_not_read(locked_ledger, tmp_path, special):
    """The keys are predictable: an entry name can be planted as a symlink to /dev/zero or a FIFO."""
    shutil.rmtree(locked_ledger / ".textbill", ignore_errors=True)
    bill = locked_ledger / "ledger.bill"
    name = display_name(bill)
    folder = locked_ledger / CACHE_DIR
    folder.mkdir(parents=True)
    entry = folder / f"parse-{file_key(name, bill.read_bytes())}.pickle"
    if special == "dev-zero":
        entry.symlink_to("/dev/zero")
    elif special == "fifo":
        os.mkfifo(entry)
    else:
        outside = tmp_path / "secret.txt"
        outside.write_text("not for the ledger")
        entry.symlink_to(outside)
    expected = cli("check", "--no-cache", locked_ledger)
    r = cli("check", locked_ledger)
    assert (r.code, r.err) == (expected.code, expected.err)
