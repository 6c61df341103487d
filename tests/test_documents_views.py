"""Issue 13, "Documents and views": what a reader sees on invoices, credit notes, statements, the
dashboard and the terminal tables — in English and in Polish, in both bundled themes."""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from conftest import clean, write_ledger

from textbill.render.html import invoice_view, render_invoice

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
    """Babel's narrow and no-break spaces as ordinary spaces."""
    return text.replace("\u202f", " ").replace("\u00a0", " ")


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
