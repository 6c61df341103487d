"""Language-server latency on a large ledger: a real `textbill lsp` process, driven over stdio.

    python bench/lsp.py [--invoices 1000] [--runs 15] [--keep DIR]

On bench_build.py's generated ledger (1,000 monthly invoices over 50 clients, 6,000 time entries in
one file; every document locked first, as a real ledger's are), it measures, each the median (and
p90) of --runs:

  diagnostics   didChange of one time entry's duration in the open time file -> the
                publishDiagnostics of that file (the server's 30 ms debounce included)
  server CPU    the CPU time the server process spent on that (from /proc; 10 ms ticks): on a
                shared machine the steadier figure
  new work      the same for an entry appended after the last invoice (work not yet invoiced)
  completion    a SOW ref after `DATE time ` on the last line of the same buffer
  hover         an invoice number in the open invoices file (its totals and status as of today)

and, in the same run, the baseline: a cold `textbill check --no-cache` of the same ledger (a new
process, as an editor without a server would run it after each save), and the server's first
analysis (didOpen -> the first diagnostics).  Numbers, not asserts.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from lsprotocol import types as t
from pygls.lsp.client import LanguageClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_build import generate  # the sibling benchmark's ledger generator


def _stats(values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    p90 = ms[min(len(ms) - 1, int(len(ms) * 0.9))]
    return f"median {statistics.median(ms):7.1f} ms   p90 {p90:7.1f} ms   (n={len(ms)})"


async def measure(ledger: Path, runs: int) -> dict[str, list[float]]:
    client = LanguageClient("textbill-bench", "1")
    published: dict[str, tuple[float, int]] = {}
    arrived = asyncio.Event()

    @client.feature(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: t.PublishDiagnosticsParams):
        published[params.uri] = (time.perf_counter(), len(params.diagnostics))
        arrived.set()

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    await client.start_io(sys.executable, "-m", "textbill", "lsp", env=env)
    await client.initialize_async(t.InitializeParams(
        capabilities=t.ClientCapabilities(), root_uri=ledger.as_uri(),
        initialization_options={"debounceMs": 30}))
    client.initialized(t.InitializedParams())

    time_file, invoice_file = ledger / "time.bill", ledger / "invoices.bill"
    time_uri, invoice_uri = time_file.as_uri(), invoice_file.as_uri()
    body = time_file.read_text(encoding="utf-8")
    out: dict[str, list[float]] = {"first analysis": [], "diagnostics": [], "server CPU": [], "completion": [],
                                   "hover": []}
    pid = client._server.pid  # pygls keeps the server process there

    async def wait_for(uri: str, since: float) -> float:
        while True:
            got = published.get(uri)
            if got is not None and got[0] >= since:
                return got[0] - since
            arrived.clear()
            await asyncio.wait_for(arrived.wait(), 60)

    start = time.perf_counter()
    client.text_document_did_open(t.DidOpenTextDocumentParams(
        t.TextDocumentItem(uri=time_uri, language_id="textbill", version=1, text=body)))
    out["first analysis"].append(await wait_for(time_uri, start))
    invoices = invoice_file.read_text(encoding="utf-8")
    client.text_document_did_open(t.DidOpenTextDocumentParams(
        t.TextDocumentItem(uri=invoice_uri, language_id="textbill", version=1, text=invoices)))
    await asyncio.sleep(0.5)

    # two edits, each changing one time entry's duration at every run: "diagnostics" the last entry of
    # the file, invoiced and locked (so the lock check also says what changed in its invoice);
    # "new work" an entry appended after the last invoice, work not yet invoiced (the usual edit)
    lines = body.split("\n")
    version = 1
    row = max(i for i, line in enumerate(lines) if " time " in line)
    first_pass = [("diagnostics", "server CPU", row)]
    last_day = date.fromisoformat(max(line.split(" ", 1)[0] for line in invoices.split("\n") if " invoice " in line))
    last_day += timedelta(days=1)  # after every invoice period: on no invoice
    lines.insert(len(lines) - 1 if lines[-1] == "" else len(lines),
                 f"{last_day} time {lines[row].split(' ')[2]} 1h \"new work\"")
    second = [("new work", "new work CPU", lines.index(next(x for x in lines if x.endswith('"new work"'))))]
    version += 1
    client.text_document_did_change(t.DidChangeTextDocumentParams(
        t.VersionedTextDocumentIdentifier(uri=time_uri, version=version),
        [t.TextDocumentContentChangeWholeDocument(text="\n".join(lines))]))
    await asyncio.sleep(3.0)  # the appended line moved nothing, but let the first analysis of it pass
    for wall_key, cpu_key, row in first_pass + second:
        original = lines[row]
        words = original.split(" ")  # DATE time SOW DURATION "description..."
        for k in range(runs):
            version += 1
            words[3] = f"{1 + k % 5}h{1 + k % 7}m"  # 1 to 7 minutes: never the original quarter hours
            lines[row] = " ".join(words)
            edited = "\n".join(lines)
            since, cpu = time.perf_counter(), _cpu_of(pid)
            client.text_document_did_change(t.DidChangeTextDocumentParams(
                t.VersionedTextDocumentIdentifier(uri=time_uri, version=version),
                [t.TextDocumentContentChangeWholeDocument(text=edited)]))
            out.setdefault(wall_key, []).append(await wait_for(time_uri, since))
            out.setdefault(cpu_key, []).append(_cpu_of(pid) - cpu)
            await asyncio.sleep(0.05)
        lines[row] = original

    # completion at the end of a half-typed line (the buffer does not parse there)
    version += 1
    typed = "\n".join(lines) + "\n2027-01-05 time "
    client.text_document_did_change(t.DidChangeTextDocumentParams(
        t.VersionedTextDocumentIdentifier(uri=time_uri, version=version),
        [t.TextDocumentContentChangeWholeDocument(text=typed)]))
    await asyncio.sleep(1.0)
    end = t.Position(typed.count("\n"), len(typed.split("\n")[-1]))
    for _ in range(runs):
        since = time.perf_counter()
        result = await client.text_document_completion_async(t.CompletionParams(
            t.TextDocumentIdentifier(time_uri), end))
        out["completion"].append(time.perf_counter() - since)
        assert result and result.items, "no completion"

    inv_lines = invoices.split("\n")
    hover_rows = [i for i, line in enumerate(inv_lines) if " invoice " in line]
    for k in range(runs):
        row = hover_rows[(k * 37) % len(hover_rows)]
        since = time.perf_counter()
        result = await client.text_document_hover_async(t.HoverParams(
            t.TextDocumentIdentifier(invoice_uri), t.Position(row, 22)))
        out["hover"].append(time.perf_counter() - since)
        assert result is not None, "no hover"

    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return out


def _cpu_of(pid: int) -> float:
    """CPU seconds (user + system) of a process so far, from /proc (0 where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cold_check(ledger: Path, runs: int) -> list[float]:
    walls = []
    for _ in range(runs):
        since = time.perf_counter()
        subprocess.run([sys.executable, "-m", "textbill", "check", "--no-cache", str(ledger)],
                       capture_output=True, check=False)
        walls.append(time.perf_counter() - since)
    return walls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep it")
    args = parser.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="textbill-bench-lsp-"))
    try:
        ledger = work / "ledger"
        if ledger.exists():
            shutil.rmtree(ledger)
        generate(ledger, args.invoices)
        subprocess.run([sys.executable, "-m", "textbill", "lock", "-f", str(ledger)], capture_output=True,
                       check=True)
        print(f"ledger: {args.invoices} invoices in {ledger}; {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.2f}")
        results = asyncio.run(measure(ledger, args.runs))
        check = cold_check(ledger, max(3, args.runs // 5))
        for name, values in results.items():
            print(f"  {name:<16} {_stats(values)}")
        print(f"  {'cold check':<16} {_stats(check)}")
        ratio = statistics.median(results["diagnostics"]) / statistics.median(check)
        print(f"  didChange -> diagnostics / cold `check --no-cache`: {ratio:.3f}x")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
