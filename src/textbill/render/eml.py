"""Reminder e-mails: a due Reminder -> an RFC 5322 message (text, HTML, the invoice PDF).

The words come from per-step templates of the theme, `reminders/<step>.txt`
and `reminders/<step>.html`, with `default.txt` / `default.html` behind them; a
user theme folder inside the ledger overrides any of them.  The first line of
a `.txt` template is the message's subject: `Subject: ...`.

A reminder is written in its client's language (the invoice's: client, company,
textbill.yaml, English).  For a language other than English the templates are
looked up in `reminders/<lang>/` first (`pl/friendly.txt`, then `pl/default.txt`),
then the English ones; dates, amounts and payment methods follow the language.

Every value that reaches a header is checked first: an address must be a plain
`local@domain`, and a name, number or subject must hold no line break or other
control character, so a ledger string such as "x\\nBcc: y" can never add a
header.  Problems are located diagnostics, and no message is built for them.
Text that holds `=?` (the start of an RFC 2047 encoded word) is sent as encoded
words of its own (headers_of), so a name such as `=?utf-8?q?Boss_=3Cceo=40x=2Eexample=3E=2C?=`
stays one display name instead of becoming a second recipient or, with an
encoded line break, a Bcc header; and the finished message is parsed back
(unsafe_headers) before anything is written or sent.

The output is deterministic for a given ledger, day and PDF: a fixed
Message-ID (invoice, step, day, at the sender's domain), the Date header
handed in by the caller, and MIME boundaries derived from the content.  So a
message written with `--out` can be golden-tested, and is the same bytes that
`--send` delivers.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from email import message_from_bytes
from email import policy as email_policy
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from types import MappingProxyType

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from textbill.core import model as m
from textbill.core.books import Reminder
from textbill.core.diagnostics import Diagnostic, error
from textbill.core.money import fmt_grouped
from textbill.core.paths import slug
from textbill.core.source import Sources, Span, find_keyword_line
from textbill.render import templating, themes
from textbill.render.html import document_locale, render_invoice
from textbill.render.i18n import DEFAULT_LOCALE, Formatter, Translator, language
from textbill.render.memo import RenderTables
from textbill.render.pdf import html_to_pdf
from textbill.render.themes import load_theme, theme_by_name

# CRLF line ends, as sent on the wire; a header set raw (headers_of) is written as given, never
# parsed and refolded: refolding decodes encoded words and writes their text back unencoded
POLICY = email_policy.SMTP.clone(refold_source="none")
ENCODED_WORD_START = "=?"
ENCODED_TEXT_BYTES = 45  # of UTF-8 text per encoded word: "=?utf-8?b?" + 60 base64 + "?=" <= 75 (RFC 2047)

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
ADDRESS_RE = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})+")

METHODS = MappingProxyType({"bank-transfer": "bank transfer", "card": "card", "cash": "cash",
                            "cheque": "cheque", "check": "check", "paypal": "PayPal", "sepa": "SEPA transfer",
                            "wire": "wire transfer"})
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")


class ThemeError(Exception):
    """The theme folder or one of its reminder templates cannot be used."""


@dataclass(frozen=True)
class Mail:
    """One reminder, ready to write or send."""

    reminder: Reminder
    message: EmailMessage
    data: bytes  # the serialized message: the .eml file, and what is sent
    sender: str
    recipient: str
    subject: str
    filename: str  # for --out: NUMBER-STEP.eml, file-name safe


# ---------------------------------------------------------------------------- theme

def theme_dirs(root: Path, theme: str) -> list[Path]:
    """Where templates are looked up, first match wins: the same folders as the invoice's theme."""
    try:
        return list(theme_by_name(Path(root), theme or "default").dirs)
    except themes.ThemeError as exc:
        raise ThemeError(str(exc)) from exc


