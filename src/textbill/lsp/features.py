"""The language features: each a function from a Session, a buffer and a position to LSP values.

Nothing here talks to the client (server.py does) or reads the clock: "today" comes in as an
argument.  Positions are LSP's (line and character from 0, characters in UTF-16 code units);
textbill's spans count lines and columns from 1 in code points.
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

from lsprotocol import types as t

from textbill.core import model as m
from textbill.core.currencies import CODES as CURRENCIES
from textbill.core.diagnostics import Diagnostic
from textbill.core.money import fmt_grouped, round_money
from textbill.engine.aging import overdue
from textbill.engine.budgets import sow_fee
from textbill.engine.invoices import fmt_hours, round_up
from textbill.engine.schedule import next_numbers
from textbill.lsp import text as tx
from textbill.lsp.session import Session, path_of
from textbill.syntax.printer import format_text

LOCK_COMMAND = "textbill.lock"
_DID_YOU_MEAN = re.compile(r"did you mean '([^']+)'\?")
_FX_HINT = re.compile(r"add a rate, e\.g\.: (\d{4}-\d\d-\d\d fx [A-Z]{3} [A-Z]{3}) RATE")
_NUMBER = re.compile(r"-?\d[\d_]*(\.\d+)?")


# ---------------------------------------------------------------------- positions
def utf16(line: str, col: int) -> int:
    """A code-point column (from 0) of a line as UTF-16 code units."""
    head = line[:col]
    return col if head.isascii() else len(head.encode("utf-16-le")) // 2


def from_utf16(line: str, char: int) -> int:
    if line.isascii():
        return char
    units = 0
    for i, ch in enumerate(line):
        if units >= char:
            return i
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(line)


def lines_of(text: str) -> list[str]:
    return text.split("\n")


def rng(lines: list[str], row: int, start: int, end: int) -> t.Range:
    line = lines[row] if row < len(lines) else ""
    return t.Range(t.Position(row, utf16(line, start)), t.Position(row, utf16(line, end)))


# ---------------------------------------------------------------------- diagnostics
def diagnostics_by_file(session: Session) -> dict[str, list[t.Diagnostic]]:
    """The analysis's diagnostics, as `textbill check` reports them, per absolute path; one without
    a place goes to textbill.yaml, else the ledger's first file."""
    analysis = session.analysis
    out: dict[str, list[t.Diagnostic]] = {}
    if analysis is None:
        return out
    texts: dict[str, list[str]] = {}
    for d in analysis.diagnostics:
        if d.span is None:
            path = str(session.root / "textbill.yaml")
            if not (session.root / "textbill.yaml").is_file():
                files = session.files()
                if not files:
                    continue
                path = files[0]
        else:
            path = path_of(d.span.file)
        if path not in texts:
            texts[path] = lines_of(session.text(path) or "")
        out.setdefault(path, []).append(to_lsp(d, texts[path], session))
    return out


def to_lsp(d: Diagnostic, lines: list[str], session: Session) -> t.Diagnostic:
    if d.span is None:
        row, start, end_row, end = 0, 0, 0, 0
    else:
        row, start = d.span.line - 1, d.span.col - 1
        if d.span.end_line and (d.span.end_line, d.span.end_col) > (d.span.line, d.span.col):
            end_row, end = d.span.end_line - 1, d.span.end_col - 1
        else:
            line = lines[row] if 0 <= row < len(lines) else ""
            end_row, end = row, start + 1
            for tok in tx.tokens(line):
                if tok.start <= start < tok.end:
                    end = tok.end
    row_line = lines[row] if 0 <= row < len(lines) else ""
    end_line = lines[end_row] if 0 <= end_row < len(lines) else ""
    where = t.Range(t.Position(max(row, 0), utf16(row_line, max(start, 0))),
                    t.Position(max(end_row, 0), utf16(end_line, max(end, 0))))
    message = d.message + (f"\nhelp: {d.hint}" if d.hint else "")
    related = None
    data: dict = {}
    guess = _DID_YOU_MEAN.search(d.hint or "")
    if guess:
        data["replace"] = guess.group(1)
        target = definition_of(session, guess.group(1)) or t.Location(_uri(d), where)
        related = [t.DiagnosticRelatedInformation(target, f"did you mean '{guess.group(1)}'?")]
    fx = _FX_HINT.search(d.hint or "")
    if fx:
        data["fx"] = fx.group(1)
    return t.Diagnostic(
        range=where, message=message, code=d.code, source="textbill",
        severity=t.DiagnosticSeverity.Error if d.is_error else t.DiagnosticSeverity.Warning,
        related_information=related, data=data or None)


