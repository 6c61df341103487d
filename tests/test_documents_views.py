"""Issue 13, "Documents and views": what a reader sees on invoices, credit notes, statements, the
dashboard and the terminal tables — in English and in Polish, in both bundled themes."""
from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import clean, cli, write_ledger

from textbill.engine.statement import statement
from textbill.render.html import (
    invoice_view,
    render_credit_note,
    render_invoice,
    render_statement,
)
from textbill.render.pdf import html_to_pdf
from textbill.render.themes import load_theme

# A Polish freelancer: a PLN-priced SOW billed to a EUR client (converted prices have four
# digits: 280 PLN / 4.2431 = 65.9895 EUR), a domestic client, a credit note and payments.
LEDGER = """\
company anna "Anna Nowak Software"
  address "ul. Długa 1\\n00-001 Warszawa\\nPolska"
  country PL
  email anna.nowak.kontakt@nowak-software-development.example
  website "https://www.nowak-software-development.example/oferta/uslugi"
  tax-id "PL5260001246"
  bank "mBank" iban PL61109010140000071219812874 bic BREXPLPW
  currency PLN
  locale {locale}
  numbering "FV/{{year}}/{{seq:04}}"
  credit-numbering "KOR/{{year}}/{{seq:04}}"

client globex "Globex GmbH"
  address "Hafenstraße 7\\n20457 Hamburg\\nNiemcy"
  country DE
  email ap@globex.example
  currency EUR
  terms net 14
  tax VAT 23%

client kowalski "Kowalski i Synowie Sp. z o.o."
  address "ul. Krótka 2\\n30-001 Kraków"
  country PL
  email ksiegowosc@kowalski.example
  currency PLN
  terms net 14
  tax VAT 23%

sow globex/web "Sklep internetowy"
  period 2026-01-01 .. 2026-12-31
  hourly 280.00 PLN
  increment 15m

sow kowalski/app "Aplikacja"
  period 2026-01-01 .. 2026-12-31
  hourly 180.00 PLN

2026-01-02 fx EUR PLN 4.2431
2026-01-05 time globex/web 2h30m "Projekt"
2026-01-06 time globex/web 1h10m "Budowa i testy"
2026-01-07 time kowalski/app 30h "Backend"

2026-01-31 invoice FV/2026/0001 globex
  period 2026-01-01 .. 2026-01-31
  item "Hosting" 2 x 25.00 tax VAT 8%

2026-01-31 invoice FV/2026/0002 kowalski
  period 2026-01-01 .. 2026-01-31
  item "Serwer" 1 x 1_234.56

2026-02-10 credit-note KOR/2026/0001 for FV/2026/0001 100.00 "Rabat"
2026-02-20 payment globex 200.00 for FV/2026/0001 via bank-transfer
2026-02-20 payment kowalski 1000.00 for FV/2026/0002
"""


def ledger(tmp_path: Path, locale: str = "pl", theme: str = "default") -> Path:
    return write_ledger(tmp_path / f"{locale}-{theme}", LEDGER.format(locale=locale), company=False,
                        config=f"theme: {theme}\nlocale: {locale}\n")


def plain(text: str) -> str:
    """Babel's narrow and no-break spaces (as characters or entities) as ordinary spaces."""
    for space in ("\u202f", "\u00a0", "&#8239;", "&#160;", "&nbsp;"):
        text = text.replace(space, " ")
    return text


def text_of(html: str) -> str:
    body = html.split("<body", 1)[1]
    return plain(" ".join(re.sub(r"<[^>]+>", " ", body).split()))


# ---------------------------------------------------------------------------- 1. unit prices

@pytest.mark.parametrize("locale, price, amount", [("pl", "65,99", "164,97"), ("en", "65.99", "164.97")])
def test_unit_prices_show_the_currencys_minor_digits(tmp_path, locale, price, amount):
    analysis = clean(ledger(tmp_path, locale))
    doc = analysis.books.invoices["FV/2026/0001"]
    lines = invoice_view(analysis, doc)["lines"]
    assert [ln["unit_price"] for ln in lines[:2]] == [price, price]
    # display only: the amount is still the exact price times the hours (2.5 x 65.9895... = 164.97)
    assert lines[0]["amount"] == amount
    html = render_invoice(analysis, doc)
    assert "65,989" not in html and "65.989" not in html


# ---------------------------------------------------------------------------- 2. no breaks inside

WEBSITE = "https://www.nowak-software-development.example/oferta/uslugi"
EMAIL = "anna.nowak.kontakt@nowak-software-development.example"


def pdf_lines(data: bytes) -> list[str]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return [plain(ln) for page in reader.pages for ln in page.extract_text().splitlines()]


