"""Reminder e-mails in the client's language: Polish and German templates, their fallbacks, formats."""
from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write_ledger

from textbill.cli.main import main
from textbill.render import eml

REMINDERS = Path(__file__).resolve().parents[1] / "themes" / "default" / "reminders"

# As of 2026-03-02: FV/2025/0001 (kowalski, pl) due 2025-12-31, +61: final, after an earlier reminder;
# FV/2026/0001 (bauer, de, under a plan) installment 1 due 2026-02-23, +7: friendly; FV/2026/0002 (bauer)
# due 2026-02-09, +21: firm with the late fee; FV/2026/0003 (dupont, fr: no French templates) due
# 2026-02-23, +7: friendly; FV/2026/0004 (kowalski) due 2026-03-05, -3: upcoming.
LEDGER = r'''
company acme "Acme Sp. z o.o."
  email billing@acme.example
  phone "+48 22 000 00 00"
  currency PLN
  locale pl
  numbering "FV/{year}/{seq:04}"
  bank "mBank" iban PL61109010140000071219812874 bic BREXPLPW
  payment-methods bank-transfer card
  late-interest 11.25% yearly
  late-fee 40.00 EUR

reminders standard
  step -3d  "upcoming"
  step +7d  "friendly"
  step +21d "firm" late-fee
  step +45d "final"

client kowalski "Kowalski Meble S.A."
  email faktury@kowalski.example
  terms net 30

client bauer "Bauer Logistik GmbH"
  contact "Jonas Bauer" j.bauer@bauer.example
  email rechnungen@bauer.example
  currency EUR
  locale de
  terms net 30

client dupont "Dupont SARL"
  email compta@dupont.example
  currency EUR
  locale fr
  terms net 30

2025-12-01 invoice FV/2025/0001 kowalski
  item "Warsztaty" 1 x 1234.50

2026-01-09 invoice FV/2026/0001 bauer
  item "Audit" 1 x 500.00

2026-01-10 invoice FV/2026/0002 bauer
  item "Beratung" 10 x 150.00

2026-01-24 invoice FV/2026/0003 dupont
  item "Conseil" 1 x 99.00

2026-02-03 invoice FV/2026/0004 kowalski
  item "Wsparcie" 1 x 5000.00

2026-01-20 payment bauer 300.00 for FV/2026/0002
2026-02-09 plan FV/2026/0001 2 installments every 14 days
2026-01-07 reminded FV/2025/0001 friendly
2026-02-27 fx EUR PLN 4.2817   ; the company's EUR late fee on PLN invoices: 40.00 x 4.2817 = 171.27 PLN
'''


def make_ledger(folder: Path, text: str = LEDGER) -> Path:
    return write_ledger(folder, text, company=False)


@pytest.fixture
def no_pdf(monkeypatch):
    monkeypatch.setattr(eml, "invoice_pdf", lambda analysis, doc: (None, "no PDF in these tests"))


