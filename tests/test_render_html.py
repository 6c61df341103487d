"""HTML rendering: view models, themes, golden output, escaping, the message catalog.

Golden files live in tests/golden/render/; refresh them after an intended change with
    TEXTBILL_REFRESH_GOLDEN=1 python -m pytest tests/test_render_html.py
"""
from __future__ import annotations

import os
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import clean, write_ledger

from textbill.engine.aging import overdue
from textbill.engine.statement import statement
from textbill.pipeline import analyze
from textbill.render import html as render_html
from textbill.render.html import (
    render_credit_note,
    render_invoice,
    render_overdue_report,
    render_statement,
)
from textbill.render.i18n import MESSAGES, Formatter, Translator
from textbill.render.themes import ThemeError, load_theme
from textbill.render.words import amount_in_words

GOLDEN = Path(__file__).parent / "golden" / "render"
REFRESH = bool(os.environ.get("TEXTBILL_REFRESH_GOLDEN"))
THEMES = Path(__file__).resolve().parents[1] / "themes"

# One invoice with everything an accountant looks for: two tax groups, a percent discount and a
# fixed charge split over them, a foreign currency (tax also in PLN), PO numbers, custom fields,
# a note, a credit note and a payment.
LEDGER = """\
company acme "Acme Consulting Sp. z o.o."
  address "ul. Długa 1\\n00-001 Warszawa\\nPoland"
  country PL
  email billing@acme.example
  phone "+48 22 000 00 00"
  tax-id "PL5260001246"
  bank "mBank" iban PL61109010140000071219812874 bic BREXPLPW
  currency PLN
  numbering "FV/{year}/{seq:04}"
  credit-numbering "KOR/{year}/{seq:04}"
  payment-methods bank-transfer card
  late-interest 10% yearly

client globex "Globex & Sons <GmbH>"
  address "Hafenstraße 7\\n20457 Hamburg"
  country DE
  contact "Jonas Bauer" j@globex.example
  email ap@globex.example
  tax-id "DE811569869"
  currency EUR
  terms net 14
  tax VAT 23%
  field po-number "PO-1"
  field cost-center "CC-9"

sow globex/web "Website"
  period 2026-01-01 .. 2026-12-31
  hourly 100.00 EUR
  increment 15m
  po "PO-77"

2026-01-02 fx EUR PLN 4.2500
2026-01-05 time globex/web 2h30m "Design"
2026-01-06 time globex/web 1h10m "Build & test"

2026-01-31 invoice FV/2026/0001 globex
  period 2026-01-01 .. 2026-01-31
  item "Hosting" 2 x 25.00 tax VAT 8%
  discount 10%
  charge 15.00 "Shipping"
  note "Thank you"

2026-02-10 credit-note KOR/2026/0001 for FV/2026/0001 100.00 "Goodwill"
2026-02-20 payment globex 200.00 for FV/2026/0001 via bank-transfer
"""


def make_ledger(folder: Path, text: str = LEDGER, config: str = "") -> Path:
    return write_ledger(folder, text, company=False, config=config)


@pytest.fixture
def analysis(tmp_path):
    return clean(make_ledger(tmp_path / "ledger"))


def text_of(html: str) -> str:
    """The visible text of a document, whitespace collapsed (entities left as they are)."""
    body = html.split("<body", 1)[1]
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def without_style(html: str) -> str:
    """The document without its stylesheet and QR code (each owned and tested elsewhere)."""
    html = re.sub(r"<style data-textbill-theme>.*?</style>", "<style data-textbill-theme>…</style>", html, flags=re.DOTALL)
    return re.sub(r"<svg.*?</svg>", "<svg>…</svg>", html, flags=re.DOTALL)


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if REFRESH or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        if not REFRESH:
            pytest.fail(f"golden file {path} was missing and has been written; check it and run again")
    assert actual == path.read_text(encoding="utf-8"), (
        f"{name} differs from its golden file; if the change is intended, refresh with "
        f"TEXTBILL_REFRESH_GOLDEN=1 python -m pytest {__file__}")


# ---------------------------------------------------------------------------- invoices

def test_invoice_matches_golden(analysis):
    doc = analysis.books.invoices["FV/2026/0001"]
    check_golden("invoice.html", without_style(render_invoice(analysis, doc)))


