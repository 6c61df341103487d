"""Running timers for `textbill clock in/out/status/cancel`.  [I/O]

State lives in `.textbill/timers.json` under the ledger root: one running
timer per SOW, several at once.  The folder is local (a `.gitignore` inside it
keeps it out of git).  Every read-modify-write of the state holds an exclusive
lock.  `out` is a transaction: it first records, in the same write that forgets
the timer, the entry it owes (its text, the file and that file's size), then
appends the entry (atomically, under the ledger file's own lock), then drops the
record.  A crash in between leaves the record, and the next clock command
finishes it: it appends the entry unless the file already holds it past the
recorded size.  So a kill at any point neither loses the time nor writes the
entry twice.  A timers.json that textbill did not write is a clear error.

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

from textbill.core.paths import inside
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
    person: str | None = None  # `clock in --as PERSON`: the entry is `by` them

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


@dataclass(frozen=True)
class Owed:
    """A time entry that a `clock out` recorded as owed to a file, before appending it."""
    sow: str
    target: str  # relative to the ledger root
    offset: int  # the file's size when the entry was recorded: it lands after that
    text: str


def _read(path: Path) -> tuple[dict[str, Timer], list[Owed]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}, []
    except (OSError, ValueError) as exc:
        raise TimerError(f"cannot read {path}: {exc}; fix or delete it")
    timers = data.get("timers", []) if isinstance(data, dict) else None
    owed = data.get("pending", []) if isinstance(data, dict) else None
    if not isinstance(timers, list) or not isinstance(owed, list):
        raise TimerError(f"{path} is not a timers file that textbill wrote; fix or delete it")
    out = {}
    for t in timers:
        timer = _timer(t)
        if timer is None:
            raise TimerError(f"{path} holds a timer textbill cannot read ({json.dumps(t)[:80]}); "
                             "fix or delete it")
        out[timer.sow] = timer
    pending = []
    for o in owed:
        if not (isinstance(o, dict) and isinstance(o.get("sow"), str) and isinstance(o.get("target"), str)
                and type(o.get("offset")) is int and o["offset"] >= 0 and isinstance(o.get("text"), str)):
            raise TimerError(f"{path} holds an unfinished entry textbill cannot read; fix or delete it")
        pending.append(Owed(o["sow"], o["target"], o["offset"], o["text"]))
    return out, pending


def _timer(t: object) -> Timer | None:
    """A timer of timers.json, or None when the record is not one textbill wrote."""
    if not isinstance(t, dict):
        return None
    sow, start, desc, tags = t.get("sow"), t.get("start"), t.get("description", ""), t.get("tags", [])
    person = t.get("person")
    if not (isinstance(sow, str) and isinstance(start, str) and isinstance(desc, str)
            and isinstance(tags, list) and all(isinstance(g, str) and _TAG.fullmatch(g) for g in tags)):
        return None
    if person is not None and not (isinstance(person, str) and _TAG.fullmatch(person)):
        return None
    try:
        when = datetime.fromisoformat(start)
    except ValueError:
        return None
    if when.tzinfo is not None:
        return None
    return Timer(sow, when, desc, tuple(tags), person)


def _write(path: Path, timers: dict[str, Timer], pending: list[Owed] | tuple = ()) -> None:
    data: dict = {"version": 1, "timers": [
        {"sow": t.sow, "start": t.start.isoformat(timespec="seconds"), "description": t.description,
         "tags": list(t.tags), **({"person": t.person} if t.person else {})}
        for t in sorted(timers.values(), key=lambda t: (t.start, t.sow))]}
    if pending:
        data["pending"] = [{"sow": o.sow, "target": o.target, "offset": o.offset, "text": o.text} for o in pending]
    write_atomic(path, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


_OWED_TEXT = re.compile(r"\d{4}-\d{2}-\d{2} time [^\s;\"]+ [^\n]*\n")


def _owed_file(root: Path, owed: Owed) -> Path:
    """The file an owed entry goes to: a visible .bill file inside the ledger, holding one time
    entry (timers.json sits in .textbill/, which a stranger's commit may supply)."""
    rel = Path(owed.target)
    if not (inside(root, owed.target) and rel.suffix == ".bill"
            and not any(part.startswith(".") for part in rel.parts)
            and _OWED_TEXT.fullmatch(owed.text) and owed.text.split(" ", 3)[2] == owed.sow):
        raise TimerError(f"{_state_path(root)} holds an unfinished entry textbill did not write; "
                         "fix or delete it")
    return Path(root) / rel


def _written(file: Path, owed: Owed) -> bool:
    """Whether the owed entry is in its file already (appended after the recorded size)."""
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        return False
    return owed.text.encode("utf-8") in data[owed.offset:]


def _settle(root: Path, timers: dict[str, Timer], pending: list[Owed]) -> list[Owed]:
    """Append every owed entry not yet written, then forget them (the caller holds the lock)."""
    if not pending:
        return []
    for owed in pending:
        file = _owed_file(root, owed)
        if not _written(file, owed):
            append_text(file, owed.text)
    _write(_state_path(root), timers)
    return pending


def recover(root: Path) -> list[Owed]:
    """Finish the `clock out`s that a crash interrupted; returns the entries they owed."""
    path = _state_path(root)
    with locked(path):
        timers, pending = _read(path)
        return _settle(root, timers, pending)


def running(root: Path) -> list[Timer]:
    """The running timers, oldest first."""
    return sorted(_read(_state_path(root))[0].values(), key=lambda t: (t.start, t.sow))


def clock_in(root: Path, sow: str, now: datetime, description: str = "", tags: tuple[str, ...] = (),
             person: str | None = None) -> Timer:
    check_description(description)
    if person is not None and not _TAG.fullmatch(person):
        raise TimerError(f"'{person}' is not a person id (lower-case letters, digits, '-' and '_')")
    for tag in tags:
        if not _TAG.fullmatch(tag):
            raise TimerError(f"'{tag}' is not a tag (lower-case letters, digits, '-' and '_')")
    path = _state_path(root)
    with locked(path):
        timers, pending = _read(path)
        _settle(root, timers, pending)
        if sow in timers:
            raise TimerError(f"a timer for {sow} is already running since {_when(timers[sow].start)}")
        timer = Timer(sow, now.replace(microsecond=0), description, tuple(tags), person)
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
    if description is not None:
        check_description(description)
    path = _state_path(root)
    with locked(path):
        timers, pending = _read(path)
        _settle(root, timers, pending)
        timer = _pick(timers, sow)
        if now < timer.start:
            raise TimerError(f"the timer for {timer.sow} started at {_when(timer.start)}, after {_when(now)}")
        text = time_entry_text(timer.sow, timer.start, now,
                               timer.description if description is None else description, timer.tags,
                               person=timer.person)
        del timers[timer.sow]
        if text is not None:
            owed = Owed(timer.sow, Path(target).resolve().relative_to(Path(root).resolve()).as_posix(),
                        _size(target), text)
            _write(path, timers, [owed])  # the timer is gone and the entry owed, in one write
            append_text(target, text)
        _write(path, timers)
    return timer, text


def _size(path: Path) -> int:
    try:
        return Path(path).stat().st_size
    except FileNotFoundError:
        return 0


def cancel(root: Path, sow: str | None) -> Timer:
    path = _state_path(root)
    with locked(path):
        timers, pending = _read(path)
        _settle(root, timers, pending)
        timer = _pick(timers, sow)
        del timers[timer.sow]
        _write(path, timers)
    return timer


# ---------------------------------------------------------------------------- entry text

# what str.splitlines() (and so an editor or the language server) takes for the end of a line
_LINE_BREAKS = re.compile("\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_TYPED_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")  # all but tab and newline


def check_description(text: str) -> None:
    """A description typed for a timer: no control characters (a CR would split the entry)."""
    found = _TYPED_CONTROL.search(text)
    if found:
        raise TimerError(f"the description holds the control character U+{ord(found.group()):04X}; "
                         "write it as plain text on one line")


def quote(text: str) -> str:
    """A ledger string literal that reads back as one token on one line, whatever text holds:
    line breaks become the escape \\n, a tab \\t, other control characters a space."""
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    text = _LINE_BREAKS.sub("\\\\n", text).replace("\t", "\\t")
    return '"' + _CONTROL.sub(" ", text) + '"'


def duration(minutes: int) -> str:
    """3h30m, 3h, 45m."""
    h, mi = divmod(minutes, 60)
    if h and mi:
        return f"{h}h{mi}m"
    return f"{h}h" if h else f"{mi}m"


def time_entry_text(sow: str, start: datetime, end: datetime, description: str = "", tags=(),
                    billable: bool = True, person: str | None = None) -> str | None:
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
    if person:
        parts += ["by", person]
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
