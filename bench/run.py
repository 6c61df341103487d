"""textbill against its peers, in one run: absolute figures and ratios.

    python bench/run.py [--entries 100000] [--runs 3] [--data DIR] [--million [--memory-entries N]]
                        [--no-build] [--no-peers] [--no-pdf] [--pdf-invoices 200] [--no-watch]

Generates (once, then reused) the ledgers and peer files with bench/generate.py
under DIR (default: $TMPDIR/textbill-bench), then measures, each RUNS times
(median reported), every command as a child process whose wall time, CPU time
(user + system, children included, from wait4) and peak RSS are recorded:

  start-up          `textbill --version`: the interpreter and the CLI, the floor under everything
  cold check        `textbill check --no-cache` of ENTRIES entries (nothing read from a cache)
  warm check        `textbill check`, no file changed since the previous check
  edit + check      one time entry of one monthly file changed, then `textbill check`
  build full/noop   `textbill build --force --jobs 1`, `--force --jobs 2`, then a no-op `build`,
                    then one time entry edited and `build` (HTML)
  hledger           `hledger -f peer.timeclock print` over ENTRIES sessions
  bean-check        `bean-check --no-cache peer.beancount` over ENTRIES transactions
  pdf               `build --force --jobs 2 --format pdf` of bench_build.py's ledger: documents/s
  watch             bench_watch.py: save -> refreshed page, one-entry edit, 1,000 invoices
  memory            (--million) `check --no-cache` of MEMORY-ENTRIES entries: wall, peak RSS / entries

Every row of issue 19's table is printed with its target and a ratio measured in this run: the
commands compared run in alternation (A B, B A, ...), so the machine's drift falls on both.

Numbers, not asserts: the tests check behaviour, this file measures it.  The
machine is shared, so CPU seconds are the steadier figure; the load average
is printed with the results.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


@dataclass
class Run:
    wall: float
    cpu: float
    rss_kb: int
    code: int


ENV = None  # the environment of every child (--src puts another textbill first on the path)


def measure(cmd: list[str], cwd: Path | None = None, env=None) -> Run:
    env = env or ENV
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, proc.returncode)


def repeat(cmd, runs: int, cwd=None, before=None) -> Run:
    results = []
    for _ in range(runs):
        if before is not None:
            before()
        results.append(measure(cmd, cwd))
    return Run(statistics.median(r.wall for r in results), statistics.median(r.cpu for r in results),
               max(r.rss_kb for r in results), max(r.code for r in results))


def ensure_data(data: Path, entries: int) -> Path:
    out = data / f"{entries}"
    if not (out / "ledger" / "textbill.lock").exists() or not (out / "peer.timeclock").exists():
        from generate import generate

        print(f"generating {entries} entries in {out} ...", file=sys.stderr)
        generate(entries, out)  # in this process: the textbill it locks with is the one on the path
    return out


def textbill() -> list[str]:
    exe = shutil.which("textbill")
    return [exe] if exe else [sys.executable, "-m", "textbill"]


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


def edit_one_entry(ledger: Path):
    """A tag of the first time entry of the largest monthly file, new at every edit.

    The tag holds a random part: a counter alone would give the file a text that an earlier run of
    the same code on the same data has seen, and the check cache, which keeps the diagnostics of
    more than one text, would answer without checking."""
    target = max(ledger.rglob("*.bill"), key=lambda p: p.stat().st_size)
    state = {"n": 0}

    def edit():
        text = target.read_text(encoding="utf-8")
        i = text.index(" time ")
        line_end = text.index("\n", i)
        line = text[i:line_end]
        state["n"] += 1
        marker = f' #edit{state["n"]}-{secrets.token_hex(4)}'
        line = line.split(" #edit")[0] + marker
        target.write_text(text[:i] + line + text[line_end:], encoding="utf-8")
    return edit, target


def paired(a: list[str], b: list[str], runs: int, before_a=None, cwd=None) -> tuple[Run, Run]:
    """A and B measured in alternation (A B, B A, A B, ...): a ratio that the machine's drift
    between two separate series cannot bend."""
    ra, rb = [], []
    for i in range(runs):
        order = ((a, before_a, ra), (b, None, rb)) if i % 2 == 0 else ((b, None, rb), (a, before_a, ra))
        for cmd, before, into in order:
            if before is not None:
                before()
            into.append(measure(cmd, cwd))
    return tuple(Run(statistics.median(r.wall for r in rs), statistics.median(r.cpu for r in rs),
                     max(r.rss_kb for r in rs), max(r.code for r in rs)) for rs in (ra, rb))


def cpu(a: Run, b: Run) -> str:
    """The ratio of CPU seconds: steadier than wall time on a shared machine."""
    return f"{a.cpu / b.cpu:.2f}x" if b.cpu else "?"


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def pdf_rate(tb: list[str], invoices: int, runs: int) -> tuple[float, int, float] | None:
    """(documents per second, documents, wall s) of `build --force --jobs 2 --format pdf` on
    bench_build.py's ledger of `invoices` invoices (the median of runs)."""
    try:
        import weasyprint  # noqa: F401 - only to know whether PDFs can be made here
    except ImportError:
        return None
    from bench_build import generate as build_ledger

    work = Path(tempfile.mkdtemp(prefix="textbill-bench-pdf-"))
    try:
        ledger = work / "ledger"
        day = (build_ledger(ledger, invoices) + timedelta(days=45)).isoformat()
        out = work / "out"
        args = ["build", str(ledger), "--out", str(out), "--as-of", day, "--format", "pdf"]
        measure(tb + args + ["--jobs", "2"])  # the check cache filled, fonts found
        walls = []
        for _ in range(runs):
            walls.append(measure(tb + args + ["--force", "--jobs", "2"]).wall)
        docs = sum(1 for _ in out.rglob("*.pdf"))
        wall = statistics.median(walls)
        return (docs / wall, docs, wall) if docs else None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def watch_median(runs: int) -> tuple[float, float] | None:
    """The median ms from saving a one-entry edit to the refreshed page, 1,000 invoices (bench_watch.py),
    and the median CPU ms of the watch process per edit (the whole build, the rest after the page too)."""
    proc = subprocess.run([sys.executable, str(HERE / "bench_watch.py"), "--runs", str(runs), "--json"],
                          capture_output=True, text=True, env=ENV, check=False)
    start = proc.stdout.find("[")
    if proc.returncode or start < 0:
        return None
    results, _ = json.JSONDecoder().raw_decode(proc.stdout[start:])
    pages = [r["page"] for r in results[-1]["rows"]]
    cpus = [r["cpu"] for r in results[-1]["rows"] if "cpu" in r]
    return statistics.median(pages), statistics.median(cpus) if cpus else float("nan")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--memory-entries", type=int, default=1_000_000)
    ap.add_argument("--million", action="store_true", help="also the cold check of MEMORY-ENTRIES entries "
                                                           "(minutes: generated once, then reused)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "textbill-bench")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--no-pdf", action="store_true", help="skip the PDF build row")
    ap.add_argument("--no-watch", action="store_true", help="skip the watch row")
    ap.add_argument("--pdf-invoices", type=int, default=200)
    ap.add_argument("--src", type=Path, help="run textbill from this source folder (a snapshot of src/): "
                                             "the caches key on textbill's code, so a tree that others edit "
                                             "during the run would turn warm runs cold")
    args = ap.parse_args(argv)

    global ENV
    tb = textbill()
    # as an installed textbill runs: its modules compiled once (a shell with PYTHONDONTWRITEBYTECODE
    # set would make every run compile them again, ~0.3 s that no user pays)
    ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if args.src:
        ENV["PYTHONPATH"] = str(args.src.resolve())
        tb = [sys.executable, "-m", "textbill"]
    where = "import textbill, os; print(os.path.dirname(textbill.__file__))"
    package = subprocess.run([sys.executable, "-c", where], capture_output=True, text=True, env=ENV,
                             check=False).stdout.strip()
    if package:
        subprocess.run([sys.executable, "-m", "compileall", "-q", package], env=ENV, check=False,
                       stdout=subprocess.DEVNULL)
    data = ensure_data(args.data, args.entries)
    ledger = data / "ledger"
    rows: list[tuple[str, Run | None, str]] = []
    targets: list[tuple[str, str, str, str, str]] = []  # what, measured, target, ratio, load

    def target(what: str, measured: str, goal: str, ratio: float, limit: float, above: bool = False) -> None:
        met = ratio >= limit if above else ratio <= limit
        targets.append((what, measured, goal, f"{ratio:.2f} {'met' if met else 'MISSED'}", load()))

    cold_cmd = tb + ["check", "--no-cache", str(ledger)]
    startup = repeat(tb + ["--version"], args.runs)
    rows.append(("start-up (textbill --version)", startup, ""))

    peers: dict[str, Run] = {}
    colds: list[Run] = []
    if not args.no_peers:
        for name, cmd in (("hledger", ["hledger", "-f", str(data / "peer.timeclock"), "print"]),
                          ("bean-check", ["bean-check", "--no-cache", str(data / "peer.beancount")])):
            # --no-cache: without it every run after the first reads bean-check's own pickle cache
            # (.peer.beancount.picklecache) and the peer is measured warm against a cold textbill
            found = shutil.which(cmd[0]) or shutil.which(cmd[0], path=str(Path(sys.executable).parent))
            if found:
                cold, peers[name] = paired(cold_cmd, [found, *cmd[1:]], args.runs)
                colds.append(cold)
        if "hledger" in peers:
            rows.append((f"hledger print, {args.entries} timeclock sessions", peers["hledger"], ""))
            r = colds[0].wall / peers["hledger"].wall
            target(f"cold `check --no-cache`, {args.entries // 1000}k, vs `hledger print`",
                   f"{colds[0].wall:.2f} s vs {peers['hledger'].wall:.2f} s (CPU {cpu(colds[0], peers['hledger'])})",
                   "<= 0.5x", r, 0.5)
        if "bean-check" in peers:
            rows.append((f"bean-check --no-cache, {args.entries} transactions", peers["bean-check"], ""))
            r = colds[-1].wall / peers["bean-check"].wall
            target(f"cold `check --no-cache`, {args.entries // 1000}k, vs `bean-check --no-cache`",
                   f"{colds[-1].wall:.2f} s vs {peers['bean-check'].wall:.2f} s "
                   f"(CPU {cpu(colds[-1], peers['bean-check'])})", "<= 0.2x", r, 0.2)
    if not colds:
        colds.append(repeat(cold_cmd, args.runs))
    rows.insert(1, (f"cold check --no-cache, {args.entries} entries", colds[0], ""))

    measure(tb + ["check", str(ledger)])  # fill the caches
    warm = repeat(tb + ["check", str(ledger)], args.runs)
    rows.append(("warm check (nothing changed)", warm, f"{warm.cpu - startup.cpu:+.2f} s CPU over start-up"))
    edit, target_file = edit_one_entry(ledger)
    original = target_file.read_bytes()
    try:
        edited, cold = paired(tb + ["check", str(ledger)], cold_cmd, args.runs, before_a=edit)
    finally:
        target_file.write_bytes(original)
    rows.append((f"edit one entry of {target_file.relative_to(ledger)}, check", edited, ""))
    target("one entry edited, then `check` (new process)",
           f"{edited.wall:.2f} s vs cold {cold.wall:.2f} s (CPU {cpu(edited, cold)})",
           "<= 0.25x cold", edited.wall / cold.wall, 0.25)

    build_note = []
    if not args.no_build:
        has_build = subprocess.run(tb + ["build", "--help"], capture_output=True, check=False, env=ENV).returncode == 0
        if has_build:
            out = Path(tempfile.mkdtemp(prefix="textbill-bench-build-"))
            try:
                html = ["build", str(ledger), "--out", str(out), "--format", "html"]
                full1, full2 = paired(tb + html + ["--force", "--jobs", "1"], tb + html + ["--force", "--jobs", "2"],
                                      args.runs)
                noop = repeat(tb + html, args.runs)
                try:  # one time entry edited (a tag: its invoice's lines change, no lock is broken)
                    edited_build, cold = paired(tb + html, cold_cmd, args.runs, before_a=edit)
                finally:
                    target_file.write_bytes(original)
                rows.append(("build --force --jobs 1 (html)", full1, ""))
                rows.append(("build --force --jobs 2 (html)", full2,
                             f"{full1.wall / full2.wall:.2f}x faster than --jobs 1" if full2.wall else ""))
                rows.append(("no-op build", noop, f"{noop.wall - startup.wall:+.2f} s wall over start-up"))
                rows.append((f"edit one entry of {target_file.relative_to(ledger)}, build", edited_build, ""))
                target("one entry edited, then `build` HTML (new process)",
                       f"{edited_build.wall:.2f} s vs cold check {cold.wall:.2f} s (CPU {cpu(edited_build, cold)})",
                       "<= 0.5x cold",
                       edited_build.wall / cold.wall, 0.5)
                target("full HTML build, `--jobs 2` against `--jobs 1`",
                       f"{full2.wall:.2f} s vs {full1.wall:.2f} s", ">= 1.7x faster",
                       full1.wall / full2.wall, 1.7, above=True)
                if full1.code or full2.code or noop.code or edited_build.code:
                    build_note.append("a build exited non-zero: see `textbill build` on the ledger")
            finally:
                shutil.rmtree(out, ignore_errors=True)
        else:
            build_note.append("textbill build is not available")
        if not args.no_pdf:
            found = pdf_rate(tb, args.pdf_invoices, args.runs)
            if found is None:
                build_note.append("no PDF row: WeasyPrint is not installed, or the build made no PDF")
            else:
                rate, docs, wall = found
                target(f"full PDF build, {args.pdf_invoices} invoices ({docs} documents), `--jobs 2`",
                       f"{rate:.1f} documents/s ({wall:.2f} s, {wall / docs * 2000:.0f} ms per document a job)",
                       ">= 30 documents/s", rate / 30, 1.0, above=True)
    if not args.no_watch:
        found = watch_median(max(args.runs, 11))
        if found is None:
            build_note.append("no watch row: bench_watch.py failed")
        else:
            median, cpu_ms = found
            target("watch: one-entry edit to the page changed, 1,000 invoices",
                   f"{median:.0f} ms median (watch CPU {cpu_ms:.0f} ms per edit)", "<= 150 ms", median / 150, 1.0)

    memory = None
    if args.million:
        big = ensure_data(args.data, args.memory_entries) / "ledger"
        memory = measure(tb + ["check", "--no-cache", str(big)])
        per_entry = memory.rss_kb * 1024 / args.memory_entries
        rows.append((f"cold check --no-cache, {args.memory_entries} entries", memory,
                     f"{per_entry:.0f} bytes/entry peak RSS"))
        target(f"cold check, {args.memory_entries // 1000}k entries", f"{memory.wall:.1f} s", "<= 25 s",
               memory.wall / 25, 1.0)
        target(f"cold check, {args.memory_entries // 1000}k entries, memory", f"{per_entry:.0f} B/entry",
               "<= 700 B/entry", per_entry / 700, 1.0)

    print(f"\nmachine: {machine()}\n")
    print(f"| {'what':58} | {'wall s':>7} | {'CPU s':>7} | {'peak RSS MB':>11} | note")
    print(f"|{'-' * 60}|{'-' * 9}|{'-' * 9}|{'-' * 13}|------")
    for what, run, note in rows:
        flag = "" if run.code in (0, 1) else f" (exit {run.code})"
        print(f"| {what:58} | {run.wall:7.2f} | {run.cpu:7.2f} | {run.rss_kb / 1024:11.0f} | {note}{flag}")
    print("\nagainst the targets (ratios from runs in alternation in this run; load average when measured):\n")
    print("| what | measured | target | ratio | load |")
    print("|---|---|---|---|---|")
    for row in targets:
        print("| " + " | ".join(row) + " |")
    print()
    print(f"warm check beyond start-up: wall {warm.wall - startup.wall:.2f} s, CPU {warm.cpu - startup.cpu:.2f} s")
    for note in build_note:
        print(note)


if __name__ == "__main__":
    main()
