"""The static dashboard site written by `build`: `index.html` and `clients/<slug>.html`.

Stage: render.  (Analysis, Receivables, DocRefs, reports.dashboard figures) ->
{relative path: bytes}.  The figures come from reports/dashboard.py; this module
only formats them and turns them into chart geometry.  Pages are
Jinja2 templates of the theme (`dashboard.html`, `client.html`, `site.css`,
`site.js`) rendered with autoescape; data for the script goes through `|tojson`.
The output depends only on its inputs (no clock, no absolute paths), so an
unchanged ledger rebuilds to identical bytes.
"""
from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal
from typing import Any

from babel.core import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import (
    format_compact_decimal,
    format_currency,
    get_decimal_symbol,
    get_group_symbol,
)

from textbill.core.books import BUCKETS
from textbill.core.money import ZERO, fmt, minor_units, round_money
from textbill.core.paths import slug
from textbill.render.i18n import Translator
from textbill.render.memo import RenderTables, scratch
from textbill.render.templating import environment, render_template
from textbill.render.themes import SITE, Theme, ThemeError, load_theme
from textbill.reports.agreement import agreement_state
from textbill.reports.dashboard import (
    Budget,
    DashboardFigures,
    TableSums,
    dashboard_figures,
)
from textbill.reports.team import team_flat, team_rows
from textbill.version import __version__

SITE_FILES = ("site.css", "site.js")
BY_CLIENT_SHOWN = 5  # clients per currency in the "outstanding by client" card before "show all"  # copied from the theme as they are
STATUSES = ("open", "overdue", "paid", "credited", "written-off", "collections")


@dataclass(frozen=True)
class DocRef:
    """A document `build` wrote, for linking from the dashboard."""

    kind: str  # invoice | credit-note | statement | report
    number: str  # the document number; the client id for a statement; "overdue" for the report
    client: str | None
    html: str | None  # path relative to the output folder
    pdf: str | None


# ---------------------------------------------------------------------------- themes

# Watch mode renders the site after every save; a page whose context and templates are what
# they were last time is not rendered again: memo.pages, (path key) -> (fingerprint, page, kept).
_PAGES_MAX = 20_000


def _templates_stamp(theme: Theme) -> tuple:
    """Changes when any file of the theme's folders changes (names, sizes, times)."""
    stamp = []
    for folder in theme.dirs:
        try:
            with os.scandir(folder) as entries:
                stamp.extend((e.name, e.stat().st_mtime_ns, e.stat().st_size) for e in entries if e.is_file())
        except OSError:
            stamp.append((str(folder), None))
    return tuple(sorted(stamp, key=str))


def _page(memo: RenderTables, theme: Theme, stamp: tuple, key: tuple, template: str, context: dict,
          held: tuple = ()) -> bytes:
    """A page, rendered only when its fingerprint changed.  held: names of context lists whose items
    are kept objects (rows of _marked_rows: the same object is the same row) -- fingerprinted by
    identity, and kept alive with the page so that their ids stay theirs."""
    # the context is plain data built in a fixed order: its repr is a faithful, fast fingerprint
    plain = {k: v for k, v in context.items() if k not in held} if held else context
    kept = tuple(context[k] for k in held)
    ids = tuple(tuple(map(id, items)) for items in kept)
    fingerprint = hashlib.sha1(repr((template, stamp, plain, ids)).encode("utf-8", "surrogatepass")).hexdigest()
    cached = memo.pages.get(key)
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    page = render_template(theme, SITE, template, context, memo).encode("utf-8")
    if len(memo.pages) >= _PAGES_MAX:
        memo.pages.clear()
    memo.pages[key] = (fingerprint, page, kept)
    return page


