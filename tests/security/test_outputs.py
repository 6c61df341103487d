"""Attacks on what `build` writes and deletes: symlinked output folders and a planted manifest.

The output folder and everything in it may come with the pull request.  `out: site` with
`site -> /elsewhere`, or a committed `build/invoices -> /elsewhere`, once made build write and
overwrite outside the ledger; a planted `.textbill-build.json` listing `company.bill` and
`textbill.lock`, with `build -o .` or `out: .`, deleted both.  Now the output folder is never the
ledger root nor holds ledger files, nothing writes through a link out of it (E184), and a build
deletes only files whose content is what it wrote (their sha256 in its own manifest).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import cli
from test_build import SECOND_INVOICE, run
from test_render_html import LEDGER, make_ledger

EXAMPLE = Path(__file__).resolve().parents[2] / "example-ledger"
AS_OF = "2026-06-30"


@pytest.fixture
def root(tmp_path) -> Path:
    folder = tmp_path / "ledger"
    shutil.copytree(EXAMPLE, folder)
    (folder / "textbill.yaml").write_text("formats: [html]\n", encoding="utf-8")
    return folder


@pytest.fixture
def elsewhere(tmp_path) -> Path:
    """A folder outside the ledger holding a file the attacker wants overwritten."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "precious.txt").write_text("keep me\n", encoding="utf-8")
    return folder


def _untouched(folder: Path) -> None:
    assert sorted(p.name for p in folder.iterdir()) == ["precious.txt"], list(folder.iterdir())
    assert (folder / "precious.txt").read_text(encoding="utf-8") == "keep me\n"


def _plant_manifest(folder: Path, files: list[str]) -> None:
    entry = {"html": {"hash": "forged", "files": files}}
    (folder / ".textbill-build.json").write_text(
        json.dumps({"version": 2, "documents": {"invoice:GONE-1": entry}, "site": files, "model": "",
                    "digests": {}}), encoding="utf-8")


def test_a_symlinked_output_folder_from_textbill_yaml_writes_nothing_outside(root, elsewhere):
    (root / "textbill.yaml").write_text("out: site\nformats: [html]\n", encoding="utf-8")
    (root / "site").symlink_to(elsewhere, target_is_directory=True)
    r = cli("build", "-f", root, "--as-of", AS_OF)
    assert r.code == 1, r
    assert "textbill.yaml:1:6: error[E184]" in r.err, r
    _untouched(elsewhere)
    assert cli("check", "-f", root).code == 1


def test_the_default_build_folder_as_a_symlink_writes_nothing_outside(root, elsewhere):
    (root / "build").symlink_to(elsewhere, target_is_directory=True)
    r = cli("build", "-f", root, "--as-of", AS_OF)
    assert r.code == 1, r
    assert "E184" in r.err
    _untouched(elsewhere)


def test_a_symlinked_subfolder_of_the_output_writes_nothing_outside(root, elsewhere):
    (root / "build").mkdir()
    (root / "build" / "invoices").symlink_to(elsewhere, target_is_directory=True)
    for args in ((), ("-o", str(root / "build"))):
        r = cli("build", "-f", root, "--as-of", AS_OF, *args)
        assert r.code == 1, r
        assert "invoices' in the output folder is a symlink that leads out of it" in r.err, r
        _untouched(elsewhere)


def test_a_symlinked_file_in_the_output_to_a_device_hangs_nothing(root):
    (root / "build").mkdir()
    (root / "build" / "index.html").symlink_to("/dev/zero")
    r = cli("build", "-f", root, "--as-of", AS_OF)
    assert r.code == 1, r
    assert "E184" in r.err


@pytest.mark.parametrize("how", ["-o .", "out: ."])
def test_a_planted_manifest_cannot_delete_ledger_files_through_the_root_as_output(root, how):
    _plant_manifest(root, ["company.bill", "textbill.lock"])
    if how == "-o .":
        r = cli("build", "-f", root, "--as-of", AS_OF, "-o", root)
    else:
        (root / "textbill.yaml").write_text("out: .\nformats: [html]\n", encoding="utf-8")
        r = cli("build", "-f", root, "--as-of", AS_OF)
    assert r.code != 0, r
    assert (root / "company.bill").is_file()
    assert (root / "textbill.lock").is_file()


def test_an_output_folder_holding_ledger_files_is_refused(root):
    r = cli("build", "-f", root, "--as-of", AS_OF, "-o", root / "2026")
    assert r.code == 1, r
    assert "holds ledger files" in r.err
    r = cli("build", "-f", root / "2026", "--as-of", AS_OF, "-o", root)  # a parent of the ledger
    assert r.code != 0, r


def test_a_planted_manifest_deletes_nothing_textbill_did_not_write(root):
    out = root / "build"
    out.mkdir()
    (out / "notes.txt").write_text("a file the build never wrote\n", encoding="utf-8")
    (out / "sub").mkdir()
    (out / "sub" / "data.csv").write_text("a,b\n", encoding="utf-8")
    _plant_manifest(out, ["notes.txt", "sub/data.csv"])
    r = cli("build", "-f", root, "--as-of", AS_OF)
    assert r.code == 0, r
    assert (out / "notes.txt").is_file()
    assert (out / "sub" / "data.csv").is_file()


def test_a_build_prunes_only_files_that_still_hold_what_it_wrote(tmp_path):
    folder = make_ledger(tmp_path / "l", LEDGER + SECOND_INVOICE)
    out = tmp_path / "l" / "build"
    run(folder, out)
    manifest = json.loads((out / ".textbill-build.json").read_text(encoding="utf-8"))
    assert set(manifest["digests"]) >= {"invoices/FV-2026-0001.html", "invoices/FV-2026-0002.html"}
    (folder / "ledger.bill").write_text(LEDGER)
    assert run(folder, out).removed == ["invoices/FV-2026-0002.html"]
    # the same, but the page was replaced after the build: it is not the file textbill wrote
    (folder / "ledger.bill").write_text(LEDGER + SECOND_INVOICE)
    run(folder, out)
    (out / "invoices" / "FV-2026-0002.html").write_text("someone else's file\n")
    (folder / "ledger.bill").write_text(LEDGER)
    assert run(folder, out).removed == []
    assert (out / "invoices" / "FV-2026-0002.html").read_text() == "someone else's file\n"


def test_an_output_folder_outside_the_ledger_given_with_o_is_the_users_own(root, tmp_path):
    out = tmp_path / "public"
    r = cli("build", "-f", root, "--as-of", AS_OF, "-o", out)
    assert r.code == 0, r
    assert any(out.rglob("*.html"))
