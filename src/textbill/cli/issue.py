"""`textbill issue`: append the drafted invoices to the ledger and lock them."""
from __future__ import annotations

import sys

import click

from textbill.cli.common import (
    Ctx,
    as_of_option,
    ledger_options,
    load_clean,
    print_diagnostics,
    print_problems,
    today,
)
from textbill.core.money import fmt_grouped
from textbill.loading.loader import display_name
from textbill.loading.writer import locked
from textbill.workflow.drafting import draft_invoices
from textbill.workflow.issue import IssueError, append_and_lock, invoice_text, recover
from textbill.workflow.targets import TargetError, default_target, target_file
from textbill.workflow.timers import state_dir


@click.command("issue")
@as_of_option
@click.option("--file", "file", metavar="FILE",
              help="The .bill file to append the invoices to (default: invoices-file in textbill.yaml, "
                   "else the file holding the latest invoice, else invoices.bill at the ledger root).")
@click.option("--dry-run", is_flag=True, help="Print what would be appended; write nothing.")
@ledger_options
def issue(ctx: Ctx, as_of, file, dry_run):
    """Issue the invoices 'textbill draft' shows: append them to the ledger and lock them.

    Each invoice gets the next number of the company's pattern (gapless per
    year, in date order), is dated --as-of and names its SOWs and period.  The
    append is atomic, and concurrent runs are serialized.  Running it again
    issues nothing: the periods are then invoiced.
    """
    day = today(as_of)
    path, root = ctx.root()
    with locked(state_dir(root) / "issue"):
        analysis = load_clean(ctx)
        for number in ([] if dry_run else recover(root, analysis)):
            click.echo(f"locked {number}: an earlier 'textbill issue' stopped before locking it", err=True)
        ledger = analysis.ledger
        default = default_target(ledger, root, "invoices-file", ledger.invoices, "invoices.bill")
        try:
            target = target_file(path, root, file, str(default), "invoices")
        except TargetError as exc:
            raise click.UsageError(str(exc))
        dr = draft_invoices(analysis.ledger, analysis.books, day)
        if not dr.ok:
            print_problems(dr.diagnostics, analysis.sources)
            click.echo("textbill: nothing was issued", err=True)
            sys.exit(1)
        if not dr.proposals:
            click.echo(f"nothing to issue as of {day}", err=True)
            return
        try:
            text = invoice_text(target, dr.proposals)
        except IssueError as exc:  # pragma: no cover - a printer bug
            raise click.ClickException(str(exc))
        if dry_run:
            click.echo(text, nl=False)
            return
        after = append_and_lock(path, root, target, text, {p.invoice.number for p in dr.proposals})
        if not after.ok:
            print_diagnostics(after, quiet_warnings=True)
            click.echo("textbill: the invoices were written but not locked; fix the errors and run "
                       "'textbill lock'", err=True)
            sys.exit(1)
    for p in dr.proposals:
        click.echo(f"issued {p.doc.number} to {p.invoice.client}: {fmt_grouped(p.doc.total, p.doc.currency)} "
                   f"{p.doc.currency} (period {p.doc.period})", err=True)
    click.echo(f"{len(dr.proposals)} invoice{'s' if len(dr.proposals) != 1 else ''} appended to "
               f"{display_name(target)} and locked", err=True)
