"""`textbill import bank` on a large camt.053: time and peak memory, against a bare lxml iterparse.

    python bench/bank.py --transactions 100000 --out /tmp/tbbank [--src SNAPSHOT/src] [--full]

Writes OUT/ledger (a company with its IBAN, 200 clients, 2,000 invoices) and OUT/statement.xml, a
camt.053.001.08 statement of that many transactions (about 1 kB each: 100k is ~100 MB): a third
name an invoice number in the remittance, a third come from a client's name, the rest match
nothing; one entry in ten is a debit, one in five a batch of three transfers.  Each measurement
runs in a fresh process (its peak RSS from wait4), in this order:

- baseline: lxml iterparse of the same file, each Ntry cleared when read (the least any streaming
  reader of it can cost);
- read: every transaction read and dropped (the reader's own cost: camt.py on top of iterparse);
- read + match: the statement read and every transaction matched (workflow.bank.importing.plan_bank_import),
  nothing written;
- with --full, the command: `textbill import bank --dry-run` (loading and checking the ledger,
  reading, matching, and checking the payments it would append).

The ratios to the baseline are printed; record them in bench/README.md.
"""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

CLIENTS = 200
INVOICES = 2000

BASELINE = r"""
import sys
from lxml import etree
n = 0
ns = "{urn:iso:std:iso:20022:tech:xsd:camt.053.001.08}"
for _, elem in etree.iterparse(sys.argv[1], events=("end",), tag=ns + "Ntry"):
    n += 1
    elem.clear()
    while elem.getprevious() is not None:
        del elem.getparent()[0]
print(n)
"""

READ = r"""
import sys
from pathlib import Path
from textbill.workflow.bank.importing import transactions
n = sum(1 for _ in transactions(Path(sys.argv[1]), "statement.xml", None, {}, lambda account: None))
print(n)
"""

PLAN = r"""
import sys
from datetime import date
from pathlib import Path
from textbill.pipeline import analyze
from textbill.workflow.bank.importing import plan_bank_import
a = analyze(Path(sys.argv[2]), cache=False)
invoices = list(a.receivables(date.max).invoices.values())
plan = plan_bank_import(Path(sys.argv[1]), "statement.xml", None, a.ledger, invoices, {})
print(len(plan.written), len(plan.unmatched), len(plan.passed))
"""


