"""Command modules: each attaches its click commands to `textbill.cli.main` on import."""
