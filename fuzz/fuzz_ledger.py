"""Coverage-guided fuzzing of the loader, the front end and the engine with atheris.

    pip install atheris
    python fuzz/fuzz_ledger.py -atheris_runs=200000 fuzz/corpus     # or -max_total_time=3600

The input bytes are a ledger folder: split at the byte 0x1E (ASCII record separator), the first
part is the folder's `textbill.yaml` (left out when empty) and each further part one ledger file
(`books/<n>.bill`); an input without 0x1E is a single `ledger.bill` (the older seeds).  Every
input must end in diagnostics, never in an exception: `analyze` (load and config, parse, checks,
invoices, receivables, locks) runs on it, and when the ledger is clean and TEXTBILL_FUZZ_RENDER=1
the invoices are rendered to HTML.  Seeds: fuzz/corpus/ (the example ledger, the error catalogue
and its folder cases).  Findings and their fixes are listed in fuzz/README.md.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from textbill.pipeline import analyze

WORK = Path(tempfile.mkdtemp(prefix="textbill-fuzz-"))
SEPARATOR = b"\x1e"
MAX_FILES = 8
RENDER = os.environ.get("TEXTBILL_FUZZ_RENDER") == "1"


def write_folder(data: bytes) -> None:
    """The input as a ledger folder in WORK (emptied first)."""
    for entry in WORK.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    if SEPARATOR not in data:
        (WORK / "ledger.bill").write_bytes(data)
        return
    config, *files = data.split(SEPARATOR)[: MAX_FILES + 1]
    if config:
        (WORK / "textbill.yaml").write_bytes(config)
    books = WORK / "books"
    books.mkdir()
    for n, content in enumerate(files):
        (books / f"{n}.bill").write_bytes(content)


def one_input(data: bytes) -> None:
    write_folder(data)
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
