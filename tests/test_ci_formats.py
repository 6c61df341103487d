"""Diagnostics for CI (issue 18): `check --format github|sarif|codeclimate` and `build --diagnostics-format`.

The ledger is an error-catalogue style case in a git repository, with its problems in two files
(one of them named with the characters a workflow command must escape), in a subfolder of the
repository, so every path must come out relative to the repository root.
"""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import jsonschema
import pytest
from conftest import cli

from textbill.core.codes import BY_CODE
from textbill.render.diagnostics_formats import anchor
from textbill.version import __version__

ROOT = Path(__file__).parents[1]
SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
ODD = "q1, 2026: 100%.bill"  # a comma, a colon and a percent sign: each must be escaped in a property

COMPANY = 'company acme "Acme"\n  currency USD\n\nclient globex "Globex"\nsow globex/web "Web"\n  hourly 100\n'
TIME = '2026-01-05 time globx/web 2h "Design"\n2026-01-06 time globex/web 1h75m "Wireframes"\n'
DUPLICATE = 'client initech "Initech"\n\nclient globex "Globex, again: 100%"\n'

# (severity, code, path from the repository root, line, col, end line, end col, message, help)
EXPECTED = [
    ("warning", "W015", "books/2026/time.bill", 2, 28, 2, 33, "1h75m: 75 minutes is an hour or more",
     "write it as 2h15m"),
    ("error", "E101", "books/2026/time.bill", 1, 17, 1, 26, "unknown client 'globx' in SOW reference 'globx/web'",
     "did you mean 'globex'?"),
    ("error", "E110", f"books/{ODD}", 3, 8, 3, 14, "client 'globex' is defined twice (first at company.bill:4)",
     "remove one of the two, or give this one another id"),
]

# The workflow-command grammar (GitHub's runner, actions/toolkit command.ts): `::name key=value,...::data`,
# where a value never holds a raw ',' ':' CR or LF and data no raw CR or LF; '%' only starts an escape.
COMMAND = re.compile(r"::(error|warning|notice)(?: ((?:[A-Za-z]+=[^,:\r\n]*)(?:,[A-Za-z]+=[^,:\r\n]*)*))?::(.*)")
PROPERTY_ESCAPES = {"%25": "%", "%0D": "\r", "%0A": "\n", "%3A": ":", "%2C": ","}
DATA_ESCAPES = {"%25": "%", "%0D": "\r", "%0A": "\n"}


def _unescape(text: str, escapes: dict[str, str]) -> str:
    assert not re.search(r"%(?!25|0D|0A|3A|2C)", text), f"a bare % in {text!r}"
    return re.sub("|".join(escapes), lambda m: escapes[m.group(0)], text)


def parse_commands(out: str) -> list[tuple[str, dict[str, str], str]]:
    commands = []
    for line in out.splitlines():
        m = COMMAND.fullmatch(line)
        assert m, f"not a workflow command: {line!r}"
        props = {}
        for pair in (m.group(2) or "").split(",") if m.group(2) else ():
            key, _, value = pair.partition("=")
            props[key] = _unescape(value, PROPERTY_ESCAPES)
        commands.append((m.group(1), props, _first_at(_unescape(m.group(3), DATA_ESCAPES))))
    return commands


def _first_at(message: str) -> str:
    """E110 names the first definition as the text output does, from the current folder: drop that."""
    return re.sub(r"first at [^)]*company\.bill", "first at company.bill", message)


