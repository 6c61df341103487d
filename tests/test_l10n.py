"""Documents in Polish and German, bilingual documents, and the catalog behind them.

A Polish company bills a Polish client (VAT 23%, an exempt item, a standing discount, a retainer,
the implicit milestone) and a German one (reverse charge, hourly lines); the documents must read
as a Polish or German accountant expects, with babel's number and date formats.
"""
from __future__ import annotations

import re
import string
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import clean, write_ledger

from textbill.core.books import BUCKETS
from textbill.engine.aging import overdue
from textbill.engine.statement import statement
from textbill.render.dashboard import render_site
from textbill.render.html import (
    adjustment_text,
    render_credit_note,
    render_invoice,
    render_overdue_report,
    render_statement,
)
from textbill.render.i18n import (
    MESSAGES,
    MESSAGES_DIR,
    Bilingual,
    Formatter,
    Translator,
    read_catalog,
)
from textbill.render.words import amount_in_words

THEMES = Path(__file__).resolve().parents[1] / "themes"
ROOT = Path(__file__).resolve().parents[1]
HTML_PY = ROOT / "src" / "textbill" / "render" / "html.py"
DASHBOARD_PY = ROOT / "src" / "textbill" / "render" / "dashboard.py"
# every language with a file beside English; Polish and German must be there
TRANSLATIONS = sorted({"pl", "de"} | set(MESSAGES) - {"en"})

LEDGER = """\
company acme "Acme Consulting Sp. z o.o."
  address "ul. Długa 1\\n00-001 Warszawa\\nPoland"
  country PL
  email billing@acme.example
  tax-id "PL5260001246"
  bank "mBank" iban PL61109010140000071219812874 bic BREXPLPW
  currency PLN
  locale pl
  numbering "FV/{year}/{seq:04}"
  credit-numbering "KOR/{year}/{seq:04}"
  payment-methods bank-transfer card
  late-interest 11.25% yearly

client kowalski "Kowalski Meble S.A."
  address "ul. Przemysłowa 12\\n61-131 Poznań"
  country PL
  email faktury@kowalski.example
  tax-id "PL7820003812"
  currency PLN
  terms net 14
  tax VAT 23%
  discount 3%

client bauer "Bauer Logistik GmbH"
  address "Hafenstraße 7\\n20457 Hamburg\\nGermany"
  country DE
  contact "Jonas Bauer" j.bauer@bauer.example
  email rechnungen@bauer.example
  tax-id "DE811569869"
  currency EUR
  locale de
  terms net 30
  tax reverse-charge
  discount 3%

sow kowalski/care "Opieka nad stroną"
  period 2026-01-01 .. 2026-12-31
  retainer 4_000.00 PLN monthly

sow kowalski/audit "Audyt"
  period 2026-01-01 .. 2026-12-31
  fixed 1_000.00 PLN

sow bauer/portal "Carrier portal"
  period 2026-01-01 .. 2026-12-31
  hourly 100.00 EUR
  increment 15m

2026-01-05 time bauer/portal 2h30m "Design"
2026-01-06 time bauer/portal 10h "Build"
2026-01-20 done kowalski/audit "complete"

2026-01-31 invoice FV/2026/0001 kowalski
  period 2026-01-01 .. 2026-01-31
  item "Licencja" 1 x 500.00 tax exempt "art. 43 ust. 1 pkt 37 ustawy o VAT"
  charge 2% "ekspres"

2026-01-31 invoice FV/2026/0002 bauer
  period 2026-01-01 .. 2026-01-31

2026-02-10 credit-note KOR/2026/0001 for FV/2026/0001 100.00 "Błąd w cenie"
2026-02-11 credit-note KOR/2026/0002 for FV/2026/0002 full "Storniert"
"""


def make(folder: Path, text: str = LEDGER, config: str = "") -> Path:
    return write_ledger(folder, text, company=False, config=config)


def text_of(html: str) -> str:
    """The visible text of a document, whitespace collapsed, babel's no-break spaces as spaces."""
    body = html.split("<body", 1)[1].split(">", 1)[1]
    text = re.sub(r"<[^>]+>", " ", body)
    text = text.replace("&#8239;", " ").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    return clean(make(tmp_path_factory.mktemp("l10n") / "ledger"))


@pytest.fixture(scope="module")
def bilingual(tmp_path_factory):
    return clean(make(tmp_path_factory.mktemp("l10n-bi") / "ledger", config="bilingual: en\n"))


