"""Realistic ledgers for the benchmarks, and the same amount of data for the peers.

    python bench/generate.py --entries 100000 --out bench/data/100k [--layout monthly|yearly]
                             [--years 2] [--seed 1] [--no-lock] [--no-peers]

writes

    OUT/ledger/          a textbill ledger of about ENTRIES directives: one company, a reminder
                         policy and monthly fx rates (company.bill); clients with SOWs of every
                         pricing kind -- hourly with increments and caps, fixed with milestones,
                         monthly retainers, value-based (clients.bill); time entries, expenses,
                         milestones done, a monthly invoice per client (some with items,
                         discounts, notes, due dates), payments, credit notes, installment plans,
                         reminders sent, write-offs and collections, spread over one file per
                         month (YYYY/MM.bill) or per year (YYYY.bill); textbill.lock for every
                         issued document (unless --no-lock), as a real ledger has one
    OUT/peer.beancount   a Beancount file with ENTRIES transactions (two postings each)
    OUT/peer.timeclock   an hledger timeclock file with ENTRIES sessions

The ledger checks clean apart from warnings a real ledger has (none by design).
Generation is deterministic for a seed.
"""
from __future__ import annotations

import argparse
import random
import subprocess
import sys
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

WORK = ["Kickoff meeting", "Wireframes", "Design review", "Backend API", "Code review", "Bug fixing",
        "Deployment", "Sprint planning", "Customer support", "Data migration", "Performance tuning",
        "Documentation", "Workshop with the client", "QA session", "Infrastructure", "Refactoring"]
TAGS = ["#meeting", "#dev", "#design", "#ops", "#support", "#qa"]
EXPENSES = ["Stock photos", "Train ticket", "Hotel", "Cloud hosting", "Software licence", "Courier"]
CURRENCIES = [("EUR", 0.7), ("USD", 0.2), ("PLN", 0.1)]
FX = {"USD": Decimal("0.9150"), "PLN": Decimal("0.2310")}
CENT = Decimal("0.01")


def _month_starts(first: date, months: int) -> list[date]:
    out, d = [], first
    for _ in range(months):
        out.append(d)
        d = (d.replace(day=28) + timedelta(days=4)).replace(day=1)
    return out


def _month_end(d: date) -> date:
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _money(v: Decimal) -> str:
    return str(v.quantize(CENT, rounding=ROUND_HALF_UP))


class Ledger:
    """Dated lines by day (in the order written), plus the fixed header files."""

    def __init__(self):
        self.dated: list[tuple[date, int, str]] = []  # (day, order, text)
        self.n = 0  # directives

    def add(self, day: date, text: str) -> None:
        self.dated.append((day, len(self.dated), text))
        self.n += 1