@pytest.mark.parametrize("theme", ["default", "modern"])
@pytest.mark.parametrize("locale", ["en", "pl"])
def test_urls_emails_and_the_as_of_date_are_never_split(tmp_path, theme, locale):
    analysis = clean(ledger(tmp_path, locale, theme))
    rec = analysis.receivables(date(2026, 3, 31))
    st = statement(analysis.ledger, rec, "globex", date(2026, 1, 1))
    as_of = "Mar 31, 2026" if locale == "en" else "31.03.2026"
    for html in (render_statement(analysis, st), render_invoice(analysis, analysis.books.invoices["FV/2026/0001"])):
        lines = pdf_lines(html_to_pdf(html, str(analysis.ledger.root), theme=load_theme(analysis.ledger)))
        for whole in (WEBSITE, EMAIL, "ap@globex.example"):
            assert any(whole in ln for ln in lines), (whole, lines)
    lines = pdf_lines(html_to_pdf(render_statement(analysis, st), str(analysis.ledger.root),
                                  theme=load_theme(analysis.ledger)))
    assert any(as_of in ln for ln in lines), lines


# ---------------------------------------------------------------------------- 3. statement columns

def words(data: bytes) -> list[tuple[float, float, float, str]]:
    """Every word of a PDF with its box: (y, x_min, x_max, text), by pdftotext -bbox."""
    out = subprocess.run(["pdftotext", "-bbox", "-", "-"], input=data, capture_output=True, check=True).stdout
    found = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>',
                       out.decode("utf-8"))
    return [(round(float(y)), float(x0), float(x1), text) for x0, y, x1, text in found]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
@pytest.mark.parametrize("theme", ["default", "modern"])
def test_statement_columns_with_space_separators_read_as_two_numbers(tmp_path, theme):
    """pl groups thousands with a space ('7 160,51'), so two amount columns side by side must be
    set apart by far more than that space: here the credit of a long-described row (the tightest
    case) and its running balance, '100,00' then '258,38'."""
    analysis = clean(ledger(tmp_path, "pl", theme))
    rec = analysis.receivables(date(2026, 3, 31))
    data = b""
    for client in ("globex", "kowalski"):
        st = statement(analysis.ledger, rec, client, date(2026, 1, 1))
        data = html_to_pdf(render_statement(analysis, st), str(analysis.ledger.root),
                           theme=load_theme(analysis.ledger))
        found = words(data)
        if client == "globex":
            y, _, credit_end, _ = next(w for w in found if w[3] == "100,00")
            balance_start = next(w[1] for w in found if w[0] == y and w[3] == "258,38")
        else:
            y, group_start, _, _ = next(w for w in found if w[3] == "000,00")
            separator = group_start - next(w[2] for w in found if w[0] == y and w[3] == "1")
    assert balance_start - credit_end >= max(5 * separator, 12), (balance_start - credit_end, separator)


# ---------------------------------------------------------------------------- 4. VAT rate per line, corrections

@pytest.mark.parametrize("theme", ["default", "modern"])
def test_polish_invoices_show_the_vat_rate_on_every_line(tmp_path, theme):
    analysis = clean(ledger(tmp_path, "pl", theme))
    doc = analysis.books.invoices["FV/2026/0002"]  # one tax group: other languages print no column
    text = text_of(render_invoice(analysis, doc))
    assert "Stawka VAT" in text
    assert "Backend 30,00 godz. 180,00 VAT 23% 5 400,00" in text
    assert "Serwer 1,00 1 234,56 VAT 23% 1 234,56" in text


def test_english_single_rate_invoices_keep_their_columns(tmp_path):
    analysis = clean(ledger(tmp_path, "en"))
    assert not invoice_view(analysis, analysis.books.invoices["FV/2026/0002"])["show_tax_column"]


CORRECTION = {
    "en": ["Before and after the correction",
           ("VAT 23% Before correction 247.46 56.92 304.38 Correction -69.05 -15.88 -84.93 "
            "After correction 178.41 41.04 219.45"),
           ("Total Before correction 297.46 60.92 358.38 Correction -83.00 -17.00 -100.00 "
            "After correction 214.46 43.92 258.38")],
    "pl": ["Wartości przed korektą i po korekcie",
           "VAT 8% Przed korektą 50,00 4,00 54,00 Korekta -13,95 -1,12 -15,07 Po korekcie 36,05 2,88 38,93",
           "Razem Przed korektą 297,46 60,92 358,38 Korekta -83,00 -17,00 -100,00 Po korekcie 214,46 43,92 258,38"],
    "de": ["Vor und nach der Korrektur",
           ("Gesamt Vor der Korrektur 297,46 60,92 358,38 Korrektur -83,00 -17,00 -100,00 "
            "Nach der Korrektur 214,46 43,92 258,38")],
}