def invoice_text(a, number: str) -> str:
    return text_of(render_invoice(a, a.books.invoices[number]))


# ---------------------------------------------------------------------------- the catalog

def _plural_variant(key: str) -> bool:
    return key.rsplit("_", 1)[-1] in ("zero", "one", "two", "few", "many")


@pytest.mark.parametrize("lang", TRANSLATIONS)
def test_every_english_message_exists_in_polish_and_german(lang):
    """No silent English fallback in the two complete translations, and nothing they have that English lacks."""
    en, other = set(MESSAGES["en"]), set(MESSAGES[lang])
    assert not sorted(en - other), f"missing in {lang}: {sorted(en - other)}"
    extra = sorted(k for k in other - en if not (_plural_variant(k) and k.rsplit("_", 1)[0] in en))
    assert not extra, f"keys only in {lang}: {extra}"


@pytest.mark.parametrize("lang", TRANSLATIONS)
def test_translations_take_the_same_placeholders(lang):
    def fields(text):
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}
    for key, text in MESSAGES[lang].items():
        base = key.rsplit("_", 1)[0] if key not in MESSAGES["en"] else key
        allowed = fields(MESSAGES["en"][base]) | {"count", "roman", "quarter", "year"}
        assert fields(text) <= allowed, f"{lang} {key}: {fields(text) - allowed}"
        if key in MESSAGES["en"] and key not in ("period.quarter",):
            assert fields(text) == fields(MESSAGES["en"][key]), f"{lang} {key}"


