"""core: source spans, diagnostics and their registry, money, the typed model, numbering, periods.

Imports nothing else from textbill, does no I/O and never reads the clock.
"""
