"""Work shared with forked children (loading.forked.fork_map) and the passes that use it: the
cold parse and the lock check's digests give what one process gives."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from conftest import cli

from textbill import pipeline
from textbill.checks import locks
from textbill.loading import forked, loader
from textbill.loading.loader import load

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="forks")


def _pid_and_square(x: int) -> tuple[int, int]:
    return os.getpid(), x * x


def _encode(r: tuple[int, int]) -> bytes:
    return f"{r[0]} {r[1]}".encode()


def _decode(b: bytes) -> tuple[int, int]:
    pid, value = b.decode().split()
    return int(pid), int(value)


def test_children_compute_a_share_and_the_results_come_back_in_order():
    got = forked.fork_map(_pid_and_square, list(range(50)), 2, _encode, _decode)
    assert [v for _, v in got] == [x * x for x in range(50)]
    pids = {pid for pid, _ in got}
    assert os.getpid() in pids and len(pids) == 2  # this process and one child


def test_one_worker_or_a_running_thread_means_no_fork():
    assert {pid for pid, _ in forked.fork_map(_pid_and_square, list(range(10)), 1, _encode, _decode)} == {os.getpid()}
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        got = forked.fork_map(_pid_and_square, list(range(10)), 2, _encode, _decode)
    finally:
        stop.set()
        thread.join()
    assert {pid for pid, _ in got} == {os.getpid()}
    assert [v for _, v in got] == [x * x for x in range(10)]


def test_what_a_child_cannot_send_or_dies_on_is_computed_here():
    parent = os.getpid()

    def unsendable(r):
        if r[1] % 3 == 0:
            raise ValueError("cannot encode")
        return _encode(r)

    got = forked.fork_map(_pid_and_square, list(range(30)), 2, unsendable, _decode)
    assert [v for _, v in got] == [x * x for x in range(30)]
    assert all(pid == parent for pid, v in got if v % 3 == 0)
    assert any(pid != parent for pid, _ in got)

    def dies(x):
        if os.getpid() != parent:
            os._exit(3)  # the child ends without writing all it owes
        return _pid_and_square(x)

    assert [v for _, v in forked.fork_map(dies, list(range(20)), 2, _encode, _decode)] == [x * x for x in range(20)]

    def raises(x):
        if x == 17:
            raise KeyError(x)
        return _pid_and_square(x)

    with pytest.raises(KeyError):  # as in one process: the error is raised here, whoever met it first
        forked.fork_map(raises, list(range(20)), 2, _encode, _decode)


def test_shares_are_even_by_weight():
    shares = forked.shares([10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 2)
    assert sorted(i for s in shares for i in s) == list(range(11))
    assert [sum([10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1][i] for i in s) for s in shares] == [10, 10]


def _ledger(root: Path, files: int = 4, days: int = 28) -> Path:
    (root / "textbill.yaml").write_text("", encoding="utf-8")
    (root / "a.bill").write_text(
        'company me "Me Ltd"\n  currency EUR\n\nclient acme "Acme"\n\n'
        'sow acme/web "Web"\n  hourly 100 EUR\n', encoding="utf-8")
    for f in range(files):
        month = f + 1
        lines = "".join(f'2026-{month:02d}-{d:02d} time acme/web {h}h "Work"\n'
                        f'2026-{month:02d}-{d:02d} time acme/web 1.5h "Review"\n'
                        for d in range(1, days + 1) for h in (1, 2))
        lines += f"2026-{month:02d}-{days} invoice INV-2026-{month:04d} acme\n"
        (root / f"m{f}.bill").write_text(lines, encoding="utf-8")
    return root


def test_a_forked_parse_shares_equal_numbers_between_files(tmp_path, monkeypatch):
    root = _ledger(tmp_path)
    monkeypatch.setattr(loader, "PARALLEL_MIN_BYTES", 0)
    parallel = load(root, cache=False, workers=2)
    serial = load(root, cache=False, workers=1)
    assert parallel.ledger.times == serial.ledger.times
    # the files parsed by the child come back with the same Decimal object per written number
    # ("1.5" and "1" and "2" hours here), so the engine computes each kind of line once
    minutes = {}
    for t in parallel.ledger.times:
        minutes.setdefault(str(t.minutes), set()).add(id(t.minutes))
    assert set(minutes) == {"60", "120", "90.0"}
    assert all(len(ids) <= 2 for ids in minutes.values())  # one from this process, one from the children


def test_every_span_of_a_load_shares_one_object_per_line_number(tmp_path, monkeypatch):
    """Line numbers above 256 are objects of their own: parsed here or in a child, read back by
    columns or not, the spans of every file hold the interner's one object per number (64 MB in
    a ledger of a million entries), and their values are unchanged."""
    root = _ledger(tmp_path, files=0)
    for f in range(3):  # files longer than 256 lines
        (root / f"long{f}.bill").write_text("".join(f'2026-01-{d:02d} time acme/web {h}h "Work"\n'
                                                    for d in range(1, 29) for h in range(1, 16)), encoding="utf-8")
    monkeypatch.setattr(loader, "PARALLEL_MIN_BYTES", 0)
    for workers in (2, 1):
        loaded = load(root, cache=False, workers=workers)
        by_line: dict[int, set[int]] = {}
        for t in loaded.ledger.times:
            assert t.span.end_line is t.span.line
            by_line.setdefault(t.span.line, set()).add(id(t.span.line))
        high = [n for n in by_line if n > 256]
        assert len(high) > 100 and len({t.span.file for t in loaded.ledger.times}) > 1
        assert all(len(by_line[n]) == 1 for n in high), workers
    assert parallel_spans(root, 2) == parallel_spans(root, 1)


def parallel_spans(root: Path, workers: int) -> list:
    return [(t.span.file, t.span.line, t.span.col, t.span.end_line, t.span.end_col)
            for t in load(root, cache=False, workers=workers).ledger.times]


def test_lock_digests_computed_ahead_in_a_child_find_the_same_changes(tmp_path, monkeypatch):
    root = _ledger(tmp_path)
    assert cli("lock", "-f", root).code == 0
    text = (root / "m2.bill").read_text(encoding="utf-8").replace('2026-03-05 time acme/web 1h "Work"',
                                                                    '2026-03-05 time acme/web 3h "Work"')
    (root / "m2.bill").write_text(text, encoding="utf-8")
    calls = []
    real = forked.fork_map

    def spy(*args, **kwargs):
        calls.append(len(args[1]))
        return real(*args, **kwargs)

    monkeypatch.setattr(locks, "fork_map", spy)
    monkeypatch.setattr(locks, "PARALLEL_MIN_DIGESTS", 2)
    ahead = pipeline.analyze(root, cache=False)
    assert calls == [4]  # the four locked invoices, digested by this process and a child
    monkeypatch.setattr(locks, "PARALLEL_MIN_DIGESTS", 10_000)
    one = pipeline.analyze(root, cache=False)
    assert calls == [4]
    found = [(d.code, d.span, d.message) for d in ahead.diagnostics]
    assert found == [(d.code, d.span, d.message) for d in one.diagnostics]
    assert [code for code, _, _ in found if code.startswith("E")] == ["E170"]  # the edited entry, found by both
