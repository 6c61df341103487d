"""The billing engine, end to end through `textbill invoices --format json`.

Every expected figure below was computed by hand from LANGUAGE.md section 5;
the arithmetic is written out in the comments.
"""
from __future__ import annotations

from conftest import cli, invoices_json


def test_hourly_increment_rounds_each_entry_up(ledger):
    folder = ledger("""
        client c "C"
          tax VAT 23%
        sow c/h "Hourly"
          period 2026-01-01 .. 2026-12-31
          hourly 100.00
          increment 15m
        2026-01-05 time c/h 1h10m "a"          ; 70 -> 75 min -> 125.00
        2026-01-06 time c/h 09:00-09:01 "b"    ; 1 -> 15 min -> 25.00
        2026-01-07 time c/h 2h "c" nonbillable ; not billed
        2026-01-31 invoice INV-2026-0001 c
    """)
    inv = invoices_json(folder, "2026-01-31")["INV-2026-0001"]
    assert (inv["net"], inv["tax"], inv["total"]) == ("150.00", "34.50", "184.50")
    assert inv["due"] == "2026-03-02"  # net 30 by default
    assert inv["status"] == "open"
    assert inv["currency"] == "USD"


def test_hours_are_never_rounded_before_the_amount(ledger):
    folder = ledger("""
        client c "C"
        sow c/h "Hourly"
          hourly 100.00
        2026-01-05 time c/h 10m "ten minutes"   ; 10 x 100 / 60 = 16.666.. -> 16.67 (not 0.17h x 100)
        2026-01-06 time c/h 7m "seven"          ; rate 100: 11.666.. -> 11.67
        2026-01-31 invoice INV-2026-0001 c
    """)
    assert invoices_json(folder)["INV-2026-0001"]["total"] == "28.34"


def test_half_away_from_zero_on_the_last_step(ledger):
    folder = ledger("""
        client c "C"
        sow c/h "Hourly"
          hourly 0.30
        2026-01-05 time c/h 1h15m "x"   ; 75 x 0.30 / 60 = 0.375 -> 0.38
        2026-01-31 invoice INV-2026-0001 c
    """)
    assert invoices_json(folder)["INV-2026-0001"]["total"] == "0.38"


def test_decimal_hours_and_clock_ranges(ledger):
    folder = ledger("""
        client c "C"
        sow c/h "Hourly"
          hourly 60
          increment 6m
        2026-01-05 time c/h 1.25h "x"           ; 75 min -> 78 (6m steps) -> 78.00
        2026-01-06 time c/h 13:05-14:00 "y"     ; 55 -> 60 -> 60.00
        2026-01-31 invoice INV-2026-0001 c
    """)
    assert invoices_json(folder)["INV-2026-0001"]["total"] == "138.00"


def test_expense_markup(ledger):
    folder = ledger("""
        client c "C"
        sow c/h "Hourly"
          hourly 100
        2026-01-05 expense c/h 120.00 "photos" markup 10%    ; 132.00
        2026-01-06 expense c/h 33.33 "fonts" markup 12.5%    ; 37.49625 -> 37.50
        2026-01-07 expense c/h 10.00 "taxi"                  ; 10.00
        2026-01-08 expense c/h 99.00 "own cost" nonbillable
        2026-01-31 invoice INV-2026-0001 c
    """)
    assert invoices_json(folder)["INV-2026-0001"]["total"] == "179.50"


def test_retainer_one_line_per_period_whose_first_day_is_in_the_invoice_period(ledger):
    folder = ledger("""
        client c "C"
        sow c/m "Monthly"
          period 2026-01-01 .. 2026-12-31
          retainer 1000.00 monthly
        sow c/q "Quarterly"
          period 2026-02-01 .. 2026-12-31
          retainer 300.00 quarterly
        2026-03-31 invoice INV-2026-0001 c
          period 2026-01-01 .. 2026-03-31   ; Jan, Feb, Mar + the quarter starting Feb 1
        2026-06-30 invoice INV-2026-0002 c  ; default period: Apr 1 .. Jun 30: Apr, May, Jun + May 1
    """)
    rows = invoices_json(folder)
    assert rows["INV-2026-0001"]["total"] == "3300.00"
    assert rows["INV-2026-0002"]["total"] == "3300.00"


