"""HTML documents from Jinja2 themes: computed documents -> view models -> HTML.

Stage: render.

Two steps, both pure:

1. A *view model* per document (`invoice_view`, `credit_view`, `statement_view`,
   `overdue_view`): plain dicts and lists of strings, every figure formatted in
   the document's locale from what the engine computed (and, for the overdue
   report, the sums of reports/overdue.py).  Renderers never compute money.
2. The theme's template fills it in (render/themes.py: the theme's folders and
   the sandboxed Jinja environment; pass a memo to keep compiled templates).

Nothing here reads the clock; the files read are the theme's templates and the
company logo (inlined as a data: URI, only when it lies inside the ledger).
"""
from __future__ import annotations

import base64
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

from markupsafe import Markup

from textbill.core import model as m
from textbill.core.books import BUCKETS, OverdueTotals
from textbill.core.money import ZERO
from textbill.core.payref import invoice_rf, print_rf
from textbill.core.periods import period_end, period_label
from textbill.render.i18n import DEFAULT_LOCALE, Formatter, Translator, language
from textbill.render.memo import RenderTables
from textbill.render.qr import epc_qr_svg
from textbill.render.templating import render_template
from textbill.render.themes import (
    DOCUMENTS,
    LOGO_TYPES,
    Theme,
    load_theme,
    logo_problem,
)
from textbill.render.words import amount_in_words
from textbill.reports.corrections import correction
from textbill.reports.overdue import overdue_totals

PAPERS = ("a4", "letter")
TEMPLATES = MappingProxyType({
    "invoice": "invoice.html",
    "credit-note": "credit_note.html",
    "statement": "statement.html",
    "overdue": "report_overdue.html",
})



# ---------------------------------------------------------------------------- shared pieces

def document_locale(ledger: m.Ledger, client: m.Client | None = None) -> str:
    """The client's locale, else the company's, else textbill.yaml's, else English."""
    if client is not None and client.locale:
        return client.locale
    if ledger.company is not None and ledger.company.locale:
        return ledger.company.locale
    return ledger.config.locale or DEFAULT_LOCALE


def second_locale(ledger: m.Ledger, locale: str) -> str | None:
    """The language printed beside the document's (`bilingual:` in textbill.yaml), unless it is the same."""
    second = ledger.config.extra.get("bilingual")
    if not isinstance(second, str) or not second.strip() or language(second) == language(locale):
        return None
    return second.strip()


def translator(ledger: m.Ledger, locale: str) -> Translator:
    return Translator(locale, second_locale(ledger, locale))


def paper(ledger: m.Ledger) -> str:
    value = str(ledger.config.extra.get("paper") or "a4").lower()
    return value if value in PAPERS else "a4"


def logo_data_uri(ledger: m.Ledger) -> str | None:
    """The company logo inlined as a data: URI (so every document is one self-contained file)."""
    if ledger.company is None or not ledger.company.logo or logo_problem(ledger):
        return None
    root = Path(ledger.root)
    root = root.parent if root.is_file() else root
    path = root / ledger.company.logo
    data = path.read_bytes()
    return f"data:{LOGO_TYPES[path.suffix.lower()]};base64,{base64.b64encode(data).decode('ascii')}"


def _lines_of(text: str | None) -> list[str]:
    return [ln.strip() for ln in (text or "").split("\n") if ln.strip()]


