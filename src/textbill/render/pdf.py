"""HTML -> PDF with WeasyPrint: byte-reproducible and sandboxed.

Reproducible: the same HTML and theme give the same bytes on every run.  The
PDF dates come from the document's own date (`<meta name="dcterms.created">`,
which the themes set), the PDF identifier is a hash of the inputs, and the
fonts are the theme's bundled ones rather than whatever the machine has.
Without libharfbuzz-subset WeasyPrint subsets the fonts with fontTools, which
stamps each font's `head.modified` with the time of the run; WeasyPrint runs
with SOURCE_DATE_EPOCH pinned to the document's date (`_dated`), which fontTools
honours, so nothing from the clock reaches a PDF whichever subsetter runs.

Sandboxed: a document may only load files inside the folders it is given (the
ledger root and the theme folders) and `data:` URIs.  Anything else — the
network, `file:///etc/passwd`, a symlink out of the ledger — is refused and the
resource is left out, with a warning in the report.

WeasyPrint takes about a second to import, so it is imported on first use (a
build worker calls `warm_up` when it starts); its font configuration and the
theme's parsed stylesheets are kept in the memo a session hands in (see
render.memo), so a build worker pays for them once.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from textbill.render.memo import RenderTables, scratch
from textbill.render.themes import Theme, ThemeError, bundled_themes, theme_by_name


class PdfError(Exception):
    """WeasyPrint could not make the PDF."""


def _weasyprint():
    import weasyprint

    # WeasyPrint logs each refused or missing resource; the fetcher keeps its own list
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    return weasyprint


def _fonts(memo: RenderTables):
    """The memo's FontConfiguration, made on first use."""
    if memo.fonts is None:
        from weasyprint.text.fonts import FontConfiguration

        memo.fonts = FontConfiguration()
    return memo.fonts


def warm_up(memo: RenderTables | None = None) -> None:
    """Import WeasyPrint now (a build worker calls this once when it starts), and make memo's fonts."""
    _weasyprint()
    if memo is not None:
        _fonts(memo)


def _inside(url: str, roots: tuple[Path, ...]) -> Path | None:
    """The file a file: URL names, when it lies inside one of roots (symlinks resolved), else None."""
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return None
    path = Path(unquote(parts.path)).resolve()
    if any(path == r or r in path.parents for r in roots) and path.is_file():
        return path
    return None


def _refuse(refused: list, url: str):
    refused.append(url)
    raise ValueError(f"textbill does not load {url!r}: only files inside the ledger and the theme")


def _fetcher(roots: Iterable[Path]):
    """A URL fetcher that serves data: URIs and files inside roots, and refuses everything else.

    Refusals raise ValueError, which WeasyPrint turns into a skipped resource; the URL is kept
    in the fetcher's `refused` list."""
    weasyprint = _weasyprint()
    roots = tuple(Path(r).resolve() for r in roots)
    refused: list[str] = []
    if not hasattr(weasyprint, "URLFetcher"):  # WeasyPrint before class-based fetchers: a function
        def fetch(url):
            if url.lower().startswith("data:"):
                return weasyprint.default_url_fetcher(url)
            path = _inside(url, roots)
            if path is None:
                _refuse(refused, url)
            return {"string": path.read_bytes(), "redirected_url": path.as_uri()}

        fetch.refused = refused
        return fetch

    class SandboxFetcher(weasyprint.URLFetcher):
        def fetch(self, url, headers=None):
            if url.lower().startswith("data:"):
                return super().fetch(url, headers)
            path = _inside(url, roots)
            if path is None:
                _refuse(refused, url)
            return weasyprint.urls.URLFetcherResponse(path.as_uri(), path.read_bytes())

    fetcher = SandboxFetcher(allowed_protocols=("file", "data"), allow_redirects=False)
    fetcher.refused = refused
    return fetcher


def _stylesheet(path: Path, fetcher, memo: RenderTables):
    """A theme's print stylesheet, parsed once per memo (and again when the file changes)."""
    weasyprint = _weasyprint()
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    css = memo.stylesheets.get(key)
    if css is None:
        css = weasyprint.CSS(filename=str(path), url_fetcher=fetcher, font_config=_fonts(memo))
        memo.stylesheets[key] = css
    return css


_THEME_STYLE = re.compile(r"<style data-textbill-theme>(.*?)</style>", re.DOTALL)


def _split_theme_style(html: str) -> tuple[str, str | None]:
    """The document without its theme stylesheet, and that stylesheet.

    WeasyPrint gets it as a cached *user* stylesheet: parsed once per process instead of once
    per document, and still below the document's own <style> in the cascade, as a theme's base
    styles should be."""
    found = _THEME_STYLE.search(html)
    if not found:
        return html, None
    return html[:found.start()] + html[found.end():], found.group(1)


