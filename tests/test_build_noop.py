"""`textbill build` keeps what is up to date: the no-op fast path, outputs of other formats, and
the dashboard's theme errors.  Behaviour only; bench/bench_build.py measures the times."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from textbill.building import outputs as build_outputs
from textbill.building.manifest import MANIFEST
from textbill.building.run import build, new_pool
from textbill.building.spec import BuildError
from textbill.pipeline import _Cached, analyze
from textbill.render.json import dumps

sys.path.insert(0, str(Path(__file__).parent))
from conftest import cli
from test_build import AS_OF, SECOND_INVOICE, files_of
from test_render_html import LEDGER, PNG, make_ledger


def fake_pdf(html, base_url, theme, xml, memo=None):
    """A stand-in for WeasyPrint: a 'PDF' that changes with its page."""
    return b"%PDF-fake " + hashlib.sha256(html.encode()).hexdigest().encode(), [], None


@pytest.fixture
def pdfs(monkeypatch):
    monkeypatch.setattr(build_outputs, "pdf_of", fake_pdf)


def run(folder: Path, out: Path, **kw):
    kw.setdefault("formats", ("html",))
    kw.setdefault("jobs", 1)
    return build(analyze(folder), out, AS_OF, **kw)


# ---------------------------------------------------------------------------- the no-op fast path

def test_an_unchanged_ledger_is_not_even_computed(tmp_path):
    folder = make_ledger(tmp_path / "l")
    out = tmp_path / "out"
    first = run(folder, out)
    assert first.ok and not first.noop and len(first.rendered) == 5
    before = files_of(out)
    analysis = analyze(folder)
    assert isinstance(analysis, _Cached)  # from the check cache
    report = build(analysis, out, AS_OF, formats=("html",))
    assert report.noop and report.documents == 5 and report.unchanged == 5 and report.rendered == []
    assert analysis._full is None  # the books were never computed
    assert files_of(out) == before


@pytest.mark.parametrize("change", ["ledger", "config", "theme", "dashboard template", "as-of", "formats",
                                    "deleted output", "edited output", "edited site file", "force"])
def test_any_changed_input_or_output_means_a_real_build(tmp_path, change):
    folder = make_ledger(tmp_path / "l", config="theme: mine\n")
    (folder / "mine").mkdir()
    (folder / "mine" / "style.css").write_text("body { color: #111; }")
    out = tmp_path / "out"
    run(folder, out)
    assert run(folder, out).noop
    kw = {}
    if change == "ledger":
        (folder / "ledger.bill").write_text(LEDGER.replace('"Thank you"', '"Thanks"'))
    elif change == "config":
        (folder / "textbill.yaml").write_text("theme: mine\nlocale: de\n")
    elif change == "theme":
        (folder / "mine" / "style.css").write_text("body { color: #222; }")
    elif change == "dashboard template":  # not part of any document's hash, but of the dashboard's
        (folder / "mine" / "site.css").write_text("body { color: #333; }")
    elif change == "as-of":
        kw["as_of"] = AS_OF.replace(day=29)
    elif change == "formats":
        kw["formats"] = ("html", "json")
    elif change == "deleted output":
        (out / "invoices/FV-2026-0001.html").unlink()
    elif change == "edited output":
        (out / "invoices/FV-2026-0001.html").write_text("<p>mine</p>")
    elif change == "edited site file":
        (out / "index.html").write_text("<p>mine</p>")
    else:
        kw["force"] = True
    day = kw.pop("as_of", AS_OF)
    report = build(analyze(folder), out, day, jobs=1, **{"formats": ("html",), **kw})
    assert not report.noop
    if change in ("deleted output", "edited output"):
        assert report.rendered == ["invoice:FV/2026/0001"]
    if change == "edited site file":
        assert "index.html" in report.written and "<p>mine</p>" not in (out / "index.html").read_text()


def test_the_logo_is_an_input_and_its_warning_is_repeated(tmp_path):
    folder = make_ledger(tmp_path / "l", LEDGER.replace('  currency PLN\n', '  currency PLN\n  logo "logo.png"\n', 1))
    (folder / "logo.png").write_bytes(PNG)
    out = tmp_path / "out"
    run(folder, out)
    assert run(folder, out).noop
    (folder / "logo.png").write_bytes(PNG + b"\0")
    report = run(folder, out)
    assert not report.noop and len(report.rendered) == 5  # the logo is in every document
    (folder / "logo.png").unlink()
    report = run(folder, out)
    assert not report.noop and any("does not exist" in w for w in report.warnings)
    again = run(folder, out)
    assert again.noop and again.warnings == report.warnings


def test_a_build_with_failures_is_never_a_noop(tmp_path, monkeypatch):
    from textbill.render import html

    folder = make_ledger(tmp_path / "l")
    out = tmp_path / "out"

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(html, "render_credit_note", broken)
    assert not run(folder, out).ok
    assert "noop" not in json.loads((out / MANIFEST).read_text())
    monkeypatch.undo()
    report = run(folder, out)
    assert not report.noop and report.rendered == ["credit-note:KOR/2026/0001"]
    assert run(folder, out).noop


def test_without_the_cache_there_is_no_fast_path(tmp_path):
    folder = make_ledger(tmp_path / "l")
    out = tmp_path / "out"
    build(analyze(folder, cache=False), out, AS_OF, formats=("html",))
    report = build(analyze(folder, cache=False), out, AS_OF, formats=("html",))
    assert not report.noop and report.rendered == [] and report.unchanged == 5


def test_cli_noop_build(tmp_path):
    folder = make_ledger(tmp_path / "l", config="formats: [html]\n")
    assert cli("build", folder, "--as-of", "2026-04-30").code == 0
    r = cli("build", folder, "--as-of", "2026-04-30")
    assert r.code == 0 and "0 rendered, 5 unchanged" in r.err


# ---------------------------------------------------------------------------- outputs of other formats

def test_an_html_build_keeps_the_pdfs_that_are_up_to_date(tmp_path, pdfs):
    folder = make_ledger(tmp_path / "l", LEDGER + SECOND_INVOICE)
    out = tmp_path / "out"
    assert len(run(folder, out, formats=("html", "pdf")).rendered) == 6
    pdf_files = {f for f in files_of(out) if f.endswith(".pdf")}
    assert len(pdf_files) == 6
    # edit one invoice, preview it as HTML: the other PDFs stay, the out-of-date one goes
    (folder / "ledger.bill").write_text((LEDGER + SECOND_INVOICE).replace('"Support"', '"Support hours"'))
    report = run(folder, out, formats=("html",))
    assert report.rendered == ["invoice:FV/2026/0002"]
    assert report.removed == ["invoices/FV-2026-0002.pdf"]
    assert {f for f in files_of(out) if f.endswith(".pdf")} == pdf_files - {"invoices/FV-2026-0002.pdf"}
    model = json.loads((out / "model.json").read_text())
    files = {inv["number"]: inv["files"] for inv in model["invoices"]}
    assert files["FV/2026/0001"] == {"html": "invoices/FV-2026-0001.html", "pdf": "invoices/FV-2026-0001.pdf"}
    assert files["FV/2026/0002"] == {"html": "invoices/FV-2026-0002.html"}
    # then the PDFs: only the changed one is rendered, and nothing else is
    report = run(folder, out, formats=("html", "pdf"))
    assert report.rendered == ["invoice:FV/2026/0002"]
    assert [f for f in report.written if f.startswith("invoices/")] == ["invoices/FV-2026-0002.pdf"]
    manifest = json.loads((out / MANIFEST).read_text())
    assert set(manifest["documents"]["invoice:FV/2026/0001"]) == {"html", "pdf"}


def test_a_pdf_and_a_facturx_pdf_are_different_outputs(tmp_path, pdfs, monkeypatch):
    from textbill.render.einvoice import writers as einvoice

    monkeypatch.setattr(einvoice, "cii_xml", lambda ledger, doc, paid=0: b"<xml/>")  # paid: BT-113 (issue 21)
    folder = make_ledger(tmp_path / "l")
    out = tmp_path / "out"
    run(folder, out, formats=("html", "pdf"))
    report = run(folder, out, formats=("html", "facturx"))
    # invoices and credit notes become Factur-X; a statement's or report's PDF is the same PDF
    assert sorted(report.rendered) == ["credit-note:KOR/2026/0001", "invoice:FV/2026/0001"]


def test_a_version_1_manifest_without_digests_deletes_nothing(tmp_path):
    # issue 14.8: a build deletes only files whose content digest it recorded when writing them;
    # a manifest without digests (version 1, or planted) cannot prove that, so nothing is pruned
    folder = make_ledger(tmp_path / "l")
    out = tmp_path / "out"
    (out / "invoices").mkdir(parents=True)
    (out / "invoices" / "OLD.pdf").write_bytes(b"%PDF")
    (out / MANIFEST).write_text(json.dumps({"version": 1, "documents": {
        "invoice:OLD": {"hash": "x", "files": ["invoices/OLD.pdf"]}}, "site": [], "model": ""}))
    report = run(folder, out)
    assert report.removed == [] and len(report.rendered) == 5
    assert (out / "invoices" / "OLD.pdf").read_bytes() == b"%PDF"


# ---------------------------------------------------------------------------- model.json

def test_model_json_is_what_dumps_writes(tmp_path):
    folder = make_ledger(tmp_path / "l", LEDGER + SECOND_INVOICE)
    out = tmp_path / "out"
    run(folder, out, formats=("html", "json"))
    text = (out / "model.json").read_text()
    assert text == dumps(json.loads(text)) + "\n"
    # again, with the invoices' JSON from the previous build of this process
    (folder / "ledger.bill").write_text(LEDGER + SECOND_INVOICE + '\n2026-03-01 payment globex 50.00 for FV/2026/0002\n')
    run(folder, out, formats=("html", "json"))
    again = (out / "model.json").read_text()
    assert again == dumps(json.loads(again)) + "\n" and again != text
    model = json.loads(again)
    assert model["invoices"][1]["number"] == "FV/2026/0002" and model["invoices"][1]["paid"] == "50.00"


# ---------------------------------------------------------------------------- theme errors

def test_a_broken_dashboard_template_is_a_located_build_error(tmp_path):
    folder = make_ledger(tmp_path / "l", config="theme: mine\nformats: [html]\n")
    (folder / "mine").mkdir()
    (folder / "mine" / "client.html").write_text("<p>\n{{ client.name | nosuchfilter }}\n")
    out = tmp_path / "out"
    with pytest.raises(BuildError) as info:
        run(folder, out)
    message = str(info.value)
    assert "client.html:2" in message and "theme 'mine'" in message
    # the documents were built and recorded all the same: fixing the template renders none again
    assert (out / "invoices/FV-2026-0001.html").is_file()
    (folder / "mine" / "client.html").unlink()
    report = run(folder, out)
    assert report.ok and report.rendered == [] and (out / "index.html").is_file()


def test_a_runtime_error_in_a_dashboard_template_names_its_line(tmp_path):
    folder = make_ledger(tmp_path / "l", config="theme: mine\nformats: [html]\n")
    (folder / "mine").mkdir()
    (folder / "mine" / "client.html").write_text("<p>\n\n{{ no_such_name.x }}\n")
    with pytest.raises(BuildError, match=r"client\.html:3: theme 'mine'"):
        run(folder, tmp_path / "out")


def test_cli_reports_a_broken_dashboard_template(tmp_path):
    folder = make_ledger(tmp_path / "l", config="theme: mine\nformats: [html]\n")
    (folder / "mine").mkdir()
    (folder / "mine" / "dashboard.html").write_text("{% if %}\n")
    r = cli("build", folder, "--as-of", "2026-04-30")
    assert r.code == 1 and "dashboard.html:1" in r.err and "internal error" not in r.err.lower()


# ---------------------------------------------------------------------------- pools

@pytest.mark.skipif(not hasattr(os, "fork"), reason="compares with a forked pool")
def test_a_pool_of_another_start_method_makes_the_same_files(tmp_path):
    folder = make_ledger(tmp_path / "l")
    a = analyze(folder)
    build(a, tmp_path / "fork", AS_OF, formats=("html", "pdf"), jobs=2)
    with new_pool(2) as pool:
        report = build(a, tmp_path / "pool", AS_OF, formats=("html", "pdf"), pool=pool)
    assert report.ok and len(report.rendered) == 5
    one, two = files_of(tmp_path / "fork"), files_of(tmp_path / "pool")
    for files in (one, two):
        files.pop(MANIFEST), files.pop(".textbill-build.lock", None)
    assert one == two and sum(f.endswith(".pdf") for f in one) == 5


COMPILER = ("textbill.engine.invoices", "textbill.checks.ledger", "textbill.render.html", "textbill.building.run",
            "jinja2")
PROBE = """
import subprocess
import sys
from textbill.cli.main import main
try:
    main(sys.argv[1:], prog_name="textbill")
