"""The grammar's LALR tables, generated once and shipped with textbill: parser() and
`python -m textbill.syntax.lalr`.

Lark compiles grammar/textbill.lark into LALR tables in about 0.15 s, which every new
process paid before it could parse a block (a cold `check` of 100k entries takes ~2 s).  The
tables are a pure function of the grammar and of Lark, so they are generated like a compiled
parser (PLY's parsetab.py, Lark's own standalone tool) into syntax/lalr_tables.py, a module
installed and byte-compiled with the rest of textbill: loading it takes ~0.02 s.

lalr_tables.py names the grammar's sha256 and the Lark version it was made from; with any
other grammar text or Lark version the tables are built here as before, so an edited grammar is
never parsed with stale tables.  tests/test_lalr_tables.py fails when the shipped tables are not
the grammar's, and says to run `python -m textbill.syntax.lalr`.

Lark numbers the parse table's states and tokens in an order that changes from process to
process (it iterates sets); the module renumbers them in a canonical order (canonical()), so the
same grammar always gives the same file, and `--check` compares it byte for byte.
"""
from __future__ import annotations

import hashlib
import importlib
import os
import pprint
import sys
import tempfile
from collections import deque
from contextlib import suppress
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from lark import Lark
from lark import __version__ as LARK_VERSION
from lark.grammar import Rule
from lark.lexer import TerminalDef

TABLES = Path(__file__).with_name("lalr_tables.py")
OPTIONS = MappingProxyType({"parser": "lalr", "lexer": "contextual", "start": "start",
                            "propagate_positions": False, "maybe_placeholders": False})


def grammar_path() -> Path:
    """The grammar file: inside the installed package, else the source tree's grammar/."""
    packaged = resources.files("textbill") / "grammar" / "textbill.lark"
    if packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[3] / "grammar" / "textbill.lark"


def grammar_text() -> str:
    return grammar_path().read_text(encoding="utf-8")


def grammar_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def build(text: str) -> Lark:
    """Compile the grammar text into its LALR parser (~0.15 s)."""
    return Lark(text, **OPTIONS)


def parser(text: str) -> Lark:
    """The LALR parser of the grammar text: from the shipped tables when they were made from this
    text by this Lark, else compiled from the text."""
    with suppress(ImportError):
        tables = importlib.import_module("textbill.syntax.lalr_tables")
        if tables.GRAMMAR_SHA256 == grammar_digest(text) and tables.LARK_VERSION == LARK_VERSION:
            return Lark.load({"data": tables.data(), "memo": tables.memo()})
    return build(text)


SHIFT = 0  # the action of a (action, argument) pair in Lark's serialized parse table


def canonical(table: dict) -> dict:
    """Lark's serialized parse table ({"tokens": {id: name}, "states": {state: {token id: (action,
    argument)}}, "start_states", "end_states"}) with its tokens numbered in the order of their
    names and its states in the order a breadth-first walk from the start states meets them,
    each state's shifts and reductions in token order: the same table, written one way."""
    names = table["tokens"]
    token_ids = {old: new for new, old in enumerate(sorted(names, key=lambda i: names[i]))}
    states = table["states"]
    order: dict[int, int] = {}
    queue = deque(table["start_states"][name] for name in sorted(table["start_states"]))
    while queue:
        state = queue.popleft()
        if state in order:
            continue
        order[state] = len(order)
        for token in sorted(states[state], key=token_ids.__getitem__):
            action, argument = states[state][token]
            if action == SHIFT:
                queue.append(argument)
    for state in states:  # a state no walk reaches (there is none in an LALR table Lark built)
        order.setdefault(state, len(order))

    def action(pair: tuple) -> tuple:
        return (pair[0], order[pair[1]]) if pair[0] == SHIFT else pair

    return {
        "tokens": {token_ids[old]: names[old] for old in sorted(names, key=token_ids.__getitem__)},
        "states": {order[state]: {token_ids[token]: action(states[state][token])
                                  for token in sorted(states[state], key=token_ids.__getitem__)}
                   for state in sorted(states, key=order.__getitem__)},
        "start_states": {name: order[state] for name, state in table["start_states"].items()},
        "end_states": {name: order[state] for name, state in table["end_states"].items()},
    }


def tables_source(text: str) -> str:
    """lalr_tables.py's text for the grammar text."""
    data, memo = build(text).memo_serialize([TerminalDef, Rule])
    data["parser"]["parser"] = canonical(data["parser"]["parser"])
    return ('"""The LALR tables of grammar/textbill.lark, generated by `python -m textbill.syntax.lalr`: '
            'do not edit."""\n'
            '# ruff: noqa\n'
            f"GRAMMAR_SHA256 = {grammar_digest(text)!r}\n"
            f"LARK_VERSION = {LARK_VERSION!r}\n"
            "\n\n"
            "def data() -> dict:  # a new dict per call: Lark reads it, nothing shares it\n"
            f"    return {_indented(data)}\n"
            "\n\n"
            "def memo() -> dict:\n"
            f"    return {_indented(memo)}\n")


def _indented(value) -> str:
    return pprint.pformat(value, width=106, sort_dicts=False).replace("\n", "\n    ")


def main(argv: list[str]) -> int:
    """Write lalr_tables.py for the current grammar, or with --check say whether it is current."""
    source = tables_source(grammar_text())
    if "--check" in argv:
        current = TABLES.read_text(encoding="utf-8") if TABLES.exists() else ""
        if current != source:
            print(f"{TABLES} is not the grammar's: run `python -m textbill.syntax.lalr`", file=sys.stderr)
            return 1
        return 0
    # written beside it and renamed (syntax/ sits below loading/writer.py's write_atomic)
    fd, tmp = tempfile.mkstemp(dir=TABLES.parent, prefix=".lalr_tables.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(source)
        os.chmod(tmp, 0o644)
        os.replace(tmp, TABLES)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    print(f"wrote {TABLES}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
