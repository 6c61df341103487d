"""What every statement reader yields: booked and pending transactions, credits and debits.

A reader raises StatementError for a statement it cannot read whole (malformed, truncated, a
field that is not what its format says); the import then writes nothing.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from textbill.core.source import Span


@dataclass(frozen=True, slots=True)
class Transaction:
    """One transaction of a statement, as the bank reported it."""

    id: str  # the bank's transaction id: the idempotency key written as the payment's ref
    date: date  # booking date
    amount: Decimal  # positive
    currency: str
    credit: bool  # money in
    booked: bool  # False: pending (camt PDNG, a CSV status column)
    payer: str = ""  # the other party's name
    iban: str = ""  # the other party's account
    text: str = ""  # remittance information, every line joined by spaces
    where: Span = field(default=Span("<statement>", 0))


class StatementError(Exception):
    """A statement that cannot be read: where (file, line, column) and what."""

    def __init__(self, where: Span, message: str, hint: str | None = None, code: str = "E261",
                 focus: str | None = None):
        super().__init__(message)
        self.focus = focus
        self.where = where
        self.message = message
        self.hint = hint
        self.code = code


@dataclass(frozen=True, slots=True)
class Account:
    """The account a statement is of: its IBAN (or other account id) and where it is named."""

    id: str
    where: Span


def content_id(kind: str, *parts: object) -> str:
    """An id for a transaction that carries no bank reference: a hash of what it says, so the same
    transaction in an overlapping statement gets the same id."""
    digest = hashlib.sha256("\x1f".join([kind, *map(str, parts)]).encode()).hexdigest()[:16]
    return f"{kind}-{digest}"


def parse_decimal(text: str, decimal_mark: str | None = ".") -> Decimal | None:
    """A bank amount: '1190.00', '1 190,00', '-50', '1.190,00' (decimal_mark ','); None if not one.

    decimal_mark None: told from the text.  With both '.' and ',' the later one is the decimal
    mark; a lone ',' followed by one or two digits is a decimal comma ('1190,5', '-9,00'); any
    other lone ',' groups thousands ('1,190')."""
    raw = text.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("'", "")
    if decimal_mark is None:
        if "," in raw and "." in raw:
            decimal_mark = "," if raw.rfind(",") > raw.rfind(".") else "."
        elif raw.count(",") == 1 and re.search(r",\d{1,2}$", raw):
            decimal_mark = ","
        else:
            decimal_mark = "."
    if decimal_mark == ",":
        raw = raw.replace(".", "").replace(",", ".")
    else:
        raw = raw.replace(",", "")
    raw = raw.removeprefix("+")
    if not re.fullmatch(r"-?\d+(\.\d+)?", raw):
        return None
    return Decimal(raw)


def narrowed(exc: StatementError, text: str) -> Span:
    """The error's span narrowed to its focus word, looked for on its line and the next few."""
    where = exc.where
    if not exc.focus:
        return where
    lines = text.split("\n", where.line + 5)
    for line_no in range(where.line, min(where.line + 5, len(lines)) + 1):
        col = lines[line_no - 1].find(exc.focus)
        if col >= 0:
            return Span(where.file, line_no, col + 1, line_no, col + 1 + len(exc.focus))
    return where
