"""Which reminder is due, as of which day (LANGUAGE.md 5.15), against hand-computed expectations.

The base ledger: one invoice of 1000.00 USD dated 2026-01-10, net 30, so due
2026-02-09.  Policy steps: upcoming -3d (02-06), friendly +7d (02-16),
firm +21d late-fee (03-02), final +45d (03-26).  Late interest 10% a year.
"""
from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import cli

from textbill.engine.reminders import due_reminders
from textbill.pipeline import analyze

HEAD = """\
company acme "Acme Consulting"
  email billing@acme.example
  currency USD
  late-interest 10% yearly
  late-fee 40.00

reminders standard
  step -3d  "upcoming"
  step +7d  "friendly"
  step +21d "firm" late-fee
  step +45d "final"

client c "Client Co"
  email ap@client.example

2026-01-10 invoice INV-2026-0001 c
  item "Work" 1 x 1000.00
"""


def due(tmp_path: Path, extra: str, as_of: str, head: str = HEAD) -> dict[str, object]:
    """{invoice number: Reminder} due as of a day."""
    from datetime import date

    folder = tmp_path / "ledger"
    folder.mkdir(exist_ok=True)
    (folder / "ledger.bill").write_text(head + textwrap.dedent(extra), encoding="utf-8")
    analysis = analyze(folder)
    assert analysis.ok, [d.message for d in analysis.diagnostics if d.is_error]
    rec = analysis.receivables(date.fromisoformat(as_of))
    return {r.number: r for r in due_reminders(analysis.ledger, rec)}


def step_of(tmp_path, extra, as_of, **kw) -> str | None:
    found = due(tmp_path, extra, as_of, **kw)
    return found["INV-2026-0001"].step.name if "INV-2026-0001" in found else None


@pytest.mark.parametrize("as_of, expected", [
    ("2026-02-05", None),          # the day before the first step
    ("2026-02-06", "upcoming"),    # due - 3
    ("2026-02-15", "upcoming"),    # the day before friendly: still only upcoming has come
    ("2026-02-16", "friendly"),    # due + 7
    ("2026-03-01", "friendly"),
    ("2026-03-02", "firm"),        # due + 21
    ("2026-03-25", "firm"),
    ("2026-03-26", "final"),       # due + 45
    ("2026-12-31", "final"),
])
def test_the_latest_step_whose_day_has_come(tmp_path, as_of, expected):
    assert step_of(tmp_path, "", as_of) == expected


def test_days_amount_and_interest_on_the_friendly_step(tmp_path):
    r = due(tmp_path, "", "2026-02-16")["INV-2026-0001"]
    assert r.days_overdue == 7
    assert str(r.amount_due) == "1000.00"
    assert str(r.late_interest) == "1.92"  # 1000 x 10% x 7 / 365 = 1.9178
    assert r.late_fee is None
    assert r.installment is None


def test_upcoming_counts_negative_days_and_no_interest(tmp_path):
    r = due(tmp_path, "", "2026-02-06")["INV-2026-0001"]
    assert (r.step.name, r.days_overdue, r.late_interest) == ("upcoming", -3, None)


def test_a_recorded_step_is_not_sent_again(tmp_path):
    recorded = "2026-02-16 reminded INV-2026-0001 friendly\n"
    assert step_of(tmp_path, recorded, "2026-02-16") is None
    assert step_of(tmp_path, recorded, "2026-03-01") is None
    assert step_of(tmp_path, recorded, "2026-03-02") == "firm"


def test_only_the_latest_due_step_is_sent_the_earlier_ones_are_skipped(tmp_path):
    # nothing was sent before: on the firm day only firm is due, once
    found = due(tmp_path, "", "2026-03-02")
    assert [r.step.name for r in found.values()] == ["firm"]
    # once firm is recorded, the skipped upcoming and friendly do not come back
    assert step_of(tmp_path, "2026-03-02 reminded INV-2026-0001 firm\n", "2026-03-20") is None


def test_a_reminded_entry_dated_after_the_day_does_not_count(tmp_path):
    assert step_of(tmp_path, "2026-02-20 reminded INV-2026-0001 friendly\n", "2026-02-16") == "friendly"


def test_one_reminder_per_invoice_and_each_invoice_its_own(tmp_path):
    extra = """
        2026-01-20 invoice INV-2026-0002 c   ; due 02-19: friendly on 02-26
          item "More" 1 x 50.00
    """
    found = due(tmp_path, extra, "2026-02-26")
    assert {n: r.step.name for n, r in found.items()} == {"INV-2026-0001": "friendly",
                                                           "INV-2026-0002": "friendly"}


