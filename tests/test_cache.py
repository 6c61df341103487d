"""The parse cache and the check cache: used when valid, ignored when not, never trusted blindly."""
from __future__ import annotations

import dataclasses
import os
import pickle
import stat
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from textbill import pipeline
from textbill.core import model as m
from textbill.core.source import Span
from textbill.incremental import cache as cache_mod
from textbill.incremental import codec
from textbill.incremental.cache import CACHE_DIR, ParseCache
from textbill.incremental.codec import dumps, loads
from textbill.loading.loader import load
from textbill.syntax import fastpath
from textbill.syntax.fastpath import Interner
from textbill.syntax.parser import Syntax, parse_text

LEDGER = '''company me "Me Ltd"
  currency USD

client acme "Acme"

sow acme/web "Web"
  hourly 100 USD

2026-01-05 time acme/web 3h "Kickoff"
2026-01-06 time acme/web 09:00-12:30 "Wireframes" #design
2026-01-07 expense acme/web 120.00 USD "Photos" markup 10%
2026-01-31 invoice INV-2026-0001 acme
  note "Thanks"
2026-02-10 payment acme 100.00 for INV-2026-0001 via card
'''


@pytest.fixture
def ledger(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.bill").write_text(LEDGER, encoding="utf-8")
    (tmp_path / "b.bill").write_text('2026-01-08 time acme/web 1h "More"\n', encoding="utf-8")
    return tmp_path


def _entries(root: Path, kind: str = "parse") -> list[Path]:
    folder = root / CACHE_DIR
    return sorted(folder.glob(f"{kind}-*.pickle")) if folder.is_dir() else []


def _same(a, b):
    assert a.ledger.directives == b.ledger.directives
    assert [n.span for n in a.ledger.directives] == [n.span for n in b.ledger.directives]
    assert a.diagnostics == b.diagnostics


def test_second_load_comes_from_the_cache_and_equals_a_fresh_parse(ledger):
    first = load(ledger, cache=ParseCache)
    assert first.cache.misses == 2 and first.cache.written == 2
    second = load(ledger, cache=ParseCache)
    assert second.cache.hits == 2 and second.cache.written == 0
    _same(second, load(ledger, cache=False))


def test_no_cache_reads_and_writes_nothing(ledger):
    loaded = load(ledger, cache=False)
    assert loaded.cache is None
    assert not (ledger / ".textbill").exists()
    pipeline.analyze(ledger, cache=False)
    assert not (ledger / ".textbill").exists()


def test_cli_no_cache_flag(ledger):
    run = subprocess.run([sys.executable, "-m", "textbill", "check", "--no-cache", str(ledger)],
                         capture_output=True, check=False, text=True)
    assert run.returncode == 0, run.stderr
    assert not (ledger / ".textbill").exists()
    run = subprocess.run([sys.executable, "-m", "textbill", "check", str(ledger)], capture_output=True, check=False, text=True)
    assert run.returncode == 0, run.stderr
    assert _entries(ledger) and _entries(ledger, "check")


def test_a_one_file_edit_parses_only_that_file(ledger):
    load(ledger, cache=ParseCache)
    (ledger / "b.bill").write_text('2026-01-08 time acme/web 2h "More"\n', encoding="utf-8")
    again = load(ledger, cache=ParseCache)
    assert (again.cache.hits, again.cache.misses) == (1, 1)
    assert [t.minutes for t in again.ledger.times][-1] == 120


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "other-key", "foreign-class", "wrong-type",
                                    "foreign-node-class", "short-column", "kind-without-group", "node-unplaced"])