def test_retainer_periods_anchor_on_the_sow_start(ledger):
    folder = ledger("""
        client c "C"
        sow c/m "Monthly from the 15th"
          period 2026-01-15 .. 2026-12-31
          retainer 500 monthly
        2026-02-10 invoice INV-2026-0001 c   ; period Jan 15 .. Feb 10: only Jan 15
        2026-02-20 invoice INV-2026-0002 c   ; Feb 11 .. Feb 20: Feb 15
    """)
    rows = invoices_json(folder)
    assert rows["INV-2026-0001"]["total"] == "500.00"
    assert rows["INV-2026-0002"]["total"] == "500.00"


def test_milestones_last_takes_the_remainder(ledger):
    folder = ledger("""
        client c "C"
        sow c/fix "Fixed"
          fixed 100.00
          milestone "one" 33.333%
          milestone "two" 33.333%
          milestone "three" 33.334%
        2026-01-10 done c/fix "three"     ; the last: 100.00 - 33.33 - 33.33 = 33.34
        2026-02-10 done c/fix "one"       ; round(33.333) = 33.33
        2026-03-10 done c/fix "two"       ; 33.33
        2026-01-31 invoice INV-2026-0001 c
        2026-02-28 invoice INV-2026-0002 c
        2026-03-31 invoice INV-2026-0003 c
    """)
    rows = invoices_json(folder)
    assert [rows[n]["total"] for n in ("INV-2026-0001", "INV-2026-0002", "INV-2026-0003")] == \
        ["33.34", "33.33", "33.33"]


def test_milestone_amounts_and_value_pricing(ledger):
    folder = ledger("""
        client c "C"
        sow c/fix "Fixed"
          fixed 5000.00
          milestone "design" 1200.00
          milestone "build" 3800.00
        sow c/val "Value"
          value 12.5% of 1234.56 "savings"   ; fee = round(154.32) = 154.32, implicit "complete"
        2026-01-10 done c/fix "design"
        2026-01-12 done c/val "complete"
        2026-01-31 invoice INV-2026-0001 c
    """)
    assert invoices_json(folder)["INV-2026-0001"]["total"] == "1354.32"


def test_value_fee_is_rounded(ledger):
    folder = ledger("""
        client c "C"
        sow c/val "Value"
          value 7.77% of 1000.05 USD "basis"  ; 77.703885 -> 77.70
          milestone "half" 50%                ; 38.85
          milestone "rest" 50%                ; 77.70 - 38.85 = 38.85
        2026-01-10 done c/val "half"
        2026-02-10 done c/val "rest"
        2026-01-31 invoice INV-2026-0001 c
        2026-02-28 invoice INV-2026-0002 c
    """)
    rows = invoices_json(folder)
    assert rows["INV-2026-0001"]["total"] == "38.85"
    assert rows["INV-2026-0002"]["total"] == "38.85"


def test_manual_items(ledger):
    folder = ledger("""
        client c "C"
        2026-01-31 invoice INV-2026-0001 c
          item "Hosting" 2 x 75.00
          item "Licences" 3 x 33.335       ; 100.005 -> 100.01
          item "Setup" 49.99
    """)
    assert invoices_json(folder)["INV-2026-0001"]["total"] == "300.00"


