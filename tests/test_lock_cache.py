"""The check cache and textbill.lock / textbill.yaml files that cannot be read (issue 14).

A lock that is there but not UTF-8 was stored under the key of an empty lock, so once the lock
was emptied `check` kept reporting the old E173 that `--no-cache` no longer saw; a textbill.yaml
that cannot be read shared the key of a missing one, so its error was hidden by the entry of the
ledger without one.  A file that cannot be read now has no check-cache key at all.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from conftest import cli

from textbill import pipeline

LEDGER = '''company me "Me Ltd"
  currency USD

client acme "Acme"

sow acme/web "Web"
  hourly 100 USD

2026-01-05 time acme/web 3h "Kickoff"
2026-01-31 invoice INV-2026-0001 acme
'''


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.bill").write_text(LEDGER, encoding="utf-8")
    return tmp_path


def _codes(folder: Path, *extra: str) -> list[str]:
    r = cli("check", folder, "--format", "json", *extra)
    return [d["code"] for d in r.json()["diagnostics"]]


def _same_with_and_without_cache(folder: Path) -> list[str]:
    cached = _codes(folder)
    assert cached == _codes(folder)  # a second, cached, run too
    assert cached == _codes(folder, "--no-cache")
    return cached


@pytest.mark.parametrize("fixed", ["emptied", "deleted", "relocked"])
def test_a_lock_error_is_gone_once_the_lock_is_fixed(folder, fixed):
    lock = folder / "textbill.lock"
    lock.write_bytes(b"\xff\xfe not text\n")
    assert "E173" in _same_with_and_without_cache(folder)
    if fixed == "emptied":
        lock.write_bytes(b"")
    elif fixed == "deleted":
        lock.unlink()
    else:
        lock.unlink()
        assert cli("lock", "-f", folder).code == 0
    assert "E173" not in _same_with_and_without_cache(folder)


def test_an_unreadable_lock_is_reported_after_an_empty_one_was_cached(folder):
    lock = folder / "textbill.lock"
    lock.write_bytes(b"")
    assert _same_with_and_without_cache(folder) == ["W172"]
    lock.write_bytes(b"\xff\xfe not text\n")
    assert "E173" in _same_with_and_without_cache(folder)


def test_an_unreadable_config_is_not_taken_for_a_missing_one(folder):
    config = folder / "textbill.yaml"
    assert "E006" not in _same_with_and_without_cache(folder)  # cached without a textbill.yaml
    config.write_bytes(b"locale: \xff\n")
    assert "E006" in _same_with_and_without_cache(folder)
    config.unlink()
    assert "E006" not in _same_with_and_without_cache(folder)


def test_a_readable_lock_and_config_are_still_served_from_the_check_cache(folder):
    (folder / "textbill.yaml").write_text("locale: en\n", encoding="utf-8")
    assert cli("lock", "-f", folder).code == 0
    fresh = pipeline.analyze(folder)
    cached = pipeline.analyze(folder)
    assert type(cached) is not pipeline.Analysis  # a hit
    assert cached.diagnostics == fresh.diagnostics == []
