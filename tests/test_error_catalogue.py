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
# "issued but not locked" applies to every ledger with invoices; it has its own case
NOISE = ("W172",)


def diagnostics_only(stderr: str, keep: str) -> str:
    """The diagnostic blocks of `check` output, without the summary line and without noise."""
    blocks = [b for b in stderr.strip().split("\n\n") if b]
    if blocks and ": " in blocks[-1].splitlines()[-1] and "[" not in blocks[-1].splitlines()[-1]:
        last = blocks[-1].splitlines()[:-1]
        blocks[-1] = "\n".join(last)
    out = []
    for b in blocks:
        head = b.splitlines()[0] if b else ""
        if any(f"[{code}]" in head for code in NOISE if code != keep):
            continue
        if b.strip():
            out.append(b.strip("\n"))
    return "\n\n".join(out) + "\n"


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
    got = diagnostics_only(r.err, code)
    if os.environ.get("TEXTBILL_REFRESH_GOLDEN"):
        golden.write_text(got, encoding="utf-8")
    assert golden.exists(), f"no golden output for {case.name}; refresh with TEXTBILL_REFRESH_GOLDEN=1"
    assert got == golden.read_text(encoding="utf-8")


def test_every_code_used_in_the_source_has_a_catalogue_entry():
    import re

    src = Path(__file__).parents[1] / "src" / "textbill"
    used = set()
    owned = ["syntax/parser.py", "syntax/fastpath.py", "load/loader.py", "load/config.py", "checks/ledger.py",
             "pipeline.py", "engine", "checks/einvoice.py"]
    for py in (p for name in owned for p in ([src / name] if name.endswith(".py") else (src / name).rglob("*.py"))):
        used |= set(re.findall(r'"([EW]\d{3})"', py.read_text(encoding="utf-8")))
    documented = {c.stem.split("-", 1)[0] for c in CASES}
    # codes that need more than one .bill file to provoke have their own tests
    special = {"E006", "E007", "E008", "E009", "E900",
               "E182",  # needs a textbill.yaml: tests/test_hardening.py
               # need a textbill.yaml asking for e-invoices: tests/test_einvoice_checks.py
               "W210", "W211", "W212", "W213", "W214", "W215", "W216"}
    missing = sorted(used - documented - special)
    assert not missing, f"diagnostic codes without a catalogue entry: {missing}"