def remind(folder: Path, out: Path) -> dict[str, email.message.EmailMessage]:
    result = CliRunner().invoke(main, ["remind", "-f", str(folder), "--as-of", "2026-03-02", "--out", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return {p.name: email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            for p in sorted(out.iterdir())}


def bodies(msg) -> tuple[str, str]:
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    return text, html


@pytest.fixture
def mails(tmp_path, no_pdf):
    return remind(make_ledger(tmp_path / "ledger"), tmp_path / "out")


def test_each_reminder_is_due(mails):
    assert sorted(mails) == ["FV-2025-0001-final.eml", "FV-2026-0001-i1-friendly.eml", "FV-2026-0002-firm.eml",
                             "FV-2026-0003-friendly.eml", "FV-2026-0004-upcoming.eml"]


def test_polish_final_notice(mails):
    msg = mails["FV-2025-0001-final.eml"]
    assert msg["Subject"] == "Ostateczne wezwanie do zapłaty: faktura FV/2025/0001"
    text, html = bodies(msg)
    flat = " ".join(text.split())
    for expected in [
        "Szanowni Państwo,", "To jest nasze ostateczne wezwanie do zapłaty.",
        "Termin płatności faktury FV/2025/0001 na kwotę 1 234,50 PLN upłynął 31 grudnia 2025 (61 dni temu)",
        "pomimo naszych wcześniejszych przypomnień", "firmie windykacyjnej",
        "Faktura: FV/2025/0001 z dnia 1 grudnia 2025", "Termin płatności: 31 grudnia 2025",
        "Kwota do zapłaty: 1 234,50 PLN", "(11,25% w skali roku za 61 dni;",
        "Tytuł przelewu: FV/2025/0001", "Akceptujemy: Przelew, Karta płatnicza", "Z poważaniem Acme Sp. z o.o.",
        "Opłata za opóźnienie: 171,27 PLN",  # the EUR fee converted (issue 13), never "40,00 €"
    ]:
        assert expected in flat.replace("\u00a0", " "), expected
    for english in ("Dear", "Invoice", "Kind regards", "How to pay", "overdue"):
        assert english not in text, english
    assert '<html lang="pl">' in html and "<title>Faktura FV/2025/0001</title>" in html
    assert "ostateczne wezwanie do zapłaty" in html and "Kwota do zapłaty" in html
    assert "Dear" not in html and "Kind regards" not in html


def test_polish_upcoming(mails):
    msg = mails["FV-2026-0004-upcoming.eml"]
    assert msg["Subject"] == "Termin płatności faktury FV/2026/0004: 5 marca 2026"
    text, _ = bodies(msg)
    flat = " ".join(text.split()).replace("\u00a0", " ")
    assert "termin płatności faktury FV/2026/0004 na kwotę 5 000,00 PLN upływa 5 marca 2026 (za 3 dni)" in flat


def test_german_mahnung_with_late_fee(mails):
    msg = mails["FV-2026-0002-firm.eml"]
    assert msg["Subject"] == "Mahnung: Rechnung FV/2026/0002 ist seit 21 Tagen überfällig"
    text, html = bodies(msg)
    flat = " ".join(text.split())
    for expected in [
        "Guten Tag Jonas Bauer,",
        ("die Rechnung FV/2026/0002 über 1.200,00 EUR war am 9. Februar 2026 fällig und ist seit 21 Tagen "
         "überfällig."),
        "Gemäß unseren Zahlungsbedingungen berechnen wir nun eine einmalige Mahngebühr von 40,00 EUR.",
        "Rechnung: FV/2026/0002 vom 10. Januar 2026", "Fällig am: 9. Februar 2026", "Fälliger Betrag: 1.200,00 EUR",
        "(11,25% p. a. für 21 Tage;", "Verwendungszweck: FV/2026/0002", "Zahlungsarten: Überweisung, Kartenzahlung",
        "Mit freundlichen Grüßen Acme Sp. z o.o.",
    ]:
        assert expected in flat, expected
    assert '<html lang="de">' in html and "Mahngebühr" in html and "Dear" not in html


def test_german_installment_reminder(mails):
    msg = mails["FV-2026-0001-i1-friendly.eml"]
    assert msg["Subject"] == "Zahlungserinnerung: Rechnung FV/2026/0001 ist überfällig"
    text, _ = bodies(msg)
    flat = " ".join(text.split())
    assert "Die Rechnung FV/2026/0001 (Rate 1 von 2) über 250,00 EUR war am 23. Februar 2026 fällig" in flat
    assert "Rate: 1 von 2" in flat and "Noch offen auf der gesamten Rechnung: 500,00 EUR" in flat


def test_a_language_without_templates_falls_back_to_english(mails):
    msg = mails["FV-2026-0003-friendly.eml"]
    assert msg["Subject"] == "Reminder: invoice FV/2026/0003 is past due"
    text, _ = bodies(msg)
    assert "Dear Dupont SARL," in text and "Kind regards," in text
    assert "99.00 EUR" in text and "23 February 2026" in text  # English templates, English formats
    assert "We accept:   bank transfer, card" in text


def test_subjects_decode_without_doubled_spaces(mails):
    for name, msg in mails.items():
        assert "  " not in msg["Subject"], name


def test_a_user_theme_overrides_one_polish_template_and_inherits_the_rest(tmp_path, no_pdf):
    folder = make_ledger(tmp_path / "ledger")
    (folder / "textbill.yaml").write_text("theme: mine\n", encoding="utf-8")
    (folder / "mine" / "reminders" / "pl").mkdir(parents=True)
    (folder / "mine" / "reminders" / "pl" / "upcoming.txt").write_text(
        "Subject: Wkrótce termin: {{ number }}\nDzień dobry, {{ amount_due }}.\n", encoding="utf-8")
    mails = remind(folder, tmp_path / "out")
    msg = mails["FV-2026-0004-upcoming.eml"]
    assert msg["Subject"] == "Wkrótce termin: FV/2026/0004"
    text, html = bodies(msg)
    assert text.replace("\u00a0", " ").replace("\r\n", "\n") == "Dzień dobry, 5 000,00 PLN.\n"
    assert "Z wyprzedzeniem przypominamy" in html  # the bundled Polish HTML behind it
    assert mails["FV-2025-0001-final.eml"]["Subject"].startswith("Ostateczne wezwanie")


def test_an_unknown_step_uses_the_languages_default(tmp_path, no_pdf):
    folder = make_ledger(tmp_path / "ledger", LEDGER.replace('step +45d "final"', 'step +45d "last call"'))
    mails = remind(folder, tmp_path / "out")
    msg = mails["FV-2025-0001-last-call.eml"]
    assert msg["Subject"] == "Przypomnienie o płatności: faktura FV/2025/0001"
    text, _ = bodies(msg)
    assert "Uprzejmie przypominamy, że termin płatności faktury FV/2025/0001" in " ".join(text.split())


@pytest.mark.parametrize("lang", ["pl", "de"])
def test_every_english_reminder_template_has_a_translation(lang):
    english = sorted(p.name for p in REMINDERS.iterdir() if p.is_file())
    translated = sorted(p.name for p in (REMINDERS / lang).iterdir() if p.is_file())
    assert translated == english
    for name in translated:
        text = (REMINDERS / lang / name).read_text(encoding="utf-8")
        # a translated template uses its own language's pieces, never the English ones
        for piece in ("_base.html", "_details.txt", "_details.html", "_signature.txt", "_signature.html",
                      "_phrases.jinja"):
            assert f'"{piece}"' not in text, f"{lang}/{name} uses the English {piece}"