class _Row:
    """A rendered <tr>: printed as it is, and left out of page fingerprints (its row is in them)."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __html__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return "<row>"


def _with_markup(memo: RenderTables, theme: Theme, stamp: tuple, rows: list[dict], show_client: bool) -> list[dict]:
    """Each invoice row with its <tr> (dashboard_row.html), rendered only when the row is new
    (memo.rows: (theme, stamp, show_client, row) -> its <tr>)."""
    macro = None
    out = []
    stored = memo.stored  # the rows an earlier process rendered (None: none kept)
    for r in rows:
        key = (theme.dirs, stamp, show_client, repr(r))
        markup = memo.rows.get(key)
        if markup is None and stored is not None:
            text = stored.get(key)
            if text is not None:
                markup = memo.rows[key] = _Row(text)
        elif markup is not None and stored is not None:
            stored.put(key, markup.text)  # still in use: kept for the next process
        if markup is None:
            if macro is None:
                env = environment(theme, SITE, memo)
                try:
                    macro = env.get_template("dashboard_row.html").module.row
                except Exception as exc:
                    if not theme.user:
                        raise
                    raise ThemeError(f"theme '{theme.name}': template dashboard_row.html: "
                                     f"{type(exc).__name__}: {exc}") from exc
            markup = _Row(str(macro(r, show_client)).strip())
            if len(memo.rows) >= _PAGES_MAX:
                memo.rows.clear()
            memo.rows[key] = markup
            if stored is not None:
                stored.put(key, markup.text)
        out.append({**r, "markup": markup})
    return out


def _source(theme: Theme, name: str) -> bytes:
    path = theme.find(name)
    if path is None:
        raise ThemeError(f"theme '{theme.name}' has no {name}")
    return path.read_bytes()


# ---------------------------------------------------------------------------- formatting

class Formats:
    """Display forms of the engine's figures in one locale.

    Babel formats every amount the first time a currency is seen, on a few probe values;
    when its output splits into sign/affixes around plainly grouped digits, later amounts
    are formatted by that template (a dashboard of thousands of invoices formats tens of
    thousands of amounts), else every amount goes through Babel.
    """

    _PROBES = ("0", "1", "-1", "7.5", "1234.5", "-12345.67", "1234567.891", "-98765432.1")

    def __init__(self, locale: str | None):
        try:
            self.locale = Locale.parse((locale or "en").replace("-", "_"))
        except (UnknownLocaleError, ValueError):
            self.locale = Locale.parse("en")
        self._group = get_group_symbol(self.locale)
        self._decimal = get_decimal_symbol(self.locale)
        self._grouping = self.locale.currency_formats["standard"].grouping
        self._templates: dict[tuple[str, bool], tuple | None] = {}
        self._days: dict[date, str] = {}
        self._memo: dict[tuple, str] = {}
        self._labels: dict[tuple, str] = {}

    # ------------------------------------------------------------------ money
    def money(self, value: Decimal, currency: str) -> str:
        """With the currency sign: '$4,707.00'."""
        return self._format(value, currency, True)

    def amount(self, value: Decimal, currency: str) -> str:
        """Grouped, the currency's minor digits, no sign: '4,707.00' (for tables with a currency column)."""
        return self._format(value, currency, False)

    def _babel(self, value: Decimal, currency: str, symbol: bool) -> str:
        if symbol:
            return format_currency(value, currency, locale=self.locale)
        return format_currency(value, currency, format="#,##0.00", locale=self.locale, currency_digits=True)

    def _format(self, value: Decimal, currency: str, symbol: bool) -> str:
        memo = (value, currency, symbol)
        shown = self._memo.get(memo)
        if shown is None:
            if len(self._memo) > 200_000:
                self._memo.clear()
            shown = self._memo[memo] = self._format_new(value, currency, symbol)
        return shown

    def _format_new(self, value: Decimal, currency: str, symbol: bool) -> str:
        key = (currency, symbol)
        template = self._templates.get(key, False)
        if template is False:
            template = self._templates[key] = self._learn(currency, symbol)
        value = round_money(value, currency)
        if template is None:
            return self._babel(value, currency, symbol)
        places, positive, negative = template
        prefix, suffix = negative if value < 0 else positive
        return prefix + self._digits(value, places) + suffix

    def _digits(self, value: Decimal, places: int) -> str:
        whole, _, frac = f"{abs(value):.{places}f}".partition(".")
        first, rest = self._grouping
        if len(whole) > first:
            head, parts = whole[:-first], [whole[-first:]]
            while len(head) > rest:
                parts.append(head[-rest:])
                head = head[:-rest]
            if head:
                parts.append(head)
            whole = self._group.join(reversed(parts))
        return whole + (self._decimal + frac if frac else "")

    def _learn(self, currency: str, symbol: bool):
        """(places, (prefix, suffix), (negative prefix, suffix)) reproducing Babel, or None."""
        places = minor_units(currency)
        try:
            affixes = []
            for one in (Decimal(1), Decimal(-1)):
                shown = self._babel(one, currency, symbol)
                digits = self._digits(one, places)
                at = shown.rfind(digits)
                if at < 0:
                    return None
                affixes.append((shown[:at], shown[at + len(digits):]))
            template = (places, affixes[0], affixes[1])
            for probe in self._PROBES:
                v = round_money(Decimal(probe), currency)
                prefix, suffix = template[2] if v < 0 else template[1]
                if prefix + self._digits(v, places) + suffix != self._babel(v, currency, symbol):
                    return None
            return template
        except Exception:  # noqa: BLE001 - any surprise: the slow, exact path
            return None

    # ------------------------------------------------------------------ the rest
    def compact(self, value: Decimal) -> str:
        """Axis labels: '12K', '1.5M'."""
        return self._label(("compact", value), lambda: format_compact_decimal(value, locale=self.locale,
                                                                              fraction_digits=1))

    def _label(self, key: tuple, make) -> str:
        shown = self._labels.get(key)
        if shown is None:
            if len(self._labels) > 50_000:
                self._labels.clear()
            shown = self._labels[key] = make()
        return shown

    def day(self, day: date) -> str:
        shown = self._days.get(day)
        if shown is None:
            shown = self._days[day] = format_date(day, "medium", locale=self.locale)
        return shown

    def month(self, year: int, month: int) -> str:
        return self._label(("month", year, month),
                           lambda: format_date(date(year, month, 1), "MMM yy", locale=self.locale))

    def month_long(self, year: int, month: int) -> str:
        return self._label(("month_long", year, month),
                           lambda: format_date(date(year, month, 1), "MMMM y", locale=self.locale))

    @property
    def tag(self) -> str:
        return str(self.locale).replace("_", "-")


