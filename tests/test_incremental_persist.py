"""State kept between processes (incremental/persist.py): a new process that reads .textbill/state/
reports what a fresh `--no-cache` process reports, after any sequence of edits -- of entries, of
the client and the company (documents drawn with recorded parties), of textbill.yaml and of
textbill.lock -- and a planted or tampered entry is never trusted."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import shutil
from pathlib import Path

import pytest
from conftest import cli, write_ledger
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from textbill.checks import locks
from textbill.core.source import Span
from textbill.incremental import cache, persist
from textbill.incremental.books_memo import BooksMemo
from textbill.incremental.workspace import Workspace
from textbill.pipeline import analyze

THEMES = Path(__file__).resolve().parents[1] / "themes"
JANUARY = """
    client globex "Globex"
      address "1 Elm St"
      currency USD
      tax VAT 10%
    sow globex/web "Web"
      period 2026-01-01 .. 2026-12-31
      hourly 100.00
      increment 15m
    2026-01-05 time globex/web 2h "Kickoff"
    2026-01-06 time globex/web 09:00-12:30 "Wireframes"
    2026-01-31 invoice INV-2026-0001 globex
      period 2026-01-01 .. 2026-01-31
"""
# February's time in a file of its own: an edit there leaves every directive of the invoices the same
ENTRIES = '2026-02-03 time globex/web 3h "Sprint"\n'
FEBRUARY = (
    "2026-02-28 invoice INV-2026-0002 globex\n"
    "  period 2026-02-01 .. 2026-02-28\n"
)
MARCH = (
    '2026-03-02 time globex/web 1h "Review"\n'
    "2026-03-31 invoice INV-2026-0003 globex\n"
    "  period 2026-03-01 .. 2026-03-31\n"
)


def toggle(path, a: str, b: str) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(a, b) if a in text else text.replace(b, a), encoding="utf-8")


def edit_duration(folder):
    toggle(folder / "entries.bill", '3h "Sprint"', '3h15m "Sprint"')  # INV-2026-0002 changes: E170


def edit_tag(folder):
    toggle(folder / "ledger.bill", '2h "Kickoff"', '2h "Kickoff" #meeting')


def edit_client(folder):
    toggle(folder / "ledger.bill", '"1 Elm St"', '"9 Oak Ave"')  # issued documents keep the recorded one


def edit_company(folder):
    toggle(folder / "ledger.bill", '"Acme Consulting"', '"Acme Consulting Ltd"')


def edit_config(folder):
    path = folder / "textbill.yaml"
    if path.exists():
        path.unlink()
    else:
        path.write_text("locale: pl\nformats: [html]\n", encoding="utf-8")


def edit_lock_line(folder):
    path = folder / "textbill.lock"
    text = path.read_text(encoding="utf-8")
    lines = text.rstrip("\n").split("\n")
    i = max((i for i, ln in enumerate(lines) if ln.startswith("INV-")), default=None)
    if i is None:  # earlier edits dropped every document's line
        return
    digest = lines[i].split(" sha256:")[1][:1]
    lines[i] = lines[i].replace(" sha256:" + digest, " sha256:" + ("0" if digest != "0" else "1"), 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")  # a locked digest that no longer matches


def drop_lock_line(folder):
    path = folder / "textbill.lock"
    lines = path.read_text(encoding="utf-8").rstrip("\n").split("\n")
    path.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")  # the last document: W172


def edit_lock_parties(folder):
    """The client's address as textbill.lock recorded it for the last document, toggled."""
    path = folder / "textbill.lock"
    lines = path.read_text(encoding="utf-8").rstrip("\n").split("\n")
    i = max((i for i, ln in enumerate(lines) if ln.startswith("INV-")), default=None)
    if i is None:  # earlier edits dropped every document's line
        return
    head, _, token = lines[i].partition(" p:")
    if not token:
        return
    parties = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    buyer = parties["b"]
    cycle = ["1 Elm St", "2 Pine Rd", "3 Birch Ln"]
    address = buyer.get("address")
    buyer["address"] = cycle[(cycle.index(address) + 1) % 3] if address in cycle else cycle[0]
    lines[i] = head + " " + locks.parties_token(parties)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def add_march(folder):
    path = folder / "march.bill"
    if path.exists():
        path.unlink()
    else:
        path.write_text(MARCH, encoding="utf-8")


