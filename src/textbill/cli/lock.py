"""`textbill lock`: record every issued document in textbill.lock."""
from __future__ import annotations

import sys

import click

from textbill.checks.locks import LockError, write_lock
from textbill.cli.common import Ctx, ledger_options, load_clean, print_problems


@click.command("lock")
@ledger_options
def lock(ctx: Ctx):
    """Lock every issued document, and every accepted SOW's terms, not yet locked.

    Appends one line per invoice and credit note to textbill.lock at the ledger
    root (number, date, total and the sha256 of its content).  From then on any
    edit that changes a locked document is an error in 'textbill check'.
    Commit textbill.lock with the ledger.  A ledger with errors is not locked.
    """
    analysis = load_clean(ctx)
    try:
        added = write_lock(analysis.root, analysis.ledger, analysis.books)
    except LockError as exc:
        print_problems(exc.problems, analysis.sources)
        sys.exit(1)
    for e in added:
        if e.kind == "agreement":
            click.echo(f"locked the terms of SOW {e.number} (accepted {e.date})", err=True)
        else:
            click.echo(f"locked {e.kind} {e.number} ({e.date}, {e.total} {e.currency})", err=True)
    total = len(analysis.books.invoices) + len(analysis.books.credits)
    if added:
        click.echo(f"{len(added)} document{'s' if len(added) != 1 else ''} locked in textbill.lock", err=True)
    else:
        click.echo(f"nothing to lock: all {total} documents are locked", err=True)