class Templates:
    """The reminder templates of a theme: a text and an HTML environment over one search path."""

    def __init__(self, dirs: list[Path], root: Path | None = None):
        self.dirs = [d / "reminders" for d in dirs]
        # the themes' one loader: a user theme's symlink out of the ledger root is never read
        loader = templating.theme_loader(self.dirs, root)
        common = {"loader": loader, "undefined": jinja2.StrictUndefined, "keep_trailing_newline": True,
                  "trim_blocks": True, "lstrip_blocks": True}
        # sandboxed, as for the invoice templates: a theme inside a ledger is data, not code
        self.text = SandboxedEnvironment(autoescape=False, **common)
        self.html = SandboxedEnvironment(autoescape=True, **common)
        for env in (self.text, self.html):
            env.filters["day"] = day

    def speaks(self, locale: str | None) -> str:
        """The language a reminder in `locale` is written in: its own where the theme has templates
        for it (reminders/<lang>/), else English, whose dates and figures then follow English too."""
        lang = language(locale)
        return lang if lang == DEFAULT_LOCALE or any((d / lang).is_dir() for d in self.dirs) else DEFAULT_LOCALE

    def source(self, env: jinja2.Environment, step: str, ext: str, lang: str = DEFAULT_LOCALE) -> tuple[str, str]:
        """(source, file name) of the step's template, else the default one; the language's own first."""
        names = [f"{template_name(step)}.{ext}", f"default.{ext}"]
        if lang != DEFAULT_LOCALE:
            names = [f"{lang}/{name}" for name in names] + names
        for name in names:
            try:
                src, filename, _ = env.loader.get_source(env, name)
            except jinja2.TemplateNotFound:
                continue
            except themes.ThemeError as exc:
                raise ThemeError(str(exc)) from exc
            return src, filename or name
        raise ThemeError(f"no reminder template for step '{step}': the theme has neither "
                         f"reminders/{template_name(step)}.{ext} nor reminders/default.{ext}")

    def render(self, step: str, context: dict) -> tuple[str, str, str]:
        """(subject, text body, HTML body) of a step, in the language of context['lang']."""
        lang = context.get("lang", DEFAULT_LOCALE)
        src, filename = self.source(self.text, step, "txt", lang)
        first, _, rest = src.partition("\n")
        if not first.startswith("Subject:"):
            raise ThemeError(f"{filename}: the first line of a reminder text template must be "
                             "'Subject: ...'")
        # the subject line becomes an empty line, so template line numbers stay right
        subject = _render(self.text, first[len("Subject:"):], filename, context).strip()
        text = _render(self.text, "\n" + rest, filename, context).lstrip("\n")
        html_src, html_name = self.source(self.html, step, "html", lang)
        html = _render(self.html, html_src, html_name, context)
        return subject, text, html


def _render(env: jinja2.Environment, src: str, filename: str, context: dict) -> str:
    try:
        return env.from_string(src).render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise ThemeError(f"{filename}:{exc.lineno}: {exc.message}") from exc
    except jinja2.TemplateError as exc:
        raise ThemeError(f"{filename}: {exc}") from exc


def template_name(step: str) -> str:
    """A step's template file name: 'Second notice' -> 'second-notice'."""
    return slug(step.lower()).lower()


def load_templates(root: Path, theme: str) -> Templates:
    return Templates(theme_dirs(root, theme), Path(root))


# ---------------------------------------------------------------------------- formatting

def long_date(day: date) -> str:
    """30 March 2026: unambiguous in every English-speaking country."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


@jinja2.pass_context
def day(ctx, value: date) -> str:
    """The `day` filter: a long date in the message's language ('30 marca 2026', '30. März 2026')."""
    locale = ctx.get("locale", DEFAULT_LOCALE)
    return long_date(value) if language(locale) == DEFAULT_LOCALE else Formatter(locale).long_date(value)


def money(value, currency: str, locale: str = DEFAULT_LOCALE) -> str:
    """'1,234.50 USD'; in another language its own digits: '1 234,50 PLN', '1.234,50 EUR'."""
    if language(locale) == DEFAULT_LOCALE:
        return f"{fmt_grouped(value, currency)} {currency}"
    return f"{Formatter(locale).amount(value, currency)} {currency}"


def method_name(method: str, locale: str) -> str:
    """A payment method as a reminder names it: 'bank transfer'; 'Przelew', 'Überweisung'."""
    if language(locale) == DEFAULT_LOCALE:
        return METHODS.get(method, method.replace("-", " "))
    t = Translator(locale)
    return t.one(f"method.{method}") if t.has(f"method.{method}") else method.replace("-", " ")


def grouped_iban(iban: str) -> str:
    compact = iban.replace(" ", "")
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))