def relock(folder):
    cli("lock", "-f", folder)


def move_entry(folder):
    toggle(folder / "entries.bill", "2026-02-03", "2026-01-20")  # February's entry moves into January's invoice


def drop_period(folder):
    # February's invoice then starts the day after January's ends: what it reads follows the other invoice
    toggle(folder / "february.bill", "  period 2026-02-01 .. 2026-02-28\n", "")


EDITS = (edit_duration, edit_tag, edit_client, edit_company, edit_config, edit_lock_line, drop_lock_line,
         edit_lock_parties, add_march, relock, move_entry, drop_period)


def make_ledger(root):
    folder = write_ledger(root, JANUARY)
    (folder / "entries.bill").write_text(ENTRIES, encoding="utf-8")
    (folder / "february.bill").write_text(FEBRUARY, encoding="utf-8")
    assert cli("lock", "-f", folder).code == 0
    return folder


def outcome(analysis):
    diags = [(d.code, str(d.span), d.message) for d in analysis.diagnostics]
    docs = {n: (d.total, d.groups, d.due, d.period, d.seq, d.lines, d.usage, d.billed_time, d.client, d.company)
            for n, d in analysis.books.invoices.items()}
    return diags, docs


def new_process(folder):
    """What a new process finds: nothing in memory, .textbill/ as the last process left it."""
    workspace = Workspace()
    analysis = analyze(folder, workspace=workspace, _check_cache=False)
    return outcome(analysis), workspace.persistence


def fresh(folder):
    return outcome(analyze(folder, cache=False))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(EDITS), min_size=1, max_size=5))
def test_a_new_process_reports_what_a_fresh_one_does(tmp_path_factory, edits):
    folder = make_ledger(tmp_path_factory.mktemp("persist") / "ledger")
    new_process(folder)  # fills .textbill/state
    for change in edits:
        change(folder)
        found, _ = new_process(folder)
        assert found == fresh(folder), change.__name__
    found, persistence = new_process(folder)  # nothing changed: every digest read back
    assert found == fresh(folder)
    assert persistence.digests.computed == 0


def test_only_the_edited_documents_are_hashed_again(tmp_path):
    folder = make_ledger(tmp_path / "ledger")
    _, persistence = new_process(folder)
    assert persistence.digests.computed == 2  # nothing stored yet
    _, persistence = new_process(folder)
    assert persistence.digests.computed == 0
    edit_duration(folder)
    (diags, _), persistence = new_process(folder)
    assert [(code, msg.split("'")[1]) for code, _, msg in diags] == [("E170", "INV-2026-0002")]
    assert persistence.digests.computed == 1  # February's invoice; January's digest is read back
    edit_duration(folder)
    (diags, _), persistence = new_process(folder)
    assert diags == []
    assert persistence.digests.computed == 0  # the digest of February as it was is still stored


def test_unchanged_invoices_are_read_back_without_their_lines(tmp_path):
    folder = make_ledger(tmp_path / "ledger")
    new_process(folder)
    edit_duration(folder)  # February's invoice changes; January's reads nothing of entries.bill
    workspace = Workspace()
    workspace.remember(folder)  # as watch does: unchanged files give back the same nodes
    analysis = analyze(folder, workspace=workspace, _check_cache=False)
    books = workspace.persistence.books
    assert books.revived == 1
    assert not books.lines_computed  # check needs January's figures, not its lines
    assert [d.code for d in analysis.diagnostics] == ["E170"]
    january = analysis.books.invoices["INV-2026-0001"]
    fresh_books = analyze(folder, cache=False).books
    assert january.lines == fresh_books.invoices["INV-2026-0001"].lines  # asked for: computed then
    assert books.lines_computed
    assert [ln.description for ln in january.lines] == ["Kickoff", "Wireframes"]
    # the same workspace's next analysis (watch) finds the read-back invoice by identity
    again = analyze(folder, workspace=workspace, _check_cache=False)
    assert (books.hits, books.revived) == (2, 0)
    assert again.books.invoices["INV-2026-0001"] is analysis.books.invoices["INV-2026-0001"]
    # a read of the invoice's entries that gives another answer is a miss, not a stale document
    move_entry(folder)
    workspace = Workspace()
    analysis = analyze(folder, workspace=workspace, _check_cache=False)
    assert workspace.persistence.books.revived == 0
    assert [ln.description for ln in analysis.books.invoices["INV-2026-0001"].lines] == [
        "Kickoff", "Wireframes", "Sprint"]


