"""Teams and agreements (LANGUAGE.md section 12): people, role rates, `by`, `sent`, `accepted`.

Every figure below is computed by hand; the arithmetic is in the comments.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date
from decimal import Decimal

import pytest
from conftest import cli, invoices_json, write_ledger
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from textbill import pipeline
from textbill.syntax.parser import Syntax, parse_text

TEAM = """
    client c "C"
      tax VAT 23%
    person ann "Ann Senior"
      role senior
      email ann@acme.example
    person jo "Jo Junior"
      role junior
    person sam "Sam Norole"
    person dee "Dee Designer"
      role designer
    sow c/h "Hourly"
      period 2026-01-01 .. 2026-12-31
      hourly 100.00
      rate senior 180.00
      rate junior 60.00
      increment 15m
      cap 5h
    2026-01-05 time c/h 1h10m "a" by ann            ; 70 -> 75 min x 180 / 60 = 225.00
    2026-01-06 time c/h 50m "b" by jo               ; 50 -> 60 min x 60 / 60  =  60.00
    2026-01-07 time c/h 20m "c" by sam              ; no role: 30 min x 100 / 60 = 50.00
    2026-01-08 time c/h 7m "d"                      ; no by: 15 min x 100 / 60 = 25.00
    2026-01-09 time c/h 1h "e" by dee               ; a role no SOW prices: 60 x 100 / 60 = 100.00
    2026-01-10 time c/h 2h "f" by ann nonbillable   ; not billed
    2026-01-12 time c/h 09:00-09:05 "g" #x by jo    ; 5 -> 15 min x 60 / 60 = 15.00
    2026-01-31 invoice INV-2026-0001 c
"""


def test_role_rates_people_without_role_and_entries_without_by(ledger):
    folder = ledger(TEAM)
    inv = invoices_json(folder, "2026-01-31")["INV-2026-0001"]
    # net 225 + 60 + 50 + 25 + 100 + 15 = 475.00; VAT 23% = 109.25
    assert (inv["net"], inv["tax"], inv["total"]) == ("475.00", "109.25", "584.25")


def test_an_invoice_keeps_its_time_amounts_per_day_and_person_and_each_line_its_entry(ledger):
    folder = ledger(TEAM + """
    2026-01-05 time c/h 20m "a2" by ann             ; 20 -> 30 min x 180 / 60 = 90.00, Jan 5 with "a"
    2026-01-31 invoice INV-2026-0002 c              ; bills nothing: no time amounts
