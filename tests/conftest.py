"""Shared test helpers: ledgers written inline, the CLI run in-process."""
from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from textbill.cli.main import main

COMPANY = """\
company acme "Acme Consulting"
  address "1 Main St\\nSpringfield"
  country US
  currency USD
"""


def write_ledger(folder: Path, text: str, name: str = "ledger.bill", company: bool = True,
                 config: str | None = None) -> Path:
    """Write a ledger file (dedented); prepend a minimal company unless told not to; config: the
    text of textbill.yaml (none written when None or empty)."""
    folder.mkdir(parents=True, exist_ok=True)
    body = textwrap.dedent(text).lstrip("\n")
    if company:
        body = COMPANY + "\n" + body
    (folder / name).write_text(body, encoding="utf-8")
    if config:
        (folder / "textbill.yaml").write_text(config, encoding="utf-8")
    return folder


def clean(folder: Path):
    """The analysis of a ledger that must have no errors."""
    from textbill.pipeline import analyze

    analysis = analyze(folder)
    errors = [d for d in analysis.diagnostics if d.is_error]
    assert not errors, errors
    return analysis


class Run:
    def __init__(self, result):
        self.result = result
        self.code = result.exit_code
        self.out = result.stdout
        self.err = result.stderr

    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return f"<exit {self.code}>\nstdout:\n{self.out}\nstderr:\n{self.err}"


def cli(*args: str, env: dict | None = None) -> Run:
    runner = CliRunner()
    result = runner.invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)
    return Run(result)


@pytest.fixture(autouse=True, scope="session")
def _cache_secret_home(tmp_path_factory):
    """The caches' secret (incremental.cache.key_path) of this test session, not the user's."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))


@pytest.fixture
def ledger(tmp_path):
    """ledger(text, **kw) writes a one-file ledger and returns its folder."""
    def make(text: str, name: str = "ledger.bill", company: bool = True) -> Path:
        return write_ledger(tmp_path / "ledger", text, name, company)
    return make


def invoices_json(folder: Path, as_of: str = "2026-12-31", *extra: str) -> dict[str, dict]:
    r = cli("invoices", "-f", folder, "--as-of", as_of, "--format", "json", *extra)
    assert r.code == 0, r
    return {row["number"]: row for row in r.json()}
