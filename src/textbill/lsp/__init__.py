"""The language server (`textbill lsp`): editor features over the library, on pygls."""