def test_an_analysis_for_every_page_computes_the_invoices_with_their_lines(tmp_path):
    folder = make_ledger(tmp_path / "ledger")
    new_process(folder)
    workspace = Workspace()
    analysis = analyze(folder, workspace=workspace, _check_cache=False, lines=True)  # build --force
    books = workspace.persistence.books
    assert books.revived == 0 and not books.lines_computed  # computed, not read back then recomputed
    fresh = analyze(folder, cache=False)
    assert [d.code for d in analysis.diagnostics] == [d.code for d in fresh.diagnostics]
    for number, doc in fresh.books.invoices.items():
        assert analysis.books.invoices[number].lines == doc.lines
    # and what it stored is what the next new process reads back
    workspace = Workspace()
    analyze(folder, workspace=workspace, _check_cache=False)
    assert workspace.persistence.books.revived == len(fresh.books.invoices)


def test_the_recorded_parties_are_part_of_a_documents_token(tmp_path):
    folder = make_ledger(tmp_path / "ledger")
    edit_client(folder)  # the client moved: documents are drawn with the address recorded at issue
    new_process(folder)
    for _ in range(4):  # recorded: 2 Pine Rd, 3 Birch Ln, 1 Elm St (as issued), 2 Pine Rd
        edit_lock_parties(folder)
        found, _ = new_process(folder)
        assert found == fresh(folder)


def _entries(folder):
    """The lock digests' table: its shards' files and what each holds."""
    secret = cache.cache_secret(folder, create=False)
    out = {}
    for path in sorted((folder / persist.STATE_DIR).glob("digests-all-*.pickle")):
        name = path.name[:-len(".pickle")]
        out[path] = (name, cache.loads(cache.unseal(secret, name, path.read_bytes()))[2])
    return out


def test_a_planted_or_tampered_entry_is_not_trusted(tmp_path):
    folder = make_ledger(tmp_path / "ledger")
    new_process(folder)
    edit_duration(folder)
    new_process(folder)
    entries = _entries(folder)
    secret = cache.cache_secret(folder, create=False)
    assert sum(len(table) for _, table in entries.values()) == 3  # January; February as locked and as edited
    # the forger's tables: every document hashes to what textbill.lock says (the edit would pass)
    locked = {ln.split()[0]: ln.split()[6] for ln in (folder / "textbill.lock").read_text().splitlines()
              if ln.startswith("INV-")}
    forged = {path: cache.dumps((persist.FORMAT, name.split("-", 1)[1], {k: locked["INV-2026-0002"] for k in table}))
              for path, (name, table) in entries.items()}
    expected = fresh(folder)
    assert [d[0] for d in expected[0]] == ["E170"]

    def plant(seal):
        for path, (name, _) in entries.items():
            path.write_bytes(seal(name, forged[path]))
        found, persistence = new_process(folder)
        return found, persistence.digests.computed

    # sealed with another secret (a .textbill/ from a stranger's pull request): a miss
    assert plant(lambda name, data: cache.seal(b"x" * cache.KEY_BYTES, name, data)) == (expected, 2)
    # the user's own seal over other bytes (tampered after sealing): a miss
    assert plant(lambda name, data: cache.seal(secret, name, data)[:cache.TAG_BYTES]
                 + data.replace(b"sha256:", b"sha256;", 1)) == (expected, 2)
    # the same forged tables under this user's own secret would be believed: the tag is what protects
    found, _ = plant(lambda name, data: hmac.new(secret, name.encode() + b"\0" + data, hashlib.sha256).digest() + data)
    assert found != expected


