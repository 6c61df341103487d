"""Watch mode: rebuild on save, serve a live-reloading preview on localhost.  [I/O]

Three parts, as in MkDocs' livereload:

* the watchdog callback only marks work: it records a changed path and wakes
  the worker; it never builds;
* one worker thread debounces (waits until the folder is quiet for ~25 ms, or
  ~4 ms when the last event was a file closed after writing or renamed into place),
  re-analyzes the ledger, and rebuilds HTML first (PDFs may follow), then
  publishes the build's number; a failed build publishes its diagnostics and
  the watch goes on.  A build that re-renders documents publishes twice: once
  the changed documents and their clients' dashboard pages are written
  (build's `first` hook), then at the end; each publication names the files it
  changed, and an open page reloads only when its own file is among them;
* between saves the worker keeps what the next build can reuse, in one
  Workspace (incremental/workspace.py) that lives as long as the watch: the
  parsed nodes of unchanged files (Workspace.remember), the computed invoices
  (its books_memo), the pages and digests that the build and the dashboard
  keep; the cyclic garbage collector runs after a build is
  published, not during it (a large ledger's objects made it a fifth of a
  build), and with --pdf a pool of PDF workers lives as long as the watch;
* a `http.server` thread serves the output folder, injects a small script
  into every HTML page, and streams build numbers as server-sent events, so an
  open page reloads when a build finishes, and shows the ledger's errors
  (file:line:col, message, the source line) instead of stale output.
"""
from __future__ import annotations

import contextlib
import gc
import html
import http.server
import json
import os
import signal
import stat
import sys
import threading
import time
import traceback
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import unquote, urlsplit

from textbill.building.run import build, new_pool
from textbill.building.spec import BuildError
from textbill.core import model as m
from textbill.core.diagnostics import Diagnostic, format_text, summary
from textbill.core.frozen import gc_paused
from textbill.core.source import Sources
from textbill.incremental.books_memo import BooksMemo
from textbill.incremental.workspace import Workspace
from textbill.loading.loader import read_config
from textbill.pipeline import analyze
from textbill.render.themes import ThemeError, bundled_themes, load_theme
from textbill.syntax.parser import parse_text
from textbill.watch.tree import WatchTree, left_out, wanted_events

EVENTS_PATH = "/__textbill/events"
STATUS_PATH = "/__textbill/status"
WATCHED_NAMES = ("textbill.yaml", "textbill.lock")
DEBOUNCE = 0.025  # seconds of quiet before a build starts: an editor's save (write, or write and rename)
# is a burst of a few ms, and a build a later event supersedes is abandoned (webpack's watcher waits 20 ms)
# ... and when the last event says a file's save is complete (closed after writing, or renamed into
# place): the quiet that still gathers the other files of one "save all" (each a burst of <1 ms)
SETTLED = 0.004
MAX_DELAY = 1.0  # a folder that never goes quiet still builds this often
# how often the build's thread offers the interpreter lock to a waiting one (Python's default: 5 ms).
# The server answers while the rest of a build runs: each of its blocking calls waited up to the
# interval for the lock, ~15-20 ms from a save's first publication to its page (bench/README.md)
SWITCH_INTERVAL = 0.0005
FULL_COLLECTION = 20  # builds between collections that look at everything


# ---------------------------------------------------------------------------- shared state

@dataclass
class Published:
    """What the server shows: the latest build's number and outcome."""

    build: int = 0  # finished builds; pages reload when it moves
    building: bool = True
    ok: bool = False
    error_page: bytes | None = None  # shown instead of any HTML page while the ledger has errors
    errors: int = 0
    warnings: int = 0
    message: str = "building…"
    timings: dict = field(default_factory=dict)
    version: int = 0  # bumps on every change, for the event stream
    pages: tuple[str, ...] | None = None  # the files this build number changed (None: any page may have)


