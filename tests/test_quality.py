"""The code-quality gates of the redesign, run as tests so that CI holds them.

- ruff, on its default rules (the version is pinned in pyproject.toml's test extra);
- mypy, on the layers whose types are held clean: core/, engine/, reports/ ([tool.mypy]);
- vulture, for dead code, with the documented false positives in vulture_whitelist.py.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_is_clean_on_its_default_rules():
    done = run("ruff", "check", "--isolated", "--no-cache", "src", "tests", "bench", "fuzz")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_is_clean_on_core_engine_and_reports():
    done = run("mypy", "--no-incremental")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success" in done.stdout


def test_vulture_finds_no_dead_code():
    done = run("vulture")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("tool, planted", [
    ("ruff", "import os\n"),
    ("vulture", "def _never_called():\n    return 1\n"),
    ("mypy", "def f() -> int:\n    return 'text'\n"),
])
def test_each_gate_can_fail(tool, planted, tmp_path):
    """Each tool, as configured, reports a planted defect (so a green run means something)."""
    path = tmp_path / "planted.py"
    path.write_text(planted)
    args = {"ruff": ("ruff", "check", "--isolated", "--no-cache", str(path)),
            "vulture": ("vulture", str(path), "--min-confidence", "60"),
            "mypy": ("mypy", "--no-incremental", str(path))}[tool]
    assert run(*args).returncode != 0
