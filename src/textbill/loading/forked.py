"""Work shared between this process and forked children: fork_map().  [processes]

A whole-ledger pass that is a pure function per item (parsing a file, digesting a document)
runs on every core without a pool: the children are forked with everything this process holds,
so only the results travel, each through a temporary file of the child's own.  This process
does its own share meanwhile.  Forking a process that runs other threads is not safe, so then
everything is done here; so it is for a child that fails or writes what cannot be read back.
"""
from __future__ import annotations

import os
import signal
import tempfile
import threading
from collections.abc import Callable, Sequence
from contextlib import ExitStack, suppress
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def available_cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def forkable() -> bool:
    """Forking is safe: this platform forks and this process runs no other thread."""
    return hasattr(os, "fork") and threading.active_count() == 1


def shares(weights: Sequence[int], count: int) -> list[list[int]]:
    """The indexes of weights split in count shares of about equal weight, heaviest first, each
    to the lightest share; every share in increasing order."""
    out: list[list[int]] = [[] for _ in range(count)]
    sizes = [0] * count
    for i in sorted(range(len(weights)), key=lambda i: -weights[i]):
        k = sizes.index(min(sizes))
        out[k].append(i)
        sizes[k] += weights[i]
    return [sorted(share) for share in out]


def fork_map(func: Callable[[T], R], items: Sequence[T], workers: int, encode: Callable[[R], bytes],
             decode: Callable[[bytes], R], weights: Sequence[int] | None = None) -> list[R]:
    """[func(item) for item in items], computed by this process and workers - 1 forked children.

    encode/decode: a result to bytes and back (a child's result for which encode raises is
    computed here again).  weights: the relative cost of each item (default: equal)."""
    workers = min(workers, len(items))
    if workers < 2 or not forkable():
        return [func(item) for item in items]
    mine, *theirs = shares(weights if weights is not None else [1] * len(items), workers)
    results: dict[int, R] = {}
    running: dict[int, tuple] = {}  # pid -> (its file, its share)
    with ExitStack() as files:
        try:
            for share in theirs:
                out = files.enter_context(tempfile.TemporaryFile())
                try:
                    pid = os.fork()
                except OSError:
                    mine += share
                    continue
                if pid == 0:  # the child: compute, write, leave without running this process's exit code
                    status = 1
                    try:
                        _write_share(func, items, share, encode, out)
                        status = 0
                    finally:
                        os._exit(status)
                running[pid] = (out, share)
            for i in mine:
                results[i] = func(items[i])
            for pid in list(running):
                _, status = os.waitpid(pid, 0)
                out, share = running.pop(pid)
                got: dict[int, R] = {}
                if status == 0:
                    with suppress(Exception):  # a child that wrote nonsense: its items are done here
                        got = _read_share(out, share, decode)
                for i in share:
                    results[i] = got[i] if i in got else func(items[i])
        finally:
            for pid in running:  # interrupted: no child outlives the call
                with suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
    return [results[i] for i in range(len(items))]


def _write_share(func, items, share: list[int], encode, out) -> None:
    """Each item's result as its length and encode()'s bytes (an empty record: not encodable)."""
    for i in share:
        try:
            payload = encode(func(items[i]))
        except Exception:  # noqa: BLE001 - the parent computes that item itself
            payload = b""
        out.write(len(payload).to_bytes(8, "little"))
        out.write(payload)
    out.flush()


def _read_share(out, share: list[int], decode) -> dict:
    """What _write_share wrote: {index: result}, without the items it could not encode."""
    out.seek(0)
    got = {}
    for i in share:
        size = int.from_bytes(out.read(8), "little")
        if size:
            data = out.read(size)
            if len(data) != size:
                break  # the file ends early: the rest is computed by the parent
            got[i] = decode(data)
    return got
