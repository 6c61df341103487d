"""Recording sent reminders: `reminded` entries appended to the ledger, under one send lock.  [I/O]

Sending is "compute what is due -> send -> record" under one exclusive lock on the ledger
(`.textbill-remind.lock` at its root): two runs, or two cron jobs at once, never send the same
step twice.  Each message is recorded right after the SMTP server accepts it, so a crash mid-run
loses at most the one in flight.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

from textbill.loading.writer import append_text

RECORD_FILE = "reminders.bill"
LOCK_NAME = ".textbill-remind.lock"
RECORD_HEADER = """\
; Reminders sent by `textbill remind --send`, one `reminded` entry per e-mail.
; A recorded step is never sent again for the same invoice.
"""


class LockUnavailable(OSError):
    """The send lock cannot be taken (the folder is read-only, ...)."""


def reminded_entry(day: date, number: str, step: str, recipient: str | None = None) -> str:
    """`D reminded NUMBER STEP`, quoting what the grammar would not read bare."""
    num = number if re.fullmatch(r"[A-Za-z][^\s;\"\\]*", number) else _quote(number)
    st = step if re.fullmatch(r"[a-z][a-z0-9_-]*", step) else _quote(step)
    comment = f"  ; to {recipient}" if recipient else ""
    return f"{day.isoformat()} reminded {num} {st}{comment}\n"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


def record(target: Path, entry: str) -> None:
    """Append one `reminded` entry (the file, with its header, is made on the first one)."""
    if not target.exists():
        append_text(target, RECORD_HEADER + "\n")
    append_text(target, entry)


@contextlib.contextmanager
def send_lock(root: Path, waiting: Callable[[], None]) -> Iterator[None]:
    """The exclusive lock for a whole send run; `waiting()` is called when another run holds it."""
    lock_path = root / LOCK_NAME
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise LockUnavailable(f"cannot take the send lock {lock_path}: {exc.strerror}; nothing was sent")
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            waiting()
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
