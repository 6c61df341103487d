"""The error catalogue: one small ledger per diagnostic code, with its exact message.

tests/errors/<CODE>-<what>.bill is checked with `textbill check`; the output must
equal <CODE>-<what>.expected.  Refresh after a deliberate wording change with:

    TEXTBILL_REFRESH_GOLDEN=1 pytest tests/test_error_catalogue.py
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import cli

HERE = Path(__file__).parent / "errors"
CASES = sorted(HERE.glob("*.bill"))


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_catalogue(case: Path, monkeypatch):
    monkeypatch.chdir(HERE)
    monkeypatch.setenv("NO_COLOR", "1")
    r = cli("check", case.name)
    code = case.stem.split("-", 1)[0]
    expected_exit = 1 if code.startswith("E") else 0
    assert r.code == expected_exit, r
    assert f"[{code}]" in r.err, f"{case.name} does not produce {code}:\n{r.err}"
    golden = case.with_suffix(".expected")
    if os.environ.get("TEXTBILL_REFRESH_GOLDEN"):
        golden.write_text(r.err, encoding="utf-8")
    assert golden.exists(), f"no golden output for {case.name}; refresh with TEXTBILL_REFRESH_GOLDEN=1"
    assert r.err == golden.read_text(encoding="utf-8")


def test_every_code_used_in_the_source_has_a_catalogue_entry():
    import re

    src = Path(__file__).parents[1] / "src" / "textbill"
    used = set()
    for py in src.rglob("*.py"):
        used |= set(re.findall(r'"([EW]\d{3})"', py.read_text(encoding="utf-8")))
    documented = {c.stem.split("-", 1)[0] for c in CASES}
    # codes that need more than one .bill file to provoke have their own tests
    special = {"E006", "E007", "E008", "E009", "E900"}
    missing = sorted(used - documented - special)
    assert not missing, f"diagnostic codes without a catalogue entry: {missing}"
