"""editors/: the TextMate grammar run over sample lines by a small TextMate tokenizer (Python's re
over the grammar's regexes, which keep to the subset Oniguruma and re share), the VS Code
extension folder, and the Vim syntax file in a real Vim when there is one."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from textbill.lsp import text as tx

EDITORS = Path(__file__).resolve().parents[1] / "editors"
GRAMMAR = json.loads((EDITORS / "textbill.tmLanguage.json").read_text(encoding="utf-8"))


def _flatten(patterns: list[dict]) -> list[dict]:
    out = []
    for p in patterns:
        if "include" in p:
            target = GRAMMAR["repository"][p["include"].lstrip("#")]
            out += _flatten(target["patterns"]) if "patterns" in target and "match" not in target \
                and "begin" not in target else [target]
        else:
            out.append(p)
    return out


def _emit(out, m: re.Match, rule: dict, captures_key: str = "captures") -> None:
    caps = rule.get(captures_key) or {}
    if rule.get("name") and captures_key == "captures":
        out.append((m.group(0), rule["name"]))
    for k, cap in sorted(caps.items(), key=lambda kv: int(kv[0])):
        if m.group(int(k)):
            out.append((m.group(int(k)), cap["name"]))


def tokenize(line: str) -> list[tuple[str, str]]:
    """(text, scope) for every piece of a line the grammar names, as a TextMate engine finds them:
    at each position the rule matching earliest wins, the first listed on a tie."""
    rules = _flatten(GRAMMAR["patterns"])
    out: list[tuple[str, str]] = []
    pos = 0
    while pos <= len(line):
        best = None
        for rule in rules:
            m = re.compile(rule.get("match") or rule["begin"]).search(line, pos)
            if m and (best is None or m.start() < best[0].start()):
                best = (m, rule)
        if best is None:
            break
        m, rule = best
        if "begin" in rule:
            inner = _flatten(rule.get("patterns", []))
            start = m.start()
            _emit(out, m, rule, "beginCaptures")
            p = m.end()
            end = re.compile(rule["end"])
            while True:
                e = end.search(line, p)
                hits = [(r, re.compile(r["match"]).search(line, p)) for r in inner]
                hits = [(r, h) for r, h in hits if h and (e is None or h.start() < e.start())]
                if hits:
                    r, h = min(hits, key=lambda x: x[1].start())
                    _emit(out, h, r)
                    p = h.end()
                    continue
                stop = e.end() if e else len(line)
                out.append((line[start:stop], rule["name"]))
                pos = max(stop, p)
                break
        else:
            _emit(out, m, rule)
            pos = m.end() if m.end() > pos else pos + 1
    return out


def scope(line: str, piece: str) -> str | None:
    for text, name in tokenize(line):
        if text == piece:
            return name
    return None


def test_scope_name_and_top_level():
    assert GRAMMAR["scopeName"] == "source.textbill" and GRAMMAR["fileTypes"] == ["bill"]


@pytest.mark.parametrize("keyword", tx.BLOCKS)
def test_every_block_keyword(keyword):
    header = f"{keyword} {'globex/web' if keyword == 'sow' else 'globex'} \"Name\""
    assert scope(header, keyword) == "keyword.control.directive.textbill"
    assert scope(header, "globex/web" if keyword == "sow" else "globex") == "entity.name.type.textbill"
    assert scope(header, '"Name"') == "string.quoted.double.textbill"


@pytest.mark.parametrize("keyword", tx.DATED)
def test_every_dated_keyword(keyword):
    line = f"2026-01-31 {keyword} INV-2026-0001 ; why"
    assert scope(line, "2026-01-31") == "constant.numeric.date.textbill"
    assert scope(line, keyword) == "keyword.control.directive.textbill"
    assert scope(line, "; why") == "comment.line.semicolon.textbill"


def test_every_attribute():
    for attributes in tx.ATTRIBUTES.values():
        for attribute in attributes:
            assert scope(f"  {attribute} x", attribute) == "entity.other.attribute-name.textbill", attribute
    assert scope("terms net 30", "terms") is None  # not indented: no attribute


def test_values_in_sample_lines():
    line = '2026-01-05 time globex/web-2026 3h30m "Kickoff \\"A\\" meeting" #meeting nonbillable ; billed later'
    got = dict(tokenize(line))
    assert got["globex/web-2026"] == "entity.name.namespace.sow.textbill"
    assert got["3h30m"] == "constant.numeric.duration.textbill"
    assert got['"Kickoff \\"A\\" meeting"'] == "string.quoted.double.textbill"
    assert got['\\"'] == "constant.character.escape.textbill"
    assert got["#meeting"] == "entity.name.tag.textbill"
    assert got["nonbillable"] == "keyword.other.textbill"
    assert got["; billed later"] == "comment.line.semicolon.textbill"

    assert scope("2026-01-06 time globex/web 09:00-12:30", "09:00-12:30") == "constant.numeric.time-range.textbill"
    for duration in ("45m", "1.25h", "3h"):
        assert scope(f"2026-01-06 time globex/web {duration}", duration) == "constant.numeric.duration.textbill"
    line = "2026-02-20 payment globex 1_500.50 USD for INV-2026-0001 FV/2026/0002 via bank-transfer"
    got = dict(tokenize(line))
    assert got["1_500.50"] == "constant.numeric.amount.textbill" and got["USD"] == "support.constant.currency.textbill"
    assert got["INV-2026-0001"] == got["FV/2026/0002"] == "variable.other.constant.document-number.textbill"
    assert got["for"] == got["via"] == "keyword.other.textbill"
    assert "2026" not in got and "0001" not in got  # no number inside an invoice number
    assert scope("  tax VAT 23%", "23%") == "constant.numeric.percent.textbill"
    assert scope("  discount -10%", "-10%") == "constant.numeric.percent.textbill"
    assert scope("  step +21d \"firm\" late-fee", "+21d") == "constant.numeric.offset.textbill"
    assert scope("  period 2026-01-01 .. 2026-06-30", "2026-06-30") == "constant.numeric.date.textbill"
    assert scope("  period 2026-01-01 .. 2026-06-30", "..") == "keyword.other.textbill"
    assert scope("2026-01-31 fx USD PLN 3.9876", "PLN") == "support.constant.currency.textbill"
    assert scope("2026-01-31 fx USD PLN 3.9876", "3.9876") == "constant.numeric.amount.textbill"
    assert scope('  address "unterminated', '"unterminated') == "string.quoted.double.textbill"
    assert scope("; a whole-line comment with 2026-01-01", "; a whole-line comment with 2026-01-01") == \
        "comment.line.semicolon.textbill"


def test_the_vscode_extension_folder():
    folder = EDITORS / "vscode"
    package = json.loads((folder / "package.json").read_text(encoding="utf-8"))
    (language,) = package["contributes"]["languages"]
    assert language["id"] == "textbill" and language["extensions"] == [".bill"]
    (grammar,) = package["contributes"]["grammars"]
    assert grammar["scopeName"] == "source.textbill"
    assert (folder / grammar["path"]).read_bytes() == (EDITORS / "textbill.tmLanguage.json").read_bytes()
    script = (folder / package["main"]).read_text(encoding="utf-8")
    assert '["textbill", "lsp"]' in script and (folder / language["configuration"]).is_file()
    if shutil.which("node"):
        subprocess.run(["node", "--check", str(folder / package["main"])], check=True)


@pytest.mark.skipif(shutil.which("vim") is None, reason="no vim")
def test_the_vim_syntax_file_in_vim(tmp_path):
    sample = tmp_path / "x.bill"
    sample.write_text('2026-01-05 time globex/web 3h30m "Kick" #meeting ; c\n'
                      'client globex "G"\n  terms net 30\n', encoding="utf-8")
    out = tmp_path / "out.txt"
    script = tmp_path / "probe.vim"
    probes = [(1, 1), (1, 12), (1, 17), (1, 28), (1, 34), (1, 41), (1, 50), (2, 1), (3, 3)]
    lines = [f"call add(g:out, synIDattr(synID({r}, {c}, 1), 'name'))" for r, c in probes]
    script.write_text("let g:out = []\n" + "\n".join(lines) + f"\ncall writefile(g:out, '{out}')\nqa!\n",
                      encoding="utf-8")
    rtp = EDITORS / "vim"
    subprocess.run(["vim", "-N", "-u", "NONE", "-i", "NONE", "-es", "--cmd", f"set rtp^={rtp}",
                    "-c", "filetype on", "-c", "syntax on", "-c", f"edit {sample}", "-c", f"source {script}"],
                   check=False, timeout=30, capture_output=True)
    assert out.read_text().split("\n")[:len(probes)] == [
        "textbillDate", "textbillKind", "textbillSowRef", "textbillDuration", "textbillString", "textbillTag",
        "textbillComment", "textbillBlock", "textbillAttribute"]
