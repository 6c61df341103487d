"""Watch mode without a browser: the watcher in-process, and `textbill watch` as a process."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import date
from pathlib import Path

import pytest
from conftest import write_ledger

from textbill.watch.loop import Watcher, inject

LEDGER = """
client globex "Globex Corporation"
  currency USD

2026-01-31 invoice INV-2026-0001 globex
  item "Consulting" 10 x 100.00
"""


def get(url: str) -> tuple[int, dict, bytes]:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.status, dict(resp.headers), resp.read()


def status(w: Watcher) -> dict:
    return json.loads(get(w.url + "__textbill/status")[2])


def wait_for(predicate, timeout: float = 10.0, step: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out waiting")


def wait_build(w: Watcher, after: int) -> dict:
    return wait_for(lambda: (s := status(w))["build"] > after and not s["building"] and s)


@pytest.fixture
def watcher(tmp_path):
    folder = write_ledger(tmp_path / "ledger", LEDGER)
    w = Watcher(folder, tmp_path / "out", port=0, as_of=lambda: date(2026, 2, 15), pdf=False)
    w.start()
    wait_build(w, 0)
    yield w
    w.stop()


def test_serves_the_dashboard_with_the_reload_script(watcher):
    code, headers, body = get(watcher.url)
    assert code == 200
    assert b"Globex Corporation" in body
    assert b"data-textbill-watch" in body and b"/__textbill/events" in body
    assert headers["Cache-Control"] == "no-store"
    assert (watcher.out_dir / "index.html").is_file()
    # other files are served as they are
    code, _, css = get(watcher.url + "site.css")
    assert code == 200 and b"data-textbill-watch" not in css


def test_an_edit_rebuilds(watcher):
    before = status(watcher)["build"]
    bill = watcher.root / "ledger.bill"
    bill.write_text(bill.read_text().replace("Globex Corporation", "Globex International"))
    s = wait_build(watcher, before)
    assert s["ok"]
    assert b"Globex International" in get(watcher.url)[2]


def test_errors_replace_the_page_and_the_watch_recovers(watcher):
    bill = watcher.root / "ledger.bill"
    good = bill.read_text()
    before = status(watcher)["build"]
    bill.write_text(good + "2026-02-30 payment globex 10.00\n")
    s = wait_build(watcher, before)
    assert not s["ok"] and s["errors"] == 1
    page = get(watcher.url)[2].decode()
    assert re.search(r"ledger\.bill:\d+:1", page)
    assert "impossible date 2026-02-30" in page
    assert "2026-02-30 payment globex 10.00" in page  # the source line
    assert "data-textbill-watch" in page
    # every HTML page shows the errors, not stale output
    assert "impossible date" in get(watcher.url + "clients/globex.html")[2].decode()
    before = s["build"]
    bill.write_text(good.replace("10 x 100.00", "12 x 100.00"))
    s = wait_build(watcher, before)
    assert s["ok"]
    page = get(watcher.url)[2].decode()
    assert "impossible date" not in page and "1,200.00" in page


def test_rapid_saves_are_debounced(watcher):
    bill = watcher.root / "ledger.bill"
    good = bill.read_text()
    before = status(watcher)["build"]
    for n in range(2, 7):
        bill.write_text(good.replace("10 x 100.00", f"{n} x 100.00"))
        time.sleep(0.01)
    s = wait_build(watcher, before)
    time.sleep(0.4)
    s = status(watcher)
    assert s["build"] - before <= 2  # a burst of saves is one build (two if the burst straddles it)
    assert "600.00" in get(watcher.url)[2].decode()


def test_writing_the_output_does_not_trigger_builds(watcher):
    before = status(watcher)["build"]
    (watcher.out_dir / "stray.html").write_text("<p>x</p>")
    (watcher.root / "notes.txt").write_text("not a ledger file")
    time.sleep(0.5)
    assert status(watcher)["build"] == before


def test_relevant_paths(watcher):
    root = watcher.root
    assert watcher.relevant(str(root / "a.bill"))
    assert watcher.relevant(str(root / "sub" / "b.bill"))
    assert watcher.relevant(str(root / "textbill.yaml"))
    assert not watcher.relevant(str(root / ".#a.bill"))
    assert not watcher.relevant(str(root / "a.bill~"))
    assert not watcher.relevant(str(root / "a.txt"))
    assert not watcher.relevant(str(watcher.out_dir / "x.bill"))
    assert watcher.relevant(str(watcher.themes[-1] / "site.css"))


def test_event_stream_announces_builds(watcher):
    with urllib.request.urlopen(watcher.url + "__textbill/events", timeout=5) as resp:
        assert resp.headers["Content-Type"] == "text/event-stream"
        first = b""
        while b"event: build" not in first or not first.endswith(b"\n\n"):
            first += resp.read1(1024)
        assert re.search(rb"event: build\ndata: (\d+)", first)
        bill = watcher.root / "ledger.bill"
        bill.write_text(bill.read_text().replace("10 x", "11 x"))
        seen = first
        current = int(re.search(rb"event: build\ndata: (\d+)", first).group(1))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            seen += resp.read1(1024)
            builds = [int(b) for b in re.findall(rb"event: build\ndata: (\d+)", seen)]
            if builds and builds[-1] > current:
                break
        assert builds[-1] > current


def test_inject_places_the_script_before_the_body_ends():
    assert inject(b"<html><body><p>x</p></body></html>", b"<script></script>") == \
        b"<html><body><p>x</p><script></script></body></html>"
    assert inject(b"<p>no body</p>", b"<s>") == b"<p>no body</p><s>"


def _start_cli(folder: Path, out: Path) -> tuple[subprocess.Popen, str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "textbill", "watch", str(folder), "--port", "0", "--no-open",
         "--out", str(out), "--as-of", "2026-02-15"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line = proc.stderr.readline()
    m = re.search(r"http://(?:localhost|127\.0\.0\.1):(\d+)/", line)
    assert m, line
    return proc, m.group(0)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_cli_prints_the_url_and_stops_cleanly(tmp_path, sig):
    folder = write_ledger(tmp_path / "ledger", LEDGER)
    proc, url = _start_cli(folder, tmp_path / "out")
    try:
        wait_for(lambda: json.loads(get(url + "__textbill/status")[2])["build"] >= 1)
        assert b"Globex" in get(url)[2]
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "stopped" in err


def test_cli_refuses_a_busy_port(tmp_path):
    import socket

    folder = write_ledger(tmp_path / "ledger", LEDGER)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "textbill", "watch", str(folder), "--port", str(port),
                            "--no-open"], capture_output=True, check=False, text=True, timeout=20)
    assert r.returncode == 2
    assert "in use" in r.stderr and "Traceback" not in r.stderr


def test_a_user_theme_is_watched_and_its_mistakes_shown(tmp_path):
    folder = write_ledger(tmp_path / "ledger", LEDGER)
    (folder / "textbill.yaml").write_text("theme: mytheme\nformats: [html]\n")
    theme = folder / "mytheme"
    theme.mkdir()
    (theme / "site.css").write_text("body { color: black }\n")
    w = Watcher(folder, tmp_path / "out", port=0, as_of=lambda: date(2026, 2, 15))
    w.start()
    try:
        s = wait_build(w, 0)
        assert s["ok"]
        (theme / "site.css").write_text("body { color: rebeccapurple }\n")
        s = wait_build(w, s["build"])
        assert s["ok"] and s["timings"]["analyze_ms"] < 50  # a theme edit does not re-read the ledger
        assert b"rebeccapurple" in get(w.url + "site.css")[2]
        # a broken template: the page names it, the watch goes on
        (theme / "client.html").write_text("{% if %}\n")
        s = wait_build(w, s["build"])
        assert not s["ok"]
        page = get(w.url)[2].decode()
        assert "client.html" in page and "The build failed" in page
        (theme / "client.html").unlink()
        s = wait_build(w, s["build"])
        assert s["ok"] and b"Globex" in get(w.url)[2]
    finally:
        w.stop()


def test_pdf_previews_follow_the_pages_in_a_pool(tmp_path):
    """With --pdf the pages are published first, then the PDFs are made in worker processes
    (a forkserver pool: this process has threads) and published again; an edit renders the
    edited invoice's PDF only."""
    folder = write_ledger(tmp_path / "ledger", LEDGER)
    (folder / "textbill.yaml").write_text("formats: [html, pdf]\n")
    w = Watcher(folder, tmp_path / "out", port=0, as_of=lambda: date(2026, 2, 15), pdf=True)
    w.start()
    try:
        pdf = w.out_dir / "invoices" / "INV-2026-0001.pdf"
        wait_for(lambda: pdf.is_file(), timeout=60)
        assert w.workspace.pool is not None
        first = pdf.read_bytes()
        assert first.startswith(b"%PDF")
        statement = (w.out_dir / "statements" / "globex.pdf").stat().st_mtime_ns
        before = status(w)["build"]
        bill = folder / "ledger.bill"
        bill.write_text(bill.read_text().replace("10 x 100.00", "11 x 100.00"))
        wait_for(lambda: pdf.is_file() and pdf.read_bytes() != first, timeout=60)
        assert status(w)["build"] > before
        assert b"1,100.00" in get(w.url + "invoices/INV-2026-0001.html")[2]
        # the statement's figures changed too; the report's did not (nothing overdue on 2026-02-15)
        assert (w.out_dir / "statements" / "globex.pdf").stat().st_mtime_ns != statement
    finally:
        w.stop()
    assert w.workspace.pool is None


