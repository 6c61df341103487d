"""`textbill issue`: the drafts written into the ledger with the next numbers, atomically, and locked."""
from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from conftest import cli

from textbill.checks.locks import read_lock

LEDGER = """
    client c "C"
      tax VAT 10%
    client d "D"
    sow c/web "Web"
      period 2026-01-01 .. 2026-12-31
      hourly 100
      schedule monthly
    sow d/care "Care"
      period 2026-01-01 .. 2026-12-31
      retainer 500.00 monthly
    2026-01-05 time c/web 2h "a"
    2026-02-05 time c/web 1h "b"
"""


def invoice_lines(path) -> list[str]:
    return [ln for ln in path.read_text().splitlines() if " invoice " in ln]


def test_issue_appends_numbers_locks_and_is_idempotent(ledger):
    folder = ledger(LEDGER)
    draft = cli("draft", "-f", folder, "--as-of", "2026-02-01", "--format", "json").json()
    r = cli("issue", "-f", folder, "--as-of", "2026-02-01")
    assert r.code == 0, r
    target = folder / "invoices.bill"
    assert target.read_text() == (
        "2026-02-01 invoice INV-2026-0001 c\n  sow web\n  period 2026-01-01 .. 2026-01-31\n"
        "\n2026-02-01 invoice INV-2026-0002 d\n  sow care\n  period 2026-01-01 .. 2026-01-31\n")
    assert set(read_lock(folder).entries) == {"INV-2026-0001", "INV-2026-0002"}
    check = cli("check", folder, "--format", "json").json()
    assert check["diagnostics"] == []  # issued and locked: nothing to warn about
    rows = {r["number"]: r for r in cli("invoices", "-f", folder, "--format", "json", "--as-of", "2026-02-01").json()}
    assert [rows[d["number"]]["total"] for d in draft] == [d["total"] for d in draft] == ["220.00", "500.00"]

    text = target.read_text()
    lock = (folder / "textbill.lock").read_text()
    r = cli("issue", "-f", folder, "--as-of", "2026-02-01")
    assert r.code == 0 and "nothing to issue" in r.err
    assert target.read_text() == text and (folder / "textbill.lock").read_text() == lock

    r = cli("issue", "-f", folder, "--as-of", "2026-03-02")
    assert r.code == 0
    assert invoice_lines(target)[2:] == ["2026-03-02 invoice INV-2026-0003 c", "2026-03-02 invoice INV-2026-0004 d"]
    assert cli("check", folder, "--format", "json").json()["diagnostics"] == []


def test_invoices_file_setting_and_file_option(ledger, tmp_path):
    folder = ledger(LEDGER)
    (folder / "textbill.yaml").write_text("invoices-file: 2026/invoices.bill\n")
    assert cli("issue", "-f", folder, "--as-of", "2026-02-01").code == 0
    assert len(invoice_lines(folder / "2026" / "invoices.bill")) == 2
    other = folder / "sub" / "more.bill"
    assert cli("issue", "-f", folder, "--as-of", "2026-03-02", "--file", other).code == 0
    assert len(invoice_lines(other)) == 2


def test_issue_refuses_files_the_ledger_would_not_read(ledger, tmp_path):
    folder = ledger(LEDGER)
    for bad in (tmp_path / "elsewhere.bill", folder / "invoices.txt", folder / ".hidden" / "x.bill"):
        r = cli("issue", "-f", folder, "--as-of", "2026-02-01", "--file", bad)
        assert r.code == 2, (bad, r)
        assert "would never read it" in r.err
    assert not (folder / "invoices.bill").exists()


def test_dry_run_prints_and_writes_nothing(ledger):
    folder = ledger(LEDGER)
    r = cli("issue", "-f", folder, "--as-of", "2026-02-01", "--dry-run")
    assert r.code == 0
    assert "2026-02-01 invoice INV-2026-0001 c" in r.out
    assert not (folder / "invoices.bill").exists() and not (folder / "textbill.lock").exists()


def test_a_one_file_ledger_gets_the_invoices_in_that_file(ledger):
    folder = ledger(LEDGER)
    bill = folder / "ledger.bill"
    assert cli("issue", "-f", bill, "--as-of", "2026-02-01").code == 0
    assert len(invoice_lines(bill)) == 2
    assert cli("check", bill, "--format", "json").json()["diagnostics"] == []


def test_a_ledger_with_errors_issues_nothing(ledger):
    folder = ledger(LEDGER + '\n    2026-01-07 time c/nope 1h "typo"\n')
    r = cli("issue", "-f", folder, "--as-of", "2026-02-01")
    assert r.code == 1 and "unknown SOW" in r.err
    assert not (folder / "invoices.bill").exists()


def test_concurrent_issue_runs_issue_each_invoice_once(ledger):
    folder = ledger(LEDGER)
    env = {k: v for k, v in os.environ.items() if k != "TEXTBILL_LEDGER"}

    def run(_):
        return subprocess.run([sys.executable, "-m", "textbill", "issue", "-f", str(folder), "--as-of",
                               "2026-03-02"], capture_output=True, check=False, text=True, env=env)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(run, range(4)))
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    assert sum("issued INV-" in r.stderr for r in results) == 1  # one run issued, the others found nothing
    assert len(invoice_lines(folder / "invoices.bill")) == 4
    assert len(read_lock(folder).entries) == 4
    assert cli("check", folder, "--format", "json").json()["diagnostics"] == []