def context(rem: Reminder, ledger: m.Ledger, attached: bool, day: date | None = None,
            templates: Templates | None = None) -> dict:
    """What the templates see: formatted values only (renderers never compute money), in the client's
    language when the templates speak it."""
    earlier = [r.step for r in ledger.reminded if r.invoice == rem.number and (day is None or r.date <= day)]
    before_due = {s.name for s in rem.policy.steps if s.offset < 0}
    company = ledger.company
    state = rem.state
    doc = state.doc
    client = ledger.clients.get(state.client) or doc.client  # a letter of today: the current details
    c = state.currency
    locale = document_locale(ledger, client)
    if templates is not None and templates.speaks(locale) == DEFAULT_LOCALE:
        locale = DEFAULT_LOCALE
    fee = None
    if rem.late_fee is not None:
        fee = money(rem.late_fee.value, rem.late_fee.currency or (company.currency if company else c), locale)
    bank = company.bank if company else None
    rate = company.late_interest if company else None
    plan = state.plan
    if rate is None:
        interest_rate = None
    elif language(locale) == DEFAULT_LOCALE:
        interest_rate = f"{rate.normalize():f}%"
    else:
        interest_rate = Formatter(locale).exact_percent(rate)
    return {
        "lang": language(locale),  # which templates: reminders/<lang>/ first
        "locale": locale,
        "company": company,
        "client": client,
        "greeting": (client.contact or client.name) if client else "",
        "number": state.number,
        "invoice_date": doc.date,
        "due": rem.due,
        "step": rem.step.name,
        "offset": rem.step.offset,
        "days_overdue": max(rem.days_overdue, 0),
        "days_to_due": max(-rem.days_overdue, 0),
        "currency": c,
        "amount_due": money(rem.amount_due, c, locale),
        "outstanding": money(rem.amount, c, locale),
        "total": money(doc.total, c, locale),
        "installment": rem.installment,
        "installments": len(plan.installments) if plan is not None else None,
        "late_interest": money(rem.late_interest, c, locale) if rem.late_interest else None,
        "interest_rate": interest_rate,
        "late_fee": fee,
        "bank": bank,
        "iban": grouped_iban(bank.iban) if bank and bank.iban else None,
        "payment_methods": [method_name(p, locale) for p in (company.payment_methods if company else ())],
        "attached": attached,
        "earlier_reminders": earlier,  # steps already sent for this invoice, oldest first
        # which overdue reminder this is, counting those actually sent (a skipped step is not one,
        # nor a notice before the due date): titles say "Second reminder" only when one went before
        "reminder_number": 1 + sum(1 for name in earlier if name not in before_due),
    }


# ---------------------------------------------------------------------------- checks

def header_problem(value: str) -> str | None:
    """Why value cannot go into a header, or None: line breaks and control characters."""
    for ch in value:
        if unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            what = {"\n": "a line break (\\n)", "\r": "a carriage return (\\r)", "\t": "a tab"}.get(
                ch, f"the control character U+{ord(ch):04X}")
            return f"it contains {what}"
    return None


def address_problem(value: str) -> str | None:
    if header_problem(value):
        return header_problem(value)
    if not ADDRESS_RE.fullmatch(value):
        return "it is not a plain e-mail address like name@example.com"
    return None


def recipient(client: m.Client) -> tuple[str | None, str, str]:
    """(address, display name, keyword of the ledger line it came from): email, else the contact's."""
    if client.email:
        return client.email, client.name, "email"
    if client.contact_email:
        return client.contact_email, client.contact or client.name, "contact"
    return None, client.name, "email"


def check_reminder(rem: Reminder, ledger: m.Ledger, sender: str | None,
                   sources: Sources | None = None) -> list[Diagnostic]:
    """Everything that would stop this reminder from becoming a safe message."""
    diags: list[Diagnostic] = list(rem.problems)  # found by the engine (a late fee with no fx rate)
    company = ledger.company
    client = ledger.clients.get(rem.state.client) or rem.state.doc.client
    number = rem.number
    inv_span = rem.state.doc.invoice.span

    def at(span: Span | None, keyword: str) -> Span | None:
        if span is None or sources is None:
            return span
        return find_keyword_line(sources, span, keyword)

    if client is None:  # pragma: no cover - the checks reject unknown clients
        return [error(inv_span, "E250", f"invoice '{number}' names no known client; no reminder")]
    address, _, keyword = recipient(client)
    if address is None:
        diags.append(error(client.span, "E250", f"client '{client.id}' has no e-mail address, so reminder "
                           f"'{rem.step.name}' for {number} cannot be sent",
                           "add a line 'email ap@example.com' to the client, or 'reminders off'"))
    else:
        why = address_problem(address)
        if why:
            diags.append(error(at(client.span, keyword), "E251", f"the e-mail address of client '{client.id}' "
                               f"cannot be used: {why}; no reminder is sent to it",
                               "write one plain address, like: email ap@example.com"))
    named = [(f"the name of client '{client.id}'", client.name, client.span),
             (f"invoice number '{number}'", number, inv_span),
             (f"reminder step '{rem.step.name}'", rem.step.name, rem.step.span)]
    if keyword == "contact" and client.contact:
        named.append((f"the contact name of client '{client.id}'", client.contact, at(client.span, "contact")))
    if company is not None:
        named.append((f"the name of company '{company.id}'", company.name, company.span))
    for label, value, span in named:
        why = header_problem(value)
        if why:
            diags.append(error(span, "E252", f"{label} goes into an e-mail header, but {why}; "
                               f"no reminder for {number} is sent",
                               "remove the escape sequence (a name is one line)"))
    if sender is None:
        diags.append(error(company.span if company else None, "E250",
                           "no sender address for reminders: set smtp.from in textbill.yaml or the company's "
                           "email", "add a line 'email billing@example.com' to the company"))
    else:
        why = address_problem(sender)
        if why:
            from_company = company is not None and company.email == sender
            diags.append(error(at(company.span, "email") if from_company and company else None, "E251",
                               f"the sender address '{sender}' cannot be used: {why}",
                               "fix the company's email" if from_company else "fix smtp.from in textbill.yaml"))
    return diags


