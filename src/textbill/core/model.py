"""The ledger model: frozen dataclasses, one per directive, each knowing its span."""
from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import TypeAlias

from textbill.core.money import Amount
from textbill.core.source import Span

_NO_SPAN = Span("<none>", 0)


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end

    def __str__(self) -> str:
        return f"{self.start} .. {self.end}"


@dataclass(frozen=True, slots=True)
class Tax:
    """A tax treatment: `rate` (name + percent), `exempt` (reason), `reverse-charge`, or `none`."""

    kind: str
    name: str = ""
    percent: Decimal = Decimal(0)
    reason: str = ""

    @property
    def key(self) -> tuple:
        return (self.kind, self.name, self.percent, self.reason)

    @property
    def label(self) -> str:
        if self.kind == "rate":
            return f"{self.name} {self.percent.normalize():f}%"
        if self.kind == "exempt":
            return "exempt"
        if self.kind == "reverse-charge":
            return "reverse charge"
        return "no tax"


NO_TAX = Tax("none")


@dataclass(frozen=True, slots=True)
class Terms:
    kind: str  # net | eom | due-on-receipt
    days: int = 0

    def __str__(self) -> str:
        if self.kind == "due-on-receipt":
            return "due on receipt"
        return f"{self.kind} {self.days}"


NET_30 = Terms("net", 30)


@dataclass(frozen=True, slots=True)
class Bank:
    name: str
    iban: str | None = None
    bic: str | None = None
    account: str | None = None
    routing: str | None = None


@dataclass(frozen=True, slots=True)
class Company:
    id: str
    name: str
    address: str = ""
    country: str | None = None
    email: str | None = None
    phone: str | None = None
    website: str | None = None
    tax_id: str | None = None
    bank: Bank | None = None
    currency: str = "USD"
    locale: str | None = None  # None: textbill.yaml locale, else en
    numbering: str = "INV-{year}-{seq:04}"
    credit_numbering: str = "CN-{year}-{seq:04}"
    payment_methods: tuple[str, ...] = ()
    late_interest: Decimal | None = None  # yearly percent
    late_fee: Amount | None = None
    logo: str | None = None
    fields: tuple[tuple[str, str], ...] = ()
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)
    reference: str | None = None  # "rf": an ISO 11649 creditor reference per invoice (core/payref.py)
    peppol: str | None = None  # Peppol participant id "SCHEME:ID" (section 8)


@dataclass(frozen=True, slots=True)
class Client:
    id: str
    name: str
    address: str = ""
    country: str | None = None
    contact: str | None = None
    contact_email: str | None = None
    email: str | None = None
    phone: str | None = None
    tax_id: str | None = None
    currency: str | None = None
    locale: str | None = None
    terms: Terms = NET_30
    tax: Tax | None = None
    discount: Decimal | None = None  # percent
    reminders: str | None = None  # policy id, "off", or None for the default
    fields: tuple[tuple[str, str], ...] = ()
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)
    ibans: tuple[str, ...] = ()  # accounts the client pays from, as written (bank import matches them)
    iban_spans: tuple[Span, ...] = field(default=(), compare=False, repr=False)
    peppol: str | None = None  # Peppol participant id "SCHEME:ID" (section 8)
    buyer_reference: str | None = None  # BT-10, e.g. a Leitweg-ID
    split_payment: bool = False  # Polish split payment (MPP) on every invoice


@dataclass(frozen=True, slots=True)
class Milestone:
    name: str
    percent: Decimal | None = None
    amount: Amount | None = None
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Pricing:
    kind: str  # hourly | fixed | retainer | value
    amount: Amount  # rate, fee, retainer, or the value basis amount
    frequency: str | None = None  # retainer: monthly | quarterly | yearly
    percent: Decimal | None = None  # value: PCT of amount
    basis: str = ""


@dataclass(frozen=True, slots=True)
class RoleRate:
    """`rate ROLE AMOUNT` on an hourly SOW: what an hour of a person of that role costs."""

    role: str
    amount: Amount
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Person:
    """Someone who tracks time (`person ID "Name"`, with `role` and `email`)."""

    id: str
    name: str
    role: str | None = None
    email: str | None = None
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Sent:
    """`DATE sent SOWREF`: the SOW went out to the client as a proposal."""

    date: date
    sow: str
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Accepted:
    """`DATE accepted SOWREF "signer" [ref "..."]`: the client accepted the SOW; its terms lock."""

    date: date
    sow: str
    signer: str
    ref: str | None = None
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Cap:
    minutes: Decimal | None = None
    amount: Amount | None = None


@dataclass(frozen=True, slots=True)
class Sow:
    client: str
    id: str
    title: str
    period: Period | None = None
    pricing: Pricing | None = None
    increment: Decimal = Decimal(1)  # minutes
    cap: Cap | None = None
    tax: Tax | None = None
    schedule: str | None = None
    milestones: tuple[Milestone, ...] = ()
    deliverables: tuple[str, ...] = ()
    po: str | None = None
    fields: tuple[tuple[str, str], ...] = ()
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)
    rates: tuple[RoleRate, ...] = ()  # per-role hourly rates

    @property
    def ref(self) -> str:
        return f"{self.client}/{self.id}"

    def rate_of(self, role: str | None) -> RoleRate | None:
        """The rate this SOW sets for a role, if any (the first line naming it)."""
        if role is None:
            return None
        return next((r for r in self.rates if r.role == role), None)


