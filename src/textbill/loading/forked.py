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


def heaviest_first(weights: Sequence[int]) -> list[int]:
    """The indexes of weights, the heaviest first (equal weights in their order)."""
    return sorted(range(len(weights)), key=lambda i: -weights[i])


# The items are handed out from a queue, not in fixed shares: each process takes the next one
# when it is done with its last, so none waits while another still has several to do (a fixed
# split by file size left this process waiting 0.1-0.25 s of a 0.8 s parse for its child, which
# also encodes what it sends).  The queue is a pipe holding the items' positions in the order of
# work, 4 bytes each, written whole before any fork: a pipe read of 4 bytes takes 4 bytes
# whole, and a read of an empty pipe whose writers are all closed says so.  The queue is at most
# 4 KiB, which a pipe takes without a reader and in one write (PIPE_BUF); beyond MAX_TOKENS
# items a token stands for a run of consecutive items of the order.
TOKEN = 4
MAX_TOKENS = 4096 // TOKEN


def fork_map(func: Callable[[T], R], items: Sequence[T], workers: int, encode: Callable[[R], bytes],
             decode: Callable[[bytes], R], weights: Sequence[int] | None = None) -> list[R]:
    """[func(item) for item in items], computed by this process and workers - 1 forked children.

    encode/decode: a result to bytes and back (a child's result for which encode raises is
    computed here again).  weights: the relative cost of each item (default: equal), the
    heaviest handed out first."""
    workers = min(workers, len(items))
    if workers < 2 or not forkable():
        return [func(item) for item in items]
    order = heaviest_first(weights) if weights is not None else list(range(len(items)))
    run = -(-len(order) // MAX_TOKENS)  # items per token
    results: dict[int, R] = {}
    running: dict[int, object] = {}  # pid -> its file
    with ExitStack() as files:
        queue, tokens = os.pipe()
        files.callback(os.close, queue)
        try:
            with open(tokens, "wb") as writer:  # the whole queue, before any process reads it
                writer.write(b"".join(start.to_bytes(TOKEN, "little") for start in range(0, len(order), run)))
            for _ in range(workers - 1):
                out = files.enter_context(tempfile.TemporaryFile())
                try:
                    pid = os.fork()
                except OSError:
                    continue
                if pid == 0:  # the child: compute, write, leave without running this process's exit code
                    status = 1
                    try:
                        _write_taken(func, items, order, run, queue, encode, out)
                        status = 0
                    finally:
                        os._exit(status)
                running[pid] = out
            for i in _taken(order, run, queue):
                results[i] = func(items[i])
            for pid in list(running):
                _, status = os.waitpid(pid, 0)
                out = running.pop(pid)
                if status == 0:
                    with suppress(Exception):  # a child that wrote nonsense: its items are done here
                        results.update(_read_taken(out, len(items), decode))
        finally:
            for pid in running:  # interrupted: no child outlives the call
                with suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
    for i in order:  # what a child took and did not send back (it died, or could not encode it)
        if i not in results:
            results[i] = func(items[i])
    return [results[i] for i in range(len(items))]


def _taken(order: list[int], run: int, queue: int):
    """The items this process takes from the queue, one run at a time, until it is empty."""
    while True:
        token = os.read(queue, TOKEN)
        if len(token) < TOKEN:
            return
        start = int.from_bytes(token, "little")
        yield from order[start:start + run]


def _write_taken(func, items, order, run, queue: int, encode, out) -> None:
    """Each item taken from the queue: its index, the length of encode()'s bytes and the bytes (an
    empty record: not encodable)."""
    for i in _taken(order, run, queue):
        try:
            payload = encode(func(items[i]))
        except Exception:  # noqa: BLE001 - the parent computes that item itself
            payload = b""
        out.write(i.to_bytes(TOKEN, "little"))
        out.write(len(payload).to_bytes(8, "little"))
        out.write(payload)
    out.flush()


def _read_taken(out, count: int, decode) -> dict:
    """What _write_taken wrote: {index: result}, without the items it could not encode."""
    out.seek(0)
    got = {}
    while head := out.read(TOKEN + 8):
        if len(head) < TOKEN + 8:
            break  # the file ends early: the rest is computed by the parent
        i, size = int.from_bytes(head[:TOKEN], "little"), int.from_bytes(head[TOKEN:], "little")
        if not 0 <= i < count:
            break
        if size:
            data = out.read(size)
            if len(data) != size:
                break
            got[i] = decode(data)
    return got