def _uri(d: Diagnostic) -> str:
    return uri_of(path_of(d.span.file)) if d.span else ""


def uri_of(path: str) -> str:
    return Path(path).as_uri()


def definition_of(session: Session, name: str, kind: str | None = None) -> t.Location | None:
    """Where the client, SOW, reminder policy, invoice or credit note `name` is defined (kind: which
    of them; None: the first that has the name)."""
    ledger = session.ledger
    if ledger is None:
        return None
    lookups = {"client": ledger.clients.get, "sow": ledger.sows.get, "policy": ledger.policies.get,
               "invoice": session.invoice, "credit": session.credit_note}
    node = None
    for what, lookup in lookups.items():
        if kind in (None, what) and node is None:
            node = lookup(name)
    if node is None:
        return None
    word = name
    if isinstance(node, m.Sow):
        word = node.ref
    return _location(session, node.span, word)


def _location(session: Session, span, word: str) -> t.Location | None:
    path = path_of(span.file)
    text = session.text(path)
    if text is None:
        return None
    lines = lines_of(text)
    row = span.line - 1
    if not 0 <= row < len(lines):
        return None
    found = tx.find_token(lines[row], word) or (span.col - 1, span.col - 1 + len(word))
    return t.Location(uri_of(path), rng(lines, row, *found))


# ---------------------------------------------------------------------- completion
def _item(label: str, kind: t.CompletionItemKind, detail: str | None = None) -> t.CompletionItem:
    return t.CompletionItem(label=label, kind=kind, detail=detail)


def completion(session: Session, text: str, pos: t.Position, today: date) -> list[t.CompletionItem]:
    """What may be typed at `pos`, read from the line's tokens (the buffer need not parse)."""
    lines = lines_of(text)
    line = lines[pos.line] if pos.line < len(lines) else ""
    col = from_utf16(line, pos.character)
    before = line[:col]
    toks = tx.tokens(before)
    typing = bool(toks) and toks[-1].end == len(before) and not before.endswith(" ")
    done = toks[:-1] if typing else toks  # the tokens complete before the cursor
    prefix = toks[-1].text if typing else ""
    K = t.CompletionItemKind
    ledger = session.ledger
    items: list[t.CompletionItem] = []

    if prefix.startswith("#"):
        tags = sorted({tag for e in ((ledger.times + ledger.expenses) if ledger else ()) for tag in e.tags})
        return [_item(f"#{tag}" if not tag.startswith("#") else tag, K.Keyword, "tag") for tag in tags]

    if not line[:1].isspace() and (before == "" or not before[:1].isspace()):
        # a header line
        if not done:
            items += [_item(k, K.Keyword, "block") for k in tx.BLOCKS]
            items.append(_item(today.isoformat(), K.Value, "today"))
            return items
        first = done[0].text
        if tx.DATE.fullmatch(first):
            if len(done) == 1:
                return [_item(k, K.Keyword, "dated entry") for k in tx.DATED]
            return _dated(session, done, today, prefix)
        return []

    # an attribute line: its block's header above
    found = tx.header_above(lines, pos.line - 1) if pos.line > 0 else None
    if found is None:
        return []
    header = tx.tokens(found[1])
    kind = tx.kind_of(header)
    if not done:
        return [_item(a, K.Property, f"{kind} attribute") for a in tx.ATTRIBUTES.get(kind or "", ())]
    attr = done[0].text
    last = done[-1].text
    if kind == "invoice" and attr == "sow" and len(header) > 3:
        client = header[3].value
        return [_item(s.id, K.Module, s.title) for s in (ledger.sows.values() if ledger else ())
                if s.client == client]
    if kind == "client" and attr == "reminders" and len(done) == 1:
        return [_item(p, K.Enum, "reminder policy") for p in (ledger.policies if ledger else ())] + \
            [_item("off", K.Keyword)]
    if last == "tax":
        return _taxes(ledger)
    if attr in ("currency",) and len(done) == 1:
        return _currencies(ledger)
    if _NUMBER.fullmatch(last):
        return _currencies(ledger)
    if attr in tx.KEYWORD_VALUES and len(done) == 1:
        return [_item(w, K.Keyword) for w in tx.KEYWORD_VALUES[attr]]
    if attr == "retainer" and len(done) == 3:
        return [_item(w, K.Keyword) for w in tx.KEYWORD_VALUES["retainer"]]
    return items


