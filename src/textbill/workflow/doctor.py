"""`textbill doctor`: is everything textbill needs on this machine?  [I/O]

Each check is a value: what it is, whether it is there (and which version), whether textbill
needs it or only some commands and the tests do, and the command that installs it when it is
missing.  The PDF path is checked the way WeasyPrint sees it: its import (Pango, HarfBuzz,
fontconfig), whether it loaded HarfBuzz-subset, and fontconfig loading the fonts the bundled
themes use.  The install hints name Debian/Ubuntu packages, the ones README.md lists.
"""
from __future__ import annotations

import contextlib
import ctypes
import importlib.metadata
import importlib.util
import io
import platform
import re
import shutil
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from textbill.render.themes import bundled_names, bundled_themes
from textbill.version import __version__

MIN_PYTHON = (3, 11)  # datetime.UTC (pyproject still says >=3.10)
MIN_PANGO = (1, 44, 0)  # WeasyPrint's minimum
MIN_HARFBUZZ_SUBSET = (4, 1, 0)  # below it WeasyPrint subsets with fontTools

REINSTALL = "pip install --force-reinstall --no-deps textbill"


def apt(*packages: str) -> str:
    return "sudo apt-get install " + " ".join(packages)


@dataclass(frozen=True)
class Check:
    """One thing textbill uses, and whether this machine has it."""

    name: str
    ok: bool
    found: str  # the version or what was found; why not, when missing
    required: bool  # False: only some commands or the tests use it
    needed_for: str
    hint: str = ""  # the command that installs it (shown when missing)

    @property
    def status(self) -> str:
        return "ok" if self.ok else "missing"

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "required": self.required, "found": self.found,
                "needed_for": self.needed_for, "hint": "" if self.ok else self.hint}


@dataclass(frozen=True)
class Tool:
    """An optional tool: a program on PATH (or a Python module), what uses it, how to install it."""

    name: str
    programs: tuple[str, ...]
    needed_for: str
    hint: str
    module: str = ""


TOOLS = (
    Tool("git", ("git",), "textbill diff, lock inside a repository, the quick-start test", apt("git")),
    Tool("hledger", ("hledger",), "checking `textbill export hledger` journals (tests)", apt("hledger")),
    Tool("bean-check", ("bean-check",), "checking `textbill export beancount` journals (tests)",
              "pip install beancount"),
    Tool("chromium", ("chromium", "chromium-browser", "google-chrome"),
              "dashboard screenshots and browser tests", apt("chromium")),
    Tool("chromedriver", ("chromedriver",), "dashboard screenshots and browser tests",
              apt("chromium-driver")),
    Tool("pdftotext", ("pdftotext",), "PDF text and images in the tests", apt("poppler-utils")),
    Tool("saxonche", (), "validating e-invoices against the EN 16931 rules (tests)", "pip install saxonche",
              module="saxonche"),
)

FALLBACK_FONTS = (
    ("DejaVu Sans", "fonts-dejavu-core"),
    ("Liberation Sans", "fonts-liberation2"),
)


def diagnose() -> tuple[Check, ...]:
    """Every check, in the order `textbill doctor` prints them."""
    return (_python(), _textbill(), *_pdf_path(), *(_tool(t) for t in TOOLS))


def healthy(checks: tuple[Check, ...]) -> bool:
    """Whether everything required is there."""
    return all(c.ok or not c.required for c in checks)


def install_commands(checks: tuple[Check, ...]) -> tuple[str, ...]:
    """One command per installer for everything missing: the apt-get packages together, then each
    pip line and any other advice once."""
    packages: list[str] = []
    others: list[str] = []
    for c in checks:
        if c.ok or not c.hint:
            continue
        if c.hint.startswith("sudo apt-get install "):
            packages += [p for p in c.hint.split()[3:] if p not in packages]
        elif c.hint not in others:
            others.append(c.hint)
    return ((apt(*packages),) if packages else ()) + tuple(others)


def _version(parts: tuple[int, ...]) -> str:
    return ".".join(str(p) for p in parts)


def _python() -> Check:
    ok = sys.version_info[:2] >= MIN_PYTHON
    return Check("Python", ok, f"{platform.python_version()} ({sys.executable})", True,
                 "everything", "" if ok else f"install Python {_version(MIN_PYTHON)} or newer (" + apt("python3") + ")")


def _textbill() -> Check:
    return Check("textbill", True, f"{__version__} ({Path(__file__).resolve().parents[1]})", True, "everything")


# -- the PDF path: WeasyPrint, Pango, HarfBuzz, HarfBuzz-subset, fontconfig, fonts --------------------

