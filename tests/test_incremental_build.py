"""A watch session builds again and again in one process, keeping what it can: parsed nodes,
computed invoices, document digests, statements, model.json parts, dashboard pages.  After any
sequence of edits its output must be byte for byte what a fresh process writes from scratch."""
from __future__ import annotations

import random
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledgergen import generate
from test_incremental_engine import edit, split, write

from textbill.building.manifest import MANIFEST
from textbill.building.run import build
from textbill.building.spec import BuildError
from textbill.incremental.books_memo import BooksMemo
from textbill.incremental.workspace import Workspace
from textbill.pipeline import analyze

SETTINGS = settings(max_examples=15, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
AS_OF = date(2026, 4, 20)


def session_workspace(ledger: Path) -> Workspace:
    """A watch's workspace: parsed nodes, computed invoices and every build memo kept."""
    workspace = Workspace()
    workspace.remember(ledger)
    workspace.books_memo = BooksMemo()
    return workspace


def outputs(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in (MANIFEST, ".textbill-build.lock")}


def fresh(ledger: Path, out: Path) -> dict[str, bytes] | None:
    """A build as a new process makes it: a fresh Workspace, which holds every memo."""
    try:
        build(analyze(ledger, cache=False, workspace=Workspace()), out, AS_OF, formats=("html", "json"), jobs=1,
              workspace=Workspace())
        return outputs(out)
    except BuildError:
        return None


@SETTINGS
@given(seed=st.integers(0, 10_000), steps=st.lists(st.integers(0, 2 ** 32), min_size=1, max_size=4),
       layout=st.sampled_from(["in turn", "by-client"]))
def test_a_session_writes_what_a_fresh_build_writes(tmp_path_factory, seed, steps, layout):
    work = tmp_path_factory.mktemp("session")
    ledger = work / "ledger"
    ledger.mkdir()
    files = split(generate(seed), layout)
    write(ledger, files)
    workspace = session_workspace(ledger)
    try:
        done = []
        for i, step in enumerate([None, *steps]):
            if step is not None:
                done.append(edit(files, random.Random(step)))
                write(ledger, files)
            try:
                build(analyze(ledger, workspace=workspace, _check_cache=False), work / "session", AS_OF,
                      formats=("html", "json"), jobs=1, workspace=workspace)
                session = outputs(work / "session")
            except BuildError:
                session = None
            expected = fresh(ledger, work / f"fresh{i}")
            assert session == expected, done
    finally:
        workspace.close()


def test_the_example_ledger_after_edits(tmp_path):
    import shutil

    example = Path(__file__).resolve().parent.parent / "example-ledger"
    ledger = tmp_path / "ledger"
    shutil.copytree(example, ledger, ignore=shutil.ignore_patterns("build", ".textbill"))
    workspace = session_workspace(ledger)
    bill = ledger / "clients" / "globex.bill"
    try:
        text = bill.read_text()
        for i, duration in enumerate(["2h", "3h15m", "45m", "3h15m"]):
            bill.write_text(text + f'\n2026-04-07 time globex/web-2026 {duration} "New work"\n')
            build(analyze(ledger, workspace=workspace, _check_cache=False), tmp_path / "session", AS_OF,
                  formats=("html", "json"), jobs=1, workspace=workspace)
            assert outputs(tmp_path / "session") == fresh(ledger, tmp_path / f"fresh{i}")
    finally:
        workspace.close()


def session_matches_fresh(tmp_path, files: dict[str, str], edits: list[tuple[str, str, str]]) -> None:
    """Build, then after each (file, old, new) edit build again: always what a fresh build writes."""
    ledger = tmp_path / "ledger"
    ledger.mkdir()
    for name, text in files.items():
        (ledger / name).write_text(text)
    workspace = session_workspace(ledger)
    try:
        for i, change in enumerate([None, *edits]):
            if change is not None:
                name, old, new = change
                text = (ledger / name).read_text()
                assert old in text
                (ledger / name).write_text(text.replace(old, new))
            build(analyze(ledger, workspace=workspace, _check_cache=False), tmp_path / "session", AS_OF,
                  formats=("html", "json"), jobs=1, workspace=workspace)
            assert outputs(tmp_path / "session") == fresh(ledger, tmp_path / f"fresh{i}"), change
    finally:
        workspace.close()


CLIENTS = """company me "Me Ltd"
  currency USD

client acme "Acme"
  currency USD

sow acme/web "Web"
  period 2026-01-01 .. 2026-12-31
  hourly 100.00 USD
  cap 100h

client other "Other Co"
  currency USD

sow other/x "X"
  period 2026-01-01 .. 2026-12-31
  fixed 1000.00 USD
"""
WORK = """2026-01-05 time acme/web 2h "Design"
2026-03-02 time acme/web 3h "Later work"
2026-01-10 done other/x "complete"
"""
INVOICES = """2026-01-31 invoice INV-2026-0001 acme
  period 2026-01-01 .. 2026-01-31

2026-01-31 invoice INV-2026-0002 other
  period 2026-01-01 .. 2026-01-31

2026-02-15 payment acme 50.00 for INV-2026-0001 via card
2026-02-20 credit-note CN-2026-0001 for INV-2026-0002 100.00 "Goodwill"
"""


def test_what_a_client_page_shows_from_other_files(tmp_path):
    session_matches_fresh(tmp_path, {"clients.bill": CLIENTS, "work.bill": WORK, "invoices.bill": INVOICES}, [
        ("work.bill", "3h", "5h"),  # unbilled work: only the SOW's budget changes
        ("clients.bill", '"Other Co"', '"Other Company"'),  # every page names every client
        ("invoices.bill", "via card", "via bank-transfer"),  # a payment's detail, not its amount
        ("invoices.bill", '"Goodwill"', '"Goodwill gesture"'),  # a credit note's reason
        ("invoices.bill", "50.00 for", "5000.00 for"),  # an overpayment: client credit
    ])