""")
    analysis = pipeline.analyze(folder)
    doc = analysis.books.invoices["INV-2026-0001"]
    assert list(doc.time_amounts()) == [
        (date(2026, 1, 5), "ann", Decimal("315.00")), (date(2026, 1, 6), "jo", Decimal("60.00")),
        (date(2026, 1, 7), "sam", Decimal("50.00")), (date(2026, 1, 8), None, Decimal("25.00")),
        (date(2026, 1, 9), "dee", Decimal("100.00")), (date(2026, 1, 12), "jo", Decimal("15.00"))]
    assert list(analysis.books.invoices["INV-2026-0002"].time_amounts()) == []
    entries = {t.description: t for t in analysis.ledger.times}
    for ln in doc.lines:  # each line names the entry it bills, once
        assert ln.sources == (entries[ln.description].span,) and ln.source is entries[ln.description].span


def test_invoice_lines_name_the_person_and_explain_says_why(ledger):
    folder = ledger(TEAM)
    r = cli("explain", "INV-2026-0001", "-f", folder, "--format", "json")
    assert r.code == 0, r
    lines = r.json()["lines"]
    assert [(ln["description"], ln.get("person"), ln["unit_price"], ln["amount"]) for ln in lines] == [
        ("a", "ann", "180", "225.00"), ("b", "jo", "60", "60.00"), ("c", "sam", "100", "50.00"),
        ("d", None, "100", "25.00"), ("e", "dee", "100", "100.00"), ("g", "jo", "60", "15.00")]
    text = cli("explain", "INV-2026-0001", "-f", folder).out
    assert "rate 180 USD/h: Ann Senior is senior; the SOW's rate for senior" in text
    assert "rate 100 USD/h: Sam Norole has no role: the SOW's default rate" in text
    assert "rate 100 USD/h: Dee Designer is designer, a role this SOW sets no rate for" in text
    assert "rate 100 USD/h: no 'by': the company's own time at the SOW's default rate" in text
    html = cli("invoices", "-f", folder).out  # the table still lists it
    assert "INV-2026-0001" in html


def test_a_cap_in_hours_counts_every_person(ledger):
    folder = ledger(TEAM)
    r = cli("check", "-f", folder)
    # billable rounded minutes 75 + 60 + 30 + 15 + 60 = 240 = 80% of 5h on Jan 9 (entry "e")
    assert "warning[W162]: SOW 'c/h' has used 4.00h of its cap 5.00h (80%)" in r.err, r
    assert "E163" not in r.err


def test_a_cap_in_money_counts_role_rates(ledger):
    folder = ledger("""
        client c "C"
        person ann "Ann"
          role senior
        sow c/h "Hourly"
          hourly 100.00 USD
          rate senior 200.00
          cap 500.00
        2026-01-05 time c/h 2h "a" by ann      ; 400.00 at the senior rate (200.00 at the default)
        2026-01-06 time c/h 1h "b"             ; 100.00: 500.00 in all, not yet over
        2026-01-07 time c/h 6m "c"             ; 10.00: 510.00, over the cap
    """)
    r = cli("check", "-f", folder)
    assert "error[E163]: SOW 'c/h' goes over its cap with this entry: 510.00 USD of 500.00 USD (102%)" in r.err, r


def test_fast_path_and_lark_build_the_same_nodes():
    text = (
        'company a "A"\n'
        '2026-01-05 time c/h 3h "Kickoff" by alice\n'
        '2026-01-05 time c/h 09:00-10:00 "x" #t by bob nonbillable\n'
        '2026-01-05 time c/h 1h by nonbillable\n'
        '2026-01-05 time c/h 45m #a by b-2 #b\n'
        '2026-01-02 sent c/h\n'
        '2026-01-04 accepted c/h "Hank Scorpio" ref "contracts/h.pdf"\n'
    )
    fast = parse_text(text, "x.bill", Syntax(fast_path=True))
    slow = parse_text(text, "x.bill", Syntax(fast_path=False))
    assert fast[0] == slow[0] and fast[1] == slow[1] == []
    times = [n for n in fast[0] if type(n).__name__ == "TimeEntry"]
    assert [(t.person, t.billable, t.tags) for t in times] == [
        ("alice", True, ()), ("bob", False, ("t",)), ("nonbillable", True, ()), ("b-2", True, ("a", "b"))]


def test_by_twice_is_an_error(ledger):
    folder = ledger("""
        client c "C"
        person a "A"
        sow c/h "H"
          hourly 10
        2026-01-05 time c/h 1h by a by a
    """)
    r = cli("check", "-f", folder)
    assert r.code == 1 and "error[E015]: 'by' is given twice in this time entry" in r.err, r


def test_fmt_keeps_people_rates_and_agreements(ledger):
    folder = ledger("""
        client c "C"
        person   ann   "Ann"
            role senior
        sow c/h "H"
           hourly 10
           rate   senior   20
        2026-01-02   sent c/h
        2026-01-05 time c/h 1h "x"   by ann
        2026-01-06 time c/h 2h "long"  by ann
    """)
    assert cli("fmt", "-f", folder).code == 0
    text = (folder / "ledger.bill").read_text()
    assert "person ann \"Ann\"\n  role senior\n" in text and "  rate senior 20\n" in text
    assert "2026-01-05 time c/h 1h \"x\"    by ann" in text or "2026-01-05 time c/h 1h \"x\" by ann" in text
    assert cli("fmt", "--check", "-f", folder).code == 0


# ---------------------------------------------------------------------------- agreements and locks

AGREEMENT = """
    client globex "Globex Corporation"
      contact "Hank Scorpio" hank@globex.example
    person alice "Alice Kowalska"
      role senior
    person jun "Jun Park"
      role junior
    sow globex/web-2026 "Website redesign"
      period 2026-01-01 .. 2026-06-30
      hourly 150.00 USD
      rate senior 180.00
      rate junior 90.00
      cap 200h
      deliverable "Responsive site, 12 templates"
      deliverable "Content migration"
    2026-01-02 sent globex/web-2026