def test_partial_payment_reminds_of_what_is_left(tmp_path):
    r = due(tmp_path, "2026-02-10 payment c 400.00 for INV-2026-0001\n", "2026-02-16")["INV-2026-0001"]
    assert (str(r.amount_due), str(r.amount)) == ("600.00", "600.00")
    assert str(r.late_interest) == "1.15"  # 600 x 10% x 7 / 365 = 1.1507


@pytest.mark.parametrize("extra", [
    "2026-02-10 payment c 1000.00 for INV-2026-0001\n",                    # paid
    "2026-02-10 credit-note CN-2026-0001 for INV-2026-0001 full \"void\"\n",  # credited
    "2026-02-20 writeoff INV-2026-0001 \"insolvent\"\n",                   # written off
    "2026-02-20 collections INV-2026-0001 \"Inkasso\"\n",                  # in collections
], ids=["paid", "credited", "written-off", "collections"])
def test_never_for_paid_credited_written_off_or_collections(tmp_path, extra):
    assert step_of(tmp_path, extra, "2026-03-30") is None


def test_collections_only_from_its_date(tmp_path):
    assert step_of(tmp_path, "2026-02-20 collections INV-2026-0001 \"Inkasso\"\n", "2026-02-16") == "friendly"


def test_late_fee_on_the_late_fee_step_once_per_invoice(tmp_path):
    head = HEAD.replace('step +45d "final"', 'step +45d "final" late-fee')
    fee = due(tmp_path, "", "2026-03-02", head=head)["INV-2026-0001"].late_fee
    assert (fee.value, fee.currency) == (40, "USD")  # the company's currency, the invoice's too
    after_firm = due(tmp_path, "2026-03-02 reminded INV-2026-0001 firm\n", "2026-03-26",
                     head=head)["INV-2026-0001"]
    assert after_firm.step.name == "final"
    assert after_firm.late_fee is None  # final also adds it, but firm already did


def test_no_late_fee_on_steps_without_it(tmp_path):
    r = due(tmp_path, "2026-03-02 reminded INV-2026-0001 firm\n", "2026-03-26")["INV-2026-0001"]
    assert (r.step.name, r.late_fee) == ("final", None)


PLAN = """\
2026-02-16 reminded INV-2026-0001 friendly
2026-02-20 plan INV-2026-0001 3 installments monthly
"""
# 1000.00 / 3: 333.33, 333.33, 333.34 due 03-20, 04-20, 05-20


def test_plan_counts_from_the_first_installment_and_starts_a_new_round(tmp_path):
    assert step_of(tmp_path, PLAN, "2026-03-16") is None
    r = due(tmp_path, PLAN, "2026-03-17")["INV-2026-0001"]  # 03-20 - 3
    # the friendly sent before the plan belongs to the old due date, not to this round
    assert (r.step.name, r.installment, r.due.isoformat()) == ("upcoming", 1, "2026-03-20")
    assert (str(r.amount_due), str(r.amount)) == ("333.33", "1000.00")
    r = due(tmp_path, PLAN + "2026-03-17 reminded INV-2026-0001 upcoming\n", "2026-03-27")["INV-2026-0001"]
    assert (r.step.name, r.days_overdue, str(r.late_interest)) == ("friendly", 7, "0.64")  # 333.33x10%x7/365


def test_plan_a_partly_paid_installment_is_still_the_one(tmp_path):
    r = due(tmp_path, PLAN + "2026-03-25 payment c 200.00 for INV-2026-0001\n", "2026-03-27")["INV-2026-0001"]
    assert (r.installment, str(r.amount_due), r.step.name) == (1, "133.33", "friendly")


def test_plan_moves_to_the_earliest_unsettled_installment(tmp_path):
    extra = PLAN + textwrap.dedent("""
        2026-03-17 reminded INV-2026-0001 upcoming
        2026-03-19 payment c 333.33 for INV-2026-0001
    """)
    assert step_of(tmp_path, extra, "2026-04-16") is None
    r = due(tmp_path, extra, "2026-04-27")["INV-2026-0001"]  # installment 2, due 04-20, + 7
    assert (r.installment, r.due.isoformat(), r.step.name, r.days_overdue) == (2, "2026-04-20", "friendly", 7)
    assert (str(r.amount_due), str(r.amount)) == ("333.33", "666.67")


def test_plan_late_fee_stays_once_per_invoice(tmp_path):
    extra = """
        2026-03-02 reminded INV-2026-0001 firm
        2026-03-05 plan INV-2026-0001 2 installments monthly
    """
    r = due(tmp_path, extra, "2026-04-26")["INV-2026-0001"]  # installment 1 due 04-05, + 21
    assert (r.installment, r.step.name, r.late_fee) == (1, "firm", None)


