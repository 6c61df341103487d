"""Watch mode computes the books again after every save, reusing what did not change: the parse
results of unchanged files (cache.remember) and the invoices whose inputs are the same objects
(incremental.books_memo.BooksMemo).  Over random ledgers and random edits of every kind, the books
computed that way must be the books computed from scratch: documents, line sources and details,
diagnostics, billed items."""
from __future__ import annotations

import random
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledgergen import generate

from textbill.engine.invoices import compute_books
from textbill.incremental.books_memo import BooksMemo
from textbill.incremental.workspace import Workspace
from textbill.loading.loader import load

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
FILES = 3


def blocks_of(text: str) -> list[str]:
    """Directives with their indented lines (comments and blank lines dropped)."""
    out: list[str] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith(";"):
            continue
        if line[0] in " \t" and out:
            out[-1] += "\n" + line
        else:
            out.append(line)
    return out


def split(text: str, layout: str) -> list[list[str]]:
    """The ledger's directives over FILES files: in turn, or one file per client (as people keep them)."""
    files: list[list[str]] = [[] for _ in range(FILES)]
    for i, block in enumerate(blocks_of(text)):
        if layout == "by-client":
            found = re.search(r"\bc(\d+)\b", block)
            i = int(found.group(1)) + 1 if found else 0
        files[i % FILES].append(block)
    return files


def write(folder: Path, files: list[list[str]]) -> None:
    for i, blocks in enumerate(files):
        (folder / f"part{i}.bill").write_text("\n\n".join(blocks) + "\n", encoding="utf-8")


def edit(files: list[list[str]], rng: random.Random) -> str:
    """Change the ledger the way a person might; returns what was done (for failure messages)."""
    kind = rng.choice(["remove", "duration", "shift", "move", "duplicate", "fx", "period", "company", "rate",
                       "payment", "invoice"])
    f = rng.randrange(len(files))
    blocks = files[f]
    if not blocks:
        return "nothing"
    i = rng.randrange(len(blocks))
    if kind == "remove":
        del blocks[i]
    elif kind == "shift":  # every span of the file moves; nothing else changes
        blocks.insert(0, "; a comment\n")
        blocks[0] = blocks[0].strip()
    elif kind == "move":
        files[(f + 1) % len(files)].append(blocks.pop(i))
    elif kind == "duplicate":
        entries = [b for b in blocks if " time " in b or " expense " in b]
        if entries:
            blocks.append(rng.choice(entries))
    elif kind == "duration":
        times = [j for j, b in enumerate(blocks) if re.match(r"\S+ time .* (\d+)m ", b)]
        if times:
            j = rng.choice(times)
            blocks[j] = re.sub(r" (\d+)m ", lambda mt: f" {int(mt.group(1)) + rng.randint(1, 90)}m ", blocks[j], 1)
    elif kind == "fx":
        fxs = [j for j, b in enumerate(blocks) if " fx " in b]
        if fxs:
            j = rng.choice(fxs)
            blocks[j] = re.sub(r"[\d.]+$", f"{rng.randint(1, 5)}.{rng.randint(0, 9999):04d}", blocks[j])
    elif kind == "period":
        invoices = [j for j, b in enumerate(blocks) if " invoice " in b.split("\n")[0]]
        if invoices:
            j = rng.choice(invoices)
            lines = [ln for ln in blocks[j].split("\n") if not ln.strip().startswith("period")]
            blocks[j] = "\n".join(lines)
    elif kind == "company":
        for j, b in enumerate(blocks):
            if b.startswith("company "):
                blocks[j] = b + '\n  phone "+1 555 0100"'
    elif kind == "rate":
        for j, b in enumerate(blocks):
            if b.startswith("sow ") and "  hourly " in b:
                blocks[j] = re.sub(r"hourly (\d+)", lambda mt: f"hourly {int(mt.group(1)) + 7}", b)
                break
    elif kind == "payment":
        clients = sorted({m.group(1) for b in blocks for m in [re.match(r"client (\S+)", b)] if m})
        if clients:
            blocks.append(f"2026-03-15 payment {rng.choice(clients)} 123.45")
    elif kind == "invoice":  # an invoice taken out of the middle: later ones change their periods
        invoices = [j for j, b in enumerate(blocks) if " invoice " in b.split("\n")[0]]
        if invoices:
            del blocks[rng.choice(invoices)]
    return f"{kind} in part{f}"


