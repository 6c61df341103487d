"""Time from other trackers: hledger/ledger timeclock files and Toggl Track CSV exports.

Each session becomes `time` entries tagged `#import-<hash>`, where the hash is
taken from what the session means: the tracker, its start and end (to the
second), its SOW and its description (case and spacing aside), and how many
sessions of the same meaning came before it in the file.  Not from the row's
bytes: a re-export with an amount, a tag or a user's e-mail changed, or a
timeclock file whose separators changed, means the same sessions and adds
nothing.  A session is skipped when its hash, or the hash an earlier textbill
took from its raw row, is already in the ledger.  Entries are checked against
the ledger before anything is written (an entry that would change a locked
invoice, or fall outside its SOW's period, stops the whole import), and the
append is atomic.

A session is booked as hledger books it: split at midnight into one clock
range per day (`22:15:30-24:00`, then `00:00-01:00`), with its seconds kept;
the SOW's increment rounds each entry up when it is billed.

SOWs are found from the tracker's names:
- timeclock accounts: `client/sow`, `client:sow`, any account whose last two
  `:` parts name a SOW (`clients:globex:web-2026`), or a mapping in
  textbill.yaml under `timeclock: {accounts: {"Account name": client/sow}}`;
- Toggl projects: `toggl: {projects: {"Project name": client/sow}}`, or a
  project named like a SOW (`globex/web-2026`).
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from types import MappingProxyType

from textbill.checks.ledger import run_checks
from textbill.checks.locks import check_locks
from textbill.core import model as m
from textbill.core.diagnostics import Diagnostic, error, warning
from textbill.core.source import Span
from textbill.engine.invoices import compute_books
from textbill.engine.receivables import check_receivables
from textbill.loading.loader import build_ledger, display_name
from textbill.loading.writer import text_before_append
from textbill.syntax.parser import parse_text
from textbill.workflow.timers import quote

TAG_PREFIX = "import-"
_HASH_LEN = 12


@dataclass(frozen=True)
class Imported:
    """One session read from a tracker."""

    sow: str
    start: datetime
    end: datetime
    description: str
    tags: tuple[str, ...]
    billable: bool
    key: str  # the hash of what it means (meaning_key)
    where: Span  # the source row
    legacy: str = ""  # the hash of its raw row, as textbill took it before (row_key)
    users: tuple[str, ...] = ()  # who tracked it, as the tracker names them (Toggl: e-mail, user name)
    person: str | None = None  # the ledger's person (workflow.people.assign_people)

    def days(self) -> list[tuple[datetime, datetime]]:
        """The session split at midnight, as hledger splits a timeclock session."""
        out = []
        start = self.start
        while start.date() < self.end.date():
            midnight = datetime.combine(start.date() + timedelta(days=1), time())
            out.append((start, midnight))
            start = midnight
        if self.end > start:
            out.append((start, self.end))
        return out

    def text(self) -> str | None:
        """Its `time` entries, one clock range per day; None when the session is under a minute."""
        if self.end - self.start < timedelta(minutes=1):
            return None
        lines = []
        for start, end in self.days():
            parts = [start.date().isoformat(), "time", self.sow, f"{_clock(start, start)}-{_clock(end, start)}"]
            if self.description:
                parts.append(quote(self.description))
            parts += [f"#{t}" for t in (*self.tags, TAG_PREFIX + self.key)]
            if self.person:
                parts += ["by", self.person]
            if not self.billable:
                parts.append("nonbillable")
            lines.append(" ".join(parts) + "\n")
        return "".join(lines)


def _clock(moment: datetime, day_of: datetime) -> str:
    """HH:MM, or HH:MM:SS when the seconds are not zero; the next midnight is 24:00."""
    if moment.date() > day_of.date():
        return "24:00"
    return f"{moment:%H:%M:%S}" if moment.second else f"{moment:%H:%M}"


def meaning_key(source: str, sow: str, start: datetime, end: datetime, description: str, occurrence: int) -> str:
    """The identity of a session: what it means, not how its row was written."""
    desc = " ".join(description.split()).casefold()
    text = "\n".join((source, sow, start.isoformat(timespec="seconds"), end.isoformat(timespec="seconds"), desc,
                      str(occurrence)))
    return hashlib.sha256(text.encode()).hexdigest()[:_HASH_LEN]


def row_key(kind: str, row: str, occurrence: int) -> str:
    """The hash textbill took from a raw source row before imports keyed on meaning (still skipped)."""
    return hashlib.sha256(f"{kind}\n{row}\n{occurrence}".encode()).hexdigest()[:_HASH_LEN]


def imported_keys(ledger: m.Ledger) -> set[str]:
    """The source hashes already in the ledger (from the #import-<hash> tags)."""
    return {t[len(TAG_PREFIX):] for e in ledger.times for t in e.tags if t.startswith(TAG_PREFIX)}


def sow_for_name(name: str, mapping: dict, sows, sep_ok: bool = True) -> str | None:
    """A tracker's account or project name -> client/sow, or None."""
    name = name.strip()
    if name in mapping:
        return str(mapping[name])
    if name in sows:
        return name
    if sep_ok:
        parts = [p.strip() for p in name.split(":") if p.strip()]
        if len(parts) >= 2:
            ref = f"{parts[-2]}/{parts[-1]}"
            if ref in sows:
                return ref
    return None


def _tag(text: str) -> str | None:
    t = re.sub(r"[^a-z0-9_-]+", "-", text.strip().lower()).strip("-")
    return t if t and re.fullmatch(r"[a-z0-9][a-z0-9_-]*", t) else None


# ---------------------------------------------------------------------------- timeclock

_CLOCK = re.compile(r"^([iIoO])\s+(\d{4}[/-]\d{1,2}[/-]\d{1,2})\s+(\d{1,2}:\d{2}(?::\d{2})?)(?:[+-]\d{4})?"
                    r"(?:\s+(.*))?$")


def _stamp(day: str, clock: str) -> datetime:
    y, mo, d = (int(x) for x in re.split(r"[/-]", day))
    parts = [int(x) for x in clock.split(":")]
    return datetime.combine(date(y, mo, d), time(parts[0], parts[1], parts[2] if len(parts) > 2 else 0))


def read_timeclock(text: str, name: str, mapping: dict, sows) -> tuple[list[Imported], list[Diagnostic]]:
    """i/o pairs of a timeclock file: `i 2026/01/05 09:00:00 ACCOUNT  description`, `o 2026/01/05 12:30:00`."""
    out: list[Imported] = []
    diags: list[Diagnostic] = []
    open_: dict[str, tuple[datetime, str, str, int, str]] = {}  # account -> (start, desc, row, line, raw)
    seen: Counter = Counter()
    meant: Counter = Counter()
    unknown: dict[str, int] = {}
    for lineno, raw in enumerate(text.split("\n"), 1):
        line = raw.rstrip()
        if not line.strip() or line.lstrip()[:1] in (";", "#", "*", "%", "|") or line[:1] in ("b", "h"):
            continue
        mt = _CLOCK.match(line)
        span = Span(name, lineno, 1, lineno, len(raw) + 1)
        if not mt:
            diags.append(error(span, "E190", "this is not a timeclock line",
                               "write: i 2026/01/05 09:00:00 client:sow  description, then: o 2026/01/05 12:30:00"))
            continue
        code, day, clock, rest = mt.group(1), mt.group(2), mt.group(3), (mt.group(4) or "").split(";")[0]
        try:
            stamp = _stamp(day, clock)
        except ValueError:
            diags.append(error(span, "E190", f"'{day} {clock}' is not a real date and time", "fix the date"))
            continue
        if code == "i":
            account, desc = _account_and_description(rest)
            if not account:
                diags.append(error(span, "E190", "a clock-in without an account",
                                   "name the SOW: i 2026/01/05 09:00:00 client:sow  description"))
                continue
            if account in open_:
                diags.append(error(span, "E190", f"'{account}' is clocked in twice (first on line "
                                   f"{open_[account][3]})", "add the missing clock-out line"))
                continue
            open_[account] = (stamp, desc, line.strip(), lineno, raw)
            continue
        # o / O: close the account named after the time, else the only open session
        account = rest.strip()
        if account and account in open_:
            key = account
        elif len(open_) == 1:
            key = next(iter(open_))
        else:
            diags.append(error(span, "E190", "a clock-out with no open clock-in" if not open_ else
                               "a clock-out while several accounts are clocked in",
                               "name the account after the time, or check the clock-in lines"))
            continue
        start, desc, in_row, in_line, _ = open_.pop(key)
        if stamp < start:
            diags.append(error(span, "E190", f"this clock-out is before its clock-in (line {in_line})",
                               "fix the times"))
            continue
        sow = sow_for_name(key, mapping, sows)
        if sow is None:
            unknown.setdefault(key, in_line)
            continue
        row = in_row + "\n" + line.strip()
        seen[row] += 1
        meaning = (sow, start, stamp, " ".join(desc.split()).casefold())
        meant[meaning] += 1
        out.append(Imported(sow, start, stamp, desc, (), True,
                            meaning_key("timeclock", sow, start, stamp, desc, meant[meaning]), Span(name, in_line),
                            row_key("timeclock", row, seen[row])))
    for account, (_, _, _, lineno, raw) in open_.items():
        diags.append(warning(Span(name, lineno, 1, lineno, len(raw) + 1), "W191",
                             f"'{account}' is still clocked in: the session is not imported",
                             "import again once it has a clock-out line"))
    for account, lineno in unknown.items():
        diags.append(error(Span(name, lineno), "E192", f"timeclock account '{account}' names no SOW",
                           f"write the account as client:sow, or map it in textbill.yaml: "
                           f"timeclock: {{accounts: {{\"{account}\": client/sow}}}}"))
    return out, diags


def _account_and_description(rest: str) -> tuple[str, str]:
    rest = rest.strip()
    if not rest:
        return "", ""
    parts = re.split(r"\t|  +", rest, maxsplit=1)
    return parts[0].strip(), (parts[1].strip() if len(parts) > 1 else "")


# ---------------------------------------------------------------------------- toggl

_TOGGL_COLUMNS = MappingProxyType({
    "project": ("project",),
    "description": ("description",),
    "billable": ("billable",),
    "start_date": ("start date",),
    "start_time": ("start time",),
    "end_date": ("end date", "stop date"),
    "end_time": ("end time", "stop time"),
    "duration": ("duration",),
    "tags": ("tags",),
    "user": ("user", "member"),
    "email": ("email",),
})


def _norm(header: str) -> str:
    return re.sub(r"[\s_]+", " ", header.strip().lower().lstrip("\ufeff"))


def _toggl_stamp(day: str, clock: str) -> datetime:
    day = day.strip()
    if re.fullmatch(r"\d{4}[/-]\d{1,2}[/-]\d{1,2}", day):
        y, mo, d = (int(x) for x in re.split(r"[/-]", day))
    else:
        raise ValueError(f"'{day}' is not a date like 2026-01-05")
    parts = [int(x) for x in clock.strip().split(":")]
    return datetime.combine(date(y, mo, d), time(parts[0], parts[1], parts[2] if len(parts) > 2 else 0))


def _toggl_duration(text: str) -> timedelta:
    """A Toggl duration, HH:MM:SS (or HH:MM)."""
    parts = text.strip().split(":")
    if not 2 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"'{text}' is not a duration like 01:30:00")
    h, mi, sec = (int(p) for p in (*parts, "0")[:3])
    return timedelta(hours=h, minutes=mi, seconds=sec)


