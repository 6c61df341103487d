"""Watch-mode latency: from saving a .bill file to the refreshed page.

Runs `textbill watch` (a real process, HTML preview, no PDFs) on two ledgers in
the same run -- the example ledger and a generated one with 1,000 invoices --
and for each, N times: change one time entry, save, and time

  event  save -> the server-sent event that says the build finished
  page   save -> the edited page fetched again over HTTP (what a reload does)
  dom    save -> the new text in the page of a real headless Chromium (--browser)

It also reports the server's own split (analysis vs rendering and writing) and,
with --profile (or when the analysis dominates), a cProfile of one edit of the
large ledger in-process, done as the watch does it (parse results and invoices
kept between builds, the collector paused during the build).  --locked runs
`textbill lock` on the large ledger first (a real ledger's documents are locked,
and checking them is then part of every analysis); its edit is then to work not
yet invoiced, as for the example ledger.

    python bench/bench_watch.py [--runs 8] [--invoices 1000] [--browser] [--profile] [--locked]

Numbers, not asserts: the tests check behaviour, this file measures it.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example-ledger"
AS_OF = "2026-04-15"


# ---------------------------------------------------------------------------- a large ledger

CURRENCIES = ("USD", "EUR", "PLN")


def month_ends(start: date, count: int) -> list[date]:
    out, y, m = [], start.year, start.month
    for _ in range(count):
        nxt = date(y + (m == 12), m % 12 + 1, 1)
        out.append(nxt - timedelta(days=1))
        y, m = nxt.year, nxt.month
    return out


def generate_ledger(folder: Path, invoices: int = 1000, clients: int = 40) -> Path:
    """A clean ledger: `clients` clients with an hourly SOW each, monthly invoices (gapless numbers per
    year, in date order), four time entries per invoice, most invoices paid."""
    folder.mkdir(parents=True, exist_ok=True)
    months = -(-invoices // clients)
    ends = month_ends(date(2024, 1, 1), months)
    (folder / "textbill.yaml").write_text("out: build\nformats: [html]\n")
    head = ['company bench "Bench Consulting Ltd"', '  address "1 Main St\\nSpringfield"', "  country US",
            "  currency USD", ""]
    for y in sorted({e.year for e in ends}):
        for base in ("EUR", "PLN"):
            head.append(f"{y}-01-01 fx {base} USD {'1.0850' if base == 'EUR' else '0.2510'}")
    (folder / "company.bill").write_text("\n".join(head) + "\n")
    seq: dict[int, int] = {}
    invoice_lines: list[str] = []
    per_client: dict[int, list[str]] = {c: [] for c in range(clients)}
    made = 0
    for end in ends:
        for c in range(clients):
            if made >= invoices:
                break
            cid = f"client{c:03d}"
            start = end.replace(day=1)
            for k, day in enumerate((3, 9, 16, 23)):
                minutes = 60 + 15 * ((c + k + end.month) % 12)
                per_client[c].append(f"{start.replace(day=day)} time {cid}/main {minutes // 60}h{minutes % 60}m "
                                     f"\"Work item {k + 1} of {end:%B %Y}\"")
            seq[end.year] = seq.get(end.year, 0) + 1
            number = f"INV-{end.year}-{seq[end.year]:04d}"
            invoice_lines += [f"{end} invoice {number} {cid}", f"  period {start} .. {end}", ""]
            if (c + end.month) % 5:  # four in five are paid, some late
                pay = end + timedelta(days=10 + (c * 7 + end.month) % 40)
                if pay.isoformat() <= AS_OF:
                    per_client[c].append(f"{pay} payment {cid} 100.00 for {number} via bank-transfer")
            made += 1
    for c in range(clients):
        cid = f"client{c:03d}"
        ccy = CURRENCIES[c % len(CURRENCIES)]
        text = [f'client {cid} "Client {c:03d} Holdings"', f"  currency {ccy}", "  terms net 30", "",
                f'sow {cid}/main "Retained engineering"', f"  period {ends[0].replace(day=1)} .. {ends[-1]}",
                f"  hourly {90 + c % 7 * 10}.00 {ccy}", "  increment 15m", "  cap 2000h", ""]
        (folder / "clients").mkdir(exist_ok=True)
        (folder / "clients" / f"{cid}.bill").write_text("\n".join(text + per_client[c]) + "\n")
    (folder / "invoices.bill").write_text("\n".join(invoice_lines))
    return folder


# ---------------------------------------------------------------------------- one watch session

class Session:
    """`textbill watch` as a process, with an event-stream listener."""

    def __init__(self, ledger: Path):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "textbill", "watch", str(ledger), "--port", "0", "--no-open", "--as-of", AS_OF],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            env=dict(os.environ, PYTHONUNBUFFERED="1"))
        line = self.proc.stderr.readline()
        m = re.search(r"http://(?:localhost|127\.0\.0\.1):\d+/", line)
        if not m:
            raise SystemExit(f"watch did not start: {line}{self.proc.stderr.read()}")
        self.url = m.group(0)
        threading.Thread(target=self._drain, daemon=True).start()
        self.builds: list[tuple[float, int]] = []  # (monotonic time of the event, build number)
        self.cond = threading.Condition()
        threading.Thread(target=self._listen, daemon=True).start()

    def _drain(self) -> None:
        for _ in self.proc.stderr:
            pass

    def _listen(self) -> None:
        while True:
            try:
                with urllib.request.urlopen(self.url + "__textbill/events", timeout=600) as resp:
                    buf = b""
                    while True:
                        chunk = resp.read1(4096)
                        if not chunk:
                            break
                        buf += chunk
                        while b"\n\n" in buf:
                            event, buf = buf.split(b"\n\n", 1)
                            m = re.search(rb"event: build\ndata: (\d+)", event)
                            if m:
                                with self.cond:
                                    self.builds.append((time.monotonic(), int(m.group(1))))
                                    self.cond.notify_all()
            except OSError:
                if self.proc.poll() is not None:
                    return
                time.sleep(0.1)

    def status(self) -> dict:
        with urllib.request.urlopen(self.url + "__textbill/status", timeout=30) as resp:
            return json.load(resp)

    def wait_build(self, after: int, timeout: float = 600) -> tuple[float, int]:
        with self.cond:
            self.cond.wait_for(lambda: self.builds and self.builds[-1][1] > after, timeout)
            if not self.builds or self.builds[-1][1] <= after:
                raise SystemExit("timed out waiting for a build")
            return self.builds[-1]

    def close(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def cpu_ms(pid: int) -> float:
    """The process's CPU time so far (user + system, all threads), ms; from /proc (10 ms ticks)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as resp:
        return resp.read()


