"""What the watch asks the kernel about: the ledger's folders, not `.textbill/` nor the output.

A recursive watch of the ledger folder also reported every file a build wrote to `.textbill/` and
to the preview, and every file it opened; each event took two of watchdog's threads through the
interpreter lock during the build (bench/README.md, "watch").  These tests run a real watcher on
real folders (inotify): the events textbill causes itself never reach the handler, and a folder
made, removed, made again or renamed while the watch runs is still seen.
"""
from __future__ import annotations

import json
import time
import urllib.request
from datetime import date

import pytest
from conftest import write_ledger

from textbill.watch.loop import Watcher
from textbill.watch.tree import left_out, watch_plan

CLIENT = """
client globex "Globex Corporation"
  currency USD
"""


def invoice(number: int) -> str:
    return f'2026-01-{number:02d} invoice INV-2026-{number:04d} globex\n  item "Consulting" 1 x 100.00\n'


def _status(w: Watcher) -> dict:
    with urllib.request.urlopen(w.url + "__textbill/status", timeout=5) as resp:
        return json.loads(resp.read())


def _wait(predicate, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.03)
    raise AssertionError("timed out waiting")


def _built(w: Watcher, after: int) -> dict:
    return _wait(lambda: (s := _status(w))["build"] > after and not s["building"] and s)


def _invoices(w: Watcher) -> set[str]:
    return {p.stem for p in (w.out_dir / "invoices").glob("*.html")}


@pytest.fixture
def watcher(tmp_path):
    folder = write_ledger(tmp_path / "ledger", CLIENT)
    (folder / "2026").mkdir()
    (folder / "2026" / "jan.bill").write_text(invoice(1))
    w = Watcher(folder, port=0, as_of=lambda: date(2026, 2, 15))  # the preview: build/.preview, in the ledger
    w.start()
    _built(w, 0)
    _settled(w)
    yield w
    w.stop()


def _settled(w: Watcher) -> None:
    """The first build's entries for the next process written (after its publication: that makes
    .textbill/), and the events of what it made handed out."""
    _wait(lambda: not w.workspace.later and (w.root / ".textbill").is_dir())
    time.sleep(0.3)


def _counting(w: Watcher) -> list:
    """Every event watchdog hands the watch's handler from now on."""
    seen = []
    handler = w.tree.handler
    dispatch = handler.dispatch
    handler.dispatch = lambda event: (seen.append(event), dispatch(event))[1]
    return seen


def test_the_plan_leaves_out_state_output_and_hidden_folders(tmp_path):
    root = tmp_path / "ledger"
    for d in ("2026/q1", "clients", ".textbill/state", ".git/objects", "build/.preview", ".themes/mine",
              "site/public", "site/notes"):
        (root / d).mkdir(parents=True)
    (root / "linked").symlink_to(root / "clients", target_is_directory=True)
    root = root.resolve()
    skipped = left_out(root, [root / "build" / ".preview", root / "build", root / "site" / "public"],
                       [root / ".themes" / "mine"])
    assert skipped == {root / ".textbill", root / ".git", root / "build", root / "build" / ".preview",
                       root / "site" / "public"}
    assert watch_plan(root, skipped) == [
        (root, False),  # the root on its own: folders made in it later are placed by the same rule
        (root / ".themes", True),  # a theme may live in a hidden folder: it is watched
        (root / "2026", True),
        (root / "clients", True),
        (root / "site", False), (root / "site" / "notes", True),  # down to the folder left out
    ]  # the symlinked folder is not followed, as the loader does not follow it


def test_what_a_build_writes_never_reaches_the_handler(watcher):
    root = watcher.root.resolve()
    watched = {folder for folder, _ in watcher.tree.watches}
    assert root / ".textbill" not in watched and root / "build" not in watched
    assert (root / ".textbill").is_dir() and (watcher.out_dir / "index.html").is_file()
    seen = _counting(watcher)
    before = _status(watcher)["build"]
    for n in range(20):  # what a build does there: new files, renamed into place, read back
        (root / ".textbill" / f"entry-{n}.tmp").write_text("x")
        (root / ".textbill" / f"entry-{n}.tmp").rename(root / ".textbill" / f"entry-{n}")
        (watcher.out_dir / f"page-{n}.html").write_text("<p>x</p>")
        (root / "2026" / "jan.bill").read_text()  # opened and closed unchanged: not asked for
    time.sleep(0.5)
    assert seen == []
    assert _status(watcher)["build"] == before
    # the other side: an edit in the ledger's folders still reaches it and rebuilds
    (root / "2026" / "jan.bill").write_text(invoice(1) + invoice(2))
    _built(watcher, before)
    assert seen and "INV-2026-0002" in _invoices(watcher)


def test_a_bill_file_inside_dot_textbill_does_not_rebuild(watcher):
    before = _status(watcher)["build"]
    (watcher.root / ".textbill" / "stray.bill").write_text(invoice(3))  # the loader never reads it
    time.sleep(0.5)
    assert _status(watcher)["build"] == before


def test_a_folder_made_while_watching_is_seen_with_what_was_written_at_once(watcher):
    before = _status(watcher)["build"]
    folder = watcher.root / "2027"
    folder.mkdir()
    (folder / "feb.bill").write_text(invoice(2))  # before its watch may exist: the folder's event rebuilds
    _wait(lambda: "INV-2026-0002" in _invoices(watcher))
    assert (watcher.root.resolve() / "2027", True) in watcher.tree.watches
    middle = _built(watcher, before)["build"]
    time.sleep(0.3)
    (folder / "mar.bill").write_text(invoice(3))  # after: its own event
    _built(watcher, middle)
    _wait(lambda: "INV-2026-0003" in _invoices(watcher))