def write_ledger(folder: Path) -> list[tuple[str, str]]:
    folder.mkdir(parents=True, exist_ok=True)
    out = [('company acme "Acme GmbH"\n  currency EUR\n  bank "Commerzbank" iban DE89370400440532013000\n'
            '  reference rf\n')]
    names = []
    for c in range(CLIENTS):
        name = f"Client {c:03d} Handels GmbH"
        names.append((f"c{c:03d}", name))
        out.append(f'client c{c:03d} "{name}"\n')
    invoices = []
    for i in range(INVOICES):
        day = date(2025, 1, 1) + timedelta(days=i * 365 // INVOICES)  # numbers follow date order
        number = f"INV-2025-{i + 1:04d}"
        client = names[i % CLIENTS][0]
        invoices.append((number, client))
        out.append(f"{day} invoice {number} {client}\n  item \"Work\" 1 x {100 + i % 900}.00\n")
    (folder / "ledger.bill").write_text("\n".join(out), encoding="utf-8")
    return names


def write_statement(path: Path, count: int, names: list[tuple[str, str]]) -> None:
    rng = random.Random(15)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                 '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">\n <BkToCstmrStmt>\n'
                 '  <GrpHdr><MsgId>BENCH</MsgId><CreDtTm>2026-01-31T06:00:00</CreDtTm></GrpHdr>\n'
                 '  <Stmt>\n   <Id>BENCH-1</Id>\n'
                 '   <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>\n')
        written = 0
        entry = 0
        while written < count:
            entry += 1
            day = f"2026-01-{1 + entry % 28:02d}"
            batch = 3 if entry % 5 == 0 and count - written >= 3 else 1
            debit = entry % 10 == 3
            txs = []
            for k in range(batch):
                kind = (written + k) % 3
                amount = f"{rng.randint(100, 999)}.00"
                if kind == 0:
                    text = f"Rechnung inv 2025 {rng.randint(1, INVOICES):04d} vielen Dank"
                    payer = "Buchhaltung"
                elif kind == 1:
                    text = "Zahlung laut Vereinbarung"
                    payer = rng.choice(names)[1].upper()
                else:
                    text = "Erstattung"
                    payer = f"Unbekannt {rng.randint(1, 10 ** 6)}"
                txs.append(
                    f"     <TxDtls>\n      <Refs><AcctSvcrRef>TX{entry:08d}-{k}</AcctSvcrRef>"
                    f"<EndToEndId>E2E{entry:08d}{k}</EndToEndId></Refs>\n"
                    f'      <Amt Ccy="EUR">{amount}</Amt>\n'
                    f"      <RltdPties><Dbtr><Pty><Nm>{payer}</Nm><PstlAdr><StrtNm>Hauptstrasse</StrtNm>"
                    f"<BldgNb>{rng.randint(1, 200)}</BldgNb><PstCd>10115</PstCd><TwnNm>Berlin</TwnNm>"
                    f"<Ctry>DE</Ctry></PstlAdr></Pty></Dbtr>\n"
                    f"       <DbtrAcct><Id><IBAN>DE{rng.randint(10, 99)}1001001{rng.randint(10 ** 9, 10 ** 10):d}"
                    f"</IBAN></Id></DbtrAcct></RltdPties>\n"
                    f"      <RmtInf><Ustrd>{text}</Ustrd></RmtInf>\n"
                    f"      <RltdDts><AccptncDtTm>{day}T10:00:00</AccptncDtTm></RltdDts>\n     </TxDtls>\n")
            total = "1.00" if batch == 1 else "3.00"
            fh.write(f'   <Ntry>\n    <NtryRef>{entry}</NtryRef>\n    <Amt Ccy="EUR">{total}</Amt>\n'
                     f"    <CdtDbtInd>{'DBIT' if debit else 'CRDT'}</CdtDbtInd>\n    <Sts><Cd>BOOK</Cd></Sts>\n"
                     f"    <BookgDt><Dt>{day}</Dt></BookgDt>\n    <ValDt><Dt>{day}</Dt></ValDt>\n"
                     f"    <AcctSvcrRef>E{entry:08d}</AcctSvcrRef>\n"
                     "    <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn>"
                     "</BkTxCd>\n    <NtryDtls>\n"
                     + (f"     <Btch><NbOfTxs>{batch}</NbOfTxs></Btch>\n" if batch > 1 else "")
                     + "".join(txs) + "    </NtryDtls>\n   </Ntry>\n")
            written += batch
        fh.write("  </Stmt>\n </BkToCstmrStmt>\n</Document>\n")


def measure(args: list[str], env: dict) -> tuple[float, float, int, str]:
    """(wall seconds, CPU seconds, peak RSS in MB, stdout) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0 and not args[-1] == "--dry-run":
        raise SystemExit(f"{args[:4]} failed ({status})")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024, out.strip()[-200:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/tbbank"))
    parser.add_argument("--src", type=Path, default=Path(__file__).resolve().parents[1] / "src")
    parser.add_argument("--full", action="store_true", help="also time the whole command (--dry-run)")
    opts = parser.parse_args()
    ledger = opts.out / "ledger"
    statement = opts.out / f"statement-{opts.transactions}.xml"
    names = write_ledger(ledger)
    if not statement.exists():
        write_statement(statement, opts.transactions, names)
    size = statement.stat().st_size / 1e6
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(opts.src), os.environ.get("PYTHONPATH", "")]),
               XDG_CACHE_HOME=str(opts.out / "cache"))
    print(f"camt.053.001.08, {opts.transactions} transactions, {size:.0f} MB")
    base = measure([sys.executable, "-c", BASELINE, str(statement)], env)
    print(f"{'baseline: lxml iterparse':32} {base[0]:7.2f} s wall {base[1]:7.2f} s CPU {base[2]:6d} MB peak")
    rows = [("read (transactions, not kept)", [sys.executable, "-c", READ, str(statement)]),
            ("read + match (plan_bank_import)", [sys.executable, "-c", PLAN, str(statement), str(ledger)])]
    if opts.full:
        rows.append(("import bank --dry-run", [sys.executable, "-m", "textbill", "import", "bank", str(statement),
                                               "-f", str(ledger), "--dry-run"]))
    for label, args in rows:
        wall, cpu, rss, out = measure(args, env)
        print(f"{label:32} {wall:7.2f} s wall {cpu:7.2f} s CPU {rss:6d} MB peak   "
              f"x{cpu / base[1]:.1f} CPU, x{rss / base[2]:.1f} memory of the baseline   [{(out.splitlines() or [''])[-1]}]")


if __name__ == "__main__":
    main()
