"""Parsing alone: lines per second and peak memory of loading a ledger with no cache.

    python bench/parse_speed.py LEDGER [LEDGER ...] [--runs 3]

Each ledger is loaded in a fresh interpreter RUNS times (`loading.loader.load(path, cache=False)`: every
file read, parsed and turned into the model; no billing, no checks), and the median is printed
with the peak RSS of that process.  The figure includes building the Lark parser (about 0.1 s),
which dominates small ledgers.  Generate ledgers with bench/generate.py.  Numbers, not asserts.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from textbill.loading.loader import load
p = Path(sys.argv[1])
lines = sum(f.read_bytes().count(b"\n") for f in p.rglob("*.bill"))
t = time.perf_counter()
loaded = load(p, cache=False)
seconds = time.perf_counter() - t
print(json.dumps({"lines": lines, "seconds": seconds, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "errors": sum(d.is_error for d in loaded.diagnostics)}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ledgers", nargs="+")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    print(f"{'ledger':<40}{'lines':>10}{'seconds':>10}{'lines/s':>12}{'peak RSS MB':>14}")
    for ledger in args.ledgers:
        runs = [json.loads(subprocess.run([sys.executable, "-c", CHILD, ledger], check=True, capture_output=True,
                                          text=True).stdout) for _ in range(args.runs)]
        seconds = statistics.median(r["seconds"] for r in runs)
        lines = runs[0]["lines"]
        print(f"{ledger:<40}{lines:>10,}{seconds:>10.2f}{lines / seconds:>12,.0f}"
              f"{max(r['rss_mb'] for r in runs):>14.0f}" + ("  (has errors)" if runs[0]["errors"] else ""))


if __name__ == "__main__":
    main()
