"""`textbill diff REV1..REV2`: what a git range changes in the billing."""
from __future__ import annotations

import click

from textbill.cli.common import Ctx, as_of_option, ledger_options, today
from textbill.workflow.gitdiff import DiffError, format_markdown
from textbill.workflow.gitdiff import diff as diff_report
from textbill.workflow.gitdiff import format_text as as_text


@click.command("diff")
@click.argument("revisions", metavar="REV1..REV2")
@as_of_option
@click.option("--format", "fmt", type=click.Choice(["text", "markdown"]), default="text", show_default=True,
              help="Plain text, or Markdown for a pull-request comment.")
@ledger_options
def diff(ctx: Ctx, revisions, as_of, fmt):
    """What a git range changes in the billing.

    Takes both revisions of the ledger out of git (the working tree is never
    touched) and reports documents that are new, removed or changed (and the
    entries behind each change), invoiced amounts, tax and outstanding per
    client as of --as-of, and SOW budgets used against their caps.

    REV1..REV2 compares two revisions (REV1.. means REV1..HEAD; REV1...REV2
    starts from their merge base); a single REV compares it with the working
    tree.
    """
    day = today(as_of)
    path = ctx.ledger_path()
    try:
        report = diff_report(path, revisions, day)
    except DiffError as exc:
        raise click.UsageError(str(exc))
    click.echo((format_markdown if fmt == "markdown" else as_text)(report), nl=False)
