"""Running timers for `textbill clock in/out/status/cancel`.  [I/O]

State lives in `.textbill/timers.json` under the ledger root: one running
timer per SOW, several at once.  The folder is local (a `.gitignore` inside it
keeps it out of git).  Every read-modify-write of the state holds an exclusive
lock, and `out` appends the time entry (atomically, under the ledger file's own
lock) before it forgets the timer, so a crash never loses recorded time.

Times are handed in by the command line, which owns the clock; the entry is
written as it was measured (a clock range when it starts and ends on one day,
else a duration dated on its first day).  The SOW's increment is applied when
the entry is billed, never here.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

from textbill.loading.writer import append_text, locked, write_atomic

STATE_DIR = ".textbill"
STATE_FILE = "timers.json"
_TAG = re.compile(r"[a-z0-9][a-z0-9_-]*")


class TimerError(Exception):
    """A clock command that cannot be done (no such timer, one already running...)."""


@dataclass(frozen=True)
class Timer:
    sow: str
    start: datetime
    description: str = ""
    tags: tuple[str, ...] = ()

    def elapsed(self, now: datetime) -> timedelta:
        return now - self.start


def state_dir(root: Path) -> Path:
    """.textbill/ under the ledger root, created with a .gitignore that ignores it whole."""
    folder = Path(root) / STATE_DIR
    ignore = folder / ".gitignore"
    if not ignore.exists():
        write_atomic(ignore, b"# local textbill state (timers, write locks): never committed\n*\n")
    return folder


def _state_path(root: Path) -> Path:
    return state_dir(root) / STATE_FILE


def _read(path: Path) -> dict[str, Timer]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise TimerError(f"cannot read {path}: {exc}; fix or delete it")
    out = {}
    for t in data.get("timers", []):
        out[t["sow"]] = Timer(t["sow"], datetime.fromisoformat(t["start"]), t.get("description", ""),
                              tuple(t.get("tags", ())))
    return out


def _write(path: Path, timers: dict[str, Timer]) -> None:
    data = {"version": 1, "timers": [
        {"sow": t.sow, "start": t.start.isoformat(timespec="seconds"), "description": t.description,
         "tags": list(t.tags)} for t in sorted(timers.values(), key=lambda t: (t.start, t.sow))]}
    write_atomic(path, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


def running(root: Path) -> list[Timer]:
    """The running timers, oldest first."""
    return sorted(_read(_state_path(root)).values(), key=lambda t: (t.start, t.sow))


def clock_in(root: Path, sow: str, now: datetime, description: str = "", tags: tuple[str, ...] = ()) -> Timer:
    for tag in tags:
        if not _TAG.fullmatch(tag):
            raise TimerError(f"'{tag}' is not a tag (lower-case letters, digits, '-' and '_')")
    path = _state_path(root)
    with locked(path):
        timers = _read(path)
        if sow in timers:
            raise TimerError(f"a timer for {sow} is already running since {_when(timers[sow].start)}")
        timer = Timer(sow, now.replace(microsecond=0), description, tuple(tags))
        timers[sow] = timer
        _write(path, timers)
    return timer


def _pick(timers: dict[str, Timer], sow: str | None) -> Timer:
    if sow is not None:
        if sow not in timers:
            names = ", ".join(sorted(timers)) or "none"
            raise TimerError(f"no timer is running for {sow} (running: {names})")
        return timers[sow]
    if not timers:
        raise TimerError("no timer is running")
    if len(timers) > 1:
        raise TimerError("several timers are running (" + ", ".join(sorted(timers)) + "); name the SOW")
    return next(iter(timers.values()))


def clock_out(root: Path, sow: str | None, now: datetime, target: Path,
              description: str | None = None) -> tuple[Timer, str | None]:
    """Stop a timer and append its time entry to target; returns the timer and the text appended."""
    path = _state_path(root)
    with locked(path):
        timers = _read(path)
        timer = _pick(timers, sow)
        if now < timer.start:
            raise TimerError(f"the timer for {timer.sow} started at {_when(timer.start)}, after {_when(now)}")
        text = time_entry_text(timer.sow, timer.start, now,
                               timer.description if description is None else description, timer.tags)
        if text is not None:
            append_text(target, text)
        del timers[timer.sow]
        _write(path, timers)
    return timer, text


def cancel(root: Path, sow: str | None) -> Timer:
    path = _state_path(root)
    with locked(path):
        timers = _read(path)
        timer = _pick(timers, sow)
        del timers[timer.sow]
        _write(path, timers)
    return timer


# ---------------------------------------------------------------------------- entry text

def quote(text: str) -> str:
    """A ledger string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def duration(minutes: int) -> str:
    """3h30m, 3h, 45m."""
    h, mi = divmod(minutes, 60)
    if h and mi:
        return f"{h}h{mi}m"
    return f"{h}h" if h else f"{mi}m"


def time_entry_text(sow: str, start: datetime, end: datetime, description: str = "", tags=(),
                    billable: bool = True) -> str | None:
    """A `time` directive for the span start..end (whole minutes), or None when it is under a minute."""
    start = start.replace(second=0, microsecond=0)
    end = end.replace(second=0, microsecond=0)
    minutes = int((end - start).total_seconds() // 60)
    if minutes <= 0:
        return None
    if start.date() == end.date():
        length = f"{start:%H:%M}-{end:%H:%M}"
    else:
        length = duration(minutes)
    parts = [start.date().isoformat(), "time", sow, length]
    if description:
        parts.append(quote(description))
    parts += [f"#{t}" for t in tags]
    if not billable:
        parts.append("nonbillable")
    return " ".join(parts) + "\n"


def parse_at(value: str, now: datetime) -> datetime:
    """--at: HH:MM (today, by the caller's clock) or an ISO date-time like 2026-01-05T09:00."""
    value = value.strip()
    if re.fullmatch(r"\d{1,2}:\d{2}", value):
        h, mi = (int(x) for x in value.split(":"))
        if h > 23 or mi > 59:
            raise ValueError(f"'{value}' is not a time of day")
        return datetime.combine(now.date(), time(h, mi))
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"'{value}' is neither HH:MM nor an ISO date-time like 2026-01-05T09:00")
    return parsed.astimezone().replace(tzinfo=None) if parsed.tzinfo else parsed


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")