@pytest.mark.parametrize("theme", ["default", "modern"])
@pytest.mark.parametrize("locale", ["en", "pl", "de"])
def test_credit_notes_show_before_the_correction_and_after(tmp_path, locale, theme):
    analysis = clean(ledger(tmp_path, locale, theme))
    text = text_of(render_credit_note(analysis, analysis.books.credits["KOR/2026/0001"]))
    for expected in CORRECTION[locale]:
        assert expected.replace("-", "−") in text or expected in text, (expected, text)


def test_a_second_correction_starts_from_the_first_ones_result(tmp_path):
    folder = write_ledger(tmp_path / "two", LEDGER.format(locale="en") + (
        '2026-03-01 credit-note KOR/2026/0002 for FV/2026/0002 1_000.00 "Rabat"\n'
        '2026-03-02 credit-note KOR/2026/0003 for FV/2026/0002 full\n'), company=False)
    analysis = clean(folder)
    first = text_of(render_credit_note(analysis, analysis.books.credits["KOR/2026/0002"]))
    assert ("VAT 23% Before correction 6,634.56 1,525.95 8,160.51 Correction -813.01 -186.99 -1,000.00 "
            "After correction 5,821.55 1,338.96 7,160.51") in first
    second = text_of(render_credit_note(analysis, analysis.books.credits["KOR/2026/0003"]))
    assert "VAT 23% Before correction 5,821.55 1,338.96 7,160.51" in second, second


# ---------------------------------------------------------------------------- 5. credited, 7. narrow terminals

def test_the_invoices_list_shows_what_was_credited(tmp_path):
    folder = ledger(tmp_path, "en")
    rows = cli("invoices", "-f", folder, "--as-of", "2026-03-31", "--format", "json").json()
    for row in rows:
        assert (Decimal(row["total"]) - Decimal(row["paid"]) - Decimal(row["credited"])
                - Decimal(row["written_off"]) == Decimal(row["outstanding"]))
    table = cli("invoices", "-f", folder, "--as-of", "2026-03-31", env={"COLUMNS": "250"}).out
    header = table.splitlines()[1].split()
    assert header[header.index("paid") + 1:header.index("paid") + 3] == ["credited", "outstanding"]
    assert re.search(r"FV/2026/0001 .* 358\.38 +200\.00 +100\.00 +58\.38 ", table), table
    csv = cli("invoices", "-f", folder, "--as-of", "2026-03-31", "--format", "csv").out
    assert csv.splitlines()[0].split(",")[8:11] == ["paid", "credited", "outstanding"]


NARROW = """\
company acme "Acme Consulting"
  address "1 Main St\\nSpringfield"
  country US
  currency USD
  numbering "ACME-CONSULTING/{year}/PROJECT-{seq:06}"
  late-interest 10% yearly

client globex "Globex Corporation of Northern Springfield and Shelbyville"
  currency USD
  terms net 14
  tax VAT 23%

2026-01-31 invoice ACME-CONSULTING/2026/PROJECT-000001 globex
  item "Platform" 1 x 98_765_432.10
2026-02-02 invoice ACME-CONSULTING/2026/PROJECT-000002 globex
  item "Support" 1 x 7_654_321.99
2026-02-10 credit-note CN-2026-0001 for ACME-CONSULTING/2026/PROJECT-000001 1_234_567.89 "Goodwill"
2026-02-20 payment globex 12_345_678.90 for ACME-CONSULTING/2026/PROJECT-000001
"""


@pytest.mark.parametrize("command", [("invoices",), ("report", "overdue")])
def test_an_80_column_terminal_never_cuts_a_number_or_an_amount(tmp_path, command):
    folder = write_ledger(tmp_path / "narrow", NARROW, company=False)
    clean(folder)
    args = (*command, "-f", folder, "--as-of", "2026-06-30")
    out = cli(*args, env={"COLUMNS": "80"}).out
    assert "…" not in out
    assert max(len(ln.rstrip()) for ln in out.splitlines()) <= 80, out
    if command == ("invoices",):
        rows = cli(*args, "--format", "json").json()
        figures = {row[k] for row in rows for k in ("total", "paid", "credited", "outstanding")}
        numbers = {row["number"] for row in rows}
    else:
        rows = cli(*args, "--format", "json").json()
        figures = {row[k] for row in rows for k in ("outstanding", "late_interest")}
        numbers = {row["invoice"] for row in rows}
    assert len(numbers) == 2
    for number in numbers:
        assert number in out, out
    for figure in figures:
        assert f"{Decimal(figure):,}" in out, (figure, out)