# ---------------------------------------------------------------------------- builds

def edit_theme(folder):
    """A theme of the ledger's own (a copy of the default one), its invoice page toggled."""
    theme = folder / "theme"
    config = folder / "textbill.yaml"
    if not theme.exists():
        shutil.copytree(THEMES / "default", theme)
        config.write_text("theme: theme\n", encoding="utf-8")
        return
    page = next(p for p in sorted(theme.rglob("*.html")) if "invoice" in p.name)
    toggle(page, "</body>", "<!-- edited --></body>")


# the ledger starts unlocked (a build refuses a ledger with errors, and a locked document edited is
# one): relock locks what there is, and later edits of locked documents are then compared as errors
BUILD_EDITS = (edit_duration, edit_tag, edit_client, edit_company, add_march, relock, edit_theme)


def built(folder, out, *flags):
    r = cli("build", folder, "--out", out, "--format", "html", "--as-of", "2026-04-30", *flags)
    files = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
             if p.is_file() and p.name != "textbill-build.json" and not p.name.startswith(".")}
    said = [ln for ln in r.err.splitlines() if not ln.startswith("textbill: built")]  # counts and seconds differ
    return r.code, said, files if r.code == 0 else None  # a refused build leaves the last one's files


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(BUILD_EDITS), min_size=1, max_size=4))
def test_a_build_in_a_new_process_writes_what_a_fresh_one_does(tmp_path_factory, edits):
    root = tmp_path_factory.mktemp("persist-build")
    folder = write_ledger(root / "ledger", JANUARY)
    (folder / "entries.bill").write_text(ENTRIES, encoding="utf-8")
    (folder / "february.bill").write_text(FEBRUARY, encoding="utf-8")
    built(folder, root / "out")  # fills .textbill/state (the plan's digests, model.json's parts)
    for i, change in enumerate(edits):
        change(folder)
        fresh_out = root / f"fresh{i}"
        assert built(folder, root / "out") == built(folder, fresh_out, "--no-cache", "--force"), change.__name__


def test_the_dashboards_invoice_rows_are_read_back_sealed(tmp_path):
    """A new process takes the dashboard's invoice rows from .textbill/state (a row it did not
    render shows there), and only from entries sealed with the user's own secret."""
    folder = make_ledger(tmp_path / "ledger")
    out = tmp_path / "out"
    code, _, files = built(folder, out)
    assert code == 0
    index = files["index.html"].decode()
    assert "INV-2026-0001" in index
    secret = cache.cache_secret(folder, create=False)
    shards = sorted((folder / persist.STATE_DIR).glob("rows-all-*.pickle"))
    assert shards

    def rewrite(seal_with):
        for path in shards:
            name = path.name[:-len(".pickle")]
            fmt, key, table = cache.loads(cache.unseal(secret, name, path.read_bytes()))
            table = {k: v.replace("INV-2026-0001", "INV-PLANTED") for k, v in table.items()}
            path.write_bytes(cache.seal(seal_with, name, cache.dumps((fmt, key, table))))

    rewrite(b"x" * cache.KEY_BYTES)  # another secret: not believed, the rows are rendered again
    code, _, files = built(folder, out, "--force")
    assert code == 0 and "INV-PLANTED" not in files["index.html"].decode()
    assert files["index.html"].decode() == index
    shards = sorted((folder / persist.STATE_DIR).glob("rows-all-*.pickle"))
    rewrite(secret)  # the user's own seal: the stored rows are what the page shows
    code, _, files = built(folder, out, "--force")
    assert code == 0 and "INV-PLANTED" in files["index.html"].decode()


