"""A theme's templates compiled by one process are loaded by the next (incremental/templates.py),
from `.textbill/state/` only, sealed with the user's secret; the pages are the same either way."""
from __future__ import annotations

import shutil

import jinja2
import pytest
from conftest import cli
from test_incremental_persist import THEMES, built, make_ledger

from textbill.incremental import cache, persist
from textbill.incremental.templates import KIND


class _Compiled:
    """The names of the templates Jinja compiled, in this process and in the children it forks
    (a one-off build makes its dashboard in one: building.site.write_site), kept in a file."""

    def __init__(self, path):
        self.path = path
        path.write_text("")

    def add(self, name) -> None:
        with self.path.open("a") as out:
            out.write(f"{name}\n")

    def clear(self) -> None:
        self.path.write_text("")

    def __iter__(self):
        return iter(self.path.read_text().splitlines())

    def __eq__(self, other):
        return list(self) == other


@pytest.fixture
def compiled(monkeypatch, tmp_path):
    """The names of the templates Jinja compiles from their source."""
    names = _Compiled(tmp_path / "compiled.txt")
    real = jinja2.Environment.compile

    def compile(self, source, name=None, filename=None, raw=False, defer_init=False):
        names.add(name)
        return real(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(jinja2.Environment, "compile", compile)
    return names


def _entries(folder):
    return sorted((folder / persist.STATE_DIR).glob(f"{KIND}-*.pickle"))


def test_a_new_process_loads_the_templates_an_earlier_one_compiled(tmp_path, compiled):
    folder = make_ledger(tmp_path / "ledger")
    first = built(folder, tmp_path / "a", "--force")
    assert first[0] == 0
    assert {"invoice.html", "client.html", "dashboard.html"} <= set(compiled)  # documents and dashboard
    assert len(_entries(folder)) >= len(set(compiled))
    compiled.clear()
    again = built(folder, tmp_path / "b", "--force")  # a new process: a new workspace, the same state
    assert compiled == []
    assert again == first
    assert built(folder, tmp_path / "c", "--force", "--no-cache") == first


def test_templates_sealed_with_another_secret_are_compiled_again(tmp_path, compiled):
    folder = make_ledger(tmp_path / "ledger")
    first = built(folder, tmp_path / "a", "--force")
    secret = cache.cache_secret(folder, create=False)
    for path in _entries(folder):
        name = path.name[:-len(".pickle")]
        plain = cache.unseal(secret, name, path.read_bytes())
        path.write_bytes(cache.seal(b"x" * cache.KEY_BYTES, name, plain))  # as someone else would
    compiled.clear()
    assert built(folder, tmp_path / "b", "--force") == first
    assert {"invoice.html", "client.html"} <= set(compiled)


def test_an_edited_user_template_is_compiled_again(tmp_path):
    folder = make_ledger(tmp_path / "ledger")
    theme = folder / "themes" / "mine"
    shutil.copytree(THEMES / "default", theme)
    (folder / "textbill.yaml").write_text("theme: themes/mine\n", encoding="utf-8")
    code, _, files = built(folder, tmp_path / "a", "--force")
    assert code == 0 and "Edited heading" not in files["index.html"].decode()
    page = theme / "dashboard.html"
    text = page.read_text(encoding="utf-8")
    assert "{% block main %}" in text
    page.write_text(text.replace("{% block main %}", "{% block main %}<p>Edited heading</p>", 1), encoding="utf-8")
    code, _, files = built(folder, tmp_path / "b", "--force")
    assert code == 0 and "Edited heading" in files["index.html"].decode()


def test_no_cache_keeps_no_templates(tmp_path):
    folder = make_ledger(tmp_path / "ledger")
    assert cli("build", folder, "--out", tmp_path / "a", "--format", "html", "--no-cache").code == 0
    assert _entries(folder) == []


def test_the_kinds_of_environment_keep_their_own_code(tmp_path):
    """The documents' and the dashboard's environments have other options, so other code for the
    same source: the entries are apart."""
    from jinja2.bccache import Bucket

    from textbill.incremental.templates import SealedTemplates

    state = persist.StateStore(tmp_path)
    env = jinja2.Environment()
    bucket = Bucket(env, "key", "checksum")
    assert SealedTemplates(state, "documents")._name(bucket) != SealedTemplates(state, "site")._name(bucket)
