"""Document language: the message catalog of the themes and locale-aware formatting (babel).

Templates never hold words of their own: they call `t("key")`, and the words come
from MESSAGES[language], falling back to English key by key, so a translation can
be added one message at a time.  English, Polish and German are complete (a test
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

from collections.abc import Callable, Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_decimal, get_decimal_symbol
from markupsafe import escape

from textbill.core.money import minor_units

DEFAULT_LOCALE = "en"

# One dict per language ('pl', 'de'; a regional one like 'de_AT' may add to its language's);
# 'en' is complete and is the fallback for every key.  Placeholders use str.format names:
# t("terms.net", days=30).  A key with a plural takes `_one` / `_few` / `_many` variants
# (babel's plural forms of the language) beside the plain key, see Translator.plural.
MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        # document titles
        "invoice.title": "Invoice",
        "invoice.title_vat": "Invoice",  # a VAT invoice: Polish "Faktura VAT"
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
        "doc.service_date": "Date of supply",
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
        "party.seller": "Seller",
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
        "lines.amount_in": "Amount ({currency})",
        "lines.tax": "Tax",
        "lines.hours": "h",
        "lines.none": "No billable items in this period.",
        "lines.other": "Other items",
        # words of the lines the engine writes in English (retainer periods, the implicit milestone)
        "lines.retainer": "retainer",
        "lines.complete": "complete",
        "lines.expense": "Expense",
        "period.quarter": "Q{quarter} {year}",
        # totals
        "totals.subtotal": "Subtotal",
        "totals.discount": "Discount",
        "totals.charge": "Charge",
        # discounts and charges as the engine words them (lower case: they are joined with "; ")
        "adjust.discount": "discount",
        "adjust.charge": "charge",
        "adjust.standing": "standing discount {percent}",
        "totals.net": "Net total",
        "totals.tax": "Tax",
        "totals.tax_on": "{tax} on {basis}",
        "totals.tax_exempt": "Tax (exempt)",
        "totals.tax_reverse_charge": "Tax (reverse charge)",
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
        "credit.date": "Issue date",
        "credit.amount_in": "Amount ({currency})",
        "credit.invoice_total": "Invoice total",
        "credit.reason": "Reason",
        "credit.line": "Correction of invoice {number} of {date}",
        "credit.full": "Cancellation of invoice {number} of {date}",
        "credit.split": "Credited amounts by tax",
        "credit.total": "Total credited",
        "credit.refund": "The amount is deducted from what you owe, or refunded if already paid.",
        # statement
        "statement.period": "Period",
        "statement.client": "Bill to",
        "statement.from_start": "from the first entry",
        "statement.as_of": "As of",
        "statement.opening": "Opening balance",
        "statement.closing": "Closing balance",
        "statement.closing_in": "Closing balance ({currency})",
        "statement.charges": "Charges",
        "statement.credits": "Payments and credits",
        "statement.balance": "Balance",
        "statement.ref": "Reference",
        "statement.detail": "Details",
        "statement.for_invoice": "for {number}",
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
    # Polish: the words of Polish invoices (art. 106e ustawy o VAT): "Sprzedawca", "Nabywca",
    # "Data wystawienia", "Termin płatności", "Do zapłaty", "Słownie", "odwrotne obciążenie"
    "pl": {
        "invoice.title": "Faktura",
        "invoice.title_vat": "Faktura VAT",
        "credit_note.title": "Faktura korygująca",
        "statement.title": "Zestawienie rozrachunków",
        "overdue.title": "Należności przeterminowane",
        "draft.mark": "PROJEKT",
        "draft.notice": "Projekt — to nie jest wystawiona faktura. Numer i kwoty mogą się jeszcze zmienić.",
        "doc.number": "Numer",
        "doc.issue_date": "Data wystawienia",
        "doc.due_date": "Termin płatności",
        "doc.terms": "Warunki płatności",
        "doc.period": "Okres świadczenia usług",
        "doc.service_date": "Data sprzedaży",
        "doc.po": "Nr zamówienia",
        "doc.currency": "Waluta",
        "doc.page": "Strona",
        "doc.of": "z",
        "doc.status": "Status",
        "terms.net": "{days} dni",
        "terms.net_one": "1 dzień",
        "terms.eom": "Koniec miesiąca + {days} dni",
        "terms.eom_zero": "Koniec miesiąca",
        "terms.due_on_receipt": "Płatne natychmiast",
        "terms.custom": "Płatne do {date}",
        "party.from": "Od",
        "party.seller": "Sprzedawca",
        "party.bill_to": "Nabywca",
        "party.tax_id": "NIP",
        "party.email": "E-mail",
        "party.phone": "Tel.",
        "party.website": "WWW",
        "party.contact": "Osoba kontaktowa",
        "lines.date": "Data",
        "lines.description": "Nazwa towaru lub usługi",
        "lines.quantity": "Ilość",
        "lines.unit_price": "Cena jedn. netto",
        "lines.amount": "Wartość netto",
        "lines.amount_in": "Wartość netto ({currency})",
        "lines.tax": "Stawka",
        "lines.hours": "godz.",
        "lines.none": "Brak pozycji do zafakturowania w tym okresie.",
        "lines.other": "Pozostałe pozycje",
        "lines.retainer": "abonament",
        "lines.complete": "całość",
        "lines.expense": "Koszt",
        "period.quarter": "{roman} kw. {year}",
        "totals.subtotal": "Suma pozycji",
        "totals.discount": "Rabat",
        "totals.charge": "Dopłata",
        "adjust.discount": "rabat",
        "adjust.charge": "dopłata",
        "adjust.standing": "rabat stały {percent}",
        "totals.net": "Razem netto",
        "totals.tax": "VAT",
        "totals.tax_on": "{tax} od {basis}",
        "totals.tax_exempt": "VAT (zw.)",
        "totals.tax_reverse_charge": "VAT (odwrotne obciążenie)",
        "totals.total": "Razem",
        "totals.total_due": "Do zapłaty",
        "totals.in_words": "Słownie",
        "tax.summary": "Podsumowanie według stawek VAT",
        "tax.rate": "Stawka",
        "tax.net": "Netto",
        "tax.allowances": "Rabaty",
        "tax.charges": "Dopłaty",
        "tax.basis": "Podstawa opodatkowania",
        "tax.amount": "Kwota VAT",
        "tax.amount_in": "VAT w {currency}",
        "tax.none": "Bez podatku",
        "tax.exempt": "zw.",
        "tax.reverse_charge": "Odwrotne obciążenie",
        "tax.note.reverse_charge": "Odwrotne obciążenie: podatek rozlicza nabywca "
                                   "(art. 196 dyrektywy Rady 2006/112/WE).",
        "tax.note.exempt": "Zwolnione z VAT, podstawa zwolnienia: {reason}",
        "tax.note.exempt_no_reason": "Zwolnione z VAT.",
        "tax.company_currency": "VAT w {currency}: {amount}, po kursie {rate} {pair}",
        "tax.company_currency_dated": "VAT w {currency}: {amount}, po kursie {rate} {pair} z dnia {date}",
        "payment.title": "Płatność",
        "payment.bank": "Bank",
        "payment.iban": "IBAN",
        "payment.bic": "BIC / SWIFT",
        "payment.account": "Nr rachunku",
        "payment.routing": "Nr rozliczeniowy banku",
        "payment.reference": "Tytuł przelewu",
        "payment.methods": "Sposób płatności",
        "payment.due_by": "Prosimy o zapłatę {amount} do {date}.",
        "payment.scan": "Zeskanuj, aby zapłacić",
        "method.bank-transfer": "Przelew",
        "method.card": "Karta płatnicza",
        "method.cash": "Gotówka",
        "method.check": "Czek",
        "method.cheque": "Czek",
        "method.paypal": "PayPal",
        "method.direct-debit": "Polecenie zapłaty",
        "method.sepa": "Przelew SEPA",
        "method.wire": "Przelew zagraniczny",
        "notes.title": "Uwagi",
        "credit.corrects": "Dotyczy faktury",
        "credit.date": "Data wystawienia",
        "credit.amount_in": "Kwota ({currency})",
        "credit.invoice_date": "Data faktury",
        "credit.invoice_total": "Wartość faktury",
        "credit.reason": "Przyczyna korekty",
        "credit.line": "Korekta faktury {number} z dnia {date}",
        "credit.full": "Korekta do zera faktury {number} z dnia {date}",
        "credit.split": "Korekta według stawek VAT",
        "credit.total": "Kwota korekty",
        "credit.refund": "Kwota korekty pomniejsza Państwa zobowiązanie, a jeśli faktura została już "
                         "opłacona, zostanie zwrócona.",
        "statement.period": "Okres",
        "statement.client": "Kontrahent",
        "statement.from_start": "od pierwszego zapisu",
        "statement.as_of": "Stan na",
        "statement.opening": "Saldo początkowe",
        "statement.closing": "Saldo końcowe",
        "statement.closing_in": "Saldo końcowe ({currency})",
        "statement.charges": "Obciążenia",
        "statement.credits": "Wpłaty i korekty",
        "statement.balance": "Saldo",
        "statement.ref": "Dokument",
        "statement.detail": "Opis",
        "statement.for_invoice": "do faktury {number}",
        "statement.no_entries": "Brak zapisów w tym okresie.",
        "statement.aging": "Wiekowanie salda",
        "statement.unapplied": "Nierozliczona nadpłata",
        "statement.amount_due": "Do zapłaty",
        "statement.in_credit": "Nadpłata na Państwa korzyść",
        "kind.invoice": "Faktura",
        "kind.credit-note": "Faktura korygująca",
        "kind.payment": "Wpłata",
        "kind.writeoff": "Odpis",
        "bucket.current": "Bieżące",
        "bucket.1-30": "1–30 dni",
        "bucket.31-60": "31–60 dni",
        "bucket.61-90": "61–90 dni",
        "bucket.90+": "Powyżej 90 dni",
        "bucket.total": "Razem",
        "overdue.as_of": "Stan na",
        "overdue.invoice": "Faktura",
        "overdue.installment": "Rata",
        "overdue.client": "Kontrahent",
        "overdue.due": "Termin",
        "overdue.days": "Dni",
        "overdue.bucket": "Przedział",
        "overdue.outstanding": "Do zapłaty",
        "overdue.interest": "Odsetki za opóźnienie",
        "overdue.by_bucket": "Według przedziałów wiekowania",
        "overdue.by_client": "Według kontrahentów",
        "overdue.total": "Razem",
        "overdue.interest_note": "Odsetki za opóźnienie według stopy {rate} w stosunku rocznym, naliczone do "
                                 "{date}; podane informacyjnie, nie wliczają się do kwoty do zapłaty.",
        "overdue.none": "Brak należności przeterminowanych.",
        "overdue.count": "{count} przeterminowanych pozycji",
        "overdue.count_one": "1 przeterminowana pozycja",
        "overdue.count_few": "{count} przeterminowane pozycje",
        "status.open": "Otwarta",
        "status.overdue": "Przeterminowana",
        "status.paid": "Opłacona",
        "status.credited": "Skorygowana",
        "status.written-off": "Spisana",
        "status.collections": "W windykacji",
        "field.po-number": "Nr zamówienia",
        "field.po": "Nr zamówienia",
        "field.vat-id": "NIP UE",
        "field.cost-center": "MPK",
        "field.contract": "Umowa",
        "field.project": "Projekt",
        "field.order": "Zamówienie",
        "field.reference": "Numer referencyjny",
        "field.krs": "KRS",
        "field.regon": "REGON",
        "field.hrb": "HRB",
        "footer.generated": "Wygenerowano w textbill",
    },
    # German: the words of German invoices (§ 14 UStG): "Rechnungsdatum", "Leistungszeitraum",
    # "Zahlbar bis", "Nettobetrag", "USt.", "Gesamtbetrag", "Steuerschuldnerschaft des Leistungsempfängers"
    "de": {
        "invoice.title": "Rechnung",
        "invoice.title_vat": "Rechnung",
        "credit_note.title": "Rechnungskorrektur",
        "statement.title": "Kontoauszug",
        "overdue.title": "Überfällige Rechnungen",
        "draft.mark": "ENTWURF",
        "draft.notice": "Entwurf — keine ausgestellte Rechnung. Nummer und Beträge können sich noch ändern.",
        "doc.number": "Rechnungsnummer",
        "doc.issue_date": "Rechnungsdatum",
        "doc.due_date": "Zahlbar bis",
        "doc.terms": "Zahlungsbedingungen",
        "doc.period": "Leistungszeitraum",
        "doc.service_date": "Leistungsdatum",
        "doc.po": "Bestellnummer",
        "doc.currency": "Währung",
        "doc.page": "Seite",
        "doc.of": "von",
        "doc.status": "Status",
        "terms.net": "{days} Tage netto",
        "terms.net_one": "1 Tag netto",
        "terms.eom": "{days} Tage nach Monatsende",
        "terms.eom_zero": "Zum Monatsende",
        "terms.due_on_receipt": "Sofort fällig ohne Abzug",
        "terms.custom": "Fällig am {date}",
        "party.from": "Von",
        "party.seller": "Rechnungssteller",
        "party.bill_to": "Rechnungsempfänger",
        "party.tax_id": "USt-IdNr.",
        "party.email": "E-Mail",
        "party.phone": "Tel.",
        "party.website": "Web",
        "party.contact": "Ansprechpartner",
        "lines.date": "Datum",
        "lines.description": "Beschreibung",
        "lines.quantity": "Menge",
        "lines.unit_price": "Einzelpreis",
        "lines.amount": "Betrag",
        "lines.amount_in": "Betrag ({currency})",
        "lines.tax": "USt.",
        "lines.hours": "Std.",
        "lines.none": "Keine abrechenbaren Leistungen in diesem Zeitraum.",
        "lines.other": "Sonstige Positionen",
        "lines.retainer": "Pauschale",
        "lines.complete": "Gesamtleistung",
        "lines.expense": "Auslage",
        "period.quarter": "{quarter}. Quartal {year}",
        "totals.subtotal": "Zwischensumme",
        "totals.discount": "Rabatt",
        "totals.charge": "Zuschlag",
        "adjust.discount": "Rabatt",
        "adjust.charge": "Zuschlag",
        "adjust.standing": "Kundenrabatt {percent}",
        "totals.net": "Nettobetrag",
        "totals.tax": "USt.",
        "totals.tax_on": "{tax} auf {basis}",
        "totals.tax_exempt": "USt. (steuerfrei)",
        "totals.tax_reverse_charge": "USt. (Reverse Charge)",
        "totals.total": "Gesamt",
        "totals.total_due": "Gesamtbetrag",
        "totals.in_words": "In Worten",
        "tax.summary": "Umsatzsteuer nach Steuersätzen",
        "tax.rate": "Steuersatz",
        "tax.net": "Netto",
        "tax.allowances": "Rabatte",
        "tax.charges": "Zuschläge",
        "tax.basis": "Bemessungsgrundlage",
        "tax.amount": "Steuerbetrag",
        "tax.amount_in": "Steuer in {currency}",
        "tax.none": "Ohne Steuer",
        "tax.exempt": "Steuerfrei",
        "tax.reverse_charge": "Reverse Charge",
        "tax.note.reverse_charge": "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge, "
                                   "Art. 196 MwStSystRL, § 13b UStG).",
        "tax.note.exempt": "Steuerfreie Leistung: {reason}",
        "tax.note.exempt_no_reason": "Steuerfreie Leistung.",
        "tax.company_currency": "Steuer in {currency}: {amount}, zum Kurs {rate} {pair}",
        "tax.company_currency_dated": "Steuer in {currency}: {amount}, zum Kurs {rate} {pair} vom {date}",
        "payment.title": "Zahlung",
        "payment.bank": "Bank",
        "payment.iban": "IBAN",
        "payment.bic": "BIC / SWIFT",
        "payment.account": "Kontonummer",
        "payment.routing": "Bankleitzahl",
        "payment.reference": "Verwendungszweck",
        "payment.methods": "Zahlungsarten",
        "payment.due_by": "Bitte zahlen Sie {amount} bis zum {date}.",
        "payment.scan": "Zum Bezahlen scannen",
        "method.bank-transfer": "Überweisung",
        "method.card": "Kartenzahlung",
        "method.cash": "Barzahlung",
        "method.check": "Scheck",
        "method.cheque": "Scheck",
        "method.paypal": "PayPal",
        "method.direct-debit": "Lastschrift",
        "method.sepa": "SEPA-Überweisung",
        "method.wire": "Auslandsüberweisung",
        "notes.title": "Hinweise",
        "credit.corrects": "Korrektur zur Rechnung",
        "credit.date": "Datum",
        "credit.amount_in": "Betrag ({currency})",
        "credit.invoice_date": "Rechnungsdatum",
        "credit.invoice_total": "Rechnungsbetrag",
        "credit.reason": "Grund",
        "credit.line": "Korrektur der Rechnung {number} vom {date}",
        "credit.full": "Storno der Rechnung {number} vom {date}",
        "credit.split": "Korrekturbeträge nach Steuersätzen",
        "credit.total": "Korrekturbetrag",
        "credit.refund": "Der Betrag wird mit Ihren offenen Posten verrechnet oder, falls bereits bezahlt, "
                         "erstattet.",
        "statement.period": "Zeitraum",
        "statement.client": "Kunde",
        "statement.from_start": "ab der ersten Buchung",
        "statement.as_of": "Stand",
        "statement.opening": "Anfangssaldo",
        "statement.closing": "Endsaldo",
        "statement.closing_in": "Endsaldo ({currency})",
        "statement.charges": "Soll",
        "statement.credits": "Haben",
        "statement.balance": "Saldo",
        "statement.ref": "Beleg",
        "statement.detail": "Vorgang",
        "statement.for_invoice": "zu Rechnung {number}",
        "statement.no_entries": "Keine Buchungen in diesem Zeitraum.",
        "statement.aging": "Fälligkeitsstruktur des Saldos",
        "statement.unapplied": "Nicht verrechnetes Guthaben",
        "statement.amount_due": "Offener Betrag",
        "statement.in_credit": "Guthaben zu Ihren Gunsten",
        "kind.invoice": "Rechnung",
        "kind.credit-note": "Rechnungskorrektur",
        "kind.payment": "Zahlung",
        "kind.writeoff": "Ausbuchung",
        "bucket.current": "Nicht fällig",
        "bucket.1-30": "1–30 Tage",
        "bucket.31-60": "31–60 Tage",
        "bucket.61-90": "61–90 Tage",
        "bucket.90+": "Über 90 Tage",
        "bucket.total": "Gesamt",
        "overdue.as_of": "Stand",
        "overdue.invoice": "Rechnung",
        "overdue.installment": "Rate",
        "overdue.client": "Kunde",
        "overdue.due": "Fällig",
        "overdue.days": "Tage",
        "overdue.bucket": "Überfällig",
        "overdue.outstanding": "Offen",
        "overdue.interest": "Verzugszinsen",
        "overdue.by_bucket": "Nach Überfälligkeit",
        "overdue.by_client": "Nach Kunden",
        "overdue.total": "Gesamt",
        "overdue.interest_note": "Verzugszinsen von {rate} p. a., berechnet bis {date}; zur Information, "
                                 "nicht im offenen Betrag enthalten.",
        "overdue.none": "Keine überfälligen Rechnungen.",
        "overdue.count": "{count} überfällige Posten",
        "overdue.count_one": "1 überfälliger Posten",
        "status.open": "Offen",
        "status.overdue": "Überfällig",
        "status.paid": "Bezahlt",
        "status.credited": "Korrigiert",
        "status.written-off": "Ausgebucht",
        "status.collections": "Im Inkasso",
        "field.po-number": "Bestellnummer",
        "field.po": "Bestellnummer",
        "field.vat-id": "USt-IdNr.",
        "field.cost-center": "Kostenstelle",
        "field.contract": "Vertrag",
        "field.project": "Projekt",
        "field.order": "Auftrag",
        "field.reference": "Referenz",
        "field.krs": "KRS",
        "field.regon": "REGON",
        "field.hrb": "HRB",
        "footer.generated": "Erstellt mit textbill",
    },
}

# What a language's documents show beyond its words, the facts its accountants look for:
#   seller        a heading over the seller's block ("Sprzedawca"), as over the buyer's
#   service_date  the date of supply even when it is the issue date ("Data sprzedaży",
#                 "Leistungsdatum"), where no service period is printed
#   vat_title     a VAT invoice is titled as one ("Faktura VAT")
CONVENTIONS: Mapping[str, frozenset[str]] = MappingProxyType({
    "pl": frozenset({"seller", "service_date", "vat_title"}),
    "de": frozenset({"service_date"}),
})

# Date patterns where babel's medium format is not what the language's invoices print
# (babel's Polish medium date is "31 sty 2026"; Polish invoices write 31.01.2026).
DATE_PATTERNS = MappingProxyType({"pl": "dd.MM.yyyy"})

ROMAN = ("I", "II", "III", "IV")


def language(locale: str | None) -> str:
    """The language of a locale code: 'pl_PL' -> 'pl', 'de-AT' -> 'de'."""
    return (locale or DEFAULT_LOCALE).replace("-", "_").split("_")[0].lower()


def own_messages(locale: str | None) -> dict[str, str]:
    """The messages of a locale's language and region, without the English behind them."""
    code = (locale or DEFAULT_LOCALE).replace("-", "_")
    own = dict(MESSAGES.get(language(code), {}))
    if code != language(code):
        own.update(MESSAGES.get(code, {}))
    return own


def messages_for(locale: str | None) -> dict[str, str]:
    """The catalog of a locale (`pl_PL` falls back to `pl`), English behind every key."""
    base = dict(MESSAGES[DEFAULT_LOCALE])
    if locale:
        base.update(own_messages(locale))
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

    def __init__(self, locale: str | None, second: str | None = None):
        self.locale = locale or DEFAULT_LOCALE
        self.lang = language(self.locale)
        self.messages = messages_for(locale)
        self.second: Translator | None = None
        self.first: Translator = self
        if second and language(second) != self.lang:
            other = Translator(second)
            if other.lang != DEFAULT_LOCALE:  # no English stand-ins for words the language lacks
                other.messages = own_messages(second)
            self.second = other
            self.first = Translator(locale)

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
        return format_date(day, format=self.date_format, locale=self.locale)

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
