"""The books: what the engine computes from a ledger, as values that reports and render read.

Invoices and credit notes as documents (lines, tax groups, totals), the settlement replay's state
of every invoice as of a day, what is due, statements and reminders.  Types only: the engine
(textbill.engine) computes them.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from textbill.core import model as m
from textbill.core.diagnostics import Diagnostic
from textbill.core.money import ZERO, Amount
from textbill.core.source import Span

BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")


@dataclass(frozen=True)
class Due:
    """What is still owed on one invoice, or on one installment of its plan."""

    state: InvoiceState
    installment: int | None
    due: date
    outstanding: Decimal
    days_overdue: int
    bucket: str
    late_interest: Decimal | None

    @property
    def number(self) -> str:
        return self.state.number


@dataclass(frozen=True)
class OverdueTotals:
    """Sums of the overdue report: additions of amounts already rounded, never across currencies."""

    by_currency: dict[str, dict[str, Decimal]]  # currency -> bucket -> outstanding, plus "total", "interest"
    by_client: list[tuple[str, str, int, Decimal, Decimal]]  # client, currency, items, outstanding, interest


@dataclass(frozen=True, slots=True)
class Line:
    """One invoice line, its amount already rounded in the invoice currency."""

    kind: str  # time | expense | retainer | milestone | item
    description: str
    quantity: Decimal  # hours for time lines (exact), else a count
    unit_price: Decimal  # in the invoice currency (converted, not rounded)
    amount: Decimal
    tax: m.Tax
    date: date | None = None
    sow: str | None = None
    unit: str = ""  # "h" for hours
    tags: tuple[str, ...] = ()
    # the span of the entry behind the line (one span, not a tuple of one: a large ledger has a
    # million time lines, and a one-tuple each would cost 46 MB); read it as `sources`
    source: Span | None = field(default=None, compare=False)
    detail: dict = field(default_factory=dict, compare=False)  # how the amount came about

    @property
    def sources(self) -> tuple[Span, ...]:
        """The spans of the entries behind the line."""
        return () if self.source is None else (self.source,)


@dataclass(frozen=True, slots=True)
class AdjustmentReason:
    """One discount or charge behind a part, as facts a document can word in its own language."""

    standing: bool = False  # the client's standing discount
    reason: str = ""  # as written in the ledger ("" when none)
    percent: Decimal | None = None  # None for a fixed amount


@dataclass(frozen=True, slots=True)
class AdjustmentPart:
    """The share of one discount or charge that falls on one tax group."""

    kind: str  # discount | charge
    label: str  # English, as it always was: documents render from `reasons`, the label stays for the rest
    amount: Decimal  # positive
    how: str = ""
    reasons: tuple[AdjustmentReason, ...] = ()  # what `label` says, one per discount or charge, in its order


@dataclass(frozen=True, slots=True)
class TaxGroup:
    tax: m.Tax
    net: Decimal
    allowances: Decimal
    charges: Decimal
    basis: Decimal
    tax_amount: Decimal
    parts: tuple[AdjustmentPart, ...] = ()


@dataclass(frozen=True, slots=True)
class CompanyTax:
    """The tax of a foreign-currency invoice, shown in the company currency."""

    currency: str
    rate: Decimal
    rate_date: date | None
    amount: Decimal
    groups: tuple[Decimal, ...]


@dataclass(frozen=True, slots=True)
class SowUsage:
    """What one invoice bills of one SOW, summed from its lines: budgets and acceptance checks
    read this rather than every line (a document read back from the persisted state has its
    lines only when something asks for them)."""

    sow: str
    hours: Decimal  # the quantity of its time lines
    amount: Decimal  # the amount of all its lines
    milestone_amount: Decimal
    milestones: int  # milestone lines
    retainers: int  # retainer lines


@dataclass(frozen=True)
class InvoiceDoc:
    invoice: m.Invoice
    client: m.Client | None
    currency: str
    period: m.Period
    sows: tuple[str, ...]
    due: date
    lines: tuple[Line, ...]
    groups: tuple[TaxGroup, ...]
    net: Decimal
    tax: Decimal
    total: Decimal
    company_tax: CompanyTax | None = None
    seq: int | None = None
    # the seller as textbill.lock recorded it at issue (None: the ledger's company, as it is now)
    company: m.Company | None = None
    # sums of the lines (engine.invoices): per SOW, and the time lines' amounts per (day, person, amount)
    usage: tuple[SowUsage, ...] = field(default=(), compare=False)
    # (day, person, amount) of the time lines, flattened (day, person, amount, day, ...): a tuple
    # per day costs 13 MB in a large ledger; read it through time_amounts()
    billed_time: tuple = field(default=(), compare=False)

    @property
    def number(self) -> str:
        return self.invoice.number

    @property
    def date(self) -> date:
        return self.invoice.date

    def time_amounts(self) -> Iterator[tuple]:
        """(day, person, amount): the amounts of the time lines summed per day and person (None:
        the company's own time), in the order of their first line."""
        flat = self.billed_time
        return zip(flat[0::3], flat[1::3], flat[2::3], strict=True)


@dataclass(frozen=True)
class CreditDoc:
    note: m.CreditNote
    invoice: InvoiceDoc | None
    currency: str
    amount: Decimal  # gross, positive
    groups: tuple[TaxGroup, ...] = ()  # the credited share of each tax group of the invoice
    company_tax: CompanyTax | None = None  # its tax in the company currency, at the invoice's rate
    company: m.Company | None = None  # the seller as recorded at issue (None: the ledger's company)

    @property
    def number(self) -> str:
        return self.note.number

    @property
    def date(self) -> date:
        return self.note.date


@dataclass(frozen=True)
class Books:
    """Every issued document, computed; independent of the day it is looked at."""

    invoices: dict[str, InvoiceDoc]  # by number, in issue order
    credits: dict[str, CreditDoc]
    diagnostics: tuple[Diagnostic, ...]
    billed: Mapping[tuple, str] = field(default_factory=dict, compare=False)  # item key -> invoice number


@dataclass
class Installment:
    number: int  # from 1
    due: date
    amount: Decimal
    settled: Decimal = ZERO

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.settled


@dataclass
class PlanState:
    plan: m.Plan
    installments: list[Installment]
    settled: Decimal = ZERO  # reductions of the outstanding since the plan

    def settle(self, amount: Decimal) -> None:
        self.settled += amount
        left = self.settled
        for inst in self.installments:
            inst.settled = min(inst.amount, max(ZERO, left))
            left -= inst.amount

    def next_unsettled(self) -> Installment | None:
        return next((i for i in self.installments if i.outstanding > 0), None)


@dataclass
class Allocation:
    date: date
    amount: Decimal
    kind: str  # payment | credit-note | writeoff | credit (client credit from an earlier payment)
    ref: str  # the payment's ref, the credit note number, ...
    via: str | None = None
    source: object = field(default=None, compare=False)  # the entry that moved the money (payment, credit note)


@dataclass
class InvoiceState:
    doc: InvoiceDoc
    paid: Decimal = ZERO
    credited: Decimal = ZERO
    written_off: Decimal = ZERO
    outstanding: Decimal = ZERO
    collections: m.Collections | None = None
    writeoff: m.WriteOff | None = None
    plan: PlanState | None = None
    allocations: list[Allocation] = field(default_factory=list)
    status: str = "open"
    # what a credit note larger than the outstanding gave back: kind "paid" (money that then settles
    # other invoices or is client credit) or "writeoff" (a write-off taken back)
    returned: list[Allocation] = field(default_factory=list)

    @property
    def number(self) -> str:
        return self.doc.number

    @property
    def currency(self) -> str:
        return self.doc.currency

    @property
    def client(self) -> str:
        return self.doc.invoice.client

    @property
    def is_open(self) -> bool:
        return self.outstanding > 0 and self.writeoff is None

    def reduce(self, amount: Decimal) -> None:
        self.outstanding -= amount
        if self.plan is not None:
            self.plan.settle(amount)


@dataclass(frozen=True, slots=True)
class Event:
    """A money event on a client's account, for statements."""

    date: date
    kind: str  # invoice | credit-note | payment | writeoff
    ref: str
    amount: Decimal  # + increases what the client owes
    client: str
    currency: str
    detail: str = ""


@dataclass
class Receivables:
    as_of: date
    invoices: dict[str, InvoiceState]  # issued on or before as_of, in issue order
    credit: dict[tuple[str, str], Decimal]  # (client, currency) -> unapplied credit
    events: list[Event]
    diagnostics: list[Diagnostic]
    received: dict[tuple[str, str], Decimal] = field(default_factory=dict)  # payments per client, currency
    last_day: date | None = None  # of the latest entry replayed


@dataclass(frozen=True)
class StatementLine:
    event: Event
    balance: Decimal


@dataclass(frozen=True)
class Statement:
    client: m.Client
    currency: str
    start: date | None
    end: date
    opening: Decimal
    lines: tuple[StatementLine, ...]
    closing: Decimal
    aging: dict[str, Decimal]
    credit: Decimal  # unapplied client credit at the end


@dataclass(frozen=True)
class Reminder:
    state: InvoiceState
    policy: m.ReminderPolicy
    step: m.Step
    due: date  # the due date the days count from
    installment: int | None
    amount: Decimal  # what is outstanding on the invoice
    amount_due: Decimal  # what is due now (the installment's outstanding under a plan)
    days_overdue: int
    late_interest: Decimal | None
    late_fee: Amount | None  # in the invoice's currency
    problems: tuple[Diagnostic, ...] = ()  # what stops it from being sent (a fee with no fx rate)

    @property
    def number(self) -> str:
        return self.state.number