LIBRARIES = MappingProxyType({  # what WeasyPrint loads, by the names it tries (Linux, macOS, Windows)
    "pango": ("libpango-1.0.so.0", "libpango-1.0.dylib", "libpango-1.0-0.dll"),
    "pangoft2": ("libpangoft2-1.0.so.0", "libpangoft2-1.0.dylib", "libpangoft2-1.0-0.dll"),
    "harfbuzz": ("libharfbuzz.so.0", "libharfbuzz.0.dylib", "libharfbuzz-0.dll"),
    "harfbuzz-subset": ("libharfbuzz-subset.so.0", "libharfbuzz-subset.0.dylib", "libharfbuzz-subset-0.dll"),
    "fontconfig": ("libfontconfig.so.1", "libfontconfig.1.dylib", "libfontconfig-1.dll"),
})


def _library(name: str) -> ctypes.CDLL | None:
    for soname in LIBRARIES[name]:
        try:
            return ctypes.CDLL(soname)
        except OSError:
            continue
    return None


def _string_call(lib: ctypes.CDLL | None, symbol: str) -> str:
    """A C function of lib that returns a version string, called; "" when it has none."""
    func = getattr(lib, symbol, None) if lib is not None else None
    if func is None:
        return ""
    func.restype = ctypes.c_char_p
    return (func() or b"").decode("ascii", "replace")


def _load_weasyprint() -> tuple[Any, str]:
    """The weasyprint package (its text.ffi and pdf.fonts imported), or None; and why not.

    WeasyPrint prints a long message on standard output when a library is missing, and warns
    when HarfBuzz-subset is: both are kept off the terminal (--format json prints only JSON)."""
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import weasyprint
            import weasyprint.pdf.fonts
            import weasyprint.text.ffi
        except ImportError as exc:
            return None, f"the Python package is missing: {exc}"
        except OSError as exc:  # a system library WeasyPrint could not load
            return None, str(exc).splitlines()[0]
    return weasyprint, ""


def _pdf_path() -> tuple[Check, ...]:
    weasyprint, error = _load_weasyprint()
    if weasyprint is None:
        checks = [Check("WeasyPrint", False, error, True, "PDF output",
                        "pip install weasyprint" if error.startswith("the Python package") else
                        apt("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz0b", "libfontconfig1"))]
    else:
        checks = [Check("WeasyPrint", True, weasyprint.__version__, True, "PDF output")]
    checks += [_pango(weasyprint), _harfbuzz(weasyprint), _harfbuzz_subset(weasyprint), _fontconfig(weasyprint)]
    return (*checks, *_fonts(weasyprint))


