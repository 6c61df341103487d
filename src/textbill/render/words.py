"""An amount in words ("one thousand two hundred euro, fifty cents") for the total due.

num2words knows the words of some currencies per language (Polish: PLN, EUR,
USD, with the right plural forms: "dwa złote", "pięć złotych", "dwa grosze");
for the others the whole units are spelled out and the minor units written as
a fraction ("one hundred twenty-three JPY", "tysiąc CHF 50/100"), which is how
cheques and invoices write them when no word exists.
"""
from __future__ import annotations

from decimal import Decimal

from textbill.core.money import minor_units

# languages num2words is asked for; anything else falls back to English words
LANGUAGES = ("en", "pl", "de")


def amount_in_words(value: Decimal, currency: str, locale: str | None) -> str:
    """The amount in words in the locale's language (en, pl, de; English otherwise)."""
    from num2words import num2words

    lang = (locale or "en").replace("-", "_").split("_")[0]
    if lang not in LANGUAGES:
        lang = "en"
    negative = value < 0
    value = abs(value)
    digits = minor_units(currency)
    text = None
    if digits == 2:
        try:
            text = num2words(value, lang=lang, to="currency", currency=currency)
        except (NotImplementedError, KeyError, ValueError):
            text = None
    if text is None:
        whole = int(value)
        text = f"{num2words(whole, lang=lang)} {currency}"
        if digits:
            minor = int((value - whole) * (10 ** digits))
            text += f" {minor:0{digits}d}/{10 ** digits}"
    text = " ".join(text.split())
    if lang == "pl" and currency == "EUR" and int(value) == 1:
        text = text.replace("jeden euro", "jedno euro", 1)  # euro is neuter in Polish: "jedno euro"
    if negative:
        text = "minus " + text
    return text[:1].upper() + text[1:]
