"""Reminder e-mails as files: golden .eml output, header safety, themes, the recorded entry.

Refresh the golden files after an intended change with:
    TEXTBILL_REFRESH_GOLDEN=1 pytest tests/test_remind_eml.py
"""
from __future__ import annotations

import email
import email.policy
import hashlib
import os
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write_ledger

from textbill.cli.main import main
from textbill.render import eml
from textbill.workflow.reminders import reminded_entry

GOLDEN = Path(__file__).parent / "golden" / "remind"
FAKE_PDF = b"%PDF-1.4\n% a stand-in invoice for tests\n%%EOF\n"

# As of 2026-03-02: INV-2025-0001 due 2025-12-31 (+61: final); INV-2026-0001 under a plan, installment 1
# due 02-15 (+15: friendly); INV-2026-0002 due 02-09 (+21: firm, late fee); INV-2026-0003 due 03-03
# (-1: upcoming, to the contact's address since the client has no `email`).  Only INV-2025-0001 had an
# earlier reminder, so only its text speaks of one.
LEDGER = r'''
company acme "Acme & Sons \"Consulting\" Ltd"
  address "1 Main St\nSpringfield"
  email billing@acme.example
  phone "+1 555 0100"
  currency USD
  bank "First Bank" iban DE89370400440532013000 bic COBADEFFXXX
  payment-methods bank-transfer card
  late-interest 10% yearly
  late-fee 40.00

reminders standard
  step -3d  "upcoming"
  step +7d  "friendly"
  step +21d "firm" late-fee
  step +45d "final"

client globex "Globex Corporation"
  contact "Hank Scorpio" hank@globex.example
  email ap@globex.example

client initech "Initech"
  contact "Bill Lumbergh" bill@initech.example

client umbrella "Umbrella Żółć GmbH"
  email ap@umbrella.example
  currency EUR

2025-12-01 invoice INV-2025-0001 globex
  item "Discovery workshop" 1 x 800.00

2026-01-05 invoice INV-2026-0001 umbrella
  item "Audit" 1 x 500.00

2026-01-10 invoice INV-2026-0002 globex
  item "Design" 10 x 150.00

2026-02-01 invoice INV-2026-0003 initech
  item "Support" 1 x 99.00

2026-01-20 payment globex 300.00 for INV-2026-0002
2026-02-01 plan INV-2026-0001 2 installments every 14 days
2026-01-07 reminded INV-2025-0001 friendly
'''


def make_ledger(folder: Path, text: str = LEDGER, yaml: str | None = None) -> Path:
    return write_ledger(folder, text, company=False, config=yaml)


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result


@pytest.fixture
def fake_pdf(monkeypatch):
    """A fixed PDF instead of the real renderer (whose output carries timestamps)."""
    calls = []

    def render(analysis, doc):
        calls.append(doc.number)
        return FAKE_PDF, None

    monkeypatch.setattr(eml, "invoice_pdf", render)
    return calls


@pytest.fixture
def no_pdf(monkeypatch):
    monkeypatch.setattr(eml, "invoice_pdf", lambda analysis, doc: (None, "invoice PDF rendering is not available"))


