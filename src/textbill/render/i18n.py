"""Document language: the message catalog of the themes and locale-aware formatting (babel).

Templates never hold English text: they call `t("key")`, and the words come
from MESSAGES[locale], falling back to English key by key, so a translation
can be added one message at a time.  Numbers, dates and currencies are
formatted with babel in the document's locale; amounts keep the ISO 4217 minor
digits the engine rounded to (babel's own currency digits are not used, so a
document never shows a figure the engine did not compute).
"""
from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_decimal

from ..money import minor_units

DEFAULT_LOCALE = "en"

# One dict per locale; 'en' is complete and is the fallback for every key.
# Placeholders use str.format names: t("terms.net", days=30).
MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        # document titles
        "invoice.title": "Invoice",
        "credit_note.title": "Credit note",
        "statement.title": "Statement of account",
        "overdue.title": "Overdue invoices",
        "draft.mark": "DRAFT",
        "draft.notice": "Draft — not an issued invoice. The number and amounts may still change.",
        # document facts
        "doc.number": "Number",
        "doc.issue_date": "Issue date",
        "doc.due_date": "Due date",
        "doc.terms": "Payment terms",
        "doc.period": "Service period",
        "doc.po": "PO number",
        "doc.currency": "Currency",
        "doc.page": "Page",
        "doc.of": "of",
        "doc.status": "Status",
        # terms
        "terms.net": "Net {days} days",
        "terms.net_one": "Net 1 day",
        "terms.eom": "End of month + {days} days",
        "terms.eom_zero": "End of month",
        "terms.due_on_receipt": "Due on receipt",
        "terms.custom": "Due {date}",
        # parties
        "party.from": "From",
        "party.bill_to": "Bill to",
        "party.tax_id": "Tax ID",
        "party.email": "Email",
        "party.phone": "Phone",
        "party.website": "Web",
        "party.contact": "Contact",
        # lines
        "lines.date": "Date",
        "lines.description": "Description",
        "lines.quantity": "Qty",
        "lines.unit_price": "Unit price",
        "lines.amount": "Amount",
        "lines.tax": "Tax",
        "lines.hours": "h",
        "lines.none": "No billable items in this period.",
        "lines.other": "Other items",
        # totals
        "totals.subtotal": "Subtotal",
        "totals.discount": "Discount",
        "totals.charge": "Charge",
        "totals.net": "Net total",
        "totals.tax": "Tax",
        "totals.tax_on": "{tax} on {basis}",
        "totals.total": "Total",
        "totals.total_due": "Total due",
        "totals.in_words": "In words",
        # tax summary
        "tax.summary": "Tax summary",
        "tax.rate": "Tax",
        "tax.net": "Net",
        "tax.allowances": "Discounts",
        "tax.charges": "Charges",
        "tax.basis": "Taxable amount",
        "tax.amount": "Tax",
        "tax.amount_in": "Tax in {currency}",
        "tax.none": "No tax",
        "tax.exempt": "Exempt",
        "tax.reverse_charge": "Reverse charge",
        "tax.note.reverse_charge": "Reverse charge: VAT to be accounted for by the recipient "
                                   "(Article 196, Council Directive 2006/112/EC).",
        "tax.note.exempt": "Exempt from tax: {reason}",
        "tax.note.exempt_no_reason": "Exempt from tax.",
        "tax.company_currency": "Tax in {currency}: {amount}, at {rate} {pair}",
        "tax.company_currency_dated": "Tax in {currency}: {amount}, at {rate} {pair} of {date}",
        # payment
        "payment.title": "Payment",
        "payment.bank": "Bank",
        "payment.iban": "IBAN",
        "payment.bic": "BIC / SWIFT",
        "payment.account": "Account",
        "payment.routing": "Routing",
        "payment.reference": "Reference",
        "payment.methods": "Accepted",
        "payment.due_by": "Please pay {amount} by {date}.",
        "payment.scan": "Scan to pay",
        "method.bank-transfer": "Bank transfer",
        "method.card": "Card",
        "method.cash": "Cash",
        "method.check": "Check",
        "method.cheque": "Cheque",
        "method.paypal": "PayPal",
        "method.direct-debit": "Direct debit",
        "method.sepa": "SEPA transfer",
        "method.wire": "Wire transfer",
        # notes
        "notes.title": "Notes",
        # credit note
        "credit.corrects": "Corrects invoice",
        "credit.invoice_date": "Invoice date",
        "credit.invoice_total": "Invoice total",
        "credit.reason": "Reason",
        "credit.line": "Correction of invoice {number} of {date}",
        "credit.full": "Cancellation of invoice {number} of {date}",
        "credit.split": "Credited amounts by tax",
        "credit.total": "Total credited",
        "credit.refund": "The amount is deducted from what you owe, or refunded if already paid.",
        # statement
        "statement.period": "Period",
        "statement.from_start": "from the first entry",
        "statement.as_of": "As of",
        "statement.opening": "Opening balance",
        "statement.closing": "Closing balance",
        "statement.charges": "Charges",
        "statement.credits": "Payments and credits",
        "statement.balance": "Balance",
        "statement.ref": "Reference",
        "statement.detail": "Details",
        "statement.no_entries": "No entries in this period.",
        "statement.aging": "Aging of the balance",
        "statement.unapplied": "Unapplied credit",
        "statement.amount_due": "Amount due",
        "statement.in_credit": "In your favour",
        "kind.invoice": "Invoice",
        "kind.credit-note": "Credit note",
        "kind.payment": "Payment",
        "kind.writeoff": "Write-off",
        # aging buckets
        "bucket.current": "Current",
        "bucket.1-30": "1–30 days",
        "bucket.31-60": "31–60 days",
        "bucket.61-90": "61–90 days",
        "bucket.90+": "Over 90 days",
        "bucket.total": "Total",
        # overdue report
        "overdue.as_of": "As of",
        "overdue.invoice": "Invoice",
        "overdue.installment": "Inst.",
        "overdue.client": "Client",
        "overdue.due": "Due",
        "overdue.days": "Days",
        "overdue.bucket": "Bucket",
        "overdue.outstanding": "Outstanding",
        "overdue.interest": "Late interest",
        "overdue.by_bucket": "By aging bucket",
        "overdue.by_client": "By client",
        "overdue.total": "Total",
        "overdue.interest_note": "Late interest at {rate} a year, counted to {date}; shown for information, "
                                 "not part of the outstanding.",
        "overdue.none": "Nothing is overdue.",
        "overdue.count": "{count} overdue items",
        "overdue.count_one": "1 overdue item",
        # statuses
        "status.open": "Open",
        "status.overdue": "Overdue",
        "status.paid": "Paid",
        "status.credited": "Credited",
        "status.written-off": "Written off",
        "status.collections": "In collections",
        # well-known custom fields (`field ID "value"`); other ids are shown in words
        "field.po-number": "PO number",
        "field.po": "PO number",
        "field.vat-id": "VAT ID",
        "field.cost-center": "Cost centre",
        "field.contract": "Contract",
        "field.project": "Project",
        "field.order": "Order",
        "field.reference": "Reference",
        "field.krs": "KRS",
        "field.regon": "REGON",
        "field.hrb": "HRB",
        # footer
        "footer.generated": "Generated by textbill",
    },
}


