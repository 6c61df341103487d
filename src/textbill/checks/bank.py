"""Checks of the accounts clients pay from (`iban` on a client), which `import bank` matches on."""
from __future__ import annotations

from collections.abc import Iterable

from textbill.core import model as m
from textbill.core.diagnostics import Diagnostic, error, warning
from textbill.core.payref import compact_iban, rf_reference


def check_client_ibans(ledger: m.Ledger) -> Iterable[Diagnostic]:
    """Each client `iban` is a valid IBAN (E201), and no account is given for two clients (W260)."""
    if not any(client.ibans for client in ledger.clients.values()):
        return
    from schwifty import IBAN

    owner: dict[str, str] = {}
    for client in ledger.clients.values():
        for i, iban in enumerate(client.ibans):
            span = client.iban_spans[i] if i < len(client.iban_spans) else client.span
            try:
                IBAN(iban)
            except ValueError as exc:
                reason = str(exc).strip() or type(exc).__name__
                yield error(span, "E201", f"invalid IBAN '{iban}' of client '{client.id}': "
                            f"{reason[0].lower() + reason[1:]}",
                            "copy the IBAN from a bank statement; spaces between the groups are fine")
                continue
            key = compact_iban(iban)
            first = owner.setdefault(key, client.id)
            if first != client.id:
                yield warning(span, "W260", f"IBAN '{iban}' is given for clients '{first}' and '{client.id}'",
                              "a bank import cannot tell them apart by this account: keep it on one client")


def check_rf_references(ledger: m.Ledger) -> Iterable[Diagnostic]:
    """With `reference rf`, every invoice number gives an RF reference (W264)."""
    if ledger.company is None or ledger.company.reference != "rf":
        return
    for invoice in ledger.invoices:
        if rf_reference(invoice.number) is None:
            yield warning(invoice.span, "W264", f"invoice number '{invoice.number}' has more than 21 letters and "
                          "digits (or none), so it has no RF reference: its payment box and QR code carry none",
                          "an RF reference holds at most 21 letters and digits: shorten the numbering pattern",
                          focus=invoice.number)
