"""Numbering patterns (core/numbering.py): a number is formatted from the pattern's pieces, found
when the pattern is read; property: it is what substituting each placeholder in the pattern's text
gives (the way the pattern is written in docs/language.md)."""
from __future__ import annotations

import re
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from textbill.core.numbering import Pattern

PLACEHOLDER = re.compile(r"\{([a-z]+)(?::([^}]*))?\}")


def substituted(text: str, day: date, seq: int) -> str:
    """Each {field[:format]} of text replaced by the field's value in that format ({yy}: 2 digits)."""
    def one(mt):
        name, spec = mt.group(1), mt.group(2) or ""
        value = {"year": day.year, "yy": day.year % 100, "month": day.month, "seq": seq}[name]
        return format(value, spec or ("02" if name == "yy" else ""))
    return PLACEHOLDER.sub(one, text)


literal = st.text(alphabet="ABCFV-/._ x0", max_size=4)
field = st.sampled_from(["{year}", "{yy}", "{yy:02}", "{month}", "{month:02}"])
seq_field = st.sampled_from(["{seq}", "{seq:04}", "{seq:3}", "{seq:06}"])


@st.composite
def patterns(draw) -> str:
    fields = draw(st.lists(field, max_size=2, unique_by=lambda f: f.strip("{}").split(":")[0]))
    placed = draw(st.permutations([*fields, draw(seq_field)]))
    return "".join(draw(literal) + f for f in placed) + draw(literal)


@given(patterns(), st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31)),
       st.integers(min_value=0, max_value=10**6))
def test_format_is_the_text_with_each_placeholder_filled(text, day, seq):
    assert Pattern(text).format(day, seq) == substituted(text, day, seq)


def test_examples():
    assert Pattern("FV/{year}/{seq:04}").format(date(2026, 3, 5), 7) == "FV/2026/0007"
    assert Pattern("{yy}{month:02}-{seq}").format(date(2005, 9, 1), 12) == "0509-12"
    assert Pattern("INV-{year}-{seq:04}").parse("INV-2026-0042") == {"year": 2026, "seq": 42}