def messages_for(locale: str | None) -> dict[str, str]:
    """The catalog of a locale (`pl_PL` falls back to `pl`), English behind every key."""
    base = dict(MESSAGES[DEFAULT_LOCALE])
    if locale:
        lang = locale.replace("-", "_").split("_")[0]
        base.update(MESSAGES.get(lang, {}))
        base.update(MESSAGES.get(locale.replace("-", "_"), {}))
    return base


class Translator:
    """`t("key", **fields)` for templates; an unknown key is a bug and raises KeyError."""

    def __init__(self, locale: str | None):
        self.locale = locale or DEFAULT_LOCALE
        self.messages = messages_for(locale)

    def __call__(self, key: str, **fields) -> str:
        text = self.messages[key]
        return text.format(**fields) if fields else text

    def has(self, key: str) -> bool:
        return key in self.messages


@lru_cache(maxsize=64)
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
        # where the currency sits in this locale's standard currency pattern: before or after
        self.code_first = self.locale.currency_formats["standard"].pattern.lstrip("\u200e\u200f").startswith("¤")

    def number(self, value: Decimal, digits: int = 2, max_digits: int | None = None) -> str:
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
        """A unit price: the currency's digits, up to four when a converted price has more."""
        digits = minor_units(currency)
        return self.number(value, digits, max(digits, 4))

    def quantity(self, value: Decimal) -> str:
        return self.number(value, 2)

    def percent(self, value: Decimal) -> str:
        """A percent given as a number of percent (23 -> '23%', 12.5 -> '12.5%')."""
        return format_decimal(value, format="#,##0.###", locale=self.locale) + "%"

    def rate(self, value: Decimal) -> str:
        """An exchange rate, with up to six decimals."""
        return self.number(value, 2, 6)

    def date(self, day: date | None) -> str:
        if day is None or day == date.min:
            return ""
        return format_date(day, format="medium", locale=self.locale)

    def long_date(self, day: date | None) -> str:
        if day is None or day == date.min:
            return ""
        return format_date(day, format="long", locale=self.locale)

    def country(self, code: str | None) -> str:
        if not code:
            return ""
        return self.locale.territories.get(code.upper(), code)