def _dated(session: Session, done: list[tx.Token], today: date, prefix: str) -> list[t.CompletionItem]:
    K = t.CompletionItemKind
    ledger = session.ledger
    kind = done[1].text
    n = len(done)  # the index of the token being typed
    last = done[-1].text
    clients = [_item(c.id, K.Class, c.name) for c in (ledger.clients.values() if ledger else ())]
    sows = [_item(s.ref, K.Module, s.title) for s in (ledger.sows.values() if ledger else ())]
    if kind in ("time", "expense", "done") and n == 2:
        return sows
    if kind == "invoice" and n == 2 and ledger is not None:
        day = _date(done[0].text) or today
        numbers, _ = next_numbers(ledger, day, 1)
        return [_item(x, K.Value, "next invoice number") for x in numbers]
    if kind == "invoice" and n == 3:
        return clients
    if kind == "payment" and n == 2:
        return clients
    if kind == "payment" and "for" in [d.text for d in done] and last not in ("via", "ref"):
        if "via" in [d.text for d in done[3:]] or "ref" in [d.text for d in done[3:]]:
            return []
        client = done[2].text
        return _open_invoices(session, today, client)
    if kind == "payment" and last == "via":
        methods = ledger.company.payment_methods if ledger and ledger.company else ()
        return [_item(x, K.EnumMember, "payment method") for x in methods]
    if kind == "payment" and n >= 4 and _NUMBER.fullmatch(last):
        return _currencies(ledger)
    if kind == "payment" and n >= 4:
        return [_item(w, K.Keyword) for w in ("for", "via", "ref")]
    if kind == "credit-note" and n == 4 and last == "for":
        return _open_invoices(session, today, None, open_only=False)
    if kind in ("plan", "reminded", "writeoff", "collections") and n == 2:
        return _open_invoices(session, today, None)
    if kind == "reminded" and n == 3:
        return _steps(session, done[2].value)
    if kind == "plan" and last == "installments":
        return [_item(w, K.Keyword) for w in tx.KEYWORD_VALUES["installments"]]
    if kind == "fx" and n in (2, 3):
        return _currencies(ledger)
    if kind == "expense" and n >= 4 and _NUMBER.fullmatch(last):
        return _currencies(ledger)
    if last == "tax":
        return _taxes(ledger)
    return []


def _date(word: str) -> date | None:
    try:
        return date.fromisoformat(word)
    except ValueError:
        return None


def _open_invoices(session: Session, today: date, client: str | None,
                   open_only: bool = True) -> list[t.CompletionItem]:
    rec = session.receivables(today)
    if rec is None:
        return []
    out = []
    for number, state in rec.invoices.items():
        if client is not None and state.client != client:
            continue
        if open_only and state.outstanding <= 0:
            continue
        detail = f"{state.client} · {fmt_grouped(state.outstanding, state.currency)} {state.currency} outstanding"
        out.append(t.CompletionItem(label=number, kind=t.CompletionItemKind.Reference, detail=detail))
    return out


def _steps(session: Session, invoice: str) -> list[t.CompletionItem]:
    ledger = session.ledger
    if ledger is None:
        return []
    inv = session.invoice(invoice)
    client = ledger.clients.get(inv.client) if inv else None
    policies = list(ledger.policies.values())
    if client is not None and client.reminders in ledger.policies:
        policies = [ledger.policies[client.reminders]]
    names = dict.fromkeys(s.name for p in policies for s in p.steps)
    return [_item(n if re.fullmatch(r"[a-z0-9][a-z0-9_-]*", n) else f'"{n}"', t.CompletionItemKind.EnumMember,
                  "reminder step") for n in names]


