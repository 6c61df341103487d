"""The ready CI setups of examples/ci/ (issue 18) run, step by step, on the example ledger.

Each test parses the workflow's YAML and runs its shell commands in order, with bash -eo pipefail
as the forge does, in a scratch clone of a repository holding the example ledger: `main` with the
ledger as shipped, and a branch that adds April's time and invoice, as a pull request would.
What a test machine cannot or must not do is left out, and each such line is counted so that a
change to the examples is noticed here:

- `uses:` steps (checkout, setup-python, the cache, the artifact upload) are the forge's actions;
- steps and lines that talk to the forge's API (`gh pr comment`, `curl ... $CI_API_V4_URL`);
- `apt-get install` of WeasyPrint's system libraries (the test machine has them);
- `pip install "textbill==$TEXTBILL_VERSION"` becomes `textbill --version`: the textbill under test
  is already on PATH (a shim running this tree's sources), and the pinned version must be it.

The scratch ledger builds HTML only (`formats: [html]` in its textbill.yaml): PDFs are tested
elsewhere, and three PDF builds would make this slow.  HOME is a scratch folder, so textbill's
cache key lands where the examples look for it (~/.cache/textbill), not in the user's home.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from textbill.version import __version__

ROOT = Path(__file__).parents[1]
EXAMPLES = ROOT / "examples" / "ci"
GIT = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"]
APRIL_TIME = '2026-04-06 time globex/web-2026 2h "Content migration"\n'
APRIL_INVOICE = "\n2026-04-30 invoice FV/2026/0009 globex\n  period 2026-04-01 .. 2026-04-30\n"
PIP = re.compile(r'^\s*pip install "textbill==\$TEXTBILL_VERSION"\s*$', re.MULTILINE)
APT = re.compile(r"^.*apt-get install.*$\n?", re.MULTILINE)


def _git(cwd: Path, *args: str) -> None:
    subprocess.run([*GIT, "-C", str(cwd), *args], check=True, capture_output=True)


@pytest.fixture
def scratch(tmp_path) -> tuple[Path, dict[str, str]]:
    """(a clone on a pull-request branch, the environment its steps run in)."""
    base = tmp_path / "base"
    shutil.copytree(ROOT / "example-ledger", base, ignore=shutil.ignore_patterns("build", ".textbill"))
    config = base / "textbill.yaml"
    config.write_text(re.sub(r"^formats:.*$", "formats: [html]", config.read_text(encoding="utf-8"),
                             flags=re.MULTILINE), encoding="utf-8")
    subprocess.run(["git", "init", "-q", "-b", "main", str(base)], check=True)
    _git(base, "add", "-A")
    _git(base, "commit", "-qm", "the ledger")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(base), str(clone)], check=True)
    _git(clone, "checkout", "-qb", "april")
    with open(clone / "clients" / "globex.bill", "a", encoding="utf-8") as fh:
        fh.write(APRIL_TIME)
    with open(clone / "2026" / "invoices.bill", "a", encoding="utf-8") as fh:
        fh.write(APRIL_INVOICE)
    _git(clone, "commit", "-qam", "April")

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "textbill"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m textbill "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_CACHE_HOME", "TEXTBILL_LEDGER", "NO_COLOR")}
    env.update(HOME=str(home), PATH=f"{bin_dir}{os.pathsep}{env['PATH']}", PYTHONPATH=str(ROOT / "src"))
    return clone, env


def _bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], check=False, cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=300)


def _adapt(script: str, seen: dict[str, int]) -> str:
    script, pips = PIP.subn("textbill --version | grep -F \"version $TEXTBILL_VERSION\"", script)
    script, apts = APT.subn("", script)
    seen["pip"] += pips
    seen["apt"] += apts
    return script


def test_github_actions_workflow(scratch):
    clone, env = scratch
    workflow = yaml.safe_load((EXAMPLES / "github-actions.yml").read_text(encoding="utf-8"))
    assert workflow["env"]["TEXTBILL_VERSION"] == __version__
    env.update({k: str(v) for k, v in workflow["env"].items()})
    summary, outputs = clone.parent / "summary.md", clone.parent / "outputs"
    env.update(GITHUB_STEP_SUMMARY=str(summary), GITHUB_OUTPUT=str(outputs))
    # the values of the expressions the run steps use, for a pull request from 'april' into 'main'
    expressions = {"github.base_ref": "main"}
    conditions = {"github.event_name == 'pull_request'"}  # true: this is a pull request
    seen = {"pip": 0, "apt": 0, "uses": 0, "forge": 0}
    logs = {}
    [job] = workflow["jobs"].values()
    for step in job["steps"]:
        if "uses" in step:
            seen["uses"] += 1
            continue
        if "GH_TOKEN" in step.get("env", {}):  # the forge's API
            seen["forge"] += 1
            continue
        if "if" in step:
            assert step["if"] in conditions, step["if"]
        step_env = dict(env)
        for key, value in step.get("env", {}).items():
            step_env[key] = re.sub(r"\$\{\{\s*(.*?)\s*\}\}", lambda m: expressions[m.group(1)], str(value))
        assert "${{" not in step["run"], step["run"]
        done = _bash(_adapt(step["run"], seen), clone, step_env)
        assert done.returncode == 0, (step["name"], done.stdout, done.stderr)
        logs[step["name"]] = done
    assert seen == {"pip": 1, "apt": 1, "uses": 4, "forge": 1}

    # the check annotates the new invoice, not yet locked (W172), at its line from the repository root
    check = logs["Check the ledger"].stdout
    assert re.search(r"^::warning file=2026/invoices\.bill,line=\d+,col=\d+,.*title=W172::", check, re.MULTILINE)
    assert (clone / "_site" / "index.html").is_file()
    assert (clone / "_site" / "invoices").is_dir()
    comment = (clone / "textbill-diff.md").read_text(encoding="utf-8")
    assert re.match(r"### textbill: `[0-9a-f]{40}\.\.HEAD`", comment)  # from the merge base
    assert "| + | `FV/2026/0009` | invoice | 2026-04-30 | globex | 300.00 USD |" in comment
    assert summary.read_text(encoding="utf-8") == comment


def test_gitlab_ci_job(scratch):
    clone, env = scratch
    config = yaml.safe_load((EXAMPLES / "gitlab-ci.yml").read_text(encoding="utf-8"))
    job = config["textbill"]
    assert job["variables"]["TEXTBILL_VERSION"] == __version__
    env.update({k: str(v) for k, v in job["variables"].items()})
    env.update(CI_PIPELINE_SOURCE="merge_request_event", CI_MERGE_REQUEST_TARGET_BRANCH_NAME="main",
               CI_DEFAULT_BRANCH="main", CI_COMMIT_REF_SLUG="april")
    seen = {"pip": 0, "apt": 0}
    lines = []
    for line in job["before_script"] + job["script"]:
        if "CI_API_V4_URL" in line:  # the forge's API (a merge request note)
            seen["forge"] = seen.get("forge", 0) + 1
            continue
        lines.append(_adapt(line, seen))
    assert seen == {"pip": 1, "apt": 1, "forge": 1}
    done = _bash("\n".join(lines), clone, env)
    assert done.returncode == 0, (done.stdout, done.stderr)

    report = json.loads((clone / job["artifacts"]["reports"]["codequality"]).read_text(encoding="utf-8"))
    assert [(i["check_name"], i["severity"], i["location"]["path"]) for i in report] == [
        ("W172", "minor", "2026/invoices.bill")]
    assert (clone / "_site" / "index.html").is_file()
    assert (clone / ".textbill-key" / "key").is_file()  # saved with the cache for the next pipeline
    assert "`FV/2026/0009`" in (clone / "textbill-diff.md").read_text(encoding="utf-8")
    # a committed .textbill/ stops the job before anything runs
    (clone / ".textbill").mkdir(exist_ok=True)
    (clone / ".textbill" / "planted").write_text("x", encoding="utf-8")
    _git(clone, "add", "-f", ".textbill/planted")
    refused = _bash("\n".join(lines), clone, env)
    assert refused.returncode == 1 and "do not commit .textbill/" in refused.stdout


def test_plain_shell_script(scratch):
    clone, env = scratch
    env.update(TEXTBILL_LEDGER=".", BASE="origin/main")
    done = subprocess.run(["sh", str(EXAMPLES / "textbill-ci.sh")], check=False, cwd=clone, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "`FV/2026/0009`" in done.stdout
    sarif = json.loads((clone / "textbill.sarif").read_text(encoding="utf-8"))
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["W172"]
    assert (clone / "_site" / "index.html").is_file()
    # the gate: an error fails the script before the build
    shutil.rmtree(clone / "_site")
    invoices = clone / "2026" / "invoices.bill"
    invoices.write_text(invoices.read_text(encoding="utf-8").replace("FV/2026/0009 globex", "FV/2026/0009 globx"),
                        encoding="utf-8")
    failed = subprocess.run(["sh", str(EXAMPLES / "textbill-ci.sh")], check=False, cwd=clone, env=env,
                            capture_output=True, text=True, timeout=300)
    assert failed.returncode == 1
    assert "error[E101]: unknown client 'globx'" in failed.stderr
    assert not (clone / "_site").exists()