def formats(locale: str | None, memo: RenderTables) -> Formats:
    """One Formats per locale and memo: its caches carry over from build to build (watch mode)."""
    fm = memo.formats.get(locale)
    if fm is None:
        if len(memo.formats) >= 16:
            memo.formats.clear()
        fm = memo.formats[locale] = Formats(locale)
    return fm


def _hours(value: Decimal, t: Translator) -> str:
    return t.one("dashboard.hours", hours=value.quantize(Decimal("0.1")))


# ---------------------------------------------------------------------------- charts

def bucket_label(bucket: str, t: Translator) -> str:
    """An aging bucket's name ('current', '1-30', ..., '90+') as the dashboard shows it."""
    return t.one(f"dashboard.bucket.{bucket}")


def nice_step(peak: Decimal, most: int = 5) -> Decimal:
    """A 1, 2 or 5 times a power of ten that splits 0..peak into at most `most` steps."""
    if peak <= 0:
        return Decimal(1)
    raw = peak / most
    exp = raw.adjusted()
    for mult in (Decimal(1), Decimal(2), Decimal(5), Decimal(10)):
        step = mult.scaleb(exp)
        if step >= raw:
            return step
    return Decimal(10).scaleb(exp)


def _ticks(peak: Decimal) -> list[Decimal]:
    step = nice_step(peak)
    count = max(1, int((peak / step).to_integral_value(rounding=ROUND_CEILING)))
    return [step * i for i in range(count + 1)]


def bar_chart(groups: list[dict], series: list[dict], fm: Formats, currency: str, *,
              width: int = 640, height: int = 240) -> dict:
    """Geometry of a grouped bar chart.

    groups: [{"label": str, "title": str, "values": [Decimal per series]}]
    series: [{"name": str, "class": str}]
    """
    left, right, top, bottom = 64, 12, 16, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((v for g in groups for v in g["values"]), default=ZERO)
    marks = _ticks(peak)
    ceiling = marks[-1]
    ticks = []
    for t in marks:
        y = top + plot_h - float(t / ceiling) * plot_h
        ticks.append({"y": round(y, 1), "label": fm.compact(t)})
    n = max(len(groups), 1)
    slot = plot_w / n
    inner = slot * 0.72
    bar_w = inner / max(len(series), 1)
    bars, labels = [], []
    for gi, g in enumerate(groups):
        x0 = left + gi * slot + (slot - inner) / 2
        labels.append({"x": round(left + gi * slot + slot / 2, 1), "y": height - 10, "text": g["label"]})
        for si, v in enumerate(g["values"]):
            h = float(v / ceiling) * plot_h if ceiling else 0.0
            if v > 0:
                h = max(h, 1.5)  # a small amount stays visible
            bars.append({
                "x": round(x0 + si * bar_w + 1, 1), "y": round(top + plot_h - h, 1),
                "w": round(max(bar_w - 2, 1), 1), "h": round(h, 1),
                "cls": series[si]["class"],
                "title": f"{g['title']} — {series[si]['name']}: {fm.money(v, currency)}",
                "value": fm.compact(v) if v > 0 else "",
            })
    return {"width": width, "height": height, "left": left, "right": width - right,
            "top": top, "base": top + plot_h, "ticks": ticks, "bars": bars, "labels": labels,
            "series": series, "currency": currency}


def aging_bar(per_bucket: dict[str, Decimal], total: Decimal, fm: Formats, t: Translator, currency: str,
              width: int = 1000) -> list[dict]:
    """Segments of a 100% stacked bar: each bucket's share of the total a currency has outstanding."""
    segments: list[dict] = []
    x = 0.0
    if total <= 0:
        return segments
    for b in BUCKETS:
        v = per_bucket.get(b, ZERO)
        if v <= 0:
            continue
        w = float(v / total) * width
        segments.append({"x": round(x, 2), "w": round(w, 2), "cls": "b-" + b.replace("+", "p"),
                         "title": f"{bucket_label(b, t)}: {fm.money(v, currency)}",
                         "pct": f"{float(v / total) * 100:.0f}%"})
        x += w
    return segments