# ---------------------------------------------------------------------------- the message

def build_mail(rem: Reminder, ledger: m.Ledger, templates: Templates, sender: str | None, when: datetime,
               pdf: bytes | None = None, sources: Sources | None = None) -> tuple[Mail | None, list[Diagnostic]]:
    """The message for one reminder, or None with the diagnostics that prevent it."""
    diags = check_reminder(rem, ledger, sender, sources)
    if diags:
        return None, diags
    company = ledger.company
    client = ledger.clients.get(rem.state.client) or rem.state.doc.client
    to_addr, to_name, _ = recipient(client)
    assert to_addr is not None and sender is not None
    subject, text, html = templates.render(rem.step.name, context(rem, ledger, pdf is not None, when.date(), templates))
    why = header_problem(subject)
    if why or not subject:
        return None, [error(None, "E252", f"the subject of reminder step '{rem.step.name}' for {rem.number} "
                            f"is {'empty' if not subject else 'unsafe: ' + why}; nothing is sent",
                            "check the 'Subject:' line of the theme's reminder template")]

    from_name = company.name if company else ""
    ledger_headers = {"From": (from_name, sender), "To": (to_name, to_addr), "Subject": subject,
                      "X-Textbill-Invoice": rem.number, "X-Textbill-Step": rem.step.name}
    msg = EmailMessage(policy=POLICY)
    headers_of(msg, ledger_headers, before={"Date": format_datetime(when),
                                            "Message-ID": message_id(rem, sender, when.date()),
                                            # RFC 3834: no auto-replies to a reminder
                                            "Auto-Submitted": "auto-generated"})
    # 7bit when ASCII, else quoted-printable: never raw 8bit, which needs the server's 8BITMIME
    msg.set_content(text, subtype="plain", charset="utf-8", cte=_cte(text))
    msg.add_alternative(html, subtype="html", charset="utf-8", cte=_cte(html))
    if pdf is not None:
        msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"{slug(rem.number)}.pdf")
    for part in msg.iter_parts():
        del part["MIME-Version"]  # the top-level header is enough
    _fix_boundaries(msg, text, html, pdf)
    data = msg.as_bytes(policy=POLICY)
    why = unsafe_headers(data, ledger_headers)
    if why:  # pragma: no cover - headers_of prevents it; the parse-back is the last line of defence
        return None, [error(rem.state.doc.invoice.span, "E252", f"the reminder for {rem.number} would not "
                            f"reach its reader as written: {why}; nothing is sent",
                            "remove '=?' and control characters from the names of the client and company")]
    return Mail(rem, msg, data, sender, to_addr, subject, eml_filename(rem)), []


HEADER_ORDER = ("From", "To", "Subject")


def headers_of(msg: EmailMessage, ledger: dict, before: dict[str, str]) -> None:
    """Set the headers whose text comes from the ledger or its theme: From, To, Subject, then `before`,
    then the X-Textbill-* ones.  A mailbox is (display name, address).

    Python's header classes decode an encoded word found in the text they are given and write its
    decoded text back unencoded: a name `=?utf-8?q?Boss_=3Cceo=40x=2Eexample=3E=2C?=` would be
    written as `Boss <ceo@x.example>,`, a second recipient, and `=0D=0A` as a new header line.
    So text holding `=?` is encoded here, all of it, and set raw (POLICY never refolds it); the
    reader decodes it back to the literal text, one display name or one subject.
    """
    def put(name: str, value) -> None:
        if isinstance(value, tuple):
            display, address = value
            if ENCODED_WORD_START in display:
                msg.set_raw(name, f"{encoded_words(display, name)}\n <{address}>")
            else:
                msg[name] = Address(display, addr_spec=address)
        elif ENCODED_WORD_START in value:
            msg.set_raw(name, encoded_words(value, name))
        else:
            msg[name] = value

    for name in HEADER_ORDER:
        put(name, ledger[name])
    for name, value in before.items():
        msg[name] = value
    for name, value in ledger.items():
        if name not in HEADER_ORDER:
            put(name, value)