def _taxes(ledger: m.Ledger | None) -> list[t.CompletionItem]:
    names: dict[str, None] = {}
    if ledger is not None:
        taxes = [c.tax for c in ledger.clients.values()] + [s.tax for s in ledger.sows.values()]
        for tax in taxes:
            if tax is not None and tax.name:
                names.setdefault(tax.name)
    K = t.CompletionItemKind
    return [_item(n, K.Constant, "tax") for n in names] + \
        [_item(w, K.Keyword) for w in ("exempt", "reverse-charge")]


def _currencies(ledger: m.Ledger | None) -> list[t.CompletionItem]:
    used: dict[str, None] = {}
    if ledger is not None:
        if ledger.company is not None:
            used.setdefault(ledger.company.currency)
        for c in ledger.clients.values():
            if c.currency:
                used.setdefault(c.currency)
    rest = sorted(CURRENCIES - set(used))
    K = t.CompletionItemKind
    return [t.CompletionItem(label=c, kind=K.Unit, sort_text=f"0{c}") for c in used] + \
        [t.CompletionItem(label=c, kind=K.Unit, sort_text=f"1{c}") for c in rest]


# ---------------------------------------------------------------------- hover
def _money(value: Decimal, currency: str) -> str:
    return f"{fmt_grouped(value, currency)} {currency}"


def hover(session: Session, path: str, text: str, pos: t.Position, today: date) -> t.Hover | None:
    lines = lines_of(text)
    if pos.line >= len(lines):
        return None
    line = lines[pos.line]
    col = from_utf16(line, pos.character)
    role = tx.role_at(lines, pos.line, col)
    body = None
    if role is not None:
        if role.kind == "invoice":
            body = _hover_invoice(session, role.name, today)
        elif role.kind == "sow":
            body = _hover_sow(session, role.name)
        elif role.kind == "client":
            body = _hover_client(session, role.name, today)
    if body is None:
        toks = tx.tokens(line)
        if tx.kind_of(toks) == "time" and tx.is_header(line) and session.ledger is not None:
            entry = session.entry_at(session.ledger.times, path, pos.line + 1)
            if entry is not None:
                body = _hover_time(session, entry)
    if body is None:
        return None
    rg = rng(lines, pos.line, role.start, role.end) if role is not None else None
    return t.Hover(contents=t.MarkupContent(kind=t.MarkupKind.Markdown, value=body), range=rg)


def _hover_invoice(session: Session, number: str, today: date) -> str | None:
    analysis = session.analysis
    if analysis is None:
        return None
    doc = analysis.books.invoices.get(number)
    if doc is None:
        return None
    cur = doc.currency
    rec = session.receivables(today)
    state = rec.invoices.get(number) if rec is not None else None
    rows = [("date", str(doc.date)), ("due", str(doc.due)), ("net", _money(doc.net, cur)),
            ("tax", _money(doc.tax, cur)), ("total", _money(doc.total, cur))]
    if state is not None:
        rows += [("paid", _money(state.paid, cur)), ("credited", _money(state.credited, cur)),
                 ("outstanding", _money(state.outstanding, cur))]
        status = state.status
        if status == "overdue":
            status += f", {(today - doc.due).days} days"
    else:
        status = "not issued yet (dated after today)"
    rows.append((f"status as of {today}", status))
    title = f"**invoice {number}** · {doc.invoice.client}"
    return title + "\n\n" + _table(rows)


def _table(rows: list[tuple[str, str]]) -> str:
    return "| | |\n|---|---:|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows)


def _pricing(sow: m.Sow) -> str:
    p = sow.pricing
    if p is None:
        return "no pricing line"
    cur = p.amount.currency or ""
    if p.kind == "hourly":
        inc = f", increment {sow.increment}m" if sow.increment != 1 else ""
        return f"hourly {p.amount.value} {cur}/h{inc}".replace(" /h", "/h")
    if p.kind == "retainer":
        return f"retainer {p.amount.value} {cur} {p.frequency}"
    if p.kind == "value":
        return f"value {p.percent}% of {p.amount.value} {cur} = fee {sow_fee(sow)} {cur}"
    return f"fixed {p.amount.value} {cur}"


