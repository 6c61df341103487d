"""Atomic file writes: a temporary file beside the target, fsync, then rename.  [I/O]

Nothing a user wrote is ever half-written: a crash or a full disk leaves the
previous content in place.  Appends to ledger files hold an exclusive lock so
two textbill processes never interleave.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes, mode: int | None = None, durable: bool = True) -> bool:
    """Replace path's content with data; returns False when it was already identical.

    durable=False skips the fsync: still atomic (a reader sees the old file or the new one), but
    a power cut may lose the new content.  Only for scratch output that is made again anyway
    (watch's preview folder) and for the caches' sealed entries (a torn one is a miss)."""
    path = Path(path)
    try:
        if path.read_bytes() == data:
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        elif path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        _before_rename(tmp, path)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return True


def _before_rename(tmp: str, path: Path) -> None:
    """A seam for tests that simulate a crash between writing and renaming."""


@contextlib.contextmanager
def locked(path: Path):
    """An exclusive advisory lock (on a hidden `.NAME.lock` beside path) for read-modify-write cycles."""
    lock_path = Path(path).with_name("." + Path(path).name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def text_before_append(path: Path) -> str:
    """A ledger file's text as an append continues it: ending in a newline (empty when missing)."""
    try:
        old = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    return old if not old or old.endswith("\n") else old + "\n"


def append_text(path: Path, text: str) -> None:
    """Append text to a ledger file atomically (read, add, write, rename) under a lock."""
    path = Path(path)
    with locked(path):
        write_atomic(path, (text_before_append(path) + text).encode("utf-8"))