def encoded_words(text: str, header: str) -> str:
    """text as RFC 2047 encoded words (UTF-8), folded onto lines of at most 78 characters."""
    words = []
    chunk = ""
    for ch in text:
        if len((chunk + ch).encode("utf-8")) > ENCODED_TEXT_BYTES:
            words.append(chunk)
            chunk = ""
        chunk += ch
    words.append(chunk)
    return "\n ".join(Header(word, "utf-8", header_name=header).encode(linesep="\n") for word in words)


def unsafe_headers(data: bytes, ledger: dict) -> str | None:
    """What a reader of `data` would see differently from the ledger's headers, or None.

    The message is parsed back as a mail program would: every ledger header must be there
    once, From and To must each hold exactly the one mailbox they were given, and no header may
    appear that was not set (a Bcc: or Cc: smuggled in through an encoded line break).
    """
    parsed = message_from_bytes(data, policy=email_policy.default)
    expected = {"from", "to", "subject", "date", "message-id", "auto-submitted", "x-textbill-invoice",
                "x-textbill-step", "mime-version", "content-type", "content-transfer-encoding"}
    names = [key.lower() for key in parsed]
    extra = sorted(set(names) - expected)
    if extra:
        return f"it would carry the header {extra[0]!r}"
    for name, value in ledger.items():
        if names.count(name.lower()) != 1:
            return f"its {name} header would appear {names.count(name.lower())} times"
        if isinstance(value, tuple):
            addresses = [a.addr_spec for a in parsed[name].addresses]
            if addresses != [value[1]]:
                return f"its {name} header would name {', '.join(addresses) or 'no address'}"
    return None


def _cte(text: str) -> str:
    return "7bit" if text.isascii() and all(len(line) <= 998 for line in text.splitlines()) else "quoted-printable"


def message_id(rem: Reminder, sender: str, day: date) -> str:
    domain = sender.rpartition("@")[2]
    part = f".i{rem.installment}" if rem.installment else ""
    return f"<reminder.{slug(rem.number)}{part}.{template_name(rem.step.name)}.{day:%Y%m%d}@{domain}>"


def eml_filename(rem: Reminder) -> str:
    part = f"-i{rem.installment}" if rem.installment else ""
    return f"{slug(rem.number)}{part}-{template_name(rem.step.name)}.eml"


def _fix_boundaries(msg: EmailMessage, text: str, html: str, pdf: bytes | None) -> None:
    """Boundaries from a hash of the content instead of random ones: the same input, the same bytes.

    A boundary must not occur in the encoded content; '=_' cannot appear in
    quoted-printable or base64 output, and the hash makes a clash in 8bit text
    as unlikely as with random boundaries.
    """
    h = hashlib.sha256()
    for chunk in (text.encode("utf-8"), html.encode("utf-8"), pdf or b""):
        h.update(len(chunk).to_bytes(8, "big"))
        h.update(chunk)
    digest = h.hexdigest()[:24]
    for i, part in enumerate(p for p in msg.walk() if p.is_multipart()):
        part.set_boundary(f"=_textbill_{part.get_content_subtype()}_{i}_{digest}")


def invoice_pdf(analysis, doc, memo: RenderTables | None = None) -> tuple[bytes | None, str | None]:
    """The invoice's PDF for the attachment, or (None, why not) when it cannot be rendered here.
    memo: compiled templates and fonts kept between calls (several reminders in one run)."""
    try:
        theme = load_theme(analysis.ledger)
        html = render_invoice(analysis, doc, theme=theme, memo=memo)
        return html_to_pdf(html, base_url=str(analysis.root), theme=theme, memo=memo), None
    except (ImportError, NotImplementedError):
        return None, "invoice PDF rendering is not available in this build"
    except Exception as exc:  # noqa: BLE001 - a reminder still goes out without its attachment
        return None, f"the invoice PDF could not be rendered: {type(exc).__name__}: {exc}"
