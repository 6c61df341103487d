"""An edited buffer parsed again chunk by chunk: only the directives whose lines changed.

The loader parses a changed file whole, which is right for a save but not for a keystroke in a
file of thousands of entries: parsing them all again costs a third of a second, and their new node
objects make every invoice and lock digest of the Workspace's memos miss (they recognise an
unchanged directive by its identity).  A buffer is cut into directive chunks as the parser cuts
it (syntax.parser.split_chunks); a chunk whose first line and text are as they were keeps the
very nodes and diagnostics parsed before, and only new chunks are parsed, each at its own line.
The result is what parse_text() gives for the whole text (tests/test_lsp_reparse.py); the session
hands it to the loader through the Workspace's parse memory, keyed as the loader keys the file.
"""
from __future__ import annotations

from bisect import bisect_right

from textbill.core.diagnostics import Diagnostic
from textbill.syntax.parser import Syntax, parse_text, salvage_names, split_chunks

# more new chunks than this (an edit that shifted the lines of the rest of a file): one whole parse
MAX_CHUNK_PARSES = 64

Parsed = tuple[tuple, tuple, frozenset]  # nodes, diagnostics, broken names


def chunk_keys(text: str) -> list[tuple]:
    """(first line, lines, glued, orphan) per chunk of a text, in order."""
    lines = None
    out = []
    for first, chunk, glued in split_chunks(text):
        if chunk is None:  # an indented line outside any block: reported on its own (E004)
            lines = lines or text.split("\n")
            out.append((first, (lines[first - 1],), (), True))
        else:
            out.append((first, tuple(chunk), glued, False))
    return out


def _rekey(old: list[str], keys: list[tuple], lines: list[str]) -> tuple[int, int, list[tuple]] | None:
    """How the chunk keys of `old` become those of `lines` when the edit kept the number of lines
    (typing within lines): (lo, hi, region), the keys lo..hi replaced by region.  Only the chunks
    around the changed lines are cut again -- with the chunk before (whose lines a changed header
    may no longer glue) and the one after (which a changed block may now glue).  None when the
    general way must do it."""
    n = len(lines)
    if n != len(old) or not keys or keys[0][3]:
        return None  # lines added or removed, or lines outside any block at the top
    a = 0
    while a < n and lines[a] == old[a]:
        a += 1
    if a == n:
        return 0, -1, []
    b = n - 1
    while lines[b] == old[b]:
        b -= 1
    firsts = [k[0] for k in keys]
    if a + 1 < firsts[0]:
        return None
    lo = max(bisect_right(firsts, a + 1) - 2, 0)
    hi = min(bisect_right(firsts, b + 1), len(keys) - 1)
    start = firsts[lo] - 1  # line index of the region's first header
    stop = firsts[hi + 1] - 1 if hi + 1 < len(keys) else n  # the next chunk's header, or the end
    region = list(split_chunks("\n".join(lines[start:stop + 1] if stop < n else lines[start:])))
    if stop < n:
        # the next chunk's header must still start a chunk of its own
        if not region or region[-1][0] != stop - start + 1 or region[-1][1] is None:
            return None
        region.pop()
    if any(chunk is None for _, chunk, _ in region) or not region or region[0][0] != 1:
        return None
    return lo, hi, [(first + start, tuple(chunk), glued, False) for first, chunk, glued in region]


def _whole(keys: list[tuple], text: str, name: str, syntax: Syntax) -> dict[tuple, Parsed]:
    """Parse the whole text once and give each chunk its nodes, diagnostics and broken names."""
    nodes, diags, _ = parse_text(text, name, syntax)
    firsts = [k[0] for k in keys]
    per_nodes: list[list] = [[] for _ in keys]
    per_diags: list[list[Diagnostic]] = [[] for _ in keys]
    for node in nodes:
        per_nodes[max(bisect_right(firsts, node.span.line) - 1, 0)].append(node)
    for d in diags:
        line = d.span.line if d.span is not None else 1
        per_diags[max(bisect_right(firsts, line) - 1, 0)].append(d)
    out = {}
    for i, key in enumerate(keys):
        broken: frozenset = frozenset()
        if not key[3] and any(d.is_error for d in per_diags[i]):
            broken = frozenset(salvage_names(key[1][0]))
        out[key] = (tuple(per_nodes[i]), tuple(per_diags[i]), broken)
    return out


def _one(key: tuple, name: str, syntax: Syntax) -> Parsed:
    first, lines = key[0], key[1]
    nodes, diags, broken = parse_text("\n" * (first - 1) + "\n".join(lines), name, syntax)
    return tuple(nodes), tuple(diags), frozenset(broken)


class Reparser:
    """The chunks of each buffer as last parsed, by file name: its lines, chunk keys and their parts."""

    def __init__(self, syntax: Syntax):
        self.syntax = syntax
        self.last: dict[str, tuple[list[str], list[tuple], list[Parsed]]] = {}

    def forget(self, name: str) -> None:
        self.last.pop(name, None)

    def parse(self, name: str, text: str) -> tuple[list, list[Diagnostic], set]:
        """(nodes, diagnostics, broken names) of a buffer, as parse_text(text, name) gives them."""
        lines = text.split("\n")
        before = self.last.get(name)
        spliced = _rekey(before[0], before[1], lines) if before is not None else None
        if before is not None and spliced is not None:
            lo, hi, region = spliced
            old_keys, old_parts = before[1], before[2]
            kept = dict(zip(old_keys[lo:hi + 1], old_parts[lo:hi + 1]))
            keys = old_keys[:lo] + region + old_keys[hi + 1:]
            parts = old_parts[:lo] + [kept.get(k) or _one(k, name, self.syntax) for k in region] \
                + old_parts[hi + 1:]
        else:
            keys = chunk_keys(text)
            table = dict(zip(before[1], before[2])) if before is not None else None
            if table is None or sum(1 for k in keys if k not in table) > MAX_CHUNK_PARSES:
                table = _whole(keys, text, name, self.syntax)
            parts = [table.get(k) or _one(k, name, self.syntax) for k in keys]
        self.last[name] = (lines, keys, parts)
        nodes: list = []
        diags: list[Diagnostic] = []
        broken: set = set()
        for n, d, b in parts:
            nodes.extend(n)
            if d:
                diags.extend(d)
            if b:
                broken |= b
        return nodes, diags, broken