def test_discounts_and_charges_over_several_tax_groups(ledger):
    # A (VAT 23%): net 100.00, percent allowance round(100 x 15%) = 15.00, fixed share
    #   10.00 - 3.33 = 6.67 (largest group takes the remainder) -> basis 78.33, tax 18.0159 -> 18.02
    # B (VAT 8%): net 50.00, percent round(50 x 15%) = 7.50, fixed share round(10 x 50/150) = 3.33,
    #   charge 2.00 (names VAT 8%) -> basis 41.17, tax 3.2936 -> 3.29
    # net 119.50, tax 21.31, total 140.81
    folder = ledger("""
        client c "C"
          tax VAT 23%
          discount 5%
        sow c/a "A"
          fixed 100.00
        sow c/b "B"
          fixed 50.00
          tax VAT 8%
        2026-01-10 done c/a "complete"
        2026-01-10 done c/b "complete"
        2026-01-31 invoice INV-2026-0001 c
          discount 10%
          discount 10.00 "goodwill"
          charge 2.00 "handling" tax VAT 8%
    """)
    inv = invoices_json(folder)["INV-2026-0001"]
    assert (inv["net"], inv["tax"], inv["total"]) == ("119.50", "21.31", "140.81")


def test_fixed_discount_with_its_own_tax_stays_in_that_group(ledger):
    # A (23%): 200.00 -> tax 46.00;  B (8%): 100.00 - 30.00 = 70.00 -> tax 5.60
    folder = ledger("""
        client c "C"
        2026-01-31 invoice INV-2026-0001 c
          item "A" 200.00 tax VAT 23%
          item "B" 100.00 tax VAT 8%
          discount 30.00 "loyalty" tax VAT 8%
    """)
    inv = invoices_json(folder)["INV-2026-0001"]
    assert (inv["net"], inv["tax"], inv["total"]) == ("270.00", "51.60", "321.60")


def test_percent_charge(ledger):
    # net 1000 (23%): charge round(1000 x 2.5%) = 25.00 -> basis 1025.00, tax 235.75
    folder = ledger("""
        client c "C"
          tax VAT 23%
        2026-01-31 invoice INV-2026-0001 c
          item "Work" 1000.00
          charge 2.5% "express"
    """)
    inv = invoices_json(folder)["INV-2026-0001"]
    assert (inv["net"], inv["tax"], inv["total"]) == ("1025.00", "235.75", "1260.75")


def test_tax_is_rounded_once_per_group_not_per_line(ledger):
    # three lines of 0.05 at 10%: per line 0.005 -> 0.01 each (0.03); per group 0.15 x 10% = 0.015 -> 0.02
    folder = ledger("""
        client c "C"
          tax VAT 10%
        2026-01-31 invoice INV-2026-0001 c
          item "a" 0.05
          item "b" 0.05
          item "c" 0.05
    """)
    assert invoices_json(folder)["INV-2026-0001"]["tax"] == "0.02"


def test_reverse_charge_and_exempt_are_zero_groups(ledger):
    folder = ledger("""
        client eu "EU Client"
          currency EUR
          tax reverse-charge
        client ngo "NGO"
          tax exempt "Art. 43 VAT Act"
        2026-01-31 fx EUR USD 1.1
        2026-01-31 invoice INV-2026-0001 eu
          item "Work" 1000.00
        2026-01-31 invoice INV-2026-0002 ngo
          item "Work" 500.00
    """)
    rows = invoices_json(folder)
    assert (rows["INV-2026-0001"]["tax"], rows["INV-2026-0001"]["total"], rows["INV-2026-0001"]["currency"]) == \
        ("0.00", "1000.00", "EUR")
    assert (rows["INV-2026-0002"]["tax"], rows["INV-2026-0002"]["total"]) == ("0.00", "500.00")


def test_jpy_and_kwd_round_to_their_minor_units(ledger):
    # JPY: 70 min x 5000 / 60 = 5833.33 -> 5833; tax 10% of 5833 = 583.3 -> 583
    # KWD: 50 min x 12.345 / 60 = 10.2875 -> 10.288; tax 5% = 0.5144 -> 0.514
    folder = ledger("""
        client jp "Tokyo KK"
          currency JPY
          tax JCT 10%
        client kw "Kuwait Co"
          currency KWD
          tax VAT 5%
        sow jp/h "Hourly"
          hourly 5000 JPY
        sow kw/h "Hourly"
          hourly 12.345 KWD
        2026-01-05 time jp/h 1h10m "x"
        2026-01-05 time kw/h 50m "y"
        2026-01-31 fx JPY USD 0.0067
        2026-01-31 fx KWD USD 3.25
        2026-01-31 invoice INV-2026-0001 jp
        2026-01-31 invoice INV-2026-0002 kw
    """)
    rows = invoices_json(folder)
    assert (rows["INV-2026-0001"]["net"], rows["INV-2026-0001"]["tax"], rows["INV-2026-0001"]["total"]) == \
        ("5833", "583", "6416")
    assert (rows["INV-2026-0002"]["net"], rows["INV-2026-0002"]["tax"], rows["INV-2026-0002"]["total"]) == \
        ("10.288", "0.514", "10.802")