class Preview:
    """The worker writes here, the server threads read; one condition guards both."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.state = Published()
        self.stopping = False

    def update(self, **changes) -> Published:
        with self.cond:
            for k, v in changes.items():
                setattr(self.state, k, v)
            self.state.version += 1
            self.cond.notify_all()
            return self.snapshot()

    def snapshot(self) -> Published:
        s = self.state
        return Published(s.build, s.building, s.ok, s.error_page, s.errors, s.warnings, s.message,
                         dict(s.timings), s.version, s.pages)

    def wait_change(self, version: int, timeout: float) -> Published:
        with self.cond:
            self.cond.wait_for(lambda: self.state.version != version or self.stopping, timeout)
            return self.snapshot()

    def stop(self) -> None:
        with self.cond:
            self.stopping = True
            self.cond.notify_all()


# ---------------------------------------------------------------------------- pages

RELOAD_SCRIPT = """<script data-textbill-watch>
(function () {
  var build = %(build)d, key = "textbill-scroll:" + location.pathname;
  var here = decodeURIComponent(location.pathname).slice(1);
  if (here === "" || here.charAt(here.length - 1) === "/") here += "index.html";
  function mine(data) {  // "N" (any page may have changed) or "N [changed files]"
    var at = data.indexOf(" ");
    if (at < 0) return true;
    try { return JSON.parse(data.slice(at + 1)).indexOf(here) >= 0; } catch (e) { return true; }
  }
  try {
    var y = sessionStorage.getItem(key);
    if (y !== null) { sessionStorage.removeItem(key); window.addEventListener("load", function () { window.scrollTo(0, +y); }); }
  } catch (e) {}
  function reload() {
    try { sessionStorage.setItem(key, String(window.scrollY)); } catch (e) {}
    location.reload();
  }
  var pill = document.createElement("div");
  pill.setAttribute("data-textbill-pill", "");
  pill.style.cssText = "position:fixed;right:12px;bottom:12px;z-index:2147483647;font:600 11px system-ui,sans-serif;" +
    "background:#141a2a;color:#dfe3ee;padding:5px 10px;border-radius:999px;opacity:.85;pointer-events:none";
  pill.textContent = %(label)s;
  function mount() { document.body && document.body.appendChild(pill); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
  function poll() {
    var x = new XMLHttpRequest();
    x.open("GET", "%(status)s");
    x.onload = function () { try { if (JSON.parse(x.responseText).build !== build) return reload(); } catch (e) {} setTimeout(poll, 500); };
    x.onerror = function () { setTimeout(poll, 1000); };
    x.send();
  }
  if (!window.EventSource) return poll();
  var es = new EventSource("%(events)s");
  es.addEventListener("build", function (e) {
    var n = parseInt(e.data, 10);
    if (n === build) return;
    if (mine(e.data)) { es.close(); reload(); } else build = n;
  });
  es.addEventListener("state", function (e) { pill.textContent = e.data; });
})();
</script>
"""


def reload_script(state: Published) -> bytes:
    label = "● live · " + ("building…" if state.building else state.message)
    return (RELOAD_SCRIPT % {"build": state.build, "label": json.dumps(label).replace("<", "\\u003c"),
                             "events": EVENTS_PATH, "status": STATUS_PATH}).encode("utf-8")


def inject(page: bytes, script: bytes) -> bytes:
    """The live-reload script, before </body> (or at the end of a page without one)."""
    at = page.lower().rfind(b"</body>")
    if at < 0:
        return page + script
    return page[:at] + script + page[at:]


_ERROR_CSS = """
body{margin:0;background:#1b1f2a;color:#e8eaf0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header{background:#b3261e;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:19px}header p{margin:4px 0 0;opacity:.9}
main{padding:18px 28px;max-width:1100px}
.diag{background:#242a38;border-left:4px solid #e5484d;border-radius:6px;padding:12px 16px;margin:0 0 14px}
.diag.warning{border-left-color:#f5a623}
.where{font:600 13px ui-monospace,Menlo,Consolas,monospace;color:#9fb3ff}
.sev{font-weight:700;color:#ff8a8a;margin-left:6px}.warning .sev,.warning .caret{color:#ffc46b}
.msg{margin:4px 0 8px;font-size:15px}
pre{margin:0;background:#151924;border-radius:5px;padding:8px 12px;overflow-x:auto;font:13px/1.45 ui-monospace,Menlo,Consolas,monospace}
pre .gut{color:#6c7489;user-select:none}pre .caret{color:#ff6b6b;font-weight:700}
.help{margin-top:8px;color:#9ee6c6}.help b{color:#5fd4a6}
footer{color:#8a91a5;padding:0 28px 24px;font-size:12px}
"""


def error_page(diags: list[Diagnostic], sources, title: str | None = None, detail: str | None = None) -> bytes:
    """A page listing what stops the build: each diagnostic with its source line and caret."""
    esc = html.escape
    errors = [d for d in diags if d.is_error]
    shown = errors + [d for d in diags if not d.is_error][:20]
    parts = []
    for d in shown:
        cls = "diag" if d.is_error else "diag warning"
        where = esc(str(d.span)) if d.span is not None else "textbill"
        block = [(f'<section class="{cls}"><div><span class="where">{where}</span>'
                  f'<span class="sev">{esc(d.severity)}[{esc(d.code)}]</span></div>'
                  f'<div class="msg">{esc(d.message)}</div>')]
        line = sources.line(d.span.file, d.span.line) if (d.span is not None and sources is not None) else None
        if line is not None:
            shown_line = line.replace("\t", " ")
            col = max(d.span.col, 1)
            width = 1
            if d.span.end_line == d.span.line and d.span.end_col > d.span.col:
                width = max(1, min(d.span.end_col - d.span.col, len(shown_line) - col + 1))
            gutter = str(d.span.line)
            block.append(f'<pre><span class="gut">{esc(gutter)} | </span>{esc(shown_line)}\n'
                         f'<span class="gut">{" " * len(gutter)} | </span>{" " * (col - 1)}'
                         f'<span class="caret">{"^" * width}</span></pre>')
        if d.hint:
            block.append(f'<div class="help"><b>help:</b> {esc(d.hint)}</div>')
        block.append("</section>")
        parts.append("".join(block))
    if detail:
        parts.append(f'<section class="diag"><pre>{esc(detail)}</pre></section>')
    heading = title or f"The ledger has {summary(diags)}"
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{esc(heading)} · textbill watch</title><style>{_ERROR_CSS}</style></head><body>"
        f"<header><h1>{esc(heading)}</h1><p>Nothing was rebuilt; fix the ledger and save: this page "
        "reloads by itself.</p></header>"
        f"<main id=\"textbill-errors\">{''.join(parts)}</main>"
        "<footer>textbill watch</footer></body></html>"
    ).encode()


def waiting_page() -> bytes:
    return (b"<!doctype html><html><head><meta charset=\"utf-8\"><title>Building\xe2\x80\xa6 \xc2\xb7 textbill watch"
            b"</title></head><body style=\"font:15px system-ui,sans-serif;padding:40px;color:#4a5263\">"
            b"<p>Building the preview\xe2\x80\xa6 this page reloads when it is ready.</p></body></html>")


# ---------------------------------------------------------------------------- the server

LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")


class PreviewServer(http.server.ThreadingHTTPServer):
    """The preview on localhost: only regular files of its folder (no symlink is followed), and only
    to a request whose Host is this machine at this port -- a web page that rebinds its own name to
    127.0.0.1 (DNS rebinding) sends its own name as Host, and is refused."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, out_dir: Path, preview: Preview):
        self.out_dir = Path(out_dir)
        self.preview = preview
        super().__init__(address, _Handler)

    def host_allowed(self, host: str | None) -> bool:
        """The Host header names this machine by a loopback name or address, with our port."""
        if not host:
            return False
        name, sep, port = host.strip().lower().rpartition(":")
        if not sep or (":" in name and not (name.startswith("[") and name.endswith("]"))):
            return False
        bound = str(self.server_address[0])
        names = set(LOCAL_HOSTS)
        if bound not in ("0.0.0.0", "::", ""):
            names.add(f"[{bound}]" if ":" in bound else bound)
        return name in names and port == str(self.server_address[1])


def served_file(folder: Path, target: Path) -> Path | None:
    """target (a path below folder, as translate_path gives it) when no part of it below folder is a
    symlink and it is a regular file or a folder; else None (never served)."""
    base = Path(folder)
    try:
        rel = Path(os.path.abspath(target)).relative_to(os.path.abspath(base))
    except ValueError:
        return None
    here = base
    for part in rel.parts:
        here = here / part
        try:
            mode = os.lstat(here).st_mode
        except OSError:
            return target  # missing: the base class answers 404
        if stat.S_ISLNK(mode):
            return None
    try:
        mode = os.lstat(target).st_mode
    except OSError:
        return target
    return target if stat.S_ISREG(mode) or stat.S_ISDIR(mode) else None


class _Handler(http.server.SimpleHTTPRequestHandler):
    server: PreviewServer
    server_version = "textbill-watch"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=str(args[2].out_dir), **kwargs)

    def log_message(self, format, *args):
        pass

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def _refused(self) -> bool:
        """Answer and return True for a request that must not be served: a foreign Host (421), a
        path through a symlink or to a special file (404, as if it were not there)."""
        if not self.server.host_allowed(self.headers.get("Host")):
            self.send_error(421, "Misdirected Request: the preview answers only to localhost")
            return True
        target = Path(self.translate_path(self.path))
        if target.is_dir() and not target.is_symlink():
            target = target / "index.html"
        if served_file(Path(self.directory), target) is None:
            self.send_error(404, "File not found")
            return True
        return False

    def list_directory(self, path):
        """No folder listings: a folder without index.html is not found."""
        self.send_error(404, "File not found")

    def do_GET(self):
        path = unquote(urlsplit(self.path).path)
        if path in (EVENTS_PATH, STATUS_PATH) and not self.server.host_allowed(self.headers.get("Host")):
            self.send_error(421, "Misdirected Request: the preview answers only to localhost")
            return None
        if path == EVENTS_PATH:
            return self._events()
        if path == STATUS_PATH:
            return self._status()
        if self._refused():
            return None
        state = self.server.preview.snapshot()
        target = Path(self.translate_path(self.path))
        if target.is_dir():
            if not path.endswith("/"):
                return super().do_GET()  # the base class redirects to add the slash
            target = target / "index.html"
        is_html = target.suffix.lower() in (".html", ".htm")
        if is_html and state.error_page is not None:
            return self._send(state.error_page, "text/html; charset=utf-8", state)
        if is_html and target.is_file():
            return self._send(target.read_bytes(), "text/html; charset=utf-8", state)
        if is_html and state.build == 0:
            return self._send(waiting_page(), "text/html; charset=utf-8", state)
        return super().do_GET()

    def do_HEAD(self):
        if self._refused():
            return None
        return super().do_HEAD()

    def _send(self, page: bytes, ctype: str, state: Published, code: int = 200):
        body = inject(page, reload_script(state))
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def _status(self):
        s = self.server.preview.snapshot()
        body = json.dumps({"build": s.build, "building": s.building, "ok": s.ok, "errors": s.errors,
                           "warnings": s.warnings, "message": s.message, "timings": s.timings}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def _events(self):
        preview = self.server.preview
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("X-Accel-Buffering", "no")
        self.end_headers()
        state = preview.snapshot()
        sent_build = None
        try:
            self.wfile.write(b"retry: 500\n\n")
            while not preview.stopping:
                if state.build != sent_build:
                    # a build that changed only some pages names them: other pages need not reload
                    # (a client missed a build in between: every page may have changed)
                    pages = state.pages if sent_build is not None and state.build == sent_build + 1 else None
                    data = f"{state.build}" if pages is None else f"{state.build} {json.dumps(list(pages))}"
                    self.wfile.write(f"event: build\ndata: {data}\n\n".encode())
                    sent_build = state.build
                label = "● live · " + ("building…" if state.building else state.message)
                self.wfile.write(f"event: state\ndata: {label}\n\n".encode())
                self.wfile.flush()
                version = state.version
                state = preview.wait_change(version, timeout=15)
                if state.version == version and not preview.stopping:
                    self.wfile.write(b": ping\n\n")
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass
        self.close_connection = True


# ---------------------------------------------------------------------------- the watcher

class Superseded(Exception):
    """A build abandoned because a newer change arrived."""


PREVIEW = ".preview"  # the HTML-only preview's folder inside the output folder


class Watcher:
    """Watch a ledger folder, rebuild on change, serve the output with live reload.

    Without `pdf`, the preview is HTML only and goes to `<out>/.preview`, so that it never
    prunes the PDFs of a full `textbill build` in `<out>`; with `pdf`, every configured
    format is built into `<out>` itself.  `out_dir` overrides either.
    """

    def __init__(self, ledger: Path, out_dir: Path | None = None, *, port: int = 8000, host: str = "127.0.0.1",
                 as_of: Callable[[], date] = date.today, debounce: float = DEBOUNCE,
                 log: Callable[[str], None] = lambda s: None, pdf: bool = False, cache: bool = True,
                 workspace: Workspace | None = None):
        self.ledger = Path(ledger)
        self.root = self.ledger if self.ledger.is_dir() else self.ledger.parent
        config, _ = read_config(self.root, Sources())
        self.config = config
        self.build_dir = self.root / config.out
        if out_dir is not None:
            self.out_dir = Path(out_dir)
        else:
            self.out_dir = self.build_dir if pdf else self.build_dir / PREVIEW
        self.as_of = as_of
        self.debounce = debounce
        self.log = log
        self.pdf = pdf
        self.cache = cache
        self.preview = Preview()
        self.server = PreviewServer((host, port), self.out_dir, self.preview)
        self.host, self.port = self.server.server_address[:2]
        self._lock = threading.Lock()
        self._dirty: set[str] = set()
        self._first_event = 0.0
        self._last_event = 0.0
        self._settled = False  # the last event completed a file's save (mark)
        self._nudge = threading.Event()  # set by every mark: the debounce looks at its moment again
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._observer = None
        self.tree: WatchTree | None = None  # the ledger's watches (start)
        self._theme_watches: dict[Path, object] = {}
        self._switch: float | None = None  # the process's switch interval before start()
        self._analysis = None
        # what every analysis and build of this watch keeps for the next one, PDF workers included
        self.workspace = workspace if workspace is not None else Workspace()
        self.workspace.keeps_heap_frozen = True  # _tidy() freezes the heap after each build
        self._primed = False  # a build has looked at everything (and filled what build.py keeps)
        # the preview folder is scratch, made again by every watch: its files need not survive a
        # power cut, so they are not fsynced (the output folder of --pdf or --out is)
        self._scratch = out_dir is None and not pdf
        self._tidied = 0
        self._early: dict[str, tuple] | None = None  # files served before the build ended, and their stamps
        self.builds: list[dict] = []  # timings of every build, for the benchmark
        self.themes = self.theme_dirs()

    @property
    def url(self) -> str:
        # the address itself, not "localhost": a browser trying ::1 first would wait on it
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    # ------------------------------------------------------------------ what to watch
    def theme_dirs(self) -> list[Path]:
        """The theme's folders (a user theme inside the ledger, the bundled default behind it)."""
        try:
            ledger = m.Ledger(root=str(self.root), company=None, clients={}, sows={}, policies={},
                              config=self.config)
            dirs = load_theme(ledger).dirs
        except ThemeError:
            dirs = (bundled_themes() / "default",)
        return [Path(d).resolve() for d in dirs if Path(d).is_dir()]

    def relevant(self, path: str) -> bool:
        """A ledger file, the settings, the lock, or a file of the theme; never the output."""
        p = Path(path)
        try:
            resolved = p.resolve()
        except OSError:
            resolved = p
        for out in {self.out_dir.resolve(), self.build_dir.resolve()} - {self.root.resolve()}:
            if resolved == out or out in resolved.parents:
                return False
        if p.name.startswith(".") or p.name.endswith("~"):
            return False
        if any(d == resolved or d in resolved.parents for d in self.themes):
            return True
        return p.suffix == ".bill" or p.name in WATCHED_NAMES

    def _left_out(self) -> frozenset[Path]:
        """The folders below the ledger the watch does not look into (watch/tree.py)."""
        return left_out(self.root, [self.out_dir, self.build_dir], self.themes)

    def _watch_themes(self, observer, handler, events) -> None:
        """Watch the theme folders outside the ledger (those inside are in its tree), a new one too."""
        root = self.root.resolve()
        for d in self.themes:
            if not (d == root or root in d.parents) and d not in self._theme_watches:
                with contextlib.suppress(OSError):
                    self._theme_watches[d] = observer.schedule(handler, str(d), recursive=True, event_filter=events)

    def mark(self, path: str, settled: bool = False) -> None:
        """The file-system callback's only job: note the path and wake the worker.  settled: the
        event completes the file's save (closed after writing, renamed into place), so the build
        need not wait the whole debounce for more of it."""
        now = time.monotonic()
        with self._lock:
            if not self._dirty:
                self._first_event = now
            self._dirty.add(path)
            self._last_event = now
            self._settled = settled
            self._wake.set()
            self._nudge.set()

    def _quiet_at(self) -> float:
        """When the build may start: the folder quiet since the last event, or MAX_DELAY after the first."""
        with self._lock:
            quiet = SETTLED if self._settled else self.debounce
            return min(self._last_event + min(quiet, self.debounce), self._first_event + MAX_DELAY)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        from watchdog.observers import Observer  # optional, and slow to import

        if self.cache:  # unchanged files keep their nodes, unchanged invoices their documents
            self.workspace.remember(self.root)
            self.workspace.books_memo = BooksMemo()
            if self.workspace.later is None:  # .textbill's entries written after each build (rebuild)
                self.workspace.later = []
        handler = _Events(self)
        observer = Observer()
        events = wanted_events()
        # the resolved folder: with a relative root ('watch .') watchdog's inotify emitter dropped
        # every event below a subfolder ("Path b'./2026' is not under watched root")
        self.tree = WatchTree(observer, handler, self.root, self._left_out, events)
        self.tree.sync()
        self._theme_watches = {}
        self._watch_themes(observer, handler, events)
        observer.daemon = True
        observer.start()
        self._observer = observer
        self._switch = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL)
        server = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2},
                                  name="textbill-preview", daemon=True)
        worker = threading.Thread(target=self._work, name="textbill-build", daemon=True)
        self._threads = [server, worker]
        server.start()
        self.mark(str(self.root))  # the first build
        worker.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._nudge.set()
        self.preview.stop()
        if self._observer is not None:
            with contextlib.suppress(Exception):
                self._observer.stop()
                self._observer.join(timeout=2)
        self.server.shutdown()
        self.server.server_close()
        for t in self._threads:
            t.join(timeout=5)
        self.workspace.forget(self.root)
        gc.unfreeze()
        self.workspace.close()
        if self._switch is not None:
            sys.setswitchinterval(self._switch)
            self._switch = None

    # ------------------------------------------------------------------ the worker
    def _work(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            if self._stop.is_set():
                return
            while True:  # debounce: wait until the folder is quiet (each event may move the moment)
                self._nudge.clear()
                wait = self._quiet_at() - time.monotonic()
                if wait <= 0 or self._stop.is_set():
                    break
                self._nudge.wait(wait)
            with self._lock:
                changed, self._dirty = self._dirty, set()
                self._wake.clear()
            if self._stop.is_set():
                return
            try:
                with gc_paused():
                    self.rebuild(changed)
                self._tidy()
            except Exception as exc:  # noqa: BLE001 - a bug in a build must not end the watch
                detail = traceback.format_exc()
                state = self.preview.snapshot()
                self.preview.update(build=state.build + 1, building=False, ok=False, pages=None,
                                    error_page=error_page([], None, f"textbill failed: {type(exc).__name__}: {exc}",
                                                          detail),
                                    errors=1, message="internal error")
                self.log(f"textbill: internal error during the build: {type(exc).__name__}: {exc}")

    def _tidy(self) -> None:
        """After a build is published, while the user looks at it: collect the garbage the build
        left, then freeze what is alive (the ledger, the memos), so that no later collection scans
        it again; a full collection every FULL_COLLECTION builds frees what has died since.  The
        first time, the grammar's parser is built too (the first edit of a block needs it)."""
        if self._pending():
            return
        self._tidied += 1
        if self._tidied % FULL_COLLECTION == 0:
            gc.unfreeze()
        gc.collect()
        gc.freeze()
        if self._tidied == 1:
            with contextlib.suppress(Exception):
                parse_text('client warm-up "Warm-up"\n', "<warm-up>", self.workspace.syntax)

    def _pending(self) -> bool:
        with self._lock:
            return bool(self._dirty) or self._stop.is_set()

    def _abort_if_superseded(self, done: int, total: int, what: str) -> None:
        """build()'s progress hook: a newer save (or Ctrl-C) abandons this build half-way; the
        build's manifest then makes the next one render what this one did not."""
        if self._pending():
            raise Superseded()

    def rebuild(self, changed: set[str]) -> dict:
        """Analyze (unless only theme files changed), then write the preview; publish the outcome.
        What the build keeps in .textbill/ for the next process is written after that."""
        try:
            return self._rebuild(changed)
        finally:
            self.workspace.write_kept()

    def _rebuild(self, changed: set[str]) -> dict:
        started = self._started = time.perf_counter()
        self.preview.update(building=True)
        if any(Path(p).name == "textbill.yaml" for p in changed):
            self._reload_config()
        themes = self.themes
        theme_only = bool(changed) and self._analysis is not None and all(
            any(d == Path(p).resolve() or d in Path(p).resolve().parents for d in themes) for p in changed)
        # not from the check cache: a build needs the books, which it would compute after all
        analysis = self._analysis if theme_only else analyze(self.ledger, cache=self.cache,
                                                             workspace=self.workspace, _check_cache=False)
        analyzed = time.perf_counter()
        errors = [d for d in analysis.diagnostics if d.is_error]
        warnings = len(analysis.diagnostics) - len(errors)
        timings = {"analyze_ms": round((analyzed - started) * 1000, 1)}
        state = self.preview.snapshot()
        if errors:
            self._analysis = None
            timings["total_ms"] = round((time.perf_counter() - started) * 1000, 1)
            self._publish_error(error_page(analysis.diagnostics, analysis.sources), len(errors), warnings,
                                summary(analysis.diagnostics), timings)
            self.log(f"build {state.build + 1}: {summary(analysis.diagnostics)}; showing them in the page")
            self._print_diagnostics(analysis)
            return timings
        self._analysis = analysis
        day = self.as_of()
        try:
            written, problems = self._write(analysis, day)
        except Superseded:
            self.log("        a newer change arrived; building again")
            return timings
        except (BuildError, ThemeError) as exc:
            timings["total_ms"] = round((time.perf_counter() - started) * 1000, 1)
            self._publish_error(error_page([], None, "The build failed", str(exc)), 1, warnings,
                                "the build failed", timings)
            self.log(f"build {state.build + 1}: {exc}")
            return timings
        built = time.perf_counter()
        first_ms = self.preview.snapshot().timings.get("first_ms") if self._early is not None else None
        timings.update(render_ms=round((built - analyzed) * 1000, 1), total_ms=round((built - started) * 1000, 1),
                       written=written, **({"first_ms": first_ms} if first_ms is not None else {}))
        notes = warnings + len(problems)
        message = f"built {time.strftime('%H:%M:%S')}" + (f" · {notes} warning{'s' if notes != 1 else ''}"
                                                         if notes else "")
        state = self.preview.snapshot()  # a first publication may have moved it
        self.preview.update(build=state.build + 1, building=False, ok=True, error_page=None, errors=0,
                            warnings=notes, message=message, timings=timings, pages=self._later_pages())
        self.log(f"build {state.build + 1}: {written} file{'s' if written != 1 else ''} written in "
                 f"{timings['total_ms']:.0f} ms (analysis {timings['analyze_ms']:.0f} ms)"
                 + (f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else ""))
        for problem in problems:
            self.log(f"        {problem}")
        self.builds.append(timings)
        if self.pdf:
            self._write_pdfs(analysis, day)
        return timings

    def _write_pdfs(self, analysis, day: date) -> None:
        """With --pdf, after the pages are up: the PDFs and other formats of textbill.yaml, in a
        pool of worker processes that lives as long as the watch (started by forkserver: forking
        this process, which has threads, is not safe); published again when files changed."""
        if self._pending():
            return
        started = time.perf_counter()
        if self.workspace.pool is None:
            self.workspace.pool = new_pool()
        try:
            report = build(analysis, self.out_dir, day, formats=None, progress=self._abort_if_superseded,
                           workspace=self.workspace)
        except Superseded:
            self.log("        a newer change arrived before the PDFs were done")
            return
        except (BuildError, ThemeError) as exc:
            self._publish_error(error_page([], None, "The build failed", str(exc)), 1, 0, "the build failed", {})
            self.log(f"        PDFs: {exc}")
            return
        seconds = time.perf_counter() - started
        for failure in report.failures:
            self.log(f"        error: {failure}")
        if report.written or report.removed:
            state = self.preview.snapshot()
            self.preview.update(build=state.build + 1, message=f"{state.message} · PDFs", pages=None)
            self.log(f"build {state.build + 1}: {len(report.rendered)} document{'s' if len(report.rendered) != 1 else ''}"
                     f" as PDF and the other formats in {seconds * 1000:.0f} ms")

    def _reload_config(self) -> None:
        """A new theme setting takes effect at once; a new output folder needs a restart."""
        config, _ = read_config(self.root, Sources())
        if config.out != self.config.out:
            self.log(f"        'out' changed to {config.out}: restart the watch to serve it; still serving "
                     f"{self.out_dir}")
        self.config = config
        self.themes = self.theme_dirs()
        self._analysis = None
        if self.tree is not None:  # a theme inside a folder left out is watched now, one outside too
            self.tree.sync()
            self._watch_themes(self.tree.observer, self.tree.handler, self.tree.event_filter)

    def _publish_error(self, page: bytes, errors: int, warnings: int, message: str, timings: dict) -> None:
        state = self.preview.snapshot()
        self.preview.update(build=state.build + 1, building=False, ok=False, error_page=page, errors=errors, pages=None,
                            warnings=warnings, message=message, timings=timings)
        self.builds.append(timings)

    def _write(self, analysis, day: date) -> tuple[int, list[str]]:
        """The pages first (HTML, into the preview folder, or into the output folder with --pdf,
        whose PDFs then follow: _write_pdfs).  In this process: HTML is quick to render."""
        # the first build looks at everything even when the preview is up to date: what it keeps
        # (digests, statements, pages) is what makes the next builds quick
        self._early = None
        report = build(analysis, self.out_dir, day, jobs=1, formats=("html",), progress=self._abort_if_superseded,
                       noop=self._primed, durable=not self._scratch, workspace=self.workspace,
                       first=self._serve_first if self._primed else None)
        self._primed = True
        self._written = report.written
        problems = [f"error: {f}" for f in report.failures] + [f"warning: {w}" for w in report.warnings]
        return len(report.written), problems

    def _serve_first(self, files: list[str]) -> None:
        """build()'s first hook: the documents the edit changed and their clients' pages are
        written; publish them (their open pages reload) while the rest of the build goes on."""
        self._early = {f: _stamp(self.out_dir / f) for f in files}
        state = self.preview.snapshot()
        whole = state.error_page is not None or not state.ok  # pages that showed errors reload too
        self.preview.update(build=state.build + 1, ok=True, error_page=None, errors=0,
                            pages=None if whole else tuple(files),
                            timings={"first_ms": round((time.perf_counter() - self._started) * 1000, 1)})

    def _later_pages(self) -> tuple[str, ...] | None:
        """What the end of a build changed that its first publication did not show (None: no first)."""
        if self._early is None:
            return None
        early = self._early
        return tuple(f for f in self._written if f not in early or _stamp(self.out_dir / f) != early[f])

    def _print_diagnostics(self, analysis) -> None:
        for d in analysis.diagnostics:
            if d.is_error:
                self.log(format_text(d, analysis.sources) + "\n")


def _stamp(path: Path) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


class _Events:
    """watchdog's handler: filter, then mark.  Built lazily so importing watch.py stays cheap."""

    def __new__(cls, watcher: Watcher):
        from watchdog.events import (
            FileSystemEventHandler,  # optional, and slow to import
        )

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event):
                if event.event_type in ("opened", "closed_no_write"):
                    return
                dest = getattr(event, "dest_path", "") or ""
                seen = True  # a folder made or moved in: watched now (the tree syncs first)
                if event.is_directory and event.event_type in ("created", "moved", "deleted") \
                        and watcher.tree is not None:
                    seen = watcher.tree.touched(event.event_type, event.src_path, dest)
                for p in (event.src_path, dest):
                    if not p:
                        continue
                    p = os.fsdecode(p)
                    if event.is_directory:
                        # a folder moved or deleted may carry .bill files with it; one made where
                        # folders are watched one by one may hold files written before its watch
                        carried = event.event_type in ("moved", "deleted") or (event.event_type == "created" and seen)
                        if carried and watcher.relevant(os.path.join(p, "x.bill")):
                            watcher.mark(p)
                    elif watcher.relevant(p):
                        # a file closed after writing, or renamed into place (not away), is whole
                        watcher.mark(p, event.event_type == "closed"
                                     or (event.event_type == "moved" and p == os.fsdecode(dest)))

        return Handler()


def serve(ledger: Path, out_dir: Path | None, port: int, as_of: Callable[[], date], *,
          open_browser: bool = True, pdf: bool = False, cache: bool = True,
          log: Callable[[str], None] = print) -> None:
    """Run until interrupted (Ctrl-C or SIGTERM)."""
    watcher = Watcher(ledger, out_dir, port=port, as_of=as_of, log=log, pdf=pdf, cache=cache)
    stop = threading.Event()

    def on_signal(_signum, _frame):
        stop.set()

    # explicit handlers: Ctrl-C works even where SIGINT was inherited as ignored (a background job)
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    log(f"textbill watch: serving {watcher.out_dir} at {watcher.url} (Ctrl-C to stop)")
    watcher.start()
    if open_browser:
        threading.Thread(target=_open_when_built, args=(watcher, webbrowser.open), daemon=True).start()
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        watcher.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log("textbill watch: stopped")


def _open_when_built(watcher: Watcher, opener) -> None:
    state = watcher.preview.snapshot()
    while state.build == 0 and not watcher.preview.stopping:
        state = watcher.preview.wait_change(state.version, 1)
    if not watcher.preview.stopping:
        with contextlib.suppress(Exception):
            opener(watcher.url)
