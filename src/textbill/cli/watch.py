"""`textbill watch`: rebuild on save and serve a live-reloading preview (see textbill.watch)."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from textbill.cli.common import Ctx, as_of_option, ledger_options, today
from textbill.watch.loop import serve


@click.command("watch")
@click.argument("ledger_arg", metavar="[LEDGER]", required=False)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port of the preview server on localhost; 0 picks a free one.")
@click.option("--out", "out", metavar="DIR",
              help="Output folder (default: OUT/.preview, OUT being 'out' of textbill.yaml, else build; "
                   "with --pdf, OUT itself).")
@click.option("--pdf", is_flag=True, help="Also render PDFs and the other formats of textbill.yaml on every "
              "change (slower); without it the preview is HTML only.")
@click.option("--no-open", is_flag=True, help="Do not open the preview in a browser.")
@as_of_option
@ledger_options
def watch(ctx: Ctx, ledger_arg, port, out, pdf, no_open, as_of):
    """Rebuild on every save and serve a live-reloading preview on localhost.

    Open pages reload when a build finishes; while the ledger has errors, the
    page shows them (file:line:col, message, source line) and the watch goes on.
    """
    path = ctx.ledger_path(ledger_arg)
    day = today(as_of) if as_of else None  # validate now; without --as-of each build looks from its own day

    def log(text: str) -> None:
        click.echo(text, err=True)
        sys.stderr.flush()

    try:
        serve(path, Path(out) if out else None, port, (lambda: day) if day else (lambda: today(None)),
              open_browser=not no_open, pdf=pdf, cache=not ctx.no_cache, log=log)
    except OSError as exc:
        if exc.errno in (98, 48, 10048):  # address in use (Linux, macOS, Windows)
            raise click.UsageError(f"port {port} is in use; choose another with --port, or --port 0 for a free one")
        raise
