"""`textbill diff REV1..REV2`: what a git range means for the billing.  [I/O: git]

Both revisions of the ledger are taken out of git's object store with
`git archive` into temporary folders (the working tree, the index and HEAD
are never touched), analyzed by the same pipeline as `textbill check`, and
compared: documents that are new, removed or changed (by their canonical
content, as textbill.lock sees them, with the entries behind each change),
per-client invoiced amounts, tax and outstanding as of a day, and SOW budgets
used against their caps.  A single revision compares it with the working tree.
"""
from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from textbill.checks.locks import NodeIndex, current_entries, find_culprits, read_lock
from textbill.checks.terms import sow_terms
from textbill.core import model as m
from textbill.core.diagnostics import format_text as format_diagnostic
from textbill.core.money import ZERO, fmt, fmt_grouped, round_money
from textbill.engine.budgets import sow_fee
from textbill.engine.invoices import milestone_shares, round_up
from textbill.engine.teams import entry_rate
from textbill.loading.loader import display_name
from textbill.pipeline import analyze
from textbill.reports.agreement import agreement_state


class DiffError(Exception):
    """A range or repository that cannot be compared (a usage error)."""


# ---------------------------------------------------------------------------- git

def _git(cwd: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise DiffError("git is not installed")
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().removeprefix("fatal: ")
        raise DiffError(message or f"git {args[0]} failed")
    return done.stdout


def _verify(cwd: Path, rev: str) -> str:
    """rev, when it names a commit of the repository; else DiffError("unknown revision 'rev'")."""
    if rev.startswith("-"):  # never an option to git
        raise DiffError(f"unknown revision '{rev}'")
    try:
        _git(cwd, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
    except DiffError:
        raise DiffError(f"unknown revision '{rev}' (a commit, branch or tag of the ledger's repository; "
                        "see 'git log')") from None
    return rev


def parse_range(spec: str, cwd: Path) -> tuple[str, str | None]:
    """REV1..REV2, REV1.. (to HEAD), ..REV2 (from HEAD), REV1...REV2 (from their merge base), or REV
    (against the working tree, returned as None)."""
    if "..." in spec:
        left, right = spec.split("...", 1)
        left, right = _verify(cwd, left or "HEAD"), _verify(cwd, right or "HEAD")
        base = _git(cwd, "merge-base", left, right).decode().strip()
        return base, right
    if ".." in spec:
        left, right = spec.split("..", 1)
        return _verify(cwd, left or "HEAD"), _verify(cwd, right or "HEAD")
    return _verify(cwd, spec), None


def locate(path: Path) -> tuple[Path, str]:
    """(the repository's top folder, the ledger's path inside it, in POSIX form; '' for the top)."""
    path = Path(path).resolve()
    folder = path if path.is_dir() else path.parent
    try:
        top = Path(_git(folder, "rev-parse", "--show-toplevel").decode().strip()).resolve()
    except DiffError as exc:
        raise DiffError(f"the ledger {path} is not in a git repository ({exc})") from None
    rel = path.relative_to(top).as_posix()
    return top, "" if rel == "." else rel


def checkout(top: Path, rev: str, prefix: str, dest: Path) -> Path | None:
    """Extract the ledger of one revision into dest; its path there, or None if it did not exist."""
    _verify(top, rev)
    listing = _git(top, "ls-tree", "-r", "--name-only", rev, "--", prefix or ".")
    if not listing.strip():
        return None
    data = _git(top, "archive", "--format=tar", rev, "--", prefix or ".")
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = [t for t in tar.getmembers() if not (t.issym() or t.islnk() or t.isdev())
                   and not Path(t.name).is_absolute() and ".." not in Path(t.name).parts]
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, members=members, filter="data")
        else:  # pragma: no cover - Python before 3.11.4
            tar.extractall(dest, members=members)
    return dest / prefix if prefix else dest


# ---------------------------------------------------------------------------- snapshots

@dataclass(frozen=True)
class Usage:
    """How much of a SOW is used: hours and amount (in the SOW's currency), and its cap."""

    hours: Decimal
    amount: Decimal
    currency: str
    cap: str  # "200h", "12000.00 USD" or ""
    cap_value: Decimal | None
    cap_hours: bool


@dataclass
class Snapshot:
    label: str
    exists: bool
    docs: dict = field(default_factory=dict)  # number -> lockfile.Entry
    clients: dict = field(default_factory=dict)  # (client, currency) -> {invoiced, tax, outstanding, credit}
    sows: dict = field(default_factory=dict)  # ref -> Usage
    agreements: dict = field(default_factory=dict)  # ref -> (state, "accepted by X on D" or "", terms)
    errors: int = 0
    warnings: int = 0
    diagnostics: list = field(default_factory=list)  # (text, is_error), paths relative to the ledger
    analysis: object = None


def sow_usage(ledger: m.Ledger) -> dict[str, Usage]:
    out = {}
    for sow in ledger.sows.values():
        p = sow.pricing
        if p is None or p.kind == "retainer":
            continue
        ccy = p.amount.currency or ledger.client_currency(sow.client)
        minutes, amount = ZERO, ZERO
        if p.kind == "hourly":
            for t in ledger.times:
                if t.sow == sow.ref and t.billable:
                    billed = round_up(t.minutes, sow.increment)
                    minutes += billed
                    amount += billed * entry_rate(ledger, sow, t).rate / 60  # its role's rate
        else:
            shares = milestone_shares(sow)
            for d in ledger.dones:
                if d.sow == sow.ref and d.milestone in shares:
                    amount += shares[d.milestone][0]
        for e in ledger.expenses:
            if e.sow == sow.ref and e.billable and (e.amount.currency or ccy) == ccy:
                amount += e.amount.value * (1 + (e.markup or 0) / 100)
        cap, cap_value, cap_hours = "", None, False
        if sow.cap is not None and sow.cap.minutes is not None:
            cap_value, cap_hours = sow.cap.minutes / 60, True
            cap = f"{cap_value.normalize():f}h"
        elif sow.cap is not None and sow.cap.amount is not None:
            cap_value = sow.cap.amount.value
            cap = f"{fmt(cap_value, ccy)} {ccy}"
        elif p.kind in ("fixed", "value"):
            fee = sow_fee(sow)
            if fee is not None:
                cap_value, cap = fee, f"{fmt(fee, ccy)} {ccy} fee"
        out[sow.ref] = Usage(minutes / 60, round_money(amount, ccy), ccy, cap, cap_value, cap_hours)
    return out


def agreements_of(ledger: m.Ledger) -> dict:
    """Each SOW's agreement: its state, who accepted it, and its terms (checks.terms)."""
    out = {}
    for ref, sow in ledger.sows.items():
        acc = ledger.acceptance(ref)
        who = f"accepted by {acc.signer} on {acc.date}" if acc is not None else ""
        out[ref] = (agreement_state(ledger, ref), who, sow_terms(sow))
    return out


def snapshot(path: Path | None, label: str, as_of: date, strip: str = "") -> Snapshot:
    """Analyze one side of the diff (None: the ledger did not exist there)."""
    if path is None:
        return Snapshot(label, False)
    analysis = analyze(path)
    ledger, books = analysis.ledger, analysis.books
    snap = Snapshot(label, True, analysis=analysis)
    snap.docs = current_entries(ledger, books)
    rec = analysis.receivables(as_of)
    clients: dict = defaultdict(lambda: {"invoiced": ZERO, "tax": ZERO, "outstanding": ZERO, "credit": ZERO})
    for state in rec.invoices.values():
        row = clients[(state.client, state.currency)]
        row["invoiced"] += state.doc.total
        row["tax"] += state.doc.tax
        row["outstanding"] += state.outstanding
    for credit in books.credits.values():
        if credit.date <= as_of and credit.invoice is not None:
            row = clients[(credit.invoice.invoice.client, credit.currency)]
            row["invoiced"] -= credit.amount
            row["tax"] -= sum((g.tax_amount for g in credit.groups), ZERO)
    for key, left in rec.credit.items():
        if left:
            clients[key]["credit"] += left
    snap.clients = dict(clients)
    snap.sows = sow_usage(ledger)
    snap.agreements = agreements_of(ledger)
    for d in analysis.diagnostics:
        text = format_diagnostic(d, analysis.sources).split("\n")[0]
        snap.diagnostics.append((text.replace(strip, ""), d.is_error))
    snap.errors = sum(1 for d in analysis.diagnostics if d.is_error)
    snap.warnings = len(analysis.diagnostics) - snap.errors
    return snap


# ---------------------------------------------------------------------------- the comparison

@dataclass(frozen=True)
class DocChange:
    status: str  # new | removed | changed
    number: str
    kind: str
    client: str
    date: str
    currency: str
    before: str | None  # total
    after: str | None
    notes: tuple[str, ...] = ()
    locked: bool = False  # locked in the earlier revision


@dataclass(frozen=True)
class ClientChange:
    client: str
    currency: str
    before: dict
    after: dict


@dataclass(frozen=True)
class SowChange:
    ref: str
    before: Usage | None
    after: Usage | None


@dataclass(frozen=True)
class AgreementChange:
    ref: str
    before: str | None  # state ("draft", "sent", "accepted"); None: no such SOW
    after: str | None
    notes: tuple[str, ...] = ()  # who accepted it, and each changed term: "rate senior 180.00 -> 200.00"


@dataclass
class Report:
    left: Snapshot
    right: Snapshot
    as_of: date
    docs: list[DocChange]
    clients: list[ClientChange]
    sows: list[SowChange]
    new_diagnostics: list[str]
    agreements: list[AgreementChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.docs or self.clients or self.sows or self.new_diagnostics or self.agreements)


def compare(left: Snapshot, right: Snapshot, as_of: date, strip: str = "") -> Report:
    docs: list[DocChange] = []
    locked = set()
    if left.analysis is not None:
        locked = set(read_lock(left.analysis.root).entries)
    for number, new in right.docs.items():
        old = left.docs.get(number)
        if old is None:
            docs.append(DocChange("new", number, new.kind, new.client, new.date, new.currency, None, new.total))
        elif old.sha256 != new.sha256:
            notes: tuple[str, ...] = ()
            an = right.analysis
            if an is not None and old.kind == new.kind:
                node = next((d for d in (*an.ledger.invoices, *an.ledger.credit_notes) if d.number == number), None)
                culprits = find_culprits(an.ledger, an.books, old, new, node, NodeIndex(an.ledger), an.sources)
                notes = tuple(f"{c.what} ({c.span.short.replace(strip, '')})" for c in culprits)
            docs.append(DocChange("changed", number, new.kind, new.client, new.date, new.currency, old.total,
                                  new.total, notes, number in locked))
    for number, old in left.docs.items():
        if number not in right.docs:
            docs.append(DocChange("removed", number, old.kind, old.client, old.date, old.currency, old.total, None,
                                  (), number in locked))
    order = {"removed": 0, "changed": 1, "new": 2}
    docs.sort(key=lambda d: (order[d.status], d.date, d.number))

    clients = []
    for key in sorted(set(left.clients) | set(right.clients)):
        zero = {"invoiced": ZERO, "tax": ZERO, "outstanding": ZERO, "credit": ZERO}
        before, after = left.clients.get(key, zero), right.clients.get(key, zero)
        if before != after:
            clients.append(ClientChange(key[0], key[1], before, after))

    sows = []
    for ref in sorted(set(left.sows) | set(right.sows)):
        before, after = left.sows.get(ref), right.sows.get(ref)
        if before != after:
            sows.append(SowChange(ref, before, after))

    seen = {text for text, _ in left.diagnostics}
    new_diags = [text for text, is_error in right.diagnostics if text not in seen and is_error]
    return Report(left, right, as_of, docs, clients, sows, new_diags, _agreement_changes(left, right))


def _agreement_changes(left: Snapshot, right: Snapshot) -> list[AgreementChange]:
    """SOWs whose agreement state or terms differ between the two sides."""
    out = []
    for ref in sorted(set(left.agreements) | set(right.agreements)):
        before, after = left.agreements.get(ref), right.agreements.get(ref)
        if before == after:
            continue
        notes: list[str] = []
        if after is not None and after[1] and (before is None or before[1] != after[1]):
            notes.append(after[1])
        if before is not None and after is not None:
            old, new = before[2], after[2]
            for term in sorted(set(old) | set(new)):
                if old.get(term) != new.get(term):
                    notes.append(f"{term}: {old.get(term, 'none')} -> {new.get(term, 'none')}"
                                 + (" (accepted: locked)" if before[0] == "accepted" else ""))
        out.append(AgreementChange(ref, before[0] if before else None, after[0] if after else None, tuple(notes)))
    return out


def diff(ledger_path: Path, spec: str, as_of: date) -> Report:
    """Compare the ledger at two revisions of its git repository (see the module docstring)."""
    top, prefix = locate(ledger_path)
    left_rev, right_rev = parse_range(spec, top)
    with tempfile.TemporaryDirectory(prefix="textbill-diff-") as tmp:
        tmp_path = Path(tmp)
        left_dir = tmp_path / "a"
        left_dir.mkdir()
        left_path = checkout(top, left_rev, prefix, left_dir)
        left = snapshot(left_path, left_rev, as_of, strip=_strip_for(left_path, prefix))
        if right_rev is None:
            right = snapshot(Path(ledger_path), "working tree", as_of, strip=_strip_for(Path(ledger_path), prefix))
        else:
            right_dir = tmp_path / "b"
            right_dir.mkdir()
            right_path = checkout(top, right_rev, prefix, right_dir)
            right = snapshot(right_path, right_rev, as_of, strip=_strip_for(right_path, prefix))
        strip = _strip_for(right_path if right_rev is not None else Path(ledger_path), prefix)
        report = compare(left, right, as_of, strip)
        # nothing may point into the temporary folders once they are gone
        report.left.analysis = report.right.analysis = None
    return report


def _strip_for(path: Path | None, prefix: str) -> str:
    """The text to remove from file names shown so they read relative to the ledger root."""
    if path is None:
        return ""
    root = path if path.is_dir() else path.parent
    shown = display_name(root)
    return "" if shown in (".", "") else shown.rstrip("/") + "/"


# ---------------------------------------------------------------------------- text and markdown

def _m(value: str | Decimal | None, currency: str) -> str:
    if value is None:
        return "—"
    return fmt_grouped(Decimal(value), currency)


def _delta(before, after, currency: str) -> str:
    d = Decimal(after or 0) - Decimal(before or 0)
    if not d:
        return "±0"
    return ("+" if d > 0 else "−") + fmt_grouped(abs(d), currency)


def _usage(u: Usage | None) -> str:
    if u is None:
        return "—"
    if u.cap_hours:
        used = f"{u.hours.quantize(Decimal('0.01'))}h"
    else:
        used = f"{fmt_grouped(u.amount, u.currency)} {u.currency}"
    if u.cap_value:
        value = u.hours if u.cap_hours else u.amount
        pct = (value * 100 / u.cap_value).quantize(Decimal(1))
        return f"{used} of {u.cap} ({pct}%)"
    if u.hours:
        return f"{u.hours.quantize(Decimal('0.01'))}h, {fmt_grouped(u.amount, u.currency)} {u.currency}"
    return used


def _doc_rows(report: Report):
    for d in report.docs:
        sign = {"new": "+", "removed": "-", "changed": "~"}[d.status]
        kind = "credit note" if d.kind == "credit-note" else d.kind
        if d.status == "changed":
            amount = f"{_m(d.before, d.currency)} → {_m(d.after, d.currency)} {d.currency} " \
                     f"({_delta(d.before, d.after, d.currency)})"
        else:
            amount = f"{_m(d.before if d.status == 'removed' else d.after, d.currency)} {d.currency}"
        flag = " LOCKED" if d.locked else ""
        yield sign, d, kind, amount, flag


def format_text(report: Report) -> str:
    out = [f"textbill diff {report.left.label}..{report.right.label} (outstanding as of {report.as_of})"]
    if not report.left.exists:
        out.append(f"  (no ledger at {report.left.label})")
    if not report.right.exists:
        out.append(f"  (no ledger at {report.right.label})")
    if report.empty:
        out.append("no change to documents, amounts, budgets or checks")
        return "\n".join(out) + "\n"
    if report.docs:
        out += ["", "Documents"]
        for sign, d, kind, amount, flag in _doc_rows(report):
            out.append(f"  {sign} {d.number:<16} {kind:<11} {d.date}  {d.client:<12} {amount}  {d.status}{flag}")
            for note in d.notes:
                out.append(f"      {note}")
    if report.clients:
        out += ["", f"Clients (as of {report.as_of})"]
        for c in report.clients:
            parts = []
            for key in ("invoiced", "tax", "outstanding", "credit"):
                if c.before[key] != c.after[key]:
                    parts.append(f"{key} {_m(c.before[key], c.currency)} → {_m(c.after[key], c.currency)} "
                                 f"({_delta(c.before[key], c.after[key], c.currency)})")
            out.append(f"  {c.client:<12} {c.currency}  " + "; ".join(parts))
    if report.sows:
        out += ["", "SOW budgets"]
        for s in report.sows:
            out.append(f"  {s.ref:<24} {_usage(s.before)} → {_usage(s.after)}")
    if report.agreements:
        out += ["", "Agreements"]
        for a in report.agreements:
            out.append(f"  {a.ref:<24} {a.before or '—'} → {a.after or '—'}")
            out += [f"      {note}" for note in a.notes]
    out += ["", (f"Checks: {_count(report.left.errors, 'error')}, {_count(report.left.warnings, 'warning')} → "
                 f"{_count(report.right.errors, 'error')}, {_count(report.right.warnings, 'warning')}")]
    for text in report.new_diagnostics[:20]:
        out.append(f"  new: {text}")
    return "\n".join(out) + "\n"


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def format_markdown(report: Report) -> str:
    out = [f"### textbill: `{report.left.label}..{report.right.label}`", ""]
    if report.empty:
        out.append("No change to documents, amounts, budgets or checks.")
        return "\n".join(out) + "\n"
    errors = report.right.errors
    out.append(("**" + f"{errors} error{'s' if errors != 1 else ''}" + "** after this change. ")
               if errors else "The ledger checks clean after this change. ")
    if report.docs:
        out += ["", "#### Documents", "", "| | number | kind | date | client | total | |", "|---|---|---|---|---|---|---|"]
        for sign, d, kind, amount, flag in _doc_rows(report):
            status = d.status + (" ⚠ locked" if flag else "")
            out.append(f"| {sign} | `{_md(d.number)}` | {kind} | {d.date} | {d.client} | {_md(amount)} | {status} |")
        notes = [(d, n) for d in report.docs for n in d.notes]
        if notes:
            out.append("")
            for d, n in notes:
                out.append(f"- `{_md(d.number)}`: {_md(n)}")
    if report.clients:
        out += ["", f"#### Clients (as of {report.as_of})", "",
                "| client | currency | invoiced | tax | outstanding | credit |", "|---|---|---:|---:|---:|---:|"]
        for c in report.clients:
            cells = []
            for key in ("invoiced", "tax", "outstanding", "credit"):
                b, a = c.before[key], c.after[key]
                cells.append(_m(a, c.currency) if a == b else
                             f"{_m(b, c.currency)} → **{_m(a, c.currency)}** ({_delta(b, a, c.currency)})")
            out.append(f"| {c.client} | {c.currency} | " + " | ".join(cells) + " |")
    if report.sows:
        out += ["", "#### SOW budgets", "", "| SOW | before | after |", "|---|---|---|"]
        for s in report.sows:
            out.append(f"| `{s.ref}` | {_usage(s.before)} | {_usage(s.after)} |")
    if report.agreements:
        out += ["", "#### Agreements", "", "| SOW | before | after | changes |", "|---|---|---|---|"]
        for a in report.agreements:
            out.append(f"| `{a.ref}` | {a.before or '—'} | {a.after or '—'} | {_md('; '.join(a.notes))} |")
    if report.new_diagnostics:
        out += ["", "#### New errors", ""]
        out += [f"- `{_md(t)}`" for t in report.new_diagnostics[:20]]
    return "\n".join(out) + "\n"