def test_an_earlier_versions_tables_are_removed(tmp_path):
    """Entries of names this version never writes (the whole tables before they were split) go
    at the next write; an unused entry of a current name stays (another branch may use it)."""
    folder = make_ledger(tmp_path / "ledger")
    new_process(folder)
    state = folder / persist.STATE_DIR
    old = [state / "json-all.pickle", state / "digests-all.pickle",
           state / "json-all-0.pickle",  # model.json's parts in sixteen shards, before 256
           state / f"grammar-{'0' * 64}.pickle"]  # the grammar's tables, now shipped with textbill
    kept = state / f"plan-all-{'0' if not (state / 'plan-all-0.pickle').exists() else 'f'}.pickle"
    for path in [*old, kept]:
        path.write_bytes(b"x" * 100)
    new_process(folder)  # nothing written: nothing pruned either
    assert all(p.exists() for p in old)
    edit_duration(folder)
    new_process(folder)
    assert [p.exists() for p in old] == [False] * len(old)
    assert kept.exists()


class _Store:
    """A StateStore's load and save, in memory."""

    def __init__(self):
        self.entries, self.saved = {}, []

    def load(self, kind, key):
        return self.entries.get((kind, key))

    def save(self, kind, key, value):
        self.entries[(kind, key)] = value
        self.saved.append(key)


@pytest.mark.parametrize("digits", [1, 2])
def test_a_sharded_table_rewrites_only_the_shards_of_the_values_that_changed(digits):
    names = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(5000)]  # some in every shard
    store = _Store()
    table = persist.ShardedTable("json", digits)
    table.open(store)
    for name in names:
        table.use(name, "v1")
    table.close(store)
    assert sorted(store.saved) == [f"all-{i:0{digits}x}" for i in range(16 ** digits)]
    again = persist.ShardedTable("json", digits)  # a new process
    again.open(store)
    assert all(again.get(name) == "v1" for name in names)
    store.saved.clear()
    changed = names[:3]
    for name in names:
        again.use(name, "v2" if name in changed else "v1")
    again.close(store)
    assert sorted(store.saved) == sorted({f"all-{name[:digits]}" for name in changed})
    third = persist.ShardedTable("json", digits)
    third.open(store)
    assert [third.get(name) for name in names] == ["v2" if name in changed else "v1" for name in names]


def test_model_json_parts_are_kept_in_256_shards():
    assert persist.Persistence().json.table.digits == 2


def test_no_run_drops_the_tables_it_does_not_read():
    """A check reads no build's tables, and a build's analysis prunes before the build reads
    them: the unused entries kept must outnumber every name the tables have."""
    p = persist.Persistence()
    tables = [p.digests.table, p.plan.table, p.json.table, p.rows.table]
    assert 1 + sum(16 ** t.digits for t in tables) <= persist.MAX_UNUSED  # books-all and the shards


def test_a_check_after_an_edit_prunes_the_unused_tables_beyond_the_limit(tmp_path, monkeypatch):
    """The other side: with a limit below the names a build writes, a check that writes drops them."""
    folder = make_ledger(tmp_path / "ledger")
    out = tmp_path / "out"

    def edit():  # new bytes, the same books: the invoices' records are written again, then pruned
        with (folder / "entries.bill").open("a", encoding="utf-8") as f:
            f.write("; a comment\n")

    assert built(folder, out)[0] == 0
    state = folder / persist.STATE_DIR
    shards = sorted(p.name for p in state.glob("json-all-*.pickle"))
    assert shards
    edit()
    monkeypatch.setattr(persist, "MAX_UNUSED", 1)
    new_process(folder)
    assert len(list(state.glob("json-all-*.pickle"))) <= 1
    monkeypatch.setattr(persist, "MAX_UNUSED", 1024)
    assert built(folder, out)[0] == 0
    shards = sorted(p.name for p in state.glob("json-all-*.pickle"))  # the new tokens' (the edit re-keyed them)
    assert shards
    edit()
    new_process(folder)
    assert sorted(p.name for p in state.glob("json-all-*.pickle")) == shards


