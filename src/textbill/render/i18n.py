"""Document language: the message catalog of the themes and locale-aware formatting (babel).

Templates never hold words of their own: they call `t("key")`, and the words come
from the language's file in render/messages/ (MESSAGES), falling back to English
key by key, so a translation can be added one message at a time.  English, Polish and German are complete (a test
keeps them so).  Numbers, dates and currencies are formatted with babel in the
document's locale; amounts keep the ISO 4217 minor digits the engine rounded to
(babel's own currency digits are not used, so a document never shows a figure
the engine did not compute).

Bilingual documents (`bilingual: en` in textbill.yaml): `t("key")` then returns a
`Bilingual` string, which *is* the text in the document language, so code that
joins or compares it sees one language, and which a template prints with the
second language beside it (`<span class="l2">`, styled by the theme).  Texts built
from several messages go through `t.compose(...)`, which builds them once per
language.  A message the second language has no word for is printed once.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from types import MappingProxyType

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_decimal, get_decimal_symbol
from markupsafe import escape

from textbill.core.money import minor_units

DEFAULT_LOCALE = "en"

# The words, one JSON file per language in render/messages/ ('en.json', 'pl.json', 'de.json';
# a regional one like 'de_AT.json' adds to its language's), read once when this module is
# imported and kept read-only.  'en' is complete and is the fallback for every key.  Placeholders
# use str.format names: t("terms.net", days=30).  A key with a plural takes `_one` / `_few` /
# `_many` variants (babel's plural forms of the language) beside the plain key, see
# Translator.plural.  Keys starting "dashboard." are the words of the dashboard site.
MESSAGES_DIR = Path(__file__).with_name("messages")

Catalog = Mapping[str, Mapping[str, str]]  # language or locale code -> key -> text


def read_catalog(folder: Path) -> Catalog:
    """Every `<code>.json` of a folder as a read-only catalog: code -> key -> text."""
    return MappingProxyType({
        path.stem: MappingProxyType(json.loads(path.read_text(encoding="utf-8")))
        for path in sorted(folder.glob("*.json"))
    })


MESSAGES: Catalog = read_catalog(MESSAGES_DIR)

# What a language's documents show beyond its words, the facts its accountants look for:
#   seller        a heading over the seller's block ("Sprzedawca"), as over the buyer's
#   service_date  the date of supply even when it is the issue date ("Data sprzedaży",
#                 "Leistungsdatum"), where no service period is printed
#   vat_title     a VAT invoice is titled as one ("Faktura VAT")
CONVENTIONS: Mapping[str, frozenset[str]] = MappingProxyType({
    "pl": frozenset({"seller", "service_date", "vat_title", "line_tax"}),  # line_tax: art. 106e ust. 1 pkt 12
    "de": frozenset({"service_date"}),
})

# Date patterns where babel's medium format is not what the language's invoices print
# (babel's Polish medium date is "31 sty 2026"; Polish invoices write 31.01.2026).
DATE_PATTERNS = MappingProxyType({"pl": "dd.MM.yyyy"})

ROMAN = ("I", "II", "III", "IV")


def language(locale: str | None) -> str:
    """The language of a locale code: 'pl_PL' -> 'pl', 'de-AT' -> 'de'."""
    return (locale or DEFAULT_LOCALE).replace("-", "_").split("_")[0].lower()


def own_messages(locale: str | None, catalog: Catalog = MESSAGES) -> dict[str, str]:
    """The messages of a locale's language and region, without the English behind them."""
    code = (locale or DEFAULT_LOCALE).replace("-", "_")
    own = dict(catalog.get(language(code), {}))
    if code != language(code):
        own.update(catalog.get(code, {}))
    return own


def messages_for(locale: str | None, catalog: Catalog = MESSAGES) -> dict[str, str]:
    """The catalog of a locale (`pl_PL` falls back to `pl`), English behind every key."""
    base = dict(catalog[DEFAULT_LOCALE])
    if locale:
        base.update(own_messages(locale, catalog))
    return base


class Bilingual(str):
    """A text in the document language that carries its second-language form too.

    As a string it is the first language only; a template prints both (`__html__`):
    `Faktura<span class="l2" lang="en"><span class="sep"> / </span>Invoice</span>`.
    The theme decides whether the second goes beneath (display: block, the separator
    hidden) or beside it.
    """

    def __new__(cls, first: str = "", second: str = "", lang: str = ""):
        self = super().__new__(cls, first)
        self.second = second
        self.lang = lang
        return self

    def __html__(self) -> str:
        return (f'{escape(str(self))}<span class="l2" lang="{escape(self.lang)}"><span class="sep"> / </span>'
                f'{escape(self.second)}</span>')


