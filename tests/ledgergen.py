"""Random but valid ledgers for property tests: every pricing kind, payments, credits, plans."""
from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

CURRENCIES = ["USD", "EUR", "JPY", "KWD", "PLN"]
TAXES = ['tax VAT 23%', 'tax VAT 8%', 'tax reverse-charge', 'tax exempt "Art. 43"', 'tax GST 5.5%', None]


def _amount(rng: random.Random, lo: int, hi: int, digits: int = 2) -> str:
    value = Decimal(rng.randint(lo * 10 ** digits, hi * 10 ** digits)) / (10 ** digits)
    return f"{value:.{digits}f}"


def generate(seed: int, months: int = 4) -> str:
    rng = random.Random(seed)
    out = ['company me "Me Ltd"', "  currency USD", "  late-interest 8% yearly", ""]
    out += ["reminders standard", '  step +7d "friendly"', '  step +21d "firm" late-fee', ""]
    start = date(2026, 1, 1)
    end = start + timedelta(days=31 * months)
    for cur in CURRENCIES:
        if cur != "USD":
            out.append(f"2025-12-31 fx {cur} USD {_amount(rng, 0, 5, 4) if cur != 'KWD' else '3.25'}")
            out.append(f"2025-12-31 fx USD {cur} {_amount(rng, 1, 5, 4)}")
    out.append("")
    clients = []
    for ci in range(rng.randint(1, 3)):
        cid = f"c{ci}"
        cur = rng.choice(CURRENCIES)
        clients.append((cid, cur))
        out.append(f'client {cid} "Client {ci}"')
        out.append(f"  currency {cur}")
        tax = rng.choice(TAXES)
        if tax:
            out.append(f"  {tax}")
        if rng.random() < 0.3:
            out.append(f"  discount {rng.choice(['5%', '2.5%', '10%'])}")
        out.append(f"  terms {rng.choice(['net 14', 'net 30', 'eom 15', 'due-on-receipt'])}")
        out.append("")
        for si, kind in enumerate(rng.sample(["hourly", "fixed", "retainer", "value"], rng.randint(1, 4))):
            ref = f"{cid}/s{si}"
            out.append(f'sow {ref} "SOW {si}"')
            out.append(f"  period {start} .. {end}")
            price_cur = rng.choice([cur, cur, "USD"])
            if kind == "hourly":
                out.append(f"  hourly {_amount(rng, 20, 200)} {price_cur}")
                out.append(f"  increment {rng.choice(['1m', '6m', '15m'])}")
            elif kind == "fixed":
                out.append(f"  fixed {_amount(rng, 500, 20000)} {price_cur}")
                out += ['  milestone "a" 33.33%', '  milestone "b" 33.33%', '  milestone "c" 33.34%']
            elif kind == "retainer":
                out.append(f"  retainer {_amount(rng, 100, 3000)} {price_cur} {rng.choice(['monthly', 'quarterly'])}")
            else:
                out.append(f"  value {rng.choice(['5%', '7.5%', '12.345%'])} of {_amount(rng, 1000, 90000)} {price_cur}")
            if rng.random() < 0.4:
                out.append(f"  {rng.choice(TAXES[:3])}")
            out.append("")
            day = start
            while day < end:
                day += timedelta(days=rng.randint(1, 6))
                if day >= end:
                    break
                if kind == "hourly" and rng.random() < 0.7:
                    length = rng.choice([f"{rng.randint(0, 8)}h{rng.randint(1, 59)}m", f"{rng.randint(1, 300)}m",
                                         f"{rng.randint(8, 11)}:{rng.randint(10, 59)}-{rng.randint(13, 18)}:0{rng.randint(0, 9)}"])
                    flag = " nonbillable" if rng.random() < 0.1 else ""
                    out.append(f'{day} time {ref} {length} "work"{flag}')
                if rng.random() < 0.15:
                    markup = f" markup {rng.choice(['10%', '12.5%', '3%'])}" if rng.random() < 0.5 else ""
                    out.append(f'{day} expense {ref} {_amount(rng, 1, 400)} {price_cur} "cost"{markup}')
            if kind in ("fixed", "value"):
                names = ["a", "b", "c"] if kind == "fixed" else ["complete"]
                for name in names:
                    if rng.random() < 0.8:
                        d = start + timedelta(days=rng.randint(1, 31 * months - 2))
                        out.append(f'{d} done {ref} "{name}"')
            out.append("")
    # monthly invoices, numbered in date order
    seq = 0
    cn_seq = 0
    invoices = []
    month_ends = []
    d = start
    while d < end:
        nxt = (d.replace(day=28) + timedelta(days=4)).replace(day=1)
        month_ends.append(nxt - timedelta(days=1))
        d = nxt
    for me in month_ends:
        for cid, cur in clients:
            seq += 1
            number = f"INV-{me.year}-{seq:04d}"
            invoices.append((number, cid, cur, me))
            out.append(f"{me} invoice {number} {cid}")
            extra = rng.random() < 0.3
            if extra:
                out.append(f'  item "extra" {rng.randint(1, 5)} x {_amount(rng, 50, 300)}')
            if rng.random() < 0.2:
                out.append(f"  discount {rng.choice(['5%', '10%'])}")
            if extra and rng.random() < 0.5:
                # at most 10 of at least 50: the total stays positive
                out.append(f'  discount {_amount(rng, 1, 10, 0 if cur == "JPY" else 2)} "goodwill"')
            if rng.random() < 0.15:
                out.append(f'  charge {_amount(rng, 1, 30, 0 if cur == "JPY" else 2)} "fee"')
            if rng.random() < 0.1:
                out.append('  item "minimum fee" 1 x 50')
    out.append("")
    digits = {"JPY": 0, "KWD": 3}
    for number, cid, cur, day in invoices:
        r = rng.random()
        pay_day = day + timedelta(days=rng.randint(-10, 60))
        amount = _amount(rng, 1, 3000, digits.get(cur, 2))
        if r < 0.4:
            out.append(f"{pay_day} payment {cid} {amount} for {number} via bank-transfer")
        elif r < 0.6:
            out.append(f"{pay_day} payment {cid} {amount}")
        elif r < 0.7:
            cn_seq += 1
            out.append(f'{day + timedelta(days=3)} credit-note CN-{day.year}-{cn_seq:04d} for {number} full "x"')
        elif r < 0.8:
            out.append(f"{day + timedelta(days=5)} plan {number} {rng.randint(2, 5)} installments "
                       f"{rng.choice(['monthly', 'every 14 days', 'weekly'])}")
        elif r < 0.85:
            out.append(f'{day + timedelta(days=90)} writeoff {number} "gone"')
        elif r < 0.9:
            out.append(f'{day + timedelta(days=60)} collections {number} "agency"')
    return "\n".join(out) + "\n"
