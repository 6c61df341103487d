"""A bank's CSV export, read with the `bank-csv` column map of textbill.yaml.

    bank-csv: {date: Date, amount: Amount, currency: Currency, payer: Name, iban: IBAN,
               text: Reference, id: Id, status: Status,
               delimiter: ";", decimal: ",", date-format: "%d.%m.%Y"}

`date` and `amount` are required; the others are optional.  Without `decimal`, the decimal
mark is told from each amount (of '.' and ',' the later one; a lone ',' before one or two digits);
without `date-format`, dates are ISO (a time after them is ignored) or day first (05.03.2026,
05-03-2026).  The header row is the first row
that holds every mapped column name (banks put account details above the table).  A negative
amount is a debit.  `currency` may name a column or, as a three-letter code, the currency of
every row (else a currency code after the amount, '1 190,00 PLN', is used).  `status` names a
column whose value 'pending', 'PDNG', 'oczekująca' or 'vorgemerkt' marks a pending row.
Without an `id` column, a row's id is a hash of its content.  The file must be UTF-8 (a BOM is
fine): export it as UTF-8, or convert it (`iconv -f cp1250 -t utf-8`).
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime

from textbill.core.source import Span
from textbill.workflow.bank.statement import (
    StatementError,
    Transaction,
    content_id,
    parse_decimal,
)

PENDING = frozenset({"pending", "pdng", "oczekująca", "oczekujaca", "vorgemerkt", "in progress"})
COLUMNS = ("date", "amount", "currency", "payer", "iban", "text", "id", "status")


def read_csv(text: str, name: str, mapping: Mapping[str, str]) -> Iterator[Transaction]:
    if not mapping:
        raise StatementError(Span(name, 1), "a CSV statement needs the bank-csv column map in textbill.yaml",
                             "add e.g. bank-csv: {date: Date, amount: Amount, payer: Name, text: Title}",
                             code="E263")
    missing = [k for k in ("date", "amount") if k not in mapping]
    if missing:
        raise StatementError(Span(name, 1), f"bank-csv in textbill.yaml names no {' and no '.join(missing)} "
                             "column", "add e.g. date: Date, amount: Amount", code="E263")
    delimiter = str(mapping.get("delimiter", "")) or _sniff(text)
    decimal_mark = str(mapping["decimal"]) if "decimal" in mapping else None
    date_format = str(mapping["date-format"]) if "date-format" in mapping else None
    fixed_currency = str(mapping.get("currency", ""))
    columns = {k: str(v).lstrip("#").strip() for k, v in mapping.items() if k in COLUMNS}
    if re.fullmatch(r"[A-Z]{3}", fixed_currency) and fixed_currency not in _header_names(text, delimiter):
        columns.pop("currency")
    else:
        fixed_currency = ""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    index: dict[str, int] | None = None
    seen: dict[tuple, int] = {}
    for row in reader:
        lineno = reader.line_num
        cells = [c.strip() for c in row]
        if index is None:
            names = [c.lstrip("#").strip() for c in cells]
            if all(col in names for col in columns.values()):
                index = {key: names.index(col) for key, col in columns.items()}
            continue
        if not any(cells):
            continue
        where = Span(name, lineno)

        def cell(key: str, cells: list[str] = cells, where: Span = where, index: dict[str, int] = index) -> str:
            if key not in index:
                return ""
            i = index[key]
            if i >= len(cells):
                raise StatementError(where, f"this row has {len(cells)} cells; column '{columns[key]}' is "
                                     f"number {i + 1}", "the file is cut short or a cell holds the delimiter")
            return cells[i]

        raw_amount = cell("amount")
        currency = fixed_currency or cell("currency")
        found = re.fullmatch(r"(.*?)\s*([A-Z]{3})", raw_amount)
        if found:
            raw_amount, currency = found.group(1), currency or found.group(2)
        value = parse_decimal(raw_amount, decimal_mark)
        if value is None:
            raise StatementError(where, f"'{cell('amount')}' in column '{columns['amount']}' is not an amount",
                                 "set bank-csv decimal: \",\" for amounts like 1 190,00", code="E263")
        if not re.fullmatch(r"[A-Z]{3}", currency or ""):
            raise StatementError(where, f"no currency for this row ('{currency}')",
                                 "map the currency column, or give it: bank-csv currency: PLN", code="E263")
        day = _day(cell("date"), date_format)
        if day is None:
            example = date(2026, 3, 5).strftime(date_format) if date_format else "2026-03-05 or 05.03.2026"
            raise StatementError(where, f"'{cell('date')}' in column '{columns['date']}' is not a date like "
                                 f"{example}", "set bank-csv date-format, e.g. \"%d.%m.%Y\" or \"%d-%m-%Y\"",
                                 code="E263")
        payer, iban, text_, status = cell("payer"), cell("iban").replace(" ", ""), cell("text"), cell("status")
        tx_id = cell("id")
        if not tx_id:
            key = (day, value, currency, payer, iban, text_)
            seen[key] = seen.get(key, 0) + 1
            tx_id = content_id("csv", *key, seen[key])
        yield Transaction(tx_id, day, abs(value), currency, value > 0, status.casefold() not in PENDING,
                          payer, iban, " ".join(text_.split()), where)
    if index is None:
        raise StatementError(Span(name, 1), "no header row holds the bank-csv columns "
                             + ", ".join(f"'{c}'" for c in columns.values()),
                             "check the column names in textbill.yaml against the file's first row", code="E263")


def _day(text: str, date_format: str | None) -> date | None:
    """A row's date: with date-format, read strictly; without, ISO (a time after it is ignored),
    then day first: 05.03.2026, 05-03-2026 (never 03/05/2026, which is ambiguous)."""
    formats = (date_format,) if date_format else ("%Y-%m-%d", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d", "%Y.%m.%d")
    for fmt in formats:
        for candidate in (text, text[:10]) if not date_format else (text,):
            try:
                return datetime.strptime(candidate, fmt).date()
            except ValueError:
                continue
    return None


def _sniff(text: str) -> str:
    head = text[:4096]
    return max((";", ",", "\t"), key=head.count)


def _header_names(text: str, delimiter: str) -> set[str]:
    names: set[str] = set()
    for row in csv.reader(io.StringIO(text[:65536], newline=""), delimiter=delimiter):
        names.update(c.strip().lstrip("#").strip() for c in row)
    return names
