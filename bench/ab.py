"""Two snapshots of textbill's source, measured in alternation on the same ledger: CPU-second medians.

    python bench/ab.py --base SNAPSHOT_A/src --new SNAPSHOT_B/src [--ledger DIR] [--rounds 5]

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
from pathlib import Path

# in this order, so that the build with nothing to do follows the previous round's edit + build
CASES = (
    ("build (html), nothing changed", ("build", "--format", "html"), False),
    ("cold check --no-cache", ("check", "--no-cache"), False),
    ("warm check", ("check",), False),
    ("edit + check", ("check",), True),
    ("edit + build (html)", ("build", "--format", "html"), True),
)


def cpu_seconds(src: Path, args: list[str], cache: Path) -> float:
    env = dict(os.environ, PYTHONPATH=str(src), XDG_CACHE_HOME=str(cache))
    proc = subprocess.Popen([sys.executable, "-m", "textbill", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(proc.pid, 0)
    return usage.ru_utime + usage.ru_stime


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", type=Path, required=True, help="the src/ folder of the baseline snapshot")
    ap.add_argument("--new", type=Path, required=True, help="the src/ folder of the snapshot measured")
    ap.add_argument("--ledger", type=Path, default=Path(tempfile.gettempdir()) / "textbill-bench/100000/ledger")
    ap.add_argument("--edit", default="2025/05.bill", help="the file an edit appends a comment to")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
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
        cpu_seconds(src, command(name, ("check",)), cache[name])
        cpu_seconds(src, command(name, ("build", "--format", "html")), cache[name])
    seconds: dict[tuple[str, str], list[float]] = {}
    edits = 0
    try:
        for r in range(args.rounds):
            for label, words, edit in CASES:
                for name in (("base", "new") if r % 2 == 0 else ("new", "base")):
                    if edit:
                        edits += 1
                        (ledgers[name] / args.edit).write_bytes(original + f"; edit {edits}\n".encode())
                    seconds.setdefault((label, name), []).append(
                        cpu_seconds(snapshots[name], command(name, words), cache[name]))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{args.rounds} rounds, CPU seconds (user + system), medians; load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print("| what | base | new | new / base |\n|---|---:|---:|---:|")
    for label, _, _ in CASES:
        b = statistics.median(seconds[(label, "base")])
        n = statistics.median(seconds[(label, "new")])
        print(f"| {label} | {b:.2f} | {n:.2f} | {n / b:.2f} |")


if __name__ == "__main__":
    main()