def generate(entries: int, out: Path, layout: str = "monthly", years: int = 2, seed: int = 1,
             lock: bool = True, peers: bool = True) -> dict:
    rng = random.Random(seed)
    months = 12 * years
    first = date(2024, 1, 1)
    starts = _month_starts(first, months)
    last_day = _month_end(starts[-1])
    n_clients = max(4, entries // 2500)
    led = Ledger()

    # ------------------------------------------------------------------ company, policies, fx
    head = [
        'company northwind "Northwind Studio Sp. z o.o."',
        '  address "ul. Marszalkowska 84/92\\n00-514 Warszawa\\nPoland"',
        "  country PL",
        "  email billing@northwind.example",
        '  tax-id "PL5252248481"',
        '  bank "mBank S.A." iban PL61109010140000071219812874 bic BREXPLPW',
        "  currency EUR",
        '  numbering "INV-{year}-{seq:05}"',
        '  credit-numbering "CN-{year}-{seq:04}"',
        "  payment-methods bank-transfer card",
        "  late-interest 8% yearly",
        "  late-fee 40 EUR",
        "",
        "reminders standard",
        '  step -3d "upcoming"',
        '  step +7d "friendly"',
        '  step +21d "firm" late-fee',
        '  step +45d "final"',
        "",
    ]
    n_head = 2
    fx_lines = []
    for ms in starts:
        for ccy, rate in FX.items():
            wobble = Decimal(rng.randint(-200, 200)) / Decimal(10000)
            fx_lines.append(f"{ms} fx {ccy} EUR {rate + wobble}")
    head += fx_lines + [""]
    n_head += len(fx_lines)

    # ------------------------------------------------------------------ clients and SOWs
    clients_text: list[str] = []
    clients = []
    for ci in range(n_clients):
        cid = f"c{ci:04d}"
        r, acc = rng.random(), 0.0
        for ccy, share in CURRENCIES:
            acc += share
            if r < acc:
                break
        eu = ccy != "USD"
        clients_text += [f'client {cid} "Client {ci} {"GmbH" if eu else "Inc."}"',
                         f'  address "{ci} Market Street\\nSpringfield"',
                         f"  country {'DE' if ccy == 'EUR' else 'PL' if ccy == 'PLN' else 'US'}",
                         f"  email ap@{cid}.example",
                         f"  currency {ccy}",
                         f"  terms {rng.choice(['net 14', 'net 30', 'net 30', 'eom 15'])}"]
        if ccy == "EUR":
            clients_text.append("  tax reverse-charge")
        elif ccy == "PLN":
            clients_text.append("  tax VAT 23%")
        if rng.random() < 0.15:
            clients_text.append("  discount 3%")
        clients_text.append(f'  field po-number "PO-{rng.randint(1000, 9999)}"')
        clients_text.append("")
        n_head += 1
        rate = Decimal(rng.randint(60, 180))
        sows = {"hourly": (f"{cid}/dev", rate)}
        clients_text += [f'sow {cid}/dev "Development and support"', f"  period {first} .. {last_day}",
                         f"  hourly {rate}.00 {ccy}", "  increment 15m", "  cap 8000h", "  schedule monthly",
                         "  deliverable \"Working software\"", ""]
        n_head += 1
        if ci % 3 == 0:
            fee = Decimal(rng.randint(500, 4000))
            sows["retainer"] = (f"{cid}/care", fee)
            clients_text += [f'sow {cid}/care "Care plan"', f"  period {first} .. {last_day}",
                             f"  retainer {fee}.00 {ccy} monthly", "  schedule monthly", ""]
            n_head += 1
        if ci % 2 == 0:
            k = rng.randrange(0, max(1, months - 6))
            fee = Decimal(rng.randint(5, 60)) * 1000
            sows["fixed"] = (f"{cid}/site", fee, starts[k], _month_end(starts[min(k + 5, months - 1)]))
            clients_text += [f'sow {cid}/site "Website redesign"',
                             f"  period {starts[k]} .. {_month_end(starts[min(k + 5, months - 1)])}",
                             f"  fixed {fee}.00 {ccy}", '  milestone "Design approved" 30%',
                             '  milestone "Beta" 30%', '  milestone "Launch" 40%', "  schedule on-completion", ""]
            n_head += 1
        if ci % 4 == 1:
            k = rng.randrange(0, max(1, months - 3))
            basis = Decimal(rng.randint(50, 500)) * 1000
            sows["value"] = (f"{cid}/growth", basis, starts[k], _month_end(starts[min(k + 2, months - 1)]))
            clients_text += [f'sow {cid}/growth "Growth campaign"',
                             f"  period {starts[k]} .. {_month_end(starts[min(k + 2, months - 1)])}",
                             f'  value 5% of {basis}.00 {ccy} "first-year revenue uplift"', ""]
            n_head += 1
        clients.append((cid, ccy, sows))

    # ------------------------------------------------------------------ entries, month by month
    per_month = max(1, (entries - n_head) // (n_clients * months))
    invoices = []  # (day, client, ccy, estimate)
    for mi, ms in enumerate(starts):
        me = _month_end(ms)
        days = [ms + timedelta(days=i) for i in range((me - ms).days + 1)]
        workdays = [d for d in days if d.weekday() < 5]
        for cid, ccy, sows in clients:
            estimate = Decimal(0)
            ref, rate = sows["hourly"]
            budget = per_month - 2  # the invoice and its payment
            if "retainer" in sows:
                estimate += sows["retainer"][1]
            for kind in ("fixed", "value"):
                if kind in sows:
                    sref, amount, s0, s1 = sows[kind]
                    names = ["Design approved", "Beta", "Launch"] if kind == "fixed" else ["complete"]
                    shares = [Decimal("0.3"), Decimal("0.3"), Decimal("0.4")] if kind == "fixed" else [Decimal("0.05")]
                    span_months = (s1.year - s0.year) * 12 + s1.month - s0.month + 1
                    for j, name in enumerate(names):
                        at = (s0.year - first.year) * 12 + s0.month - 1 + (j + 1) * span_months // len(names) - 1
                        if at == mi:
                            day = min(me, s1) - timedelta(days=2)
                            led.add(day, f'{day} done {sref} "{name}"')
                            estimate += amount * shares[j]
                            budget -= 1
            n_exp = max(0, budget // 25)
            for _ in range(n_exp):
                day = rng.choice(workdays)
                value = Decimal(rng.randint(500, 40000)) / 100
                markup = rng.random() < 0.3
                tag = " #travel" if rng.random() < 0.3 else ""
                led.add(day, f'{day} expense {ref} {value} {ccy} "{rng.choice(EXPENSES)}"'
                             f'{" markup 10%" if markup else ""}{tag}')
                estimate += value * (Decimal("1.1") if markup else 1)
            budget -= n_exp
            clocked: set = set()
            for _ in range(max(0, budget)):
                day = rng.choice(workdays)
                r = rng.random()
                if r < 0.25 and day not in clocked:
                    clocked.add(day)
                    h0 = rng.randint(8, 12)
                    h1 = h0 + rng.randint(1, 5)
                    length = f"{h0:02d}:{rng.choice(['00', '15', '30'])}-{h1:02d}:{rng.choice(['00', '30', '45'])}"
                    minutes = Decimal((h1 - h0) * 60)
                elif r < 0.55:
                    h, mm = rng.randint(0, 6), rng.choice([15, 30, 45])
                    length, minutes = f"{h}h{mm}m", Decimal(h * 60 + mm)
                elif r < 0.8:
                    q = rng.choice(["0.5", "1", "1.5", "2", "2.25", "3", "4", "6", "7.5"])
                    length, minutes = f"{q}h", Decimal(q) * 60
                else:
                    mm = rng.choice([10, 20, 30, 45, 50, 90])
                    length, minutes = f"{mm}m", Decimal(mm)
                flags = ""
                if rng.random() < 0.4:
                    flags += " " + rng.choice(TAGS)
                billable = rng.random() >= 0.05
                if not billable:
                    flags += " nonbillable"
                led.add(day, f'{day} time {ref} {length} "{rng.choice(WORK)}"{flags}')
                if billable:
                    estimate += minutes * rate / 60
            invoices.append((me, cid, ccy, estimate))

    # ------------------------------------------------------------------ invoices, numbered in date order
    invoices.sort(key=lambda t: (t[0], t[1]))
    seq: dict[int, int] = defaultdict(int)
    numbered = []
    for me, cid, ccy, estimate in invoices:
        seq[me.year] += 1
        number = f"INV-{me.year}-{seq[me.year]:05d}"
        attrs = []
        r = rng.random()
        if r < 0.1:
            extra = Decimal(rng.randint(20, 200))
            attrs.append(f'  item "Hosting" {rng.randint(1, 3)} x {extra}.00')
        if r > 0.92:
            attrs.append("  discount 2%")
        if rng.random() < 0.2:
            attrs.append('  note "Thank you for your business"')
        if rng.random() < 0.05:
            attrs.append(f"  due {me + timedelta(days=45)}")
        led.add(me, "\n".join([f"{me} invoice {number} {cid}"] + attrs))
        numbered.append((me, number, cid, ccy, estimate))

    # ------------------------------------------------------------------ what happens to each invoice
    credit_notes = []
    for me, number, cid, ccy, estimate in numbered:
        r = rng.random()
        pay_day = me + timedelta(days=rng.randint(5, 40))
        if estimate <= 50:
            continue
        if r < 0.03:
            credit_notes.append((me + timedelta(days=3), number))
            led.add(pay_day, f"{pay_day} payment {cid} {_money(estimate * Decimal('0.8'))} for {number} "
                             f"via bank-transfer")
        elif r < 0.06:
            led.add(me + timedelta(days=10), f"{me + timedelta(days=10)} plan {number} 3 installments monthly")
            for k in (1, 2):
                d = me + timedelta(days=10 + 30 * k)
                led.add(d, f"{d} payment {cid} {_money(estimate * Decimal('0.3'))} for {number} via card")
        elif r < 0.075:
            d = me + timedelta(days=40)
            led.add(d, f"{d} reminded {number} friendly")
            d = me + timedelta(days=100)
            led.add(d, f'{d} collections {number} "Inkasso GmbH"')
        elif r < 0.085:
            d = me + timedelta(days=200)
            led.add(d, f'{d} writeoff {number} "Client insolvent"')
        elif r < 0.15:
            d = me + timedelta(days=35)
            led.add(d, f"{d} reminded {number} friendly")
            led.add(pay_day + timedelta(days=20), f"{pay_day + timedelta(days=20)} payment {cid} "
                                                  f"{_money(estimate * Decimal('0.9'))}")
        else:
            ref = f' ref "WIRE {rng.randint(10000, 99999)}"' if rng.random() < 0.3 else ""
            led.add(pay_day, f"{pay_day} payment {cid} {_money(estimate * Decimal('0.92'))} for {number} "
                             f"via bank-transfer{ref}")
    credit_notes.sort()
    cseq: dict[int, int] = defaultdict(int)
    for day, number in credit_notes:
        cseq[day.year] += 1
        led.add(day, f'{day} credit-note CN-{day.year}-{cseq[day.year]:04d} for {number} 25.00 '
                     f'"Duplicate hours"\n  note "Corrects a double entry"')

    # ------------------------------------------------------------------ files
    root = out / "ledger"
    if root.exists():
        import shutil
        shutil.rmtree(root)
    root.mkdir(parents=True)
    (root / "textbill.yaml").write_text("out: build\nformats: [html]\n", encoding="utf-8")
    (root / "company.bill").write_text("\n".join(head) + "\n", encoding="utf-8")
    (root / "clients.bill").write_text("\n".join(clients_text) + "\n", encoding="utf-8")
    by_file: dict[str, list[str]] = defaultdict(list)
    led.dated.sort()
    for day, _, text in led.dated:
        name = f"{day.year}/{day.month:02d}.bill" if layout == "monthly" else f"{day.year}.bill"
        by_file[name].append(text)
    for name, lines in by_file.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    total = n_head + led.n
    if lock:
        subprocess.run([sys.executable, "-m", "textbill", "lock", "-f", str(root), "--no-cache"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if peers:
        _peers(out, total, seed)
    return {"directives": total, "files": len(by_file) + 2, "clients": n_clients, "invoices": len(numbered)}


def _peers(out: Path, n: int, seed: int) -> None:
    """A Beancount file with n transactions and a timeclock file with n sessions."""
    rng = random.Random(seed)
    accounts = [f"C{i:04d}" for i in range(max(4, n // 2500))]
    day0 = date(2024, 1, 1)
    with open(out / "peer.beancount", "w", encoding="utf-8") as fh:
        fh.write('option "operating_currency" "EUR"\n\n')
        fh.writelines(f"2000-01-01 open Assets:Receivable:{a} EUR\n2000-01-01 open Income:Consulting:{a} EUR\n" for a in accounts)
        fh.write("\n")
        per_day = max(1, n // 730)
        for i in range(n):
            day = day0 + timedelta(days=i // per_day)
            a = rng.choice(accounts)
            amount = Decimal(rng.randint(1000, 90000)) / 100
            fh.write(f'{day} * "{a}" "{rng.choice(WORK)}"\n  Assets:Receivable:{a}  {amount} EUR\n'
                     f"  Income:Consulting:{a}\n\n")
    with open(out / "peer.timeclock", "w", encoding="utf-8") as fh:
        per_day = max(1, n // 730)
        for i in range(n):
            day = day0 + timedelta(days=i // per_day)
            a = rng.choice(accounts)
            h0 = rng.randint(8, 12)
            m0 = rng.choice([0, 15, 30])
            h1 = h0 + rng.randint(1, 5)
            fh.write(f"i {day} {h0:02d}:{m0:02d}:00 {a.lower()}:dev  {rng.choice(WORK)}\n"
                     f"o {day} {h1:02d}:{m0:02d}:00\n")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--layout", choices=("monthly", "yearly"), default="monthly")
    ap.add_argument("--years", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-lock", action="store_true", help="do not write textbill.lock")
    ap.add_argument("--no-peers", action="store_true", help="do not write the Beancount and timeclock files")
    args = ap.parse_args(argv)
    info = generate(args.entries, args.out, args.layout, args.years, args.seed, not args.no_lock,
                    not args.no_peers)
    print(", ".join(f"{v} {k}" for k, v in info.items()))


if __name__ == "__main__":
    main()