def test_plan_late_reminders_of_one_installment_do_not_use_up_the_next(tmp_path):
    extra = PLAN + textwrap.dedent("""
        2026-03-27 reminded INV-2026-0001 friendly
        2026-04-10 reminded INV-2026-0001 firm
        2026-05-04 reminded INV-2026-0001 final
        2026-05-10 payment c 333.33 for INV-2026-0001
    """)
    # installment 1 is settled; installment 2 (due 04-20) is 20 days late and has had no reminder
    assert step_of(tmp_path, extra, "2026-05-10") == "friendly"


# ---------------------------------------------------------------------------- which policy

def test_reminders_off(tmp_path):
    head = HEAD.replace('  email ap@client.example\n', '  email ap@client.example\n  reminders off\n')
    assert step_of(tmp_path, "", "2026-03-30", head=head) is None


def test_without_reminders_the_only_policy_applies(tmp_path):
    assert step_of(tmp_path, "", "2026-02-16") == "friendly"


def test_with_several_policies_and_none_named_the_client_gets_default_or_nothing(tmp_path):
    other = '\nreminders gentle\n  step +30d "nudge"\n'
    head = HEAD.replace("\nclient c", other + "\nclient c")
    assert step_of(tmp_path, "", "2026-03-30", head=head) is None
    head = HEAD.replace("reminders standard", "reminders default").replace("\nclient c", other + "\nclient c")
    assert step_of(tmp_path, "", "2026-03-30", head=head) == "final"


def test_a_named_policy(tmp_path):
    other = '\nreminders gentle\n  step +30d "nudge"\n'
    head = HEAD.replace("\nclient c", other + "\nclient c").replace(
        '  email ap@client.example\n', '  email ap@client.example\n  reminders gentle\n')
    assert step_of(tmp_path, "", "2026-03-10", head=head) is None   # 02-09 + 30 = 03-11
    assert step_of(tmp_path, "", "2026-03-11", head=head) == "nudge"


FEE_EUR = """\
company acme "Acme Consulting"
  email billing@acme.example
  currency EUR
  late-fee 40 EUR

reminders standard
  step +7d  "friendly"
  step +21d "firm" late-fee

client p "Polski Klient"
  email ap@klient.example
  currency PLN

2026-01-10 invoice INV-2026-0001 p
  item "Praca" 1 x 1000.00
"""


def test_a_late_fee_in_another_currency_is_converted_at_the_latest_rate(tmp_path):
    """Issue 13: the company's `late-fee 40 EUR` was added unconverted to a PLN invoice.  Due 02-09,
    firm (+21d) on 03-02: the rate is the latest on or before that day, 4.2817, not the later one;
    40 x 4.2817 = 171.268 -> 171.27 PLN."""
    rates = ("2026-01-02 fx EUR PLN 4.2500\n2026-02-27 fx EUR PLN 4.2817\n"
             "2026-03-03 fx EUR PLN 9.9999\n")
    r = due(tmp_path, rates, "2026-03-02", head=FEE_EUR)["INV-2026-0001"]
    assert (r.step.name, r.late_fee.value, r.late_fee.currency, r.problems) == (
        "firm", Decimal("171.27"), "PLN", ())
    # a rate written the other way round (PLN EUR) serves as well, inverted: 40 / 0.25 = 160.00
    r = due(tmp_path, "2026-02-27 fx PLN EUR 0.25\n", "2026-03-02", head=FEE_EUR)["INV-2026-0001"]
    assert (r.late_fee.value, r.late_fee.currency) == (Decimal("160.00"), "PLN")


def test_a_late_fee_without_a_rate_is_the_missing_rate_error_and_is_not_sent(tmp_path):
    r = due(tmp_path, "2026-03-05 fx EUR PLN 4.30\n", "2026-03-02", head=FEE_EUR)["INV-2026-0001"]
    assert r.late_fee is None
    [problem] = r.problems
    assert problem.code == "E150" and problem.is_error
    assert (problem.span.file.endswith("ledger.bill"), problem.span.line) == (True, 14)  # the invoice
    assert "no fx rate EUR/PLN on or before 2026-03-02" in problem.message
    assert "2026-03-02 fx EUR PLN RATE" in problem.hint

    folder = tmp_path / "ledger"
    result = cli("remind", "-f", folder, "--as-of", "2026-03-02", "--out", tmp_path / "out")
    assert result.code == 1, result
    assert "error[E150]" in result.err and "ledger.bill:14" in result.err
    assert not list(tmp_path.glob("out/*.eml"))  # nothing is written for it