def monthly_chart(billed: dict, collected: dict, months: list[tuple[int, int]], fm: Formats, t: Translator,
                  currency: str) -> dict:
    groups = [{"label": fm.month(y, mo), "title": fm.month_long(y, mo),
               "values": [billed.get((y, mo), ZERO), collected.get((y, mo), ZERO)]} for y, mo in months]
    series = [{"name": t.one("dashboard.series.billed"), "class": "billed"},
              {"name": t.one("dashboard.series.collected"), "class": "collected"}]
    return bar_chart(groups, series, fm, currency, width=720, height=300)


# ---------------------------------------------------------------------------- the model

class _Site:
    """Everything the templates show, as plain dicts of display strings."""

    def __init__(self, analysis, rec, docs: list[DocRef], figures: DashboardFigures, memo: RenderTables):
        self.analysis = analysis
        self.ledger = analysis.ledger
        self.books = analysis.books
        self.rec = rec
        self.figures = figures
        self.memo = memo
        self.as_of: date = rec.as_of
        company = self.ledger.company
        # the company's locale first: its figures read as its own books do ("6 097,90 €")
        locale = (company.locale if company else None) or self.ledger.config.locale
        self.fm = formats(locale, memo)
        self.t = Translator(locale)  # the company's language, English behind every key
        self.docs = docs
        self.links: dict[tuple[str, str], DocRef] = {}
        for ref in docs:
            self.links.setdefault((ref.kind, ref.number), ref)
        self.linked: set[tuple[str, str]] = set()
        self.dues = figures.dues
        self.client_slugs = self._slugs()
        # everything grouped by client once: a page per client must not scan the whole ledger
        self.states_of: dict[str, list] = defaultdict(list)
        for state in rec.invoices.values():
            self.states_of[state.client].append(state)
        self.dues_of: dict[str, list] = defaultdict(list)
        self.overdue_days: dict[str, int] = {}
        for d in self.dues:
            self.dues_of[d.state.client].append(d)
            if d.days_overdue > 0:
                self.overdue_days[d.number] = max(self.overdue_days.get(d.number, 0), d.days_overdue)
        self.events_of: dict[str, list] = defaultdict(list)
        for e in rec.events:
            self.events_of[e.client].append(e)
        self.budgets_of: dict[str | None, list[dict]] = {None: [self._budget(b) for b in figures.budgets]}
        for b in self.budgets_of[None]:
            self.budgets_of.setdefault(b["client"], []).append(b)
        self.credits_of_invoice: dict[str, list] = defaultdict(list)
        self.credits_of_client: dict[str, list] = defaultdict(list)
        for credit in self.books.credits.values():
            if credit.date <= self.as_of and credit.invoice is not None:
                self.credits_of_invoice[credit.invoice.number].append(credit)
                self.credits_of_client[credit.invoice.invoice.client].append(credit)
        self._rows: dict[str, dict] = {}

    def _states(self, client: str | None) -> list:
        return list(self.rec.invoices.values()) if client is None else self.states_of.get(client, [])

    def _dues(self, client: str | None) -> Sequence:
        return self.dues if client is None else self.dues_of.get(client, [])

    def _events(self, client: str | None) -> list:
        return self.rec.events if client is None else self.events_of.get(client, [])

    # ------------------------------------------------------------------ what a page is made of
    def shared_inputs(self, theme: Theme, stamp: tuple) -> tuple:
        """What every client page shows besides its client's own figures."""
        ledger = self.ledger
        company = ledger.company
        return (theme.dirs, stamp, self.fm.tag, self.as_of, __version__, company.name if company else None,
                company.currency if company else None, self.links.get(("report", "overdue")),
                tuple((cid, self.client_name(cid), self.client_slugs[cid]) for cid in sorted(ledger.clients)))

    def client_inputs(self, cid: str) -> tuple:
        """Everything of a client that its page shows, as values (documents compare by value)."""
        states = tuple((s.number, s.doc, s.paid, s.credited, s.written_off, s.outstanding, s.status,
                        s.writeoff is None, tuple((i.number, i.due, i.amount, i.settled) for i in s.plan.installments)
                        if s.plan is not None else None)
                       for s in self.states_of.get(cid, ()))
        credits = tuple((c.number, c.date, c.invoice.number, c.amount, c.currency, c.note.reason)
                        for c in self.credits_of_client.get(cid, ()))
        links = tuple(self.links.get(k) for k in (("statement", cid), *(("invoice", s[0]) for s in states),
                                                  *(("credit-note", c[0]) for c in credits)))
        return (states, tuple(self.events_of.get(cid, ())), credits, links,
                tuple(sorted((k, v) for k, v in self.rec.credit.items() if k[0] == cid)), self.budgets(cid))

    # ------------------------------------------------------------------ links
    def _slugs(self) -> dict[str, str]:
        out, used = {}, set()
        for cid in sorted(self.ledger.clients):
            s = slug(cid)
            while s in used:
                s += "-"
            used.add(s)
            out[cid] = s
        return out

    def doc_links(self, kind: str, number: str, prefix: str) -> dict:
        ref = self.links.get((kind, number))
        if ref is None:
            return {"html": None, "pdf": None}
        self.linked.add((kind, number))
        return {"html": prefix + ref.html if ref.html else None, "pdf": prefix + ref.pdf if ref.pdf else None}

    def client_name(self, cid: str) -> str:
        c = self.ledger.clients.get(cid)
        return c.name if c else cid

    # ------------------------------------------------------------------ rows
    def _base_row(self, state) -> dict:
        """An invoice's row without links (the same on every page), formatted once."""
        row = self._rows.get(state.number)
        if row is not None:
            return row
        fm = self.fm
        doc, c = state.doc, state.currency
        figures = (("net", doc.net), ("tax", doc.tax), ("total", doc.total), ("paid", state.paid),
                   ("credited", state.credited), ("outstanding", state.outstanding))
        raw = {k: fmt(v, c) for k, v in figures}
        row = self._rows[state.number] = {
            "number": doc.number,
            "client": state.client,
            "client_name": self.client_name(state.client),
            "date": doc.date.isoformat(), "date_label": fm.day(doc.date),
            "due": doc.due.isoformat(), "due_label": fm.day(doc.due),
            "currency": c,
            "raw": raw,
            "shown": {k: fm.amount(v, c) for k, v in figures},
            "status": state.status,
            "days_overdue": self.overdue_days.get(doc.number, 0),
            "plan": len(state.plan.installments) if state.plan else 0,
        }
        return row

    def invoice_rows(self, prefix: str, client: str | None = None) -> list[dict]:
        return [self._row(state, prefix) for state in self._states(client)]

    def _row(self, state, prefix: str) -> dict:
        base = self._base_row(state)
        c = state.currency
        return {
            **base,
            "client_href": f"{prefix}clients/{self.client_slugs[state.client]}.html"
            if state.client in self.client_slugs else None,
            "links": self.doc_links("invoice", state.number, prefix),
            "credit_notes": [{"number": cn.number, "amount": self.fm.money(cn.amount, c),
                              "links": self.doc_links("credit-note", cn.number, prefix)}
                             for cn in self.credits_of_invoice.get(state.number, ())],
        }

    def _row_inputs(self, state, prefix: str) -> tuple:
        """Everything _row (and _base_row) reads, as values: the same inputs, the same row."""
        number = state.number
        credits = tuple((cn.number, cn.amount, cn.currency, self.links.get(("credit-note", cn.number)))
                        for cn in self.credits_of_invoice.get(number, ()))
        return (state.doc, state.paid, state.outstanding, state.status, self.overdue_days.get(number, 0),
                len(state.plan.installments) if state.plan else 0, self.client_name(state.client),
                self.client_slugs.get(state.client), self.links.get(("invoice", number)), credits, self.fm.tag,
                state.credited)

    def marked_rows(self, theme: Theme, stamp: tuple, prefix: str, client: str | None, show_client: bool) -> list:
        """invoice_rows with their markup (_with_markup); a row whose inputs are what they were in
        the last build of this process is that build's row object (see _page's held)."""
        memo = self.memo.marked.setdefault((str(self.analysis.root), prefix, show_client, theme.dirs, stamp), {})
        out = []
        for state in self._states(client):
            inputs = self._row_inputs(state, prefix)
            hit = memo.get(state.number)
            if hit is not None and hit[0] == inputs:
                row = hit[1]
                if inputs[8] is not None:
                    self.linked.add(("invoice", state.number))
                self.linked.update(("credit-note", c[0]) for c in inputs[9] if c[3] is not None)
            else:
                row = _with_markup(self.memo, theme, stamp, [self._row(state, prefix)], show_client)[0]
                memo[state.number] = (inputs, row)
            out.append(row)
        return out

    def credit_note_rows(self, prefix: str, client: str | None = None) -> list[dict]:
        rows = []
        credits = self.credits_of_client.get(client, []) if client is not None else \
            [c for c in self.books.credits.values() if c.date <= self.as_of and c.invoice is not None]
        for credit in credits:
            cid = credit.invoice.invoice.client
            rows.append({"number": credit.number, "date": self.fm.day(credit.date), "invoice": credit.invoice.number,
                         "client": cid, "client_name": self.client_name(cid),
                         "amount": self.fm.money(credit.amount, credit.currency), "reason": credit.note.reason,
                         "links": self.doc_links("credit-note", credit.number, prefix),
                         "invoice_links": self.doc_links("invoice", credit.invoice.number, prefix)})
        return rows

    def payment_rows(self, client: str) -> list[dict]:
        out = []
        for e in self._events(client):
            if e.kind == "payment":
                out.append({"date": self.fm.day(e.date), "ref": e.ref, "via": e.detail,
                            "amount": self.fm.money(-e.amount, e.currency)})
        return out[::-1]

    # ------------------------------------------------------------------ summaries
    def totals(self, client: str | None = None) -> list[dict]:
        """Per currency: billed, collected, outstanding, overdue, and counts."""
        return [{"currency": t.currency, **{k: self.fm.money(getattr(t, k), t.currency) for k in
                                            ("billed", "collected", "credited", "outstanding", "overdue")},
                 "open_count": t.open_count, "overdue_count": t.overdue_count,
                 "has_overdue": t.overdue > 0, "has_outstanding": t.outstanding > 0}
                for t in self.figures.totals.get(client, ())]

    def by_client(self, prefix: str) -> list[dict]:
        """Outstanding per client and currency, with the overdue share, largest first within a currency."""
        rows: list[dict[str, Any]] = []
        for b in self.figures.balances:
            cid, c = b.client, b.currency
            rows.append({
                "client": cid, "client_name": self.client_name(cid), "currency": c,
                "href": f"{prefix}clients/{self.client_slugs[cid]}.html" if cid in self.client_slugs else None,
                "outstanding": self.fm.money(b.outstanding, c), "overdue": self.fm.money(b.overdue, c),
                "has_overdue": b.overdue > 0, "invoices": b.invoices,
                "credit": self.fm.money(b.credit, c) if b.credit > 0 else "",
                "bar_due": b.bar_due, "bar_over": b.bar_over,
                "sort": (c, -b.outstanding, cid),
                "statement": self.doc_links("statement", cid, prefix),
            })
        # the card shows the largest few per currency; the rest fold behind "show all"
        rank: dict[str, int] = defaultdict(int)
        for r in rows:
            r["more"] = rank[r["currency"]] >= BY_CLIENT_SHOWN or r["sort"][1] >= 0
            rank[r["currency"]] += 1
        if all(r["more"] for r in rows):
            for r in rows[:BY_CLIENT_SHOWN]:
                r["more"] = False
        return rows

    def aging(self, client: str | None = None) -> list[dict]:
        out = []
        for a in self.figures.aging.get(client, ()):
            c, buckets = a.currency, a.buckets
            out.append({"currency": c, "segments": aging_bar(buckets, a.total, self.fm, self.t, c),
                        "rows": [{"bucket": b, "label": bucket_label(b, self.t), "amount": self.fm.money(buckets[b], c),
                                  "cls": "b-" + b.replace("+", "p"), "zero": buckets[b] == 0} for b in BUCKETS],
                        "total": self.fm.money(a.total, c)})
        return out

    def monthly(self, client: str | None = None) -> list[dict]:
        out = []
        for mo in self.figures.monthly.get(client, ()):
            c, months = mo.currency, list(mo.months)
            out.append({"currency": c, "chart": monthly_chart(mo.billed, mo.collected, months, self.fm, self.t, c),
                        "billed": self.fm.money(mo.billed_total, c),
                        "collected": self.fm.money(mo.collected_total, c),
                        "span": f"{self.fm.month_long(*months[0])} – {self.fm.month_long(*months[-1])}"})
        return out

    def next_due(self, prefix: str, client: str | None = None, limit: int = 6) -> list[dict]:
        items = [d for d in self._dues(client) if d.days_overdue <= 0]
        items.sort(key=lambda d: (d.due, d.state.client, d.number, d.installment or 0))
        return [self._due_row(d, prefix) for d in items[:limit]]

    def most_overdue(self, prefix: str, client: str | None = None, limit: int = 6) -> list[dict]:
        items = [d for d in self._dues(client) if d.days_overdue > 0]
        items.sort(key=lambda d: (-d.days_overdue, d.state.client, d.number, d.installment or 0))
        return [self._due_row(d, prefix) for d in items[:limit]]

    def _due_row(self, d, prefix: str) -> dict:
        days = d.days_overdue
        if days > 0:
            when = self.t.plural("dashboard.due.overdue", days)
        elif days == 0:
            when = self.t.one("dashboard.due.today")
        else:
            when = self.t.plural("dashboard.due.in", -days)
        return {"number": d.number, "installment": d.installment, "client": d.state.client,
                "client_name": self.client_name(d.state.client), "due": self.fm.day(d.due),
                "when": when, "amount": self.fm.money(d.outstanding, d.state.currency),
                "bucket": d.bucket, "cls": "b-" + d.bucket.replace("+", "p"),
                "links": self.doc_links("invoice", d.number, prefix)}

    def budgets(self, client: str | None = None) -> list[dict]:
        return self.budgets_of.get(client, [])

    def _budget(self, b: Budget) -> dict:
        """A SOW's budget burn as the budget card shows it."""
        c = b.currency or ""  # every budget but one in hours has its currency
        t = self.t
        item: dict[str, Any] = {"ref": b.ref, "title": b.title, "client": b.client, "client_name": self.client_name(b.client),
                "period": f"{self.fm.day(b.start)} – {self.fm.day(b.end)}" if b.start and b.end else "",
                "kind": b.kind, "note": ""}
        if b.unit == "hours":
            item.update(unit="hours", used=_hours(b.used, t), limit=_hours(b.limit, t))
            if b.unbilled:
                item["note"] = t.one("dashboard.budget.hours", billed=_hours(b.billed, t), unbilled=_hours(b.unbilled, t))
        elif b.unit == "money":
            item.update(unit="money", used=self.fm.money(b.billed, c), limit=self.fm.money(b.limit, c))
            hours = b.unbilled_hours
            item["note"] = (t.one("dashboard.budget.billed_hours", hours=_hours(hours, t)) if hours
                            else t.one("dashboard.budget.billed"))
        elif b.unit == "fee":
            item.update(unit="fee", used=self.fm.money(b.billed, c), limit=self.fm.money(b.limit, c))
            item["note"] = t.plural("dashboard.budget.milestones", b.milestones, done=b.milestones_done)
        else:
            # a frequency the catalog has no words for is counted in periods and shown as written
            known = t.has(f"dashboard.frequency.{b.frequency}")
            frequency = t.one(f"dashboard.frequency.{b.frequency}") if known else b.frequency
            noun = b.frequency if known else "other"
            item.update(unit="periods", used=t.plural(f"dashboard.period.{noun}", int(b.billed)),
                        limit=f"{int(b.limit)}")
            item["note"] = t.one("dashboard.budget.retainer", amount=self.fm.money(b.retainer, c), frequency=frequency)
        item.update(pct=f"{b.pct:.0f}%", pct_value=b.pct, level=b.level, bar_billed=b.bar_billed,
                    bar_unbilled=b.bar_unbilled, cap_at=b.cap_at)
        return item

    def agreements(self, prefix: str) -> list[dict]:
        """Each SOW: where its agreement stands (draft, sent, accepted) and its budget burn."""
        budgets = {b["ref"]: b for b in self.budgets_of[None]}
        out = []
        for ref, sow in self.ledger.sows.items():
            state = agreement_state(self.ledger, ref)
            acc = self.ledger.acceptance(ref)
            note = f"accepted by {acc.signer} on {self.fm.day(acc.date)}" if acc is not None else ""
            b = budgets.get(ref)
            out.append({"ref": ref, "title": sow.title, "client_name": self.client_name(sow.client),
                        "state": state, "note": note,
                        "budget": f"{b['used']} of {b['limit']} ({b['pct']})" if b else "",
                        "level": b["level"] if b else "", "links": self.doc_links("agreement", ref, prefix)})
        return out

    def team(self) -> list[dict]:
        """Hours, amount billed and utilisation per person and month (reports.team), newest month first."""
        rows = []
        for r in team_rows(self.ledger, self.books, self.as_of):
            row = team_flat(r)
            row["billed"] = "; ".join(self.fm.money(v, c) for c, v in r.billed.items())  # as every amount on the page
            rows.append(row)
        return sorted(rows, key=lambda r: r["month"], reverse=True)[:24]

    def clients(self, prefix: str) -> list[dict]:
        out = []
        for cid in sorted(self.ledger.clients):
            out.append({"id": cid, "name": self.client_name(cid),
                        "href": f"{prefix}clients/{self.client_slugs[cid]}.html"})
        return out

    def other_docs(self, prefix: str) -> list[dict]:
        """Documents not linked from anywhere else on the page (so every document is reachable)."""
        out = []
        for d in self.docs:
            if (d.kind, d.number) in self.linked:
                continue
            key = f"dashboard.doc.{d.kind}"
            label = self.t.one(key) if self.t.has(key) else d.kind
            out.append({"label": label, "number": d.number,
                        "client_name": self.client_name(d.client) if d.client else "",
                        "html": prefix + d.html if d.html else None, "pdf": prefix + d.pdf if d.pdf else None})
        return out

    def report(self, prefix: str) -> dict:
        return self.doc_links("report", "overdue", prefix)

    def base(self, prefix: str, page: str) -> dict:
        company = self.ledger.company
        return {
            "prefix": prefix, "page": page, "lang": self.fm.tag,
            "company": company.name if company else "textbill",
            "as_of": self.as_of.isoformat(), "as_of_label": self.fm.day(self.as_of),
            "version": __version__, "report": self.report(prefix), "clients": self.clients(prefix),
            "statuses": STATUSES, "buckets": [{"id": b, "label": bucket_label(b, self.t),
                                               "cls": "b-" + b.replace("+", "p")} for b in BUCKETS],
        }