def test_a_template_added_to_a_user_theme_is_used_at_once(tmp_path):
    """A file that newly shadows a bundled template (documents and dashboard alike) takes effect
    on the next build, although Jinja only re-checks the files it has loaded."""
    folder = write_ledger(tmp_path / "ledger", LEDGER)
    (folder / "textbill.yaml").write_text("theme: mytheme\nformats: [html]\n")
    theme = folder / "mytheme"
    theme.mkdir()
    (theme / "style.css").write_text("body { color: black }\n")
    w = Watcher(folder, tmp_path / "out", port=0, as_of=lambda: date(2026, 2, 15))
    w.start()
    try:
        s = wait_build(w, 0)
        assert s["ok"] and b"Consulting" in get(w.url + "invoices/INV-2026-0001.html")[2]
        (theme / "invoice.html").write_text("<html><body><p>my invoice {{ doc.number }}</p></body></html>\n")
        (theme / "dashboard_row.html").write_text(
            "{% macro row(r, show_client) %}<tr><td>my row {{ r.number }}</td></tr>{% endmacro %}\n")
        s = wait_for(lambda: b"my invoice INV-2026-0001" in get(w.url + "invoices/INV-2026-0001.html")[2]
                     and b"my row INV-2026-0001" in get(w.url)[2] and status(w), timeout=15)
        assert s["ok"]
    finally:
        w.stop()


