"""Attacks through a user theme inside the ledger: symlinks out of the ledger and special files.

The theme folder is part of the pull request.  `style.css -> /etc/passwd` once landed in every HTML
page, `root -> /` with `{% include "root/etc/hostname" %}` read any path, and a symlinked reminder
template put /etc/passwd into every `.eml` that `--send` would mail.  Now each such entry is E183
(located at `theme:` in textbill.yaml), and the one theme loader refuses to read it even when
nothing checked the ledger first.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import cli

from textbill.render import eml
from textbill.render.templating import render_template
from textbill.render.themes import DOCUMENTS, ThemeError, theme_by_name

EXAMPLE = Path(__file__).resolve().parents[2] / "example-ledger"
CANARY = "TOP-SECRET-CANARY-51c9"


@pytest.fixture
def setup(tmp_path):
    """(ledger root, its theme folder, a secret file outside the ledger)."""
    root = tmp_path / "ledger"
    shutil.copytree(EXAMPLE, root)
    (root / "textbill.yaml").write_text("out: build\ntheme: mytheme\nformats: [html]\n", encoding="utf-8")
    theme = root / "mytheme"
    theme.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.txt"
    secret.write_text(f"root:x:0:0:{CANARY}:/root:/bin/bash\n", encoding="utf-8")
    return root, theme, secret


def _nothing_leaked(*folders: Path) -> None:
    for folder in folders:
        for dirpath, _, files in os.walk(folder):
            for name in files:
                assert CANARY.encode() not in (Path(dirpath) / name).read_bytes(), Path(dirpath) / name


def test_a_stylesheet_symlinked_to_a_secret_never_lands_in_pages(setup):
    root, theme, secret = setup
    (theme / "style.css").symlink_to(secret)
    r = cli("build", "-f", root, "--as-of", "2026-06-30")
    assert r.code == 1, r
    assert "textbill.yaml:2:8: error[E183]: theme 'mytheme': style.css is a symlink" in r.err
    assert CANARY not in r.out + r.err
    _nothing_leaked(root / "build")


def test_an_include_through_a_symlinked_folder_reads_nothing_outside(setup):
    root, theme, secret = setup
    (theme / "root").symlink_to(secret.parent, target_is_directory=True)
    (theme / "invoice.html").write_text('{% extends "default/invoice.html" %}\n'
                                        '{% block lines %}{% include "root/secret.txt" %}{% endblock %}\n',
                                        encoding="utf-8")
    r = cli("build", "-f", root, "--as-of", "2026-06-30")
    assert r.code == 1, r
    assert "error[E183]: theme 'mytheme': root is a symlink" in r.err
    assert CANARY not in r.out + r.err
    _nothing_leaked(root / "build")


def test_etc_hostname_through_root_symlink_is_refused_by_the_loader_itself(setup):
    root, theme, _ = setup
    (theme / "root").symlink_to("/", target_is_directory=True)
    (theme / "invoice.html").write_text('{% include "root/etc/hostname" %}\n', encoding="utf-8")
    loaded = theme_by_name(root, "mytheme")
    with pytest.raises(ThemeError, match="outside the ledger"):
        render_template(loaded, DOCUMENTS, "invoice.html", {})


def test_a_symlinked_stylesheet_is_refused_by_the_loader_itself(setup):
    root, theme, secret = setup
    (theme / "style.css").symlink_to(secret)
    (theme / "page.html").write_text('<style>{% include "style.css" %}</style>\n', encoding="utf-8")
    with pytest.raises(ThemeError, match="style.css is a symlink to a path outside the ledger"):
        render_template(theme_by_name(root, "mytheme"), DOCUMENTS, "page.html", {})
    assert all(CANARY.encode() not in Path(p).read_bytes() for _, p in theme_by_name(root, "mytheme").files())


def test_a_reminder_template_symlinked_to_a_secret_is_never_mailed(setup, tmp_path):
    root, theme, secret = setup
    (theme / "reminders").mkdir()
    for step in ("default", "friendly", "firm", "final"):
        (theme / "reminders" / f"{step}.txt").symlink_to(secret)
    out = tmp_path / "mail"
    r = cli("remind", "-f", root, "--as-of", "2026-12-31", "--out", out)
    assert r.code == 1, r
    assert "error[E183]" in r.err and "reminders/final.txt" in r.err
    assert CANARY not in r.out + r.err
    if out.exists():
        _nothing_leaked(out)
    # and the reminder templates' loader refuses it without the check
    templates = eml.load_templates(root, "mytheme")
    with pytest.raises(eml.ThemeError, match="outside the ledger"):
        templates.render("final", {"lang": "en"})


def test_a_fifo_in_the_theme_hangs_nothing(setup):
    root, theme, _ = setup
    os.mkfifo(theme / "style.css")
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("TEXTBILL_LEDGER", None)
    done = subprocess.run([sys.executable, "-m", "textbill", "build", "-f", str(root), "--as-of", "2026-06-30"],
                          capture_output=True, text=True, timeout=120, env=env, check=False)
    assert done.returncode == 1, done.stderr
    assert "style.css is not a regular file" in done.stderr


def test_a_symlink_inside_the_theme_to_a_file_inside_the_ledger_is_used(setup):
    root, theme, _ = setup
    (root / "brand.css").write_text("body { color: #123456; }\n", encoding="utf-8")
    (theme / "page.html").write_text('<style>{% include "brand.css" %}</style>\n', encoding="utf-8")
    (theme / "brand.css").symlink_to(root / "brand.css")
    assert "#123456" in render_template(theme_by_name(root, "mytheme"), DOCUMENTS, "page.html", {})
    assert cli("check", "-f", root).code == 0


def test_links_added_after_a_clean_build_are_refused_even_from_the_check_cache(setup):
    # the check cache's key does not cover the theme: the second build may take the first one's
    # analysis, and then the loader itself must refuse (and nothing may wait on the FIFO)
    root, theme, secret = setup
    (theme / "style.css").write_text("body { color: black; }\n", encoding="utf-8")
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("TEXTBILL_LEDGER", None)
    command = [sys.executable, "-m", "textbill", "build", "-f", str(root), "--as-of", "2026-06-30"]
    first = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, check=False)
    assert first.returncode == 0, first.stderr
    (theme / "style.css").unlink()
    (theme / "style.css").symlink_to(secret)
    os.mkfifo(theme / "extra.css")
    second = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, check=False)
    assert second.returncode == 1, second.stderr
    assert CANARY not in second.stdout + second.stderr
    _nothing_leaked(root / "build")
