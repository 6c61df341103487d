"""`textbill watch .`: a relative ledger folder still sees edits in its subfolders (issue 14).

watchdog's inotify emitter compared the subfolder's path ("./2026") with the watched root as
given, and dropped every event below it ("Path b'./2026' is not under watched root").
"""
from __future__ import annotations

import json
import time
import urllib.request
from datetime import date
from pathlib import Path

from conftest import write_ledger

from textbill.watch.loop import Watcher

CLIENT = """
client globex "Globex Corporation"
  currency USD
"""
INVOICE = """2026-01-31 invoice INV-2026-0001 globex
  item "Consulting" 10 x 100.00
"""


def _status(w: Watcher) -> dict:
    with urllib.request.urlopen(w.url + "__textbill/status", timeout=5) as resp:
        return json.loads(resp.read())


def _wait_build(w: Watcher, after: int, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = _status(w)
        if s["build"] > after and not s["building"]:
            return s
        time.sleep(0.05)
    raise AssertionError(f"no build after {after} within {timeout}s")


def test_watch_dot_sees_an_edit_in_a_subfolder(tmp_path, monkeypatch):
    folder = write_ledger(tmp_path / "ledger", CLIENT)
    (folder / "2026").mkdir()
    bill = folder / "2026" / "invoices.bill"
    bill.write_text(INVOICE, encoding="utf-8")
    monkeypatch.chdir(folder)
    w = Watcher(Path("."), tmp_path / "out", port=0, as_of=lambda: date(2026, 2, 15))
    w.start()
    try:
        before = _wait_build(w, 0)["build"]
        bill.write_text(INVOICE.replace("Consulting", "Deep consulting"), encoding="utf-8")
        _wait_build(w, before)
        page = (tmp_path / "out" / "invoices" / "INV-2026-0001.html").read_text(encoding="utf-8")
        assert "Deep consulting" in page
    finally:
        w.stop()
