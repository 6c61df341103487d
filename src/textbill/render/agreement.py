"""A SOW as an agreement document (docs/language.md, "person", "accepted"): the view, and its HTML.

The facts come from reports.agreement; here they are put into the client's
language and filled into the theme's `agreement.html` (a theme may override it
like any other document).  Until the SOW is accepted the document carries the
DRAFT mark; afterwards it says who accepted it and when.
"""
from __future__ import annotations

from decimal import Decimal

from textbill.core import model as m
from textbill.render import html as h
from textbill.render.i18n import Formatter, Translator
from textbill.render.memo import RenderTables
from textbill.render.themes import Theme, load_theme
from textbill.reports.agreement import Agreement, agreement

TEMPLATE = "agreement.html"


def _pricing(a: Agreement, f: Formatter, t: Translator) -> list[str]:
    sow, c = a.sow, a.currency
    p = sow.pricing
    if p is None:
        return []
    if p.kind == "hourly":
        out = [t("agreement.hourly", rate=f.money(p.amount.value, c))]
        if sow.increment != 1:
            out.append(t("agreement.increment", minutes=f.number(sow.increment, 0, 2)))
        return out
    if p.kind == "retainer":
        return [t(f"agreement.retainer.{p.frequency or 'monthly'}", amount=f.money(p.amount.value, c))]
    if p.kind == "value":
        basis = f.money(p.amount.value, c) + (f" ({p.basis})" if p.basis else "")
        return [t("agreement.value", percent=f.percent(p.percent or Decimal(0)), basis=basis,
                  amount=f.money(a.fee or Decimal(0), c))]
    return [t("agreement.fixed", amount=f.money(p.amount.value, c))]


def _cap(sow: m.Sow, currency: str, f: Formatter, t: Translator) -> str:
    if sow.cap is None:
        return t("agreement.no_cap")
    if sow.cap.minutes is not None:
        return t("agreement.cap_hours", hours=f.number(sow.cap.minutes / 60, 0, 2))
    assert sow.cap.amount is not None
    return t("agreement.cap_amount", amount=f.money(sow.cap.amount.value, sow.cap.amount.currency or currency))


def _reminders(policy: m.ReminderPolicy | None, t: Translator) -> list[str]:
    out = []
    for step in policy.steps if policy else ():
        if step.offset < 0:
            when = t.one("agreement.reminder_before", days=-step.offset)
        elif step.offset == 0:
            when = t.one("agreement.reminder_on")
        else:
            when = t.one("agreement.reminder_after", days=step.offset)
        out.append(when + (f" ({t.one('agreement.reminder_fee')})" if step.late_fee else ""))
    return out


def agreement_view(analysis, ref: str) -> dict:
    ledger: m.Ledger = analysis.ledger
    a = agreement(ledger, ref)
    sow, client, c = a.sow, a.client, a.currency
    locale = h.document_locale(ledger, client)
    f, t = Formatter(locale), h.translator(ledger, locale)
    company_v = h.company_view(ledger, f, t)
    client_v = h.client_view(client, f, t)
    company = ledger.company
    terms = client.terms if client else m.NET_30
    tax = sow.tax or (client.tax if client and client.tax else m.NO_TAX)
    late = []
    if company is not None and company.late_interest is not None:
        late.append(t("agreement.late_interest", percent=f.percent(company.late_interest)))
    if company is not None and company.late_fee is not None:
        late.append(t("agreement.late_fee", amount=f.money(company.late_fee.value,
                                                           company.late_fee.currency or company.currency)))
    accepted = None
    if a.accepted is not None:
        accepted = {"text": t("agreement.accepted", signer=a.accepted.signer, date=f.date(a.accepted.date)),
                    "signer": a.accepted.signer, "date": f.date(a.accepted.date),
                    "ref": t("agreement.accepted_ref", ref=a.accepted.ref) if a.accepted.ref else ""}
    title = t("agreement.title")
    meta = [{"label": t("agreement.reference"), "value": sow.ref, "nobreak": True},
            {"label": t("agreement.state"), "value": t(f"agreement.state.{a.state}")}]
    if a.date is not None:
        meta.append({"label": t("agreement.date"), "value": f.date(a.date), "nobreak": True})
    meta.append({"label": t("doc.currency"), "value": c})
    if sow.po:
        meta.append({"label": t("agreement.po"), "value": sow.po})
    page = h._page(ledger, locale, "agreement", f"{title} — {sow.title}", a.date, company_v["name"], t)
    return {
        "page": page,
        "company": company_v,
        "client": client_v,
        "client_shows_country": h._shows_country(client_v),
        "company_shows_country": h._shows_country(company_v),
        "doc": {
            "title": title,
            "sow_title": sow.title,
            "ref": sow.ref,
            "state": a.state,
            "draft": a.state != "accepted",
            "sent_notice": t("agreement.sent_notice", date=f.date(a.sent.date)) if a.sent and not accepted else "",
            "meta": meta,
            "period": (f"{f.date(sow.period.start)} – {f.date(sow.period.end)}" if sow.period
                       else t("agreement.period_open")),
            "deliverables": list(sow.deliverables),
            "pricing": _pricing(a, f, t),
            "roles": [{"role": r.role, "rate": f.money(r.rate.value, r.rate.currency or c),
                       "people": ", ".join(r.people)} for r in a.roles],
            "milestones": [{"name": name if sow.milestones else t("lines.complete"),
                            "share": f.percent(pct) if pct is not None else "",
                            "amount": f.money(amount, c)} for name, amount, pct in a.milestones],
            "cap": _cap(sow, c, f, t),
            "tax": h.tax_label(tax, f, t),
            "schedule": t(f"agreement.schedule.{sow.schedule}") if sow.schedule else t("agreement.schedule.none"),
            "terms": h.terms_text(terms, t),
            "late": late or [t("agreement.no_late")],
            "reminders": _reminders(a.policy, t),
            "accepted": accepted,
        },
    }


def render_agreement(analysis, ref: str, theme: Theme | None = None, memo: RenderTables | None = None) -> str:
    """The agreement document of one SOW, as HTML in the client's language."""
    theme = theme or load_theme(analysis.ledger)
    return h._render(theme, TEMPLATE, agreement_view(analysis, ref), memo)
