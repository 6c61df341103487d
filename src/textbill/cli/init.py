"""`textbill init`: a new ledger folder to start from."""
from __future__ import annotations

from pathlib import Path

import click

from textbill.workflow.scaffold import create_ledger


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Write into a folder that already holds files.")
def init(directory, force):
    """Create a new ledger: textbill.yaml, a commented example .bill file, .gitignore."""
    target = Path(directory)
    try:
        written = create_ledger(target, force=force)
    except FileExistsError as exc:
        raise click.UsageError(f"{exc} (use --force to write beside existing files)")
    for path in written:
        click.echo(f"  created {path}", err=True)
    click.echo(f"new ledger in {target}; try: textbill check {target}", err=True)
    click.echo("its example invoice is not locked yet: make the company and client yours, then run "
               "'textbill lock'", err=True)
