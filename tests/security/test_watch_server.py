"""Attacks on the `textbill watch` preview server, with a real server on 127.0.0.1.

The output folder's content can come with a pull request (a committed `build/rootfs -> /`), and
any web page the user visits can make the browser talk to 127.0.0.1 under the page's own name
(DNS rebinding).  The server once listed `/` through such a link and answered any Host.  Now it
serves only regular files of its folder, follows no symlink, lists no folder, and answers only to
Host 127.0.0.1, localhost or [::1] at its own port (421 otherwise).
"""
from __future__ import annotations

import http.client
import os
import time
from datetime import date

import pytest
from conftest import write_ledger

from textbill.watch.loop import Watcher

LEDGER = """
client globex "Globex Corporation"
  currency USD

2026-01-31 invoice INV-2026-0001 globex
  item "Consulting" 10 x 100.00
"""
CANARY = "TOP-SECRET-CANARY-0d4e"


def request(w: Watcher, path: str, host: str | None = None, method: str = "GET") -> tuple[int, bytes]:
    """One request by http.client, with the Host header the attacker chooses (default: the right one)."""
    conn = http.client.HTTPConnection("127.0.0.1", w.port, timeout=5)
    try:
        conn.putrequest(method, path, skip_host=True)
        conn.putheader("Host", host if host is not None else f"127.0.0.1:{w.port}")
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _built(w: Watcher) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if w.preview.snapshot().build > 0 and not w.preview.snapshot().building:
            return
        time.sleep(0.05)
    raise AssertionError("no build")


@pytest.fixture
def setup(tmp_path):
    """(a started watcher serving tmp/out, a secret folder outside everything served)."""
    folder = write_ledger(tmp_path / "ledger", LEDGER)
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "passwd").write_text(f"root:x:0:0:{CANARY}\n", encoding="utf-8")
    (secret / "index.html").write_text(f"<p>{CANARY}</p>", encoding="utf-8")
    w = Watcher(folder, tmp_path / "out", port=0, as_of=lambda: date(2026, 2, 15), pdf=False)
    w.start()
    _built(w)
    yield w, secret
    w.stop()


def test_the_right_hosts_are_served(setup):
    w, _ = setup
    for host in (f"127.0.0.1:{w.port}", f"localhost:{w.port}", f"[::1]:{w.port}", f"LOCALHOST:{w.port}"):
        code, body = request(w, "/", host)
        assert code == 200 and b"Globex Corporation" in body, host


@pytest.mark.parametrize("path", ["/", "/site.css", "/__textbill/status", "/__textbill/events", "/nope.html"])
def test_a_rebound_or_foreign_host_is_refused(setup, path):
    w, _ = setup
    for host in (f"evil.example:{w.port}", "evil.example", f"127.0.0.1.evil.example:{w.port}",
                 f"localhost:{w.port + 1}", "127.0.0.1", "", f"localhost.:{w.port}", f"::1:{w.port}"):
        code, body = request(w, path, host)
        assert code == 421, (host, path, code)
        assert b"Globex" not in body


def test_no_host_header_is_refused(setup):
    w, _ = setup
    conn = http.client.HTTPConnection("127.0.0.1", w.port, timeout=5)
    try:
        conn.putrequest("GET", "/", skip_host=True)
        conn.endheaders()
        assert conn.getresponse().status == 421
    finally:
        conn.close()


def test_a_symlinked_folder_in_the_output_is_not_followed_nor_listed(setup):
    w, secret = setup
    os.symlink(secret, w.out_dir / "rootfs", target_is_directory=True)
    os.symlink("/", w.out_dir / "slash", target_is_directory=True)
    for path in ("/rootfs/", "/rootfs/passwd", "/rootfs/index.html", "/slash/", "/slash/etc/hostname"):
        for method in ("GET", "HEAD"):
            code, body = request(w, path, method=method)
            assert code == 404, (path, method, code)
            assert CANARY.encode() not in body and b"Directory listing" not in body


def test_a_symlinked_file_in_the_output_is_not_served(setup):
    w, secret = setup
    os.symlink(secret / "passwd", w.out_dir / "leak.css")
    os.symlink(secret / "index.html", w.out_dir / "leak.html")
    for path in ("/leak.css", "/leak.html"):
        code, body = request(w, path)
        assert code == 404, (path, code)
        assert CANARY.encode() not in body


def test_a_fifo_in_the_output_is_not_opened(setup):
    w, _ = setup
    os.mkfifo(w.out_dir / "pipe.css")
    code, _ = request(w, "/pipe.css")  # opening it would wait for a writer forever
    assert code == 404


def test_a_folder_without_index_is_not_listed(setup):
    w, _ = setup
    (w.out_dir / "private").mkdir()
    (w.out_dir / "private" / "notes.txt").write_text("x", encoding="utf-8")
    code, body = request(w, "/private/")
    assert code == 404 and b"notes.txt" not in body