def test_a_corrupt_or_tampered_entry_is_ignored(ledger, damage):
    load(ledger, cache=ParseCache)
    entry = _entries(ledger)[0]
    # entries that verify (sealed with this user's secret) but whose content is wrong are still
    # refused; entries that do not verify never reach the unpickler (tests/security)
    secret = ParseCache(ledger).secret()
    data = cache_mod.unseal(secret, entry.stem, entry.read_bytes())
    if damage == "garbage":
        entry.write_bytes(b"\x80\x05not a pickle at all")
    elif damage == "truncated":
        entry.write_bytes(data[: len(data) // 2])
    elif damage == "empty":
        entry.write_bytes(b"")
    elif damage == "other-key":
        fmt, key, nodes, diags, broken = loads(data)
        entry.write_bytes(cache_mod.seal(secret, entry.stem, dumps((fmt, "0" * 64, nodes, diags, broken))))
    elif damage == "foreign-class":
        # a pickle that would run a command if it were unpickled without restrictions
        entry.write_bytes(cache_mod.seal(secret, entry.stem, pickle.dumps(_Evil())))
    elif damage == "wrong-type":
        fmt, key, (kinds, groups), diags, broken = loads(data)
        name, columns = groups[0]
        groups = ((name, (*columns[:-1], "not a column")), *groups[1:])
        entry.write_bytes(cache_mod.seal(secret, entry.stem, dumps((fmt, key, (kinds, groups), diags, broken))))
    else:  # the nodes' columns (cache.to_columns) changed so that they no longer describe nodes
        fmt, key, (kinds, groups), diags, broken = loads(data)
        name, columns = groups[0]
        if damage == "foreign-node-class":
            groups = (("Path", columns), *groups[1:])
        elif damage == "short-column":
            groups = ((name, (columns[0][:-1], *columns[1:])), *groups[1:])
        elif damage == "kind-without-group":
            kinds += bytes([len(groups)])
        else:
            kinds = kinds[:-1]
        entry.write_bytes(cache_mod.seal(secret, entry.stem, dumps((fmt, key, (kinds, groups), diags, broken))))
    again = load(ledger, cache=ParseCache)
    assert again.cache.misses == 1
    assert not (ledger / "pwned").exists()
    _same(again, load(ledger, cache=False))


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_the_restricted_unpickler_refuses_any_other_global():
    with pytest.raises(pickle.UnpicklingError):
        loads(pickle.dumps(_Evil()))
    with pytest.raises(pickle.UnpicklingError):
        loads(pickle.dumps(Path("x")))


def test_stale_entries_of_another_parser_are_not_used(ledger, monkeypatch):
    load(ledger, cache=ParseCache)
    cache_mod.parser_digest.cache_clear()
    monkeypatch.setattr(cache_mod, "FORMAT", cache_mod.FORMAT + 100)
    try:
        again = load(ledger, cache=ParseCache)
        assert again.cache.hits == 0 and again.cache.misses == 2
    finally:
        cache_mod.parser_digest.cache_clear()


def test_a_read_only_ledger_still_checks(ledger):
    if os.geteuid() == 0:
        pytest.skip("root writes anywhere")
    ledger.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        analysis = pipeline.analyze(ledger)
        assert analysis.ok
        assert not (ledger / ".textbill").exists()
    finally:
        ledger.chmod(stat.S_IRWXU)


def test_an_unwritable_cache_folder_only_turns_the_cache_off(ledger):
    (ledger / ".textbill").write_text("a file where the cache folder would be")
    analysis = pipeline.analyze(ledger)
    assert analysis.ok
    _same(analysis, pipeline.analyze(ledger, cache=False))


def test_parse_diagnostics_and_broken_names_are_cached(ledger):
    (ledger / "c.bill").write_text('client bad "x"\n  terms sometimes\n2026-02-30 time acme/web 1h\n',
                                   encoding="utf-8")
    first = load(ledger, cache=ParseCache)
    second = load(ledger, cache=ParseCache)
    assert second.cache.hits == 3
    assert first.diagnostics == second.diagnostics and first.diagnostics
    assert first.ledger.broken == second.ledger.broken and ("client", "bad") in second.ledger.broken


def test_diagnostics_quote_lines_of_cached_files(ledger):
    (ledger / "c.bill").write_text("2026-01-09 time acme/nope 1h\n", encoding="utf-8")
    load(ledger, cache=ParseCache)
    run = subprocess.run([sys.executable, "-m", "textbill", "check", str(ledger)], capture_output=True, check=False, text=True)
    assert "2026-01-09 time acme/nope 1h" in run.stderr and "E102" in run.stderr


# ---------------------------------------------------------------------------- the check cache

def test_an_unchanged_ledger_is_checked_from_the_check_cache(ledger):
    fresh = pipeline.analyze(ledger)
    cached = pipeline.analyze(ledger)
    assert type(cached) is not pipeline.Analysis
    assert cached.diagnostics == fresh.diagnostics
    assert cached.counts() == fresh.counts() == (2, len(fresh.ledger.directives), 1)
    # the rest is computed when something asks for it
    assert cached.books.invoices.keys() == fresh.books.invoices.keys()
    assert cached.ledger.directives == fresh.ledger.directives


@pytest.mark.parametrize("change", ["bill", "config", "lock", "new-file", "logo"])
def test_the_check_cache_sees_every_input(ledger, change):
    (ledger / "a.bill").write_text(LEDGER.replace('  currency USD\n', '  currency USD\n  logo "logo.png"\n'),
                                   encoding="utf-8")
    before = pipeline.analyze(ledger)
    assert any(d.code == "W181" for d in before.diagnostics)
    if change == "bill":
        (ledger / "b.bill").write_text('2026-01-08 time acme/nowhere 1h "More"\n', encoding="utf-8")
    elif change == "config":
        (ledger / "textbill.yaml").write_text("colour: red\n", encoding="utf-8")
    elif change == "lock":
        (ledger / "textbill.lock").write_text("garbage line\n", encoding="utf-8")
    elif change == "new-file":
        (ledger / "c.bill").write_text("2026-01-09 time acme/web 1h75m\n", encoding="utf-8")
    elif change == "logo":
        (ledger / "logo.png").write_bytes(b"\x89PNG")
    after = pipeline.analyze(ledger)
    assert after.diagnostics == pipeline.analyze(ledger, cache=False).diagnostics
    assert after.diagnostics != before.diagnostics


def test_a_tampered_check_entry_is_ignored(ledger):
    fresh = pipeline.analyze(ledger)
    for entry in _entries(ledger, "check"):
        entry.write_bytes(pickle.dumps(_Evil()))
    again = pipeline.analyze(ledger)
    assert type(again) is pipeline.Analysis
    assert again.diagnostics == fresh.diagnostics
    assert not (ledger / "pwned").exists()


def test_old_entries_are_pruned(ledger):
    for i in range(cache_mod.MAX_UNUSED + 10):
        (ledger / "b.bill").write_text(f'2026-01-08 time acme/web {i + 1}m "More"\n', encoding="utf-8")
        load(ledger, cache=ParseCache)
    assert len(_entries(ledger)) <= cache_mod.MAX_UNUSED + 2


def test_parallel_parse_builds_the_same_nodes(tmp_path, monkeypatch):
    from textbill.loading import loader

    monkeypatch.chdir(tmp_path)
    lines = "".join(f'2026-01-{d:02d} time acme/web {h}h "Work {h}"\n' for d in range(1, 29) for h in range(1, 9))
    (tmp_path / "a.bill").write_text(LEDGER, encoding="utf-8")
    for i in range(3):
        (tmp_path / f"m{i}.bill").write_text(lines + "2026-13-01 time acme/web 1h\n", encoding="utf-8")
    monkeypatch.setattr(loader, "PARALLEL_MIN_BYTES", 0)
    parallel = load(tmp_path, cache=False, workers=2)
    serial = load(tmp_path, cache=False, workers=1)
    _same(parallel, serial)
    assert any(d.code == "E010" for d in parallel.diagnostics)
    # with a parse cache, the workers send the nodes back by columns (cache.dump_parse)
    by_columns = load(tmp_path, cache=ParseCache, workers=2)
    assert by_columns.cache.written == 4
    _same(by_columns, serial)
    _same(load(tmp_path, cache=ParseCache), serial)


def test_a_parsed_file_is_quoted_from_disk_only_while_unchanged(ledger):
    (ledger / "c.bill").write_text("2026-01-09 time acme/nope 1h\n", encoding="utf-8")
    loaded = load(ledger, cache=False)
    assert loaded.sources.line("c.bill", 1) == "2026-01-09 time acme/nope 1h"
    again = load(ledger, cache=False)
    (ledger / "c.bill").write_text("2026-01-09 time acme/other 1h\n", encoding="utf-8")
    assert again.sources.line("c.bill", 1) is None  # never a line the diagnostics were not made from


def test_nodes_of_every_class_come_back_from_their_columns_equal_with_their_spans():
    nodes = []
    for i, cls in enumerate(sorted(codec.NODE_TYPES, key=lambda c: c.__name__)):
        for line in (1, 2):
            values = {f.name: Span(f"{cls.__name__}.bill", line + i, 3, line + i + 1, 7) if f.name == "span"
                      else f"{f.name}-{line}" for f in dataclasses.fields(cls)}
            nodes.append(cls(**values))
    nodes.append(nodes[0])  # a class seen again after others
    again = codec.from_columns(*loads(dumps(codec.to_columns(nodes))))
    assert again == nodes
    assert [type(n) for n in again] == [type(n) for n in nodes]
    assert [n.span for n in again] == [n.span for n in nodes] and all(type(n.span) is Span for n in again)
    with pytest.raises(dataclasses.FrozenInstanceError):
        again[0].span = None


def test_line_numbers_read_back_are_shared_and_a_column_of_anything_else_is_left_as_it_is(monkeypatch):
    shared = Interner()
    nodes = [m.TimeEntry(date(2026, 1, 1), "acme/web", Decimal(60), span=Span(f"{f}.bill", 1000 + i, 1, 1000 + i, 9))
             for f in "ab" for i in range(3)]
    again = codec.from_columns(*loads(dumps(codec.to_columns(nodes))), shared)
    assert again == nodes and [n.span for n in again] == [n.span for n in nodes]
    assert again[0].span.line is again[3].span.line is again[0].span.end_line  # one object for 1000
    table = shared.line_numbers(5000)
    assert all(table[n] == n for n in range(5001)) and table[1000] is again[0].span.line
    # a span over several lines: its end comes back as its own shared number
    longer = [*nodes, m.TimeEntry(date(2026, 1, 2), "acme/web", Decimal(60), span=Span("c.bill", 1000, 1, 1002, 4))]
    again = codec.from_columns(*loads(dumps(codec.to_columns(longer))), shared)
    assert again == longer and [n.span for n in again] == [n.span for n in longer]
    assert again[-1].span.line is table[1000] and again[-1].span.end_line is table[1002]
    assert shared.line_numbers(10) is table  # it grows only when asked for more
    # never past MAX_SHARED_LINE: a file of blank lines must not grow it without end
    monkeypatch.setattr(fastpath, "MAX_SHARED_LINE", 6000)
    assert len(shared.line_numbers(10**9)) == 6001 and shared.line(10**9) == 10**9
    far = [m.TimeEntry(date(2026, 1, 1), "acme/web", Decimal(60), span=Span("d.bill", 7000, 1, 7000, 9))]
    again = codec.from_columns(*loads(dumps(codec.to_columns(far))), shared)
    assert again == far and again[0].span.line == 7000 and len(shared.line_numbers(7000)) == 6001
    syntax = Syntax()
    syntax.interner = shared
    nodes, diags, _ = parse_text("\n" * 5999 + '2026-01-05 time acme/web 1h "a"\n' + "\n" * 1000
                                 + '2026-01-06 time acme/web 2h "b"\n', "e.bill", syntax)
    assert not diags and [n.span.line for n in nodes] == [6000, 7001] and nodes[0].span.line is shared.line(6000)
    # columns a tampered entry could hold: left as they are, never indexed into the table
    for column in ([1.5, 2], [2, 1.5], [-1, 3], [1 << 40], ["1", "2"], [None, 3], []):
        out = codec._shared_lines(list(column), Interner())
        assert out == column and [type(v) for v in out] == [type(v) for v in column]


def test_something_else_than_a_node_is_not_cached():
    with pytest.raises(TypeError):
        codec.to_columns(["not a node"])