TWO_CLIENTS = """
    client globex "Globex"
      currency USD
    client initech "Initech"
      currency USD
    sow globex/web "Web"
      period 2026-01-01 .. 2026-12-31
      hourly 100.00
    sow initech/ops "Ops"
      period 2026-01-01 .. 2026-12-31
      hourly 80.00
    2026-01-05 time globex/web 2h "Kickoff"
    2026-01-06 time initech/ops 3h "Audit"
    2026-01-07 time globex/web 1h "Review"
    2026-01-08 time initech/ops 1h "Patch"
    2026-01-31 invoice INV-2026-0001 globex
      period 2026-01-01 .. 2026-01-31
    2026-01-31 invoice INV-2026-0002 initech
      period 2026-01-01 .. 2026-01-31
"""


def test_an_edited_entry_recomputes_its_invoice_not_every_invoice_of_its_file(tmp_path):
    """A node's token is what it is parsed from (its text and place), not its file's key: the
    invoice that reads an edited entry is computed again, the other one of the same file is read
    back.  Lines added above an entry move it, and so change its token (and its diagnostics' places)."""
    folder = write_ledger(tmp_path / "ledger", TWO_CLIENTS)
    (_, before), _ = new_process(folder)
    bill = folder / "ledger.bill"
    bill.write_text(bill.read_text(encoding="utf-8").replace('3h "Audit"', '4h "Audit"'), encoding="utf-8")
    found, persistence = new_process(folder)
    assert found == fresh(folder)
    assert persistence.books.revived == 1  # Globex's invoice; Initech's is computed again
    assert found[1]["INV-2026-0001"] == before["INV-2026-0001"] and found[1]["INV-2026-0002"] != before["INV-2026-0002"]
    found, persistence = new_process(folder)  # nothing changed
    assert found == fresh(folder) and persistence.books.revived == 2
    # an indented line of a block (its span names its first line only): Initech's rate
    bill.write_text(bill.read_text(encoding="utf-8").replace("hourly 80.00", "hourly 90.00"), encoding="utf-8")
    found, persistence = new_process(folder)
    assert found == fresh(folder) and persistence.books.revived == 1
    assert found[1]["INV-2026-0002"] != before["INV-2026-0002"]
    # a line added at the top moves every node below it: nothing is read back, all is as fresh
    bill.write_text("; a note\n" + bill.read_text(encoding="utf-8"), encoding="utf-8")
    found, persistence = new_process(folder)
    assert found == fresh(folder)
    assert persistence.books.revived == 0
    # a line added below the entries moves only the invoices: each is computed again, and found
    # again by the next process
    text = bill.read_text(encoding="utf-8")
    assert text.count("2026-01-31 invoice INV-2026-0001") == 1
    bill.write_text(text.replace("2026-01-31 invoice INV-2026-0001", "; billed\n2026-01-31 invoice INV-2026-0001"),
                    encoding="utf-8")
    found, persistence = new_process(folder)
    assert found == fresh(folder) and persistence.books.revived == 0
    found, persistence = new_process(folder)
    assert found == fresh(folder) and persistence.books.revived == 2


def test_node_tokens_are_the_text_and_place_of_each_directive():
    """A block's token covers its indented lines (its span names its first line only), up to the
    next directive."""
    def nodes(file, *lines):
        return [type("N", (), {"span": Span(file, line, 1, line, 5)})() for line in lines]

    text = 'client x "X"\n  currency USD\n; a note\n2026-01-05 time x/y 1h\n'
    first = persist.node_tokens_of(nodes("a.bill", 1, 4), text, "a.bill")
    assert first is not None and len(set(first)) == 2
    assert persist.node_tokens_of(nodes("a.bill", 1, 4), text, "a.bill") == first  # a pure function of its inputs
    edited = persist.node_tokens_of(nodes("a.bill", 1, 4), text.replace("USD", "EUR"), "a.bill")
    assert edited[0] != first[0] and edited[1] == first[1]  # the block whose indented line changed
    noted = persist.node_tokens_of(nodes("a.bill", 1, 4), text.replace("a note", "another"), "a.bill")
    assert noted[0] != first[0] and noted[1] == first[1]  # what lies between the two: the first one's
    assert persist.node_tokens_of(nodes("a.bill", 1, 4), text, "b.bill") is None  # nodes of another file
    assert set(persist.node_tokens_of(nodes("b.bill", 1, 4), text, "b.bill")).isdisjoint(first)  # the name counts
    moved = persist.node_tokens_of(nodes("a.bill", 2, 5), "\n" + text, "a.bill")
    assert set(moved).isdisjoint(first)  # and the place
    assert persist.node_tokens_of(nodes("a.bill", 1, 4), None, "a.bill") is None