"""
ACCEPTED = '    2026-01-04 accepted globex/web-2026 "Hank Scorpio" ref "contracts/globex-web.pdf"\n'


def _pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler) is not installed")
def test_agreement_pdf_is_a_draft_until_accepted(ledger, tmp_path):
    folder = ledger(AGREEMENT)
    out = tmp_path / "draft.pdf"
    r = cli("agreement", "globex/web-2026", "--out", out, "-f", folder)
    assert r.code == 0, r
    text = _pdf_text(out)
    assert "DRAFT" in text and "Hank Scorpio" not in text.split("For Globex Corporation")[-1]
    for fact in ("Website redesign", "Responsive site, 12 templates", "Content migration", "senior", "USD 180.00",
                 "junior", "USD 90.00", "USD 150.00", "Alice Kowalska", "At most 200 hours", "Jan 1, 2026"):
        assert fact in text, fact

    with (folder / "ledger.bill").open("a") as f:
        f.write(ACCEPTED.strip() + "\n")
    out2 = tmp_path / "accepted.pdf"
    assert cli("agreement", "globex/web-2026", "--out", out2, "-f", folder).code == 0
    text2 = _pdf_text(out2)
    assert "DRAFT" not in text2
    assert text2.split("For Globex Corporation")[-1].count("Hank Scorpio") == 2  # signature and name
    assert "Accepted by Hank Scorpio on Jan 4, 2026" in text2 and "contracts/globex-web.pdf" in text2
    assert "USD 180.00" in text2 and "Responsive site, 12 templates" in text2


def test_build_writes_agreements_in_a_ledger_that_uses_them(ledger, tmp_path):
    folder = ledger(AGREEMENT + ACCEPTED)
    out = tmp_path / "site"
    (folder / "textbill.yaml").write_text("formats: [html, json]\n")
    r = cli("build", folder, "--out", out)
    assert r.code == 0, r
    html = (out / "agreements" / "globex-web-2026.html").read_text()
    assert "Accepted by Hank Scorpio on Jan 4, 2026" in html and 'class="draft-mark"' not in html
    model = json.loads((out / "agreements" / "globex-web-2026.json").read_text())
    assert (model["state"], model["accepted"]["signer"]) == ("accepted", "Hank Scorpio")
    assert model["rates"] == [{"role": "senior", "rate": "180.00", "currency": "USD", "people": "Alice Kowalska"},
                              {"role": "junior", "rate": "90.00", "currency": "USD", "people": "Jun Park"}]
    index = (out / "index.html").read_text()
    assert 'id="agreements"' in index and "accepted by Hank Scorpio" in index


def test_an_accepted_sows_rate_change_is_the_locked_terms_error(ledger):
    folder = ledger(AGREEMENT + ACCEPTED)
    assert cli("lock", "-f", folder).code == 0
    assert "sow globex/web-2026 accepted 2026-01-04 sha256:" in (folder / "textbill.lock").read_text()
    assert cli("check", "-f", folder).code == 0
    bill = folder / "ledger.bill"
    bill.write_text(bill.read_text().replace("rate senior 180.00", "rate senior 200.00"))
    r = cli("check", "-f", folder)
    assert r.code == 1, r
    assert ("error[E307]: SOW 'globex/web-2026' was accepted on 2026-01-04: its rate senior changed from "
            "180.00 to 200.00") in r.err
    assert "  rate senior 200.00\n" in r.err  # the caret is on the changed line


def test_an_unaccepted_sow_is_freely_editable(ledger):
    folder = ledger(AGREEMENT)
    assert cli("lock", "-f", folder).code == 0
    bill = folder / "ledger.bill"
    bill.write_text(bill.read_text().replace("rate senior 180.00", "rate senior 200.00").replace("cap 200h", "cap 300h"))
    r = cli("check", "-f", folder)
    assert r.code == 0 and "E307" not in r.err, r


def test_billing_an_unaccepted_sow_warns_only_in_a_ledger_with_agreements(ledger, tmp_path):
    old = write_ledger(tmp_path / "old", """
        client c "C"
        sow c/h "H"
          hourly 100
        2026-01-05 time c/h 1h "x"
        2026-01-31 invoice INV-2026-0001 c
    """)
    assert "W301" not in cli("check", "-f", old).err
    sent = write_ledger(tmp_path / "sent", """
        client c "C"
        sow c/h "H"
          hourly 100
        2026-01-02 sent c/h
        2026-01-05 time c/h 1h "x"
        2026-01-31 invoice INV-2026-0001 c
    """)
    r = cli("check", "-f", sent)
    assert "warning[W301]: invoice 'INV-2026-0001' bills SOW 'c/h', which is not accepted" in r.err, r
    accepted = write_ledger(tmp_path / "accepted", """
        client c "C"
        sow c/h "H"
          hourly 100
        2026-01-02 sent c/h
        2026-02-03 accepted c/h "Hank"
        2026-01-05 time c/h 1h "x"
        2026-01-31 invoice INV-2026-0001 c
    """)
    r = cli("check", "-f", accepted)
    assert "bills SOW 'c/h', which was only accepted on 2026-02-03" in r.err, r


# ---------------------------------------------------------------------------- who tracks time

def test_clock_in_as_a_person_writes_by(ledger, monkeypatch):
    folder = ledger(TEAM)
    r = cli("clock", "in", "c/h", "Design", "--at", "2026-02-02T09:00", "--as", "ann", "-f", folder)
    assert r.code == 0, r
    r = cli("clock", "out", "--at", "2026-02-02T10:30", "-f", folder)
    assert r.code == 0, r
    assert '2026-02-02 time c/h 09:00-10:30 "Design" by ann\n' in (folder / "ledger.bill").read_text()
    # TEXTBILL_USER is the default; an unknown person is a usage error with a suggestion
    r = cli("clock", "in", "c/h", "--at", "2026-02-03T09:00", "-f", folder, env={"TEXTBILL_USER": "jon"})
    assert r.code == 2 and "unknown person 'jon'" in r.err and "did you mean 'jo'" in r.err, r
    r = cli("clock", "in", "c/h", "--at", "2026-02-03T09:00", "-f", folder, env={"TEXTBILL_USER": "jo"})
    assert r.code == 0, r
    assert cli("clock", "out", "--at", "2026-02-03T09:45", "-f", folder).code == 0
    assert '2026-02-03 time c/h 09:00-09:45 by jo\n' in (folder / "ledger.bill").read_text()


TOGGL = (
    "User,Email,Client,Project,Task,Description,Billable,Start date,Start time,End date,End time,Duration,Tags\n"
    "Ann S,ann@acme.example,C,c/h,,Design,Yes,2026-02-07,09:00:00,2026-02-07,10:00:00,01:00:00,\n"
    "Jo J,jo.j@acme.example,C,c/h,,Dev,Yes,2026-02-07,11:00:00,2026-02-07,12:00:00,01:00:00,\n"
)


def test_toggl_users_map_to_people(ledger, tmp_path):
    folder = ledger(TEAM.replace("cap 5h", "cap 50h"))
    src = tmp_path / "toggl.csv"
    src.write_text(TOGGL)
    r = cli("import", "toggl", src, "-f", folder, "--dry-run")
    assert r.code == 1 and "error[E309]: tracker user 'jo.j@acme.example' is no person of the ledger" in r.err, r
    (folder / "textbill.yaml").write_text('people: {"jo.j@acme.example": jo}\n')
    r = cli("import", "toggl", src, "-f", folder, "--dry-run")
    assert r.code == 0, r
    lines = r.out.splitlines()
    assert lines[0].startswith('2026-02-07 time c/h 09:00-10:00 "Design" #import-') and lines[0].endswith(" by ann")
    assert lines[1].startswith('2026-02-07 time c/h 11:00-12:00 "Dev" #import-') and lines[1].endswith(" by jo")


def test_report_team(ledger):
    folder = ledger(TEAM)
    r = cli("report", "team", "--as-of", "2026-12-31", "--format", "json", "-f", folder)
    assert r.code == 0, r
    rows = {row["person"]: row for row in r.json()}
    # ann: 70 min billable, 120 min nonbillable -> 1.17h and 2.00h, 36.8% (70/190); billed 225.00
    assert rows["ann"] == {"month": "2026-01", "person": "ann", "name": "Ann Senior", "role": "senior",
                           "billable_hours": "1.17", "nonbillable_hours": "2.00", "hours": "3.17",
                           "utilisation": "36.8", "billed": {"USD": "225.00"}}
    # jo: 50 + 5 min, billed 60.00 + 15.00
    assert (rows["jo"]["billable_hours"], rows["jo"]["billed"]) == ("0.92", {"USD": "75.00"})
    assert (rows[None]["name"], rows[None]["billed"]) == ("(company)", {"USD": "25.00"})
    r = cli("report", "team", "--as-of", "2026-01-30", "--format", "csv", "-f", folder)
    assert r.code == 0 and "2026-01,ann,Ann Senior,senior,1.17,2.00,3.17,36.8,\n" in r.out, r


def test_role_rates_convert_with_fx_like_the_default_rate(ledger):
    folder = ledger("""
        client c "C"
          currency USD
        person ann "Ann"
          role senior
        sow c/h "Hourly"
          hourly 100.00 EUR
          rate senior 150.00
          increment 15m
        2026-01-02 fx EUR USD 1.1
        2026-01-05 time c/h 1h55m "a" by ann   ; 115 -> 120 min x 150 EUR / 60 = 300 EUR x 1.1 = 330.00 USD
        2026-01-06 time c/h 10m "b"            ; 15 min x 100 EUR / 60 = 25 EUR x 1.1 = 27.50 USD
        2026-01-31 invoice INV-2026-0001 c
    """)
    assert invoices_json(folder)["INV-2026-0001"]["total"] == "357.50"


def _reference_team_rows(ledger, books, as_of, start=None, end=None):
    """The team report as first written: a row looked up per entry and per billed amount."""
    from textbill.reports.team import NOBODY, TeamRow
    rows = {}

    def row(day, person):
        pid = person or NOBODY
        key = (f"{day.year:04d}-{day.month:02d}", pid)
        if key not in rows:
            p = ledger.people.get(pid)
            rows[key] = TeamRow(key[0], pid, p.name if p else (pid or "(company)"), (p.role or "") if p else "")
        return rows[key]

    def inside(day):
        return day <= as_of and (start is None or day >= start) and (end is None or day <= end)

    for t in ledger.times:
        if inside(t.date):
            r = row(t.date, t.person)
            if t.billable:
                r.billable_minutes += t.minutes
            else:
                r.nonbillable_minutes += t.minutes
    billed = {}
    for doc in books.invoices.values():
        if doc.invoice.date <= as_of:
            for day, person, amount in doc.time_amounts():
                if inside(day):
                    r = row(day, person)
                    per = billed.setdefault((r.month, r.person), {})
                    per[doc.currency] = per.get(doc.currency, Decimal(0)) + amount
    for key, per in billed.items():
        rows[key].billed = dict(sorted(per.items()))
    order = {pid: i for i, pid in enumerate(ledger.people)}
    return sorted(rows.values(), key=lambda r: (r.month, order.get(r.person, len(order)), r.person))


_DAYS = st.dates(date(2026, 1, 1), date(2026, 4, 30))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=st.lists(st.tuples(_DAYS, st.sampled_from(["ann", "jo", "sam", None]), st.integers(1, 600),
                                  st.booleans()), max_size=30),
       invoiced=st.sets(st.integers(1, 4)), as_of=_DAYS, start=st.none() | _DAYS, end=st.none() | _DAYS)
def test_the_team_rows_are_those_of_a_row_per_entry(tmp_path_factory, entries, invoiced, as_of, start, end):
    from textbill.reports.team import team_rows
    text = TEAM.split("    2026-01-05 time")[0] + "".join(
        f'    {day} time c/h {minutes}m "w"{f" by {who}" if who else ""}{"" if billable else " nonbillable"}\n'
        for day, who, minutes, billable in entries) + "".join(
        f"    2026-0{month}-28 invoice INV-2026-000{month} c\n" for month in sorted(invoiced))
    folder = write_ledger(tmp_path_factory.mktemp("team"), text)
    analysis = pipeline.analyze(folder, cache=False)
    assert team_rows(analysis.ledger, analysis.books, as_of, start, end) == \
        _reference_team_rows(analysis.ledger, analysis.books, as_of, start, end)
