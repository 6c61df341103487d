"""load: textbill.yaml and the ledger's files; the one place where ledger files are read."""