@pytest.fixture
def repo(tmp_path) -> Path:
    """A git repository whose ledger is its folder books/, with problems in two files."""
    root = tmp_path / "repo"
    books = root / "books"
    (books / "2026").mkdir(parents=True)
    (books / "company.bill").write_text(COMPANY, encoding="utf-8")
    (books / "2026" / "time.bill").write_text(TIME, encoding="utf-8")
    (books / ODD).write_text(DUPLICATE, encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def _as_github(expected):
    sev, code, path, line, col, end_line, end_col, message, hint = expected
    props = {"file": path, "line": str(line), "col": str(col), "endLine": str(end_line),
             "endColumn": str(end_col), "title": code}
    return sev, props, f"{message}\nhelp: {hint}"


@pytest.mark.parametrize("where", ["root", "ledger", "subfolder"])
def test_github_lines_follow_the_grammar_with_paths_from_the_repository_root(repo, monkeypatch, where):
    cwd = {"root": repo, "ledger": repo / "books", "subfolder": repo / "books" / "2026"}[where]
    monkeypatch.chdir(cwd)
    args = ["check", "--format", "github"] + ([] if where == "ledger" else ["-f", str(repo / "books")])
    run = cli(*args)
    assert run.code == 1, run
    # the order is check's, which follows the names as seen from the current folder
    assert sorted(parse_commands(run.out), key=repr) == sorted((_as_github(e) for e in EXPECTED), key=repr)
    [raw] = [line for line in run.out.splitlines() if "E110" in line]  # the escapes themselves
    assert raw.startswith("::error file=books/q1%2C 2026%3A 100%25.bill,line=3,col=8,")
    assert "%0Ahelp: " in raw
    assert run.err == ""  # stdout carries the commands; nothing else is printed


def test_github_paths_outside_a_repository_are_relative_to_the_current_folder(tmp_path, monkeypatch):
    books = tmp_path / "plain" / "books"
    books.mkdir(parents=True)
    (books / "company.bill").write_text(COMPANY + TIME, encoding="utf-8")
    monkeypatch.chdir(tmp_path / "plain")
    commands = parse_commands(cli("check", "-f", "books", "--format", "github").out)
    assert [(c[0], c[1]["file"], c[1]["line"]) for c in commands] == [
        ("warning", "books/company.bill", "8"), ("error", "books/company.bill", "7")]


def test_exit_codes_are_the_specs_whatever_the_format(repo, monkeypatch):
    monkeypatch.chdir(repo)
    for fmt in ("github", "sarif", "codeclimate"):
        assert cli("check", "-f", "books", "--format", fmt).code == 1
    (repo / "books" / "2026" / "time.bill").write_text(TIME.replace("globx/", "globex/"), encoding="utf-8")
    (repo / "books" / ODD).unlink()
    for fmt in ("github", "sarif", "codeclimate"):
        run = cli("check", "-f", "books", "--format", fmt)
        assert run.code == 0, run  # warnings only
        assert "W015" in run.out
        assert cli("check", "-f", "books", "--format", fmt, "--strict").code == 1
    assert cli("check", "-f", "books", "--format", "gitlab").code == 2


def test_a_diagnostic_without_a_place_is_a_command_without_a_file(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "textbill.yaml").write_text("out: build\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path / "empty")
    run = cli("check", "--format", "github")
    assert run.code == 1
    [(kind, props, message), (_, e020, _)] = parse_commands(run.out)
    assert (kind, props, e020) == ("error", {"title": "E007"}, {"title": "E020"})
    assert message.startswith("no .bill files in")
    log = json.loads(cli("check", "--format", "sarif").out)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    assert [("locations" in r, r["ruleId"]) for r in log["runs"][0]["results"]] == [(False, "E007"), (False, "E020")]


def test_sarif_is_valid_against_the_official_schema_and_says_where(repo, monkeypatch):
    monkeypatch.chdir(repo / "books")
    run = cli("check", "--format", "sarif")
    assert run.code == 1, run
    log = json.loads(run.out)
    jsonschema.Draft4Validator(SCHEMA).validate(log)  # the schema is draft-04
    assert log["version"] == "2.1.0"
    [only] = log["runs"]
    driver = only["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("textbill", __version__)
    assert driver["informationUri"].startswith("https://")
    assert [r["id"] for r in driver["rules"]] == ["E101", "E110", "W015"]  # one per code present
    for rule in driver["rules"]:
        declared = BY_CODE[rule["id"]]
        assert rule["shortDescription"]["text"] == declared.title
        assert rule["helpUri"].endswith(f"docs/errors.md#{anchor(rule['id'])}")
        assert rule["help"]["text"]
        assert rule["defaultConfiguration"]["level"] == declared.severity
    assert only["originalUriBaseIds"]["%SRCROOT%"]["uri"] == repo.resolve().as_uri() + "/"
    got = []
    for result in only["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        [loc] = result["locations"]
        art, region = loc["physicalLocation"]["artifactLocation"], loc["physicalLocation"]["region"]
        assert art["uriBaseId"] == "%SRCROOT%"
        got.append((result["level"], result["ruleId"], art["uri"], region["startLine"], region["startColumn"],
                    region["endLine"], region["endColumn"], _first_at(result["message"]["text"])))
    assert got == [(s, c, p.replace(",", "%2C").replace(" ", "%20").replace(":", "%3A").replace("%.", "%25."),
                    line, col, el, ec, f"{m}\nhelp: {h}") for s, c, p, line, col, el, ec, m, h in EXPECTED]


def test_sarif_of_a_clean_ledger_is_valid_and_empty(tmp_path, monkeypatch):
    books = tmp_path / "clean"
    books.mkdir()
    (books / "company.bill").write_text(COMPANY, encoding="utf-8")
    monkeypatch.chdir(books)
    run = cli("check", "--format", "sarif")
    assert run.code == 0
    log = json.loads(run.out)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    assert log["runs"][0]["results"] == [] and log["runs"][0]["tool"]["driver"]["rules"] == []


def _slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_code_links_to_a_heading_of_docs_errors():
    headings = {_slug(h) for h in re.findall(r"^### (.+)$", (ROOT / "docs" / "errors.md").read_text(encoding="utf-8"),
                                             re.MULTILINE)}
    missing = [code for code in BY_CODE if anchor(code) not in headings]
    assert not missing
    assert anchor("E008") == "e008-invalid-textbillyaml"


def test_codeclimate_report_for_gitlab(repo, monkeypatch):
    monkeypatch.chdir(repo)
    run = cli("check", "-f", "books", "--format", "codeclimate")
    assert run.code == 1
    issues = json.loads(run.out)
    assert [(i["check_name"], i["severity"], i["location"]["path"], i["location"]["lines"]["begin"])
            for i in issues] == [(e[1], "minor" if e[0] == "warning" else "major", e[2], e[3]) for e in EXPECTED]
    assert len({i["fingerprint"] for i in issues}) == 3
    assert all(i["type"] == "issue" and i["description"].startswith(i["check_name"]) for i in issues)
    # a finding that only moved down keeps its fingerprint (GitLab then does not call it new)
    time = repo / "books" / "2026" / "time.bill"
    time.write_text("\n\n" + TIME, encoding="utf-8")
    moved = json.loads(cli("check", "-f", "books", "--format", "codeclimate").out)
    assert [i["fingerprint"] for i in moved] == [i["fingerprint"] for i in issues]
    assert moved[0]["location"]["lines"]["begin"] == 4


def test_build_prints_the_same_diagnostics_and_refuses(repo, monkeypatch):
    monkeypatch.chdir(repo)
    check = cli("check", "-f", "books", "--format", "github")
    build = cli("build", "-f", "books", "--format", "html", "--diagnostics-format", "github")
    assert build.code == 1
    assert build.out == check.out
    assert "nothing was produced" in build.err
    assert not (repo / "books" / "build").exists()
    sarif = cli("build", "-f", "books", "--format", "html", "--diagnostics-format", "sarif")
    assert sarif.code == 1
    assert json.loads(sarif.out) == json.loads(cli("check", "-f", "books", "--format", "sarif").out)


def test_build_with_warnings_builds_and_reports_them(tmp_path, monkeypatch):
    books = tmp_path / "warn"
    books.mkdir()
    (books / "company.bill").write_text(COMPANY + TIME.replace("globx/", "globex/"), encoding="utf-8")
    monkeypatch.chdir(books)
    run = cli("build", "--format", "html", "--diagnostics-format", "github", "--as-of", "2026-02-01")
    assert run.code == 0, run
    [(kind, props, _)] = parse_commands(run.out)
    assert (kind, props["title"], props["file"], props["line"]) == ("warning", "W015", "company.bill", "8")
    assert (books / "build" / "index.html").is_file()
    # nothing to do the second time: the report is still there, and empty
    again = cli("build", "--format", "html", "--diagnostics-format", "sarif", "--as-of", "2026-02-01")
    assert again.code == 0, again
    log = json.loads(again.out)
    jsonschema.Draft4Validator(SCHEMA).validate(log)


def test_a_build_with_nothing_to_do_still_prints_its_report(tmp_path, monkeypatch):
    books = tmp_path / "clean"
    books.mkdir()
    (books / "company.bill").write_text(COMPANY, encoding="utf-8")
    monkeypatch.chdir(books)
    first = cli("build", "--format", "html", "--as-of", "2026-02-01")
    assert first.code == 0, first
    for fmt, empty in (("sarif", None), ("codeclimate", []), ("github", "")):
        run = cli("build", "--format", "html", "--diagnostics-format", fmt, "--as-of", "2026-02-01")
        assert run.code == 0, run
        assert "nothing to do" in run.err or "0 rendered" in run.err, run.err
        if fmt == "sarif":
            log = json.loads(run.out)
            jsonschema.Draft4Validator(SCHEMA).validate(log)
            assert log["runs"][0]["results"] == []
        else:
            assert (json.loads(run.out) if fmt == "codeclimate" else run.out) == empty
