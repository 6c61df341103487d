"""Coverage-guided fuzzing of the front end and the engine with atheris.

    pip install atheris
    python fuzz/fuzz_ledger.py -atheris_runs=200000 fuzz/corpus     # or -max_total_time=3600

The input bytes are a ledger file.  Every input must end in diagnostics, never in an
exception: `analyze` (parse, checks, invoices, receivables, locks) runs on it, and when the
ledger is clean the invoices are rendered to HTML.  Seeds: fuzz/corpus/ (the example ledger
and the error catalogue).  Findings and their fixes are listed in fuzz/README.md.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from textbill.pipeline import analyze

WORK = Path(tempfile.mkdtemp(prefix="textbill-fuzz-"))
TARGET = WORK / "ledger.bill"
RENDER = os.environ.get("TEXTBILL_FUZZ_RENDER") == "1"


def one_input(data: bytes) -> None:
    TARGET.write_bytes(data)
    analysis = analyze(WORK, cache=False)
    if RENDER and analysis.ok:
        from textbill.render.html import render_invoice

        for doc in analysis.books.invoices.values():
            render_invoice(analysis, doc)


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
