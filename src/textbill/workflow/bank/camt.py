"""ISO 20022 camt.053 (Bank-to-Customer Statement, versions .001.02 to .001.08), streamed.

lxml's iterparse reads the file one `Ntry` at a time and each finished entry is cleared, so a
100 MB statement needs little more memory than one entry.  An entry is a credit (`CdtDbtInd`
CRDT) or a debit, booked (`Sts` BOOK, or `Sts/Cd` BOOK from .001.08) or pending (PDNG) or
information only (INFO, read as pending).  A batch entry (`NtryDtls` with several `TxDtls`)
gives one transaction per `TxDtls`, each with its own amount, payer and remittance.

The transaction id is the entry's `AcctSvcrRef` when the entry holds one transaction; in a batch,
the transaction's own `Refs/AcctSvcrRef`, else the entry's `AcctSvcrRef` with the transaction's
`EndToEndId` or position; failing those, the `EndToEndId`, then the `NtryRef`, then a hash of
the transaction's content.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from textbill.core.source import Span
from textbill.workflow.bank.statement import (
    Account,
    StatementError,
    Transaction,
    content_id,
    parse_decimal,
)

NAMESPACE = re.compile(r"urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(\d\d)")
SUPPORTED = ("02", "03", "04", "05", "06", "07", "08")


def is_camt(head: bytes) -> bool:
    return b"camt.053" in head


def read_camt(path: Path, name: str, on_account) -> Iterator[Transaction]:
    """The transactions of a camt.053 file, in file order; on_account(Account) is called for
    each statement's account before its entries are yielded."""
    from lxml import etree

    with open(path, "rb") as fh:
        head = fh.read(8192).decode("utf-8", "replace")
    found = NAMESPACE.search(head)
    if found is None:
        raise StatementError(Span(name, 1), "not a camt.053 statement: no camt.053 namespace in its first lines",
                             "export the statement as camt.053 (ISO 20022 XML)")
    version = found.group(1)
    if version not in SUPPORTED:
        raise StatementError(Span(name, head[:found.start()].count("\n") + 1),
                             f"camt.053.001.{version} is not supported", "versions .001.02 to .001.08 are read")
    ns = "{" + found.group(0) + "}"
    paths = _Paths(ns)
    # only the elements asked for come back (lxml filters in C); each entry is cleared once read
    context = etree.iterparse(str(path), events=("end",), tag=(ns + "Acct", ns + "Ntry"), huge_tree=False,
                              resolve_entities=False, no_network=True, remove_comments=True, remove_pis=True)
    try:
        for _, elem in context:
            parent = elem.getparent()
            if elem.tag == ns + "Acct":
                if parent is not None and parent.tag == ns + "Stmt":
                    iban = _text(elem, paths, "Id/IBAN") or _text(elem, paths, "Id/Othr/Id")
                    on_account(Account(iban, Span(name, elem.sourceline or 1)))
                continue
            yield from _entry(elem, paths, name)
            elem.clear()
            while elem.getprevious() is not None and parent is not None:
                del parent[0]
    except etree.XMLSyntaxError as exc:
        line, col = (exc.position if exc.position else (exc.lineno or 1, 1))
        raise StatementError(Span(name, max(line, 1), max(col, 1)),
                             "the statement is not well-formed XML: "
                             + re.sub(r"(, )?line \d+(, column \d+)?", "", exc.msg).strip(" ,"),
                             "the file is damaged or cut short: download the statement again") from None


class _Paths:
    """Element paths in the statement's namespace, each made once per file ('Refs/EndToEndId' ->
    '{urn:...}Refs/{urn:...}EndToEndId')."""

    def __init__(self, ns: str):
        self.ns = ns
        self.known: dict[str, str] = {}

    def __call__(self, path: str) -> str:
        found = self.known.get(path)
        if found is None:
            found = self.known[path] = "/".join(self.ns + part for part in path.split("/"))
        return found


def _text(elem, ns: _Paths, path: str) -> str:
    return (elem.findtext(ns(path)) or "").strip()


def _day(elem, ns: _Paths, which: str, where: Span) -> date | None:
    raw = _text(elem, ns, f"{which}/Dt") or _text(elem, ns, f"{which}/DtTm")[:10]
    if not raw:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise StatementError(where, f"{which} '{raw}' is not a date", "dates are YYYY-MM-DD") from None


