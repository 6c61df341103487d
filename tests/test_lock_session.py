"""The lock check in a long-lived process (watch): a locked document whose computed object is the
very one of the previous analysis (incremental.books_memo.BooksMemo) keeps its digest instead of hashing
its canonical content again.  Whatever is reused, the diagnostics must be those of a fresh check."""
from __future__ import annotations

import pytest
from conftest import cli
from test_lock import BASE, edit

from textbill.checks import locks as lockfile
from textbill.incremental.books_memo import BooksMemo
from textbill.incremental.workspace import Workspace
from textbill.pipeline import analyze

# February in a file of its own, as people keep their months: an edit there leaves the company,
# the client, the SOW and January's entries the objects they were
FEBRUARY = (
    '2026-02-03 time globex/web 3h "Sprint"\n'
    "2026-02-28 invoice INV-2026-0002 globex\n"
    "  period 2026-02-01 .. 2026-02-28\n"
)


@pytest.fixture
def session(ledger, monkeypatch):
    folder = ledger(BASE)
    (folder / "february.bill").write_text(FEBRUARY, encoding="utf-8")
    assert cli("lock", "-f", folder).code == 0
    hashed: list[str] = []
    real = lockfile.invoice_digest

    def counting(doc, company):
        hashed.append(doc.number)
        return real(doc, company)

    monkeypatch.setattr(lockfile, "invoice_digest", counting)
    workspace = Workspace()
    workspace.remember(folder)
    workspace.books_memo = BooksMemo()

    def check():
        hashed.clear()
        a = analyze(folder, workspace=workspace, _check_cache=False)
        return sorted((d.code, d.message.split("'")[1]) for d in a.diagnostics), sorted(set(hashed))

    yield folder, check


def fresh(folder):
    r = cli("check", folder, "--no-cache", "--format", "json")
    return r.code, sorted((d["code"], d["message"].split("'")[1]) for d in r.json()["diagnostics"])


def test_unchanged_documents_are_not_hashed_again(session):
    folder, check = session
    assert check() == ([], ["INV-2026-0001", "INV-2026-0002"])
    assert check() == ([], [])  # the same objects: the digests of the last check
    edit(folder / "february.bill", '3h "Sprint"', '3h15m "Sprint"')
    diags, hashed = check()
    assert diags == [("E170", "INV-2026-0002")]
    assert hashed == ["INV-2026-0002"]  # only the document computed again
    assert fresh(folder) == (1, [("E170", "INV-2026-0002")])
    edit(folder / "february.bill", '3h15m "Sprint"', '3h "Sprint"')
    assert check()[0] == []
    assert fresh(folder) == (0, [])


def test_a_company_change_hashes_every_document_again(session):
    folder, check = session
    assert check()[0] == []
    edit(folder / "ledger.bill", 'company acme "Acme Consulting"', 'company acme "Acme Consulting Ltd"')
    diags, hashed = check()
    # not a change of an issued document: each keeps the company's details recorded at issue
    # (tests/test_party_details.py), but each is compared again, against those details
    assert diags == []
    assert hashed == ["INV-2026-0001", "INV-2026-0002"]
    edit(folder / "ledger.bill", 'company acme "Acme Consulting Ltd"', 'company acme "Acme Consulting"')
    assert check()[0] == []
