"""Where the workflow commands append to the ledger: a .bill file that the ledger reads.  [I/O]

New entries (issued invoices, time, reminders) must land in a file that loading the ledger will
read again, or they would be silently lost.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textbill.core import model as m
from textbill.core.paths import inside


class TargetError(ValueError):
    """The named file is not one the ledger reads."""


def target_file(path: Path, root: Path, option: str | None, default: str, what: str) -> Path:
    """The .bill file new entries go to: `option` (from the current folder), else `default` at the root.

    It must be a .bill file inside the ledger, or the entries would never be read again.
    """
    if path.is_file():
        if option and Path(option).resolve() != path.resolve():
            raise TargetError(f"the ledger is the single file {path}; {what} can only go into it")
        return path
    target = Path(option) if option else root / default
    target = target if target.is_absolute() else (Path.cwd() / target if option else target)
    try:
        rel = target.resolve().relative_to(root.resolve())
    except ValueError:
        raise TargetError(f"{target} is outside the ledger {root}: textbill would never read it")
    if not inside(root, str(rel)) or not target.name.endswith(".bill") \
            or any(part.startswith(".") for part in rel.parts):
        raise TargetError(f"{target} is not a .bill file of the ledger: textbill would never read it "
                          f"(name a visible *.bill file inside {root})")
    return target


def default_target(ledger: m.Ledger, root: Path, setting: str, entries: Iterable, fallback: str) -> Path:
    """Where new entries go when no --file is given (docs/language.md, "Files and layout"): the textbill.yaml `setting`
    (invoices-file, time-file, payments-file; relative to the ledger root), else the file holding
    the latest of `entries` (by date; of equal dates the last read), else `fallback` at the root."""
    configured = ledger.config.extra.get(setting)
    if configured:
        return root / str(configured)
    latest = None
    for entry in entries:
        span = getattr(entry, "span", None)
        if span is None or not span.file or span.line <= 0:
            continue
        if latest is None or entry.date >= latest.date:
            latest = entry
    if latest is None:
        return root / fallback
    return Path(latest.span.file).resolve()  # a span names its file as display_name wrote it


def record_target(root: Path, ledger_path: Path, record_file: str | None, default: str) -> Path:
    """Where sent reminders are recorded: `record_file`, else `default` at the root; a .bill file
    that the ledger reads (the single file, for a one-file ledger)."""
    if ledger_path.is_file():
        only = ledger_path
        if record_file is not None and Path(record_file).expanduser().resolve() != only.resolve():
            raise TargetError(f"the ledger is the single file {only}; reminders can only be recorded there")
        return only
    if record_file is None:
        return root / default
    path = Path(record_file).expanduser()
    resolved = path.resolve()
    if not resolved.name.endswith(".bill"):
        raise TargetError(f"'{record_file}' is not a .bill file, so the ledger would not read the record")
    try:
        rel = resolved.relative_to(root.resolve())
    except ValueError:
        raise TargetError(f"'{record_file}' is outside the ledger {root}, so the ledger would not read "
                          "the record")
    if any(part.startswith(".") for part in rel.parts):
        raise TargetError(f"'{record_file}' is hidden (a name starting with '.'), so the ledger would not "
                          "read the record")
    if resolved.is_dir():
        raise TargetError(f"'{record_file}' is a folder")
    return path