def _label(t: Translator, prefix: str, key: str) -> str:
    """A catalog label for an id (`method.card`), else the id in words ('po-number' -> 'Po number')."""
    full = f"{prefix}.{key}"
    if t.has(full):
        return t(full)
    words = key.replace("-", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _fields(pairs, t: Translator, skip_values=()) -> list[dict]:
    return [{"label": _label(t, "field", k), "value": v} for k, v in pairs if v not in skip_values]


def _iban(value: str | None) -> str:
    if not value:
        return ""
    s = value.replace(" ", "")
    return " ".join(s[i:i + 4] for i in range(0, len(s), 4))


def company_view(ledger: m.Ledger, f: Formatter, t: Translator, company: m.Company | None = None) -> dict:
    """The seller: `company` as recorded for an issued document, else the ledger's company."""
    c = company or ledger.company
    if c is None:
        return {"name": "", "address_lines": [], "country": "", "country_code": "", "email": "", "phone": "",
                "website": "", "tax_id": "", "logo": None, "bank": None, "methods": [], "fields": []}
    bank = None
    if c.bank is not None:
        bank = {"name": c.bank.name or "", "iban": _iban(c.bank.iban), "bic": c.bank.bic or "",
                "account": c.bank.account or "", "routing": c.bank.routing or ""}
    return {
        "id": c.id,
        "name": c.name,
        "address_lines": _lines_of(c.address),
        "country": f.country(c.country),
        "country_code": c.country or "",
        "email": c.email or "",
        "phone": c.phone or "",
        "website": c.website or "",
        "tax_id": c.tax_id or "",
        "logo": logo_data_uri(ledger),
        "bank": bank,
        "methods": [_label(t, "method", pm) for pm in c.payment_methods],
        "fields": _fields(c.fields, t),
    }


def client_view(client: m.Client | None, f: Formatter, t: Translator, skip_values=()) -> dict:
    if client is None:
        return {"id": "", "name": "", "address_lines": [], "country": "", "country_code": "", "contact": "",
                "contact_email": "", "email": "", "phone": "", "tax_id": "", "fields": []}
    return {
        "id": client.id,
        "name": client.name,
        "address_lines": _lines_of(client.address),
        "country": f.country(client.country),
        "country_code": client.country or "",
        "contact": client.contact or "",
        "contact_email": client.contact_email or "",
        "email": client.email or "",
        "phone": client.phone or "",
        "tax_id": client.tax_id or "",
        "fields": _fields(client.fields, t, skip_values),
    }


def _shows_country(party: dict) -> bool:
    return _address_shows_country(party["address_lines"], party["country"], party["country_code"])


def _address_shows_country(lines: list[str], country: str, code: str = "") -> bool:
    """Whether the address already ends in the country, in the document's language or in English
    (a Polish invoice to an address written "...\\nGermany" must not add "Niemcy" below it)."""
    names = {country.lower()} if country else set()
    if code:
        names |= {code.lower(), Formatter(DEFAULT_LOCALE).country(code).lower()}
    return bool(names) and any(ln.lower() in names for ln in lines)


def _page(ledger: m.Ledger, locale: str, kind: str, title: str, day: date | None, author: str,
          t: Translator, draft: bool = False) -> dict:
    return {
        "kind": kind,
        "title": title,
        "paper": paper(ledger),
        "lang": locale.replace("_", "-"),
        "lang2": t.second.locale.replace("_", "-") if t.second else "",
        "created": day.isoformat() if day and day != date.min else "",
        "author": author,
        "draft": draft,
        "footer_page": t.one("doc.page"),
        "footer_of": t.one("doc.of"),
    }


def tax_label(tax: m.Tax, f: Formatter, t: Translator) -> str:
    if tax.kind == "rate":
        return f"{tax.name} {f.percent(tax.percent)}".strip()
    if tax.kind == "exempt":
        return t("tax.exempt")
    if tax.kind == "reverse-charge":
        return t("tax.reverse_charge")
    return t("tax.none")


def tax_row_label(tax: m.Tax, f: Formatter, t: Translator) -> str:
    """The totals row of a tax group: 'VAT 23%', 'Tax (reverse charge)', 'Tax (exempt)'."""
    if tax.kind == "exempt":
        return t("totals.tax_exempt")
    if tax.kind == "reverse-charge":
        return t("totals.tax_reverse_charge")
    return tax_label(tax, f, t)


def tax_note(tax: m.Tax, t: Translator) -> str:
    if tax.kind == "reverse-charge":
        return t("tax.note.reverse_charge")
    if tax.kind == "exempt":
        return t("tax.note.exempt", reason=tax.reason) if tax.reason else t("tax.note.exempt_no_reason")
    return ""


def terms_text(terms: m.Terms, t: Translator) -> str:
    if terms.kind == "due-on-receipt":
        return t("terms.due_on_receipt")
    if terms.kind == "eom":
        return t("terms.eom", days=terms.days) if terms.days else t("terms.eom_zero")
    return t("terms.net_one") if terms.days == 1 else t("terms.net", days=terms.days)


# ---------------------------------------------------------------------------- invoices

def _group_view(g, currency: str, f: Formatter, t: Translator, company_amount=None, company_ccy=None) -> dict:
    return {
        "label": tax_label(g.tax, f, t.first),  # the tax summary's cells: one language
        "kind": g.tax.kind,
        "rate": f.percent(g.tax.percent) if g.tax.kind == "rate" else "0%",
        "net": f.amount(g.net, currency),
        "allowances": f.amount(g.allowances, currency),
        "allowances_signed": f.amount(-g.allowances, currency),
        "charges": f.amount(g.charges, currency),
        "basis": f.amount(g.basis, currency),
        "tax": f.amount(g.tax_amount, currency),
        "has_allowances": g.allowances != 0,
        "has_charges": g.charges != 0,
        "note": tax_note(g.tax, t),
        "company_tax": f.amount(company_amount, company_ccy) if company_amount is not None else "",
        "parts": [{"kind": p.kind, "label": t.compose(lambda tt, p=p: adjustment_text(p, f, tt)),
                   "text": t.compose(lambda tt, p=p: adjustment_label(p, f, tt)),
                   "title": t("totals.discount") if p.kind == "discount" else t("totals.charge"),
                   "amount": f.amount(p.amount, currency),
                   "signed": f.amount(-p.amount, currency) if p.kind == "discount" else "+" + f.amount(p.amount, currency)}
                  for p in g.parts],
    }


def adjustment_text(part, f: Formatter, t: Translator) -> str:
    """What a discount or charge is, in one language: 'standing discount 3%; early payment 2%'.
    Worded from the engine's facts (`reasons`), so the engine's English `label` stays as it is."""
    if not part.reasons:
        return part.label
    words = []
    for r in part.reasons:
        pct = f.exact_percent(r.percent) if r.percent is not None else ""
        if r.standing:
            words.append(t.one("adjust.standing", percent=pct))
        else:
            words.append(" ".join(w for w in (r.reason or t.one(f"adjust.{part.kind}"), pct) if w))
    return "; ".join(words)


def adjustment_label(part, f: Formatter, t: Translator) -> str:
    """A totals row for a discount or charge: 'Standing discount 3%', 'Charge: Shipping'."""
    text = adjustment_text(part, f, t)
    if text and t.one(f"adjust.{part.kind}").lower() in text.lower():  # "Discount 10%" needs no "Discount:"
        return text[:1].upper() + text[1:]
    title = t.one("totals.discount" if part.kind == "discount" else "totals.charge")
    return f"{title}: {text}" if text else title


def line_description(ln, ledger: m.Ledger, f: Formatter, t: Translator) -> str:
    """A line's description; the words the engine writes itself (a retainer's period, the implicit
    milestone "complete", an expense without one) in the document's language."""
    if t.lang == DEFAULT_LOCALE:
        return ln.description
    sow = ledger.sows.get(ln.sow) if ln.sow else None
    if ln.kind == "retainer" and sow is not None and sow.pricing is not None and ln.date:
        unit = sow.pricing.frequency or "monthly"
        if ln.description == f"{sow.title} — retainer {period_label(ln.date, unit)}":
            return f"{sow.title} — {t.one('lines.retainer')} {_period_words(ln.date, unit, f, t)}"
    if (ln.kind == "milestone" and sow is not None and not sow.milestones
            and ln.description == f"{sow.title} — complete"):
        return f"{sow.title} — {t.one('lines.complete')}"
    if ln.kind == "expense" and ln.description == "Expense":
        return t.one("lines.expense")
    return ln.description


def _period_words(start: date, unit: str, f: Formatter, t: Translator) -> str:
    """A retainer period as billing.dates.period_label names it, in the document's language."""
    if unit == "monthly" and start.day == 1:
        return f.month(start)
    if unit == "quarterly" and start.day == 1 and start.month in (1, 4, 7, 10):
        return f.quarter(start, t)
    if unit == "yearly" and (start.month, start.day) == (1, 1):
        return str(start.year)
    return f"{f.date(start)} – {f.date(period_end(start, unit))}"


def _notes_of(groups: list[dict]) -> list[str]:
    notes: list[str] = []
    for g in groups:
        if g["note"] and g["note"] not in notes:
            notes.append(g["note"])
    return notes


def _sow_titles(ledger: m.Ledger, refs) -> dict[str, str]:
    return {r: ledger.sows[r].title for r in refs if r in ledger.sows}


def invoice_view(analysis, doc, state=None, draft: bool = False, paid: Decimal = ZERO) -> dict:
    """Everything an invoice template shows, formatted; no arithmetic on money but the amount due
    after what was paid before issue (paid: core.einvoicing.paid_in_advance, BT-113)."""
    ledger: m.Ledger = analysis.ledger
    client = doc.client or ledger.clients.get(doc.invoice.client)
    locale = document_locale(ledger, client)
    f, t = Formatter(locale), translator(ledger, locale)
    c = doc.currency
    inv: m.Invoice = doc.invoice

    # purchase order: the invoice's own, else those of the SOWs it bills
    pos = [inv.po] if inv.po else [ledger.sows[r].po for r in doc.sows if r in ledger.sows and ledger.sows[r].po]
    pos = list(dict.fromkeys(pos))
    titles = _sow_titles(ledger, doc.sows)

    lines = []
    for ln in doc.lines:
        lines.append({
            "kind": ln.kind,
            "section": titles.get(ln.sow, "") if ln.sow else "",
            "date": f.date(ln.date) if ln.date else "",
            "description": line_description(ln, ledger, f, t),
            "quantity": f.quantity(ln.quantity),
            "unit": t.one("lines.hours") if ln.unit == "h" else ln.unit,
            "unit_price": f.price(ln.unit_price, c),
            "amount": f.amount(ln.amount, c),
            "tax": tax_label(ln.tax, f, t.first),  # a table cell: one language
            "tags": list(ln.tags),
            # a time line `by` a person names them; a theme hides it with .line .person
            "person": t.one("lines.by", name=ln.detail["person_name"]) if ln.detail.get("person_name") else "",
        })
    # section headings only when the invoice bills several SOWs; manual items go under "Other items"
    sections = list(dict.fromkeys(ln["section"] for ln in lines))
    if len([s for s in sections if s]) > 1:
        for ln in lines:
            ln["section"] = ln["section"] or t("lines.other")
        sections = list(dict.fromkeys(ln["section"] for ln in lines))
    else:
        sections = []

    ct = doc.company_tax
    groups = [_group_view(g, c, f, t, ct.groups[i] if ct and i < len(ct.groups) else None,
                          ct.currency if ct else None)
              for i, g in enumerate(doc.groups)]
    single = len(groups) == 1
    adjusted = any(g["parts"] for g in groups)
    taxed = any(g["kind"] != "none" for g in groups)

    rows: list[dict] = []
    if single and adjusted:
        rows.append({"label": t("totals.subtotal"), "amount": groups[0]["net"], "kind": "subtotal"})
    for model, g in zip(doc.groups, groups):
        for part, p in zip(model.parts, g["parts"]):
            label = p["text"]
            if not single:  # which group the share falls on
                label = t.compose(lambda tt, part=part, model=model:
                                  f"{adjustment_label(part, f, tt)} ({tax_label(model.tax, f, tt)})")
            rows.append({"label": label, "amount": p["signed"], "kind": p["kind"]})
    if adjusted or not single or taxed:
        rows.append({"label": t("totals.net"), "amount": f.amount(doc.net, c), "kind": "net"})
    for model, g in zip(doc.groups, groups):
        if g["kind"] == "none":
            continue
        label = tax_row_label(model.tax, f, t)
        if not single:
            label = t.compose(lambda tt, model=model, g=g:
                              tt.one("totals.tax_on", tax=tax_row_label(model.tax, f, tt), basis=g["basis"]))
        rows.append({"label": label, "amount": g["tax"], "kind": "tax"})

    company_tax = None
    if ct is not None and ct.amount != 0:
        pair = f"{c}/{ct.currency}"
        fields = {"currency": ct.currency, "amount": f.amount(ct.amount, ct.currency), "rate": f.rate(ct.rate),
                  "pair": pair}
        company_tax = {
            "currency": ct.currency,
            "amount": f.money(ct.amount, ct.currency),
            "rate": f.rate(ct.rate),
            "rate_date": f.date(ct.rate_date),
            "text": (t("tax.company_currency_dated", date=f.date(ct.rate_date), **fields) if ct.rate_date
                     else t("tax.company_currency", **fields)),
        }

    client_v = client_view(client, f, t, skip_values=set(pos))
    company_v = company_view(ledger, f, t, doc.company)
    meta = []
    if inv.due is None and client is not None:
        meta.append({"label": t("doc.terms"), "value": terms_text(client.terms, t)})
    if doc.period.start != date.min and doc.lines and any(ln.sow for ln in doc.lines):
        meta.append({"label": t("doc.period"), "value": f"{f.date(doc.period.start)} – {f.date(doc.period.end)}"})
    elif doc.lines and t.shows("service_date"):  # manual items only: the engine dates them on the invoice
        meta.append({"label": t("doc.service_date"), "value": f.date(doc.date)})
    if pos:
        meta.append({"label": t("doc.po"), "value": ", ".join(pos)})
    meta.extend(client_v["fields"])
    meta.extend(_fields(inv.fields, t, skip_values=set(pos)))

    qr = epc_qr_svg(ledger, doc, doc.total - paid if paid else None)  # a deposit: the QR asks for the rest
    status = None
    if state is not None:
        status = {"key": state.status, "label": _label(t, "status", state.status),
                  "outstanding": f.money(state.outstanding, c), "paid": f.money(state.paid, c)}
    # a VAT invoice says so where the language expects it ("Faktura VAT"); en and de say "Invoice", "Rechnung"
    vat = any(g.tax.kind in ("rate", "reverse-charge") for g in doc.groups)
    title = t("invoice.title_vat" if vat else "invoice.title")
    return {
        "page": _page(ledger, locale, "invoice", f"{title} {doc.number}", doc.date, company_v["name"], t, draft),
        "company": company_v,
        "client": client_v,
        "client_shows_country": _shows_country(client_v),
        "company_shows_country": _shows_country(company_v),
        "doc": {
            "title": title,
            "number": doc.number,
            "date": f.date(doc.date),
            "due": f.date(doc.due),
            "currency": c,
            "meta": meta,
            "notes": list(inv.notes),
            "status": status,
        },
        "lines": lines,
        "sections": sections,
        "show_dates": any(ln["date"] for ln in lines),
        "show_tax_column": len(groups) > 1 or t.shows("line_tax"),  # Polish invoices: always (art. 106e)
        "groups": groups,
        # Polish invoices always (art. 106e ust. 1 pkt 13-14: net and VAT per rate, even for one rate)
        "show_tax_summary": adjusted or not single or company_tax is not None or t.shows("line_tax"),
        "tax_notes": _notes_of(groups),
        "company_tax": company_tax,
        "totals": {
            "rows": rows,
            "net": f.money(doc.net, c),
            "tax": f.money(doc.tax, c),
            "total": f.money(doc.total, c),
            "total_amount": f.amount(doc.total, c),
            "words": amount_in_words(doc.total, c, locale),
            "advance": ({"paid": f.money(paid, c), "due": f.money(doc.total - paid, c)} if paid else None),
        },
        "payment": {
            "bank": company_v["bank"],
            "methods": company_v["methods"],
            "reference": print_rf(rf) if (rf := invoice_rf(ledger.company, doc.number)) else doc.number,
            "instruction": t("payment.due_by", amount=f.money(doc.total - paid, c), date=f.date(doc.due)),
            "qr": Markup(qr) if qr else None,
        },
    }


def render_invoice(analysis, doc, state=None, draft: bool = False, theme: Theme | None = None,
                   memo: RenderTables | None = None, paid: Decimal = ZERO) -> str:
    """An invoice as HTML; draft=True marks it DRAFT on every page (for `textbill draft`); paid: what was
    paid before issue, shown as "Paid in advance" and "Amount due"."""
    theme = theme or load_theme(analysis.ledger)
    return _render(theme, TEMPLATES["invoice"], invoice_view(analysis, doc, state, draft, paid), memo)


# ---------------------------------------------------------------------------- credit notes

def credit_view(analysis, credit) -> dict:
    ledger: m.Ledger = analysis.ledger
    inv = credit.invoice
    client = (inv.client if inv is not None else None) or ledger.clients.get(inv.invoice.client if inv else "")
    locale = document_locale(ledger, client)
    f, t = Formatter(locale), translator(ledger, locale)
    c = credit.currency
    note: m.CreditNote = credit.note
    full = note.amount is None
    groups = [_group_view(g, c, f, t) for g in credit.groups]
    rows: list[dict] = []
    for model, g in zip(credit.groups, groups):
        label = t("totals.net") if len(groups) == 1 else t.compose(
            lambda tt, model=model: f"{tt.one('tax.basis')} ({tax_label(model.tax, f, tt)})")
        rows.append({"label": label, "amount": g["basis"], "kind": "net"})
        if g["kind"] != "none":
            rows.append({"label": tax_row_label(model.tax, f, t), "amount": g["tax"], "kind": "tax"})
    inv_number = inv.number if inv is not None else note.invoice
    inv_date = f.date(inv.date) if inv is not None else ""
    company_v = company_view(ledger, f, t, credit.company)
    client_v = client_view(client, f, t)
    title = t("credit_note.title")
    meta = [{"label": t("credit.corrects"), "value": inv_number}]
    if inv is not None:
        meta.append({"label": t("credit.invoice_date"), "value": inv_date})
        meta.append({"label": t("credit.invoice_total"), "value": f.money(inv.total, c)})
    meta.extend(client_v["fields"])
    meta.extend(_fields(note.fields, t))
    return {
        "correction": _correction_view(analysis, credit, f, t),
        "page": _page(ledger, locale, "credit-note", f"{title} {note.number}", note.date, company_v["name"], t),
        "company": company_v,
        "client": client_v,
        "client_shows_country": _shows_country(client_v),
        "company_shows_country": _shows_country(company_v),
        "doc": {
            "title": title,
            "number": note.number,
            "date": f.date(note.date),
            "currency": c,
            "invoice_number": inv_number,
            "invoice_date": inv_date,
            "reason": note.reason,
            "description": t("credit.full" if full else "credit.line", number=inv_number, date=inv_date),
            "full": full,
            "meta": meta,
            "notes": list(note.notes),
        },
        "groups": groups,
        "tax_notes": _notes_of(groups),
        "totals": {
            "rows": rows,
            "amount": f.amount(credit.amount, c),
            "total": f.money(credit.amount, c),
            "words": amount_in_words(credit.amount, c, locale),
        },
    }


def _correction_view(analysis, credit, f: Formatter, t: Translator) -> list[dict]:
    """Before, the correction, after: per tax group of the corrected invoice (when it has several),
    then in total.  Each block: a heading and three rows of net, tax and gross."""
    earlier = []
    for other in analysis.books.credits.values():
        if other.number == credit.number:
            break
        earlier.append(other)
    rows = correction(credit, earlier)
    c = credit.currency
    blocks = []
    for row in rows if len(rows) > 2 else rows[-1:]:
        heading = t("credit.all_rates") if row.tax is None else tax_label(row.tax, f, t.first)
        if row.tax is None and len(rows) == 2:  # a single tax group: name it
            heading = tax_label(rows[0].tax, f, t.first)
        blocks.append({"heading": heading, "total": row.tax is None, "rows": [
            {"kind": kind, "label": t(f"credit.{kind}"), "net": f.amount(fig.basis, c), "tax": f.amount(fig.tax, c),
             "gross": f.amount(fig.gross, c)}
            for kind, fig in (("before", row.before), ("change", row.change), ("after", row.after))]})
    return blocks


def render_credit_note(analysis, credit, theme: Theme | None = None, memo: RenderTables | None = None) -> str:
    theme = theme or load_theme(analysis.ledger)
    return _render(theme, TEMPLATES["credit-note"], credit_view(analysis, credit), memo)


# ---------------------------------------------------------------------------- statements

def statement_view(analysis, st) -> dict:
    ledger: m.Ledger = analysis.ledger
    locale = document_locale(ledger, st.client)
    f, t = Formatter(locale), translator(ledger, locale)
    c = st.currency
    entries = []
    for ln in st.lines:
        e = ln.event
        detail = e.detail
        if e.kind == "payment" and detail:
            detail = _label(t.first, "method", detail)  # table cells: one language, the heads carry both
        elif e.kind == "credit-note" and detail.startswith("for "):  # the engine's words: "for INV-1"
            detail = t.one("statement.for_invoice", number=detail[4:])
        entries.append({
            "date": f.date(e.date),
            "kind": e.kind,
            "kind_label": _label(t.first, "kind", e.kind),
            "ref": e.ref,
            "detail": detail,
            "charge": f.amount(e.amount, c) if e.amount > 0 else "",
            "credit": f.amount(-e.amount, c) if e.amount < 0 else "",
            "balance": f.amount(ln.balance, c),
        })
    aging = [{"key": b, "label": _label(t, "bucket", b), "amount": f.amount(v, c), "zero": v == 0}
             for b, v in st.aging.items()]
    company_v = company_view(ledger, f, t)
    client_v = client_view(st.client, f, t)
    title = t("statement.title")
    period = (f"{f.date(st.start)} – {f.date(st.end)}" if st.start
              else f"{t.one('statement.from_start')} – {f.date(st.end)}")
    return {
        "page": _page(ledger, locale, "statement", f"{title} — {st.client.name}", st.end, company_v["name"], t),
        "company": company_v,
        "client": client_v,
        "client_shows_country": _shows_country(client_v),
        "company_shows_country": _shows_country(company_v),
        "doc": {
            "title": title,
            "date": f.date(st.end),
            "period": period,
            "currency": c,
            "opening": f.amount(st.opening, c),
            "closing": f.amount(st.closing, c),
            "closing_money": f.money(st.closing, c),
            "closing_label": t("statement.amount_due") if st.closing >= 0 else t("statement.in_credit"),
            "credit": f.money(st.credit, c) if st.credit else "",
        },
        "entries": entries,
        "aging": aging,
        "payment": {"bank": company_v["bank"], "methods": company_v["methods"], "reference": "",
                    "instruction": "", "qr": None},
    }


def render_statement(analysis, st, theme: Theme | None = None, memo: RenderTables | None = None) -> str:
    theme = theme or load_theme(analysis.ledger)
    return _render(theme, TEMPLATES["statement"], statement_view(analysis, st), memo)


# ---------------------------------------------------------------------------- overdue report

def overdue_view(analysis, rec, items, totals: OverdueTotals | None = None) -> dict:
    """totals: reports.overdue.overdue_totals(items), when the caller has them already."""
    if totals is None:
        totals = overdue_totals(items)
    ledger: m.Ledger = analysis.ledger
    locale = document_locale(ledger)
    f, t = Formatter(locale), translator(ledger, locale)
    company = ledger.company
    rate = company.late_interest if company else None
    rows = []
    for d in items:
        c = d.state.currency
        client = ledger.clients.get(d.state.client)
        rows.append({
            "invoice": d.number,
            "installment": str(d.installment) if d.installment is not None else "",
            "client": client.name if client else d.state.client,
            "client_id": d.state.client,
            "currency": c,
            "due": f.date(d.due),
            "days": str(d.days_overdue),
            "bucket": _label(t.first, "bucket", d.bucket),  # table cells: one language
            "bucket_key": d.bucket,
            "outstanding": f.amount(d.outstanding, c),
            "interest": f.amount(d.late_interest, c) if d.late_interest is not None else "",
            "status": _label(t.first, "status", d.state.status),
        })
    # the sums are the report's (reports.overdue): formatted here, per currency
    by_bucket = []
    for c, per in sorted(totals.by_currency.items()):
        cells = [{"key": b, "amount": f.amount(per[b], c)} for b in BUCKETS if b != "current"]
        by_bucket.append({"currency": c, "buckets": cells, "total": f.money(per["total"], c),
                          "interest": f.money(per["interest"], c) if rate is not None else ""})
    by_client = []
    for cid, c, count, total, interest in totals.by_client:
        client = ledger.clients.get(cid)
        by_client.append({
            "client": client.name if client else cid, "client_id": cid, "currency": c, "count": str(count),
            "outstanding": f.money(total, c), "interest": f.money(interest, c) if rate is not None else ""})
    company_v = company_view(ledger, f, t)
    title = t("overdue.title")
    count = t.plural("overdue.count", len(items))
    return {
        "page": _page(ledger, locale, "overdue", f"{title} — {f.date(rec.as_of)}", rec.as_of, company_v["name"], t),
        "company": company_v,
        "company_shows_country": _shows_country(company_v),
        "doc": {"title": title, "date": f.date(rec.as_of), "count": count},
        "items": rows,
        "show_installments": any(r["installment"] for r in rows),
        "show_interest": rate is not None,
        "buckets": [{"key": b, "label": _label(t, "bucket", b)} for b in BUCKETS if b != "current"],
        "by_bucket": by_bucket,
        "by_client": by_client,
        "interest_note": (t("overdue.interest_note", rate=f.percent(rate), date=f.date(rec.as_of))
                          if rate is not None else ""),
    }


def render_overdue_report(analysis, rec, items, theme: Theme | None = None, *,
                          totals: OverdueTotals | None = None, memo: RenderTables | None = None) -> str:
    theme = theme or load_theme(analysis.ledger)
    return _render(theme, TEMPLATES["overdue"], overdue_view(analysis, rec, items, totals), memo)


# ---------------------------------------------------------------------------- rendering

def _render(theme: Theme, template: str, view: dict, memo: RenderTables | None = None) -> str:
    page = view["page"]
    page["theme"] = theme.name  # lets html_to_pdf find the theme's fonts again
    t = Translator(page["lang"].replace("-", "_"), page["lang2"].replace("-", "_") or None)
    return render_template(theme, DOCUMENTS, template, {**view, "t": t}, memo)