except SystemExit as exit:
    code = exit.code
print(code, sorted(m for m in {modules!r} if m in sys.modules))
"""


@pytest.mark.parametrize("command", ["check", "build"])
def test_an_unchanged_ledger_is_answered_without_importing_the_compiler(tmp_path, command):
    """A second `check`, or a `build` with nothing to do, comes from the check cache and the manifest:
    the engine, the checks and the renderers are not even imported (start-up is most of its cost)."""
    folder = make_ledger(tmp_path / "l", LEDGER)
    assert cli("lock", "-f", str(folder)).code == 0  # no W172: a ledger without diagnostics
    out = tmp_path / "out"
    args = ["check", str(folder)] if command == "check" else ["build", str(folder), "-o", str(out), "--format", "html"]
    probe = PROBE.format(modules=COMPILER)
    first = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, check=True)
    assert first.stdout.split(" ", 1)[0] == "0", first
    assert "textbill.engine.invoices" in first.stdout  # the first run computes
    again = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, check=True)
    assert again.stdout.strip() == "0 []", again.stdout + again.stderr
    if command == "build":
        assert "0 rendered" in again.stderr


def test_a_check_that_computes_does_not_import_the_builder(tmp_path):
    """`check` needs the engine and the checks, never the renderers or the build (0.3 s to import)."""
    folder = make_ledger(tmp_path / "l", LEDGER)
    probe = PROBE.format(modules=COMPILER)
    run = subprocess.run([sys.executable, "-c", probe, "check", "--no-cache", str(folder)], capture_output=True,
                         text=True, check=True)
    assert run.stdout.strip() == "0 ['textbill.checks.ledger', 'textbill.engine.invoices']", run.stdout + run.stderr


def test_a_build_with_nothing_to_do_but_warnings_takes_the_full_path(tmp_path):
    """The fast answer is only for a ledger without diagnostics: warnings are printed as before."""
    folder = make_ledger(tmp_path / "l", LEDGER)
    (folder / "ledger.bill").write_text((folder / "ledger.bill").read_text() + "\n2026-01-10 fx USD EUR 0.9\n")
    out = tmp_path / "out"
    first = cli("build", str(folder), "-o", str(out), "--format", "html")
    second = cli("build", str(folder), "-o", str(out), "--format", "html")
    assert first.code == second.code
    assert ("warning" in first.err) == ("warning" in second.err)