def test_a_folder_removed_and_made_again_is_watched_again(watcher):
    folder = watcher.root / "2026"
    before = _status(watcher)["build"]
    (folder / "jan.bill").unlink()
    folder.rmdir()
    _wait(lambda: "INV-2026-0001" not in _invoices(watcher))
    folder.mkdir()
    time.sleep(0.3)
    (folder / "again.bill").write_text(invoice(1))
    _wait(lambda: "INV-2026-0001" in _invoices(watcher))
    later = _built(watcher, before)["build"]
    time.sleep(0.3)
    (folder / "again.bill").write_text(invoice(1) + invoice(2))  # the new folder's own watch
    _built(watcher, later)
    _wait(lambda: "INV-2026-0002" in _invoices(watcher))


def test_a_renamed_folder_is_watched_under_its_new_name(watcher):
    root = watcher.root.resolve()
    (root / "2026").rename(root / "archive")
    _wait(lambda: (root / "archive", True) in watcher.tree.watches)
    assert (root / "2026", True) not in watcher.tree.watches
    time.sleep(0.3)
    before = _status(watcher)["build"]
    (root / "archive" / "jan.bill").write_text(invoice(1) + invoice(2))
    _built(watcher, before)
    _wait(lambda: "INV-2026-0002" in _invoices(watcher))


def test_a_theme_in_a_hidden_folder_is_still_watched(tmp_path):
    folder = write_ledger(tmp_path / "ledger", CLIENT + invoice(1))
    (folder / "textbill.yaml").write_text("theme: .themes/mine\nformats: [html]\n")
    theme = folder / ".themes" / "mine"
    theme.mkdir(parents=True)
    (theme / "site.css").write_text("body { color: black }\n")
    w = Watcher(folder, tmp_path / "out", port=0, as_of=lambda: date(2026, 2, 15))
    w.start()
    try:
        before = _built(w, 0)["build"]
        (theme / "site.css").write_text("body { color: rebeccapurple }\n")
        _built(w, before)
        _wait(lambda: "rebeccapurple" in (w.out_dir / "site.css").read_text())
    finally:
        w.stop()


def _marks(w: Watcher) -> list[tuple[str, bool]]:
    """Every (path, settled) the handler marks from now on (and marked as before)."""
    seen: list[tuple[str, bool]] = []
    mark = w.mark

    def recording(path, settled=False):
        seen.append((path, settled))
        mark(path, settled)

    w.mark = recording
    return seen


def test_a_save_that_completes_a_file_is_marked_settled_and_one_that_may_not_is_not(watcher):
    """A file closed after writing, or renamed into place, is whole: the build then waits only
    SETTLED for the rest of a "save all", not the whole debounce.  A file renamed away (an editor
    that keeps a backup, then writes the file anew) is not: the new file is still to come."""
    bill = watcher.root / "2026" / "jan.bill"
    name = str(bill)
    seen = _marks(watcher)
    bill.write_text(invoice(1) + invoice(2))  # written in place: modified, then closed
    _wait(lambda: (name, True) in seen)
    assert (name, False) in seen and seen[-1] == (name, True)

    seen.clear()
    spare = watcher.root / "2026" / ".jan.bill.tmp"  # a hidden file: its own events are not relevant
    spare.write_text(invoice(1) + invoice(2) + invoice(3))
    spare.rename(bill)  # renamed into place
    _wait(lambda: seen)
    time.sleep(0.2)
    assert seen == [(name, True)]

    seen.clear()
    bill.rename(bill.with_name("jan.bill~"))  # renamed away: the path marked, not settled
    _wait(lambda: seen)
    time.sleep(0.2)
    assert seen == [(name, False)]
    bill.write_text(invoice(1) + invoice(2) + invoice(3) + invoice(4))
    _wait(lambda: seen[-1] == (name, True))
    _wait(lambda: "INV-2026-0004" in _invoices(watcher))  # built from the new file
    assert _wait(lambda: (s := _status(watcher)) and not s["building"] and s)["ok"]


def test_the_quiet_a_build_waits_for_follows_the_last_event(tmp_path):
    from textbill.watch.loop import MAX_DELAY, SETTLED

    folder = write_ledger(tmp_path / "ledger", CLIENT)
    w = Watcher(folder, port=0, as_of=lambda: date(2026, 2, 15))  # not started: marks only
    assert SETTLED < w.debounce
    w.mark(str(folder / "a.bill"), settled=True)
    assert w._quiet_at() == w._last_event + SETTLED
    w.mark(str(folder / "b.bill"))  # another file, still being written: the whole debounce
    assert w._quiet_at() == w._last_event + w.debounce
    w.mark(str(folder / "b.bill"), settled=True)
    assert w._quiet_at() == w._last_event + SETTLED
    w._last_event = w._first_event + MAX_DELAY  # a folder that never goes quiet still builds
    assert w._quiet_at() == w._first_event + MAX_DELAY
    quick = Watcher(folder, port=0, as_of=lambda: date(2026, 2, 15), debounce=0.001)
    quick.mark(str(folder / "a.bill"), settled=True)
    assert quick._quiet_at() == quick._last_event + 0.001  # never longer than the debounce asked for