def _hover_sow(session: Session, ref: str) -> str | None:
    ledger = session.ledger
    sow = ledger.sows.get(ref) if ledger else None
    if sow is None or ledger is None:
        return None
    client = ledger.clients.get(sow.client)
    currency = (sow.pricing.amount.currency if sow.pricing else None) or \
        (client.currency if client and client.currency else None) or \
        (ledger.company.currency if ledger.company else "USD")
    rows = [("pricing", _pricing(sow))]
    if sow.period is not None:
        rows.append(("period", f"{sow.period.start} .. {sow.period.end}"))
    minutes = Decimal(0)
    hourly = sow.pricing is not None and sow.pricing.kind == "hourly"
    rate = sow.pricing.amount.value if sow.pricing is not None else Decimal(0)
    for e in session.times_of(ref):
        if e.billable and hourly:
            minutes += round_up(e.minutes, sow.increment)
    if hourly:
        rows.append(("billable time", fmt_hours(minutes)))
    if sow.cap is not None:
        if sow.cap.minutes is not None:
            share = _share(minutes, sow.cap.minutes)
            rows.append(("budget used", f"{fmt_hours(minutes)} of {fmt_hours(sow.cap.minutes)} ({share})"))
        elif sow.cap.amount is not None:
            used = minutes * rate / 60 if hourly else Decimal(0)
            for x in ledger.expenses:
                if x.sow == ref and x.billable:
                    used += x.amount.value * (1 + (x.markup or 0) / Decimal(100))
            used = round_money(used, currency)
            cap = sow.cap.amount.value
            rows.append(("budget used", f"{_money(used, currency)} of {_money(cap, currency)} ({_share(used, cap)})"))
    billed = Decimal(0)
    for doc in session.analysis.books.invoices.values() if session.analysis else ():
        if ref in doc.sows:
            billed += sum((ln.amount for ln in doc.lines if ln.sow == ref), Decimal(0))
    rows.append(("billed on invoices", _money(billed, currency)))
    return f"**SOW {ref}** · {sow.title}\n\n" + _table(rows)


def _share(used: Decimal, cap: Decimal) -> str:
    return f"{(used * 100 / cap).quantize(Decimal(1))}%" if cap else "-"


def _hover_client(session: Session, client_id: str, today: date) -> str | None:
    ledger = session.ledger
    client = ledger.clients.get(client_id) if ledger else None
    if client is None or ledger is None:
        return None
    rec = session.receivables(today)
    rows = [("currency", client.currency or (ledger.company.currency if ledger.company else "")),
            ("terms", f"{client.terms.kind} {client.terms.days}".replace("due-on-receipt 0", "due-on-receipt"))]
    if rec is not None:
        balance: dict[str, Decimal] = {}
        for state in rec.invoices.values():
            if state.client == client_id and state.outstanding > 0 and state.writeoff is None:
                balance[state.currency] = balance.get(state.currency, Decimal(0)) + state.outstanding
        for (cid, cur), credit in rec.credit.items():
            if cid == client_id and credit:
                balance[cur] = balance.get(cur, Decimal(0)) - credit
        rows.append((f"balance as of {today}", ", ".join(_money(v, c) for c, v in sorted(balance.items()))
                     or "0.00"))
        late = [d for d in overdue(rec, ledger.company) if d.state.client == client_id]
        if late:
            per: dict[str, Decimal] = {}
            for d in late:
                per[d.state.currency] = per.get(d.state.currency, Decimal(0)) + d.outstanding
            oldest = max(d.days_overdue for d in late)
            numbers = ", ".join(dict.fromkeys(d.state.number for d in late))
            amounts = ", ".join(_money(v, c) for c, v in sorted(per.items()))
            rows.append(("overdue", f"{amounts} ({numbers}; oldest {oldest} days)"))
        else:
            rows.append(("overdue", "nothing"))
    return f"**client {client_id}** · {client.name}\n\n" + _table(rows)