def read_toggl(text: str, name: str, mapping: dict, sows) -> tuple[list[Imported], list[Diagnostic]]:
    """Rows of a Toggl Track detailed report exported as CSV."""
    out: list[Imported] = []
    diags: list[Diagnostic] = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader)
    except StopIteration:
        return [], [error(Span(name, 1), "E190", "the file is empty", "export a Detailed report as CSV from Toggl")]
    names = [_norm(h) for h in header]
    col: dict[str, int] = {}
    for key, aliases in _TOGGL_COLUMNS.items():
        for alias in aliases:
            if alias in names:
                col[key] = names.index(alias)
                break
    needed = ["project", "start_date", "start_time"]
    if "duration" not in col:
        needed += ["end_date", "end_time"]
    missing = [k for k in needed if k not in col]
    if missing:
        return [], [error(Span(name, 1), "E190", "this is not a Toggl detailed export: no column "
                          + ", ".join(repr(_TOGGL_COLUMNS[k][0].title()) for k in missing),
                          "export Reports > Detailed as CSV in Toggl Track")]
    seen: Counter = Counter()
    meant: Counter = Counter()
    unknown: dict[str, int] = {}
    for row in reader:
        lineno = reader.line_num
        if not any(c.strip() for c in row):
            continue
        span = Span(name, lineno)

        def get(key: str, row: list[str] = row) -> str:
            i = col.get(key)
            return row[i].strip() if i is not None and i < len(row) else ""

        try:
            start = _toggl_stamp(get("start_date"), get("start_time"))
            if get("end_date") and get("end_time"):
                end = _toggl_stamp(get("end_date"), get("end_time"))
            else:  # a report with the date and the duration only
                end = start + _toggl_duration(get("duration"))
        except (ValueError, IndexError) as exc:
            diags.append(error(span, "E190", f"cannot read the start and end of this row: {exc}",
                               "dates are YYYY-MM-DD and times HH:MM:SS in a Toggl export"))
            continue
        if end < start:
            diags.append(error(span, "E190", "this row ends before it starts", "fix the row in Toggl"))
            continue
        project = get("project")
        sow = sow_for_name(project, mapping, sows, sep_ok=False)
        if sow is None:
            unknown.setdefault(project, lineno)
            continue
        raw = "\x1f".join(c.strip() for c in row)
        seen[raw] += 1
        tags = tuple(t for t in (_tag(x) for x in get("tags").split(",")) if t)
        billable = get("billable").lower() not in ("no", "false", "0", "n")
        desc = get("description")
        meaning = (sow, start, end, " ".join(desc.split()).casefold())
        meant[meaning] += 1
        out.append(Imported(sow, start, end, desc, tags, billable,
                            meaning_key("toggl", sow, start, end, desc, meant[meaning]), span,
                            row_key("toggl", raw, seen[raw]),
                            users=tuple(u for u in (get("email"), get("user")) if u)))
    for project, lineno in unknown.items():
        shown = project or "(no project)"
        diags.append(error(Span(name, lineno), "E192", f"Toggl project '{shown}' names no SOW",
                           f"map it in textbill.yaml: toggl: {{projects: {{\"{shown}\": client/sow}}}}"))
    return out, diags