def test_invoice_shows_what_an_accountant_expects(analysis):
    doc = analysis.books.invoices["FV/2026/0001"]
    text = text_of(render_invoice(analysis, doc))
    for expected in [
        "Acme Consulting Sp. z o.o.", "Tax ID PL5260001246", "billing@acme.example",
        "Globex &amp; Sons &lt;GmbH&gt;", "Hafenstraße 7", "Germany", "Tax ID DE811569869", "Jonas Bauer",
        "FV/2026/0001", "Issue date Jan 31, 2026", "Due date Feb 14, 2026", "Net 14 days",
        "Service period Jan 1, 2026 – Jan 31, 2026", "PO number PO-77", "PO number PO-1", "Cost centre CC-9",
        "Jan 5, 2026 Design 2.50", "100.00", "250.00", "Build &amp; test 1.25", "Hosting 2.00",
        "Discount 10% (VAT 23%) -37.50", "Charge: Shipping (VAT 23%) +13.24", "Charge: Shipping (VAT 8%) +1.76",
        "Net total 397.50", "VAT 23% on 350.74 80.67", "VAT 8% on 46.76 3.74", "Total due EUR 481.91",
        "Four hundred and eighty-one euro, ninety-one cents",
        "Tax summary", "375.00", "-37.50", "+13.24", "342.85", "15.90",
        "Tax in PLN: 358.74, at 4.25 EUR/PLN of Jan 2, 2026",
        "Thank you", "Payment", "Please pay EUR 481.91 by Feb 14, 2026.", "PL61 1090 1014 0000 0712 1981 2874",
        "BREXPLPW", "Reference FV/2026/0001", "Bank transfer, Card",
    ]:
        assert expected in text, expected


def test_hours_show_two_decimals_but_amounts_stay_exact(tmp_path):
    ledger = LEDGER.replace('2h30m "Design"', '20m "Design"').replace("increment 15m", "increment 1m")
    a = clean(make_ledger(tmp_path / "l", ledger))
    doc = a.books.invoices["FV/2026/0001"]
    assert str(doc.lines[0].quantity).startswith("0.33333333")
    text = text_of(render_invoice(a, doc))
    assert "Design 0.33" in text and "33.33" in text  # 0.333...h x 100 = 33.33, shown as 0.33 h


def test_reverse_charge_and_exempt_print_their_legal_notes(tmp_path):
    ledger = (LEDGER.replace("tax VAT 23%", "tax reverse-charge")
              .replace('item "Hosting" 2 x 25.00 tax VAT 8%', 'item "Licence" 1 x 10.00 tax exempt "Art. 43 VAT Act"'))
    a = clean(make_ledger(tmp_path / "l", ledger))
    text = text_of(render_invoice(a, a.books.invoices["FV/2026/0001"]))
    assert "Reverse charge: VAT to be accounted for by the recipient" in text
    assert "Exempt from tax: Art. 43 VAT Act" in text


def test_draft_is_marked_on_the_page(analysis):
    doc = analysis.books.invoices["FV/2026/0001"]
    draft = render_invoice(analysis, doc, draft=True)
    assert 'class="draft-mark"' in draft and ">DRAFT<" in draft
    assert 'class="draft-mark"' not in render_invoice(analysis, doc)


def test_state_shows_a_status_badge_on_screen_only(analysis):
    doc = analysis.books.invoices["FV/2026/0001"]
    state = analysis.receivables(date(2026, 4, 30)).invoices["FV/2026/0001"]
    html = render_invoice(analysis, doc, state)
    assert 'class="status status-overdue"' in html
    assert "@media print { .status { display: none; } }" in html


def test_hostile_names_render_as_text(tmp_path):
    evil = '<link rel="attachment" href="file:///etc/passwd">'
    ledger = LEDGER.replace('"Globex & Sons <GmbH>"', '"' + evil.replace('"', '\\"') + '"')
    ledger = ledger.replace('note "Thank you"', 'note "</style><script>alert(1)</script>"')
    a = clean(make_ledger(tmp_path / "l", ledger))
    html = render_invoice(a, a.books.invoices["FV/2026/0001"])
    assert "<link" not in html and "<script" not in html
    assert "&lt;link rel=&#34;attachment&#34; href=&#34;file:///etc/passwd&#34;&gt;" in html