def test_the_tokens_of_a_file_as_it_was_are_removed(tmp_path):
    folder = write_ledger(tmp_path / "ledger", TWO_CLIENTS)
    new_process(folder)
    state = folder / persist.STATE_DIR
    before = sorted(p.name for p in state.glob("tokens-*.pickle"))
    assert len(before) == len(list(folder.glob("*.bill")))  # one entry per file
    bill = folder / "ledger.bill"
    bill.write_text(bill.read_text(encoding="utf-8").replace('3h "Audit"', '4h "Audit"'), encoding="utf-8")
    new_process(folder)
    after = sorted(p.name for p in state.glob("tokens-*.pickle"))
    assert len(after) == len(before) and after != before  # the edited file's new tokens, not its old ones


def test_a_new_process_reads_back_the_lock_as_an_earlier_one_parsed_it(tmp_path, monkeypatch):
    """textbill.lock parsed once per text (.textbill/state/lockparse-KEY): a new process with the same
    lock finds the same entries and problems without parsing it; an edited lock is parsed again,
    and its old parse removed."""
    folder = make_ledger(tmp_path / "ledger")
    lock = folder / "textbill.lock"
    lock.write_text(lock.read_text(encoding="utf-8") + "not a lock line\n", encoding="utf-8")  # an E173 too
    parsed = []
    real = locks.parse_lock
    monkeypatch.setattr(locks, "parse_lock", lambda text, name: (parsed.append(name), real(text, name))[1])

    def parses(run) -> int:
        before = len(parsed)
        run()
        return len(parsed) - before

    assert parses(lambda: new_process(folder)) == 1
    expected = fresh(folder)
    assert "E173" in [code for code, _, _ in expected[0]]
    state = folder / persist.STATE_DIR
    kept = sorted(state.glob(f"{locks.LOCK_PARSE}-*.pickle"))
    assert len(kept) == 1
    workspace = Workspace()
    assert parses(lambda: analyze(folder, workspace=workspace, _check_cache=False)) == 0  # read back
    assert new_process(folder)[0] == expected
    read = locks.read_lock(folder)  # parsed here: the entries themselves, `l:` records included
    _, entries, problems = workspace.lock_parse
    assert entries == read.entries and problems == read.problems
    assert [e.lines for e in entries.values()] == [e.lines for e in read.entries.values()]
    assert any(e.lines for e in entries.values())
    drop_lock_line(folder)
    assert parses(lambda: new_process(folder)) == 1
    assert new_process(folder)[0] == fresh(folder)
    now = sorted(state.glob(f"{locks.LOCK_PARSE}-*.pickle"))
    assert len(now) == 1 and now != kept  # the old text's parse is removed


def test_a_long_lived_workspace_computes_again_the_invoices_it_holds(tmp_path):
    """The watch's workspace holds every invoice of its last analysis.  After an edit, the other
    invoice of the edited file (its directives are new objects, their tokens the same) is computed
    again with its lines, not read back: a document read back computes the whole ledger's lines
    when a page first asks for them.  A new process reads it back."""
    folder = write_ledger(tmp_path / "ledger", TWO_CLIENTS)
    workspace = Workspace()
    workspace.remember(folder)  # as the watch keeps it
    workspace.books_memo = BooksMemo()
    analyze(folder, workspace=workspace, _check_cache=False)
    bill = folder / "ledger.bill"
    bill.write_text(bill.read_text(encoding="utf-8").replace('3h "Audit"', '4h "Audit"'), encoding="utf-8")
    analysis = analyze(folder, workspace=workspace, _check_cache=False)
    books = workspace.persistence.books
    assert books.revived == 0 and not books.lines_computed
    assert outcome(analysis) == fresh(folder)
    _, persistence = new_process(folder)
    assert persistence.books.revived == 2