# ---------------------------------------------------------------------------- into the ledger

@dataclass
class Plan:
    """What an import would append, and why some rows are left out."""

    entries: list[Imported]  # new, in source order
    skipped: int  # already imported
    short: int  # under a minute
    text: str


def plan_import(ledger: m.Ledger, rows: list[Imported]) -> Plan:
    done = imported_keys(ledger)
    new, skipped, short, texts = [], 0, 0, []
    for r in rows:
        if r.key in done or (r.legacy and r.legacy in done):
            skipped += 1
            continue
        text = r.text()
        if text is None:
            short += 1
            continue
        done.add(r.key)
        new.append(r)
        texts.append(text)
    return Plan(new, skipped, short, "".join(texts))


def appended_nodes(target: Path, text: str, name: str) -> tuple[list, list[Diagnostic], str]:
    """Parse text as it will stand once appended to target: (nodes, syntax problems, the file's new text)."""
    old = text_before_append(target)
    offset = old.count("\n")
    nodes, diags, _ = parse_text(text, name)

    def shift(span: Span) -> Span:
        return replace(span, line=span.line + offset, end_line=span.end_line + offset if span.end_line else 0)

    return ([replace(n, span=shift(n.span)) for n in nodes],
            [replace(d, span=shift(d.span)) if d.span else d for d in diags], old + text)


