"""The floor under `textbill check` in a new process: what it costs before any check runs.

    python bench/floor.py [--entries 100000] [--runs 5] [--data DIR] [--src SNAPSHOT/src]

Measures, in rounds (so the machine's drift falls on every row alike), each as a child process:

  cold check        `textbill check --no-cache` (the issue's baseline)
  edit + check      one time entry changed (bench/run.py's edit), then `textbill check`
  interpreter       `python -c pass`
  + imports         the modules a `textbill check` of this ledger after an edit imports, and nothing else
  + loading         those imports, then the ledger loaded with every file read back from the parse
                    cache (no file changed, nothing parsed), and nothing checked or computed
  + one file        those imports, then the edited file parsed alone: what a process pays that reads
                    back everything an edit left alone instead of building it

"+ loading" is what any check of today's design pays in a new process: it builds the whole
ledger's model (every directive) before the first rule runs.  When it is above 0.25 x the cold
check, the edit + check target cannot be met by making the checks, the engine or the caches
faster; only a design in which a new process does not build the model of the files that did not
change can meet it; "+ one file" is the floor of such a design.  Numbers, not asserts.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as bench  # bench/run.py: measure, edit_one_entry, ensure_data, machine

# the modules a check after an edit imported, found by running one in a child (printed as JSON on stdout)
FIND_MODULES = """
import json, sys
from textbill.cli.main import run
sys.argv = ["textbill", "check", sys.argv[1]]
try:
    run()
except SystemExit:
    pass
print(json.dumps(sorted(m for m in sys.modules if m != "__main__")), file=sys.__stdout__)
"""

IMPORTS = """
import importlib, json, sys
for name in json.loads(sys.argv[1]):
    try:
        importlib.import_module(name)
    except Exception:
        pass
"""

LOADING = IMPORTS + """
from pathlib import Path
from textbill.incremental.workspace import Workspace
from textbill.loading.loader import load
workspace = Workspace()
loaded = load(Path(sys.argv[2]), cache=workspace.parse_cache, syntax=workspace.syntax)
assert loaded.ledger is not None
"""

ONE_FILE = IMPORTS + """
from pathlib import Path
from textbill.loading.loader import parse_source
from textbill.syntax.parser import Syntax
text, nodes, diags, broken = parse_source(sys.argv[2], Path(sys.argv[2]).read_bytes(), Syntax())
assert nodes
"""


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "textbill-bench")
    ap.add_argument("--src", type=Path, help="run textbill from this source folder (a snapshot of src/)")
    args = ap.parse_args(argv)

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if args.src:
        env["PYTHONPATH"] = str(args.src.resolve())
    bench.ENV = env
    ledger = bench.ensure_data(args.data, args.entries) / "ledger"
    py = sys.executable
    tb = [py, "-m", "textbill"]
    subprocess.run(tb + ["check", str(ledger)], check=False, env=env,  # the parse cache filled
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    edit, edited = bench.edit_one_entry(ledger)
    edit()  # the modules of a check after an edit: with nothing changed, the check cache answers and imports less
    found = subprocess.run([py, "-c", FIND_MODULES, str(ledger)], env=env, capture_output=True, text=True,
                           check=True)
    modules = found.stdout.strip().splitlines()[-1]  # a JSON list

    commands = {
        "cold check (`check --no-cache`)": (tb + ["check", "--no-cache", str(ledger)], None),
        "edit + check": (tb + ["check", str(ledger)], edit),
        "interpreter (`python -c pass`)": ([py, "-c", "pass"], None),
        "+ the modules a check after an edit imports": ([py, "-c", IMPORTS, modules], None),
        "+ loading the ledger from the parse cache": ([py, "-c", LOADING, modules, str(ledger)], None),
        "+ parsing the edited file alone": ([py, "-c", ONE_FILE, modules, str(edited)], None),
    }
    walls: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, (cmd, before) in commands.items():
            if before is not None:
                before()
            result = bench.measure(cmd)
            if result.code != 0:
                sys.exit(f"{name}: exit status {result.code}: {' '.join(cmd[:4])} ...")
            walls[name].append(result.wall)
    median = {name: statistics.median(w) for name, w in walls.items()}
    cold = median["cold check (`check --no-cache`)"]

    print(f"# The floor under a check in a new process, {args.entries} entries, {args.runs} rounds")
    print(f"\n{bench.machine()}\n")
    print("| what | median wall | range | x cold |")
    print("|---|---:|---:|---:|")
    for name, w in walls.items():
        print(f"| {name} | {median[name] * 1000:.0f} ms | {min(w) * 1000:.0f}-{max(w) * 1000:.0f} | "
              f"{median[name] / cold:.2f} |")
    floor = median["+ loading the ledger from the parse cache"]
    print(f"| target: edit + check <= 0.25 x cold | {0.25 * cold * 1000:.0f} ms | | 0.25 |")
    verdict = "above" if floor > 0.25 * cold else "below"
    print(f"\nThe floor (imports and loading, nothing checked) is {floor / cold:.2f} x cold: {verdict} the target.")
    alone = median["+ parsing the edited file alone"]
    print(f"A process that built only the edited file would start from {alone / cold:.2f} x cold.")


if __name__ == "__main__":
    main()
