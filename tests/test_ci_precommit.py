"""The pre-commit hooks of .pre-commit-hooks.yaml (issue 18), run as a user runs them: `pre-commit try-repo`.

pre-commit (from PyPI, in [test]) pip-installs textbill from this repository into an environment of
its own, so the only network this needs is the package registry (pip's own settings and cache).
The repository is snapshotted once (the working tree as it is, committed in a scratch repository).
`try-repo` then runs `textbill-check` on a clean sample ledger repository (exit 0) and on a broken
one (exit 1); the fmt hooks run through a `.pre-commit-config.yaml` as docs/ci.md shows it.  Each
`try-repo` installs textbill afresh (about 20 s on an idle machine; three installs run side by
side), hence the slow mark.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parents[1]
GIT = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"]

COMPANY = 'company acme "Acme"\n  currency USD\n\nclient globex "Globex"\n'
INVOICE = '2026-01-31 invoice INV-2026-0001 globex\n  item "Design" 1000\n'


def test_the_hooks_file_declares_the_hooks():
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    assert set(hooks) == {"textbill-check", "textbill-fmt", "textbill-fmt-fix"}
    check = hooks["textbill-check"]
    assert (check["entry"], check["language"], check["pass_filenames"]) == ("textbill check", "python", False)
    assert check["files"] == r"\.bill$|textbill\.yaml$|textbill\.lock$"
    assert hooks["textbill-fmt"]["entry"] == "textbill fmt --check"
    assert hooks["textbill-fmt-fix"]["entry"] == "textbill fmt"


@pytest.fixture(scope="module")
def hooks_repo(tmp_path_factory) -> Path:
    """This repository's working tree (tracked and new files), committed in a scratch repository."""
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            check=True, capture_output=True).stdout.decode().split("\0")
    snap = tmp_path_factory.mktemp("hooks") / "textbill"
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            (snap / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, snap / name)
    subprocess.run(["git", "init", "-q", str(snap)], check=True)
    subprocess.run([*GIT, "-C", str(snap), "add", "-A"], check=True)
    subprocess.run([*GIT, "-C", str(snap), "commit", "-qm", "snapshot"], check=True)
    return snap


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("pre-commit-home")
    out = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TEXTBILL_LEDGER")}
    out["PRE_COMMIT_HOME"] = str(home / "pre-commit")  # the hook environments of this test only
    out["XDG_CACHE_HOME"] = str(home / "xdg")  # textbill's cache key, not the user's
    # pip's cache is the user's (the session's XDG_CACHE_HOME, see conftest.py, would make it empty):
    # with it, installing textbill's dependencies reads the wheels pip already has
    out["PIP_CACHE_DIR"] = os.environ.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip")
    return out


def _ledger_repo(folder: Path, invoice: str = INVOICE) -> Path:
    folder.mkdir()
    (folder / "company.bill").write_text(COMPANY, encoding="utf-8")
    (folder / "invoices.bill").write_text(invoice, encoding="utf-8")
    (folder / "textbill.yaml").write_text("out: build\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    subprocess.run([*GIT, "-C", str(folder), "add", "-A"], check=True)
    return folder


def _start(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen:
    subprocess.run([*GIT, "-C", str(cwd), "add", "-A"], check=True)
    return subprocess.Popen([sys.executable, "-m", "pre_commit", *args, "--all-files", "--color", "never"],
                            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait(proc: subprocess.Popen) -> tuple[int, str]:
    out, _ = proc.communicate(timeout=900)
    return proc.returncode, out


def _config(hooks_repo: Path) -> str:
    """The .pre-commit-config.yaml a user writes (docs/ci.md), pointing at the snapshot."""
    rev = subprocess.run(["git", "-C", str(hooks_repo), "rev-parse", "HEAD"], check=True, capture_output=True,
                         text=True).stdout.strip()
    return (f"repos:\n  - repo: {hooks_repo}\n    rev: {rev}\n    hooks:\n"
            "      - id: textbill-check\n      - id: textbill-fmt\n"
            "      - id: textbill-fmt-fix\n        stages: [manual]\n")


@pytest.mark.slow
def test_pre_commit_hooks_pass_a_clean_ledger_and_fail_a_broken_one(hooks_repo, env, tmp_path):
    # `pre-commit try-repo` installs textbill into a fresh environment on every call (its store is a
    # temporary folder): the clean and the failing run go side by side, with the first run of the
    # configured hooks, whose environment (PRE_COMMIT_HOME) the later runs reuse
    clean_repo = _ledger_repo(tmp_path / "clean")
    broken_repo = _ledger_repo(tmp_path / "broken", INVOICE.replace(" globex\n", " globx\n"))
    user_repo = _ledger_repo(tmp_path / "user")
    (user_repo / ".pre-commit-config.yaml").write_text(_config(hooks_repo), encoding="utf-8")
    runs = [_start(["try-repo", str(hooks_repo), "textbill-check"], clean_repo, env),
            _start(["try-repo", str(hooks_repo), "textbill-check"], broken_repo, env),
            _start(["run"], user_repo, env)]
    (clean_code, clean), (broken_code, broken), (user_code, user) = (_wait(p) for p in runs)

    assert clean_code == 0, clean
    assert re.search(r"^textbill check\.+Passed$", clean, re.MULTILINE), clean
    assert broken_code == 1, broken
    assert re.search(r"^textbill check\.+Failed$", broken, re.MULTILINE), broken
    assert "invoices.bill:1:34: error[E101]: unknown client 'globx'" in broken
    assert user_code == 0, user
    assert re.search(r"^textbill fmt --check\.+Passed$", user, re.MULTILINE), user

    # fmt: --check fails on a file out of layout and changes nothing; the opt-in hook fixes it
    messy = INVOICE.replace("  item", "      item").replace(" 1000", "    1000")
    (user_repo / "invoices.bill").write_text(messy, encoding="utf-8")
    code, out = _wait(_start(["run", "textbill-fmt"], user_repo, env))
    assert code == 1, out
    assert "would reformat invoices.bill" in out
    assert (user_repo / "invoices.bill").read_text(encoding="utf-8") == messy
    code, out = _wait(_start(["run", "--hook-stage", "manual", "textbill-fmt-fix"], user_repo, env))
    assert code == 1, out  # pre-commit fails a hook that changed files
    assert "files were modified by this hook" in out
    assert (user_repo / "invoices.bill").read_text(encoding="utf-8") == INVOICE
    code, out = _wait(_start(["run", "textbill-fmt"], user_repo, env))
    assert code == 0, out
