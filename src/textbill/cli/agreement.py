"""`textbill agreement`: one SOW as an agreement document, HTML or PDF."""
from __future__ import annotations

from pathlib import Path

import click

from textbill.cli.common import Ctx, ledger_options, load_clean, unknown
from textbill.loading.writer import write_atomic
from textbill.render.agreement import render_agreement
from textbill.render.pdf import html_to_pdf
from textbill.render.themes import load_theme


@click.command("agreement")
@click.argument("sow", metavar="CLIENT/SOW")
@click.option("--out", "-o", "output", metavar="FILE", help="Write to FILE (.pdf or .html); without it, "
              "the HTML goes to standard output.")
@click.option("--format", "fmt", type=click.Choice(["html", "pdf"]), default=None,
              help="html or pdf (default: from the --out file's extension, else html).")
@click.option("--theme", "theme", metavar="NAME", help="A theme other than textbill.yaml's (default, modern, "
              "or a folder inside the ledger).")
@ledger_options
def agreement(ctx: Ctx, sow, output, fmt, theme):
    """Render one SOW as an agreement document (HTML or PDF).

    Parties, scope and deliverables, period, pricing with the rate of each
    role, fee and milestones or retainer, cap, invoicing schedule, payment
    terms, late interest and fee, reminders, and a signature block, in the
    client's language.  It carries a DRAFT mark until the SOW is accepted
    (DATE accepted CLIENT/SOW "Signer"), then says who accepted it and when.
    """
    if fmt is None:
        fmt = "pdf" if output and output.lower().endswith(".pdf") else "html"
    if fmt == "pdf" and not output:
        raise click.UsageError("a PDF needs --out FILE.pdf")
    if output:
        folder = Path(output).parent
        if not folder.is_dir():
            raise click.BadParameter(f"the folder {folder} does not exist; create it first",
                                     param_hint="--out")
    analysis = load_clean(ctx)
    ledger = analysis.ledger
    if sow not in ledger.sows:
        raise unknown("SOW", sow, ledger.sows, "CLIENT/SOW")
    chosen = load_theme(ledger, theme) if theme else None
    html = render_agreement(analysis, sow, theme=chosen)
    if fmt == "pdf":
        write_atomic(Path(output), html_to_pdf(html, base_url=str(analysis.root), theme=chosen))
    elif output:
        write_atomic(Path(output), html.encode("utf-8"))
    else:
        click.echo(html, nl=False)
        return
    click.echo(f"wrote {output}", err=True)
