"""render.json.dumps writes what json.dumps(indent=2, ensure_ascii=False) writes (it uses orjson
for speed): for any plain JSON data, and for what orjson would write differently it falls back."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from textbill.render.json import dumps

# what the JSON shapes hold: strings (any text, amounts among them), integers, booleans, null
scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10 ** 30), max_value=10 ** 30),
                    st.text())
data = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                     st.dictionaries(st.text(), inner, max_size=5)),
                    max_leaves=30)


@settings(max_examples=400, deadline=None)
@given(data)
def test_the_same_text_as_the_standard_encoder(value):
    assert dumps(value) == json.dumps(value, indent=2, ensure_ascii=False)


@pytest.mark.parametrize("value", [{"day": date(2026, 1, 1)}, [Decimal("1.50")], {"amount": {1.5}}])
def test_what_json_refuses_is_refused(value):
    with pytest.raises(TypeError):
        dumps(value)


def test_integer_keys_are_written_as_json_writes_them():
    assert dumps({1: "a", "b": [None, True]}) == json.dumps({1: "a", "b": [None, True]}, indent=2)
