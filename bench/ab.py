"""Two snapshots of textbill's source, measured in alternation on the same ledger: medians of wall
and CPU seconds.

    python bench/ab.py --base SNAPSHOT_A/src --new SNAPSHOT_B/src [--ledger DIR] [--rounds 5] [--full]

--full adds the full HTML builds (`build --force --jobs 1` and `--jobs 2`, about 15 s each).
Wall time is what a user waits for (both cores count); CPU time, what the machine's load disturbs
least.

A shared 2-core machine drifts by ±20% between runs minutes apart, so a figure from one run of
bench/run.py against a figure from another says little.  Here every command runs for A and for B
back to back, in alternating order each round, and the ratio of the medians is reported.  Each
snapshot gets its own copy of the ledger (so its own .textbill/ state: the persisted tables are one
entry each, which two snapshots would overwrite for each other), cache folder (XDG_CACHE_HOME)
and output folder.  An "edit" appends a
comment to one monthly file: the bytes change (caches miss, the file is parsed again) while the
books stay the same.  Compile the snapshots first (python -m compileall SNAPSHOT/src) so that
neither pays for compiling its modules.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# in this order, so that the build with nothing to do follows the previous round's edit + build
CASES = (
    ("build (html), nothing changed", ("build", "--format", "html"), False),
    ("cold check --no-cache", ("check", "--no-cache"), False),
    ("warm check", ("check",), False),
    ("edit + check", ("check",), True),
    ("edit + build (html)", ("build", "--format", "html"), True),
)
FULL = (
    ("build --force --jobs 1 (html)", ("build", "--format", "html", "--force", "--jobs", "1"), False),
    ("build --force --jobs 2 (html)", ("build", "--format", "html", "--force", "--jobs", "2"), False),
)


def seconds_of(src: Path, args: list[str], cache: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of one textbill command, its children's CPU included."""
    env = dict(os.environ, PYTHONPATH=str(src), XDG_CACHE_HOME=str(cache))
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "textbill", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", type=Path, required=True, help="the src/ folder of the baseline snapshot")
    ap.add_argument("--new", type=Path, required=True, help="the src/ folder of the snapshot measured")
    ap.add_argument("--ledger", type=Path, default=Path(tempfile.gettempdir()) / "textbill-bench/100000/ledger")
    ap.add_argument("--edit", default="2025/05.bill", help="the file an edit appends a comment to")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--full", action="store_true", help="also the full HTML builds on 1 and 2 jobs")
    args = ap.parse_args(argv)
    cases = CASES + (FULL if args.full else ())
    original = (args.ledger / args.edit).read_bytes()
    work = Path(tempfile.mkdtemp(prefix="textbill-ab-"))
    snapshots = {"base": args.base.resolve(), "new": args.new.resolve()}
    ledgers = {name: work / f"ledger-{name}" for name in snapshots}
    for name in snapshots:
        shutil.copytree(args.ledger, ledgers[name], ignore=shutil.ignore_patterns("build*", ".textbill"))
    out = {name: ledgers[name] / "build" for name in snapshots}
    cache = {name: work / f"cache-{name}" for name in snapshots}

    def command(name: str, words: tuple[str, ...]) -> list[str]:
        extra = ["-o", str(out[name])] if words[0] == "build" else []
        return [*words, str(ledgers[name]), *extra]

    for name, src in snapshots.items():  # fill the caches and the output folders once
        seconds_of(src, command(name, ("check",)), cache[name])
        seconds_of(src, command(name, ("build", "--format", "html")), cache[name])
    seconds: dict[tuple[str, str], list[tuple[float, float]]] = {}
    edits = 0
    try:
        for r in range(args.rounds):
            for label, words, edit in cases:
                for name in (("base", "new") if r % 2 == 0 else ("new", "base")):
                    if edit:
                        edits += 1
                        (ledgers[name] / args.edit).write_bytes(original + f"; edit {edits}\n".encode())
                    seconds.setdefault((label, name), []).append(
                        seconds_of(snapshots[name], command(name, words), cache[name]))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{args.rounds} rounds, medians of wall and CPU (user + system) seconds; load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print("| what | base wall | new wall | new / base | base CPU | new CPU | new / base |\n"
          "|---|---:|---:|---:|---:|---:|---:|")
    for label, _, _ in cases:
        bw, bc = (statistics.median(x[i] for x in seconds[(label, "base")]) for i in (0, 1))
        nw, nc = (statistics.median(x[i] for x in seconds[(label, "new")]) for i in (0, 1))
        print(f"| {label} | {bw:.2f} | {nw:.2f} | {nw / bw:.2f} | {bc:.2f} | {nc:.2f} | {nc / bc:.2f} |")


if __name__ == "__main__":
    main()