def _pango(weasyprint) -> Check:
    hint = apt("libpango-1.0-0", "libpangoft2-1.0-0")
    if weasyprint is not None:
        number = weasyprint.text.ffi.pango.pango_version()
        found = (number // 10000, number // 100 % 100, number % 100)
    else:
        pango, pangoft2 = _library("pango"), _library("pangoft2")
        text = _string_call(pango, "pango_version_string")
        if pango is None or pangoft2 is None or not text:
            missing = " and ".join(n for n, lib in (("Pango", pango), ("PangoFT2", pangoft2)) if lib is None)
            return Check("Pango", False, f"{missing or 'Pango'} not found", True, "PDF output (text layout)", hint)
        found = tuple(int(p) for p in re.findall(r"\d+", text)[:3])
    ok = found >= MIN_PANGO
    return Check("Pango", ok, _version(found) + ("" if ok else f", older than {_version(MIN_PANGO)}"), True,
                 "PDF output (text layout)", hint)


def _harfbuzz(weasyprint) -> Check:
    hint = apt("libharfbuzz0b")
    version = _string_call(_library("harfbuzz"), "hb_version_string")
    ok = weasyprint is not None or bool(version)
    return Check("HarfBuzz", ok, version or ("loaded" if ok else "not found"), True,
                 "PDF output (text shaping)", hint)


def _harfbuzz_subset(weasyprint) -> Check:
    """What WeasyPrint's subsetter checks: its harfbuzz_subset library, and HarfBuzz 4.1 or newer."""
    hint = apt("libharfbuzz-subset0")
    needed = "smaller, faster PDFs (without it WeasyPrint subsets fonts with fontTools, with a warning)"
    if weasyprint is None:
        ok = _library("harfbuzz-subset") is not None
        return Check("HarfBuzz-subset", ok, "found" if ok else "not found", False, needed, hint)
    if weasyprint.pdf.fonts.harfbuzz_subset is None:
        return Check("HarfBuzz-subset", False, "WeasyPrint did not load it", False, needed, hint)
    if not weasyprint.text.ffi.harfbuzz.hb_version_atleast(*MIN_HARFBUZZ_SUBSET):
        return Check("HarfBuzz-subset", False, f"HarfBuzz older than {_version(MIN_HARFBUZZ_SUBSET)}", False,
                     needed, hint)
    return Check("HarfBuzz-subset", True, "loaded by WeasyPrint", False, needed, hint)


def _fontconfig(weasyprint) -> Check:
    hint = apt("libfontconfig1")
    lib = _library("fontconfig")
    get_version = getattr(lib, "FcGetVersion", None) if lib is not None else None
    number = get_version() if get_version is not None else 0
    version = f"{number // 10000}.{number // 100 % 100}.{number % 100}" if number else ""
    ok = weasyprint is not None or lib is not None
    return Check("fontconfig", ok, version or ("loaded" if ok else "not found"), True,
                 "PDF output (finding fonts)", hint)


def theme_font_files(theme_dir: Path) -> tuple[Path, ...]:
    """The font files a theme's fonts.css names (@font-face src: url(...)), in order."""
    css = theme_dir / "fonts.css"
    if not css.is_file():
        return ()
    names = re.findall(r"""url\(\s*["']?([^"')]+)["']?\s*\)""", css.read_text(encoding="utf-8"))
    return tuple(theme_dir / name for name in names if not name.startswith("data:"))


_FONT_MAGIC = (b"\x00\x01\x00\x00", b"OTTO", b"true", b"wOFF", b"wOF2", b"ttcf")


def _is_font(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(4) in _FONT_MAGIC
    except OSError:
        return False


def _fonts(weasyprint) -> tuple[Check, ...]:
    """The bundled themes' fonts (loaded by fontconfig when WeasyPrint is there) and the fallback
    fonts the stylesheets name for characters the bundled ones lack."""
    themes = {name: theme_font_files(bundled_themes() / name) for name in bundled_names()}
    every = [f for files in themes.values() for f in files]
    loaded: dict[Path, bool] = {f: _is_font(f) for f in every}
    matched: dict[str, str] = {}
    if weasyprint is not None:
        loaded, matched = _fontconfig_load(weasyprint, every, [family for family, _ in FALLBACK_FONTS])
    checks = []
    for name, files in themes.items():
        bad = [f.name for f in files if not loaded.get(f)]
        found = (f"{len(files)} font{'s' if len(files) != 1 else ''}: " + ", ".join(f.name for f in files)
                 if not bad else "cannot load " + ", ".join(bad))
        checks.append(Check(f"fonts of theme {name}", not bad, found if files else "no fonts.css", True,
                            "PDF output (the theme's print fonts)", REINSTALL))
    for family, package in FALLBACK_FONTS:
        if weasyprint is None:
            ok, found = False, "not checked (WeasyPrint did not load)"
        else:
            got = matched.get(family, "")
            ok = got.lower() == family.lower()
            found = family if ok else f"not installed (fontconfig would use {got or 'nothing'})"
        checks.append(Check(f"font {family}", ok, found, False, "fallback for characters the bundled fonts lack",
                            apt(package)))
    return tuple(checks)


def _fontconfig_load(weasyprint, files: list[Path], families: list[str]) -> tuple[dict[Path, bool], dict[str, str]]:
    """Through WeasyPrint's fontconfig: whether each font file loads, and the family each family
    name matches (itself when installed, else fontconfig's substitute)."""
    ffi, fc = weasyprint.text.ffi.ffi, weasyprint.text.ffi.fontconfig
    config = fc.FcInitLoadConfigAndFonts()
    try:
        loaded = {f: f.is_file() and bool(fc.FcConfigAppFontAddFile(config, str(f).encode())) for f in files}
        matched = {}
        for family in families:
            pattern = fc.FcPatternCreate()
            fc.FcPatternAddString(pattern, b"family", family.encode())
            fc.FcConfigSubstitute(config, pattern, fc.FcMatchPattern)
            fc.FcDefaultSubstitute(pattern)
            result = ffi.new("FcResult *")
            match = fc.FcFontMatch(config, pattern, result)
            fc.FcPatternDestroy(pattern)
            name = ffi.new("FcChar8 **")
            got = ""
            if match != ffi.NULL:
                if fc.FcPatternGetString(match, b"family", 0, name) == fc.FcResultMatch:
                    got = ffi.string(name[0]).decode("utf-8", "replace")
                fc.FcPatternDestroy(match)
            matched[family] = got
    finally:
        fc.FcConfigDestroy(config)
    return loaded, matched


# -- optional tools ---------------------------------------------------------------------------------

def _tool(tool: Tool) -> Check:
    if tool.module:
        if importlib.util.find_spec(tool.module) is None:
            return Check(tool.name, False, "not installed", False, tool.needed_for, tool.hint)
        try:
            version = importlib.metadata.version(tool.module)
        except importlib.metadata.PackageNotFoundError:
            version = "installed"
        return Check(tool.name, True, version, False, tool.needed_for, tool.hint)
    beside = Path(sys.executable).parent  # a tool pip installed into textbill's own environment
    for program in tool.programs:
        path = shutil.which(program) or shutil.which(program, path=str(beside))
        if path:
            version = _program_version(path)
            return Check(tool.name, True, f"{version} ({path})" if version else path, False, tool.needed_for,
                         tool.hint)
    return Check(tool.name, False, "not on PATH", False, tool.needed_for, tool.hint)


def _program_version(path: str) -> str:
    """The version number `program --version` prints first, or "" when it gives none quickly."""
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    found = re.search(r"\d+(?:\.\d+)+", out.stdout or out.stderr) if out.returncode == 0 else None
    return found.group(0) if found else ""
