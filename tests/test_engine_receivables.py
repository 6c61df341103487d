"""Payments, credit notes, plans, write-offs, aging, late interest and statements.

Hand-computed expectations from LANGUAGE.md section 5, items 9-15.
"""
from __future__ import annotations

import textwrap

import pytest
from conftest import cli, invoices_json

TWO_INVOICES = textwrap.dedent("""
    client c "C"
    2026-01-10 invoice INV-2026-0001 c   ; due Feb 9
      item "a" 100.00
    2026-01-20 invoice INV-2026-0002 c   ; due Feb 19
      item "b" 50.00
""")


def overdue_json(folder, as_of):
    r = cli("report", "overdue", "-f", folder, "--as-of", as_of, "--format", "json")
    assert r.code == 0, r
    return r.json()


def statement_json(folder, client, *args):
    r = cli("statement", client, "-f", folder, "--format", "json", *args)
    assert r.code == 0, r
    return r.json()


def test_payment_split_across_two_invoices_in_the_named_order(ledger):
    folder = ledger(TWO_INVOICES + "2026-02-01 payment c 120.00 for INV-2026-0002 INV-2026-0001\n")
    rows = invoices_json(folder, "2026-02-01")
    assert (rows["INV-2026-0002"]["paid"], rows["INV-2026-0002"]["status"]) == ("50.00", "paid")
    assert (rows["INV-2026-0001"]["paid"], rows["INV-2026-0001"]["outstanding"]) == ("70.00", "30.00")
    assert rows["INV-2026-0001"]["status"] == "open"


def test_payment_without_for_settles_oldest_due_first(ledger):
    folder = ledger(TWO_INVOICES + "2026-02-01 payment c 120.00\n")
    rows = invoices_json(folder, "2026-02-15")
    assert (rows["INV-2026-0001"]["paid"], rows["INV-2026-0001"]["status"]) == ("100.00", "paid")
    assert (rows["INV-2026-0002"]["paid"], rows["INV-2026-0002"]["outstanding"]) == ("20.00", "30.00")


def test_leftover_of_a_named_payment_goes_to_the_oldest_open_invoice(ledger):
    folder = ledger(TWO_INVOICES + "2026-02-01 payment c 60.00 for INV-2026-0002\n")
    rows = invoices_json(folder, "2026-02-01")
    assert rows["INV-2026-0002"]["paid"] == "50.00"
    assert rows["INV-2026-0001"]["paid"] == "10.00"


def test_payment_before_the_invoice_is_client_credit_applied_on_issue(ledger):
    folder = ledger("""
        client c "C"
        2026-01-05 payment c 80.00 for INV-2026-0001
        2026-01-10 invoice INV-2026-0001 c
          item "a" 100.00
    """)
    assert invoices_json(folder, "2026-01-09") == {}
    st = statement_json(folder, "c", "--to", "2026-01-09")
    assert st["closing_balance"] == "-80.00"
    row = invoices_json(folder, "2026-01-10")["INV-2026-0001"]
    assert (row["paid"], row["outstanding"], row["status"]) == ("80.00", "20.00", "open")


def test_overpayment_is_credit_for_later_invoices_and_a_warning(ledger):
    folder = ledger("""
        client c "C"
        2026-01-10 invoice INV-2026-0001 c
          item "a" 100.00
        2026-01-15 payment c 150.00 for INV-2026-0001
        2026-02-10 invoice INV-2026-0002 c
          item "b" 30.00
    """)
    rows = invoices_json(folder, "2026-02-10")
    assert rows["INV-2026-0001"]["status"] == "paid"
    assert (rows["INV-2026-0002"]["paid"], rows["INV-2026-0002"]["status"]) == ("30.00", "paid")
    st = statement_json(folder, "c", "--to", "2026-02-10")
    assert st["closing_balance"] == "-20.00"
    r = cli("check", folder)
    assert r.code == 0 and "W164" in r.err and "20.00 USD more" in r.err


def test_partial_credit_note_reduces_the_outstanding(ledger):
    folder = ledger("""
        client c "C"
          tax VAT 23%
        2026-01-10 invoice INV-2026-0001 c
          item "a" 100.00                     ; total 123.00
        2026-01-20 credit-note CN-2026-0001 for INV-2026-0001 23.00 "overcharge"
        2026-01-25 payment c 100.00 for INV-2026-0001
    """)
    assert invoices_json(folder, "2026-01-20")["INV-2026-0001"]["outstanding"] == "100.00"
    row = invoices_json(folder, "2026-01-25")["INV-2026-0001"]
    assert (row["paid"], row["outstanding"], row["status"]) == ("100.00", "0.00", "credited")