def table_data(sums: tuple[TableSums, ...], count: int, fm: Formats) -> dict:
    """The invoice table's footer (the report's sums per currency, for display) and what site.js
    needs to redo them exactly for the rows a filter leaves: each currency's minor digits."""
    footer = [{"currency": t.currency, "count": t.count, "shown": {k: fm.amount(v, t.currency) for k, v in t.sums.items()}}
              for t in sums]
    return {"digits": {t.currency: minor_units(t.currency) for t in sums}, "lang": fm.tag, "footer": footer,
            "count": count}


def render_site(analysis, rec, docs: list[DocRef], open_amounts: list | None = None, *,
                figures: DashboardFigures | None = None, memo: RenderTables | None = None,
                only: frozenset[str] | None = None) -> dict[str, bytes]:
    """Relative path -> content of every dashboard file.  figures: reports.dashboard.dashboard_figures
    (made here from open_amounts, aging.dues(rec, company), when the caller has no figures);
    memo: what a session keeps of pages and rows from one build to the next.  only: the pages of
    these clients and nothing else (the watch serves them first; the memo keeps them, and the
    other pages are kept as they were for the whole site that follows)."""
    ledger = analysis.ledger
    if figures is None:
        figures = dashboard_figures(ledger, analysis.books, rec, open_amounts)
    if memo is None:
        memo = scratch()
    theme = load_theme(ledger)
    stamp = _templates_stamp(theme)
    root = str(analysis.root)
    site = _Site(analysis, rec, docs, figures, memo)
    out: dict[str, bytes] = {}

    shared = site.shared_inputs(theme, stamp)
    pages: dict[tuple, tuple] = {}
    for cid in sorted(ledger.clients if only is None else only & ledger.clients.keys()):
        prefix = "../"
        client = ledger.clients[cid]
        path = f"clients/{site.client_slugs[cid]}.html"
        # a client's page is a function of the client's own figures and of what every page shows
        # (shared): when those are what they were, so is the page, and its context is not made again
        key = (client, shared, site.client_inputs(cid))
        hit = memo.client_pages.get((root, path))
        if hit is not None and hit[0][0] is client and hit[0][1:] == key[1:]:
            site.linked |= hit[1]
            out[path] = hit[2]
            pages[(root, path)] = hit
            continue
        linked, site.linked = site.linked, set()
        rows = site.marked_rows(theme, stamp, prefix, cid, False)
        ctx = site.base(prefix, "client")
        ctx.update(
            client={"id": cid, "name": client.name, "address": client.address, "contact": client.contact,
                    "contact_email": client.contact_email, "email": client.email, "tax_id": client.tax_id,
                    "terms": str(client.terms), "currency": ledger.client_currency(cid),
                    "tax": client.tax.label if client.tax else site.t.one("dashboard.no_tax")},
            totals=site.totals(cid), aging=site.aging(cid), monthly=site.monthly(cid),
            next_due=site.next_due(prefix, cid), overdue=site.most_overdue(prefix, cid),
            budgets=site.budgets(cid), invoices=rows, table=table_data(site.figures.table.get(cid, ()), len(rows), site.fm),
            credit_notes=site.credit_note_rows(prefix, cid), payments=site.payment_rows(cid),
            statement=site.doc_links("statement", cid, prefix),
            credit=[site.fm.money(v, c) for (cl, c), v in sorted(rec.credit.items()) if cl == cid and v > 0],
        )
        out[path] = _page(memo, theme, stamp, (root, path), "client.html", ctx, held=("invoices",))
        pages[(root, path)] = (key, frozenset(site.linked), out[path])
        site.linked |= linked
    if only is not None:
        memo.client_pages.update(pages)
        return out
    for k in [k for k in memo.client_pages if k[0] == root]:
        del memo.client_pages[k]
    memo.client_pages.update(pages)

    prefix = ""
    rows = site.marked_rows(theme, stamp, prefix, None, True)
    ctx = site.base(prefix, "dashboard")
    ctx.update(
        totals=site.totals(), by_client=site.by_client(prefix), aging=site.aging(), monthly=site.monthly(),
        next_due=site.next_due(prefix), overdue=site.most_overdue(prefix), budgets=site.budgets(),
        invoices=rows, table=table_data(site.figures.table[None], len(rows), site.fm),
        credit_notes=site.credit_note_rows(prefix),
        agreements=site.agreements(prefix), team=site.team(),
    )
    ctx["other_docs"] = site.other_docs(prefix)
    out["index.html"] = _page(memo, theme, stamp, (root, "index.html"), "dashboard.html", ctx, held=("invoices",))
    # rows of invoices that are gone, and of themes or stamps no longer used, are forgotten
    for memo_key in [k for k in memo.marked if k[0] == root and k[3:] != (theme.dirs, stamp)]:
        del memo.marked[memo_key]
    for rows_of in (r for k, r in memo.marked.items() if k[0] == root):
        for number in [n for n in rows_of if n not in rec.invoices]:
            del rows_of[number]
    for name in SITE_FILES:
        out[name] = _source(theme, name)
    return out