def signature(books) -> tuple:
    """Everything of the books, spans and line details included (repr shows what == leaves out)."""
    return (repr(books.invoices), repr(books.credits), repr(books.diagnostics), list(books.billed.items()))


@SETTINGS
@given(seed=st.integers(0, 10_000), steps=st.lists(st.integers(0, 2 ** 32), min_size=1, max_size=6),
       layout=st.sampled_from(["in turn", "by-client"]))
def test_remembered_books_are_the_books(tmp_path_factory, seed, steps, layout):
    folder = tmp_path_factory.mktemp("ledger")
    files = split(generate(seed), layout)
    write(folder, files)
    workspace = Workspace()
    workspace.remember(folder)
    memo = BooksMemo()
    try:
        compute_books(load(folder, cache=workspace.parse_cache).ledger, memo)
        done = []
        for step in steps:
            done.append(edit(files, random.Random(step)))
            write(folder, files)
            ledger = load(folder, cache=workspace.parse_cache).ledger
            remembered = compute_books(ledger, memo)
            assert signature(remembered) == signature(compute_books(ledger)), done
    finally:
        workspace.forget(folder)


def test_unchanged_invoices_are_the_same_objects(tmp_path):
    files = split(generate(7), "in turn")
    write(tmp_path, files)
    workspace = Workspace()
    workspace.remember(tmp_path)
    try:
        memo = BooksMemo()
        first = compute_books(load(tmp_path, cache=workspace.parse_cache).ledger, memo)
        assert memo.misses == len(first.invoices) and memo.hits == 0
        second = compute_books(load(tmp_path, cache=workspace.parse_cache).ledger, memo)
        assert memo.hits == len(first.invoices) and memo.misses == 0
        assert all(second.invoices[n] is doc for n, doc in first.invoices.items())
        # a comment at the top of one file moves its entries' spans: its invoices are computed again
        files[0].insert(0, "; moved")
        write(tmp_path, files)
        third = compute_books(load(tmp_path, cache=workspace.parse_cache).ledger, memo)
        assert signature(third) == signature(compute_books(load(tmp_path, cache=workspace.parse_cache).ledger))
    finally:
        workspace.forget(tmp_path)


def test_without_remember_nodes_are_new_and_nothing_is_reused(tmp_path):
    (tmp_path / "l.bill").write_text(generate(3), encoding="utf-8")
    memo = BooksMemo()
    compute_books(load(tmp_path).ledger, memo)
    compute_books(load(tmp_path).ledger, memo)
    assert memo.hits == 0


def test_an_edit_of_one_client_recomputes_only_its_invoices(tmp_path):
    files = split(generate(3), "by-client")
    write(tmp_path, files)
    workspace = Workspace()
    workspace.remember(tmp_path)
    try:
        memo = BooksMemo()
        books = compute_books(load(tmp_path, cache=workspace.parse_cache).ledger, memo)
        clients = {doc.invoice.client for doc in books.invoices.values()}
        assert len(clients) > 1
        victim = next(j for j, b in enumerate(files[1]) if re.match(r"\S+ time ", b))
        files[1][victim] = re.sub(r'"work"', '"more work"', files[1][victim])
        write(tmp_path, files)
        ledger = load(tmp_path, cache=workspace.parse_cache).ledger
        again = compute_books(ledger, memo)
        assert signature(again) == signature(compute_books(ledger))
        own = sum(1 for doc in books.invoices.values() if doc.invoice.client == "c0")
        assert memo.misses <= own and memo.hits >= len(books.invoices) - own
    finally:
        workspace.forget(tmp_path)


