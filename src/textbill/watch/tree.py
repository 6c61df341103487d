"""Which folders the watch asks the kernel about: the ledger's, without the ones textbill writes.  [I/O]

A recursive inotify watch of the ledger folder also reports what every build does to
`.textbill/` (the caches and the state) and to the output folder, and every file textbill opens
there or elsewhere below the root.  Each of those events wakes two of watchdog's threads, which
take the interpreter lock from the build: with 1,000 invoices a one-entry edit's first page came
~90 ms later than with no watcher at all (bench/README.md, "watch").  None of those events can
change a build: the output is never an input (`Watcher.relevant`) and the loader reads no file
below a hidden folder (loading.loader.ledger_files).

So the watch covers the root without those folders: `watch_plan` lists (folder, recursive)
watches (the root on its own, each folder below it recursively unless something inside it is
left out, and those one level at a time down to what is); `WatchTree` keeps the observer's
watches equal to that plan when folders come and go.  The kernel is asked only for the events
the watch uses (`WANTED`, by class name: watchdog's opened and closed-unchanged events are most
of what reading a ledger produces).
"""
from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterable
from pathlib import Path

# watchdog's event classes the watch acts on (watchdog.events); the kernel is asked for these only
WANTED = ("FileCreatedEvent", "FileModifiedEvent", "FileDeletedEvent", "FileMovedEvent", "FileClosedEvent",
          "DirCreatedEvent", "DirDeletedEvent", "DirMovedEvent")


def wanted_events() -> list:
    """WANTED as watchdog's classes (imported here: watchdog is slow to import)."""
    from watchdog import events

    return [getattr(events, name) for name in WANTED]


def left_out(root: Path, outputs: Iterable[Path], themes: Iterable[Path]) -> frozenset[Path]:
    """The folders below root that no build reads: the output folders, and the hidden folders at
    the top (`.textbill`, `.git`), unless a theme folder lies in one of them."""
    root = root.resolve()
    themes = [Path(t).resolve() for t in themes]
    found = {Path(o).resolve() for o in outputs}
    try:
        with os.scandir(root) as entries:
            found |= {root / e.name for e in entries if e.name.startswith(".") and _is_folder(e)}
    except OSError:
        pass
    return frozenset(f for f in found if root in f.parents
                     and not any(t == f or f in t.parents or t in f.parents for t in themes))


def watch_plan(root: Path, skipped: frozenset[Path]) -> list[tuple[Path, bool]]:
    """(folder, recursive) watches that see every folder below root except the skipped ones and
    what they hold.  The root is watched on its own (its subfolders one by one), so that a folder
    made there later (the first build's `.textbill`) can be left out without watching the root
    again; below it a folder is watched recursively unless something below it is skipped.
    Symlinked folders are not followed (nor are they by the loader)."""
    root = root.resolve()
    return [(root, False), *_below(root, skipped)]


def _below(folder: Path, skipped: frozenset[Path]) -> list[tuple[Path, bool]]:
    try:
        with os.scandir(folder) as entries:
            children = sorted(folder / e.name for e in entries if _is_folder(e))
    except OSError:
        return []
    plan = []
    for child in children:
        if child in skipped:
            continue
        if any(child in s.parents for s in skipped):
            plan.append((child, False))
            plan.extend(_below(child, skipped))
        else:
            plan.append((child, True))
    return plan


def _is_folder(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


class WatchTree:
    """An observer's watches of one ledger, kept equal to watch_plan as folders come and go.

    skipped() gives the folders to leave out (left_out, asked again at every sync: `.textbill`
    appears with the first build, a theme setting may change).  The observer's handler calls
    `touched` with every folder event, which syncs at once: a folder made where folders are watched
    one by one is watched before the handler marks it, so the build that follows lists what was
    written in it before, and what is written after has its own events."""

    def __init__(self, observer, handler, root: Path, skipped, event_filter: list | None):
        self.observer, self.handler, self.root, self.skipped = observer, handler, root.resolve(), skipped
        self.event_filter = event_filter
        self.watches: dict[tuple[Path, bool], object] = {}
        self._lock = threading.RLock()

    def touched(self, event_type: str, path: str, dest: str = "") -> bool:
        """A folder was created, deleted or moved (watchdog's directory events): sync the watches.
        True when the folder it is now (dest for a move) is watched: not left out, nor inside one
        that is."""
        gone = {Path(os.fsdecode(path))} if event_type in ("deleted", "moved") else set()
        skipped = self.sync(gone)
        now = Path(os.fsdecode(dest or path))
        return event_type != "deleted" and not any(s == now or s in now.parents for s in skipped)

    def sync(self, gone: set[Path] = frozenset()) -> frozenset[Path]:
        """Schedule the plan's missing watches and drop those of folders gone (deleted or moved
        away: their watches are dead even if a folder of that name is made again).  Returns the
        folders left out."""
        with self._lock:
            skipped = self.skipped()
            wanted = set(watch_plan(self.root, skipped))
            for key, watch in list(self.watches.items()):
                folder = key[0]
                if key not in wanted or folder in gone or not folder.is_dir():
                    del self.watches[key]
                    with contextlib.suppress(KeyError, OSError):
                        self.observer.unschedule(watch)
            for key in sorted(wanted - set(self.watches)):
                folder, recursive = key
                with contextlib.suppress(OSError):  # gone since the plan was made: its event syncs again
                    self.watches[key] = self.observer.schedule(self.handler, str(folder), recursive=recursive,
                                                               event_filter=self.event_filter)
        return skipped
