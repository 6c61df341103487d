"""The error catalogue: one small case per diagnostic code, with its exact message.

Every code declared in textbill/core/codes.py has at least one case in tests/errors,
named after it (<CODE>-<what>), and its golden output <CODE>-<what>.expected:

- a single file, tests/errors/<CODE>-<what>.bill, is checked with `textbill check FILE`
  from tests/errors;
- a folder, tests/errors/<CODE>-<what>/, is a whole ledger for the codes one file cannot
  provoke (a textbill.yaml, a textbill.lock, a file that is not UTF-8, an import source).
  It is copied to a temporary folder (commands write caches and locks) and the command is
  run there with the copy as the ledger (TEXTBILL_LEDGER=.).  The command is `textbill
  check` unless tests/errors/<CODE>-<what>.command holds other arguments, one line
  split like a shell would (`import timeclock hours.timeclock --dry-run`,
  `remind --as-of 2026-03-01`): a few codes are only reported by the command that
  needs them.  No code needs `textbill build`: every code `build` reports, `check`
  reports too.

The golden holds the diagnostics the command writes to stderr, without the closing
summary line and without W172 (issued but not locked, which every ledger with an
unlocked invoice reports) unless that is the case's code.  The exit status is 1 for an
E code and 0 for a W code.

E900 is an internal error: a formatter bug that would change what a file means.  No
ledger provokes it while the formatter is right, so its case runs `textbill fmt` on a
real ledger with the formatter's layout step replaced by a broken one (SABOTAGE).

Refresh after a deliberate wording change, or for a new case, with:

    TEXTBILL_REFRESH_GOLDEN=1 pytest tests/test_error_catalogue.py
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
from pathlib import Path

import pytest
from conftest import cli

from textbill.core.codes import BY_CODE, CODES, ERROR, WARNING
from textbill.syntax import printer

ROOT = Path(__file__).parents[1]
HERE = Path(__file__).parent / "errors"
CASE_NAME = re.compile(r"[EW]\d{3}-[a-z0-9-]+")
CASES = sorted(HERE.glob("*.bill"))
FOLDERS = sorted(p for p in HERE.iterdir() if p.is_dir() and CASE_NAME.fullmatch(p.name))
# "issued but not locked" applies to every ledger with invoices; it has its own case
NOISE = ("W172",)
CODE_LITERAL = re.compile(r"""["']([EW]\d{3})["']""")


def _swap_currency(text: str) -> str:
    return text.replace("USD", "EUR")


def _break_the_formatter(monkeypatch) -> None:
    monkeypatch.setattr(printer, "_layout", _swap_currency)


# folder cases that need a bug planted before their command runs
SABOTAGE = {"E900-formatting-would-change-meaning": _break_the_formatter}


def code_of(case: Path) -> str:
    return case.name.split("-", 1)[0]


def diagnostics_only(stderr: str, keep: str) -> str:
    """The diagnostic blocks of a command's stderr, without the summary line and without noise."""
    blocks = [b for b in stderr.strip().split("\n\n") if b]
    if blocks:
        last = blocks[-1].splitlines()[-1]
        # the summary ("1 file, ...: 1 error", "textbill: nothing was imported"), not a help line
        if ": " in last and "[" not in last and not last.startswith(" "):
            blocks[-1] = "\n".join(blocks[-1].splitlines()[:-1])
    out = []
    for b in blocks:
        head = b.splitlines()[0] if b else ""
        if any(f"[{code}]" in head for code in NOISE if code != keep):
            continue
        if b.strip():
            out.append(b.strip("\n"))
    return "\n\n".join(out) + "\n"


def compare(case: Path, code: str, r) -> None:
    expected_exit = 1 if code.startswith("E") else 0
    assert r.code == expected_exit, r
    assert f"[{code}]" in r.err, f"{case.name} does not produce {code}:\n{r.err}"
    golden = HERE / f"{case.name.removesuffix('.bill')}.expected"
    got = diagnostics_only(r.err, code)
    if os.environ.get("TEXTBILL_REFRESH_GOLDEN"):
        golden.write_text(got, encoding="utf-8")
    assert golden.exists(), f"no golden output for {case.name}; refresh with TEXTBILL_REFRESH_GOLDEN=1"
    assert got == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_catalogue(case: Path, monkeypatch):
    monkeypatch.chdir(HERE)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("TEXTBILL_LEDGER", raising=False)
    compare(case, code_of(case), cli("check", case.name))


@pytest.mark.parametrize("case", FOLDERS, ids=[c.name for c in FOLDERS])
def test_catalogue_folder(case: Path, tmp_path, monkeypatch):
    work = tmp_path / case.name
    shutil.copytree(case, work, symlinks=True)  # a case may hold a symlink out of the ledger (E030)
    monkeypatch.chdir(work)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TEXTBILL_LEDGER", ".")
    command = HERE / f"{case.name}.command"
    args = shlex.split(command.read_text(encoding="utf-8")) if command.exists() else ["check"]
    if case.name in SABOTAGE:
        SABOTAGE[case.name](monkeypatch)
    compare(case, code_of(case), cli(*args))


def test_every_command_file_belongs_to_a_folder_case():
    stray = [p.name for p in HERE.glob("*.command") if not (HERE / p.stem).is_dir()]
    assert not stray, f"command files without their folder case: {stray}"


# ---------------------------------------------------------------------------- the registry

def codes_used_in_the_source() -> dict[str, list[str]]:
    """Each code literal in src/textbill (outside the registry) and the files that use it."""
    src = ROOT / "src" / "textbill"
    used: dict[str, list[str]] = {}
    for py in sorted(src.rglob("*.py")):
        if py == src / "core" / "codes.py":
            continue
        for code in set(CODE_LITERAL.findall(py.read_text(encoding="utf-8"))):
            used.setdefault(code, []).append(str(py.relative_to(src)))
    return used


def test_every_code_is_declared_once_with_the_severity_of_its_letter():
    declared = [c.code for c in CODES]
    twice = sorted({c for c in declared if declared.count(c) > 1})
    assert not twice, f"codes declared more than once in core/codes.py: {twice}"
    literals = CODE_LITERAL.findall((ROOT / "src" / "textbill" / "core" / "codes.py").read_text(encoding="utf-8"))
    literal_twice = sorted({c for c in literals if literals.count(c) > 1})
    assert not literal_twice, f"codes written more than once in core/codes.py: {literal_twice}"
    for c in CODES:
        assert re.fullmatch(r"[EW]\d{3}", c.code), c
        assert c.severity == (ERROR if c.code[0] == "E" else WARNING), c
        assert c.title and c.title == c.title.strip(), c


def test_every_code_used_in_the_source_is_declared():
    used = codes_used_in_the_source()
    undeclared = {code: files for code, files in sorted(used.items()) if code not in BY_CODE}
    assert not undeclared, f"codes used but not declared in core/codes.py: {undeclared}"


def test_every_declared_code_is_used_in_the_source():
    unused = sorted(set(BY_CODE) - set(codes_used_in_the_source()))
    assert not unused, f"codes declared in core/codes.py that textbill never reports: {unused}"


def test_every_declared_code_has_a_case():
    covered = {code_of(c) for c in (*CASES, *FOLDERS)}
    missing = sorted(set(BY_CODE) - covered)
    assert not missing, f"diagnostic codes without a case in tests/errors: {missing}"


def test_every_case_is_of_a_declared_code():
    cases = [*CASES, *FOLDERS]
    unnamed = [c.name for c in cases if not CASE_NAME.fullmatch(c.name.removesuffix(".bill"))]
    assert not unnamed, f"cases not named <CODE>-<what>: {unnamed}"
    unknown = sorted({c.name for c in cases if code_of(c) not in BY_CODE})
    assert not unknown, f"cases of codes not declared in core/codes.py: {unknown}"
    goldens = {p.stem for p in HERE.glob("*.expected")}
    orphans = sorted(goldens - {c.name.removesuffix(".bill") for c in cases})
    assert not orphans, f"golden files without their case: {orphans}"


def test_every_code_is_explained_in_the_docs():
    """docs/errors.md has a section '### CODE title' per code, with the registry's title."""
    text = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    headed = dict(re.findall(r"^### ([EW]\d{3}) (.*)$", text, re.MULTILINE))
    missing = sorted(set(BY_CODE) - set(headed))
    assert not missing, f"codes without a section in docs/errors.md: {missing}"
    retitled = {c.code: (c.title, headed[c.code]) for c in CODES if headed[c.code] != c.title}
    assert not retitled, f"sections of docs/errors.md titled unlike core/codes.py (registry, docs): {retitled}"
    unknown = sorted(set(re.findall(r"\b[EW]\d{3}\b", text)) - set(BY_CODE))
    assert not unknown, f"docs/errors.md names codes that are not declared: {unknown}"