def snapshot(folder: Path) -> dict[str, str]:
    """The ledger's own files (not textbill's hidden caches and locks) and their content."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)}


# ---------------------------------------------------------------------------- golden output

def test_golden_eml_files(tmp_path, fake_pdf):
    folder = make_ledger(tmp_path / "ledger")
    out = tmp_path / "out"
    r = run("remind", "-f", folder, "--as-of", "2026-03-02", "--out", out)
    assert r.exit_code == 0, r.output + r.stderr
    written = sorted(p.name for p in out.iterdir())
    assert written == ["INV-2025-0001-final.eml", "INV-2026-0001-i1-friendly.eml",
                       "INV-2026-0002-firm.eml", "INV-2026-0003-upcoming.eml"]
    assert sorted(fake_pdf) == ["INV-2025-0001", "INV-2026-0001", "INV-2026-0002", "INV-2026-0003"]
    if os.environ.get("TEXTBILL_REFRESH_GOLDEN"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for old in GOLDEN.glob("*.eml"):
            old.unlink()
        for name in written:
            (GOLDEN / name).write_bytes((out / name).read_bytes())
    assert sorted(p.name for p in GOLDEN.glob("*.eml")) == written, "refresh with TEXTBILL_REFRESH_GOLDEN=1"
    for name in written:
        assert (out / name).read_bytes() == (GOLDEN / name).read_bytes(), f"{name} differs from its golden file"


def test_earlier_reminders_are_mentioned_only_when_there_were_some(tmp_path, fake_pdf):
    folder = make_ledger(tmp_path / "ledger")
    out = tmp_path / "out"
    run("remind", "-f", folder, "--as-of", "2026-03-02", "--out", out)
    final = words(body(parsed(out / "INV-2025-0001-final.eml"), "plain"))
    firm = words(body(parsed(out / "INV-2026-0002-firm.eml"), "plain"))
    assert "despite our earlier reminders" in final
    assert "earlier" not in firm and firm.startswith("Dear Hank Scorpio, Invoice INV-2026-0002 for 1,200.00 USD")


def test_the_real_invoice_pdf_is_attached(tmp_path):
    folder = make_ledger(tmp_path / "ledger")
    out = tmp_path / "out"
    r = run("remind", "-f", folder, "--as-of", "2026-03-02", "--out", out, "--client", "initech")
    assert r.exit_code == 0, r.stderr
    assert "without the invoice PDF" not in r.stderr
    msg = parsed(out / "INV-2026-0003-upcoming.eml")
    (pdf,) = list(msg.iter_attachments())
    assert (pdf.get_content_type(), pdf.get_filename()) == ("application/pdf", "INV-2026-0003.pdf")
    assert pdf.get_content().startswith(b"%PDF-")
    assert "The invoice is attached as a PDF." in body(msg, "plain")


def test_output_is_deterministic(tmp_path, fake_pdf):
    folder = make_ledger(tmp_path / "ledger")
    for out in ("a", "b"):
        assert run("remind", "-f", folder, "--as-of", "2026-03-02", "--out", tmp_path / out).exit_code == 0
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "b")


def parsed(path: Path) -> email.message.EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def body(msg, kind: str) -> str:
    """A part's text with the wire's CRLF line ends made plain."""
    return msg.get_body((kind,)).get_content().replace("\r\n", "\n")


def words(text: str) -> str:
    """Text with line wrapping undone, for phrases that may wrap."""
    return " ".join(text.split())


def test_message_structure_and_headers(tmp_path, fake_pdf):
    folder = make_ledger(tmp_path / "ledger")
    out = tmp_path / "out"
    run("remind", "-f", folder, "--as-of", "2026-03-02", "--out", out)
    msg = parsed(out / "INV-2026-0002-firm.eml")
    assert msg["From"].addresses[0].display_name == 'Acme & Sons "Consulting" Ltd'
    assert msg["From"].addresses[0].addr_spec == "billing@acme.example"
    assert str(msg["To"]) == "Globex Corporation <ap@globex.example>"
    # 'friendly' was skipped (firm is due too), so this is the first reminder sent: titled as such (issue 13)
    assert msg["Subject"] == "Reminder: invoice INV-2026-0002 is 21 days overdue"
    assert msg["Date"] == "Mon, 02 Mar 2026 00:00:00 +0000"
    assert msg["Message-ID"] == "<reminder.INV-2026-0002.firm.20260302@acme.example>"
    assert [p.get_content_type() for p in msg.walk()] == [
        "multipart/mixed", "multipart/alternative", "text/plain", "text/html", "application/pdf"]
    text = body(msg, "plain")
    html = body(msg, "html")
    for part in (text, html):
        assert "1,200.00 USD" in part          # the amount due: 1500.00 - 300.00 paid
        assert "6.90 USD" in part              # late interest: 1200 x 10% x 21 / 365 = 6.904
        assert "40.00 USD" in part             # the late fee of the firm step
        assert "DE89 3704 0044 0532 0130 00" in part
        assert "COBADEFFXXX" in part
        assert "9 February 2026" in part
    assert "Acme &amp; Sons &#34;Consulting&#34; Ltd" in html  # autoescaped
    pdf = [p for p in msg.iter_attachments()]
    assert [(p.get_filename(), p.get_content()) for p in pdf] == [("INV-2026-0002.pdf", FAKE_PDF)]


def test_installment_and_non_ascii_name(tmp_path, fake_pdf):
    folder = make_ledger(tmp_path / "ledger")
    out = tmp_path / "out"
    run("remind", "-f", folder, "--as-of", "2026-03-02", "--out", out)
    msg = parsed(out / "INV-2026-0001-i1-friendly.eml")
    assert str(msg["To"]) == "Umbrella Żółć GmbH <ap@umbrella.example>"
    assert b"\xc5\xbb" not in (out / "INV-2026-0001-i1-friendly.eml").read_bytes().split(b"\r\n\r\n")[0]
    text = body(msg, "plain")
    assert "invoice INV-2026-0001 (installment 1 of 2) for 250.00 EUR was due on 15 February 2026" in words(text)
    assert "Still open on the whole invoice: 500.00 EUR" in text


def test_upcoming_goes_to_the_contact_when_the_client_has_no_email(tmp_path, fake_pdf):
    folder = make_ledger(tmp_path / "ledger")
    out = tmp_path / "out"
    run("remind", "-f", folder, "--as-of", "2026-03-02", "--out", out)
    msg = parsed(out / "INV-2026-0003-upcoming.eml")
    assert str(msg["To"]) == "Bill Lumbergh <bill@initech.example>"
    text = body(msg, "plain")
    assert text.startswith("Dear Bill Lumbergh,\n")
    assert "is due in 1 day, on 3 March 2026" in words(text)
    assert "Late fee" not in text and "Late interest" not in text


def test_without_a_pdf_renderer_the_message_has_no_attachment(tmp_path, no_pdf):
    folder = make_ledger(tmp_path / "ledger")
    out = tmp_path / "out"
    r = run("remind", "-f", folder, "--as-of", "2026-03-02", "--out", out)
    assert r.exit_code == 0
    assert r.stderr.count("without the invoice PDF") == 1  # said once, not per message
    msg = parsed(out / "INV-2026-0002-firm.eml")
    assert [p.get_content_type() for p in msg.walk()] == ["multipart/alternative", "text/plain", "text/html"]
    assert "attached" not in body(msg, "plain")


def test_out_changes_nothing_in_the_ledger(tmp_path, fake_pdf):
    folder = make_ledger(tmp_path / "ledger")
    before = snapshot(folder)
    assert run("remind", "-f", folder, "--as-of", "2026-03-02", "--out", tmp_path / "out").exit_code == 0
    assert snapshot(folder) == before


def test_listing_changes_nothing_and_shows_the_due_reminders(tmp_path, no_pdf):
    folder = make_ledger(tmp_path / "ledger")
    before = snapshot(folder)
    r = run("remind", "-f", folder, "--as-of", "2026-03-02", "--format", "json")
    assert r.exit_code == 0, r.stderr
    import json

    rows = {(x["invoice"], x["step"]): x for x in json.loads(r.stdout)}
    assert set(rows) == {("INV-2025-0001", "final"), ("INV-2026-0001", "friendly"),
                         ("INV-2026-0002", "firm"), ("INV-2026-0003", "upcoming")}
    firm = rows[("INV-2026-0002", "firm")]
    assert (firm["amount_due"], firm["late_interest"], firm["late_fee"], firm["late_fee_currency"],
            firm["days_overdue"], firm["to"]) == ("1200.00", "6.90", "40.00", "USD", 21, "ap@globex.example")
    assert rows[("INV-2026-0001", "friendly")]["installment"] == 1
    table = run("remind", "-f", folder, "--as-of", "2026-03-02", "--client", "globex")
    assert table.exit_code == 0
    assert "INV-2026-0002" in table.stdout and "INV-2026-0003" not in table.stdout
    assert snapshot(folder) == before


def test_unknown_client_is_a_usage_error(tmp_path, no_pdf):
    folder = make_ledger(tmp_path / "ledger")
    r = run("remind", "-f", folder, "--as-of", "2026-03-02", "--client", "globx")
    assert r.exit_code == 2
    assert "did you mean 'globex'" in r.stderr


# ---------------------------------------------------------------------------- header injection

INJECTION = r'''
company acme "Acme"
  email billing@acme.example
  currency USD

reminders standard
  step +7d "friendly"

client good "Good Co"
  email ap@good.example

client evil "Evil Corp"
  email "ap@evil.example\nBcc: victim@else.example"

2026-01-10 invoice INV-2026-0001 good
  item "Work" 1 x 100.00

2026-01-11 invoice INV-2026-0002 evil
  item "Work" 1 x 100.00
'''


@pytest.mark.parametrize("client_lines, code, line", [
    ('client evil "Evil Corp"\n  email "ap@evil.example\\nBcc: victim@else.example"', "E251", 12),
    ('client evil "Evil Corp"\n  email "ap@evil.example\\r\\nBcc: victim@else.example"', "E251", 12),
    ('client evil "Evil Corp"\n  email "ap@evil.example, victim@else.example"', "E251", 12),
    ('client evil "Evil\\nBcc: victim@else.example"\n  email ap@evil.example', "E252", 11),
    ('client evil "Evil Corp"\n  contact "Eve\\nBcc: victim@else.example" eve@evil.example', "E252", 12),
    ('client evil "Evil Corp"\n  contact "Eve" "eve@evil.example\\nBcc: victim@else.example"', "E251", 12),
], ids=["lf-in-address", "crlf-in-address", "two-addresses", "lf-in-name", "lf-in-contact", "lf-in-contact-mail"])
def test_header_injection_is_refused_with_a_located_error(tmp_path, fake_pdf, client_lines, code, line):
    text = INJECTION.replace('client evil "Evil Corp"\n  email "ap@evil.example\\nBcc: victim@else.example"',
                             client_lines)
    folder = make_ledger(tmp_path / "ledger", text)
    out = tmp_path / "out"
    r = run("remind", "-f", folder, "--as-of", "2026-03-01", "--out", out)
    assert r.exit_code == 1
    assert f"ledger.bill:{line}:" in r.stderr and f"error[{code}]" in r.stderr
    # the good client's reminder is still written; the evil one is not
    assert sorted(p.name for p in out.iterdir()) == ["INV-2026-0001-friendly.eml"]
    assert b"victim" not in (out / "INV-2026-0001-friendly.eml").read_bytes()


def test_a_client_without_any_address_cannot_be_reminded(tmp_path, no_pdf):
    text = INJECTION.replace('  email "ap@evil.example\\nBcc: victim@else.example"\n', "")
    folder = make_ledger(tmp_path / "ledger", text)
    r = run("remind", "-f", folder, "--as-of", "2026-03-01")
    assert r.exit_code == 1
    assert "error[E250]" in r.stderr and "client 'evil' has no e-mail address" in r.stderr
    assert "INV-2026-0002" in r.stdout  # still listed as due


@pytest.mark.parametrize("value", ["a\nb", "a\rb", "a\u2028b", "a\x85b", "a\x00b", "a\tb"])
def test_header_problem_finds_every_line_break_and_control_character(value):
    assert eml.header_problem(value) is not None


@pytest.mark.parametrize("value", ["Globex Corporation", "Umbrella Żółć GmbH", "O'Brien & Sons", "李雷"])
def test_header_problem_accepts_ordinary_names(value):
    assert eml.header_problem(value) is None


@pytest.mark.parametrize("value, ok", [
    ("ap@globex.example", True), ("first.last+tag@mail.example.co.uk", True),
    ("ap@globex", False), ("ap globex@x.example", False), ("<ap@x.example>", False),
    ("a@x.example,b@y.example", False), ("Name <a@x.example>", False), ("a@@x.example", False),
    ("a@-x.example", False), (".a@x.example", False),
])
def test_address_check(value, ok):
    assert (eml.address_problem(value) is None) == ok


# ---------------------------------------------------------------------------- themes

def test_a_user_theme_overrides_one_template_and_inherits_the_rest(tmp_path, no_pdf):
    folder = make_ledger(tmp_path / "ledger", yaml="theme: mytheme\n")
    reminders = folder / "mytheme" / "reminders"
    reminders.mkdir(parents=True)
    (reminders / "firm.txt").write_text("Subject: Pay {{ number }} now, {{ client.name }}\n"
                                        "Amount: {{ amount_due }}\n", encoding="utf-8")
    out = tmp_path / "out"
    assert run("remind", "-f", folder, "--as-of", "2026-03-02", "--out", out).exit_code == 0
    msg = parsed(out / "INV-2026-0002-firm.eml")
    assert msg["Subject"] == "Pay INV-2026-0002 now, Globex Corporation"
    assert body(msg, "plain") == "Amount: 1,200.00 USD\n"
    assert "without further delay" in words(body(msg, "html"))  # the bundled firm.html
    assert parsed(out / "INV-2025-0001-final.eml")["Subject"].startswith("Final notice")


def test_a_step_without_its_own_template_uses_default(tmp_path, no_pdf):
    text = LEDGER.replace('step +45d "final"', 'step +45d "last call"')
    folder = make_ledger(tmp_path / "ledger", text)
    out = tmp_path / "out"
    assert run("remind", "-f", folder, "--as-of", "2026-03-02", "--out", out).exit_code == 0
    msg = parsed(out / "INV-2025-0001-last-call.eml")
    assert msg["Subject"] == "Payment reminder: invoice INV-2025-0001"
    assert msg["X-Textbill-Step"] == "last call"


def test_a_subject_made_unsafe_by_a_template_is_refused(tmp_path, no_pdf):
    folder = make_ledger(tmp_path / "ledger", yaml="theme: t\n")
    (folder / "t" / "reminders").mkdir(parents=True)
    (folder / "t" / "reminders" / "firm.txt").write_text(
        "Subject: {{ company.address }}\nbody\n", encoding="utf-8")  # the address holds a line break
    out = tmp_path / "out"
    r = run("remind", "-f", folder, "--as-of", "2026-03-02", "--out", out)
    assert r.exit_code == 1
    assert "error[E252]" in r.stderr and "subject" in r.stderr
    assert not (out / "INV-2026-0002-firm.eml").exists()


def test_html_is_autoescaped(tmp_path, no_pdf):
    text = LEDGER.replace('contact "Hank Scorpio"', 'contact "Hank <script>alert(1)</script>"')
    folder = make_ledger(tmp_path / "ledger", text)
    out = tmp_path / "out"
    assert run("remind", "-f", folder, "--as-of", "2026-03-02", "--out", out).exit_code == 0
    msg = parsed(out / "INV-2026-0002-firm.eml")
    html = body(msg, "html")
    assert "<script>" not in html and "Hank &lt;script&gt;" in html
    assert "Dear Hank <script>alert(1)</script>," in body(msg, "plain")


def test_an_unknown_theme_is_a_located_error(tmp_path, no_pdf):
    # The same rule as check and build: a theme textbill.yaml names but that does not
    # exist is an error in the ledger's configuration (E182, exit 1), not a usage error.
    folder = make_ledger(tmp_path / "ledger", yaml="theme: nosuch\n")
    r = run("remind", "-f", folder, "--as-of", "2026-03-02")
    assert r.exit_code == 1
    assert "E182" in r.stderr and "theme 'nosuch'" in r.stderr
    assert "textbill.yaml:1:" in r.stderr


# ---------------------------------------------------------------------------- the recorded entry

@pytest.mark.parametrize("number, step", [
    ("INV-2026-0001", "friendly"),
    ("FV/2026/0001", "firm"),
    ("2026-0001", "final"),
    ("INV 7", "second notice"),
    ('A"B', 'say "pay"'),
])
def test_a_recorded_entry_reads_back_as_written(tmp_path, number, step):
    from textbill.loading.loader import load

    line = reminded_entry(date(2026, 3, 2), number, step, "ap@x.example")
    (tmp_path / "r.bill").write_text(line, encoding="utf-8")
    loaded = load(tmp_path / "r.bill")
    assert [(r.date, r.invoice, r.step) for r in loaded.ledger.reminded] == [(date(2026, 3, 2), number, step)]
    assert not [d for d in loaded.diagnostics if d.code.startswith("E0")], loaded.diagnostics


def test_theme_templates_run_sandboxed(tmp_path, no_pdf):
    folder = make_ledger(tmp_path / "ledger", yaml="theme: t\n")
    (folder / "t" / "reminders").mkdir(parents=True)
    (folder / "t" / "reminders" / "firm.txt").write_text(
        "Subject: x\n{{ company.__class__.__init__.__globals__ }}\n", encoding="utf-8")
    r = run("remind", "-f", folder, "--as-of", "2026-03-02")
    assert r.exit_code == 2
    assert "unsafe" in r.stderr or "not safely" in r.stderr or "access" in r.stderr


def test_the_firm_step_is_titled_by_the_reminders_actually_sent(tmp_path, fake_pdf):
    """Issue 13: the first reminder ever sent was titled "Second reminder" when the policy's first
    step had been skipped.  A notice before the due date ('upcoming') is not a reminder either."""
    subjects = {}
    for case, extra in (("none", ""), ("upcoming", "2026-02-06 reminded INV-2026-0002 upcoming\n"),
                        ("friendly", "2026-02-16 reminded INV-2026-0002 friendly\n")):
        folder = make_ledger(tmp_path / case, LEDGER + extra)
        out = tmp_path / case / "out"
        assert run("remind", "-f", folder, "--as-of", "2026-03-02", "--out", out).exit_code == 0
        subjects[case] = parsed(out / "INV-2026-0002-firm.eml")["Subject"]
    assert subjects == {
        "none": "Reminder: invoice INV-2026-0002 is 21 days overdue",
        "upcoming": "Reminder: invoice INV-2026-0002 is 21 days overdue",
        "friendly": "Second reminder: invoice INV-2026-0002 is 21 days overdue",
    }
