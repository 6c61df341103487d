"""Account names of the exported books: the roots of `export:` in textbill.yaml, and one name per
client and per tax treatment under them.

A name is readable and the same in hledger, Beancount and CSV, so it keeps to what Beancount
accepts in an account component (`[A-Z0-9][A-Za-z0-9-]*`).  Characters that have no place
there are escaped, never dropped: the decimal point of a rate becomes `p` (`VAT 2.3%` ->
`VAT-2p3`, apart from `VAT-2 3%` -> `VAT-2-3`).  Two things can still reach one name (clients
`acme-x` and `acme_x`: Beancount has no `_`; taxes `vat` and `Vat`: a component starts with a
capital): the checks report that as an error naming both (E131, E132), and the export refuses
to merge them.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from textbill.core import model as m

# export key -> (default root, what the accounts below it hold)
ROOTS = MappingProxyType({
    "receivable": ("Assets:Receivables", "what each client owes, one account per client"),
    "income": ("Income:Sales", "revenue, one account per tax treatment"),
    "tax": ("Liabilities:Tax", "tax payable, one account per tax rate"),
    "bank": ("Assets:Bank", "where payments arrive"),
    "credit": ("Liabilities:Client-Credit", "client credit (overpayments), one account per client"),
    "writeoff": ("Expenses:Bad-Debt", "what was written off"),
})
COMPONENT = re.compile(r"[A-Z0-9][A-Za-z0-9-]*")


def valid_account(name: str) -> bool:
    """Whether name is an account both hledger and Beancount accept: Capitalised:Components."""
    return all(COMPONENT.fullmatch(part) for part in name.split(":"))


@dataclass(frozen=True)
class Accounts:
    roots: Mapping[str, str]

    def root(self, key: str) -> str:
        return self.roots[key]

    def client(self, client: str) -> str:
        return f"{self.roots['receivable']}:{client_component(client)}"

    def credit(self, client: str) -> str:
        return f"{self.roots['credit']}:{client_component(client)}"

    def income(self, tax: m.Tax) -> str:
        return f"{self.roots['income']}:{tax_component(tax)}"

    def tax(self, tax: m.Tax) -> str:
        return f"{self.roots['tax']}:{tax_component(tax)}"

    @property
    def bank(self) -> str:
        return self.roots["bank"]

    @property
    def writeoff(self) -> str:
        return self.roots["writeoff"]


def accounts_of(config: m.Config) -> Accounts:
    """The roots textbill.yaml's `export:` sets (already validated by the config loader), else the defaults."""
    found = config.extra.get("export")
    given: Mapping = found if isinstance(found, Mapping) else {}
    return Accounts(MappingProxyType({key: str(given.get(key) or default) for key, (default, _) in ROOTS.items()}))


def client_component(client: str) -> str:
    """A client id (`[a-z0-9][a-z0-9_-]*`) as an account component: `acme-x` -> `Acme-x`."""
    text = client.replace("_", "-")
    return text[:1].upper() + text[1:]


def tax_component(tax: m.Tax) -> str:
    """A tax treatment as an account component: `VAT 23%` -> `VAT-23`, `VAT 2.3%` -> `VAT-2p3`."""
    if tax.kind == "rate":
        name = re.sub(r"[^A-Za-z0-9-]", "-", tax.name)
        rate = f"{tax.percent.normalize():f}".replace(".", "p").replace("-", "minus")
        return f"{name[:1].upper()}{name[1:]}-{rate}"
    return {"exempt": "Exempt", "reverse-charge": "Reverse-Charge"}.get(tax.kind, "No-Tax")
