"""OFX statements (1.x SGML and 2.x XML), read with `ofxtools`.

Each STMTTRN is a booked transaction (OFX lists pending ones nowhere in a bank statement):
positive TRNAMT is a credit.  The transaction id is the FITID; the payer is NAME (or PAYEE's
name), the remittance MEMO; the currency is the transaction's CURRENCY, else the statement's
CURDEF.  A FITID whose CORRECTACTION deletes or replaces a transaction is skipped.
"""
from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator
from datetime import date

from textbill.core.source import Span
from textbill.workflow.bank.statement import Account, StatementError, Transaction


def is_ofx(head: str) -> bool:
    return bool(re.search(r"OFXHEADER|<OFX>", head, re.IGNORECASE))


def read_ofx(data: bytes, text: str, name: str, on_account) -> Iterator[Transaction]:
    from ofxtools.Parser import OFXTree, ParseError

    tree = OFXTree()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unknown tags: ofxtools skips them, and so do we
            tree.parse(io.BytesIO(data))
            ofx = tree.convert()
    except (ParseError, ValueError, ArithmeticError, KeyError, IndexError, AttributeError, TypeError,
            SyntaxError) as exc:
        raise StatementError(Span(name, _line_of(text, "</OFX>") or 1),
                             f"the OFX statement cannot be read: {str(exc) or type(exc).__name__}",
                             "the file is damaged or cut short: download the statement again") from None
    fitid_lines = [i + 1 for i, line in enumerate(text.splitlines()) if "<FITID>" in line.upper()]
    k = 0
    for stmt in getattr(ofx, "statements", None) or ():
        account = getattr(stmt, "account", None)
        acct_id = getattr(account, "acctid", "") or ""
        on_account(Account(str(acct_id), Span(name, _line_of(text, "<ACCTID>") or 1)))
        curdef = stmt.curdef
        for trn in stmt.banktranlist or ():
            line = fitid_lines[k] if k < len(fitid_lines) else 1
            k += 1
            if getattr(trn, "correctaction", None):
                continue
            amount = trn.trnamt
            if amount is None or trn.dtposted is None or not trn.fitid:
                raise StatementError(Span(name, line), "a transaction (STMTTRN) without its amount, date or FITID",
                                     "the file is damaged or cut short: download the statement again")
            currency = getattr(getattr(trn, "currency", None), "cursym", None) or curdef
            payer = trn.name or (trn.payee.name if getattr(trn, "payee", None) is not None else "") or ""
            posted = trn.dtposted
            yield Transaction(str(trn.fitid), date(posted.year, posted.month, posted.day), abs(amount), str(currency),
                              amount > 0, True, str(payer), "", str(trn.memo or ""), Span(name, line))


def _line_of(text: str, needle: str) -> int:
    for i, line in enumerate(text.splitlines()):
        if needle in line.upper():
            return i + 1
    return 0