def test_due_dates_from_terms_including_eom_and_leap_years(ledger):
    folder = ledger("""
        client a "A"
          terms eom 15
        client b "B"
          terms eom 0
        client c "C"
          terms net 30
        client d "D"
          terms due-on-receipt
        2028-01-31 invoice INV-2028-0001 a   ; end of Jan + 15 = Feb 15
        2028-02-10 invoice INV-2028-0002 b   ; end of Feb (leap) = Feb 29
        2028-02-10 invoice INV-2028-0003 c   ; Feb 10 + 30 = Mar 11 (leap year)
        2028-02-29 invoice INV-2028-0004 d   ; the invoice date
        2028-03-01 invoice INV-2028-0005 c
          due 2028-03-05                     ; explicit due overrides terms
    """)
    rows = invoices_json(folder, "2028-12-31")
    assert [rows[f"INV-2028-000{i}"]["due"] for i in range(1, 6)] == \
        ["2028-02-15", "2028-02-29", "2028-03-11", "2028-02-29", "2028-03-05"]


def test_foreign_currency_sow_uses_latest_rate_on_or_before_the_invoice_date(ledger):
    # 1h at 100 USD; Jan invoice: rate 0.9 -> 90.00 EUR; Feb: 0.95 -> 95.00; Mar: inverse EUR USD 1.25 -> 80.00
    folder = ledger("""
        client eu "EU"
          currency EUR
        sow eu/h "Hourly"
          hourly 100.00 USD
        2026-01-01 fx USD EUR 0.9
        2026-02-01 fx USD EUR 0.95
        2026-03-01 fx EUR USD 1.25
        2026-01-05 time eu/h 1h "x"
        2026-02-05 time eu/h 1h "x"
        2026-03-05 time eu/h 1h "x"
        2026-01-31 invoice INV-2026-0001 eu
        2026-02-28 invoice INV-2026-0002 eu
        2026-03-31 invoice INV-2026-0003 eu
    """)
    rows = invoices_json(folder)
    assert [rows[f"INV-2026-000{i}"]["total"] for i in (1, 2, 3)] == ["90.00", "95.00", "80.00"]


def test_foreign_currency_converts_per_line_then_rounds_once(ledger):
    # 7 min x 100 USD / 60 x 3.9876 = 46.522 -> 46.52 PLN; two such lines = 93.04 (not round(93.044))
    folder = ledger("""
        client pl "PL"
          currency PLN
        sow pl/h "Hourly"
          hourly 100.00 USD
        2026-01-01 fx USD PLN 3.9876
        2026-01-05 time pl/h 7m "x"
        2026-01-06 time pl/h 7m "y"
        2026-01-31 invoice INV-2026-0001 pl
    """)
    assert invoices_json(folder)["INV-2026-0001"]["total"] == "93.04"


def test_missing_fx_rate_is_an_error(ledger):
    folder = ledger("""
        client eu "EU"
          currency EUR
        sow eu/h "Hourly"
          hourly 100.00 USD
        2026-01-05 time eu/h 1h "x"
        2026-01-31 invoice INV-2026-0001 eu
        2026-02-01 fx USD EUR 0.9   ; too late for the invoice
    """)
    r = cli("check", folder)
    assert r.code == 1
    assert "E150" in r.err and "no fx rate USD/EUR on or before 2026-01-31" in r.err