def test_a_wide_terminal_keeps_every_column(tmp_path):
    folder = write_ledger(tmp_path / "narrow", NARROW, company=False)
    out = cli("invoices", "-f", folder, "--as-of", "2026-06-30", env={"COLUMNS": "250"}).out
    assert out.splitlines()[1].split() == ["number", "client", "date", "due", "currency", "net", "tax", "total",
                                           "paid", "credited", "outstanding", "status"]


# ---------------------------------------------------------------------------- 5, 6. the dashboard

def dashboard(tmp_path: Path, config_locale: str = "en") -> str:
    """The dashboard of the Polish ledger (company locale pl), built with textbill.yaml's locale
    `config_locale`; HTML only."""
    folder = write_ledger(tmp_path / "dash", LEDGER.format(locale="pl"), company=False,
                          config=f"locale: {config_locale}\nformats: [html]\nout: build\n")
    r = cli("build", folder, "--as-of", "2026-03-31")
    assert r.code == 0, r
    return (folder / "build" / "index.html").read_text(encoding="utf-8")


def test_the_dashboard_uses_the_company_locale_and_shows_credited(tmp_path):
    html = plain(dashboard(tmp_path, config_locale="en"))
    assert "7 160,51 zł" in html and "58,38 €" in html
    assert "7,160.51" not in html
    assert '<button type="button">Credited</button>' in html
    row = html[html.index('data-number="FV/2026/0001"'):]
    row = row[:row.index("</tr>")]
    cells = re.findall(r'<td class="num[^"]*" data-v="([^"]*)">', row)
    assert cells == ["297.46", "60.92", "358.38", "200.00", "100.00", "58.38"]  # net tax total paid credited outstanding


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_the_dashboard_invoice_table_fits_a_1280_pixel_window(tmp_path):
    """Headless chromium at 1280x800 lays the dashboard out; the invoice table's scroller must not
    scroll sideways (every column visible)."""
    page = tmp_path / "dash" / "build" / "fit.html"
    html = dashboard(tmp_path)
    probe = ('<script>window.addEventListener("load", function () {'
             ' var s = document.querySelector("#invoice-table").parentElement;'
             ' document.title = "FIT " + s.scrollWidth + " " + s.clientWidth; });</script></body>')
    page.write_text(html.replace("</body>", probe), encoding="utf-8")
    out = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,800",
                          "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120, check=False).stdout
    scroll, client = map(int, re.search(r"<title>FIT (\d+) (\d+)", out).groups())
    assert scroll <= client, (scroll, client)


# ---------------------------------------------------------------------------- 8. docs match the product

ROOT = Path(__file__).resolve().parents[1]
CITATION = re.compile(r'docs/language\.md,((?: "[^"]+",?)+)')


def language_sections() -> set[str]:
    text = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    return {m.group(1).strip() for m in re.finditer(r"^#{2,4} (.+)$", text, re.MULTILINE)}


def test_every_docs_language_section_cited_exists():
    from textbill.checks.locks import HEADER

    sections = language_sections()
    sources = {p: p.read_text(encoding="utf-8") for p in (ROOT / "src").rglob("*.py")}
    sources["textbill.lock header"] = HEADER
    sources["example-ledger/textbill.lock"] = (ROOT / "example-ledger" / "textbill.lock").read_text(encoding="utf-8")
    cited = 0
    for where, text in sources.items():
        # the specification's numbered sections are not shipped: cite docs/language.md by title
        assert not re.search(r"LANGUAGE\.md|spec section \d", text), where
        for m in CITATION.finditer(text):
            for title in re.findall(r'"([^"]+)"', m.group(1)):
                assert title in sections, (where, title)
                cited += 1
    assert cited >= 8
    assert "docs/language.md" in HEADER


def test_documented_export_accounts_are_the_ones_written(tmp_path):
    from textbill.core.accounts import ROOTS

    text = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    bullet = text[text.index("**Exported accounts**"):]
    bullet = bullet[:bullet.index("\n- ")]
    documented = {re.sub(r":[A-Z-]+$", "", name) for name in re.findall(r"`([A-Za-z:-]+)`", bullet)}
    written = {default for default, _ in ROOTS.values()}
    assert documented == written
    folder = ledger(tmp_path, "en")
    out = cli("export", "hledger", "-f", folder, "--as-of", "2026-03-31").out
    accounts = set(re.findall(r"^ {4}(\S+)", out, re.MULTILINE))
    assert accounts and all(any(a.startswith(root + ":") or a == root for root in written) for a in accounts), accounts