def _hover_time(session: Session, entry: m.TimeEntry) -> str | None:
    ledger, analysis = session.ledger, session.analysis
    if ledger is None or analysis is None:
        return None
    sow = ledger.sows.get(entry.sow)
    rows = [("time", fmt_hours(entry.minutes))]
    if not entry.billable:
        rows.append(("billable", "no (nonbillable)"))
    if sow is not None and sow.pricing is not None and sow.pricing.kind == "hourly":
        billed = round_up(entry.minutes, sow.increment)
        rate = sow.pricing.amount
        client = ledger.clients.get(sow.client)
        cur = rate.currency or (client.currency if client else None) or \
            (ledger.company.currency if ledger.company else "USD")
        rows.append((f"billed after the {sow.increment}m increment",
                     f"{fmt_hours(billed)} ({billed} min)"))
        amount = _money(round_money(billed * rate.value / 60, cur), cur)
    else:
        amount = None
    number = analysis.books.billed.get(("time", id(entry))) if entry.billable else None
    if number is not None:
        doc = analysis.books.invoices.get(number)
        line = next((ln for ln in doc.lines if entry.span in ln.sources), None) if doc else None
        if line is not None and doc is not None:
            amount = _money(line.amount, doc.currency)  # as invoiced: converted where the currencies differ
    if amount is not None and entry.billable:
        rows.append(("amount", amount))
    if number is not None:
        rows.append(("invoice", number))
    elif entry.billable:
        rows.append(("invoice", "not invoiced yet"))
    return f"**time entry** {entry.date} · {entry.sow}\n\n" + _table(rows)


# ---------------------------------------------------------------------- navigation
def definition(session: Session, text: str, pos: t.Position) -> t.Location | None:
    lines = lines_of(text)
    if pos.line >= len(lines):
        return None
    role = tx.role_at(lines, pos.line, from_utf16(lines[pos.line], pos.character))
    if role is None:
        return None
    if role.kind == "step":
        return None
    return definition_of(session, role.name, role.kind)


def references(session: Session, text: str, pos: t.Position, include_declaration: bool) -> list[t.Location]:
    lines = lines_of(text)
    if pos.line >= len(lines):
        return []
    role = tx.role_at(lines, pos.line, from_utf16(lines[pos.line], pos.character))
    if role is None:
        return []
    kinds = {role.kind} | ({"invoice", "credit"} if role.kind in ("invoice", "credit") else set())
    out = []
    for path in session.files():
        file_text = session.text(path)
        if file_text is None:
            continue
        file_lines = None
        for row, r in session.roles(path):
            if r.name == role.name and r.kind in kinds and (include_declaration or not r.is_definition):
                file_lines = file_lines or lines_of(file_text)
                out.append(t.Location(uri_of(path), rng(file_lines, row, r.start, r.end)))
    return out


# ---------------------------------------------------------------------- symbols
_SYMBOL_KINDS = MappingProxyType({"company": t.SymbolKind.Namespace, "client": t.SymbolKind.Class, "sow": t.SymbolKind.Module,
                 "reminders": t.SymbolKind.Enum, "invoice": t.SymbolKind.Object,
                 "credit-note": t.SymbolKind.Object})


def document_symbols(text: str) -> list[t.DocumentSymbol]:
    """An outline of the blocks (company, clients, SOWs, policies) and the documents of a buffer."""
    lines = lines_of(text)
    out = []
    for row, line in enumerate(lines):
        if not tx.is_header(line):
            continue
        toks = tx.tokens(line)
        kind = tx.kind_of(toks)
        if kind not in _SYMBOL_KINDS:
            continue
        i = 2 if tx.DATE.fullmatch(toks[0].text) else 1
        if len(toks) <= i:
            continue
        name = toks[i]
        detail = " ".join(x.text for x in toks[i + 1:])[:80] or None
        if tx.DATE.fullmatch(toks[0].text):
            detail = f"{kind} {toks[0].text}" + (f" · {detail}" if detail else "")
        else:
            detail = kind + (f" · {detail}" if detail else "")
        last = tx.block_end(lines, row)
        full = t.Range(t.Position(row, 0), t.Position(last, utf16(lines[last], len(lines[last]))))
        out.append(t.DocumentSymbol(name=name.value, kind=_SYMBOL_KINDS[kind], range=full,
                                    selection_range=rng(lines, row, name.start, name.end), detail=detail))
    return out


