"""Work shared with forked children (loading.forked.fork_map) and the passes that use it: the
cold parse and the lock check's digests give what one process gives."""
from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from datetime import date
from pathlib import Path

import pytest
from conftest import cli
from test_incremental_build import outputs

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


def _meeting(tmp_path: Path, processes: int = 2):
    """_pid_and_square, but each process's first item waits until every process has started
    one: items are handed out from a queue, and a child that starts late would otherwise find
    it emptied by this process."""
    arrived = tmp_path / f"arrived-{len(list(tmp_path.glob('arrived-*')))}"
    arrived.touch()

    def square(x: int) -> tuple[int, int]:
        pid = str(os.getpid())
        if pid not in arrived.read_text().split():
            with arrived.open("a") as out:
                out.write(pid + "\n")
            deadline = time.monotonic() + 60
            while len(arrived.read_text().split()) < processes:
                assert time.monotonic() < deadline, "the other process never took an item"
                time.sleep(0.005)
        return _pid_and_square(x)

    return square


def test_children_compute_a_share_and_the_results_come_back_in_order(tmp_path):
    got = forked.fork_map(_meeting(tmp_path), list(range(50)), 2, _encode, _decode)
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


def test_what_a_child_cannot_send_or_dies_on_is_computed_here(tmp_path):
    parent = os.getpid()

    def unsendable(r):
        if r[1] % 3 == 0:
            raise ValueError("cannot encode")
        return _encode(r)

    got = forked.fork_map(_meeting(tmp_path), list(range(30)), 2, unsendable, _decode)
    assert [v for _, v in got] == [x * x for x in range(30)]
    assert all(pid == parent for pid, v in got if v % 3 == 0)
    assert any(pid != parent for pid, _ in got)

    meet = _meeting(tmp_path)

    def dies(x):
        result = meet(x)  # the child takes an item too
        if os.getpid() != parent:
            os._exit(3)  # the child ends without writing all it owes
        return result

    assert [v for _, v in forked.fork_map(dies, list(range(20)), 2, _encode, _decode)] == [x * x for x in range(20)]

    def raises(x):
        if x == 17:
            raise KeyError(x)
        return _pid_and_square(x)

    with pytest.raises(KeyError):  # as in one process: the error is raised here, whoever met it first
        forked.fork_map(raises, list(range(20)), 2, _encode, _decode)


def test_a_process_busy_with_one_item_leaves_the_others_to_the_rest(tmp_path):
    # The heavy item cannot end before the 20 light ones are done, so it ends only if the process
    # that took it leaves them all to the other: items come from a queue, not in fixed shares
    # (with fixed shares by weight, 10 of the light ones would wait behind it forever).
    done = tmp_path / "light-done"
    done.touch()

    def work(x: int) -> tuple[int, int]:
        if x == 0:
            deadline = time.monotonic() + 60
            while done.read_text().count("\n") < 20:
                assert time.monotonic() < deadline, "the light items never got done"
                time.sleep(0.01)
        else:
            with done.open("a") as out:
                out.write(f"{x}\n")
        return os.getpid(), x

    got = forked.fork_map(work, list(range(21)), 2, _encode, _decode, weights=[10] + [1] * 20)
    assert [x for _, x in got] == list(range(21))
    heavy_pid = got[0][0]
    assert all(pid != heavy_pid for pid, _ in got[1:])
    assert len({pid for pid, _ in got}) == 2


def test_beyond_the_queue_s_size_a_token_stands_for_a_run_of_items(monkeypatch, tmp_path):
    monkeypatch.setattr(forked, "MAX_TOKENS", 4)
    got = forked.fork_map(_meeting(tmp_path), list(range(50)), 2, _encode, _decode, weights=list(range(50)))
    assert [v for _, v in got] == [x * x for x in range(50)]
    assert len({pid for pid, _ in got}) == 2
    # the order of work is the heaviest first, in runs of 13 positions: a run is done by one process
    order = list(range(49, -1, -1))
    runs = [order[k:k + 13] for k in range(0, 50, 13)]
    assert all(len({got[i][0] for i in run}) == 1 for run in runs)


def test_the_order_of_work_is_the_heaviest_first():
    assert forked.heaviest_first([1, 5, 3, 5]) == [1, 3, 2, 0]

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


@contextlib.contextmanager
def _both_processes_parse(monkeypatch, tmp_path: Path):
    """Within: a forked parse's processes each parse a file at least (the child's come back by
    columns, which is what the test looks at), whatever the order they start in."""
    meet = _meeting(tmp_path)
    real = loader.parse_source

    def parse_source(*args):
        meet(0)
        return real(*args)

    with monkeypatch.context() as patch:
        patch.setattr(loader, "parse_source", parse_source)
        yield


