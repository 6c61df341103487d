"""lsp/reparse.py: a buffer parsed again chunk by chunk gives what a whole parse gives, keeps the
very nodes of the chunks that did not change, and the loader's overlay reads buffers, not files."""
from __future__ import annotations

import random

from textbill.lsp.reparse import Reparser
from textbill.pipeline import analyze
from textbill.syntax.parser import Syntax, parse_text

BASE = """\
; a comment before everything
  indented orphan
client globex "Globex"
  terms net 30
terms net 15
  tax VAT 23%

sow globex/web "Web"
  hourly 100.00 USD
2026-01-05 time globex/web 1h "a"
2026-01-06 time globex/web 2h "b" #tag
2026-01-07 time globex/web 3h "c
2026-01-31 invoice INV-2026-0001 globex
  item "x" 2 x 10.00
  bogus attribute
2026-02-01 payment globex 10.00 for INV-2026-0001
"""


def whole(text: str):
    nodes, diags, broken = parse_text(text, "f.bill", Syntax())
    return nodes, [(d.span, d.code, d.message) for d in diags], broken


def spans(nodes):
    return [n.span for n in nodes]


def test_chunkwise_equals_whole_over_random_edits():
    rng = random.Random(16)
    reparser = Reparser(Syntax())
    lines = BASE.split("\n")
    pool = ["2026-01-08 time globex/web 30m \"d\"", "  note \"n\"", "client acme \"A\"", "", "; c",
            "2026-01-09 expense globex/web 5.00 \"e\"", "  period 2026-01-01 .. 2026-01-31", "x y z",
            "2026-01-10 done globex/web \"m\""]
    for _ in range(300):
        i = rng.randrange(len(lines) + 1)
        op = rng.random()
        if op < 0.6 and lines:
            lines[min(i, len(lines) - 1)] = rng.choice(pool)
        elif op < 0.8:
            lines.insert(i, rng.choice(pool))
        elif lines:
            del lines[min(i, len(lines) - 1)]
        text = "\n".join(lines)
        nodes, diags, broken = reparser.parse("f.bill", text)
        w_nodes, w_diags, w_broken = whole(text)
        assert nodes == w_nodes and spans(nodes) == spans(w_nodes), text
        assert [(d.span, d.code, d.message) for d in diags] == w_diags, text
        assert broken == w_broken, text


def test_an_edit_keeps_the_nodes_of_the_other_chunks():
    reparser = Reparser(Syntax())
    before, _, _ = reparser.parse("f.bill", BASE)
    after, _, _ = reparser.parse("f.bill", BASE.replace('1h "a"', '1h30m "a"'))
    changed = [i for i, (a, b) in enumerate(zip(before, after)) if a is not b]
    assert len(before) == len(after) and len(changed) == 1
    assert after[changed[0]].minutes == 90


def test_analyze_reads_the_overlay_instead_of_the_file(tmp_path):
    (tmp_path / "a.bill").write_text('company acme "Acme"\n  currency USD\nclient globex "Globex"\n',
                                     encoding="utf-8")
    unsaved = str((tmp_path / "b.bill").resolve())  # a new buffer, not on disk
    overlay = {unsaved: "2026-01-31 invoice INV-2026-0001 globx\n  item \"x\" 1 x 10.00\n"}
    found = analyze(tmp_path.resolve(), cache=True, overlay=overlay).diagnostics
    assert [(d.code, d.span.file.endswith("b.bill")) for d in found if d.is_error] == [("E101", True)]
    assert not (tmp_path / ".textbill").exists() or not list((tmp_path / ".textbill").rglob("check-*"))
    overlay[str((tmp_path / "a.bill").resolve())] = 'company acme "Acme"\n  currency USD\nclient globx "G"\n'
    assert analyze(tmp_path.resolve(), overlay=overlay).ok  # the buffer of a.bill, not the file
    # the disk alone: no b.bill, a client globex, nothing wrong
    assert [d.code for d in analyze(tmp_path.resolve(), cache=False).diagnostics if d.is_error] == []