def workspace_symbols(session: Session, query: str) -> list[t.WorkspaceSymbol]:
    ledger = session.ledger
    if ledger is None:
        return []
    q = query.lower()
    found: list[tuple[str, t.SymbolKind, object]] = []
    found += [(c.id, t.SymbolKind.Class, c) for c in ledger.clients.values()]
    found += [(s.ref, t.SymbolKind.Module, s) for s in ledger.sows.values()]
    found += [(p.id, t.SymbolKind.Enum, p) for p in ledger.policies.values()]
    found += [(i.number, t.SymbolKind.Object, i) for i in ledger.invoices]
    found += [(c.number, t.SymbolKind.Object, c) for c in ledger.credit_notes]
    out = []
    for name, kind, node in found:
        if q and q not in name.lower():
            continue
        span = node.span  # type: ignore[attr-defined]
        row = span.line - 1
        where = t.Location(uri_of(path_of(span.file)), t.Range(t.Position(row, 0), t.Position(row, 0)))
        out.append(t.WorkspaceSymbol(name=name, kind=kind, location=where))
        if len(out) >= 500:
            break
    return out


# ---------------------------------------------------------------------- formatting, actions, hints
def formatting(text: str, name: str) -> list[t.TextEdit] | None:
    """The whole buffer in `textbill fmt`'s layout; None when it does not parse."""
    result, _ = format_text(text, name)
    if result is None:
        return None
    if result == text:
        return []
    lines = lines_of(text)
    end = t.Position(len(lines) - 1, utf16(lines[-1], len(lines[-1])))
    return [t.TextEdit(t.Range(t.Position(0, 0), end), result)]


def code_actions(uri: str, text: str, diagnostics: list[t.Diagnostic]) -> list[t.CodeAction]:
    out: list[t.CodeAction] = []
    lines = lines_of(text)
    for d in diagnostics:
        data = d.data if isinstance(d.data, dict) else {}
        guess = data.get("replace") or (_DID_YOU_MEAN.search(d.message or "") or [None, None])[1]
        if guess:
            out.append(t.CodeAction(title=f"Replace with '{guess}'", kind=t.CodeActionKind.QuickFix,
                                    diagnostics=[d], is_preferred=True,
                                    edit=t.WorkspaceEdit(changes={uri: [t.TextEdit(d.range, guess)]})))
        if d.code == "E018":
            row = d.range.start.line
            out.append(t.CodeAction(title="Indent this attribute under the block above",
                                    kind=t.CodeActionKind.QuickFix, diagnostics=[d], is_preferred=True,
                                    edit=t.WorkspaceEdit(changes={uri: [t.TextEdit(
                                        t.Range(t.Position(row, 0), t.Position(row, 0)), "  ")]})))
        fx = data.get("fx") or (_FX_HINT.search(d.message or "") or [None, None])[1]
        if d.code == "E150" and fx:
            row = d.range.start.line
            while row > 0 and row < len(lines) and not tx.is_header(lines[row]):
                row -= 1
            line = f"{fx} RATE  ; the rate: 1 {fx.split()[2]} in {fx.split()[3]}\n"
            out.append(t.CodeAction(title=f"Add an fx rate line ({' '.join(fx.split()[2:])}); fill in RATE",
                                    kind=t.CodeActionKind.QuickFix, diagnostics=[d],
                                    edit=t.WorkspaceEdit(changes={uri: [t.TextEdit(
                                        t.Range(t.Position(row, 0), t.Position(row, 0)), line)]})))
        if d.code == "W172":
            out.append(_lock_action([d]))
    if not any(a.command is not None for a in out):
        out.append(_lock_action(None))
    return out


def _lock_action(diagnostics) -> t.CodeAction:
    return t.CodeAction(title="Lock every issued document (textbill lock)", kind=t.CodeActionKind.Source,
                        diagnostics=diagnostics,
                        command=t.Command(title="textbill lock", command=LOCK_COMMAND))


def inlay_hints(session: Session, path: str, text: str, visible: t.Range) -> list[t.InlayHint]:
    """After each `invoice` header line: its total."""
    analysis = session.analysis
    if analysis is None:
        return []
    lines = lines_of(text)
    out = []
    for row in range(visible.start.line, min(visible.end.line + 1, len(lines))):
        line = lines[row]
        if not tx.is_header(line):
            continue
        toks = tx.tokens(line)
        if tx.kind_of(toks) != "invoice" or len(toks) < 3:
            continue
        doc = analysis.books.invoices.get(toks[2].value)
        if doc is None:
            continue
        out.append(t.InlayHint(position=t.Position(row, utf16(line, len(line))),
                               label=f" = {_money(doc.total, doc.currency)}", padding_left=True,
                               kind=t.InlayHintKind.Type))
    return out
