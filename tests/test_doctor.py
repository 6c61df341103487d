"""`textbill doctor`: reports what this machine has of what textbill needs, and how to install the rest."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from textbill.workflow import doctor as doctor_mod

sys.path.insert(0, str(Path(__file__).parent))
from conftest import cli
from test_quickstart import readme_packages

fonts = pytest.importorskip("weasyprint.pdf.fonts")

PDF_ROWS = ("Python", "textbill", "WeasyPrint", "Pango", "HarfBuzz", "HarfBuzz-subset", "fontconfig",
            "fonts of theme default", "fonts of theme modern", "font DejaVu Sans")
TOOL_ROWS = ("git", "hledger", "bean-check", "chromium", "chromedriver", "pdftotext", "saxonche")


def doctor_json(*extra: str):
    r = cli("doctor", "--format", "json", *extra)
    return r, r.json()


def by_name(report: dict) -> dict[str, dict]:
    return {c["name"]: c for c in report["checks"]}


def test_doctor_reports_on_this_machine():
    r, report = doctor_json()
    checks = by_name(report)
    for name in (*PDF_ROWS, *TOOL_ROWS):
        assert name in checks, name
    # this machine renders PDFs (the PDF tests run here): everything required is there
    assert report["ok"] is True and r.code == 0, r
    for name in ("Python", "WeasyPrint", "Pango", "HarfBuzz", "fontconfig", "fonts of theme default"):
        assert checks[name]["status"] == "ok" and checks[name]["required"] is True, checks[name]
    assert re.fullmatch(r"\d+\.\d+\.\d+", checks["Pango"]["found"]), checks["Pango"]
    assert checks["fonts of theme default"]["found"].startswith("4 fonts: NotoSans-Regular.ttf")
    for name in TOOL_ROWS:
        assert checks[name]["required"] is False, name
        assert checks[name]["status"] in ("ok", "missing")
        assert (checks[name]["hint"] == "") == (checks[name]["status"] == "ok"), checks[name]
    table = cli("doctor")
    assert table.code == 0, table
    assert "HarfBuzz-subset" in table.out and "everything required is there" in table.out


def test_harfbuzz_subset_missing_is_reported_with_its_package(monkeypatch):
    monkeypatch.setattr(fonts, "harfbuzz_subset", None)
    r, report = doctor_json()
    subset = by_name(report)["HarfBuzz-subset"]
    assert subset["status"] == "missing" and subset["required"] is False
    assert subset["hint"] == "sudo apt-get install libharfbuzz-subset0"
    assert "sudo apt-get install" in report["install"][0] and "libharfbuzz-subset0" in report["install"][0]
    # optional: PDFs are still made (with fontTools), so the exit code stays 0
    assert report["ok"] is True and r.code == 0
    table = cli("doctor")
    assert table.code == 0
    assert "HarfBuzz-subset missing: sudo apt-get install libharfbuzz-subset0" in table.out


def test_a_missing_required_piece_exits_1_with_its_hint(tmp_path, monkeypatch):
    # a broken install: the default theme's fonts.css names a font file that is not there
    theme = tmp_path / "themes" / "default"
    (theme / "fonts").mkdir(parents=True)
    (theme / "fonts.css").write_text('@font-face { font-family: "textbill Sans"; src: url("fonts/Gone.ttf"); }\n')
    monkeypatch.setattr(doctor_mod, "bundled_themes", lambda: tmp_path / "themes")
    monkeypatch.setattr(doctor_mod, "bundled_names", lambda: ("default",))
    r, report = doctor_json()
    row = by_name(report)["fonts of theme default"]
    assert row["status"] == "missing" and row["required"] is True and "Gone.ttf" in row["found"]
    assert row["hint"] == doctor_mod.REINSTALL
    assert report["ok"] is False and r.code == 1
    table = cli("doctor")
    assert table.code == 1 and "a required piece is missing" in table.out


def test_without_weasyprint_the_libraries_are_still_checked(monkeypatch):
    # WeasyPrint not importable: its row says how to install it; Pango, HarfBuzz and fontconfig are
    # probed directly, and the exit code is 1
    for name in [m for m in sys.modules if m == "weasyprint" or m.startswith("weasyprint.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    r, report = doctor_json()
    checks = by_name(report)
    assert checks["WeasyPrint"]["status"] == "missing" and checks["WeasyPrint"]["hint"] == "pip install weasyprint"
    for name in ("Pango", "HarfBuzz", "fontconfig", "HarfBuzz-subset", "fonts of theme default"):
        assert checks[name]["status"] == "ok", checks[name]
    assert report["ok"] is False and r.code == 1


def test_every_apt_package_doctor_suggests_is_named_in_the_readme():
    suggested = {pkg for c in doctor_mod.diagnose() if c.name != "Python" and c.hint.startswith("sudo apt-get install ")
                 for pkg in c.hint.split()[3:]}
    assert suggested and suggested <= readme_packages(), suggested - readme_packages()
