"""Account names of the exported books that two things would share (docs/commands.md, "textbill export").

`textbill check` runs these when textbill.yaml has an `export:` section; `textbill export`
runs them always, and writes nothing while they find a problem.
"""
from __future__ import annotations

from collections.abc import Iterator

from textbill.core import model as m
from textbill.core.accounts import client_component, tax_component
from textbill.core.diagnostics import Diagnostic, error
from textbill.core.source import Span


def check_export_accounts(ledger: m.Ledger) -> list[Diagnostic]:
    """E131 two clients, E132 two tax treatments, that would share one account."""
    return [*_client_collisions(ledger), *_tax_collisions(ledger)]


def check_if_configured(ledger: m.Ledger) -> list[Diagnostic]:
    """The export's account checks, for `textbill check`, when textbill.yaml configures `export:`."""
    return check_export_accounts(ledger) if "export" in ledger.config.extra else []


def _client_collisions(ledger: m.Ledger) -> Iterator[Diagnostic]:
    seen: dict[str, m.Client] = {}
    for client in ledger.clients.values():
        name = client_component(client.id)
        first = seen.setdefault(name, client)
        if first is not client:
            yield error(client.span, "E131", f"clients '{first.id}' ({first.span.short}) and '{client.id}' "
                        f"would share the account '{name}' in the exported books",
                        "rename one of the two client ids: an account name has no '_' (Beancount), "
                        "so it becomes '-'",
                        focus=client.id)


def _taxes(ledger: m.Ledger) -> Iterator[tuple[m.Tax, Span]]:
    for client in ledger.clients.values():
        if client.tax is not None:
            yield client.tax, client.span
    for sow in ledger.sows.values():
        if sow.tax is not None:
            yield sow.tax, sow.span
    for inv in ledger.invoices:
        for thing in (*inv.items, *inv.adjustments):
            if thing.tax is not None:
                yield thing.tax, thing.span


def _tax_collisions(ledger: m.Ledger) -> Iterator[Diagnostic]:
    seen: dict[str, tuple[m.Tax, Span]] = {}
    for tax, span in _taxes(ledger):
        if tax.kind != "rate":
            continue  # exempt and reverse-charge are one account each, whatever the reason given
        name = tax_component(tax)
        first, where = seen.setdefault(name, (tax, span))
        if (first.name, first.percent) != (tax.name, tax.percent):
            yield error(span, "E132", f"taxes '{first.label}' ({where.short}) and '{tax.label}' would share "
                        f"the account '{name}' in the exported books",
                        "name the taxes so that they differ in more than case or punctuation", focus=tax.name)