def main_text(html: bytes) -> bytes:
    """The page's <main>: what a person reads (the live-reload pill and script left out)."""
    m = re.search(rb"<main.*?</main>", html, re.DOTALL)
    return m.group(0) if m else html


def measure(name: str, ledger: Path, bill: Path, line: str, page: str, runs: int, browser=None) -> dict:
    """runs x (save -> event -> page [-> dom]) on one ledger; each save gives `line`'s time entry
    a duration not used before, so no cache has seen the ledger's new content."""
    started = time.monotonic()
    session = Session(ledger)
    try:
        _, current = session.wait_build(0)
        first = time.monotonic() - started
        first_status = session.status()
        text = bill.read_text()
        assert line in text, (bill, line)
        duration = line.split()[3]
        rows = []
        previous = main_text(fetch(session.url + page))
        if browser is not None:
            browser.get(session.url + page)
        for i in range(runs):
            new_line = line.replace(f" {duration} ", f" {5 + i // 4}h{15 * (i % 4 + 1) % 60:02d}m ", 1)
            text = text.replace(line, new_line, 1)
            line = new_line
            dom_before = _dom_text(browser) if browser is not None else None
            time.sleep(0.3)  # settle: the previous page load and its event stream
            c0 = cpu_ms(session.proc.pid)
            t0 = time.monotonic()
            bill.write_text(text)
            t_event, current = session.wait_build(current)
            body = main_text(fetch(session.url + page))
            t_page = time.monotonic()
            if body == previous or b"textbill-errors" in body:
                raise SystemExit(f"{name}: the page did not change after the save")
            previous = body
            row = {"event": (t_event - t0) * 1000, "page": (t_page - t0) * 1000, **session.status()["timings"]}
            if browser is not None:
                _wait_dom(browser, dom_before)
                row["dom"] = (time.monotonic() - t0) * 1000
            s = session.status()  # the whole build's CPU: wait until it is done (the page may come first)
            while s["building"]:
                time.sleep(0.02)
                s = session.status()
            row.update(s["timings"], cpu=cpu_ms(session.proc.pid) - c0)
            current = max(current, s["build"])  # a build may publish twice (first pages, then the rest)
            rows.append(row)
            duration = new_line.split()[3]
        return {"name": name, "first_build_s": first, "first": first_status["timings"], "rows": rows,
                "files": sum(1 for _ in ledger.rglob("*.bill"))}
    finally:
        session.close()


