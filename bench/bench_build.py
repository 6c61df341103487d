"""Benchmark `textbill build` on a generated ledger: full builds with PDFs on 1 and 2 jobs, no-op
rebuilds (in-process and as a command), and the HTML-first-then-PDF loop.

    python bench/bench_build.py                 # 1,000 invoices (several minutes: every PDF is rendered twice)
    python bench/bench_build.py --invoices 100  # a quick look
    python bench/bench_build.py --keep DIR      # leave the ledger and outputs in DIR
    python bench/bench_build.py --skip-pdf      # only the no-op and HTML figures

Prints wall and CPU seconds per phase -- the CPU of this process (the parent) and of its worker
processes apart -- and the ratios that matter: the speed-up of 2 jobs over 1, and the no-op rebuild
against a full build.  It asserts nothing: timings belong here, not in tests.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

CLIENTS = int(os.environ.get("BENCH_CLIENTS", "50"))


def generate(folder: Path, invoices: int) -> date:
    """A ledger of `invoices` monthly invoices over CLIENTS clients; returns the last invoice date."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "textbill.yaml").write_text("out: build\nformats: [html, pdf]\n", encoding="utf-8")
    company = """company bench "Benchmark Consulting Ltd"
  address "1 Bench Street\\nLondon EC1A 1AA\\nUnited Kingdom"
  country GB
  email billing@bench.example
  tax-id "GB123456789"
  bank "Bench Bank" iban GB33BUKB20201555555555 bic BUKBGB22
  currency GBP
  numbering "INV-{seq:05}"
  payment-methods bank-transfer card
  late-interest 8% yearly
"""
    (folder / "company.bill").write_text(company, encoding="utf-8")
    months = -(-invoices // CLIENTS)
    start = date(2024, 1, 1)
    month_starts = [_add_months(start, m) for m in range(months + 1)]
    clients, entries, docs = [], [], []
    for c in range(CLIENTS):
        cid = f"client{c:03d}"
        tax = "tax VAT 20%" if c % 3 else 'tax exempt "Outside the scope of UK VAT"'
        clients.append(f"""client {cid} "Client {c:03d} Limited"
  address "{c} Market Street\\nManchester M1 {c % 9}AA"
  country GB
  contact "Pat Example" pat{c}@client.example
  email ap{c}@client.example
  terms net 30
  {tax}

sow {cid}/work "Engineering services"
  period {start} .. {month_starts[-1] + timedelta(days=400)}
  hourly {90 + c % 7 * 10}.00 GBP
  increment 15m
  po "PO-{c:04d}"
""")
    seq = 0
    for m in range(months):
        first, nxt = month_starts[m], month_starts[m + 1]
        last = nxt - timedelta(days=1)
        for c in range(CLIENTS):
            if seq >= invoices:
                break
            cid = f"client{c:03d}"
            for k in range(6):
                day = first + timedelta(days=3 + k * 4)
                entries.append(f'{day} time {cid}/work {1 + (c + k) % 5}h{15 * (k % 4)}m "Task {k + 1}: '
                               f'design, build and review"')
            seq += 1
            docs.append(f"{last} invoice INV-{seq:05d} {cid}\n  period {first} .. {last}\n")
            if (seq + c) % 4:
                entries.append(f"{last + timedelta(days=20)} payment {cid} 100.00 for INV-{seq:05d}")
    (folder / "clients.bill").write_text("\n".join(clients), encoding="utf-8")
    (folder / "time.bill").write_text("\n".join(entries) + "\n", encoding="utf-8")
    (folder / "invoices.bill").write_text("\n".join(docs), encoding="utf-8")
    return month_starts[months] - timedelta(days=1)


def _add_months(day: date, n: int) -> date:
    y, m = divmod(day.month - 1 + n, 12)
    return date(day.year + y, m + 1, 1)


def _cpu() -> tuple[float, float]:
    """CPU seconds (user + system) of this process and of its waited-for children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime


def timed(label: str, fn):
    wall, (own, kids) = time.perf_counter(), _cpu()
    result = fn()
    wall = time.perf_counter() - wall
    own2, kids2 = _cpu()
    print(f"  {label:<34} {wall:8.2f} s wall {own2 - own:8.2f} s cpu here {kids2 - kids:8.2f} s cpu in workers")
    return result, wall


def command(args: list[str], runs: int = 5) -> tuple[float, float]:
    """Median wall and CPU seconds of a textbill command (a new interpreter each time)."""
    walls, cpus = [], []
    for _ in range(runs):
        before = _cpu()[1]
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "textbill", *args], check=True, capture_output=True)
        walls.append(time.perf_counter() - t)
        cpus.append(_cpu()[1] - before)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep it")
    parser.add_argument("--skip-pdf", action="store_true", help="no full PDF builds (they take minutes)")
    args = parser.parse_args()

    from textbill.building.run import build
    from textbill.pipeline import analyze

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="textbill-bench-"))
    try:
        ledger = work / "ledger"
        if ledger.exists():
            shutil.rmtree(ledger)
        as_of = generate(ledger, args.invoices) + timedelta(days=45)
        print(f"ledger: {args.invoices} invoices, {CLIENTS} clients, in {ledger}; {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.2f}")
        analysis, t_analyze = timed("analyze (start-up)", lambda: analyze(ledger))
        assert analysis.ok, [str(d.message) for d in analysis.diagnostics if d.is_error][:5]

        def full(jobs: int):
            out = work / f"out-j{jobs}"
            shutil.rmtree(out, ignore_errors=True)
            return build(analysis, out, as_of, jobs=jobs)

        if not args.skip_pdf:
            r1, t1 = timed("full build, 1 job", lambda: full(1))
            r2, t2 = timed("full build, 2 jobs", lambda: full(2))
            r0, t0 = timed("no-op rebuild (in-process)", lambda: build(analysis, work / "out-j2", as_of, jobs=2))
            for r in (r1, r2, r0):
                assert r.ok, r.failures[:3]
            same = all((work / "out-j1" / f).read_bytes() == (work / "out-j2" / f).read_bytes()
                       for f in (p.relative_to(work / "out-j1") for p in (work / "out-j1").rglob("*.pdf")))
        html, th = timed("full build, html only", lambda: build(analysis, work / "out-html", as_of,
                                                                formats=("html",)))
        assert html.ok, html.failures[:3]

        # the command line: a new interpreter, the ledger from the check cache
        cli_out = work / "out-cli"
        day = as_of.isoformat()
        subprocess.run([sys.executable, "-m", "textbill", "build", str(ledger), "--out", str(cli_out), "--as-of",
                        day, "--format", "html"], check=True, capture_output=True)
        start_wall, start_cpu = command(["--version"])
        noop_wall, noop_cpu = command(["build", str(ledger), "--out", str(cli_out), "--as-of", day,
                                       "--format", "html"])
        print(f"  {'textbill --version':<34} {start_wall:8.2f} s wall {start_cpu:8.2f} s cpu (median of 5)")
        print(f"  {'textbill build, nothing changed':<34} {noop_wall:8.2f} s wall {noop_cpu:8.2f} s cpu (median of 5)")

        # HTML first, then PDF: one invoice edited
        if not args.skip_pdf:
            bill = ledger / "invoices.bill"
            bill.write_text(bill.read_text().replace("INV-00001 client000\n  period", "INV-00001 client000\n"
                                                     '  note "Edited"\n  period', 1))
            edited = analyze(ledger)
            rh, _ = timed("after one edit: html only", lambda: build(edited, work / "out-j2", as_of,
                                                                      formats=("html",), jobs=2))
            rp, _ = timed("then html and pdf", lambda: build(edited, work / "out-j2", as_of, jobs=2))
            print(f"  html-first loop: {len(rh.rendered)} rendered as HTML, then {len(rp.rendered)} as PDF "
                  f"({', '.join(sorted(rp.rendered)[:4])})")

        print()
        if not args.skip_pdf:
            print(f"documents: {r1.documents} ({len(r1.rendered)} rendered on 1 job, {len(r0.rendered)} on the no-op)")
            print(f"per document, 1 job:          {t1 / r1.documents * 1000:8.1f} ms")
            print(f"speed-up of 2 jobs over 1:    {t1 / t2:8.2f} x")
            print(f"no-op rebuild / full build:   {t0 / t2:8.4f}  ({t0 * 1000:.0f} ms, plus {t_analyze:.2f} s to analyze)")
            print(f"html-only build / full build: {th / t2:8.4f}")
            print(f"PDFs identical on 1 and 2 jobs: {same}")
        print(f"no-op command beyond start-up: {noop_wall - start_wall:8.2f} s wall, "
              f"{noop_cpu - start_cpu:.2f} s cpu")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