def _amount(elem, ns: _Paths, where: Span, what: str):
    node = elem.find(ns("Amt"))
    if node is None:
        return None
    value = parse_decimal(node.text or "")
    currency = (node.get("Ccy") or "").strip()
    if value is None or value < 0 or not re.fullmatch(r"[A-Z]{3}", currency):
        raise StatementError(Span(where.file, node.sourceline or where.line), f"{what} amount "
                             f"'{(node.text or '').strip()} {currency}' is not an amount with a currency",
                             "an amount is like <Amt Ccy=\"EUR\">1190.00</Amt>")
    return value, currency


def _entry(ntry, ns: _Paths, name: str) -> Iterator[Transaction]:
    where = Span(name, ntry.sourceline or 1)
    amount = _amount(ntry, ns, where, "the entry's")
    if amount is None:
        raise StatementError(where, "an entry (Ntry) without an amount (Amt)",
                             "the file is damaged or cut short: download the statement again")
    indicator = _text(ntry, ns, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise StatementError(where, f"an entry whose CdtDbtInd is '{indicator}', not CRDT or DBIT",
                             "the file is damaged or cut short: download the statement again")
    status = _text(ntry, ns, "Sts/Cd") or _text(ntry, ns, "Sts")
    booked = status == "BOOK"
    day = _day(ntry, ns, "BookgDt", where) or _day(ntry, ns, "ValDt", where)
    if day is None:
        raise StatementError(where, "an entry without a booking date (BookgDt) or value date (ValDt)")
    entry_ref = _text(ntry, ns, "AcctSvcrRef")
    ntry_ref = _text(ntry, ns, "NtryRef")
    details = ntry.findall(ns("NtryDtls/TxDtls"))
    if not details:
        text = _text(ntry, ns, "AddtlNtryInf")
        tx_id = entry_ref or ntry_ref or content_id("camt", day, *amount, text)
        yield Transaction(tx_id, day, amount[0], amount[1], indicator == "CRDT", booked, text=text, where=where)
        return
    for k, tx in enumerate(details, start=1):
        tx_where = Span(name, tx.sourceline or where.line)
        own = _amount(tx, ns, tx_where, "a transaction's") or _tx_amount(tx, ns, tx_where)
        if own is None:
            if len(details) > 1:
                raise StatementError(tx_where, "a transaction (TxDtls) of a batch entry without its amount",
                                     "each TxDtls of a batch names its own Amt or AmtDtls/TxAmt/Amt")
            own = amount
        tx_indicator = _text(tx, ns, "CdtDbtInd") or indicator
        end_to_end = _text(tx, ns, "Refs/EndToEndId")
        if end_to_end.upper() == "NOTPROVIDED":
            end_to_end = ""
        tx_id = entry_ref if len(details) == 1 else ""
        tx_id = tx_id or _text(tx, ns, "Refs/AcctSvcrRef")
        if not tx_id and entry_ref:
            tx_id = f"{entry_ref}/{end_to_end or k}"
        payer_path = "RltdPties/Dbtr" if tx_indicator == "CRDT" else "RltdPties/Cdtr"
        payer = _text(tx, ns, payer_path + "/Pty/Nm") or _text(tx, ns, payer_path + "/Nm")
        iban = _text(tx, ns, payer_path + "Acct/Id/IBAN")
        lines = [(u.text or "").strip() for u in tx.findall(ns("RmtInf/Ustrd"))]
        lines += [(r.text or "").strip() for r in tx.findall(ns("RmtInf/Strd/CdtrRefInf/Ref"))]
        lines += [(r.text or "").strip() for r in tx.findall(ns("RmtInf/Strd/RfrdDocInf/Nb"))]
        text = " ".join(t for t in lines if t)
        tx_id = tx_id or end_to_end or (ntry_ref if len(details) == 1 else "") \
            or content_id("camt", day, *own, payer, iban, text)
        yield Transaction(tx_id, day, own[0], own[1], tx_indicator == "CRDT", booked, payer, iban, text, tx_where)


def _tx_amount(tx, ns: _Paths, where: Span):
    node = tx.find(ns("AmtDtls/TxAmt"))
    return _amount(node, ns, where, "a transaction's") if node is not None else None