def test_footer_text_is_a_safe_css_string(tmp_path):
    ledger = LEDGER.replace('company acme "Acme Consulting Sp. z o.o."', 'company acme "A \\"&\\" </style> B"')
    a = clean(make_ledger(tmp_path / "l", ledger))
    html = render_invoice(a, a.books.invoices["FV/2026/0001"])
    style = "".join(re.findall(r"<style[^>]*>(.*?)</style>", html, flags=re.DOTALL))
    assert "</style" not in style and "@bottom-left { content: \"A \\22 \\26 \\22  \\3c /style\\3e  B" in style


def test_paper_size_comes_from_the_config(tmp_path):
    a4 = clean(make_ledger(tmp_path / "a"))
    letter = clean(make_ledger(tmp_path / "b", config="paper: letter\n"))
    assert "size: A4;" in render_invoice(a4, a4.books.invoices["FV/2026/0001"])
    html = render_invoice(letter, letter.books.invoices["FV/2026/0001"])
    assert "size: letter;" in html and "paper-letter" in html


def test_logo_inside_the_ledger_is_inlined(tmp_path):
    folder = make_ledger(tmp_path / "l", LEDGER.replace('  currency PLN\n', '  currency PLN\n  logo "assets/logo.png"\n', 1))
    (folder / "assets").mkdir()
    (folder / "assets" / "logo.png").write_bytes(PNG)
    a = clean(folder)
    html = render_invoice(a, a.books.invoices["FV/2026/0001"])
    assert '<img class="logo" src="data:image/png;base64,' in html


def test_logo_outside_the_ledger_is_not_read(tmp_path):
    outside = tmp_path / "secret.png"
    outside.write_bytes(PNG)
    folder = make_ledger(tmp_path / "l", LEDGER.replace('  currency PLN\n', '  currency PLN\n  logo "../secret.png"\n', 1))
    a = analyze(folder)
    assert "outside the ledger" in render_html.logo_problem(a.ledger)
    html = render_invoice(a, a.books.invoices["FV/2026/0001"])
    assert "<img" not in html and "secret" not in html


# ---------------------------------------------------------------------------- other documents

def test_credit_note_names_the_invoice_it_corrects(analysis):
    credit = analysis.books.credits["KOR/2026/0001"]
    text = text_of(render_credit_note(analysis, credit))
    for expected in ["Credit note", "KOR/2026/0001", "Corrects invoice FV/2026/0001", "Invoice date Jan 31, 2026",
                     "Invoice total EUR 481.91", "Correction of invoice FV/2026/0001 of Jan 31, 2026",
                     "Reason: Goodwill", "Total credited EUR 100.00", "One hundred euro, zero cents",
                     "Credited amounts by tax", "VAT 23%", "VAT 8%"]:
        assert expected in text, expected


def test_statement_has_opening_running_and_closing_balances(analysis):
    rec = analysis.receivables(date(2026, 4, 30))
    st = statement(analysis.ledger, rec, "globex", date(2026, 2, 1))
    text = text_of(render_statement(analysis, st))
    for expected in ["Statement of account", "Opening balance 481.91",
                     "Feb 10, 2026 Credit note · for FV/2026/0001 KOR/2026/0001 100.00 381.91",
                     "Feb 20, 2026 Payment · Bank transfer", "200.00 181.91", "Closing balance (EUR) 181.91",
                     "Amount due EUR 181.91", "Aging of the balance", "61–90 days"]:
        assert expected in text, expected


def test_overdue_report_has_rows_and_totals(analysis):
    rec = analysis.receivables(date(2026, 4, 30))
    items = overdue(rec, analysis.ledger.company)
    text = text_of(render_overdue_report(analysis, rec, items))
    for expected in ["Overdue invoices", "As of Apr 30, 2026", "1 overdue item", "FV/2026/0001",
                     "Globex &amp; Sons &lt;GmbH&gt;", "Feb 14, 2026 75 61–90 days 181.91", "3.74",
                     "By aging bucket", "EUR 181.91", "By client", "Late interest at 10% a year"]:
        assert expected in text, expected


