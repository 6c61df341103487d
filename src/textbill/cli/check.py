"""`textbill check`: parse and validate a ledger, report every diagnostic."""
from __future__ import annotations

import sys

import click

from textbill.cli.common import (
    CI_FORMATS,
    Ctx,
    analyze_ledger,
    ci_report,
    ledger_options,
    print_problems,
)
from textbill.core.diagnostics import format_json, has_errors, summary
from textbill.incremental.checked import cached_check


@click.command("check")
@click.argument("ledger_pos", metavar="[LEDGER]", required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "json", *CI_FORMATS]), default="text",
              show_default=True,
              help="Diagnostics as text, one JSON document for editors, or for CI: GitHub workflow "
                   "commands (github), SARIF 2.1.0 (sarif), a GitLab Code Quality report (codeclimate).")
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 1).")
@ledger_options
def check(ctx: Ctx, ledger_pos, fmt, strict):
    """Parse and validate a ledger; report every problem.

    Exit status: 0 clean or warnings only, 1 errors, 2 usage.
    """
    # an unchanged ledger's check is answered from the check cache without importing the compiler
    hit = None if ctx.no_cache else cached_check(ctx.ledger_path(ledger_pos))
    analysis = hit or analyze_ledger(ctx, ledger_pos, looked_up=not ctx.no_cache)
    diags = analysis.diagnostics
    if fmt == "json":
        click.echo(format_json(diags))
    elif fmt in CI_FORMATS:
        click.echo(ci_report(fmt, diags, ctx.ledger_path(ledger_pos)), nl=False)
    else:
        print_problems(diags, analysis.sources)
        numbers = hit.counts if hit is not None else analysis.counts()
        counts = ", ".join(_count(n, what) for n, what in zip(numbers, ("file", "directive", "invoice")))
        click.echo(f"{counts}: {summary(diags)}", err=True)
    failed = has_errors(diags) or (strict and diags)
    sys.exit(1 if failed else 0)


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"