@dataclass(frozen=True, slots=True)
class Step:
    offset: int  # days relative to the due date
    name: str
    late_fee: bool = False
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    id: str
    steps: tuple[Step, ...] = ()
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class TimeEntry:
    date: date
    sow: str  # client/sow
    minutes: Decimal
    description: str = ""
    clock: tuple[str, str] | None = None
    tags: tuple[str, ...] = ()
    billable: bool = True
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)
    person: str | None = None  # `by PERSON`; None: the company's own time (the default rate)


@dataclass(frozen=True, slots=True)
class Expense:
    date: date
    sow: str
    amount: Amount
    description: str = ""
    markup: Decimal | None = None  # percent
    tags: tuple[str, ...] = ()
    billable: bool = True
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Done:
    date: date
    sow: str
    milestone: str
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Item:
    description: str
    quantity: Decimal
    price: Amount
    tax: Tax | None = None
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Adjustment:
    """An invoice discount (allowance) or charge (fee): a percent or a fixed amount."""

    kind: str  # discount | charge
    percent: Decimal | None = None
    amount: Amount | None = None
    reason: str = ""
    tax: Tax | None = None
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Invoice:
    date: date
    number: str
    client: str
    sows: tuple[str, ...] | None = None  # sow ids of the client; None: all
    period: Period | None = None
    items: tuple[Item, ...] = ()
    adjustments: tuple[Adjustment, ...] = ()
    due: datetime.date | None = None  # the class's own `date` is the invoice's field
    notes: tuple[str, ...] = ()
    po: str | None = None
    fields: tuple[tuple[str, str], ...] = ()
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)
    buyer_reference: str | None = None  # BT-10: overrides the client's
    split_payment: bool = False  # Polish split payment (MPP), also when the client is not marked
    ksef_number: str | None = None  # the KSeF number of the sent invoice, as the user recorded it


@dataclass(frozen=True, slots=True)
class Payment:
    date: date
    client: str
    amount: Amount
    invoices: tuple[str, ...] = ()
    via: str | None = None
    ref: str | None = None
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class CreditNote:
    date: date
    number: str
    invoice: str
    amount: Amount | None  # None: the whole invoice ("full")
    reason: str = ""
    notes: tuple[str, ...] = ()
    fields: tuple[tuple[str, str], ...] = ()
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)
    ksef_number: str | None = None  # the KSeF number of the sent credit note


@dataclass(frozen=True, slots=True)
class Plan:
    date: date
    invoice: str
    count: int
    unit: str  # weekly | biweekly | monthly | quarterly | yearly | days
    every: int = 1  # for unit == "days"
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Reminded:
    date: date
    invoice: str
    step: str
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class WriteOff:
    date: date
    invoice: str
    reason: str = ""
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Collections:
    date: date
    invoice: str
    agency: str = ""
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Fx:
    date: date
    base: str
    quote: str
    rate: Decimal
    span: Span = field(default=_NO_SPAN, compare=False, repr=False)


Directive: TypeAlias = (
    Company | Client | Sow | ReminderPolicy | TimeEntry | Expense | Done | Invoice
    | Payment | CreditNote | Plan | Reminded | WriteOff | Collections | Fx
    | Person | Sent | Accepted
)


@dataclass(frozen=True)
class Config:
    """textbill.yaml: build settings only."""

    out: str = "build"
    theme: str = "default"
    formats: tuple[str, ...] = ("html", "pdf")
    locale: str | None = None
    smtp: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    extra: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    spans: Mapping[str, Span] = field(default_factory=lambda: MappingProxyType({}), compare=False)


@dataclass(frozen=True)
class Ledger:
    """Every directive of a ledger, grouped by kind, in source order."""

    root: str
    company: Company | None
    clients: Mapping[str, Client]
    sows: Mapping[str, Sow]  # by "client/sow"
    policies: Mapping[str, ReminderPolicy]
    times: tuple[TimeEntry, ...] = ()
    expenses: tuple[Expense, ...] = ()
    dones: tuple[Done, ...] = ()
    invoices: tuple[Invoice, ...] = ()
    payments: tuple[Payment, ...] = ()
    credit_notes: tuple[CreditNote, ...] = ()
    plans: tuple[Plan, ...] = ()
    reminded: tuple[Reminded, ...] = ()
    writeoffs: tuple[WriteOff, ...] = ()
    collections: tuple[Collections, ...] = ()
    fxs: tuple[Fx, ...] = ()
    directives: tuple[Directive, ...] = ()  # every directive, in file then source order
    config: Config = field(default_factory=Config)
    files: tuple[str, ...] = ()
    broken: frozenset = frozenset()  # ids named by directives that failed to parse
    people: Mapping[str, Person] = field(default_factory=lambda: MappingProxyType({}))
    sents: tuple[Sent, ...] = ()
    accepteds: tuple[Accepted, ...] = ()

    def uses_agreements(self) -> bool:
        """Whether any SOW was sent or accepted: only then is billing an unaccepted SOW a warning."""
        return bool(self.sents or self.accepteds)

    def acceptance(self, ref: str) -> Accepted | None:
        """The first `accepted` entry of a SOW (by date), if any."""
        found = [a for a in self.accepteds if a.sow == ref]
        return min(found, key=lambda a: a.date) if found else None

    def client_currency(self, client_id: str) -> str:
        client = self.clients.get(client_id)
        if client and client.currency:
            return client.currency
        return self.company.currency if self.company else "USD"
