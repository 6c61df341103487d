"""Issued documents are immutable: textbill.lock and the checks against it (docs/language.md, "Issued documents are immutable")."""
from __future__ import annotations

import json
import re

from conftest import cli

from textbill.checks.locks import read_lock

BASE = """
    client globex "Globex"
      currency USD
      tax VAT 10%
    sow globex/web "Web"
      period 2026-01-01 .. 2026-12-31
      hourly 100.00
      increment 15m
      schedule monthly
    2026-01-05 time globex/web 2h "Kickoff"
    2026-01-06 time globex/web 09:00-12:30 "Wireframes"
    2026-01-31 invoice INV-2026-0001 globex
      period 2026-01-01 .. 2026-01-31
"""  # 5.5h x 100 = 550.00 + 10% VAT = 605.00


def line_of(path, text: str) -> int:
    lines = path.read_text().split("\n")
    return next(i for i, ln in enumerate(lines, 1) if text in ln)


def edit(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def check_json(folder):
    r = cli("check", folder, "--format", "json")
    return r.code, r.json()["diagnostics"]


def test_unlocked_documents_are_warnings(ledger):
    folder = ledger(BASE)
    code, diags = check_json(folder)
    assert code == 0
    assert [(d["code"], d["severity"]) for d in diags] == [("W172", "warning")]
    assert "INV-2026-0001" in diags[0]["message"] and "not locked" in diags[0]["message"]
    assert diags[0]["line"] == line_of(folder / "ledger.bill", "invoice INV-2026-0001")


def test_lock_writes_one_line_per_document_and_is_idempotent(ledger):
    folder = ledger(BASE + """
    2026-02-10 credit-note CN-2026-0001 for INV-2026-0001 55.00 "Goodwill"
    """)
    r = cli("lock", "-f", folder)
    assert r.code == 0, r
    text = (folder / "textbill.lock").read_text()
    body = [ln for ln in text.splitlines() if not ln.startswith("#")]
    assert len(body) == 2
    assert body[0].startswith("INV-2026-0001 invoice 2026-01-31 globex 605.00 USD sha256:")
    assert body[1].startswith("CN-2026-0001 credit-note 2026-02-10 globex 55.00 USD sha256:")
    assert check_json(folder) == (0, [])
    r = cli("lock", "-f", folder)
    assert r.code == 0 and "nothing to lock" in r.err
    assert (folder / "textbill.lock").read_text() == text


def test_editing_a_billed_time_entry_is_an_error_naming_invoice_totals_and_entry(ledger):
    folder = ledger(BASE)
    assert cli("lock", "-f", folder).code == 0
    bill = folder / "ledger.bill"
    edit(bill, "09:00-12:30", "09:00-13:30")  # 6.5h -> 650.00 + 65.00 = 715.00
    where = line_of(bill, '"Wireframes"')
    r = cli("check", folder)
    assert r.code == 1
    assert "error[E170]" in r.err
    assert "INV-2026-0001" in r.err
    assert "605.00 USD" in r.err and "715.00 USD" in r.err
    assert f"ledger.bill:{where}:1: error[E170]" in r.err  # the caret is on the edited entry
    assert "the time entry of 2026-01-06 changed" in r.err
    # and every command that needs a valid ledger refuses
    assert cli("invoices", "-f", folder).code == 1
    # undoing the edit makes it clean again
    edit(bill, "09:00-13:30", "09:00-12:30")
    assert check_json(folder) == (0, [])


def test_a_changed_rate_points_at_the_sow_pricing_line(ledger):
    folder = ledger(BASE)
    cli("lock", "-f", folder)
    bill = folder / "ledger.bill"
    edit(bill, "hourly 100.00", "hourly 120.00")
    code, diags = check_json(folder)
    assert code == 1
    (d,) = diags
    assert d["code"] == "E170"
    assert d["line"] == line_of(bill, "hourly 120.00")
    assert "605.00 USD" in d["message"] and "726.00 USD" in d["message"]
    assert "terms of SOW 'globex/web'" in d["message"]


def test_a_new_entry_in_a_locked_period_is_named(ledger):
    folder = ledger(BASE)
    cli("lock", "-f", folder)
    bill = folder / "ledger.bill"
    bill.write_text(bill.read_text() + '2026-01-20 time globex/web 1h "Late addition"\n')
    code, diags = check_json(folder)
    assert code == 1
    assert diags[0]["code"] == "E170"
    assert diags[0]["line"] == line_of(bill, "Late addition")
    assert "715.00 USD" in diags[0]["message"]


def test_an_entry_made_nonbillable_is_named(ledger):
    folder = ledger(BASE)
    cli("lock", "-f", folder)
    bill = folder / "ledger.bill"
    edit(bill, '2h "Kickoff"', '2h "Kickoff" nonbillable')
    code, diags = check_json(folder)
    assert code == 1
    assert diags[0]["line"] == line_of(bill, '"Kickoff"')
    assert "now nonbillable" in diags[0]["message"]
    assert "385.00 USD" in diags[0]["message"]  # 3.5h -> 350 + 35


def test_a_deleted_entry_is_reported_on_the_invoice(ledger):
    folder = ledger(BASE)
    cli("lock", "-f", folder)
    bill = folder / "ledger.bill"
    edit(bill, '2026-01-05 time globex/web 2h "Kickoff"\n', "")
    code, diags = check_json(folder)
    assert code == 1
    assert diags[0]["line"] == line_of(bill, "invoice INV-2026-0001")
    assert "a line of 2026-01-05 it billed is gone" in diags[0]["message"]


def test_a_deleted_document_is_an_error_in_the_lock_file(ledger):
    folder = ledger(BASE)
    cli("lock", "-f", folder)
    bill = folder / "ledger.bill"
    edit(bill, "2026-01-31 invoice INV-2026-0001 globex\n  period 2026-01-01 .. 2026-01-31\n", "")
    code, diags = check_json(folder)
    assert code == 1
    (d,) = diags
    assert d["code"] == "E171" and d["file"].endswith("textbill.lock")
    assert "INV-2026-0001" in d["message"] and "605.00 USD" in d["message"]


def test_client_details_are_kept_from_the_lock_not_part_of_a_change(ledger):
    # LANGUAGE.md sections 3 and 6: an issued document keeps the party details textbill.lock
    # recorded for it, so renaming the client re-issues nothing (tests/test_party_details.py)
    folder = ledger(BASE)
    cli("lock", "-f", folder)
    bill = folder / "ledger.bill"
    edit(bill, 'client globex "Globex"', 'client globex "Globex Inc."')
    assert check_json(folder) == (0, [])


def test_company_details_are_kept_from_the_lock_not_part_of_a_change(ledger):
    # the company's details at issue are recorded too, and issued documents are drawn with them
    # (tests/test_party_details.py): renaming the company re-issues nothing
    folder = ledger(BASE)
    cli("lock", "-f", folder)
    bill = folder / "ledger.bill"
    edit(bill, 'company acme "Acme Consulting"', 'company acme "Acme Consulting Ltd"')
    assert check_json(folder) == (0, [])


def test_a_company_change_against_a_lock_without_party_details_is_named(ledger):
    # a lock written before party details were recorded compares the current company, and says so
    folder = ledger(BASE)
    cli("lock", "-f", folder)
    lock = folder / "textbill.lock"
    lock.write_text(re.sub(r" p:\S+", "", lock.read_text()))
    bill = folder / "ledger.bill"
    edit(bill, 'company acme "Acme Consulting"', 'company acme "Acme Consulting Ltd"')
    code, diags = check_json(folder)
    assert code == 1
    assert "still 605.00 USD" in diags[0]["message"]
    assert "the company's name, address or tax id changed" in diags[0]["message"]
    assert diags[0]["line"] == line_of(bill, "company acme")


def test_a_changed_credit_note_is_an_error(ledger):
    folder = ledger(BASE + """
    2026-02-10 credit-note CN-2026-0001 for INV-2026-0001 55.00 "Goodwill"
    """)
    cli("lock", "-f", folder)
    edit(folder / "ledger.bill", "55.00", "65.00")
    code, diags = check_json(folder)
    assert code == 1
    assert any(d["code"] == "E170" and "credit note 'CN-2026-0001'" in d["message"]
               and "55.00 USD" in d["message"] and "65.00 USD" in d["message"] for d in diags)


def test_new_documents_after_a_lock_are_warnings_until_locked(ledger):
    folder = ledger(BASE)
    cli("lock", "-f", folder)
    bill = folder / "ledger.bill"
    bill.write_text(bill.read_text() + "2026-02-28 invoice INV-2026-0002 globex\n")
    code, diags = check_json(folder)
    assert code == 0 and [d["code"] for d in diags] == ["W172"]
    before = (folder / "textbill.lock").read_text()
    assert cli("lock", "-f", folder).code == 0
    after = (folder / "textbill.lock").read_text()
    assert after.startswith(before)  # appended, old lines kept byte for byte
    assert after[len(before):].startswith("INV-2026-0002 invoice 2026-02-28 globex 0.00 USD")


def test_lock_refuses_a_ledger_with_errors(ledger):
    folder = ledger(BASE)
    cli("lock", "-f", folder)
    edit(folder / "ledger.bill", "09:00-12:30", "09:00-13:30")
    before = (folder / "textbill.lock").read_text()
    r = cli("lock", "-f", folder)
    assert r.code == 1 and "E170" in r.err
    assert (folder / "textbill.lock").read_text() == before


def test_the_digest_ignores_file_layout_and_order(tmp_path, ledger):
    folder = ledger(BASE)
    cli("lock", "-f", folder)
    locked = read_lock(folder).entries["INV-2026-0001"]
    # the same ledger, split over files in another order, with comments and other spacing
    other = tmp_path / "other"
    (other / "a").mkdir(parents=True)
    text = (folder / "ledger.bill").read_text()
    head, tail = text.split("2026-01-05", 1)
    (other / "z.bill").write_text(head)
    (other / "a" / "time.bill").write_text(";; time\n2026-01-05" + tail.replace(" time ", "   time "))
    (other / "textbill.lock").write_text((folder / "textbill.lock").read_text())
    assert check_json(other) == (0, [])
    assert read_lock(other).entries["INV-2026-0001"].sha256 == locked.sha256


def test_the_canonical_content_and_digest_are_pinned(ledger):
    """The canonical content must not drift between versions or machines: a changed digest here
    would turn every user's locked invoices into errors."""
    from textbill.checks.locks import _json, canonical_invoice
    from textbill.pipeline import analyze

    folder = ledger("""
    company acme "Acme"
      address "1 Main St"
      country US
      currency USD
      tax-id "US-1"
    """ + BASE, company=False)
    analysis = analyze(folder)
    content = canonical_invoice(analysis.books.invoices["INV-2026-0001"], analysis.ledger.company)
    assert _json(content).decode() == (
        '{"buyer":{"address":"","country":"","id":"globex","name":"Globex","tax_id":""},"currency":"USD",'
        '"date":"2026-01-31","due":"2026-03-02","groups":[{"allowances":"0.00","basis":"550.00",'
        '"charges":"0.00","net":"550.00","tax":"rate:VAT:10:","tax_amount":"55.00"}],"kind":"invoice",'
        '"lines":[{"amount":"200.00","date":"2026-01-05","description":"Kickoff","kind":"time",'
        '"quantity":"2","sow":"globex/web","tax":"rate:VAT:10:","unit":"h","unit_price":"100"},'
        '{"amount":"350.00","date":"2026-01-06","description":"Wireframes","kind":"time","quantity":"3.5",'
        '"sow":"globex/web","tax":"rate:VAT:10:","unit":"h","unit_price":"100"}],"net":"550.00",'
        '"notes":[],"number":"INV-2026-0001","period":["2026-01-01","2026-01-31"],"po":"",'
        '"seller":{"address":"1 Main St","country":"US","id":"acme","name":"Acme","tax_id":"US-1"},'
        '"sows":["globex/web"],"tax":"55.00","total":"605.00","v":1}')
    cli("lock", "-f", folder)
    assert read_lock(folder).entries["INV-2026-0001"].sha256 == PINNED


PINNED = "sha256:8c48b77e80190048e51b05d406798ab812e4ac4cc0fdcacc95822780e0994bb0"


def test_merge_conflict_markers_are_reported(ledger):
    folder = ledger(BASE)
    cli("lock", "-f", folder)
    lock = folder / "textbill.lock"
    lock.write_text(lock.read_text() + "<<<<<<< HEAD\nX\n=======\nY\n>>>>>>> other\n")
    code, diags = check_json(folder)
    assert code == 1 and diags[0]["code"] == "E174"


def test_a_garbled_lock_line_is_an_error(ledger):
    folder = ledger(BASE)
    cli("lock", "-f", folder)
    lock = folder / "textbill.lock"
    lock.write_text(lock.read_text() + "INV-2026-0009 invoice yesterday\n")
    code, diags = check_json(folder)
    assert code == 1 and diags[0]["code"] == "E173"


def test_lock_json_check_output_stays_one_document(ledger):
    folder = ledger(BASE)
    r = cli("check", folder, "--format", "json")
    assert json.loads(r.out)["warnings"] == 1


def test_a_syntax_error_does_not_cascade_into_lock_errors(ledger):
    folder = ledger(BASE)
    cli("lock", "-f", folder)
    edit(folder / "ledger.bill", '2026-01-05 time globex/web 2h "Kickoff"', '2026-01-05 time globex/web 2hh "Kickoff"')
    code, diags = check_json(folder)
    assert code == 1
    assert [d["code"] for d in diags if d["severity"] == "error"] != [] and "E170" not in {d["code"] for d in diags}


def test_lock_lines_round_trip_numbers_with_spaces_and_quotes():
    from textbill.checks.locks import Entry, LineRecord, parse_lock

    # digests of the lengths textbill writes (8 hex digits per part): a shorter one is a damaged line
    entry = Entry('FV 2026 "7"', "invoice", "2026-01-31", "c", "10.00", "USD", "sha256:" + "ab" * 32,
                  {"s": "11111111", "b": "22222222", "h": "33333333", "t": "44444444"},
                  (LineRecord("2026-01-05", "aaaaaa", "bbbbbb"), LineRecord("-", "cccccc", "dddddd")),
                  parties={"s": {"name": "Zażółć \"Co\"", "address": "1 St\nTown"},
                           "b": {"name": "C", "fields": [["KRS", "123"]]}})
    line = entry.format()
    assert line.startswith('"FV 2026 \\"7\\"" invoice 2026-01-31 c 10.00 USD sha256:')
    parsed, problems = parse_lock("# header\n" + line + "\n", "textbill.lock")
    assert problems == []
    got = parsed['FV 2026 "7"']
    assert (got.total, got.parts, got.lines, got.lineno) == ("10.00", entry.parts, entry.lines, 2)
    assert got.parties == entry.parties


def test_lock_line_records_are_read_from_their_place_in_the_text():
    import pickle

    from textbill.checks.locks import Entry, LineRecord, parse_lock

    records = tuple(LineRecord(f"2026-01-{d:02d}", f"{d:06x}", f"{d + 1:06x}") for d in range(1, 29))
    entries = [Entry(f"INV-{i}", "invoice", "2026-01-31", "c", "10.00", "USD", "sha256:" + f"{i:02x}" * 32,
                     {"s": "11111111", "t": "44444444"}, records[i:]) for i in range(3)]
    lines = [e.format() for e in entries]
    for text in ("# header\n" + "\n".join(lines) + "\n",  # as written
                 "# header\r\n" + "\r\n".join(lines) + "\r\n",  # CRLF
                 "# header\n" + "\n".join("  " + ln.replace(" l:", "\tl:") for ln in lines) + "\n"):  # a tab
        parsed, problems = parse_lock(text, "textbill.lock")
        assert problems == []
        for i, e in enumerate(entries):
            got = parsed[e.number]
            # an entry sent elsewhere takes its records, not the whole lock text, with it
            sent = pickle.dumps(got)
            assert len(sent) < 2 * len(e.format()) and pickle.loads(sent).lines == e.lines
            assert got.lines == e.lines and got.format() == e.format() and got.lineno == i + 2


def _damage(lock, pattern: str, cut) -> str:
    import re

    text = lock.read_text()
    found = re.search(pattern, text)
    assert found
    lock.write_text(text[:found.start()] + cut(found.group(0)) + text[found.end():])
    return cut(found.group(0))


def test_a_truncated_lock_hash_is_a_damaged_lock_not_a_changed_entry(ledger):
    # issue 14: a sha256 cut short was reported as a changed time entry (E170)
    folder = ledger(BASE)
    assert cli("lock", "-f", folder).code == 0
    lock = folder / "textbill.lock"
    token = _damage(lock, r"sha256:[0-9a-f]{64}", lambda t: t[:30])
    for extra in ((), ("--no-cache",)):
        r = cli("check", folder, "--format", "json", *extra)
        diags = r.json()["diagnostics"]
        assert r.code == 1
        assert [d["code"] for d in diags] == ["E173"]  # no E170, and not 'issued but not locked'
        d = diags[0]
        assert d["file"].endswith("textbill.lock") and d["line"] == line_of(lock, token)
        assert d["col"] == lock.read_text().split("\n")[d["line"] - 1].index(token) + 1
        assert "damaged" in d["message"] and "INV-2026-0001" in d["message"]
        assert "git checkout -- textbill.lock" in d["hint"] and "textbill lock" in d["hint"]
    # 'textbill lock' refuses to append to a damaged lock
    r = cli("lock", "-f", folder)
    assert r.code != 0 and "E173" in r.err


def test_damaged_short_digests_and_party_details_are_a_damaged_lock(ledger):
    for pattern, cut in ((r" t:[0-9a-f]{8}", lambda t: t[:-3]), (r" l:\S+", lambda t: t[:-2]),
                         (r" p:\S+", lambda t: t[:-5] + "!!")):
        folder = ledger(BASE)
        lock = folder / "textbill.lock"
        lock.unlink(missing_ok=True)
        assert cli("lock", "-f", folder).code == 0
        token = _damage(lock, pattern, cut).strip()
        code, diags = check_json(folder)
        assert code == 1 and [d["code"] for d in diags] == ["E173"], (pattern, diags)
        text = lock.read_text().split("\n")[diags[0]["line"] - 1]
        assert diags[0]["col"] == text.index(token) + 1


def test_the_lock_checks_digest_is_that_of_the_canonical_content(ledger):
    """check_locks hashes invoices through invoice_digest, which writes the lines' JSON itself:
    it must give digest(canonical_invoice(...)) byte for byte, whatever the lines hold."""
    from dataclasses import replace
    from datetime import date
    from decimal import Decimal

    from textbill.checks.locks import canonical_invoice, digest, invoice_digest
    from textbill.core import model as m
    from textbill.pipeline import analyze

    folder = ledger(BASE + """
    sow globex/fix "Fixed"
      fixed 1000.00
    2026-01-07 time globex/web 1h15m "Cafe\u0301 \\"quoted\\" back\\\\slash"
    2026-01-08 expense globex/web 33.33 "fonts \u2014 \u00e9t\u00e9" markup 12.5%
    2026-01-31 invoice INV-2026-0002 globex
      item "Licence \\"Pro\\"\ttab" 2 x 12.345
      item "\u00c5ngstr\u00f6m" -5.00
    """)
    analysis = analyze(folder)
    docs = list(analysis.books.invoices.values())
    assert [d.code for d in analysis.diagnostics if d.is_error] == []
    assert len(docs) == 2 and all(doc.lines for doc in docs)
    odd = docs[0].lines[0]
    docs.append(replace(docs[0], lines=(
        *docs[0].lines,
        replace(odd, date=None, sow=None, unit="", description="\u212b \u0000 \ud7ff \U0001f600 </script>"),
        replace(odd, date=date.min, amount=Decimal("-0.00"), quantity=Decimal("-0"), unit_price=Decimal("1E+3")),
        replace(odd, tax=m.Tax("exempt", "", Decimal(0), "Art. 132 \"x\""), quantity=Decimal("0.0000005")),
    )))
    for doc in docs:
        for company in (analysis.ledger.company, None):
            assert invoice_digest(doc, company) == digest(canonical_invoice(doc, company))
