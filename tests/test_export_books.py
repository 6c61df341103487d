"""`textbill export` into real books (issue 17): the strict checks of hledger 1.25 and bean-check
pass, every invoice's tag (hledger) or link (Beancount) sums to textbill's outstanding on every day,
account roots come from textbill.yaml, colliding account names are located errors, and Fava shows
the balances."""
from __future__ import annotations

import csv
import importlib.util
import io
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import cli, invoices_json, write_ledger

HLEDGER = shutil.which("hledger")
BIN = str(Path(sys.executable).parent)
BEAN_CHECK = shutil.which("bean-check", path=BIN) or shutil.which("bean-check")
needs_hledger = pytest.mark.skipif(HLEDGER is None, reason="hledger is not installed")
needs_beancount = pytest.mark.skipif(BEAN_CHECK is None, reason="bean-check (beancount) is not installed")

# split payments (one EUR payment for two USD invoices), a credit note, a plan, a write-off and a
# credit note after it (which frees money the client had paid: client credit), that credit settling
# a later invoice on its date, two payments of one client on one day without a reference
LEDGER = """\
company acme "Acme"
  currency EUR
client globex "Globex"
  currency USD
  tax VAT 23%
client initech "Initech"
  currency EUR
  tax VAT 19%
sow globex/web "Web"
  hourly 100
sow initech/ops "Ops"
  hourly 80

2026-01-02 fx EUR USD 1.10
2026-01-05 time globex/web 10h "a"
2026-02-05 time globex/web 5h "b"
2026-03-05 time globex/web 2h "c"
2026-01-06 time initech/ops 10h "d"
2026-05-06 time initech/ops 1h "e"
2026-01-31 invoice INV-2026-0001 globex
2026-01-31 invoice INV-2026-0002 initech
2026-02-28 invoice INV-2026-0003 globex
2026-03-31 invoice INV-2026-0004 globex
2026-05-31 invoice INV-2026-0005 initech
2026-02-10 plan INV-2026-0002 3 installments monthly
2026-03-10 payment globex 1500.00 EUR for INV-2026-0001 INV-2026-0003 ref "WIRE 7"
2026-03-12 payment initech 300.00
2026-03-12 payment initech 100.00
2026-03-20 credit-note CN-2026-0001 for INV-2026-0003 100.00 "Rebate"
2026-04-15 writeoff INV-2026-0002 "Gone"
2026-04-20 credit-note CN-2026-0002 for INV-2026-0002 200.00 "After the write-off"
"""
DAYS = ["2026-01-31", "2026-03-10", "2026-03-12", "2026-03-20", "2026-04-15", "2026-04-20", "2026-05-31",
        "2026-12-31"]
CONFIG = """\
export:
  receivable: Assets:Receivable
  income: Income
  tax: Liabilities:VAT
  bank: Assets:Bank:Checking
"""


@pytest.fixture
def books(tmp_path):
    folder = write_ledger(tmp_path / "books", LEDGER, company=False, config=CONFIG)
    journal = tmp_path / "receivables.journal"
    assert cli("export", "hledger", "-f", folder, "--as-of", "2026-12-31", "-o", journal).code == 0
    bean = tmp_path / "receivables.beancount"
    assert cli("export", "beancount", "-f", folder, "--as-of", "2026-12-31", "-o", bean).code == 0
    return folder, journal, bean


def outstanding(folder, day: str) -> dict[str, Decimal]:
    return {n: Decimal(row["outstanding"]) for n, row in invoices_json(folder, day).items()}


def test_the_figures_of_the_ledger(books):
    """Hand-computed: what the queries below are compared against is what the spec says."""
    folder = books[0]
    # 1500 EUR at 1.10 = 1650.00 USD: INV-0001 (1230.00) whole, INV-0003 (615.00) 420.00 of it
    assert outstanding(folder, "2026-03-10") == {"INV-2026-0001": Decimal("0.00"), "INV-2026-0002": Decimal("952.00"),
                                                 "INV-2026-0003": Decimal("195.00")}
    day = outstanding(folder, "2026-03-20")
    assert day["INV-2026-0003"] == Decimal("95.00") and day["INV-2026-0002"] == Decimal("552.00")
    # the write-off took 552.00; the credit note of 200.00 gives back 200.00 the client had paid,
    # which is client credit until INV-0005 (80.00 + 19% = 95.20) takes it on its date
    assert outstanding(folder, "2026-05-31")["INV-2026-0005"] == Decimal("0.00")


