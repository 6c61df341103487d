"""`textbill import bank`: a statement in, `payment` entries out (docs/commands.md, "textbill import bank").  [I/O]

The statement is read whole (streamed, for camt.053) and matched before anything is written:
a statement that cannot be read, or that is of another account than the company's, stops the
import with nothing written.  Each matched booked credit becomes

    2026-03-05 payment initech 1190.00 EUR for INV-2026-0002 via bank-transfer ref "BR26030500001"  ; Initech LLC: "Rechnung INV-2026-0002"

where `ref` is the bank's transaction id: a credit whose id is already the `ref` of a payment
in the ledger is not written again, so importing a statement twice, or two statements that
overlap, adds nothing.  The trailing comment (payer and remittance, for the reader) is free
to edit; the `ref` is the key.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from textbill.core import model as m
from textbill.core.books import InvoiceState
from textbill.core.money import minor_units
from textbill.core.source import Span
from textbill.workflow.bank.camt import is_camt, read_camt
from textbill.workflow.bank.csvfile import read_csv
from textbill.workflow.bank.matching import Match, Matcher, account_matches
from textbill.workflow.bank.ofx import is_ofx, read_ofx
from textbill.workflow.bank.statement import Account, StatementError, Transaction
from textbill.workflow.bank.swift import is_mt940, read_mt940
from textbill.workflow.timers import quote

FORMATS = ("camt053", "mt940", "ofx", "csv")
_BARE_DOCNO = re.compile(r'[^\s;"]+')
_COMMENT_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


@dataclass
class BankPlan:
    """What an import would do."""

    written: list[Match] = field(default_factory=list)  # matched booked credits, new
    already: int = 0  # credits already in the ledger (their ref is a payment's)
    unmatched: list[Match] = field(default_factory=list)  # booked credits that match nothing
    passed: list[tuple[Transaction, str]] = field(default_factory=list)  # debits and pending entries, and why
    accounts: list[Account] = field(default_factory=list)
    text: str = ""


def detect(head: bytes, name: str) -> str:
    """The format of a statement from its first bytes."""
    if is_camt(head):
        return "camt053"
    text = head.decode("utf-8", "replace")
    if is_ofx(text):
        return "ofx"
    if is_mt940(text):
        return "mt940"
    if head.lstrip().startswith(b"<"):
        raise StatementError(Span(name, 1), "an XML file that is not a camt.053 statement",
                             "export the statement as camt.053, MT940, OFX or CSV")
    return "csv"


def decoded(data: bytes, name: str) -> str:
    """A statement's text; one that is not UTF-8 is an error at the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise StatementError(Span(name, line, col), f"{name} is not UTF-8 (byte 0x{data[exc.start]:02x} at "
                             f"line {line})", "export it as UTF-8, or convert it: iconv -f cp1250 -t utf-8 "
                             f"{name} > statement-utf8.csv") from None


def transactions(path: Path, name: str, fmt: str | None, csv_map: Mapping[str, str],
                 on_account) -> Iterator[Transaction]:
    """The statement's transactions, in file order (fmt None: detected)."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    fmt = fmt or detect(head, name)
    if fmt == "camt053":
        yield from read_camt(path, name, on_account)
        return
    data = path.read_bytes()
    if fmt == "ofx":
        yield from read_ofx(data, data.decode("utf-8", "replace"), name, on_account)
    elif fmt == "mt940":
        yield from read_mt940(decoded(data, name), name, on_account)
    else:
        yield from read_csv(decoded(data, name), name, csv_map)


def plan_bank_import(path: Path, name: str, fmt: str | None, ledger: m.Ledger, invoices: list[InvoiceState],
                     csv_map: Mapping[str, str]) -> BankPlan:
    """Read, check and match a statement; raises StatementError (nothing to write)."""
    plan = BankPlan()
    company_iban = ledger.company.bank.iban if ledger.company and ledger.company.bank else None

    def on_account(account: Account) -> None:
        plan.accounts.append(account)
        if company_iban and account.id and not account_matches(company_iban, account.id):
            raise StatementError(account.where, f"this statement is of account {account.id}, not of the company's "
                                 f"account {company_iban}", "import the statement of the company's account, or "
                                 "correct the IBAN in the company's bank line", code="E262", focus=account.id)

    done = {p.ref for p in ledger.payments if p.ref}
    matcher = Matcher(ledger, invoices)
    for tx in transactions(path, name, fmt, csv_map, on_account):
        if not tx.credit:
            plan.passed.append((tx, "debit"))
            continue
        if not tx.booked:
            plan.passed.append((tx, "pending"))
            continue
        if tx.id in done:
            plan.already += 1
            continue
        done.add(tx.id)
        found = matcher.match(tx)
        (plan.written if found.client else plan.unmatched).append(found)
    plan.written.sort(key=lambda f: f.tx.date)
    plan.text = "".join(payment_text(f) for f in plan.written)
    return plan


def payment_text(found: Match) -> str:
    """The `payment` line of a matched credit."""
    tx = found.tx
    digits = minor_units(tx.currency)
    amount = tx.amount.quantize(Decimal(1).scaleb(-digits)) if tx.amount == tx.amount.quantize(
        Decimal(1).scaleb(-digits)) else tx.amount
    parts = [tx.date.isoformat(), "payment", str(found.client), f"{amount:f}", tx.currency]
    if found.invoices:
        parts += ["for", *(n if _BARE_DOCNO.fullmatch(n) else quote(n) for n in found.invoices)]
    parts += ["via", "bank-transfer", "ref", quote(tx.id)]
    note = ": ".join(x for x in (tx.payer, f'"{tx.text}"' if tx.text else "") if x)
    note = _COMMENT_UNSAFE.sub(" ", note).strip()
    if len(note) > 100:
        note = note[:99] + "…"
    return " ".join(parts) + (f"  ; {note}" if note else "") + "\n"


def not_written_rows(plan: BankPlan) -> list[dict[str, str]]:
    """The table of what is not written: unmatched credits (with candidates), debits, pending."""
    rows = []
    for found in plan.unmatched:
        rows.append(_row(found.tx, found.rule, "; ".join(found.candidates) or "-"))
    for tx, why in plan.passed:
        rows.append(_row(tx, why, ""))
    return rows


def _row(tx: Transaction, why: str, candidates: str) -> dict[str, str]:
    sign = "" if tx.credit else "-"
    return {"date": tx.date.isoformat(), "amount": f"{sign}{tx.amount:f} {tx.currency}",
            "payer": _COMMENT_UNSAFE.sub(" ", tx.payer), "text": _COMMENT_UNSAFE.sub(" ", tx.text), "why": why,
            "candidates": candidates, "ref": _COMMENT_UNSAFE.sub(" ", tx.id)}