def test_a_forked_parse_shares_equal_numbers_between_files(tmp_path, monkeypatch):
    root = _ledger(tmp_path)
    monkeypatch.setattr(loader, "PARALLEL_MIN_BYTES", 0)
    with _both_processes_parse(monkeypatch, tmp_path):
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
        with _both_processes_parse(monkeypatch, tmp_path) if workers == 2 else contextlib.nullcontext():
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
    meet, real_digest = _meeting(tmp_path), locks._make_digest
    with monkeypatch.context() as patch:  # each process digests one invoice at least
        patch.setattr(locks, "_make_digest", lambda job: (meet(0), real_digest(job))[1])
        ahead = pipeline.analyze(root, cache=False)
    assert calls == [4]  # the four locked invoices, digested by this process and a child
    monkeypatch.setattr(locks, "PARALLEL_MIN_DIGESTS", 10_000)
    one = pipeline.analyze(root, cache=False)
    assert calls == [4]
    found = [(d.code, d.span, d.message) for d in ahead.diagnostics]
    assert found == [(d.code, d.span, d.message) for d in one.diagnostics]
    assert [code for code, _, _ in found if code.startswith("E")] == ["E170"]  # the edited entry, found by both


def _site_ledger(tmp_path: Path) -> Path:
    """Two clients, paid and unpaid invoices: a dashboard with rows, a model with invoices."""
    root = tmp_path / "site-ledger"
    root.mkdir()
    (root / "ledger.bill").write_text(
        'company me "Me Ltd"\n  currency EUR\n\n'
        'client acme "Acme"\n\nclient zeta "Zeta"\n\n'
        'sow acme/web "Web"\n  hourly 100 EUR\n\nsow zeta/ops "Ops"\n  hourly 80 EUR\n\n'
        '2026-01-05 time acme/web 2h "Design"\n2026-01-06 time zeta/ops 3h "Review"\n'
        '2026-02-03 time acme/web 1h "Fixes"\n\n'
        '2026-01-31 invoice INV-2026-0001 acme\n  period 2026-01-01 .. 2026-01-31\n\n'
        '2026-01-31 invoice INV-2026-0002 zeta\n  period 2026-01-01 .. 2026-01-31\n\n'
        '2026-02-28 invoice INV-2026-0003 acme\n  period 2026-02-01 .. 2026-02-28\n\n'
        '2026-02-10 payment acme 200.00 EUR for INV-2026-0001\n', encoding="utf-8")
    return root


def test_model_json_and_the_dashboard_made_at_once_are_what_one_process_makes(tmp_path, monkeypatch):
    """A one-off build makes model.json in one process and the dashboard in the other
    (building.site.write_site); the files are the ones a build on one job writes, and the rows the
    dashboard's maker keeps in .textbill/state are there for the next process, whichever made them."""
    from textbill.building import site
    from textbill.building.run import build
    from textbill.incremental.workspace import Workspace

    root = _site_ledger(tmp_path)
    day = date(2026, 4, 20)
    log = tmp_path / "parts"
    real_model, real_dashboard = site.model_json, site._dashboard
    meet = None

    def logged(part, real):
        def made(*args, **kwargs):
            if meet is not None:
                meet(0)  # each process takes one part
            with log.open("a") as out:
                out.write(f"{part} {os.getpid()}\n")
            return real(*args, **kwargs)
        return made

    log.write_text("")
    with monkeypatch.context() as patch:  # one job: both parts here
        patch.setattr(site, "model_json", logged("model", real_model))
        patch.setattr(site, "_dashboard", logged("dashboard", real_dashboard))
        build(pipeline.analyze(root, cache=False, workspace=Workspace()), tmp_path / "one", day,
              formats=("html",), jobs=1, workspace=Workspace())
    assert sorted(log.read_text().split()) == sorted(["model", "dashboard", str(os.getpid()), str(os.getpid())])
    expected = outputs(tmp_path / "one")
    assert "model.json" in expected and "index.html" in expected and len(expected) > 6

    child_made_dashboard = False
    for attempt in range(20):  # until the child has taken the dashboard once (the order they start in varies)
        meet = _meeting(tmp_path)
        log.write_text("")

        state = root / ".textbill"
        if state.exists():
            shutil.rmtree(state)
        with monkeypatch.context() as patch:
            patch.setattr(site, "model_json", logged("model", real_model))
            patch.setattr(site, "_dashboard", logged("dashboard", real_dashboard))
            out = tmp_path / f"two-{attempt}"
            build(pipeline.analyze(root, workspace=Workspace()), out, day, formats=("html",), jobs=2,
                  workspace=Workspace())
        makers = dict(line.split() for line in log.read_text().splitlines())
        assert sorted(makers) == ["dashboard", "model"] and len(set(makers.values())) == 2
        assert str(os.getpid()) in makers.values()  # this process made one part, a child the other
        assert outputs(out) == expected
        if makers["dashboard"] != str(os.getpid()):
            child_made_dashboard = True
            assert list((state / "state").glob("rows-all-*.pickle"))  # the child's writes are kept
            break
    assert child_made_dashboard