def test_empty_overdue_report(analysis):
    rec = analysis.receivables(date(2026, 2, 1))
    assert "Nothing is overdue." in render_overdue_report(analysis, rec, [])


# ---------------------------------------------------------------------------- themes

@pytest.mark.parametrize("theme", ["default", "modern"])
def test_bundled_themes_render_every_document(tmp_path, theme):
    a = clean(make_ledger(tmp_path / "l", config=f"theme: {theme}\n"))
    rec = a.receivables(date(2026, 4, 30))
    pages = [
        render_invoice(a, a.books.invoices["FV/2026/0001"], draft=True),
        render_credit_note(a, a.books.credits["KOR/2026/0001"]),
        render_statement(a, statement(a.ledger, rec, "globex", None)),
        render_overdue_report(a, rec, overdue(rec, a.ledger.company)),
    ]
    for page in pages:
        assert page.startswith("<!doctype html>") and f'<meta name="textbill-theme" content="{theme}">' in page
    assert ("theme-modern" in pages[0]) == (theme == "modern")


def test_a_user_theme_replaces_one_template_and_inherits_the_rest(tmp_path):
    folder = make_ledger(tmp_path / "l", config="theme: mytheme\n")
    (folder / "mytheme").mkdir()
    (folder / "mytheme" / "_totals.html").write_text(
        '<p class="my-total">{{ t("totals.total_due") }}: {{ totals.total }} — {{ client.name }}</p>\n')
    a = clean(folder)
    html = render_invoice(a, a.books.invoices["FV/2026/0001"])
    assert '<p class="my-total">Total due: EUR\u00a0481.91 — Globex &amp; Sons &lt;GmbH&gt;</p>' in html
    assert "Build &amp; test" in html and "Tax summary" in html  # the rest comes from the default theme
    assert "Total due</th>" not in html


def test_a_user_template_can_extend_the_bundled_one(tmp_path):
    folder = make_ledger(tmp_path / "l", config="theme: brand\n")
    (folder / "brand").mkdir()
    (folder / "brand" / "invoice.html").write_text(
        '{% extends "default/invoice.html" %}{% block notes %}<p>Our own terms.</p>{{ super() }}{% endblock %}')
    a = clean(folder)
    html = render_invoice(a, a.books.invoices["FV/2026/0001"])
    assert "<p>Our own terms.</p>" in html and "Thank you" in html and "Build &amp; test" in html


def test_user_themes_are_sandboxed(tmp_path):
    folder = make_ledger(tmp_path / "l", config="theme: evil\n")
    (folder / "evil").mkdir()
    (folder / "evil" / "invoice.html").write_text("{{ t.__init__.__globals__ }}")
    a = clean(folder)
    with pytest.raises(ThemeError, match="evil"):
        render_invoice(a, a.books.invoices["FV/2026/0001"])


def test_undefined_names_in_a_theme_are_errors(tmp_path):
    folder = make_ledger(tmp_path / "l", config="theme: typo\n")
    (folder / "typo").mkdir()
    (folder / "typo" / "invoice.html").write_text("{{ doc.numbr }}")
    a = clean(folder)
    with pytest.raises(ThemeError, match="numbr"):
        render_invoice(a, a.books.invoices["FV/2026/0001"])


def test_theme_must_exist_and_stay_inside_the_ledger(tmp_path):
    a = clean(make_ledger(tmp_path / "l"))
    with pytest.raises(ThemeError, match="unknown theme 'nope'"):
        load_theme(a.ledger, "nope")
    (tmp_path / "outside").mkdir()
    with pytest.raises(ThemeError, match="outside the ledger"):
        load_theme(a.ledger, "../outside")
    theme = load_theme(a.ledger, "modern")
    assert [d.name for d in theme.dirs] == ["modern", "default"]


def test_theme_digest_changes_with_any_file(tmp_path):
    folder = make_ledger(tmp_path / "l", config="theme: mine\n")
    (folder / "mine").mkdir()
    (folder / "mine" / "style.css").write_text("body { color: red; }")
    a = clean(folder)
    before = load_theme(a.ledger).digest()
    (folder / "mine" / "style.css").write_text("body { color: blue; }")
    assert load_theme(a.ledger).digest() != before


# ---------------------------------------------------------------------------- catalog and formatting