def added_problems(loaded, books, nodes: list) -> list[Diagnostic]:
    """Errors that adding nodes to the ledger would cause, locked documents included."""
    def errors(ld, bks) -> list[Diagnostic]:
        found = [*run_checks(ld.ledger), *bks.diagnostics, *check_receivables(ld.ledger, bks), *check_locks(ld, bks)]
        return [d for d in found if d.is_error]

    ledger = loaded.ledger
    hyp = build_ledger(Path(ledger.root), [*ledger.directives, *nodes], ledger.config, list(ledger.files),
                       ledger.broken)
    hyp_loaded = replace(loaded, ledger=hyp)
    before = {(d.code, d.message) for d in errors(loaded, books)}
    return [d for d in errors(hyp_loaded, compute_books(hyp)) if (d.code, d.message) not in before]


def appended_problems(analysis, target: Path, text: str) -> list[Diagnostic]:
    """What appending text to target would break (syntax, then the ledger's checks), located in the
    file as it would stand; its new text joins analysis.sources so the problems can be shown."""
    name = display_name(target)
    nodes, syntax, new_text = appended_nodes(target, text, name)
    analysis.sources.add(name, new_text)
    return syntax + added_problems(analysis.loaded, analysis.books, nodes)


def config_mapping(config: m.Config, section: str, key: str) -> dict:
    value = (config.extra.get(section) or {})
    found = value.get(key) if isinstance(value, dict) else None
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}