def test_every_key_the_templates_and_views_use_exists_in_every_language():
    used: set[str] = set()
    sources = [p for p in THEMES.rglob("*.html") if "reminders" not in p.parts
               and not p.name.startswith(("dashboard", "client", "site"))] + [HTML_PY]
    for path in sources:
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""\b(?:t|tt|t\.one|tt\.one|t\.first)\(\s*["']([a-z0-9_.+-]+)["']""", text))
        used |= set(re.findall(r"""t\.plural\(\s*["']([a-z0-9_.+-]+)["']""", text))
    assert {"invoice.title_vat", "party.seller", "adjust.standing", "totals.tax_reverse_charge"} <= used
    for lang in ("en", "pl", "de"):
        missing = sorted(used - set(MESSAGES[lang]))
        assert not missing, f"{lang}: {missing}"


def test_the_catalog_is_one_json_file_per_language():
    files = {path.stem for path in MESSAGES_DIR.glob("*.json")}
    assert files == set(MESSAGES) >= {"en", "pl", "de"}
    assert read_catalog(MESSAGES_DIR) == MESSAGES
    with pytest.raises(TypeError):  # read once and read-only: nothing can change it behind a render
        MESSAGES["pl"]["invoice.title"] = "x"  # type: ignore[index]


def test_the_message_files_ship_in_the_wheel():
    """The wheel is the package folder (hatch ships every file in it): the catalog must live there.
    (`pip wheel --no-deps .` lists textbill/render/messages/{de,en,pl}.json.)"""
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    wheel = pyproject.split("[tool.hatch.build.targets.wheel]", 1)[1].split("\n[", 1)[0]
    assert 'packages = ["src/textbill"]' in wheel
    assert "exclude" not in wheel and "only-include" not in wheel
    assert MESSAGES_DIR.resolve().is_relative_to(ROOT / "src" / "textbill")


def test_every_key_the_dashboard_uses_exists_in_every_language():
    text = DASHBOARD_PY.read_text(encoding="utf-8")
    used = set(re.findall(r"""\b(?:one|plural)\(\s*["'](dashboard\.[a-z0-9_.+-]+)["']""", text))
    used |= {f"dashboard.bucket.{b}" for b in BUCKETS}
    used |= {f"dashboard.doc.{kind}" for kind in ("invoice", "credit-note", "statement", "report")}
    frequencies = {k.rsplit(".", 1)[1] for k in MESSAGES["en"] if k.startswith("dashboard.frequency.")}
    used |= {f"dashboard.period.{f}" for f in frequencies | {"other"}}
    assert {"dashboard.due.today", "dashboard.no_tax", "dashboard.bucket.90+"} <= used
    for lang in ("en", "pl", "de"):
        missing = sorted(used - set(MESSAGES[lang]))
        assert not missing, f"{lang}: {missing}"


def test_the_dashboard_speaks_the_company_language(books):
    """A Polish company's dashboard: its buckets, due dates and budget notes are Polish (headings
    written in the theme's templates are the theme's)."""
    files = render_site(books, books.receivables(date(2026, 4, 20)), [])
    index = files["index.html"].decode("utf-8")
    for words in ("Przed terminem", "Powyżej 90 dni", "po terminie", "zafakturowano 1 z 1 etapu",
                  "1 miesiąc", "miesięcznie"):
        assert words in index, words
    for words in ("Not yet due", "Over 90 days", "days overdue", "milestone invoiced", ">1 month<", " monthly<"):
        assert words not in index, words


def test_plural_forms_follow_the_language():
    pl, de, en = Translator("pl"), Translator("de"), Translator("en")
    assert [pl.plural("overdue.count", n) for n in (1, 2, 5, 12, 22, 25)] == [
        "1 przeterminowana pozycja", "2 przeterminowane pozycje", "5 przeterminowanych pozycji",
        "12 przeterminowanych pozycji", "22 przeterminowane pozycje", "25 przeterminowanych pozycji"]
    assert [de.plural("overdue.count", n) for n in (1, 3)] == ["1 überfälliger Posten", "3 überfällige Posten"]
    assert [en.plural("overdue.count", n) for n in (1, 3)] == ["1 overdue item", "3 overdue items"]


def test_regional_locales_use_their_language():
    assert Translator("pl_PL")("invoice.title_vat") == "Faktura VAT"
    assert Translator("de-AT")("doc.period") == "Leistungszeitraum"
    assert Translator("fr")("invoice.title") == "Invoice"  # no French yet: English, key by key


# ---------------------------------------------------------------------------- formats and words

def test_polish_and_german_number_date_and_money_formats():
    pl, de = Formatter("pl"), Formatter("de")
    nb = {"\u00a0": " ", "\u202f": " "}

    def plain(s):
        return s.translate(str.maketrans(nb))
    assert plain(pl.money(Decimal("1234.56"), "PLN")) == "1 234,56 PLN"
    assert plain(pl.amount(Decimal("1234567.5"), "EUR")) == "1 234 567,50"
    assert plain(de.money(Decimal("1234.56"), "EUR")) == "1.234,56 EUR"
    assert pl.date(date(2026, 1, 31)) == "31.01.2026"
    assert de.date(date(2026, 1, 31)) == "31.01.2026"
    assert pl.long_date(date(2026, 3, 5)) == "5 marca 2026"
    assert de.long_date(date(2026, 3, 5)) == "5. März 2026"
    assert pl.month(date(2026, 2, 1)) == "luty 2026"
    assert de.month(date(2026, 2, 1)) == "Februar 2026"
    assert pl.exact_percent(Decimal("12.5")) == "12,5%" and Formatter("en").exact_percent(Decimal("12.50")) == "12.5%"
    assert pl.country("DE") == "Niemcy" and de.country("PL") == "Polen"


@pytest.mark.parametrize("value, words", [
    ("1.00", "Jeden złoty, zero groszy"),
    ("2.02", "Dwa złote, dwa grosze"),
    ("5.05", "Pięć złotych, pięć groszy"),
    ("12.12", "Dwanaście złotych, dwanaście groszy"),
    ("22.22", "Dwadzieścia dwa złote, dwadzieścia dwa grosze"),
    ("21.21", "Dwadzieścia jeden złotych, dwadzieścia jeden groszy"),
    ("1002.01", "Tysiąc dwa złote, jeden grosz"),
    ("2000.00", "Dwa tysiące złotych, zero groszy"),
    ("5426.77", "Pięć tysięcy czterysta dwadzieścia sześć złotych, siedemdziesiąt siedem groszy"),
])
def test_polish_amounts_in_words_decline_zloty_and_grosz(value, words):
    assert amount_in_words(Decimal(value), "PLN", "pl") == words


def test_amounts_in_words_in_other_currencies():
    assert amount_in_words(Decimal("1.05"), "EUR", "pl") == "Jedno euro, pięć centów"  # euro is neuter
    assert amount_in_words(Decimal("21.00"), "EUR", "pl") == "Dwadzieścia jeden euro, zero centów"
    assert amount_in_words(Decimal("1000.50"), "CHF", "pl") == "Tysiąc CHF 50/100"
    assert amount_in_words(Decimal("1212.50"), "EUR", "de") == "Eintausendzweihundertzwölf Euro und fünfzig Cent"


# ---------------------------------------------------------------------------- a Polish invoice

def test_polish_invoice_reads_as_a_polish_invoice(books):
    text = invoice_text(books, "FV/2026/0001")
    for expected in [
        "Sprzedawca Acme Consulting Sp. z o.o.", "NIP PL5260001246",
        "Faktura VAT FV/2026/0001",
        "Nabywca Kowalski Meble S.A.", "61-131 Poznań Polska", "NIP PL7820003812",
        "Data wystawienia 31.01.2026", "Termin płatności 14.02.2026", "Warunki płatności 14 dni",
        "Okres świadczenia usług 01.01.2026 – 31.01.2026",
        "Nazwa towaru lub usługi Ilość Cena jedn. netto Stawka VAT Wartość netto (PLN)",  # issue 13: art. 106e
        "Opieka nad stroną — abonament styczeń 2026 1,00 4 000,00 VAT 23% 4 000,00",
        "Audyt — całość 1,00 1 000,00 VAT 23%", "Pozostałe pozycje 31.01.2026 Licencja 1,00 500,00 zw. 500,00",
        "Rabat stały 3% (VAT 23%) -150,00", "Dopłata: ekspres 2% (VAT 23%) +100,00", "Rabat stały 3% (zw.) -15,00",
        "Razem netto 5 445,00", "VAT 23% od 4 950,00 1 138,50", "VAT (zw.) od 495,00 0,00",
        "Do zapłaty 6 583,50 PLN",
        "Słownie: Sześć tysięcy pięćset osiemdziesiąt trzy złote, pięćdziesiąt groszy",
        "Zwolnione z VAT, podstawa zwolnienia: art. 43 ust. 1 pkt 37 ustawy o VAT",
        "Podsumowanie według stawek VAT Stawka Netto Rabaty Dopłaty Podstawa opodatkowania Kwota VAT",
        "Płatność Prosimy o zapłatę 6 583,50 PLN do 14.02.2026.", "Tytuł przelewu FV/2026/0001",
        "Sposób płatności Przelew, Karta płatnicza",
    ]:
        assert expected in text, expected
    html = render_invoice(books, books.books.invoices["FV/2026/0001"])
    assert '<html lang="pl">' in html and '"Strona" " " counter(page) " " "z" " " counter(pages)' in html
    for english in ("Invoice", "Bill to", "Due date", "Total due", "In words", "Discount", "standing", "retainer",
                    "complete", "Net total"):
        assert english not in text, english


def test_polish_invoice_without_vat_is_a_faktura_and_dates_its_supply(tmp_path):
    ledger = (LEDGER.replace("  tax VAT 23%\n  discount 3%\n", "  tax exempt \"art. 113 ust. 1 ustawy o VAT\"\n")
              .replace("  period 2026-01-01 .. 2026-01-31\n  item \"Licencja\"", "  item \"Licencja\""))
    ledger = ledger.replace("2026-01-31 invoice FV/2026/0001 kowalski\n  item",
                            "2026-01-31 invoice FV/2026/0001 kowalski\n  period 2026-01-02 .. 2026-01-19\n  item")
    a = clean(make(tmp_path / "l", ledger))
    text = invoice_text(a, "FV/2026/0001")
    assert "Faktura FV/2026/0001" in text and "Faktura VAT" not in text
    assert "Data sprzedaży 31.01.2026" in text  # manual items only: the date of supply is the issue date
    assert "Zwolnione z VAT, podstawa zwolnienia: art. 43 ust. 1 pkt 37 ustawy o VAT" in text


def test_polish_reverse_charge_note(tmp_path):
    a = clean(make(tmp_path / "l", LEDGER.replace("  locale de\n", "  locale pl\n")))
    text = invoice_text(a, "FV/2026/0002")
    assert "Odwrotne obciążenie: podatek rozlicza nabywca (art. 196 dyrektywy Rady 2006/112/WE)." in text
    assert "VAT (odwrotne obciążenie) 0,00" in text and "Faktura VAT FV/2026/0002" in text
    assert "Hafenstraße 7 20457 Hamburg Germany NIP" in text  # the address names its country: no "Niemcy"
    assert "Niemcy" not in text
    assert "Design 2,50 godz. 100,00 Odwrotne obciążenie 250,00" in text  # issue 13: the rate on every line
    assert "Słownie: Tysiąc dwieście dwanaście euro, pięćdziesiąt centów" in text


def test_polish_credit_note(books):
    text = text_of(render_credit_note(books, books.books.credits["KOR/2026/0001"]))
    for expected in [
        "Faktura korygująca KOR/2026/0001", "Data wystawienia 10.02.2026", "Dotyczy faktury FV/2026/0001",
        "Data faktury 31.01.2026", "Wartość faktury 6 583,50 PLN", "Kwota (PLN)",
        "Korekta faktury FV/2026/0001 z dnia 31.01.2026", "Przyczyna korekty: Błąd w cenie",
        "Podstawa opodatkowania (VAT 23%) 75,19", "Kwota korekty 100,00 PLN", "Słownie: Sto złotych, zero groszy",
        "Korekta według stawek VAT",
    ]:
        assert expected in text, expected


def test_polish_statement_and_overdue_report(books):
    rec = books.receivables(date(2026, 4, 30))
    st = statement(books.ledger, rec, "kowalski", None)
    text = text_of(render_statement(books, st))
    for expected in ["Zestawienie rozrachunków", "Kontrahent Kowalski Meble S.A.", "Stan na 30.04.2026",
                     "Saldo początkowe", "Faktura FV/2026/0001",
                     "Faktura korygująca · do faktury FV/2026/0001 KOR/2026/0001",
                     "Saldo końcowe (PLN)", "Wiekowanie salda"]:
        assert expected in text, expected
    assert "Sprzedawca" not in text  # a statement has no seller heading
    report = text_of(render_overdue_report(books, rec, overdue(rec, books.ledger.company)))
    for expected in ["Należności przeterminowane", "Stan na 30.04.2026", "1 przeterminowana pozycja",
                     "Odsetki za opóźnienie", "Według kontrahentów",
                     "FV/2026/0001 Kowalski Meble S.A. 14.02.2026 75 61–90 dni 6 483,50 PLN 149,88"]:
        assert expected in report, expected


# ---------------------------------------------------------------------------- a German invoice

def test_german_invoice_reads_as_a_german_invoice(books):
    text = invoice_text(books, "FV/2026/0002")
    for expected in [
        "Rechnung FV/2026/0002", "Rechnungsempfänger Bauer Logistik GmbH", "USt-IdNr. DE811569869",
        "Ansprechpartner: Jonas Bauer", "Rechnungsdatum 31.01.2026", "Zahlbar bis 02.03.2026",
        "Zahlungsbedingungen 30 Tage netto", "Leistungszeitraum 01.01.2026 – 31.01.2026",
        "Datum Beschreibung Menge Einzelpreis Betrag (EUR)", "05.01.2026 Design 2,50 Std. 100,00 250,00",
        "Build 10,00 Std. 100,00 1.000,00",
        "Zwischensumme 1.250,00", "Kundenrabatt 3% -37,50", "Nettobetrag 1.212,50", "USt. (Reverse Charge) 0,00",
        "Gesamtbetrag 1.212,50 EUR", "In Worten: Eintausendzweihundertzwölf Euro und fünfzig Cent",
        "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge, Art. 196 MwStSystRL, § 13b UStG).",
        "Steuersatz Netto Rabatte Zuschläge Bemessungsgrundlage Steuerbetrag",
        "Bitte zahlen Sie 1.212,50 EUR bis zum 02.03.2026.", "Verwendungszweck FV/2026/0002",
        "Zahlungsarten Überweisung, Kartenzahlung",
    ]:
        assert expected in text, expected
    assert "Deutschland" not in text  # "Germany" in the address already names it
    assert "Sprzedawca" not in text and "Rechnungssteller" not in text  # no seller heading in German
    for english in ("Invoice", "Bill to", "Due date", "Total due", "In words", "standing discount", "Net total"):
        assert english not in text, english


def test_german_exempt_note_and_date_of_supply(tmp_path):
    ledger = LEDGER.replace("  tax reverse-charge\n", "  tax exempt \"§ 4 Nr. 14 UStG\"\n").replace(
        "2026-01-31 invoice FV/2026/0002 bauer\n  period 2026-01-01 .. 2026-01-31\n",
        "2026-01-31 invoice FV/2026/0002 bauer\n  sow portal\n  period 2026-01-07 .. 2026-01-31\n"
        "  item \"Beratung\" 2 x 80.00\n  discount 50.00\n")
    a = clean(make(tmp_path / "l", ledger))
    text = invoice_text(a, "FV/2026/0002")
    assert "Steuerfreie Leistung: § 4 Nr. 14 UStG" in text and "USt. (steuerfrei) 0,00" in text
    assert "Leistungsdatum 31.01.2026" in text  # only manual items: the date of supply is printed
    assert "Rabatt -50,00" in text  # a fixed discount without a reason


def test_german_credit_note(books):
    text = text_of(render_credit_note(books, books.books.credits["KOR/2026/0002"]))
    for expected in ["Rechnungskorrektur KOR/2026/0002", "Datum 11.02.2026", "Korrektur zur Rechnung FV/2026/0002",
                     "Storno der Rechnung FV/2026/0002 vom 31.01.2026", "Grund: Storniert",
                     "Korrekturbetrag 1.212,50 EUR"]:
        assert expected in text, expected


def test_retainer_periods_in_the_document_language(tmp_path):
    ledger = LEDGER.replace("retainer 4_000.00 PLN monthly", "retainer 12_000.00 PLN quarterly")
    a = clean(make(tmp_path / "l", ledger))
    assert "Opieka nad stroną — abonament I kw. 2026" in invoice_text(a, "FV/2026/0001")
    b = clean(make(tmp_path / "m", ledger.replace("  tax VAT 23%\n  discount 3%\n", "  tax VAT 23%\n  locale de\n")))
    assert "Opieka nad stroną — Pauschale 1. Quartal 2026" in invoice_text(b, "FV/2026/0001")
    c = clean(make(tmp_path / "n", LEDGER.replace("  tax VAT 23%\n  discount 3%\n", "  tax VAT 23%\n  locale en\n")))
    assert "Opieka nad stroną — retainer January 2026" in invoice_text(c, "FV/2026/0001")  # the engine's own words


# ---------------------------------------------------------------------------- engine labels

def test_english_labels_worded_from_the_reasons_equal_the_engine_labels(tmp_path):
    """The renderer words discounts and charges from AdjustmentPart.reasons; in English that must be
    exactly the engine's `label`, which locked documents were made from."""
    ledger = LEDGER.replace('  charge 2% "ekspres"\n', '  charge 2% "ekspres"\n  discount 12.5%\n'
                            '  discount 10.00 "goodwill"\n  charge 5.00 "handling"\n  discount 1%\n'
                            '  charge 1.5% "rush"\n')
    a = clean(make(tmp_path / "l", ledger))
    f, t = Formatter("en"), Translator("en")
    parts = [p for doc in a.books.invoices.values() for g in doc.groups for p in g.parts]
    assert len(parts) >= 8 and all(p.reasons for p in parts)
    for p in parts:
        assert adjustment_text(p, f, t) == p.label
    standing = [p for p in parts if p.reasons[0].standing]
    assert standing and standing[0].label == "standing discount 3%; discount 12.5%; discount 1%"
    assert any(p.label == "ekspres 2%; rush 1.5%" for p in parts)
    assert any(p.label == "goodwill" for p in parts) and any(p.label == "handling" for p in parts)


# ---------------------------------------------------------------------------- bilingual documents

def test_bilingual_labels_carry_both_languages(bilingual):
    html = render_invoice(bilingual, bilingual.books.invoices["FV/2026/0001"])
    assert 'Faktura VAT<span class="l2" lang="en"><span class="sep"> / </span>Invoice</span>' in html
    text = text_of(html)
    for expected in [
        "Sprzedawca / Seller", "Nabywca / Bill to", "Data wystawienia / Issue date 31.01.2026",
        "Termin płatności / Due date 14.02.2026", "Okres świadczenia usług / Service period",
        "Rabat stały 3% (VAT 23%) / Standing discount 3% (VAT 23%) -150,00",
        "Do zapłaty / Total due 6 583,50 PLN", "Słownie / In words",
        "Zwolnione z VAT, podstawa zwolnienia: art. 43 ust. 1 pkt 37 ustawy o VAT / Exempt from tax: art. 43",
        "VAT 23% od 4 950,00 / VAT 23% on 4 950,00",  # numbers stay in the document's format
        "Tytuł przelewu / Reference FV/2026/0001",
    ]:
        assert expected in text, expected
    assert "IBAN / IBAN" not in text and "Bank / Bank" not in text  # the same word is printed once
    assert "godz. / h" not in text  # units and amounts in words: the document's language only
    assert "<title>Faktura VAT FV/2026/0001</title>" in html  # plain text where HTML cannot go
    footer = re.search(r"@bottom-left \{ content: (.*?); \}", html).group(1)
    assert "span" not in footer and "NIP" in footer


def test_bilingual_reverse_charge_note_in_both_languages(bilingual):
    text = invoice_text(bilingual, "FV/2026/0002")
    assert ("Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge, Art. 196 MwStSystRL, § 13b UStG). / "
            "Reverse charge: VAT to be accounted for by the recipient") in text
    assert "Rechnung / Invoice" in text and "Gesamtbetrag / Total due" in text
    assert "Reverse Charge / Reverse charge" not in text  # the same words in another case: once


def test_bilingual_in_the_same_language_prints_one(tmp_path, books):
    a = clean(make(tmp_path / "l", config="bilingual: pl_PL\n"))
    polish = render_invoice(a, a.books.invoices["FV/2026/0001"])
    assert 'class="l2"' not in polish
    assert 'lang="en"' not in polish
    german = render_invoice(a, a.books.invoices["FV/2026/0002"])
    assert 'Rechnung<span class="l2" lang="pl"><span class="sep"> / </span>Faktura VAT</span>' in german


def test_bilingual_without_a_catalog_for_the_second_language_prints_one(tmp_path):
    a = clean(make(tmp_path / "l", config="bilingual: fr\n"))
    assert 'class="l2"' not in render_invoice(a, a.books.invoices["FV/2026/0001"])


def test_english_documents_with_an_english_second_language_are_unchanged(tmp_path):
    english = LEDGER.replace("  locale pl\n", "  locale en\n").replace("  locale de\n", "  locale en\n")
    plain = clean(make(tmp_path / "a", english))
    bi = clean(make(tmp_path / "b", english, config="bilingual: en\n"))
    for number in ("FV/2026/0001", "FV/2026/0002"):
        assert render_invoice(plain, plain.books.invoices[number]) == render_invoice(bi, bi.books.invoices[number])
    other = clean(make(tmp_path / "c", english, config="bilingual: de\n"))
    text = invoice_text(other, "FV/2026/0001")
    assert "Invoice / Rechnung" in text and "Total due / Gesamtbetrag" in text


def test_bilingual_string_is_its_first_language():
    t = Translator("pl", "en")
    title = t("credit_note.title")
    assert isinstance(title, Bilingual) and title == "Faktura korygująca" and title.second == "Credit note"
    assert f"{title} X" == "Faktura korygująca X" and title.upper() == "FAKTURA KORYGUJĄCA"
    assert t.one("credit_note.title") == "Faktura korygująca" and not isinstance(t.one("credit_note.title"), Bilingual)
    assert t.compose(lambda tt: tt.one("totals.tax_on", tax="VAT", basis="1")) == "VAT od 1"
    assert t.compose(lambda tt: tt.one("totals.tax_on", tax="VAT", basis="1")).second == "VAT on 1"
    assert Bilingual("<a>", "<b>", "en").__html__() == \
        '&lt;a&gt;<span class="l2" lang="en"><span class="sep"> / </span>&lt;b&gt;</span>'


@pytest.mark.parametrize("theme", ["default", "modern"])
@pytest.mark.parametrize("config", ["", "bilingual: en\n"])
def test_both_themes_render_every_document_in_polish_and_german(tmp_path, theme, config):
    a = clean(make(tmp_path / "l", config=f"theme: {theme}\n{config}"))
    rec = a.receivables(date(2026, 4, 30))
    pages = [render_invoice(a, doc) for doc in a.books.invoices.values()]
    pages += [render_credit_note(a, c) for c in a.books.credits.values()]
    pages += [render_statement(a, statement(a.ledger, rec, cid, None)) for cid in a.ledger.clients]
    pages.append(render_overdue_report(a, rec, overdue(rec, a.ledger.company)))
    joined = "\n".join(text_of(p) for p in pages)
    for word in ("Faktura VAT", "Rechnung", "Faktura korygująca", "Rechnungskorrektur", "Zestawienie rozrachunków",
                 "Kontoauszug", "Należności przeterminowane"):
        assert word in joined, word
    assert ("/ Invoice" in joined) == bool(config)
