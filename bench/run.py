"""textbill against its peers, in one run: absolute figures and ratios.

    python bench/run.py [--entries 100000] [--memory-entries 1000000] [--runs 3] [--data DIR]
                        [--no-build] [--no-peers]

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
  memory            `textbill check --no-cache` of MEMORY-ENTRIES entries: peak RSS / entries

Numbers, not asserts: the tests check behaviour, this file measures it.  The
machine is shared, so CPU seconds are the steadier figure; the load average
is printed with the results.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
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
    """Toggle the duration of the first time entry of the largest monthly file."""
    target = max(ledger.rglob("*.bill"), key=lambda p: p.stat().st_size)
    state = {"n": 0}

    def edit():
        text = target.read_text(encoding="utf-8")
        i = text.index(" time ")
        line_end = text.index("\n", i)
        line = text[i:line_end]
        state["n"] += 1
        marker = f' #edit{state["n"]}'
        line = line.split(" #edit")[0] + marker
        target.write_text(text[:i] + line + text[line_end:], encoding="utf-8")
    return edit, target


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--memory-entries", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "textbill-bench")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--src", type=Path, help="run textbill from this source folder (a snapshot of src/): "
                                             "the caches key on textbill's code, so a tree that others edit "
                                             "during the run would turn warm runs cold")
    args = ap.parse_args(argv)

    global ENV
    tb = textbill()
    if args.src:
        ENV = dict(os.environ, PYTHONPATH=str(args.src.resolve()))
        tb = [sys.executable, "-m", "textbill"]
    data = ensure_data(args.data, args.entries)
    ledger = data / "ledger"
    rows: list[tuple[str, Run | None, str]] = []

    startup = repeat(tb + ["--version"], args.runs)
    rows.append(("start-up (textbill --version)", startup, ""))
    cold = repeat(tb + ["check", "--no-cache", str(ledger)], args.runs)
    rows.append((f"cold check --no-cache, {args.entries} entries", cold, ""))
    measure(tb + ["check", str(ledger)])  # fill the caches
    warm = repeat(tb + ["check", str(ledger)], args.runs)
    rows.append(("warm check (nothing changed)", warm, f"{warm.cpu - startup.cpu:+.2f} s CPU over start-up"))
    edit, target = edit_one_entry(ledger)
    original = target.read_bytes()
    try:
        edited = repeat(tb + ["check", str(ledger)], args.runs, before=edit)
    finally:
        target.write_bytes(original)
    rows.append((f"edit one entry of {target.relative_to(ledger)}, check", edited, ""))

    peers: dict[str, Run] = {}
    if not args.no_peers:
        if shutil.which("hledger"):
            peers["hledger"] = repeat(["hledger", "-f", str(data / "peer.timeclock"), "print"], args.runs)
            rows.append((f"hledger print, {args.entries} timeclock sessions", peers["hledger"], ""))
        if shutil.which("bean-check"):
            # --no-cache: without it every run after the first reads bean-check's own pickle cache
            # (.peer.beancount.picklecache) and the peer is measured warm against a cold textbill
            peers["bean-check"] = repeat(["bean-check", "--no-cache", str(data / "peer.beancount")], args.runs)
            rows.append((f"bean-check --no-cache, {args.entries} transactions", peers["bean-check"], ""))

    build_note = []
    if not args.no_build:
        has_build = subprocess.run(tb + ["build", "--help"], capture_output=True, check=False, env=ENV).returncode == 0
        if has_build:
            out = Path(tempfile.mkdtemp(prefix="textbill-bench-build-"))
            try:
                full1 = repeat(tb + ["build", str(ledger), "--out", str(out), "--force", "--jobs", "1",
                                     "--format", "html"], 1)
                full2 = repeat(tb + ["build", str(ledger), "--out", str(out), "--force", "--jobs", "2",
                                     "--format", "html"], 1)
                noop = repeat(tb + ["build", str(ledger), "--out", str(out), "--format", "html"], args.runs)
                try:  # one time entry edited (a tag: its invoice's lines change, no lock is broken)
                    edited_build = repeat(tb + ["build", str(ledger), "--out", str(out), "--format", "html"],
                                          args.runs, before=edit)
                finally:
                    target.write_bytes(original)
                rows.append(("build --force --jobs 1 (html)", full1, ""))
                rows.append(("build --force --jobs 2 (html)", full2,
                             f"{full1.wall / full2.wall:.2f}x faster than --jobs 1" if full2.wall else ""))
                rows.append(("no-op build", noop, f"{noop.wall - startup.wall:+.2f} s wall over start-up"))
                rows.append((f"edit one entry of {target.relative_to(ledger)}, build", edited_build, ""))
                if full1.code or full2.code or noop.code or edited_build.code:
                    build_note.append("a build exited non-zero: see `textbill build` on the ledger")
            finally:
                shutil.rmtree(out, ignore_errors=True)
        else:
            build_note.append("textbill build is not available")

    memory = None
    if args.memory_entries:
        big = ensure_data(args.data, args.memory_entries) / "ledger"
        memory = measure(tb + ["check", "--no-cache", str(big)])
        rows.append((f"cold check --no-cache, {args.memory_entries} entries", memory,
                     f"{memory.rss_kb * 1024 / args.memory_entries:.0f} bytes/entry peak RSS"))

    print(f"\nmachine: {machine()}\n")
    print(f"| {'what':58} | {'wall s':>7} | {'CPU s':>7} | {'peak RSS MB':>11} | note")
    print(f"|{'-' * 60}|{'-' * 9}|{'-' * 9}|{'-' * 13}|------")
    for what, run, note in rows:
        flag = "" if run.code in (0, 1) else f" (exit {run.code})"
        print(f"| {what:58} | {run.wall:7.2f} | {run.cpu:7.2f} | {run.rss_kb / 1024:11.0f} | {note}{flag}")
    print()
    for name, peer in peers.items():
        print(f"cold check / {name}: wall {cold.wall / peer.wall:.2f}, CPU {cold.cpu / peer.cpu:.2f}")
    print(f"warm check beyond start-up: wall {warm.wall - startup.wall:.2f} s, CPU {warm.cpu - startup.cpu:.2f} s")
    print(f"edit + check beyond start-up: wall {edited.wall - startup.wall:.2f} s, "
          f"CPU {edited.cpu - startup.cpu:.2f} s")
    if memory is not None:
        print(f"memory at {args.memory_entries} entries: {memory.rss_kb * 1024 / args.memory_entries:.0f} bytes/entry")
    for note in build_note:
        print(note)


if __name__ == "__main__":
    main()
