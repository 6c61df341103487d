"""The README's quick start works for a newcomer (issue 13, Setup).

The system packages README.md names are the ones .ci/run installs; and (marked slow, run by
default) the README's two commands succeed in a fresh virtual environment on a fresh clone.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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


def readme_commands() -> list[str]:
    """The shell commands of the README's Quick start section, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [line.strip() for block in re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
            for line in block.splitlines() if line.strip() and not line.startswith("sudo ")]


def test_the_readme_shows_the_two_quick_start_commands():
    assert readme_commands() == ["pip install . && textbill build example-ledger",
                                 "pip install -e '.[test]' && pytest"]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_the_readme_commands_work_in_a_fresh_venv_on_a_fresh_clone(tmp_path):
    """What a newcomer does: clone, make a virtual environment, run the README's two commands.

    The clone is of HEAD (what is committed, not the working tree).  The test command runs as
    `pytest --collect-only -q` (the whole suite inside the suite would be run twice)."""
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
    if head.returncode:
        pytest.skip("not a git checkout")
    clone, venv = tmp_path / "textbill", tmp_path / "venv"
    sh(["git", "clone", "--quiet", str(ROOT), str(clone)], tmp_path)
    sh(["git", "checkout", "--quiet", "--detach", head.stdout.strip()], clone)  # HEAD, branch or not
    sh([sys.executable, "-m", "venv", str(venv)], tmp_path)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME") and not k.startswith(("PYTEST", "TEXTBILL_"))}
    env |= {"PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", "VIRTUAL_ENV": str(venv),
            "PIP_QUIET": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1",
            "PIP_NO_COMPILE": "1"}  # no .pyc of every installed module: faster
    install_and_build, develop_and_test = readme_commands()

    sh(["bash", "-c", install_and_build], clone, env)
    build = clone / "example-ledger" / "build"
    assert (build / "index.html").is_file()
    pdfs = sorted(p.relative_to(build).as_posix() for p in build.rglob("*.pdf"))
    assert "invoices/FV-2026-0001.pdf" in pdfs and len(pdfs) >= 10, pdfs
    assert all((build / p).read_bytes().startswith(b"%PDF-") for p in pdfs)
    # the installed wheel parses with the LALR tables it ships, not with tables compiled here
    # (lalr.build is what compiles them)
    python = str(venv / "bin" / "python")
    code = ("from textbill.syntax import lalr; lalr.build = None; "
            "print(type(lalr.parser(lalr.grammar_text())).__name__, lalr.__file__)")
    shipped = sh([python, "-c", code], tmp_path, env)
    kind, where = shipped.split()
    assert kind == "Lark" and "site-packages" in where, shipped

    assert develop_and_test.endswith("&& pytest")
    collect = develop_and_test.removesuffix("pytest") + "pytest --collect-only -q"
    out = sh(["bash", "-c", collect], clone, env)
    assert re.search(r"^\d+ tests collected", out, re.MULTILINE), out[-2000:]
    # the editable install is the clone's code, not this checkout's
    where = sh([str(venv / "bin" / "python"), "-c", "import textbill; print(textbill.__file__)"], tmp_path, env)
    assert Path(where.strip()).resolve().is_relative_to(clone.resolve()), where


def sh(args: list[str], cwd: Path, env: dict | None = None) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, f"{args} exited {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout
