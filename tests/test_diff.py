"""`textbill diff REV1..REV2`: the billing meaning of a git range, from a real git repository."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import cli

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

LEDGER = """\
company acme "Acme"
  currency USD

client globex "Globex"
  tax VAT 10%

sow globex/web "Web"
  period 2026-01-01 .. 2026-12-31
  hourly 100
  cap 20h
  schedule monthly
"""


def git(repo: Path, *args: str, check: bool = True) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.com", "HOME": str(repo.parent),
           "GIT_CONFIG_NOSYSTEM": "1"}
    done = subprocess.run(["git", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
                          cwd=repo, env=env, capture_output=True, check=False, text=True)
    if check:
        assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def repo(tmp_path) -> Path:
    """A repository whose ledger lives in books/, with three commits: empty, January, February."""
    repo = tmp_path / "repo"
    (repo / "books").mkdir(parents=True)
    git(repo, "init", "-q")
    (repo / "README").write_text("not a ledger yet\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "start")
    git(repo, "tag", "start")
    books = repo / "books"
    (books / "ledger.bill").write_text(LEDGER)
    (books / "time.bill").write_text('2026-01-05 time globex/web 4h "Kickoff"\n2026-01-06 time globex/web 6h "Build"\n')
    assert cli("issue", "-f", books, "--as-of", "2026-02-01").code == 0  # INV-2026-0001: 10h, 1100.00
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "January")
    git(repo, "tag", "january")
    with (books / "time.bill").open("a") as fh:
        fh.write('2026-02-03 time globex/web 7h "More"\n')
    (books / "payments.bill").write_text("2026-02-20 payment globex 1100.00 for INV-2026-0001\n")
    assert cli("issue", "-f", books, "--as-of", "2026-03-01").code == 0  # INV-2026-0002: 7h, 770.00
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "February")
    git(repo, "tag", "february")
    return repo


def diff(repo: Path, *args: str):
    return cli("diff", *args, "--as-of", "2026-03-31", "-f", repo / "books")


def test_a_range_reports_documents_clients_and_budgets(repo):
    r = diff(repo, "january..february")
    assert r.code == 0, r
    out = r.out
    assert "+ INV-2026-0002" in out and "770.00 USD" in out and "new" in out
    assert "INV-2026-0001" not in out  # unchanged
    assert "outstanding 1,100.00 → 770.00 (−330.00)" in out
    assert "invoiced 1,100.00 → 1,870.00 (+770.00)" in out
    assert "tax 100.00 → 170.00 (+70.00)" in out
    assert "globex/web" in out and "10.00h of 20h (50%) → 17.00h of 20h (85%)" in out
    assert "Checks: 0 errors, 0 warnings → 0 errors, 1 warning" in out  # the cap is at 85%


def test_markdown_for_a_pull_request(repo):
    r = diff(repo, "january..february", "--format", "markdown")
    assert r.code == 0
    assert r.out.startswith("### textbill: `january..february`")
    assert "| + | `INV-2026-0002` | invoice | 2026-03-01 | globex | 770.00 USD | new |" in r.out
    assert "| globex | USD | 1,100.00 → **1,870.00** (+770.00) |" in r.out
    assert "| `globex/web` | 10.00h of 20h (50%) | 17.00h of 20h (85%) |" in r.out


def test_the_working_tree_against_a_revision_shows_changes_to_locked_documents(repo):
    books = repo / "books"
    time_bill = books / "time.bill"
    time_bill.write_text(time_bill.read_text().replace('6h "Build"', '8h "Build"'))
    status_before = git(repo, "status", "--porcelain")
    head_before = git(repo, "rev-parse", "HEAD")
    r = diff(repo, "HEAD")
    assert r.code == 0, r
    assert "~ INV-2026-0001" in r.out and "1,100.00 → 1,320.00 USD (+220.00)" in r.out
    assert "changed LOCKED" in r.out
    assert "the time entry of 2026-01-06 changed" in r.out and "(time.bill:2)" in r.out
    assert "new: time.bill:2:1: error[E170]" in r.out
    # nothing in the repository moved
    assert git(repo, "status", "--porcelain") == status_before
    assert git(repo, "rev-parse", "HEAD") == head_before
    assert '8h "Build"' in time_bill.read_text()


def test_removed_documents_and_a_ledger_that_did_not_exist(repo):
    r = diff(repo, "start..january")
    assert r.code == 0
    assert "(no ledger at start)" in r.out and "+ INV-2026-0001" in r.out
    r = diff(repo, "february..january")
    assert "- INV-2026-0002" in r.out and "removed LOCKED" in r.out


def test_open_ranges_and_merge_bases(repo):
    assert "+ INV-2026-0002" in diff(repo, "january..").out
    assert "+ INV-2026-0002" in diff(repo, "january...february").out
    assert "no change" in diff(repo, "february..HEAD").out


def test_bad_revisions_and_folders_are_usage_errors(repo, tmp_path):
    r = diff(repo, "nosuchrev..HEAD")
    assert r.code == 2
    outside = tmp_path / "plain"
    outside.mkdir()
    (outside / "l.bill").write_text(LEDGER)
    r = cli("diff", "HEAD", "-f", outside)
    assert r.code == 2


def test_an_unknown_revision_is_named_not_a_git_command_line(repo, tmp_path):
    """Issue 13: `diff nosuchrev..HEAD` printed git's raw command line; it says which revision."""
    for spec, bad in (("nosuchrev..HEAD", "nosuchrev"), ("january..nosuch", "nosuch"),
                      ("nosuchrev...HEAD", "nosuchrev"), ("nosuchrev", "nosuchrev"), ("HEAD..-x", "-x")):
        r = diff(repo, spec)
        assert r.code == 2, r
        assert f"unknown revision '{bad}'" in r.err, r
        assert "rev-parse" not in r.err and "git " not in r.err.replace("'git log'", "")
    outside = tmp_path / "plain"
    outside.mkdir()
    (outside / "l.bill").write_text(LEDGER)
    r = cli("diff", "HEAD", "-f", outside)
    assert r.code == 2 and "is not in a git repository" in r.err, r


def test_diff_runs_from_the_command_line(repo):
    env = {k: v for k, v in os.environ.items() if k != "TEXTBILL_LEDGER"}
    done = subprocess.run([sys.executable, "-m", "textbill", "diff", "january..february", "--as-of", "2026-03-31"],
                          cwd=repo / "books", capture_output=True, check=False, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert "+ INV-2026-0002" in done.stdout