@needs_hledger
def test_hledger_strict_checks_pass(books):
    _, journal, _ = books
    for args in (["check", "-s"], ["check", "ordereddates", "payees"], ["check", "-s", "accounts", "commodities"]):
        run = subprocess.run([HLEDGER, "-f", str(journal), *args], capture_output=True, text=True, check=False)
        assert run.returncode == 0, (args, run.stderr)
    text = journal.read_text()
    assert "commodity 1000.00 USD" in text and "account Assets:Receivable:Globex  ; type:A" in text
    assert "account Liabilities:VAT:VAT-23  ; type:L" in text and "payee Globex" in text


def _hledger_balance(journal: Path, query: list[str], end: str) -> Decimal:
    nxt = (date.fromisoformat(end) + timedelta(days=1)).isoformat()
    run = subprocess.run([HLEDGER, "-f", str(journal), "bal", "-e", nxt, "-O", "csv", "--no-total", "--flat",
                          *query], capture_output=True, text=True, check=True)
    total = Decimal(0)
    for row in list(csv.reader(io.StringIO(run.stdout)))[1:]:
        for amount in row[1].split(", "):
            if amount.strip() and amount.strip() != "0":
                total += Decimal(amount.split()[0])
    return total


@needs_hledger
@pytest.mark.parametrize("day", DAYS)
def test_every_invoice_tag_sums_to_its_outstanding(books, day):
    folder, journal, _ = books
    want = outstanding(folder, day)
    assert want  # invoices issued by then
    for number, amount in want.items():
        # with and without the account: only receivable postings carry an invoice tag
        assert _hledger_balance(journal, ["Assets:Receivable", f"tag:invoice={number}"], day) == amount, number
        assert _hledger_balance(journal, [f"tag:invoice={number}"], day) == amount, number


# a credit note on a paid invoice frees money that settles another invoice, the next payment
# leaves client credit, a later invoice takes it on its date, a full credit note gives it back
FREED = """\
client globex "Globex"
  tax VAT 10%
sow globex/web "Web"
  hourly 100
2026-01-05 time globex/web 1h "a"
2026-01-06 time globex/web 2h "b"
2026-02-05 time globex/web 1h "c"
2026-01-05 invoice INV-2026-0001 globex
  period 2026-01-05 .. 2026-01-05
2026-01-06 invoice INV-2026-0002 globex
  period 2026-01-06 .. 2026-01-06
2026-01-10 payment globex 110.00
2026-01-10 payment globex 110.00
2026-01-20 credit-note CN-2026-0001 for INV-2026-0001 55.00 "Half back"
2026-01-25 payment globex 300.00 for INV-2026-0002
2026-02-28 invoice INV-2026-0003 globex
  period 2026-02-01 .. 2026-02-28
2026-03-01 credit-note CN-2026-0002 for INV-2026-0003 full "Cancelled"
"""


@needs_hledger
@needs_beancount
def test_freed_money_and_client_credit_follow_the_replay(tmp_path):
    from beancount import loader

    folder = write_ledger(tmp_path / "freed", FREED)
    journal, bean = tmp_path / "f.journal", tmp_path / "f.beancount"
    assert cli("export", "hledger", "-f", folder, "--as-of", "2026-12-31", "-o", journal).code == 0
    assert cli("export", "beancount", "-f", folder, "--as-of", "2026-12-31", "-o", bean).code == 0
    assert subprocess.run([HLEDGER, "-f", str(journal), "check", "-s", "ordereddates", "payees"],
                          capture_output=True, check=False).returncode == 0
    entries, errors, _ = loader.load_file(str(bean))
    assert errors == []
    # the credit note's 55.00 went to INV-0002 (50.00 + 10% left after the first two payments)
    assert outstanding(folder, "2026-01-20") == {"INV-2026-0001": Decimal("0.00"), "INV-2026-0002": Decimal("55.00")}
    for day in ("2026-01-06", "2026-01-10", "2026-01-20", "2026-01-25", "2026-02-28", "2026-03-01"):
        want = outstanding(folder, day)
        for number, amount in want.items():
            assert _hledger_balance(journal, [f"tag:invoice={number}"], day) == amount, (day, number)
            linked = sum((p.units.number for e in entries if e.date <= date.fromisoformat(day)
                          and number in getattr(e, "links", ()) for p in e.postings
                          if p.account.startswith("Assets:Receivables:")), Decimal(0))
            assert linked == amount, (day, number)
        # the client's credit: 245.00 after the overpayment, 135.00 once INV-0003 took 110.00, back
        # to 245.00 when it is credited in full
        credit = -_hledger_balance(journal, ["Liabilities:Client-Credit:Globex"], day)
        assert credit == {"2026-01-25": Decimal("245.00"), "2026-02-28": Decimal("135.00"),
                          "2026-03-01": Decimal("245.00")}.get(day, Decimal(0)), day