def _inline_stylesheet(text: str, base_url: str | None, fetcher, memo: RenderTables):
    key = (hashlib.sha256(text.encode("utf-8")).hexdigest(), base_url)
    css = memo.stylesheets.get(key)
    if css is None:
        if len(memo.stylesheets) > 64:
            memo.stylesheets.clear()
        css = _weasyprint().CSS(string=text, base_url=base_url, url_fetcher=fetcher, font_config=_fonts(memo))
        memo.stylesheets[key] = css
    return css


def _theme_of(html: str, base_url: str | None):
    """The theme a document was rendered with (its `textbill-theme` meta), for its print fonts."""
    default = Theme("default", (bundled_themes() / "default",))
    found = re.search(r'<meta name="textbill-theme" content="([^"<>]*)"', html[:4000])
    if not found or not base_url:
        return default
    try:
        return theme_by_name(Path(base_url), found.group(1))
    except ThemeError:
        return default


def pdf_identifier(html: str, stylesheets: Iterable[Path] = ()) -> bytes:
    """A fixed PDF /ID from the document's content and its stylesheets."""
    h = hashlib.sha256(html.encode("utf-8"))
    for path in stylesheets:
        h.update(Path(path).read_bytes())
    return h.hexdigest()[:32].encode("ascii")


_CREATED = re.compile(r'<meta name="dcterms.created" content="([^"<>]*)"')

# SOURCE_DATE_EPOCH is the process's environment: one rendering at a time sets it
_SOURCE_DATE = threading.Lock()


def _source_date_epoch(html: str) -> int:
    """The instant the PDF's dates stand for, in seconds since 1970: the document's
    `dcterms.created` at midnight UTC (0 when it has none, or one before 1970)."""
    found = _CREATED.search(html[:4000])
    if not found:
        return 0
    text = found.group(1).strip()
    try:
        moment = (datetime.fromisoformat(text) if "T" in text
                  else datetime.combine(date.fromisoformat(text), datetime.min.time()))
    except ValueError:
        return 0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0, int(moment.timestamp()))


@contextmanager
def _dated(epoch: int) -> Iterator[None]:
    """SOURCE_DATE_EPOCH set to epoch while the block runs (fontTools reads it for the fonts'
    `head.modified` instead of the clock), the caller's value or its absence restored after."""
    with _SOURCE_DATE:
        saved = os.environ.get("SOURCE_DATE_EPOCH")
        os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
        try:
            yield
        finally:
            if saved is None:
                del os.environ["SOURCE_DATE_EPOCH"]
            else:
                os.environ["SOURCE_DATE_EPOCH"] = saved


def html_to_pdf(html: str, base_url: str | None = None, *, theme: Theme | None = None,
                roots: Iterable[Path] = (), refused: list | None = None,
                memo: RenderTables | None = None) -> bytes:
    """A PDF of html.  Relative URLs resolve against base_url (the ledger root); files load only from
    base_url, the theme folders and `roots`.  theme: a render.themes.Theme (default: the bundled one);
    refused: a list that receives every URL the sandbox turned down; memo: where fonts and parsed
    stylesheets are kept between calls."""
    weasyprint = _weasyprint()
    if memo is None:
        memo = scratch()
    if theme is None:
        theme = _theme_of(html, base_url)
    allowed = [*theme.dirs, *roots]
    if base_url:
        base = Path(base_url)
        allowed.append(base.parent if base.is_file() else base)
    fetcher = _fetcher(allowed)
    sheets = theme.pdf_stylesheets()
    base = base_url
    if base and os.path.isdir(base):
        base = Path(base).resolve().as_uri() + "/"
    identifier = pdf_identifier(html, sheets)
    epoch = _source_date_epoch(html)
    try:
        # the theme's stylesheet is the same in every document: parsed once per process
        html, theme_css = _split_theme_style(html)
        doc = weasyprint.HTML(string=html, base_url=base, url_fetcher=fetcher)
        css = [_stylesheet(p, fetcher, memo) for p in sheets]
        if theme_css:
            css.append(_inline_stylesheet(theme_css, base, fetcher, memo))
        with _dated(epoch):
            data = doc.write_pdf(stylesheets=css, font_config=_fonts(memo), pdf_identifier=identifier)
    except getattr(weasyprint.urls, "FatalURLFetchingError", PdfError) as exc:  # a BaseException
        raise PdfError(f"a resource could not be loaded: {exc}") from exc
    except (OSError, ValueError, TypeError, AssertionError, RuntimeError) as exc:
        raise PdfError(f"{type(exc).__name__}: {exc}") from exc
    if refused is not None:
        refused.extend(fetcher.refused)
    return data
