"""Numbering patterns of invoices and credit notes: 'FV/{year}/{seq:04}' (docs/language.md, "Numbering")."""
from __future__ import annotations

import re
from types import MappingProxyType

from textbill.core import model as m

_PLACEHOLDER = re.compile(r"\{([a-z]+)(?::([^}]*))?\}")


class Pattern:
    """A numbering pattern like 'FV/{year}/{seq:04}'."""

    FIELDS = MappingProxyType({"year": r"\d{4}", "yy": r"\d{2}", "month": r"\d{1,2}", "seq": r"\d+"})

    def __init__(self, text: str):
        self.text = text
        parts, pos, names = [], 0, []
        pieces: list[str | tuple[str, str]] = []  # the text's literal runs and its (field, format) places
        for mt in _PLACEHOLDER.finditer(text):
            parts.append(re.escape(text[pos:mt.start()]))
            name, spec = mt.group(1), mt.group(2) or ""
            pieces += [text[pos:mt.start()], (name, "02" if name == "yy" and not spec else spec)]
            if name not in self.FIELDS:
                raise ValueError(f"unknown placeholder {{{name}}}")
            if spec and not re.fullmatch(r"0?\d{1,2}", spec):
                raise ValueError(f"unknown format '{spec}' in {{{name}}}")
            if name in names:
                raise ValueError(f"{{{name}}} appears twice")
            names.append(name)
            parts.append(f"(?P<{name}>{self.FIELDS[name]})")
            pos = mt.end()
        parts.append(re.escape(text[pos:]))
        pieces.append(text[pos:])
        self._pieces = tuple(pieces)
        if "seq" not in names:
            raise ValueError("the pattern has no {seq}")
        self.regex = re.compile("".join(parts))
        self.yearly = "year" in names or "yy" in names
        self.names = names

    def format(self, day, seq: int) -> str:
        values = {"year": day.year, "yy": day.year % 100, "month": day.month, "seq": seq}
        return "".join(p if type(p) is str else format(values[p[0]], p[1]) for p in self._pieces)

    def parse(self, number: str) -> dict | None:
        mt = self.regex.fullmatch(number)
        if not mt:
            return None
        return {k: int(v) for k, v in mt.groupdict().items()}


def numbering_patterns(ledger: m.Ledger) -> dict[str, Pattern | ValueError]:
    """The company's numbering patterns by kind ("invoice", "credit note"); the error of an invalid one."""
    company = ledger.company or m.Company("", "")
    out: dict[str, Pattern | ValueError] = {}
    for kind, text in (("invoice", company.numbering), ("credit note", company.credit_numbering)):
        try:
            out[kind] = Pattern(text)
        except ValueError as exc:
            out[kind] = exc
    return out