def _dom_text(browser) -> str:
    from selenium.common.exceptions import WebDriverException

    try:
        return browser.execute_script("var m = document.querySelector('main'); return m ? m.innerText : ''")
    except WebDriverException:
        return ""


def _wait_dom(browser, before: str, timeout: float = 30) -> None:
    """Until the page's <main> reads differently (the reload happened and shows the edit)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = _dom_text(browser)
        if now and now != before:
            return
        time.sleep(0.005)
    raise SystemExit("the browser page never changed")


def open_browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--user-data-dir={tempfile.mkdtemp()}", "--window-size=1400,1000"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


# ---------------------------------------------------------------------------- report

def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def summarize(result: dict) -> dict:
    rows = result["rows"]
    out = {}
    for key in ("event", "page", "dom", "analyze_ms", "render_ms", "total_ms", "cpu"):
        vals = [r[key] for r in rows if key in r]
        if vals:
            out[key] = (statistics.median(vals), pct(vals, 0.9))
    return out


def profile_edit(ledger: Path, line: str, top: int = 22) -> str:
    """cProfile of what one save costs in-process, as the watch does it: analyze (parse results and
    invoices kept, the edited file new) and the HTML build into a warm output folder.  line: the time
    entry of clients/client007.bill to edit (with --locked, work not invoiced yet)."""
    import gc

    from textbill.building.run import build
    from textbill.incremental.books_memo import BooksMemo
    from textbill.incremental.workspace import Workspace
    from textbill.pipeline import analyze

    out = ledger / "build" / "profile"
    day = date.fromisoformat(AS_OF)
    workspace = Workspace()  # as the watch keeps it
    workspace.remember(ledger)
    workspace.books_memo = BooksMemo()
    bill = ledger / "clients" / "client007.bill"
    original = bill.read_text()
    for duration in ("6h15m", "6h30m"):  # warm: caches, output, templates, memos
        bill.write_text(original.replace(line, line.replace(f" {line.split()[3]} ", f" {duration} ", 1), 1))
        build(analyze(ledger, workspace=workspace, _check_cache=False), out, day, formats=("html",), jobs=1,
              workspace=workspace)
    gc.collect()
    gc.freeze()
    bill.write_text(original.replace(line, line.replace(f" {line.split()[3]} ", " 7h15m ", 1), 1))
    prof = cProfile.Profile()
    gc.disable()
    t0 = time.perf_counter()
    prof.enable()
    analysis = analyze(ledger, workspace=workspace, _check_cache=False)
    t1 = time.perf_counter()
    build(analysis, out, day, formats=("html",), jobs=1, workspace=workspace)
    prof.disable()
    t2 = time.perf_counter()
    gc.enable()
    gc.unfreeze()
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf).sort_stats("cumulative")
    stats.print_stats(r"textbill", top)
    lines = [ln for ln in buf.getvalue().splitlines() if ln.strip()]
    start = next(i for i, ln in enumerate(lines) if "ncalls" in ln)
    return (f"one edit of the large ledger under cProfile: analyze {1000 * (t1 - t0):.0f} ms, "
            f"build (HTML) {1000 * (t2 - t1):.0f} ms; top textbill functions by cumulative time:\n"
            + "\n".join(lines[start:start + top + 1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=8, help="saves per ledger (default 8)")
    ap.add_argument("--invoices", type=int, default=1000, help="invoices in the generated ledger (default 1000)")
    ap.add_argument("--browser", action="store_true", help="also time the DOM update in headless Chromium")
    ap.add_argument("--profile", action="store_true", help="print a cProfile of one edit of the large ledger")
    ap.add_argument("--json", action="store_true", help="print the raw measurements as JSON")
    ap.add_argument("--locked", action="store_true", help="lock the large ledger's documents first")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="textbill-bench-watch-"))
    browser = open_browser() if args.browser else None
    try:
        small = work / "example"
        shutil.copytree(EXAMPLE, small, ignore=shutil.ignore_patterns("build", ".textbill"))
        # issued documents are locked: the edit is work not invoiced yet (it shows in the SOW's budget)
        with open(small / "clients" / "globex.bill", "a") as fh:
            fh.write('\n2026-04-07 time globex/web-2026 2h "Bench: new work"\n')
        large = generate_ledger(work / "large", args.invoices)  # no lock file: any entry may change
        from textbill.pipeline import analyze

        check = analyze(large)
        if not check.ok:
            raise SystemExit("the generated ledger has errors:\n" + "\n".join(d.message for d in check.diagnostics
                                                                             if d.is_error)[:2000])
        # one-entry edits: a time entry's duration; the page checked is the client's page
        results = [measure("example (8 invoices)", small, small / "clients" / "globex.bill",
                           '2026-04-07 time globex/web-2026 2h "Bench: new work"', "clients/globex.html",
                           args.runs, browser)]
        big_bill = large / "clients" / "client007.bill"
        first_entry = next(ln for ln in big_bill.read_text().splitlines() if " time " in ln)
        if args.locked:  # documents locked: the edit is work not invoiced yet (it shows in the budget)
            for bill in (large / "clients").glob("*.bill"):  # SOWs that run on, past the last invoice
                bill.write_text(re.sub(r"(?m)^(  period \S+ \.\. )(\S+)$", r"\g<1>2027-12-31", bill.read_text()))
            subprocess.run([sys.executable, "-m", "textbill", "lock", "-f", str(large)], check=True,
                           capture_output=True)
            first_entry = '2026-03-02 time client007/main 2h "Bench: new work"'
            with open(big_bill, "a") as fh:
                fh.write(first_entry + "\n")
        results.append(measure(f"generated ({args.invoices} invoices)", large, big_bill, first_entry,
                               "clients/client007.html", args.runs, browser))
    finally:
        if browser is not None:
            browser.quit()

    if args.json:
        print(json.dumps(results, indent=1))
    print(f"\ntextbill watch: save -> refreshed page ({args.runs} saves per ledger; median / p90, ms)\n")
    header = f"{'ledger':<26}{'event':>16}{'page':>16}" + (f"{'dom':>16}" if args.browser else "") + \
        f"{'analysis':>16}{'render+write':>16}"
    print(header)
    sums = []
    for r in results:
        s = summarize(r)
        sums.append(s)
        cells = [f"{s['event'][0]:7.0f} /{s['event'][1]:6.0f}", f"{s['page'][0]:7.0f} /{s['page'][1]:6.0f}"]
        if args.browser:
            cells.append(f"{s['dom'][0]:7.0f} /{s['dom'][1]:6.0f}")
        cells += [f"{s['analyze_ms'][0]:7.0f} /{s['analyze_ms'][1]:6.0f}",
                  f"{s['render_ms'][0]:7.0f} /{s['render_ms'][1]:6.0f}"]
        print(f"{r['name']:<26}" + "".join(f"{c:>16}" for c in cells))
    small_s, large_s = sums
    for r, s in zip(results, sums):
        print(f"{r['name']}: watch process CPU per edit {s['cpu'][0]:.0f} / {s['cpu'][1]:.0f} ms, whole build "
              f"(to the last page) {s['total_ms'][0]:.0f} / {s['total_ms'][1]:.0f} ms (median / p90)")
    print(f"\nlarge / small (median page): {large_s['page'][0] / small_s['page'][0]:.1f}x")
    share = large_s["analyze_ms"][0] / large_s["total_ms"][0]
    from textbill.watch.loop import DEBOUNCE

    print(f"analysis share of the large ledger's build: {share:.0%} "
          f"(event = {DEBOUNCE * 1000:.0f} ms debounce + analysis + render+write + delivery)")
    for r in results:
        f = r["first"]
        print(f"first build of {r['name']}: {r['first_build_s']:.1f} s "
              f"(analysis {f.get('analyze_ms', 0):.0f} ms, render+write {f.get('render_ms', 0):.0f} ms)")
    target = 300
    verdict = "meets" if large_s["page"][0] < target else "misses"
    print(f"aim: under {target} ms for a one-entry edit of the large ledger -> {verdict} it "
          f"(median {large_s['page'][0]:.0f} ms)")
    if args.profile or share > 0.5:
        print("\n" + profile_edit(large, first_entry))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