def test_only_the_scratch_preview_skips_fsync(tmp_path, monkeypatch):
    """The preview folder is made again by every watch: its files are written atomically but not
    fsynced.  Output the user keeps (--out, --pdf, textbill build) is."""
    from textbill.building.run import build
    from textbill.loading import writer
    from textbill.pipeline import analyze

    folder = write_ledger(tmp_path / "ledger", LEDGER)
    synced = []
    real = writer.os.fsync
    monkeypatch.setattr(writer.os, "fsync", lambda fd: (synced.append(fd), real(fd)))
    analysis = analyze(folder)
    build(analysis, tmp_path / "kept", date(2026, 2, 15), formats=("html",), jobs=1)
    assert synced  # every file of a real build
    synced.clear()
    build(analysis, tmp_path / "scratch", date(2026, 2, 15), formats=("html",), jobs=1, durable=False)
    assert synced == [] and (tmp_path / "scratch" / "index.html").is_file()

    watchers = [Watcher(folder, port=0), Watcher(folder, tmp_path / "mine", port=0),
                Watcher(folder, port=0, pdf=True)]
    try:
        assert [w._scratch for w in watchers] == [True, False, False]
    finally:
        for w in watchers:
            w.server.server_close()


def test_the_build_lets_the_server_answer_while_it_runs(tmp_path):
    """The server's threads wait for the interpreter lock at each blocking call while a build runs:
    the watch offers it every SWITCH_INTERVAL instead of Python's 5 ms, and gives the process its
    own setting back when it stops."""
    import sys

    from textbill.watch.loop import SWITCH_INTERVAL

    before = sys.getswitchinterval()
    assert SWITCH_INTERVAL < before
    folder = write_ledger(tmp_path / "ledger", LEDGER)
    w = Watcher(folder, tmp_path / "out", port=0, as_of=lambda: date(2026, 2, 15))
    w.start()
    try:
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)
        wait_build(w, 0)
    finally:
        w.stop()
    assert sys.getswitchinterval() == before
