"""`textbill doctor`: what this machine has of what textbill needs, and how to install the rest."""
from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from textbill.render.json import dumps
from textbill.workflow.doctor import diagnose, healthy, install_commands


@click.command("doctor")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True)
def doctor(fmt):
    """Check Pango, HarfBuzz, the fonts and the optional tools; say how to install them.

    Python, textbill, WeasyPrint and the libraries it loads, the bundled themes' fonts, then the
    optional pieces: HarfBuzz-subset, fallback fonts, git, hledger, bean-check, chromium,
    pdftotext, saxonche.  Each missing one is followed by the command that installs it.

    Exits 0 when everything required is there (optional items may be missing), 1 when a
    required one is missing.
    """
    checks = diagnose()
    ok = healthy(checks)
    if fmt == "json":
        click.echo(dumps({"ok": ok, "checks": [c.as_json() for c in checks],
                          "install": list(install_commands(checks))}))
    else:
        console = Console(width=None if sys.stdout.isatty() else 160, highlight=False, soft_wrap=False)
        table = Table(title="textbill doctor", header_style="bold", box=None)
        for col in ("check", "status", "required", "found", "needed for"):
            table.add_column(col, overflow="fold")
        for c in checks:
            status = Text(c.status, style="green" if c.ok else ("red" if c.required else "yellow"))
            table.add_row(Text(c.name), status, "yes" if c.required else "optional", Text(c.found),
                          Text(c.needed_for))
        console.print(table)
        for c in checks:
            if not c.ok and c.hint:
                console.print(f"{c.name} missing: {c.hint}", markup=False)
        commands = install_commands(checks)
        if sum(not c.ok for c in checks) > 1:
            console.print("to install everything missing:", markup=False)
            for command in commands:
                console.print(f"  {command}", markup=False)
        console.print("everything required is there" if ok else "a required piece is missing", markup=False)
    sys.exit(0 if ok else 1)
