"""The grammar's LALR tables shipped in syntax/lalr_tables.py (syntax/lalr.py).

They are used only when made from this grammar text by this Lark, they parse exactly as a parser
compiled from the grammar does, and generating them twice, in processes with different string
hashing, gives the same file.
"""
from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from textbill.syntax import lalr
from textbill.syntax.parser import Syntax, grammar_text, parse_text

ROOT = Path(__file__).resolve().parents[1]


def test_the_shipped_tables_are_the_grammars():
    # fails when grammar/textbill.lark changed and the tables were not generated again
    assert lalr.TABLES.read_text(encoding="utf-8") == lalr.tables_source(grammar_text()), \
        "run `python -m textbill.syntax.lalr` after changing grammar/textbill.lark"


def test_check_says_whether_the_tables_are_current(tmp_path, monkeypatch, capsys):
    assert lalr.main(["--check"]) == 0
    stale = tmp_path / "lalr_tables.py"
    stale.write_text(lalr.TABLES.read_text(encoding="utf-8").replace("GRAMMAR_SHA256 = '", "GRAMMAR_SHA256 = '0"))
    monkeypatch.setattr(lalr, "TABLES", stale)
    assert lalr.main(["--check"]) == 1
    assert "python -m textbill.syntax.lalr" in capsys.readouterr().err


def _generated_with_seed(seed: str) -> str:
    code = ("import sys, hashlib; from textbill.syntax import lalr; from textbill.syntax.parser import grammar_text;"
            "sys.stdout.write(hashlib.sha256(lalr.tables_source(grammar_text()).encode()).hexdigest())")
    env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT / "src"))
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout


def test_generating_gives_the_same_file_in_every_process():
    # Lark numbers states in an order that follows string hashing; canonical() undoes it
    assert _generated_with_seed("1") == _generated_with_seed("2") != ""


def _table():
    data, _ = lalr.build(grammar_text()).memo_serialize([lalr.TerminalDef, lalr.Rule])
    return data["parser"]["parser"]


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 2**32))
def test_canonical_numbering_does_not_depend_on_the_numbering_given(seed: int):
    rnd = random.Random(seed)  # a seeded shuffle, never shrunk to no shuffle at all
    table = _table()
    states = list(table["states"])
    tokens = list(table["tokens"])
    new_state = dict(zip(states, rnd.sample(states, len(states)), strict=True))
    new_token = dict(zip(tokens, rnd.sample(tokens, len(tokens)), strict=True))

    def action(pair):
        return (pair[0], new_state[pair[1]]) if pair[0] == lalr.SHIFT else pair

    shuffled = {
        "tokens": {new_token[t]: name for t, name in table["tokens"].items()},
        "states": {new_state[s]: {new_token[t]: action(a) for t, a in acts.items()}
                   for s, acts in rnd.sample(list(table["states"].items()), len(states))},
        "start_states": {k: new_state[v] for k, v in table["start_states"].items()},
        "end_states": {k: new_state[v] for k, v in table["end_states"].items()},
    }
    assert shuffled != table
    assert lalr.canonical(shuffled) == lalr.canonical(table)


def _corpus() -> list[tuple[str, str]]:
    files = sorted((ROOT / "example-ledger").rglob("*.bill")) + sorted((ROOT / "tests" / "errors").glob("*.bill"))
    assert len(files) > 80
    return [(f.name, f.read_text(encoding="utf-8", errors="replace")) for f in files]


def _parse_all(parser) -> list:
    out = []
    for name, text in _corpus():
        syntax = Syntax(fast_path=False)  # every line through Lark
        syntax._lark = parser
        nodes, diags, broken = parse_text(text, name, syntax)
        out.append((nodes, [(d.code, d.span, d.message, d.hint) for d in diags], sorted(broken)))
    return out


def test_the_shipped_parser_parses_as_a_compiled_one():
    text = grammar_text()
    shipped, compiled = lalr.parser(text), lalr.build(text)
    assert shipped.parser is not compiled.parser
    results = _parse_all(shipped)
    assert results == _parse_all(compiled)
    # the corpus has syntax errors, whose messages list what the tables expected
    assert any(code == "E001" for _, diags, _ in results for code, *_ in diags)


def test_the_shipped_tables_are_used_for_this_grammar_only(monkeypatch):
    built = []

    def build(text):
        built.append(text)
        return "compiled"

    monkeypatch.setattr(lalr, "build", build)
    text = grammar_text()
    assert lalr.parser(text) != "compiled" and built == []
    assert lalr.parser(text + "\n// an edit\n") == "compiled"
    assert built == [text + "\n// an edit\n"]


def test_tables_of_another_lark_are_not_used(monkeypatch):
    monkeypatch.setattr(lalr, "build", lambda text: "compiled")
    monkeypatch.setattr(lalr, "LARK_VERSION", "0.0.1")
    assert lalr.parser(grammar_text()) == "compiled"


def test_without_the_tables_module_the_parser_is_compiled(monkeypatch):
    monkeypatch.setattr(lalr, "build", lambda text: "compiled")
    monkeypatch.setitem(sys.modules, "textbill.syntax.lalr_tables", None)  # import raises ImportError
    assert lalr.parser(grammar_text()) == "compiled"


def test_writing_the_tables_gives_the_shipped_file(tmp_path, monkeypatch):
    target = tmp_path / "lalr_tables.py"
    target.write_text("stale")
    monkeypatch.setattr(lalr, "TABLES", target)
    assert lalr.main(["--check"]) == 1
    assert lalr.main([]) == 0
    assert target.read_text(encoding="utf-8") == (ROOT / "src/textbill/syntax/lalr_tables.py").read_text(encoding="utf-8")
    assert target.stat().st_mode & 0o777 == 0o644  # installed with the package: readable by all
    assert [p.name for p in tmp_path.iterdir()] == ["lalr_tables.py"]  # no temporary file left
    assert lalr.main(["--check"]) == 0
