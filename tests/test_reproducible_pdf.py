"""PDFs are byte-reproducible whichever font subsetter WeasyPrint uses (issue 13, Setup).

Without libharfbuzz-subset, WeasyPrint subsets fonts with fontTools, whose TTFont.save stamps
each font's `head.modified` with the current time.  Two builds of the example ledger more than
a second apart must still give the same bytes, on both paths.
"""
from __future__ import annotations

import os
import shutil
import time
from datetime import date
from pathlib import Path

import pytest

from textbill.building.run import build
from textbill.pipeline import analyze

EXAMPLE = Path(__file__).resolve().parent.parent / "example-ledger"
AS_OF = date(2026, 3, 31)

fonts = pytest.importorskip("weasyprint.pdf.fonts")


def pdfs_of(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*.pdf"))}


def count_calls(monkeypatch, name: str) -> list:
    """Record each call of Font.<name> (the subsetter WeasyPrint picked) and let it run."""
    calls: list = []
    original = getattr(fonts.Font, name)

    def spy(self, *args, **kwargs):
        calls.append(self.family)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(fonts.Font, name, spy)
    return calls


def two_builds(tmp_path: Path, calls: list) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The example ledger's PDFs built twice, in-process, more than a second apart, each build
    from a fresh copy of the ledger (no cache carried over) and checked to have subset fonts."""
    results = []
    for n in (1, 2):
        if n == 2:
            time.sleep(1.1)
        folder = tmp_path / f"ledger{n}"
        shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("build", ".textbill"))
        before = len(calls)
        report = build(analyze(folder), tmp_path / f"out{n}", AS_OF, formats=("pdf",), jobs=1)
        assert report.ok
        assert len(calls) > before, "the subsetter under test never ran"
        results.append(pdfs_of(tmp_path / f"out{n}"))
    return results[0], results[1]


def assert_identical(one: dict[str, bytes], two: dict[str, bytes]) -> None:
    assert len(one) >= 10 and sorted(one) == sorted(two)
    different = [name for name in one if one[name] != two[name]]
    assert not different, f"PDFs differ between two builds: {different}"


def test_pdfs_are_identical_with_the_fonttools_subsetter(tmp_path, monkeypatch):
    monkeypatch.setattr(fonts, "harfbuzz_subset", None)
    calls = count_calls(monkeypatch, "_fonttools_subset")
    harfbuzz = count_calls(monkeypatch, "_harfbuzz_subset")
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    one, two = two_builds(tmp_path, calls)
    assert harfbuzz == []
    assert_identical(one, two)


def test_pdfs_are_identical_with_the_harfbuzz_subsetter(tmp_path, monkeypatch):
    if fonts.harfbuzz_subset is None:
        pytest.skip("libharfbuzz-subset0 is not installed here")
    calls = count_calls(monkeypatch, "_harfbuzz_subset")
    fonttools = count_calls(monkeypatch, "_fonttools_subset")
    one, two = two_builds(tmp_path, calls)
    assert fonttools == []
    assert_identical(one, two)


def test_rendering_leaves_the_environment_as_it_was(tmp_path, monkeypatch):
    """The fixed instant is pinned only while WeasyPrint runs: a caller's SOURCE_DATE_EPOCH (or
    its absence) is back afterwards, and it does not change the bytes."""
    from textbill.render.pdf import html_to_pdf

    html = ('<html><head><meta name="dcterms.created" content="2026-01-31"></head>'
            '<body><p>Total due 481.91</p></body></html>')
    monkeypatch.setattr(fonts, "harfbuzz_subset", None)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    first = html_to_pdf(html, base_url=str(tmp_path))
    assert "SOURCE_DATE_EPOCH" not in os.environ
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1234567890")
    assert html_to_pdf(html, base_url=str(tmp_path)) == first
    assert os.environ["SOURCE_DATE_EPOCH"] == "1234567890"
