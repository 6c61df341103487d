"""Templating: the one Jinja environment factory, its confined loader and the template filters.

Stage: render.  Every template of every theme, the documents' and the dashboard's, is rendered in a
sandboxed Jinja environment (a theme inside a ledger is its author's code) with autoescape on and
undefined names as errors; the loader refuses a file that leaves the ledger (render.themes.refusal).
Kept apart from render.themes so that finding a theme (a `check` does) does not import Jinja.
"""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
)
from jinja2.loaders import split_template_path
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from textbill.render.memo import RenderTables
from textbill.render.themes import (
    DOCUMENTS,
    Theme,
    ThemeError,
    bundled_names,
    bundled_themes,
    refusal,
)


def environment(theme: Theme, kind: str, memo: RenderTables | None = None) -> SandboxedEnvironment:
    """The Jinja environment of a theme's documents (kind DOCUMENTS) or of its dashboard (SITE).

    Kept in memo so that a session keeps its compiled templates (Jinja reloads an edited
    template itself); keyed by the folders' file names too, since a template added to a user
    theme must shadow the bundled one at once, which Jinja's own cache does not notice."""
    key = (kind, theme.dirs, theme.root, _names(theme.dirs))
    env = memo.environments.get(key) if memo is not None else None
    if env is None:
        root = theme.root if theme.user else None
        env = (_documents_environment(theme.dirs, root) if kind == DOCUMENTS
               else _site_environment(theme.dirs, root))
        if memo is not None and memo.templates is not None:
            env.bytecode_cache = memo.templates(kind)  # compiled by an earlier process
        if memo is not None:
            if len(memo.environments) >= 16:
                memo.environments.clear()
            memo.environments[key] = env
    return env


def render_template(theme: Theme, kind: str, template: str, context: dict,
                    memo: RenderTables | None = None) -> str:
    """A template of the theme filled in; a user theme's mistake names its theme and template."""
    try:
        return environment(theme, kind, memo).get_template(template).render(context)
    except ThemeError:
        raise
    except Exception as exc:  # ours are bugs; a user theme's are the user's to fix
        if not theme.user:
            raise
        raise ThemeError(f"theme '{theme.name}': template {template}: {type(exc).__name__}: {exc}") from exc


def _names(dirs: tuple[Path, ...]) -> tuple:
    out = []
    for folder in dirs:
        try:
            out.append(tuple(sorted(e.name for e in os.scandir(folder))))
        except OSError:
            out.append(())
    return tuple(out)


class ConfinedLoader(FileSystemLoader):
    """Jinja's FileSystemLoader, which never reads a file of a folder inside a ledger that resolves
    outside the ledger or is not a regular file (`style.css -> /etc/passwd`, `root -> /` with
    `{% include "root/etc/hostname" %}`): the template is refused with a ThemeError instead.

    confined: folder -> the ledger root it lies in; folders not in it (the bundled themes) are
    trusted."""

    def __init__(self, dirs, confined: dict[str, Path]):
        super().__init__([str(d) for d in dirs])
        self.confined = dict(confined)

    def get_source(self, environment, template):
        pieces = split_template_path(template)
        for folder in self.searchpath:
            path = os.path.join(folder, *pieces)
            if not os.path.lexists(path):
                continue
            why = refusal(self.confined.get(folder), Path(path))
            if why is not None:
                raise ThemeError(f"theme template {template} {why}; it is never read")
            if os.path.isfile(path):
                break
        return super().get_source(environment, template)


def theme_loader(dirs, root: Path | None) -> BaseLoader:
    """The one loader of a theme's templates (documents, dashboard, reminders): dirs searched in
    order; those inside the ledger at root confined to it (see ConfinedLoader)."""
    confined = {}
    if root is not None:
        base = Path(root).resolve()
        base = base.parent if base.is_file() else base
        for d in dirs:
            if Path(d).resolve() == base or base in Path(d).resolve().parents:
                confined[str(d)] = base
    return ConfinedLoader(dirs, confined)


def _documents_environment(dirs: tuple[Path, ...], root: Path | None = None) -> SandboxedEnvironment:
    # the bundled themes answer to a prefix too ("default/base.html"), for a theme that extends one
    bundled = bundled_themes()
    prefixed = {name: FileSystemLoader(str(bundled / name)) for name in bundled_names()}
    loader = ChoiceLoader([theme_loader(dirs, root), PrefixLoader(prefixed)])
    env = SandboxedEnvironment(loader=loader, autoescape=True, undefined=StrictUndefined,
                               trim_blocks=True, lstrip_blocks=True)
    env.filters["css_string"] = css_string
    return env


def _site_environment(dirs: tuple[Path, ...], root: Path | None = None) -> SandboxedEnvironment:
    env = SandboxedEnvironment(loader=theme_loader(dirs, root), autoescape=True,
                               undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                               auto_reload=True, keep_trailing_newline=True)
    env.filters["href"] = href
    return env


def css_string(value) -> Markup:
    """A value as a quoted CSS string, safe inside a <style> element (for @page margin boxes)."""
    if isinstance(value, Markup):
        value = value.unescape()
    out = []
    for ch in " ".join(str(value).split()):
        if ch.isalnum() or ch in " .,:;-_/()+#@%*!?'":
            out.append(ch)
        else:
            out.append(f"\\{ord(ch):x} ")
    return Markup('"' + "".join(out) + '"')


def href(path: str | None) -> str:
    """A relative link to an output file, percent-encoded (no scheme can sneak in: ':' is encoded)."""
    return quote(path or "", safe="/._-~")
