"""`textbill build`: outputs, incremental rebuilds, reproducibility, pruning, safety.

Most tests build HTML only (fast); the reproducibility test renders a few PDFs.
"""
from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import pytest

from textbill.building import manifest as build_manifest
from textbill.building import outputs as build_outputs
from textbill.building import plan as build_plan
from textbill.building import run as build_mod
from textbill.building import site as build_site
from textbill.building.manifest import MANIFEST
from textbill.building.plan import output_names
from textbill.building.run import build
from textbill.building.spec import BuildError
from textbill.pipeline import analyze

sys.path.insert(0, str(Path(__file__).parent))
from conftest import cli
from test_render_html import LEDGER, PNG, clean, make_ledger

AS_OF = date(2026, 4, 30)

SECOND_INVOICE = """
2026-02-28 invoice FV/2026/0002 globex
  item "Support" 1 x 80.00
"""


def files_of(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def run(folder: Path, out: Path, **kw):
    kw.setdefault("formats", ("html",))
    kw.setdefault("jobs", 1)
    return build(clean(folder), out, AS_OF, **kw)


def test_build_writes_every_document(tmp_path):
    folder = make_ledger(tmp_path / "l", LEDGER + SECOND_INVOICE)
    out = tmp_path / "out"
    report = run(folder, out)
    assert report.ok and report.documents == 6 and len(report.rendered) == 6
    names = set(files_of(out))
    for expected in ["invoices/FV-2026-0001.html", "invoices/FV-2026-0002.html", "credit-notes/KOR-2026-0001.html",
                     "statements/globex.html", "reports/overdue.html", "model.json", "index.html", MANIFEST]:
        assert expected in names, expected
    assert not any(n.endswith(".pdf") for n in names)
    text = (out / "model.json").read_text(encoding="utf-8")
    model = json.loads(text)
    # put together from its parts, it is what json.dumps writes of the whole
    assert text == json.dumps(model, indent=2, ensure_ascii=False) + "\n"
    inv = model["invoices"][0]
    assert inv["number"] == "FV/2026/0001" and inv["total"] == "481.91" and inv["status"] == "overdue"
    assert inv["lines"][0]["description"] == "Design" and inv["tax_groups"][1]["tax"] == "VAT 8%"
    assert inv["files"] == {"html": "invoices/FV-2026-0001.html"}
    assert model["credit_notes"][0]["invoice"] == "FV/2026/0001" and model["credit_notes"][0]["amount"] == "100.00"
    assert model["overdue"][0]["invoice"] == "FV/2026/0001"
    assert "Build &amp; test" in (out / "invoices/FV-2026-0001.html").read_text()


def test_two_builds_give_byte_identical_files(tmp_path):
    folder = make_ledger(tmp_path / "l")
    a = clean(folder)
    first = build(a, tmp_path / "one", AS_OF, formats=("html", "pdf"), jobs=2)
    second = build(analyze(folder), tmp_path / "two", AS_OF, formats=("html", "pdf"), jobs=1)
    assert first.ok and second.ok
    one, two = files_of(tmp_path / "one"), files_of(tmp_path / "two")
    one.pop(".textbill-build.lock", None), two.pop(".textbill-build.lock", None)
    # the manifest records where and when its files were written (the no-op check); the rest is the same
    manifests = [json.loads(files.pop(MANIFEST)) for files in (one, two)]
    assert [{k: v for k, v in m.items() if k != "noop"} for m in manifests] == \
        [{k: v for k, v in manifests[0].items() if k != "noop"}] * 2
    assert sorted(one) == sorted(two)
    assert sum(name.endswith(".pdf") for name in one) == 5
    for name in one:
        assert one[name] == two[name], name


def test_html_pages_in_forked_workers_are_the_same_as_on_one_job(tmp_path, monkeypatch):
    """--jobs 2 renders HTML pages in forked workers (from HTML_FORK_MIN of them): the same bytes as one job."""
    forked = []
    real = build_mod._run_forked

    def spy(context, todo, workers, *args, **kwargs):
        forked.append((len(todo), workers, kwargs.get("need_pdf")))
        return real(context, todo, workers, *args, **kwargs)

    monkeypatch.setattr(build_mod, "_run_forked", spy)
    folder = make_ledger(tmp_path / "l", LEDGER + SECOND_INVOICE)
    formats = ("html", "json", "csv")
    monkeypatch.setattr(build_mod, "HTML_FORK_MIN", 7)  # 6 documents: not worth a fork
    assert run(folder, tmp_path / "few", formats=formats, jobs=2).ok and forked == []
    monkeypatch.setattr(build_mod, "HTML_FORK_MIN", 2)
    ahead = []
    real_result = build_mod._SiteAhead.result
    monkeypatch.setattr(build_mod._SiteAhead, "result",
                        lambda self, done: ahead.append(real_result(self, done)) or ahead[-1])
    two = run(folder, tmp_path / "two", formats=formats, jobs=2)
    assert forked == [(6, 2, False)]
    assert len(ahead) == 1 and ahead[0] is not None  # the site was made beside the pages, and taken
    one = run(folder, tmp_path / "one", formats=formats, jobs=1)
    assert forked == [(6, 2, False)] and two.ok and one.ok
    assert sorted(two.rendered) == sorted(one.rendered) and len(one.rendered) == 6
    files = [files_of(tmp_path / name) for name in ("one", "two", "few")]
    manifests = [json.loads(f.pop(MANIFEST)) for f in files]
    for f in files:
        f.pop(".textbill-build.lock", None)
    assert [{k: v for k, v in m.items() if k != "noop"} for m in manifests] == \
        [{k: v for k, v in manifests[0].items() if k != "noop"}] * 3
    assert sorted(files[0]) == sorted(files[1]) == sorted(files[2])
    assert sum(name.endswith(".html") for name in files[0]) >= 6
    for name in files[0]:
        assert files[0][name] == files[1][name] == files[2][name], name


def test_a_noop_rebuild_renders_nothing(tmp_path):
    folder = make_ledger(tmp_path / "l")
    out = tmp_path / "out"
    run(folder, out)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.html")}
    report = run(folder, out)
    assert report.rendered == [] and report.unchanged == 5 and report.written == [] and report.removed == []
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.html")} == before


def test_only_the_changed_document_is_rendered(tmp_path):
    folder = make_ledger(tmp_path / "l", LEDGER + SECOND_INVOICE)
    out = tmp_path / "out"
    run(folder, out)
    (folder / "ledger.bill").write_text((LEDGER + SECOND_INVOICE).replace('"Support"', '"Support hours"'))
    report = run(folder, out)
    # the statement and the report show totals and numbers, not line descriptions
    assert report.rendered == ["invoice:FV/2026/0002"]
    assert "Support hours" in (out / "invoices/FV-2026-0002.html").read_text()


def test_a_payment_rerenders_the_statement_and_report_not_the_invoices(tmp_path):
    folder = make_ledger(tmp_path / "l")
    out = tmp_path / "out"
    run(folder, out)
    (folder / "ledger.bill").write_text(LEDGER + '\n2026-03-01 payment globex 50.00 for FV/2026/0001\n')
    report = run(folder, out)
    assert sorted(report.rendered) == ["report:overdue", "statement:globex"]


def test_the_theme_and_format_are_part_of_the_hash(tmp_path):
    folder = make_ledger(tmp_path / "l", config="theme: mine\n")
    (folder / "mine").mkdir()
    (folder / "mine" / "style.css").write_text("body { color: #111; }")
    out = tmp_path / "out"
    run(folder, out)
    (folder / "mine" / "style.css").write_text("body { color: #222; }")
    assert len(run(folder, out).rendered) == 5
    report = run(folder, out, formats=("html", "json"))
    assert len(report.rendered) == 5 and (out / "invoices/FV-2026-0001.json").is_file()
    assert not any(f.endswith(".html") for f in report.written if "/" in f)  # the HTML was up to date
    # an HTML-only build keeps the JSON that is still up to date ...
    report = run(folder, out)
    assert report.rendered == [] and (out / "invoices/FV-2026-0001.json").is_file()
    # ... and removes it once it is out of date (a changed theme changes every document)
    (folder / "mine" / "style.css").write_text("body { color: #333; }")
    report = run(folder, out)
    assert not (out / "invoices/FV-2026-0001.json").exists()
    assert "invoices/FV-2026-0001.json" in report.removed


def test_force_renders_everything(tmp_path):
    folder = make_ledger(tmp_path / "l")
    out = tmp_path / "out"
    run(folder, out)
    assert len(run(folder, out, force=True).rendered) == 5


def test_a_deleted_output_is_rendered_again(tmp_path):
    folder = make_ledger(tmp_path / "l")
    out = tmp_path / "out"
    run(folder, out)
    (out / "invoices/FV-2026-0001.html").unlink()
    assert run(folder, out).rendered == ["invoice:FV/2026/0001"]
    assert (out / "invoices/FV-2026-0001.html").is_file()


def test_outputs_of_removed_documents_are_deleted_but_nothing_else(tmp_path):
    folder = make_ledger(tmp_path / "l", LEDGER + SECOND_INVOICE)
    out = tmp_path / "out"
    run(folder, out)
    (out / "invoices" / "my-notes.txt").write_text("mine")
    (out / "README.txt").write_text("mine too")
    (folder / "ledger.bill").write_text(LEDGER)
    report = run(folder, out)
    assert report.removed == ["invoices/FV-2026-0002.html"]
    assert not (out / "invoices/FV-2026-0002.html").exists()
    assert (out / "invoices" / "my-notes.txt").read_text() == "mine" and (out / "README.txt").is_file()


def test_a_tampered_manifest_cannot_delete_outside_the_output(tmp_path):
    folder = make_ledger(tmp_path / "l")
    out = tmp_path / "out"
    run(folder, out)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["documents"]["invoice:GONE"] = {"hash": "x", "files": ["../victim.txt", "/etc/hostname"]}
    manifest["site"].append("../victim.txt")
    (out / MANIFEST).write_text(json.dumps(manifest))
    run(folder, out)
    assert victim.read_text() == "keep me"


def test_output_names_are_slugs_without_collisions():
    names = output_names("invoice", ["FV/2026/0001", "FV-2026-0001", "fv-2026-0001", "../../x", "A B"])
    assert names["FV-2026-0001"] == "invoices/FV-2026-0001"
    assert names["FV/2026/0001"].startswith("invoices/FV-2026-0001-")
    assert names["fv-2026-0001"].startswith("invoices/fv-2026-0001-")
    assert len({n.casefold() for n in names.values()}) == 5
    assert names["../../x"] == "invoices/x" and names["A B"] == "invoices/A-B"
    # a name does not depend on which other documents exist
    assert output_names("invoice", ["FV/2026/0001", "FV-2026-0001"])["FV/2026/0001"] == names["FV/2026/0001"]


def test_json_and_csv_formats(tmp_path):
    folder = make_ledger(tmp_path / "l")
    out = tmp_path / "out"
    run(folder, out, formats=("json", "csv"))
    doc = json.loads((out / "invoices/FV-2026-0001.json").read_text())
    assert doc["total"] == "481.91"
    csv = (out / "invoices/FV-2026-0001.csv").read_text().splitlines()
    assert csv[0] == "date,kind,description,sow,quantity,unit,unit_price,amount,tax,person,person_name"
    assert csv[1].startswith("2026-01-05,time,Design,globex/web,2.5,h,100,250.00,VAT 23%")
    assert (out / "statements/globex.csv").read_text().startswith("date,kind,ref,amount,balance")
    assert not (out / "invoices/FV-2026-0001.html").exists()


def test_a_missing_einvoice_format_is_a_warning(tmp_path, monkeypatch):
    from textbill.render.einvoice import writers as einvoice

    def unavailable(*args, **kwargs):
        raise NotImplementedError

    monkeypatch.setattr(einvoice, "ubl_xml", unavailable)
    report = run(make_ledger(tmp_path / "l"), tmp_path / "out", formats=("html", "ubl"))
    assert report.ok
    assert report.warnings == ["format 'ubl' is not available in this version of textbill; skipped"]
    assert not list((tmp_path / "out").rglob("*.xml"))


def test_one_failing_document_does_not_stop_the_others(tmp_path, monkeypatch):
    from textbill.render import html

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(html, "render_credit_note", broken)
    out = tmp_path / "out"
    report = run(make_ledger(tmp_path / "l"), out)
    assert not report.ok and report.failures == ["credit-note:KOR/2026/0001: RuntimeError: boom"]
    assert (out / "invoices/FV-2026-0001.html").is_file() and (out / "statements/globex.html").is_file()
    monkeypatch.undo()
    assert run(make_ledger(tmp_path / "l"), out).rendered == ["credit-note:KOR/2026/0001"]  # retried


def test_a_crash_while_writing_leaves_no_half_written_file(tmp_path, monkeypatch):
    from textbill.loading import writer

    folder = make_ledger(tmp_path / "l")
    out = tmp_path / "out"
    run(folder, out)
    old = (out / "invoices/FV-2026-0001.html").read_bytes()
    (folder / "ledger.bill").write_text(LEDGER.replace('"Thank you"', '"Thanks a lot"'))

    def crash(tmp, path):
        if path.name == "FV-2026-0001.html":
            raise OSError("disk full")

    monkeypatch.setattr(writer, "_before_rename", crash)
    report = run(folder, out)
    assert report.failures and (out / "invoices/FV-2026-0001.html").read_bytes() == old
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    monkeypatch.undo()
    assert run(folder, out).rendered == ["invoice:FV/2026/0001"]
    assert "Thanks a lot" in (out / "invoices/FV-2026-0001.html").read_text()


def test_progress_is_reported(tmp_path):
    calls = []
    run(make_ledger(tmp_path / "l"), tmp_path / "out", progress=lambda done, total, key: calls.append((done, total)))
    assert calls[0] == (0, 5) and calls[-1] == (5, 5)


def test_the_library_refuses_a_ledger_with_errors(tmp_path):
    folder = make_ledger(tmp_path / "l", LEDGER.replace("invoice FV/2026/0001 globex", "invoice FV/2026/0001 globx"))
    with pytest.raises(BuildError, match="errors"):
        build(analyze(folder), tmp_path / "out", AS_OF, formats=("html",))
    assert not (tmp_path / "out").exists()


def test_a_logo_outside_the_ledger_is_never_read(tmp_path):
    (tmp_path / "logo.png").write_bytes(PNG)
    folder = make_ledger(tmp_path / "l", LEDGER.replace('  currency PLN\n', '  currency PLN\n  logo "../logo.png"\n', 1))
    a = analyze(folder)
    if a.ok:  # the checks may let it through; the build still does not read it
        report = build(a, tmp_path / "out", AS_OF, formats=("html",), jobs=1)
        assert any("outside the ledger" in w for w in report.warnings)
        assert "data:image" not in (tmp_path / "out/invoices/FV-2026-0001.html").read_text()
    else:
        with pytest.raises(BuildError):
            build(a, tmp_path / "out", AS_OF, formats=("html",))


# ---------------------------------------------------------------------------- the command

def test_cli_build_writes_into_the_configured_folder(tmp_path):
    folder = make_ledger(tmp_path / "l", config="out: site\nformats: [html]\n")
    r = cli("build", folder, "--as-of", "2026-04-30")
    assert r.code == 0, r
    assert (folder / "site/invoices/FV-2026-0001.html").is_file()
    assert "built 5 documents, 5 rendered, 0 unchanged" in r.err
    r = cli("build", folder, "--as-of", "2026-04-30")
    assert "0 rendered, 5 unchanged" in r.err


def test_cli_build_options(tmp_path):
    folder = make_ledger(tmp_path / "l")
    out = tmp_path / "elsewhere"
    r = cli("build", "-f", folder, "--out", out, "--as-of", "2026-04-30", "--format", "html,json", "-j", "1")
    assert r.code == 0, r
    assert (out / "invoices/FV-2026-0001.json").is_file() and not (folder / "build").exists()
    r = cli("build", folder, "--format", "docx")
    assert r.code == 2 and "unknown format 'docx'" in r.err


def test_cli_build_refuses_a_ledger_with_errors(tmp_path):
    folder = make_ledger(tmp_path / "l", LEDGER.replace("invoice FV/2026/0001 globex", "invoice FV/2026/0001 globx"))
    r = cli("build", folder, "--format", "html")
    assert r.code == 1 and "globx" in r.err
    assert not (folder / "build").exists()


def test_cli_build_reports_an_unknown_theme(tmp_path):
    folder = make_ledger(tmp_path / "l", config="theme: nope\n")
    r = cli("build", folder, "--format", "html")
    assert r.code == 1 and "unknown theme 'nope'" in r.err


def test_state_is_cleared_after_a_build(tmp_path):
    run(make_ledger(tmp_path / "l"), tmp_path / "out")
    # the jobs' context is handed to the workers as an argument: no module keeps the analysis
    for module in (build_manifest, build_outputs, build_plan, build_mod, build_site):
        assert not hasattr(module, "_STATE")


def test_model_json_follows_every_status_change(tmp_path):
    folder = make_ledger(tmp_path / "l")
    out = tmp_path / "out"
    run(folder, out)
    (folder / "ledger.bill").write_text(LEDGER + '\n2026-04-01 collections FV/2026/0001 "Inkasso GmbH"\n')
    report = run(folder, out)
    assert "model.json" in report.written
    assert json.loads((out / "model.json").read_text())["invoices"][0]["status"] == "collections"


def test_statements_from_the_per_client_split_are_the_same():
    from textbill.engine.statement import statement
    from textbill.render.json import statement_doc

    a = analyze(Path(__file__).resolve().parents[1] / "example-ledger")
    rec = a.receivables(AS_OF)
    split = build_plan.by_client(rec)
    for cid in a.ledger.clients:
        whole = statement_doc(statement(a.ledger, rec, cid, None))
        assert statement_doc(statement(a.ledger, split[cid], cid, None)) == whole


def test_cli_build_out_on_a_file_or_an_unwritable_path_is_a_usage_error(tmp_path):
    """Issue 13: `build -o FILE` (or a path textbill cannot create) said "internal error … this is
    a bug"; it is a usage error (exit 2) naming the path, and the file is left alone."""
    folder = make_ledger(tmp_path / "l")
    existing = tmp_path / "report.pdf"
    existing.write_bytes(b"%PDF-1.7 mine")
    r = cli("build", folder, "-o", existing, "--format", "html", "--as-of", "2026-04-30")
    assert r.code == 2, r
    assert "exists and is not a folder" in r.err and "internal error" not in r.err
    assert existing.read_bytes() == b"%PDF-1.7 mine"
    r = cli("build", folder, "-o", existing / "sub", "--format", "html", "--as-of", "2026-04-30")
    assert r.code == 2 and "cannot create the output folder" in r.err, r
    if Path("/sys").is_dir():  # not writable even by root
        r = cli("build", folder, "-o", "/sys/textbill-out", "--format", "html", "--as-of", "2026-04-30")
        assert r.code == 2 and "cannot create the output folder /sys/textbill-out" in r.err, r


def test_a_site_made_ahead_from_other_files_is_made_again(tmp_path, monkeypatch):
    """The dashboard and model.json made beside the forked pages name the files the pages will
    have; when the pages wrote others, the site is made again after them: the same bytes as one job."""
    folder = make_ledger(tmp_path / "l", LEDGER + SECOND_INVOICE)
    formats = ("html", "json", "csv")
    monkeypatch.setattr(build_mod, "HTML_FORK_MIN", 2)
    one = run(folder, tmp_path / "one", formats=formats, jobs=1)
    ahead = []
    real_result = build_mod._SiteAhead.result
    monkeypatch.setattr(build_mod._SiteAhead, "result",
                        lambda self, done: ahead.append(real_result(self, done)) or ahead[-1])
    monkeypatch.setattr(build_mod, "SUFFIXES", {**build_mod.SUFFIXES, "html": ".htm"})  # a wrong guess
    two = run(folder, tmp_path / "two", formats=formats, jobs=2)
    assert one.ok and two.ok and ahead == [None]
    files = [files_of(tmp_path / name) for name in ("one", "two")]
    for f in files:
        f.pop(MANIFEST)
        f.pop(".textbill-build.lock", None)
    assert sorted(files[0]) == sorted(files[1])
    for name in files[0]:
        assert files[0][name] == files[1][name], name


def test_the_terminal_progress_bar_runs_no_thread_so_the_build_may_fork(monkeypatch):
    """The bar is drawn as the build reports: no refresh thread, so forkable() stays true."""
    import io
    import threading

    import rich.console

    from textbill.cli import build as build_cli
    from textbill.loading.forked import forkable

    screen = io.StringIO()
    real = rich.console.Console
    monkeypatch.setattr(build_cli, "stderr_is_tty", lambda: True)
    monkeypatch.setattr(rich.console, "Console", lambda **kw: real(file=screen, force_terminal=True, width=100))
    before = threading.active_count()
    with build_cli._progress() as update:
        assert update is not None
        update(0, 3, "")
        update(2, 3, "invoice:INV-1")
        assert threading.active_count() == before and (before > 1 or forkable())
        assert "2/3" in screen.getvalue() and "invoice:INV-1" in screen.getvalue()