@needs_beancount
def test_bean_check_with_check_commodity_and_no_auto_accounts(books, tmp_path):
    _, _, bean = books
    main = tmp_path / "main.beancount"
    main.write_text('plugin "beancount.plugins.check_commodity"\ninclude "receivables.beancount"\n')
    run = subprocess.run([BEAN_CHECK, str(main)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "auto_accounts" not in bean.read_text()
    # without the commodity declarations, the plugin objects: the check is real
    stripped = tmp_path / "stripped.beancount"
    stripped.write_text("\n".join(ln for ln in bean.read_text().splitlines() if " commodity " not in ln))
    main.write_text('plugin "beancount.plugins.check_commodity"\ninclude "stripped.beancount"\n')
    run = subprocess.run([BEAN_CHECK, str(main)], capture_output=True, text=True, check=False)
    assert run.returncode != 0 and "commodity" in (run.stdout + run.stderr).lower()


@needs_beancount
def test_every_invoice_link_sums_to_its_outstanding(books):
    from beancount import loader

    folder, _, bean = books
    entries, errors, _ = loader.load_file(str(bean))
    assert errors == []
    for day in DAYS:
        got: dict = defaultdict(Decimal)
        for entry in entries:
            if entry.date > date.fromisoformat(day):
                continue
            for posting in getattr(entry, "postings", ()):
                if posting.account.startswith("Assets:Receivable:"):
                    for link in entry.links:
                        got[link] += posting.units.number
        want = outstanding(folder, day)
        assert {n: got.get(n, Decimal(0)) for n in want} == want, day


@needs_beancount
def test_no_open_leaves_the_declarations_to_the_users_books(books, tmp_path):
    folder, _, bean = books
    part = tmp_path / "part.beancount"
    assert cli("export", "beancount", "-f", folder, "--as-of", "2026-12-31", "--no-open", "--no-commodity",
               "-o", part).code == 0
    text = part.read_text()
    assert " open " not in text and " commodity " not in text
    # the user's books declare what the export uses; including the full export there would repeat them
    declared = "\n".join(ln for ln in bean.read_text().splitlines() if " open " in ln or " commodity " in ln)
    main = tmp_path / "main.beancount"
    main.write_text('plugin "beancount.plugins.check_commodity"\n' + declared + '\ninclude "part.beancount"\n')
    run = subprocess.run([BEAN_CHECK, str(main)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    main.write_text(declared + '\ninclude "receivables.beancount"\n')
    run = subprocess.run([BEAN_CHECK, str(main)], capture_output=True, text=True, check=False)
    assert run.returncode != 0 and "Duplicate open" in run.stdout + run.stderr


@needs_beancount
def test_books_option_leaves_out_what_the_users_books_declare(books, tmp_path):
    folder = books[0]
    main = tmp_path / "main.beancount"
    main.write_text('plugin "beancount.plugins.check_commodity"\n2020-01-01 commodity USD\n'
                    "2020-01-01 open Assets:Bank:Checking\n2020-01-01 open Income:VAT-23\n"
                    'include "part.beancount"\n2026-06-01 * "Rent"\n  Assets:Bank:Checking  -10.00 USD\n'
                    "  Income:VAT-23\n")
    part = tmp_path / "part.beancount"
    assert cli("export", "beancount", "-f", folder, "--books", main, "-o", part, "--as-of", "2026-12-31").code == 0
    text = part.read_text()
    assert "commodity USD" not in text and "commodity EUR" in text
    assert "open Assets:Bank:Checking" not in text and "open Assets:Receivable:Globex" in text
    run = subprocess.run([BEAN_CHECK, str(main)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr


def test_csv_has_transaction_ids_prices_and_balances_per_transaction(books):
    folder = books[0]
    rows = list(csv.DictReader(io.StringIO(cli("export", "csv", "-f", folder, "--as-of", "2026-12-31").out)))
    by_txn: dict = defaultdict(Decimal)
    for r in rows:
        if r["price"]:
            by_txn[(r["txn"], r["price_currency"])] += Decimal(r["price"])
        else:
            by_txn[(r["txn"], r["currency"])] += Decimal(r["amount"])
    assert all(v == 0 for v in by_txn.values()), by_txn
    # two payments of one client on one day, without a reference, are two transactions
    assert {r["txn"] for r in rows if r["kind"] == "payment" and r["client"] == "initech"} == {
        "payment/2026-03-12/initech/1", "payment/2026-03-12/initech/2"}
    wire = [r for r in rows if r["txn"] == "payment/2026-03-10/globex/1"]
    assert [(r["account"], r["amount"], r["currency"], r["price"], r["invoice"]) for r in wire] == [
        ("Assets:Bank:Checking", "1500.00", "EUR", "1650.00", ""),
        ("Assets:Receivable:Globex", "-1230.00", "USD", "", "INV-2026-0001"),
        ("Assets:Receivable:Globex", "-420.00", "USD", "", "INV-2026-0003"),
    ]


COLLIDING = """\
client acme-x "Acme X"
  tax VAT-2 3%
client acme_x "Acme Underscore"
  tax VAT 2.3%
sow acme-x/a "A"
  hourly 10
  tax VAT_2 3%
"""


def test_colliding_ids_are_a_located_error(tmp_path):
    folder = write_ledger(tmp_path / "c", COLLIDING)
    r = cli("export", "hledger", "-f", folder)
    assert r.code == 1
    assert "ledger.bill:8:8: error[E131]: clients 'acme-x' (" in r.err
    assert "ledger.bill:6) and 'acme_x' would share the account 'Acme-x' in the exported books" in r.err
    # 'VAT-2 3%' and 'VAT 2.3%' are two accounts (VAT-2-3, VAT-2p3); 'VAT_2 3%' is not
    assert "ledger.bill:12:7: error[E132]: taxes 'VAT-2 3%' (" in r.err
    assert "ledger.bill:6) and 'VAT_2 3%' would share the account 'VAT-2-3'" in r.err
    assert r.err.count("error[E132]") == 1
    assert "nothing was exported" in r.err
    # without an export: section, check is silent about it; with one, check reports it
    assert "E131" not in cli("check", folder).err
    (folder / "textbill.yaml").write_text("export: {receivable: Assets:Receivable}\n")
    checked = cli("check", folder, "--format", "json")
    assert checked.code == 1 and {d["code"] for d in checked.json()["diagnostics"]} >= {"E131", "E132"}


def test_export_roots_are_checked_in_textbill_yaml(tmp_path):
    folder = write_ledger(tmp_path / "y", 'client c "C"\n', config="export:\n  receivable: assets:ar\n"
                                                                     "  bank: Assets:Receivables\n  revenue: X\n")
    r = cli("check", folder)
    assert r.code == 1
    assert "textbill.yaml:2:15: error[E008]: export receivable 'assets:ar' is not an account name" in r.err
    assert "textbill.yaml:3:9: error[E008]: export bank is 'Assets:Receivables', the same account as export " \
           "receivable by default" in r.err
    assert "textbill.yaml:4:3: error[E008]: unknown export setting 'revenue'" in r.err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode("utf-8")


@needs_beancount
@pytest.mark.skipif(importlib.util.find_spec("fava") is None, reason="fava is not installed")
def test_fava_shows_the_balances_per_client(books):
    folder, _, bean = books
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-c", "from fava.cli import main; main()", "--host", "127.0.0.1",
                               "--port", str(port), str(bean)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                _get(base + "/")
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(server.stdout.read().decode() if server.stdout else "fava exited")
                time.sleep(0.1)
        assert "Acme receivables" in _get(f"{base}/acme-receivables/balance_sheet/")
        sheet = json.loads(_get(f"{base}/acme-receivables/api/balance_sheet"))["data"]["trees"]

        def balances(tree: list) -> dict:
            out = {}
            for node in tree:
                out[node["account"]] = node["balance"]
                out.update(balances(node["children"]))
            return out

        found = balances(sheet)
        want = outstanding(folder, "2026-12-31")
        # per client: its outstanding (95.00 + 246.00 USD; Initech nothing)
        assert found["Assets:Receivable:Globex"] == {"USD": float(want["INV-2026-0003"] + want["INV-2026-0004"])}
        assert found["Assets:Receivable:Initech"] == {}
        # per invoice, Fava's query over the invoice's link
        for number, amount in want.items():
            query = ("SELECT sum(number) AS n WHERE account ~ '^Assets:Receivable:' AND "
                     f"'{number}' IN links")
            rows = json.loads(_get(f"{base}/acme-receivables/api/query?query_string="
                                   + urllib.parse.quote(query)))["data"]["rows"]
            assert Decimal(str(rows[0][0] or 0)).quantize(Decimal("0.01")) == amount, number
        assert "Duplicate" not in _get(f"{base}/acme-receivables/api/errors")
    finally:
        server.terminate()
        server.wait(timeout=10)
