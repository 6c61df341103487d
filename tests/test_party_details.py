"""An issued document keeps the party details textbill.lock recorded for it (LANGUAGE.md sections 3 and 6).

A client's move (or new name, tax id, e-mail) after an invoice was locked changes no issued
document: `check` reports nothing, and the old invoice still renders with the old address while
documents issued after the edit use the new one.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from conftest import cli

from textbill.checks.locks import read_lock

LEDGER = """
    client globex "Globex Ltd"
      currency USD
      country US  ; issue 21: build writes no UBL without the buyer's country (BR-11)
      address "1 Old Street, Springfield"
      tax-id "US-111"
      email "ap@old.example"
    sow globex/web "Web"
      period 2026-01-01 .. 2026-12-31
      hourly 100.00
      schedule monthly
    2026-01-05 time globex/web 2h "Kickoff"
    2026-01-31 invoice INV-2026-0001 globex
      period 2026-01-01 .. 2026-01-31
"""

SECOND = """
2026-02-05 time globex/web 3h "Design"
2026-02-28 invoice INV-2026-0002 globex
  period 2026-02-01 .. 2026-02-28
"""


def _move(bill: Path) -> None:
    text = bill.read_text()
    for old, new in (('"1 Old Street, Springfield"', '"99 New Avenue, Shelbyville"'),
                     ('"Globex Ltd"', '"Globex Holdings"'), ('"US-111"', '"US-222"')):
        assert old in text
        text = text.replace(old, new)
    bill.write_text(text)


def _codes(folder: Path, *extra: str) -> list[str]:
    r = cli("check", folder, "--format", "json", *extra)
    return [d["code"] for d in r.json()["diagnostics"]]


def test_the_lock_records_each_documents_party_details(ledger):
    folder = ledger(LEDGER)
    assert cli("lock", "-f", folder).code == 0
    entry = read_lock(folder).entries["INV-2026-0001"]
    assert entry.parties["b"]["address"] == "1 Old Street, Springfield"
    assert entry.parties["b"]["tax_id"] == "US-111" and entry.parties["b"]["email"] == "ap@old.example"
    assert entry.parties["s"]["name"]  # the company's details too


def test_a_clients_move_reissues_nothing_and_old_documents_keep_the_old_address(ledger, tmp_path):
    folder = ledger(LEDGER)
    assert cli("lock", "-f", folder).code == 0
    bill = folder / "ledger.bill"
    _move(bill)
    bill.write_text(bill.read_text() + SECOND)
    assert cli("lock", "-f", folder).code == 0
    for extra in ((), ("--no-cache",)):
        assert _codes(folder, *extra) == []  # no E170 for the old invoice
    out = tmp_path / "out"
    r = cli("build", "-f", folder, "--out", out, "--format", "html", "-j", "1")
    assert r.code == 0, r
    old = next(out.rglob("INV-2026-0001*.html")).read_text()
    new = next(out.rglob("INV-2026-0002*.html")).read_text()
    assert "1 Old Street" in old and "New Avenue" not in old
    assert "Globex Ltd" in old and "US-111" in old
    assert "99 New Avenue" in new and "Old Street" not in new
    assert "Globex Holdings" in new and "US-222" in new


def test_a_real_change_of_a_locked_invoice_is_still_caught(ledger):
    folder = ledger(LEDGER)
    assert cli("lock", "-f", folder).code == 0
    bill = folder / "ledger.bill"
    _move(bill)
    bill.write_text(bill.read_text().replace(" 2h ", " 4h "))
    assert _codes(folder) == ["E170"]


def test_an_old_lock_without_party_details_still_reads_and_gets_them_from_the_next_lock(ledger):
    folder = ledger(LEDGER)
    assert cli("lock", "-f", folder).code == 0
    lock = folder / "textbill.lock"
    text = lock.read_text()
    old_format = "\n".join(ln if ln.startswith("#") else " ".join(t for t in ln.split(" ") if not t.startswith("p:"))
                           for ln in text.split("\n"))
    assert old_format != text
    lock.write_text(old_format)
    assert read_lock(folder).entries["INV-2026-0001"].parties is None
    assert _codes(folder) == []
    # without recorded details a move is a change of the locked invoice, as it always was
    bill = folder / "ledger.bill"
    before = bill.read_text()
    _move(bill)
    assert _codes(folder) == ["E170"]
    # the next 'textbill lock' of an unchanged ledger records them, keeping every other byte
    bill.write_text(before)
    r = cli("lock", "-f", folder)
    assert r.code == 0, r
    assert lock.read_text() == text
    _move(bill)
    assert _codes(folder) == []


def test_the_example_ledgers_lock_still_reads(tmp_path):
    example = Path(__file__).parents[1] / "example-ledger"
    folder = tmp_path / "example"
    shutil.copytree(example, folder, ignore=shutil.ignore_patterns(".textbill", "build"))
    lock = read_lock(folder)
    assert lock.problems == [] and lock.entries
    assert _codes(folder) == []
    assert cli("lock", "-f", folder).code == 0
    after = read_lock(folder)
    assert after.problems == [] and all(e.parties is not None for e in after.entries.values())
    assert _codes(folder) == []


def test_credit_notes_and_e_invoices_keep_the_details_they_were_issued_with(ledger, tmp_path):
    # a credit note locked before the move keeps the old buyer; one issued after it shows the new
    folder = ledger(LEDGER + """
    2026-02-10 credit-note CN-2026-0001 for INV-2026-0001 50.00 "Goodwill"
    """)
    assert cli("lock", "-f", folder).code == 0
    bill = folder / "ledger.bill"
    _move(bill)
    bill.write_text(bill.read_text() + '2026-03-10 credit-note CN-2026-0002 for INV-2026-0001 20.00 "More"\n')
    assert cli("lock", "-f", folder).code == 0
    assert _codes(folder) == []
    out = tmp_path / "out"
    r = cli("build", "-f", folder, "--out", out, "--format", "html,ubl", "-j", "1")
    assert r.code == 0, r
    first = next(out.rglob("CN-2026-0001*.html")).read_text()
    second = next(out.rglob("CN-2026-0002*.html")).read_text()
    assert "1 Old Street" in first and "New Avenue" not in first
    assert "99 New Avenue" in second and "Old Street" not in second
    ubl = next(p for p in out.rglob("INV-2026-0001*") if p.suffix == ".xml").read_text()
    assert "Globex Ltd" in ubl and "US-111" in ubl and "Globex Holdings" not in ubl


def test_a_watch_gets_the_same_document_objects_back_while_nothing_changed(ledger):
    from textbill import pipeline
    from textbill.incremental.books_memo import BooksMemo
    from textbill.incremental.workspace import Workspace

    folder = ledger(LEDGER)
    assert cli("lock", "-f", folder).code == 0
    _move(folder / "ledger.bill")
    workspace = Workspace()
    workspace.remember(folder)
    workspace.books_memo = BooksMemo()  # as the watch keeps it
    first = pipeline.analyze(folder, workspace=workspace, _check_cache=False)
    again = pipeline.analyze(folder, workspace=workspace, _check_cache=False)
    doc = first.books.invoices["INV-2026-0001"]
    assert doc.client.address == "1 Old Street, Springfield"
    assert again.books.invoices["INV-2026-0001"] is doc
    assert first.diagnostics == again.diagnostics == []


def test_a_reminder_for_an_old_invoice_goes_to_the_clients_current_address(tmp_path):
    """A reminder is a letter of today: it is addressed with the details the ledger has now, while the
    invoice it is about keeps the details it was issued with."""
    import email
    from email import policy

    from conftest import write_ledger

    folder = write_ledger(tmp_path / "l", """
        company acme "Acme"
          email billing@acme.example
          currency USD
        reminders standard
          step +7d "friendly"
        client globex "Globex Ltd"
          email ap@old.example
          address "1 Old Street"
        2026-01-31 invoice INV-2026-0001 globex
          item "Work" 1 x 100.00
    """, company=False)
    assert cli("lock", "-f", folder).code == 0
    bill = folder / "ledger.bill"
    bill.write_text(bill.read_text().replace("ap@old.example", "ap@new.example")
                    .replace('"1 Old Street"', '"2 New Street"'))
    assert "E170" not in _codes(folder)
    out = tmp_path / "out"
    r = cli("remind", "-f", folder, "--as-of", "2026-03-15", "--out", out)
    assert r.code == 0, r
    (eml,) = out.glob("*.eml")
    msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert [a.addr_spec for a in msg["To"].addresses] == ["ap@new.example"]


def test_a_companys_move_reissues_nothing_and_old_documents_keep_the_old_seller(tmp_path):
    """The seller is a party too: the company's new address is on documents issued after the move,
    the old one on those issued before (HTML and UBL alike)."""
    from conftest import write_ledger

    folder = write_ledger(tmp_path / "l", """
        company acme "Acme Consulting"
          address "7 Old Mill Road"
          country DE
          tax-id "DE111111111"
          email billing@acme.example
          currency EUR
        client globex "Globex GmbH"
          address "1 Globex Way"
          country DE
          tax-id "DE222222222"
          email ap@globex.example
        2026-01-31 invoice INV-2026-0001 globex
          item "Work" 1 x 100.00
    """, company=False, config="formats: [html, ubl]\n")
    assert cli("lock", "-f", folder).code == 0
    bill = folder / "ledger.bill"
    text = bill.read_text().replace('"7 Old Mill Road"', '"9 New Harbour Street"')
    bill.write_text(text.replace('"Acme Consulting"', '"Acme Consulting GmbH"') + """
2026-02-28 invoice INV-2026-0002 globex
  item "Work" 1 x 200.00
""")
    assert cli("lock", "-f", folder).code == 0
    for extra in ((), ("--no-cache",)):
        assert "E170" not in _codes(folder, *extra)
    out = tmp_path / "out"
    r = cli("build", "-f", folder, "--out", out, "-j", "1")
    assert r.code == 0, r
    old = next(out.rglob("INV-2026-0001*.html")).read_text()
    new = next(out.rglob("INV-2026-0002*.html")).read_text()
    assert "7 Old Mill Road" in old and "New Harbour" not in old and "Acme Consulting GmbH" not in old
    assert "9 New Harbour Street" in new and "Old Mill" not in new and "Acme Consulting GmbH" in new
    old_ubl = next(out.rglob("INV-2026-0001*.ubl.xml")).read_text()
    new_ubl = next(out.rglob("INV-2026-0002*.ubl.xml")).read_text()
    assert "Old Mill Road" in old_ubl and "New Harbour" not in old_ubl
    assert "<cbc:RegistrationName>Acme Consulting</cbc:RegistrationName>" in old_ubl
    assert "New Harbour Street" in new_ubl and "Acme Consulting GmbH" in new_ubl