class Translator:
    """`t("key", **fields)` for templates; an unknown key is a bug and raises KeyError.

    With a second locale (bilingual documents) a message whose second-language text
    differs comes back as a `Bilingual`; `t.one(...)` is always one language.
    """

    def __init__(self, locale: str | None, second: str | None = None, catalog: Catalog = MESSAGES):
        self.locale = locale or DEFAULT_LOCALE
        self.lang = language(self.locale)
        self.messages = messages_for(locale, catalog)
        self.second: Translator | None = None
        self.first: Translator = self
        if second and language(second) != self.lang:
            other = Translator(second, catalog=catalog)
            if other.lang != DEFAULT_LOCALE:  # no English stand-ins for words the language lacks
                other.messages = own_messages(second, catalog)
            self.second = other
            self.first = Translator(locale, catalog=catalog)

    def __call__(self, key: str, **fields) -> str:
        text = self.one(key, **fields)
        if self.second is None or key not in self.second.messages:
            return text
        return _pair(text, self.second.one(key, **fields), self.second.lang)

    def one(self, key: str, **fields) -> str:
        """A message in the document language only."""
        text = self.messages[key]
        return text.format(**fields) if fields else text

    def has(self, key: str) -> bool:
        return key in self.messages

    def shows(self, convention: str) -> bool:
        """Whether documents in this language show an optional fact (see CONVENTIONS)."""
        return convention in CONVENTIONS.get(self.lang, frozenset())

    def compose(self, make: Callable[[Translator], str]) -> str:
        """A text built from several messages, built once per language: `make` gets a
        one-language Translator.  The second language is dropped when it lacks a word."""
        first = make(self.first)
        if self.second is None:
            return first
        try:
            second = make(self.second)
        except KeyError:
            return first
        return _pair(first, second, self.second.lang)

    def plural(self, key: str, count: int, **fields) -> str:
        """The form of `key` for a count, by the language's plural rules: `key_one`, `key_few`,
        `key_many` where the catalog has them, else `key`; {count} is filled in."""
        def make(tt: Translator) -> str:
            form = babel_locale(tt.locale).plural_form(count)
            name = f"{key}_{form}" if f"{key}_{form}" in tt.messages else key
            return tt.one(name, count=count, **fields)
        return self.compose(make)


def _pair(first: str, second: str, lang: str) -> str:
    first, second = str(first), str(second)
    # the same words (maybe in another case: "Reverse Charge", "Reverse charge") are printed once
    return Bilingual(first, second, lang) if second and second.casefold() != first.casefold() else first


def babel_locale(locale: str | None) -> Locale:
    """A babel Locale for a code like `en`, `pl`, `de_AT`; English when babel does not know it."""
    try:
        return Locale.parse((locale or DEFAULT_LOCALE).replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse(DEFAULT_LOCALE)


class Formatter:
    """Numbers, money, dates and percentages in one locale.  Formatting only: nothing is rounded
    beyond what the engine already did (amounts carry their currency's ISO 4217 digits)."""

    def __init__(self, locale: str | None):
        self.locale = babel_locale(locale)
        self.lang = language(locale)
        self.date_format = DATE_PATTERNS.get(self.lang, "medium")
        # where the currency sits in this locale's standard currency pattern: before or after
        self.code_first = self.locale.currency_formats["standard"].pattern.lstrip("\u200e\u200f").startswith("¤")
        self._shown: dict[tuple, str] = {}  # (value, digits, max_digits) -> text: a document repeats its figures
        self._days: dict[date, str] = {}  # and its dates

    def number(self, value: Decimal, digits: int = 2, max_digits: int | None = None) -> str:
        key = (value, digits, max_digits)
        shown = self._shown.get(key)
        if shown is None:
            shown = self._shown[key] = self._number(value, digits, max_digits)
        return shown

    def _number(self, value: Decimal, digits: int, max_digits: int | None) -> str:
        shown = max(digits, max_digits or digits)
        # babel rounds half to even; a figure shown shorter than it is rounds half up, as the engine does
        value = Decimal(value).quantize(Decimal(1).scaleb(-shown), rounding=ROUND_HALF_UP)
        frac = "0" * digits + "#" * (shown - digits)
        pattern = "#,##0" + ("." + frac if frac else "")
        return format_decimal(value, format=pattern, locale=self.locale)

    def amount(self, value: Decimal, currency: str) -> str:
        """An amount with its currency's minor digits, no currency: '1,234.50'."""
        return self.number(value, minor_units(currency))

    def money(self, value: Decimal, currency: str) -> str:
        """An amount with its ISO currency code placed as the locale does: 'USD 1,234.50', '1 234,50 PLN'."""
        text = self.amount(value, currency)
        return f"{currency}\u00a0{text}" if self.code_first else f"{text}\u00a0{currency}"

    def price(self, value: Decimal, currency: str) -> str:
        """A unit price as documents show it: the currency's minor digits, like every amount beside
        it (a converted 65.9895 shows as 65.99).  Display only: the line's amount was computed by
        the engine from the exact price (docs/language.md, "How an invoice is computed"), never from this text."""
        return self.amount(value, currency)

    def quantity(self, value: Decimal) -> str:
        return self.number(value, 2)

    def percent(self, value: Decimal) -> str:
        """A percent given as a number of percent (23 -> '23%', 12.5 -> '12.5%')."""
        return format_decimal(value, format="#,##0.###", locale=self.locale) + "%"

    def exact_percent(self, value: Decimal) -> str:
        """A percent with every digit it has, as written in the ledger ('12.5%', '12,5%')."""
        text = format(Decimal(value).normalize(), "f")
        return text.replace(".", get_decimal_symbol(self.locale)) + "%"

    def rate(self, value: Decimal) -> str:
        """An exchange rate, with up to six decimals."""
        return self.number(value, 2, 6)

    def date(self, day: date | None) -> str:
        if day is None or day == date.min:
            return ""
        shown = self._days.get(day)
        if shown is None:
            shown = self._days[day] = format_date(day, format=self.date_format, locale=self.locale)
        return shown

    def long_date(self, day: date | None) -> str:
        if day is None or day == date.min:
            return ""
        return format_date(day, format="long", locale=self.locale)

    def month(self, day: date) -> str:
        """A month and its year, as a heading names it: 'February 2026', 'luty 2026'."""
        return format_date(day, format="LLLL y", locale=self.locale)

    def quarter(self, day: date, t: Translator) -> str:
        q = (day.month - 1) // 3 + 1
        return t.one("period.quarter", quarter=q, roman=ROMAN[q - 1], year=day.year)

    def country(self, code: str | None) -> str:
        if not code:
            return ""
        return self.locale.territories.get(code.upper(), code)
