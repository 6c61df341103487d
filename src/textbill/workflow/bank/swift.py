"""SWIFT MT940 statements, read with the `mt-940` package.

The `:61:` lines (date, credit or debit, amount, references) are the package's; the `:86:`
information is read here, because banks structure it differently:
- German/Polish structured fields: a three-digit code, then subfields each opened by a
  separator (`?`, `~`, `^` or `<`) and two digits: 20-29 and 60-63 remittance, 32-33 payer
  name, 31 and 38 payer account; in the remittance the SEPA tags SVWZ+ (remittance), EREF+,
  IBAN+ and ABWA+ (a differing payer name) are recognised;
- SWIFT codes such as /NAME/Initech LLC/REMI/USTD//INV-2026-0002/IBAN/DE44...;
- anything else is remittance text as a whole.

MT940 has no pending entries; an MT942 interim report (recognised by its :34F: or :13D: line)
is read the same way, and every transaction in it is pending.  The transaction id is the bank reference of
`:61:` (after `//`), else the customer reference unless NONREF, else a hash of the
transaction's content (the account, date, amount and `:86:`).
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import mt940

from textbill.core.source import Span
from textbill.workflow.bank.statement import (
    Account,
    StatementError,
    Transaction,
    content_id,
)

_STRUCTURED = re.compile(r"^\d{3}([?~^<])\d\d")
_SEPA_TAG = re.compile(r"(SVWZ|EREF|KREF|MREF|CRED|DEBT|IBAN|BIC|ABWA|ABWE|COAM|OAMT)\+")
_SWIFT_CODE = re.compile(r"/(NAME|REMI|IBAN|EREF|ORDP|BENM|ADDR|CNTP|MARF|CSID|PURP|ULTD|ULTC|TRTP)/")


def is_mt940(head: str) -> bool:
    return bool(re.search(r"^:20:", head, re.MULTILINE)) and ":61:" in head or bool(re.search(r"^:25:", head, re.MULTILINE))


def read_mt940(text: str, name: str, on_account) -> Iterator[Transaction]:
    lines = text.splitlines()
    interim = any(line.startswith((":34F:", ":13D:")) for line in lines)  # MT942: nothing in it is booked yet
    if not interim and not any(line.startswith((":62F:", ":62M:")) for line in lines):
        last = len(lines)
        raise StatementError(Span(name, max(last, 1)), "the MT940 statement has no closing balance (:62F:): "
                             "it is cut short", "download the statement again")
    processors = {"post_transaction_details": []}
    statements = mt940.models.Transactions(processors=processors)
    log = logging.getLogger("mt940")
    level = log.level
    log.setLevel(logging.CRITICAL)  # its messages about lines it cannot read: ours below say it better
    try:
        statements.parse(text)
    except (ValueError, KeyError, IndexError, AttributeError, TypeError, RuntimeError) as exc:
        raise StatementError(Span(name, 1), f"the MT940 statement cannot be read: {exc}",
                             "download the statement again") from None
    finally:
        log.setLevel(level)
    account = (statements.data.get("account_identification") or "").strip()
    acct_line = _line_of(lines, ":25:", 0)
    if account:
        on_account(Account(account.split("/")[-1], Span(name, acct_line)))
    line61 = [i + 1 for i, line in enumerate(lines) if line.startswith(":61:")]
    if len(line61) != len(statements.transactions):
        raise StatementError(Span(name, 1), f"{len(line61)} :61: lines, of which only "
                             f"{len(statements.transactions)} can be read", "download the statement again")
    for tx, lineno in zip(statements.transactions, line61, strict=True):
        data = tx.data
        where = Span(name, lineno)
        amount = data.get("amount")
        day = data.get("entry_date") or data.get("date")
        if amount is None or day is None:
            raise StatementError(where, "a :61: line without a date or amount")
        value = Decimal(amount.amount)
        status = str(data.get("status") or "")
        credit = status in ("C", "RD")  # RD: reversal of a debit, money in
        details = _details(str(data.get("transaction_details") or ""))
        ref = (data.get("bank_reference") or "").strip()
        customer = (data.get("customer_reference") or "").strip()
        tx_id = ref or (customer if customer and customer.upper() != "NONREF" else "") \
            or content_id("mt940", account, day, value, details["raw"])
        yield Transaction(tx_id, date(day.year, day.month, day.day), abs(value), amount.currency, credit, not interim,
                          details["payer"], details["iban"], details["text"], where)


def _line_of(lines: list[str], prefix: str, default: int) -> int:
    for i, line in enumerate(lines):
        if line.startswith(prefix):
            return i + 1
    return default or 1


def _details(raw: str) -> dict[str, str]:
    """Payer, IBAN and remittance of a `:86:` text."""
    joined = "".join(part.strip("\r") for part in raw.splitlines())
    found = _STRUCTURED.match(joined)
    if found:
        return _structured(joined, found.group(1))
    if _SWIFT_CODE.search(joined):
        return _swift(joined)
    return {"payer": "", "iban": "", "text": " ".join(raw.split()), "raw": raw}


def _structured(joined: str, sep: str) -> dict[str, str]:
    fields: dict[str, list[str]] = {}
    for part in joined[3:].split(sep)[1:]:
        if len(part) >= 2 and part[:2].isdigit():
            fields.setdefault(part[:2], []).append(part[2:])
    remittance = "".join("".join(fields.get(f"{k}", [])) for k in [*range(20, 30), *range(60, 64)])
    payer = " ".join(" ".join(fields.get(k, [])) for k in ("32", "33")).strip()
    iban = "".join(fields.get("31", []) or fields.get("38", [])).strip()
    tags = _sepa(remittance)
    if tags:
        remittance = tags.get("SVWZ", remittance)
        iban = iban if _looks_like_iban(iban) else tags.get("IBAN", iban)
        payer = tags.get("ABWA", payer)
    if not _looks_like_iban(iban):
        iban = ""
    return {"payer": payer, "iban": iban, "text": " ".join(remittance.split()), "raw": joined}


def _sepa(remittance: str) -> dict[str, str]:
    marks = list(_SEPA_TAG.finditer(remittance))
    out = {}
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(remittance)
        out[mark.group(1)] = remittance[mark.end():end].strip()
    return out


def _swift(joined: str) -> dict[str, str]:
    parts = _SWIFT_CODE.split(joined)
    fields = {parts[i]: parts[i + 1].strip("/ ") for i in range(1, len(parts) - 1, 2)}
    remittance = fields.get("REMI", "")
    remittance = re.sub(r"^USTD//?|^STRD//?", "", remittance)
    payer = fields.get("NAME") or ""
    iban = fields.get("IBAN", "")
    return {"payer": payer, "iban": iban if _looks_like_iban(iban) else "",
            "text": " ".join(remittance.replace("/", " ").split()) or " ".join(joined.split()), "raw": joined}


def _looks_like_iban(text: str) -> bool:
    return bool(re.fullmatch(r"[A-Z]{2}\d\d[A-Z0-9]{8,30}", text.replace(" ", "")))
