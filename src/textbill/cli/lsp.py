"""`textbill lsp`: the Language Server over stdio (textbill.lsp.server)."""
from __future__ import annotations

import click

from textbill.lsp.server import serve


@click.command("lsp")
@click.option("--stdio", is_flag=True, help="Speak over stdin and stdout (the default and only transport; "
              "accepted because some editors pass it).")
def lsp(stdio):
    """A Language Server (stdio) for any editor: diagnostics, completion, hover, navigation.

    Start it from an editor's LSP client; it finds each open .bill file's ledger
    as the other commands do (the nearest textbill.yaml upward, else the file's
    folder) and works on the unsaved buffers.  See docs/editors.md.
    """
    del stdio  # stdio is the only transport
    serve()
