"""Two git branches that each issue the next invoice number collide in textbill.lock.

Without the lock file the two branches would merge cleanly (the invoices even
live in different files here) and leave two invoices with one number; the lock
file's append-at-the-end design turns that into a merge conflict.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

LEDGER = """\
company acme "Acme"
  currency USD

client alpha "Alpha"
client beta "Beta"

sow alpha/web "Web"
  period 2026-01-01 .. 2026-12-31
  hourly 100
  schedule monthly

sow beta/app "App"
  period 2026-01-01 .. 2026-12-31
  hourly 80
  schedule monthly

2026-01-05 time alpha/web 2h "January work"
2026-01-06 time beta/app 3h "January work"
"""

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_NOSYSTEM": "1", "HOME": "",
}


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, **GIT_ENV, "HOME": str(repo.parent)}
    return subprocess.run(["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
                          cwd=repo, env=env, capture_output=True, text=True, check=check)


def textbill(repo: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TEXTBILL_LEDGER"}
    return subprocess.run([sys.executable, "-m", "textbill", *args, "-f", str(repo)], cwd=repo, env=env,
                          capture_output=True, check=False, text=True)


@pytest.fixture
def repo(tmp_path) -> Path:
    repo = tmp_path / "books"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "ledger.bill").write_text(LEDGER)
    (repo / "textbill.yaml").write_text("out: build\n")
    (repo / ".gitignore").write_text(".textbill/\n.*.lock\n")
    r = textbill(repo, "issue", "--as-of", "2026-02-01")  # January: INV-2026-0001 (alpha), -0002 (beta)
    assert r.returncode == 0, r.stderr
    assert textbill(repo, "check").returncode == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "January invoices")
    return repo


def test_two_branches_issuing_the_next_number_conflict_in_the_lock_file(repo):
    base = git(repo, "rev-parse", "HEAD").stdout.strip()
    for branch, entry, file in (("work-alpha", '2026-02-03 time alpha/web 4h "February"\n', "alpha"),
                                ("work-beta", '2026-02-04 time beta/app 5h "February"\n', "beta")):
        git(repo, "checkout", "-q", "-b", branch, base)
        (repo / f"time-{file}.bill").write_text(entry)
        r = textbill(repo, "issue", "--as-of", "2026-03-01", "--file", str(repo / f"invoices-{file}.bill"))
        assert r.returncode == 0, r.stderr
        assert "INV-2026-0003" in (repo / f"invoices-{file}.bill").read_text()
        assert textbill(repo, "check").returncode == 0
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", f"issue February for {file}")

    git(repo, "checkout", "-q", "work-alpha")
    merge = git(repo, "merge", "--no-edit", "work-beta", check=False)
    assert merge.returncode != 0
    assert "CONFLICT" in merge.stdout
    conflicted = git(repo, "diff", "--name-only", "--diff-filter=U").stdout.split()
    assert conflicted == ["textbill.lock"]  # the invoices themselves merged silently
    lock = (repo / "textbill.lock").read_text()
    assert lock.count("INV-2026-0003 invoice") == 2 and "<<<<<<<" in lock
    # and textbill refuses the half-merged ledger until the conflict is resolved
    r = textbill(repo, "check")
    assert r.returncode == 1 and "E174" in r.stderr


def test_a_branch_based_on_the_other_merges_cleanly(repo):
    (repo / "time-alpha.bill").write_text('2026-02-03 time alpha/web 4h "February"\n')
    assert textbill(repo, "issue", "--as-of", "2026-03-01").returncode == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "alpha")
    git(repo, "checkout", "-q", "-b", "later")
    (repo / "time-beta.bill").write_text('2026-03-04 time beta/app 5h "March"\n')
    assert textbill(repo, "issue", "--as-of", "2026-04-01").returncode == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "beta")
    git(repo, "checkout", "-q", "main")
    assert git(repo, "merge", "--no-edit", "later", check=False).returncode == 0
    lock = [ln.split()[0] for ln in (repo / "textbill.lock").read_text().splitlines() if not ln.startswith("#")]
    assert lock == ["INV-2026-0001", "INV-2026-0002", "INV-2026-0003", "INV-2026-0004"]
    assert textbill(repo, "check").returncode == 0