def test_default_period_runs_from_the_previous_invoice(ledger):
    folder = ledger("""
        client c "C"
        sow c/h "Hourly"
          period 2026-01-01 .. 2026-12-31
          hourly 10
        2026-01-10 time c/h 1h "a"
        2026-01-31 time c/h 1h "b"
        2026-02-01 time c/h 2h "c"
        2026-02-15 time c/h 4h "d"
        2026-01-31 invoice INV-2026-0001 c   ; Jan 1 .. Jan 31: a, b
        2026-02-10 invoice INV-2026-0002 c   ; Feb 1 .. Feb 10: c
        2026-02-28 invoice INV-2026-0003 c   ; Feb 11 .. Feb 28: d
    """)
    rows = invoices_json(folder)
    assert [rows[f"INV-2026-000{i}"]["total"] for i in (1, 2, 3)] == ["20.00", "20.00", "40.00"]


def test_invoice_takes_only_its_named_sows(ledger):
    folder = ledger("""
        client c "C"
        sow c/a "A"
          hourly 10
        sow c/b "B"
          hourly 20
        2026-01-10 time c/a 1h "a"
        2026-01-10 time c/b 1h "b"
        2026-01-31 invoice INV-2026-0001 c
          sow a
        2026-01-31 invoice INV-2026-0002 c
          sow b
          period 2026-01-01 .. 2026-01-31
    """)
    rows = invoices_json(folder)
    assert rows["INV-2026-0001"]["total"] == "10.00"
    assert rows["INV-2026-0002"]["total"] == "20.00"


def test_an_item_on_two_invoices_is_an_error(ledger):
    folder = ledger("""
        client c "C"
        sow c/h "H"
          hourly 10
        2026-01-10 time c/h 1h "a"
        2026-01-31 invoice INV-2026-0001 c
          period 2026-01-01 .. 2026-01-31
        2026-02-28 invoice INV-2026-0002 c
          period 2026-01-05 .. 2026-02-28
    """)
    r = cli("check", folder)
    assert r.code == 1
    assert "E160" in r.err and "already billed on 'INV-2026-0001'" in r.err


def test_unbilled_items_before_the_latest_period_are_a_warning(ledger):
    folder = ledger("""
        client c "C"
        sow c/h "H"
          hourly 10
        2026-01-10 time c/h 1h "a"
        2026-02-10 time c/h 1h "b"
        2026-03-31 invoice INV-2026-0001 c
          period 2026-03-01 .. 2026-03-31
    """)
    r = cli("check", folder)
    assert r.code == 0
    assert r.err.count("W161") == 2


def test_cap_warns_at_80_percent_and_fails_past_100(ledger):
    base = """
        client c "C"
        sow c/h "H"
          hourly 10
          cap 10h
        2026-01-10 time c/h 5h "a"
        2026-01-11 time c/h 3h "b"
    """
    r = cli("check", ledger(base))
    assert r.code == 0 and "W162" in r.err and "8.00h of its cap 10.00h (80%)" in r.err
    r = cli("check", ledger(base + "        2026-01-12 time c/h 2h15m \"c\"\n"))
    assert r.code == 1 and "E163" in r.err and "10.25h of 10.00h" in r.err


def test_json_shape_and_amount_strings(ledger):
    folder = ledger("""
        client c "C"
        2026-01-31 invoice INV-2026-0001 c
          item "x" 1
    """)
    row = invoices_json(folder)["INV-2026-0001"]
    for key in ("number", "client", "date", "due", "currency", "net", "tax", "total", "paid",
                "outstanding", "status"):
        assert key in row
    assert row["total"] == "1.00" and isinstance(row["total"], str)


def test_value_fee_rounds_to_the_client_currency_when_the_price_has_none(ledger):
    # JPY client, value 12.5% of 10001 (no currency: the client's) = 1250.125 -> 1250
    folder = ledger("""
        client jp "JP"
          currency JPY
        sow jp/v "Value"
          value 12.5% of 10001 "basis"
        2026-01-10 done jp/v "complete"
        2026-01-31 fx JPY USD 0.0067
        2026-01-31 invoice INV-2026-0001 jp
    """)
    assert invoices_json(folder)["INV-2026-0001"]["total"] == "1250"