def test_an_item_taken_by_an_earlier_invoice_is_seen_by_a_remembered_one(tmp_path):
    """B's own inputs do not change, but which of its items an earlier invoice took does."""
    (tmp_path / "parties.bill").write_text('''company me "Me Ltd"
  currency USD

client acme "Acme"
  currency USD

sow acme/a "A"
  period 2026-01-01 .. 2026-12-31
  hourly 100.00 USD

sow acme/b "B"
  period 2026-01-01 .. 2026-12-31
  hourly 80.00 USD

2026-02-03 time acme/a 1h "a"
2026-02-04 time acme/b 2h "b"
''')
    first = '''2026-02-15 invoice INV-2026-0001 acme
  sow a
  period 2026-01-01 .. 2026-02-15
'''
    (tmp_path / "first.bill").write_text(first)
    (tmp_path / "second.bill").write_text('''2026-02-28 invoice INV-2026-0002 acme
  period 2026-02-01 .. 2026-02-28
''')
    workspace = Workspace()
    workspace.remember(tmp_path)
    try:
        memo = BooksMemo()
        compute_books(load(tmp_path, cache=workspace.parse_cache).ledger, memo)
        (tmp_path / "first.bill").write_text(first.replace("  sow a\n", "  sow a b\n"))
        ledger = load(tmp_path, cache=workspace.parse_cache).ledger
        again = compute_books(ledger, memo)
        assert signature(again) == signature(compute_books(ledger))
        assert [ln.sow for ln in again.invoices["INV-2026-0002"].lines] == []
        assert any(d.code == "E160" for d in again.diagnostics)
    finally:
        workspace.forget(tmp_path)


@SETTINGS
@given(seed=st.integers(0, 10_000), days=st.integers(0, 400))
def test_the_checks_replay_serves_a_day_after_every_entry(tmp_path_factory, seed, days):
    """analysis.receivables(day) hands out the replay the checks made over the whole ledger when
    no entry is dated after day: it must be that day's replay."""
    from datetime import date, timedelta

    from textbill.engine.receivables import replay, seen_from

    folder = tmp_path_factory.mktemp("ledger")
    (folder / "l.bill").write_text(generate(seed), encoding="utf-8")
    ledger = load(folder, cache=False).ledger
    books = compute_books(ledger)
    whole = replay(ledger, books, date.max)
    day = (whole.last_day or date(2026, 1, 1)) + timedelta(days=days)
    assert repr(seen_from(whole, day)) == repr(replay(ledger, books, day))


@SETTINGS
@given(seed=st.integers(0, 10_000), shifts=st.lists(st.integers(0, 20), min_size=1, max_size=12))
def test_unbilled_items_are_the_billable_items_left_out(tmp_path_factory, seed, shifts):
    """The W161 check looks only at entries before each SOW's latest period; it must find what the
    definition finds: every billable item dated before that period and on no invoice."""
    from datetime import date, timedelta

    from textbill.engine.invoices import _Computer, billable_items

    text = generate(seed)
    found = iter(shifts * 50)

    def later(m: re.Match) -> str:  # a period starting later leaves the days before it unbilled
        return f"period {date.fromisoformat(m.group(1)) + timedelta(days=next(found))} .."

    folder = tmp_path_factory.mktemp("ledger")
    (folder / "l.bill").write_text(re.sub(r"(?m)^  period (\S+) \.\.", lambda m: "  " + later(m), text))
    ledger = load(folder, cache=False).ledger
    books = compute_books(ledger)
    comp = _Computer(ledger)
    for doc in books.invoices.values():
        for ref in doc.sows:
            comp.latest_start[ref] = max(comp.latest_start.get(ref, date.min), doc.period.start)
    expected = [(span, f"unbilled {what} of {day} on SOW '{ref}'")
                for key, day, span, ref, what in billable_items(ledger, comp.index)
                if ref in comp.latest_start and day < comp.latest_start[ref] and key not in books.billed]
    assert [(d.span, d.message.split(":")[0]) for d in books.diagnostics if d.code == "W161"] == expected