def test_every_message_a_template_uses_is_in_the_english_catalog():
    used = set()
    for path in THEMES.rglob("*.html"):
        if path.name.startswith(("dashboard", "client", "site")) or "reminders" in path.parts:
            continue
        used |= set(re.findall(r"""\bt\(\s*["']([a-z0-9_.+-]+)["']""", path.read_text(encoding="utf-8")))
    assert used, "no t() calls found"
    missing = sorted(used - set(MESSAGES["en"]))
    assert not missing, missing


def test_translator_falls_back_to_english_key_by_key():
    catalog = {"en": MESSAGES["en"], "pl": {"invoice.title": "Faktura"}}
    t = Translator("pl_PL", catalog=catalog)
    assert t("invoice.title") == "Faktura"
    assert t("credit_note.title") == "Credit note"
    assert t("terms.net", days=7) == "Net 7 days"


def test_formatting_follows_the_locale():
    en, pl, de = Formatter("en"), Formatter("pl"), Formatter("de")
    value = Decimal("1234567.50")
    assert en.money(value, "USD") == "USD\u00a01,234,567.50"
    assert pl.money(value, "PLN").replace("\u202f", " ").replace("\u00a0", " ") == "1 234 567,50 PLN"
    assert de.amount(value, "EUR") == "1.234.567,50"
    assert en.amount(Decimal(1234), "JPY") == "1,234"
    assert en.amount(Decimal("1.234"), "KWD") == "1.234"
    assert en.price(Decimal("598.1400"), "PLN") == "598.14"
    assert en.price(Decimal("3.98765"), "PLN") == "3.99"  # issue 13: the currency's minor digits
    assert en.quantity(Decimal("3.5")) == "3.50"
    assert en.percent(Decimal("12.5")) == "12.5%"
    assert en.date(date(2026, 1, 31)) == "Jan 31, 2026"
    assert de.date(date(2026, 1, 31)) == "31.01.2026"
    assert Formatter("xx-nonsense").amount(value, "USD") == "1,234,567.50"


def test_document_locale_prefers_the_client(tmp_path):
    a = clean(make_ledger(tmp_path / "l", LEDGER.replace("  terms net 14", "  terms net 14\n  locale de")))
    html = render_invoice(a, a.books.invoices["FV/2026/0001"])
    assert '<html lang="de">' in html and "481,91" in html and "31.01.2026" in html
    assert "Vierhunderteinundachtzig Euro und einundneunzig Cent" in html


def test_amounts_in_words():
    assert amount_in_words(Decimal("1234.56"), "EUR", "en") == \
        "One thousand, two hundred and thirty-four euro, fifty-six cents"
    assert amount_in_words(Decimal("1234.56"), "PLN", "pl") == \
        "Tysiąc dwieście trzydzieści cztery złote, pięćdziesiąt sześć groszy"
    assert amount_in_words(Decimal("10.50"), "CHF", "de") == "Zehn CHF 50/100"
    assert amount_in_words(Decimal(1500), "JPY", "en") == "One thousand, five hundred JPY"
    assert amount_in_words(Decimal("2.125"), "KWD", "fr") == "Two KWD 125/1000"


# a 1x1 transparent PNG
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


MINIMAL = """\
company acme "Acme"
  currency USD

client tokyo "Tokyo KK"
  currency JPY

2026-01-02 fx USD JPY 150
2026-01-31 invoice INV-2026-0001 tokyo
  item "Consulting" 3 x 12345 JPY
2026-02-28 invoice INV-2026-0002 tokyo
"""


def test_a_minimal_ledger_renders_cleanly(tmp_path):
    a = clean(make_ledger(tmp_path / "l", MINIMAL))
    first = text_of(render_invoice(a, a.books.invoices["INV-2026-0001"]))
    assert "Consulting 3.00 12,345 37,035" in first and "Total due JPY 37,035" in first
    assert "Thirty-seven thousand and thirty-five JPY" in first
    assert "Please pay JPY 37,035 by Mar 2, 2026. Reference INV-2026-0001" in first
    assert "IBAN" not in first and "Tax summary" not in first  # no bank, no tax
    empty = text_of(render_invoice(a, a.books.invoices["INV-2026-0002"]))
    assert "No billable items in this period." in empty and "Total due JPY 0" in empty