def test_full_credit_note(ledger):
    folder = ledger(TWO_INVOICES + "2026-01-25 credit-note CN-2026-0001 for INV-2026-0002 full \"cancelled\"\n")
    row = invoices_json(folder, "2026-03-01")["INV-2026-0002"]
    assert (row["paid"], row["outstanding"], row["status"]) == ("0.00", "0.00", "credited")


def test_credit_note_larger_than_the_invoice_is_an_error(ledger):
    folder = ledger(TWO_INVOICES + "2026-01-25 credit-note CN-2026-0001 for INV-2026-0002 50.01 \"too much\"\n")
    r = cli("check", folder)
    assert r.code == 1 and "E152" in r.err


def test_plan_with_uneven_installments_settled_in_order(ledger):
    # 100.00 / 3 -> 33.33, 33.33, 33.34 due Apr 1, May 1, Jun 1
    folder = ledger("""
        client c "C"
        2026-01-10 invoice INV-2026-0001 c
          item "a" 100.00
        2026-03-01 plan INV-2026-0001 3 installments monthly
        2026-04-01 payment c 40.00 for INV-2026-0001
    """)
    # as of Apr 1 nothing is overdue: installment 1 is paid, 2 and 3 are not due
    assert overdue_json(folder, "2026-04-01") == []
    assert invoices_json(folder, "2026-04-01")["INV-2026-0001"]["status"] == "open"
    # as of May 10: installment 2 is 9 days late with 33.33 - 6.67 = 26.66 left
    items = overdue_json(folder, "2026-05-10")
    assert [(i["installment"], i["due"], i["outstanding"], i["days_overdue"], i["bucket"]) for i in items] == \
        [(2, "2026-05-01", "26.66", 9, "1-30")]
    assert invoices_json(folder, "2026-05-10")["INV-2026-0001"]["status"] == "overdue"
    # as of Jun 5: installments 2 and 3 are late
    items = overdue_json(folder, "2026-06-05")
    assert [(i["installment"], i["outstanding"], i["days_overdue"]) for i in items] == \
        [(2, "26.66", 35), (3, "33.34", 4)]


def test_plan_every_n_days_and_the_remainder_on_the_last(ledger):
    # 200.00 / 3 -> 66.67, 66.67, 66.66 due Mar 15, Mar 29, Apr 12
    folder = ledger("""
        client c "C"
        2026-01-10 invoice INV-2026-0001 c
          item "a" 200.00
        2026-03-01 plan INV-2026-0001 3 installments every 14 days
    """)
    items = overdue_json(folder, "2026-04-13")
    assert [(i["installment"], i["due"], i["outstanding"]) for i in items] == \
        [(1, "2026-03-15", "66.67"), (2, "2026-03-29", "66.67"), (3, "2026-04-12", "66.66")]


def test_write_off(ledger):
    folder = ledger(TWO_INVOICES + textwrap.dedent("""
        2026-02-05 payment c 30.00 for INV-2026-0001
        2026-06-30 writeoff INV-2026-0001 "insolvent"
    """))
    row = invoices_json(folder, "2026-07-01")["INV-2026-0001"]
    assert (row["paid"], row["written_off"], row["outstanding"], row["status"]) == \
        ("30.00", "70.00", "0.00", "written-off")
    assert [i["invoice"] for i in overdue_json(folder, "2026-07-01")] == ["INV-2026-0002"]
    assert invoices_json(folder, "2026-06-29")["INV-2026-0001"]["status"] == "overdue"


def test_collections_status(ledger):
    folder = ledger(TWO_INVOICES + "2026-05-01 collections INV-2026-0001 \"Inkasso\"\n")
    assert invoices_json(folder, "2026-05-01")["INV-2026-0001"]["status"] == "collections"
    assert invoices_json(folder, "2026-04-30")["INV-2026-0001"]["status"] == "overdue"


@pytest.mark.parametrize("days, bucket", [(0, None), (1, "1-30"), (30, "1-30"), (31, "31-60"), (60, "31-60"),
                                          (61, "61-90"), (90, "61-90"), (91, "90+")])
