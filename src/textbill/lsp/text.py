"""What a line of a `.bill` buffer says, read from its tokens alone (no parse).

An editor's buffer is half-typed most of the time: completion, hover, go to definition and
references must work on lines the grammar rejects.  So this module reads a line the way a user
does -- a header in column 0 (`client ID`, `DATE invoice NUMBER CLIENT`, ...), attributes indented
under it -- and names the role of each token: which client, SOW or invoice number it names, and
whether it defines it.  The compiler's parse is the authority on what is valid; this is only
where the cursor is.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType

from textbill.syntax import parser as parser_lists

DATE = re.compile(r"\d{4}-\d\d-\d\d")
_TOKEN = re.compile(r'"(?:\\.|[^"\\\n])*"?|;.*|[^\s;"]+')

# the language's directives and each block's attributes, as the parser names them
BLOCKS = parser_lists.DIRECTIVES
DATED = parser_lists.DATED
ATTRIBUTES = parser_lists.BLOCK_ATTRIBUTES
# the words that may follow an attribute or a keyword, where the language lists them
KEYWORD_VALUES = MappingProxyType({
    "schedule": ("weekly", "biweekly", "monthly", "quarterly", "on-completion"),
    "retainer": ("monthly", "quarterly", "yearly"),
    "terms": ("net", "eom", "due-on-receipt"),
    "installments": ("weekly", "biweekly", "monthly", "quarterly", "yearly", "every"),
})


@dataclass(frozen=True)
class Token:
    start: int  # column, from 0
    end: int
    text: str

    @property
    def value(self) -> str:
        """The token without its quotes (an invoice number may be a string)."""
        t = self.text
        if len(t) >= 2 and t[0] == '"' and t[-1] == '"':
            return t[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        return t


@dataclass(frozen=True)
class Role:
    """A token that names something: kind is client | sow | invoice | credit | policy | step."""

    kind: str
    name: str
    start: int
    end: int
    is_definition: bool = False


def tokens(line: str) -> list[Token]:
    """The tokens of a line, its comment left out."""
    out = []
    for m in _TOKEN.finditer(line):
        if m.group(0).startswith(";"):
            break
        out.append(Token(m.start(), m.end(), m.group(0)))
    return out


def is_header(line: str) -> bool:
    return bool(line) and not line[0].isspace() and not line.startswith(";")


def header_above(lines: list[str], row: int) -> tuple[int, str] | None:
    """The block header a line at `row` belongs to (itself if it is one), or None."""
    for r in range(min(row, len(lines) - 1), -1, -1):
        if is_header(lines[r]):
            return r, lines[r]
    return None  # blank, comment and indented lines up to the top


def kind_of(header: list[Token]) -> str | None:
    """company | client | sow | reminders | time | invoice | ... for a header's tokens."""
    if not header:
        return None
    first = header[0].text
    if DATE.fullmatch(first):
        return header[1].text if len(header) > 1 else None
    return first


def header_roles(toks: list[Token]) -> list[Role]:
    """The names a header line defines or refers to."""
    out: list[Role] = []
    kind = kind_of(toks)
    if kind is None:
        return out

    def at(i: int, role: str, definition: bool = False) -> None:
        if i < len(toks):
            t = toks[i]
            out.append(Role(role, t.value, t.start, t.end, definition))

    if not DATE.fullmatch(toks[0].text):
        if kind == "client":
            at(1, "client", True)
        elif kind == "sow":
            at(1, "sow", True)
            if len(toks) > 1 and "/" in toks[1].text:
                t = toks[1]
                client = t.text.split("/", 1)[0]
                out.append(Role("client", client, t.start, t.start + len(client)))
        elif kind == "reminders":
            at(1, "policy", True)
        return out
    if kind in ("time", "expense", "done"):
        at(2, "sow")
    elif kind == "invoice":
        at(2, "invoice", True)
        at(3, "client")
    elif kind == "payment":
        at(2, "client")
        inside = False
        for t in toks[3:]:
            if t.text == "for":
                inside = True
            elif t.text in ("via", "ref"):
                inside = False
            elif inside:
                out.append(Role("invoice", t.value, t.start, t.end))
    elif kind == "credit-note":
        at(2, "credit", True)
        if len(toks) > 3 and toks[3].text == "for":
            at(4, "invoice")
    elif kind in ("plan", "reminded", "writeoff", "collections"):
        at(2, "invoice")
        if kind == "reminded":
            at(3, "step")
    return out


def attribute_roles(toks: list[Token], header: list[Token]) -> list[Role]:
    """The names an attribute line refers to, given its block's header."""
    kind = kind_of(header)
    if not toks:
        return []
    if kind == "invoice" and toks[0].text == "sow" and len(header) > 3:
        client = header[3].value
        return [Role("sow", t.text if "/" in t.text else f"{client}/{t.text}", t.start, t.end) for t in toks[1:]]
    if kind == "client" and toks[0].text == "reminders" and len(toks) > 1 and toks[1].text != "off":
        return [Role("policy", toks[1].text, toks[1].start, toks[1].end)]
    return []


def line_roles(lines: list[str], row: int) -> list[Role]:
    """The roles of the tokens of line `row`."""
    line = lines[row] if row < len(lines) else ""
    if is_header(line):
        return header_roles(tokens(line))
    if not line[:1].isspace():
        return []
    found = header_above(lines, row)
    if found is None:
        return []
    return attribute_roles(tokens(line), tokens(found[1]))


def role_at(lines: list[str], row: int, col: int) -> Role | None:
    for role in line_roles(lines, row):
        if role.start <= col <= role.end:
            return role
    return None


def all_roles(text: str) -> list[tuple[int, Role]]:
    """Every name a file's text defines or refers to, with its line (from 0)."""
    lines = text.split("\n")
    out = []
    header: list[Token] = []
    for row, line in enumerate(lines):
        if is_header(line):
            header = tokens(line)
            out.extend((row, r) for r in header_roles(header))
        elif line[:1].isspace() and header:
            toks = tokens(line)
            if toks:
                out.extend((row, r) for r in attribute_roles(toks, header))
        elif line.strip():
            header = []
    return out


def find_token(line: str, word: str, start: int = 0) -> tuple[int, int] | None:
    """The columns of `word` as a whole token (bare or quoted) on a line."""
    for t in tokens(line):
        if t.start >= start and (t.text == word or t.value == word):
            return t.start, t.end
    return None


def block_end(lines: list[str], row: int) -> int:
    """The last line (from 0) of the block whose header is at `row`: its indented lines."""
    last = row
    for r in range(row + 1, len(lines)):
        line = lines[r]
        if not line.strip() or line.lstrip().startswith(";"):
            continue
        if line[:1].isspace():
            last = r
        else:
            break
    return last
