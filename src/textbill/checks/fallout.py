"""The fallout of broken input: what depends on a directive that failed to parse.

A directive with an error is left out of the model, or kept with a value the
parser recovered (an attribute that lost its indentation).  The parser names
what each one declares or feeds (`Ledger.broken`, syntax.parser.salvage_names);
from those names this module says which documents, accounts and entries are
computed from missing or guessed input.  A check that would report only a
consequence of the slip -- a locked document whose total fell to 0.00, an
overpayment of an invoice that lost its lines -- asks here first and keeps
quiet: one slip gives one error, on the slipped line.

A document number written in another form than the company's pattern
(`FV/2026/003` for `FV/2026/0003`) is the same kind of slip: E140 says so, and
what refers to the number it means (a payment, the lock) is not reported too.
"""
from __future__ import annotations

from collections.abc import Iterable

from textbill.core import model as m
from textbill.core.diagnostics import Diagnostic
from textbill.core.money import Amount
from textbill.core.numbering import numbering_patterns

# codes of the engine that can report a consequence of missing or guessed input, and what the
# directive they are located at must depend on for them to be one
_DOCUMENT = frozenset({"E152", "E156", "E160"})  # a document's total or items
_ACCOUNT = frozenset({"W154", "W164"})  # what a client owes
_BILLING = frozenset({"W161"})  # which items the client's invoices take
_FX = frozenset({"E150", "W152"})  # the rates
_EFFECTS = _DOCUMENT | _ACCOUNT | _BILLING | _FX


def _names(broken: Iterable[tuple[str, str]], *kinds: str) -> frozenset[str]:
    return frozenset(name for kind, name in broken if kind in kinds)


class Fallout:
    """What in a ledger is computed from input that failed to parse (nothing, for a clean ledger)."""

    def __init__(self, ledger: m.Ledger):
        broken = ledger.broken
        self.ledger = ledger
        # a file that cannot be read hides any directive; a broken company is every document's seller
        self.unreadable = any(kind == "unreadable" for kind, _ in broken)
        self.everything = self.unreadable or any(kind == "company" for kind, _ in broken)
        self.clients = _names(broken, "client", "billing")
        self.refs = _names(broken, "sow", "entry")
        self.documents = _names(broken, "document")
        self.pairs = tuple(frozenset(p.split("/")) for p in _names(broken, "fx"))
        self._invoices: dict[str, m.Invoice] = {}
        for inv in ledger.invoices:
            self._invoices.setdefault(inv.number, inv)
        self._touched: dict[str, bool] = {}
        self.accounts: frozenset[str] = frozenset()
        if not broken:
            return
        accounts = set(_names(broken, "account")) | self.clients
        for number in _names(broken, "settles") | self.documents:
            inv = self._invoices.get(number)
            if inv is not None:
                accounts.add(inv.client)
        accounts.update(inv.client for n, inv in self._invoices.items() if self.invoice(n))
        self.accounts = frozenset(accounts)

    def __bool__(self) -> bool:
        return bool(self.ledger.broken)

    # ------------------------------------------------------------------ documents
    def invoice(self, number: str) -> bool:
        """Whether invoice `number` is computed from missing or guessed input."""
        found = self._touched.get(number)
        if found is None:
            inv = self._invoices.get(number)
            found = self._touched[number] = inv is None or self._invoice_inputs(inv)
        return found

    def _invoice_inputs(self, inv: m.Invoice) -> bool:
        if self.everything or inv.client in self.clients:
            return True
        if inv.sows:
            refs = {s if "/" in s else f"{inv.client}/{s}" for s in inv.sows}
        else:
            refs = {r for r in self.refs if r.split("/", 1)[0] == inv.client}
        if refs & self.refs:
            return True
        return self._rated(self._currencies(inv))

    def _currencies(self, node) -> set[str]:
        """The currencies a directive's figures are converted between."""
        ledger = self.ledger
        if isinstance(node, m.CreditNote):
            inv = self._invoices.get(node.invoice)
            node = inv if inv is not None else node
        client = getattr(node, "client", None)
        out = {ledger.client_currency(client)} if isinstance(client, str) else set()
        amount = getattr(node, "amount", None)
        if isinstance(amount, Amount) and amount.currency:
            out.add(amount.currency)
        if isinstance(node, m.Invoice):
            refs = {s if "/" in s else f"{node.client}/{s}" for s in node.sows or ()}
            for ref, sow in ledger.sows.items():
                if (ref in refs or not refs and sow.client == node.client) and sow.pricing is not None \
                        and sow.pricing.amount.currency:
                    out.add(sow.pricing.amount.currency)
        return out

    def _rated(self, currencies: set[str]) -> bool:
        return any(pair & currencies for pair in self.pairs)

    def document(self, number: str, kind: str = "invoice", invoice: str | None = None) -> bool:
        """Whether a document is computed from missing or guessed input (a credit note: `invoice`,
        the number it corrects)."""
        if kind == "invoice":
            return self.invoice(number)
        return self.everything or number in self.documents or invoice is None or self.invoice(invoice)

    # ------------------------------------------------------------------ directives
    def depends(self, node, code: str) -> bool:
        """Whether diagnostic `code` at directive `node` may be a consequence of broken input."""
        if self.everything:
            return True
        if code in _DOCUMENT:
            if isinstance(node, m.Invoice):
                return self.invoice(node.number)
            if isinstance(node, m.CreditNote):
                return self.document(node.number, "credit-note", node.invoice)
            return False
        if code in _ACCOUNT:
            if isinstance(node, m.Payment):
                return node.client in self.accounts
            invoice = getattr(node, "invoice", None)
            if isinstance(invoice, str):
                inv = self._invoices.get(invoice)
                return inv is None or inv.client in self.accounts
            return False
        if code in _BILLING:
            ref = getattr(node, "sow", None) if not isinstance(node, m.Sow) else node.ref
            return isinstance(ref, str) and (ref.split("/", 1)[0] in self.clients or ref in self.refs)
        if code in _FX:
            return self._rated(self._currencies(node))
        return False


