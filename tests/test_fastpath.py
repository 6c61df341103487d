"""The fast path for one-line entries must build exactly what the Lark path builds."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from textbill.syntax.parser import Syntax, parse_text

FAST = Syntax()  # one parser each for the whole module: building one costs 0.1 s
SLOW = Syntax(fast_path=False)


def both(text: str):
    return parse_text(text, "t.bill", FAST), parse_text(text, "t.bill", SLOW)


def assert_same(text: str):
    (fn, fd, fb), (sn, sd, sb) = both(text)
    assert fn == sn, text
    assert [n.span for n in fn] == [n.span for n in sn], text
    assert fd == sd, text
    assert fb == sb, text


dates = st.sampled_from(["2026-01-05", "2026-02-30", "2028-02-29", "2026-13-01", "2026-1-5"])
refs = st.sampled_from(["c/h", "c/web-2026", "C/h", "web", "c/h/x", "a_b/c-d"])
lengths = st.sampled_from(["3h", "3h30m", "1h75m", "45m", "1.25h", "09:00-12:30", "12:30-09:00",
                           "24:00-24:30", "9:05-10:00", "3", "3.5", "0m", "99999999h", "1.5h30m",
                           "08:00-08:00", "25:00-26:00"])
numbers = st.sampled_from(["100", "1_500.50", "-5", "0", "12.345", "1" * 25, "1__0", ".5", "7."])
currencies = st.sampled_from(["", "USD", "JPY", "usd", "XYZ", "EURO"])
strings = st.sampled_from(['"Kickoff"', '"with \\"quotes\\""', '"semi;colon"', '"a\\nb"', '""', '"open',
                           "bare", ""])
flags = st.lists(st.sampled_from(["#meeting", "#dev-x", "nonbillable", "#Bad", "markup 10%",
                                  "markup 12.5%", "markup 5000%", "markup x"]), max_size=3)
docnos = st.lists(st.sampled_from(["INV-2026-0001", "FV/2026/0002", '"INV 3"', "via", "ref", "viaX"]),
                  max_size=3)
seps = st.sampled_from([" ", "  ", "\t"])
comments = st.sampled_from(["", " ; note", ";x", "  ; a \"quoted\" comment"])


@st.composite
def lines(draw):
    kind = draw(st.sampled_from(["time", "expense", "payment", "fx", "done", "plan", "reminded",
                                 "writeoff", "collections"]))
    s = draw(seps)
    day = draw(dates)
    parts = [day, kind]
    if kind == "time":
        parts += [draw(refs), draw(lengths), draw(strings)] + draw(flags)
    elif kind == "expense":
        parts += [draw(refs), draw(numbers), draw(currencies), draw(strings)] + draw(flags)
    elif kind == "payment":
        parts += ["c", draw(numbers), draw(currencies)]
        docs = draw(docnos)
        if docs:
            parts += ["for"] + docs
        if draw(st.booleans()):
            parts += ["via", draw(st.sampled_from(["card", "bank-transfer", "Card"]))]
        if draw(st.booleans()):
            parts += ["ref", draw(strings)]
    elif kind == "fx":
        parts += [draw(st.sampled_from(["USD", "EUR", "usd"])), draw(st.sampled_from(["PLN", "USD"])),
                  draw(numbers)]
    elif kind == "done":
        parts += [draw(refs), draw(strings)]
    elif kind == "plan":
        parts += [draw(docnos.map(lambda d: d[0] if d else "INV-1")), draw(numbers), "installments",
                  draw(st.sampled_from(["monthly", "every 14 days", "every 2.5 days", "daily"]))]
    else:
        parts += [draw(docnos.map(lambda d: d[0] if d else "INV-1")), draw(strings)]
    return s.join(p for p in parts if p) + draw(comments)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines())
def test_fast_path_equals_lark(line):
    assert_same(line + "\n")


def test_known_edge_cases():
    for line in [
        '2026-01-05 time c/h 3h30m "Kickoff meeting" #meeting',
        '2026-01-05 time c/h 3h30m"glued"',
        '2026-01-05 time c/h 1h75m "x"',
        '2026-01-05 expense c/h 120.00 USD "Stock photos" markup 10%',
        '2026-01-05 expense c/h 120.00USD "glued"',
        '2026-02-21 payment c 800.00 for INV-2026-0002 INV-2026-0003 via card',
        '2026-02-21 payment c 800.00 via card for INV-1',
        '2026-02-21 payment c 0 for INV-1',
        '2026-02-21 payment c 10 for via',
        '2026-01-05 time c/h 3h "x"\n  ; a comment line in the block\n',
        '2026-01-05 time c/h 3h "x"\n  item "attribute on a time entry"\n',
    ]:
        assert_same(line + "\n")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(lines(), st.sampled_from(["", "; a comment", "  ; indented comment", "   "])),
                min_size=1, max_size=12))
def test_fast_path_equals_lark_over_many_lines(many):
    # line numbers, shared values (days, durations, refs, descriptions) and chunks after blank lines
    assert_same("\n".join(many) + "\n")


def test_shared_values_do_not_leak_between_entries():
    text = "".join(f'2026-01-0{d} time c/h {length} "Same"\n' for d in range(1, 4)
                   for length in ("1.5h", "1.50h", "90m", "1h30m", "09:00-10:30"))
    assert_same(text)
    nodes, diags, _ = parse_text(text, "t.bill", FAST)
    assert not diags
    assert {str(n.minutes) for n in nodes} == {"90.0", "90.00", "90"}
    assert [n.span.line for n in nodes] == list(range(1, 16))