def test_aging_bucket_boundaries(ledger, days, bucket):
    from datetime import date, timedelta

    folder = ledger("""
        client c "C"
          terms due-on-receipt
        2026-01-01 invoice INV-2026-0001 c
          item "a" 10.00
    """)
    as_of = (date(2026, 1, 1) + timedelta(days=days)).isoformat()
    items = overdue_json(folder, as_of)
    if bucket is None:
        assert items == []
        assert invoices_json(folder, as_of)["INV-2026-0001"]["status"] == "open"
    else:
        assert [(i["days_overdue"], i["bucket"]) for i in items] == [(days, bucket)]
        assert invoices_json(folder, as_of)["INV-2026-0001"]["status"] == "overdue"


def test_late_interest(ledger):
    # 1000.00 x 10% x 73 / 365 = 20.00 ; 1234.56 x 11.25% x 45 / 365 = 17.1231.. -> 17.12
    folder = ledger("""
        client c "C"
          terms due-on-receipt
        2026-01-01 invoice INV-2026-0001 c
          item "a" 1000.00
    """)
    text = (folder / "ledger.bill").read_text().replace('  currency USD\n', '  currency USD\n  late-interest 10% yearly\n', 1)
    (folder / "ledger.bill").write_text(text)
    assert overdue_json(folder, "2026-03-15")[0]["late_interest"] == "20.00"

    text = text.replace("late-interest 10%", "late-interest 11.25%").replace('"a" 1000.00', '"a" 1234.56')
    (folder / "ledger.bill").write_text(text)
    assert overdue_json(folder, "2026-02-15")[0]["late_interest"] == "17.12"


def test_no_late_interest_key_without_a_rate(ledger):
    folder = ledger(TWO_INVOICES)
    items = overdue_json(folder, "2026-03-01")
    assert items and all("late_interest" not in i for i in items)
    assert set(items[0]) >= {"invoice", "client", "currency", "due", "outstanding", "days_overdue", "bucket"}


def test_same_day_order_invoice_then_credit_note_then_payment(ledger):
    folder = ledger("""
        client c "C"
        2026-01-10 payment c 60.00
        2026-01-10 credit-note CN-2026-0001 for INV-2026-0001 40.00 "x"
        2026-01-10 invoice INV-2026-0001 c
          item "a" 100.00
    """)
    row = invoices_json(folder, "2026-01-10")["INV-2026-0001"]
    assert (row["paid"], row["outstanding"], row["status"]) == ("60.00", "0.00", "credited")


def test_statement_running_balance_and_opening(ledger):
    folder = ledger(TWO_INVOICES + textwrap.dedent("""
        2026-02-01 payment c 120.00 ref "wire 1"
        2026-02-05 credit-note CN-2026-0001 for INV-2026-0002 10.00 "discount"
    """))
    st = statement_json(folder, "c", "--from", "2026-01-15", "--to", "2026-03-01")
    assert (st["client"], st["currency"], st["opening_balance"], st["closing_balance"]) == \
        ("c", "USD", "100.00", "20.00")
    assert [(e["date"], e["kind"], e["ref"], e["amount"], e["balance"]) for e in st["entries"]] == [
        ("2026-01-20", "invoice", "INV-2026-0002", "50.00", "150.00"),
        ("2026-02-01", "payment", "wire 1", "-120.00", "30.00"),
        ("2026-02-05", "credit-note", "CN-2026-0001", "-10.00", "20.00"),
    ]
    assert st["aging"]["1-30"] == "20.00"


def test_foreign_payment_is_converted_at_its_date(ledger):
    folder = ledger("""
        client c "C"
        2026-01-10 invoice INV-2026-0001 c
          item "a" 100.00
        2026-01-15 fx EUR USD 1.2
        2026-01-20 payment c 50.00 EUR for INV-2026-0001
    """)
    assert invoices_json(folder, "2026-01-20")["INV-2026-0001"]["paid"] == "60.00"


def test_credit_note_after_full_payment_becomes_credit(ledger):
    folder = ledger(TWO_INVOICES + textwrap.dedent("""
        2026-01-15 payment c 100.00 for INV-2026-0001
        2026-01-18 credit-note CN-2026-0001 for INV-2026-0001 30.00 "refund due"
    """))
    rows = invoices_json(folder, "2026-01-20")
    a, b = rows["INV-2026-0001"], rows["INV-2026-0002"]
    assert (a["paid"], a["credited"], a["outstanding"], a["status"]) == ("70.00", "30.00", "0.00", "credited")
    # the 30.00 freed by the credit note settles the next invoice on its date
    assert (b["paid"], b["outstanding"]) == ("30.00", "20.00")