def meant_numbers(ledger: m.Ledger) -> dict[str, str]:
    """Document numbers that break their pattern only in form (`FV/2026/003`, E140): the number
    each one means (the pattern's form, of its own date) -> the number as written.  None is
    meant where a document already has that number, or where the year or month differ from the
    document's date (a wrong number or a wrong date: E140 cannot tell which)."""
    patterns = numbering_patterns(ledger)
    written = {d.number for d in (*ledger.invoices, *ledger.credit_notes)}
    out: dict[str, str] = {}
    for kind, docs in (("invoice", ledger.invoices), ("credit note", ledger.credit_notes)):
        pattern = patterns[kind]
        if isinstance(pattern, ValueError):
            continue
        for doc in docs:
            parts = pattern.parse(doc.number)
            if parts is None or parts["seq"] < 1 or parts.get("year", doc.date.year) != doc.date.year \
                    or parts.get("yy", doc.date.year % 100) != doc.date.year % 100 \
                    or parts.get("month", doc.date.month) != doc.date.month:
                continue
            meant = pattern.format(doc.date, parts["seq"])
            if meant != doc.number and meant not in written:
                out.setdefault(meant, doc.number)
    return out


def without_fallout(ledger: m.Ledger, diags: list[Diagnostic]) -> list[Diagnostic]:
    """The engine's diagnostics less those that only report a consequence of broken input."""
    fallout = Fallout(ledger)
    if not fallout:
        return diags
    at: dict[tuple[str, int], object] = {}
    for d in ledger.directives:
        at.setdefault((d.span.file, d.span.line), d)
    out = []
    for d in diags:
        if d.span is not None and d.code in _EFFECTS:
            node = at.get((d.span.file, d.span.line))
            if node is not None and fallout.depends(node, d.code):
                continue
        out.append(d)
    return out
