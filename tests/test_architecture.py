"""The layer rules of STYLE.md, read from the source with `ast` (function-local imports included).

Each rule is a function from a source tree to a list of violations, "file:line: what"; the tests
run them on src/textbill and, to show that each rule can fail, on a copy with a planted violation.
"""
from __future__ import annotations

import ast
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

# Libraries a function may import where it needs them: heavy, optional at run time, or slow to
# import for commands that never use them.  Nothing else is imported inside a function.
LOCAL_IMPORTS_ALLOWED = frozenset({
    "weasyprint", "pydyf", "fontTools", "watchdog", "lxml", "saxonche", "facturx", "segno",
    "zxingcpp", "selenium", "schwifty", "num2words", "smtplib", "cProfile", "pstats", "pypdf",
    "ofxtools",
    "rich",  # build's progress bar, only on a terminal: ~40 ms of every other build's start
})

# What each layer must never import (STYLE.md, "Never").
FORBIDDEN = {
    "core": ("*",),
    "engine": ("checks", "loading", "render", "building", "cli", "watch", "incremental", "pipeline", "workflow",
               "reports", "syntax", "lsp"),
    "checks": ("render", "building", "cli", "watch", "workflow", "lsp"),
    "render": ("engine", "checks", "loading", "pipeline", "building", "cli", "watch", "incremental", "workflow",
               "syntax", "lsp"),
    "reports": ("render", "building", "cli", "watch", "workflow", "lsp"),
    "syntax": ("loading", "checks", "engine", "reports", "render", "building", "cli", "watch", "workflow", "pipeline",
               "lsp"),
    # the language server is a top layer beside watch/: over the library, never over commands
    "lsp": ("cli", "watch", "workflow"),
}

MUTABLE_CALLS = frozenset({"dict", "list", "set", "defaultdict", "OrderedDict", "Counter", "deque",
                           "bytearray", "IdentityMemo", "WeakValueDictionary", "WeakKeyDictionary", "local"})
MEMO_DECORATORS = frozenset({"lru_cache", "cache", "cached_property_module"})


@dataclass(frozen=True)
class Edge:
    source: str  # importing module
    target: str  # imported textbill module
    file: str
    line: int
    local: bool  # inside a function


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules(root: Path) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted((root / "textbill").rglob("*.py"))}


def _absolute(node: ast.ImportFrom, mod: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = mod.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _in_function(node: ast.AST, parents: dict) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return True
    return False


def imports(root: Path) -> tuple[list[Edge], list[tuple[str, int, str, str]]]:
    """Edges between textbill modules, and every function-local import (file, line, module, top name)."""
    mods = modules(root)
    edges: list[Edge] = []
    local_imports = []
    for mod, path in mods.items():
        tree = ast.parse(path.read_text(), str(path))
        parents = _parents(tree)
        rel = str(path.relative_to(root))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(node, mod, path.name == "__init__.py")
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr == "import_module" and node.args
                  and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                targets = [node.args[0].value]  # importlib.import_module("textbill.x"): an edge too
            else:
                continue
            local = _in_function(node, parents)
            for target in targets:
                if local and not isinstance(node, ast.Call):
                    local_imports.append((rel, node.lineno, target, target.split(".")[0]))
                if target == "textbill" or target.startswith("textbill."):
                    while target not in mods and "." in target:
                        target = target.rsplit(".", 1)[0]
                    if target != mod:
                        edges.append(Edge(mod, target, rel, node.lineno, local))
    return edges, local_imports


def layer(mod: str) -> str:
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 else ""


# --- the rules -----------------------------------------------------------------------------------

def cycles(root: Path) -> list[str]:
    """Rule 1: no import cycles between modules (function-local imports count)."""
    edges, _ = imports(root)
    graph: dict[str, dict[str, Edge]] = {}
    for e in edges:
        graph.setdefault(e.source, {}).setdefault(e.target, e)
    found: list[str] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt, edge in sorted(graph.get(node, {}).items()):
            if state.get(nxt) == 1:
                loop = stack[stack.index(nxt):] + [nxt]
                where = graph[loop[-2]][loop[-1]]
                found.append(f"{where.file}:{where.line}: import cycle {' -> '.join(loop)}")
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def layer_violations(root: Path) -> list[str]:
    """Rule 2: the layers import only downwards."""
    edges, _ = imports(root)
    out = []
    for e in edges:
        src, dst = layer(e.source), layer(e.target)
        banned = FORBIDDEN.get(src, ())
        if src == dst:
            continue
        if "*" in banned or dst in banned:
            if "*" in banned and dst == "":  # core importing textbill/__init__ (the version) is still an import
                pass
            out.append(f"{e.file}:{e.line}: {e.source} ({src}/) imports {e.target} ({dst or 'textbill'}/)")
    return out


def _mutable(value: ast.AST | None) -> str | None:
    if isinstance(value, (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)):
        return type(value).__name__.lower()
    if isinstance(value, ast.Call):
        func = value.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name in MUTABLE_CALLS:
            return f"{name}()"
    return None


def module_state(root: Path) -> list[str]:
    """Rule 3: no module-level mutable state outside incremental/ (memos, dicts, lists, `global`)."""
    out = []
    for mod, path in modules(root).items():
        if layer(mod) == "incremental":
            continue
        rel = str(path.relative_to(root))
        tree = ast.parse(path.read_text(), str(path))
        body = list(tree.body)
        while body:
            node = body.pop(0)
            if isinstance(node, (ast.If, ast.Try)):
                body.extend(node.body + getattr(node, "orelse", []) + getattr(node, "finalbody", []))
                continue
            value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
            kind = _mutable(value)
            if kind:
                out.append(f"{rel}:{node.lineno}: module-level mutable {kind} (use a tuple, frozenset or "
                           "MappingProxyType, or keep it in incremental/)")
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                for dec in node.decorator_list:
                    target = dec.func if isinstance(dec, ast.Call) else dec
                    name = target.id if isinstance(target, ast.Name) else getattr(target, "attr", "")
                    if name in MEMO_DECORATORS:
                        out.append(f"{rel}:{dec.lineno}: @{name} keeps a module-level memo (move it to incremental/)")
        for node in ast.walk(tree):
            if isinstance(node, ast.Global):
                out.append(f"{rel}:{node.lineno}: `global {', '.join(node.names)}` changes module state")
    return out


def local_imports(root: Path) -> list[str]:
    """Rule 4: a function imports only a heavy optional library (LOCAL_IMPORTS_ALLOWED)."""
    _, local = imports(root)
    return [f"{file}:{line}: function-local import of {target} (import it at the top of the module)"
            for file, line, target, top in local if top not in LOCAL_IMPORTS_ALLOWED]


def command_imports(root: Path) -> list[str]:
    """Rule 5: command modules (textbill.cli.*) never import each other."""
    edges, _ = imports(root)
    shared = {"textbill.cli", "textbill.cli.common", "textbill.cli.main"}
    return [f"{e.file}:{e.line}: command {e.source} imports command {e.target}"
            for e in edges
            if e.source.startswith("textbill.cli.") and e.target.startswith("textbill.cli.")
            and e.source not in shared and e.target not in shared]


RULES = (cycles, layer_violations, module_state, local_imports, command_imports)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_the_source_keeps_the_rule(rule):
    found = rule(SRC)
    assert not found, f"{rule.__doc__}\n" + "\n".join(found)


# --- each rule is shown to fail on a planted violation ----------------------------------------------

PLANTS = {
    cycles: ("textbill/core/money.py", "\nfrom textbill.core import model  # planted\n"),
    layer_violations: ("textbill/engine/aging.py", "\nfrom textbill.render import html  # planted\n"),
    module_state: ("textbill/engine/fx.py", "\n_SEEN: dict = {}  # planted\n"),
    local_imports: ("textbill/engine/fx.py", "\n\ndef planted():\n    import json\n    return json\n"),
    command_imports: ("textbill/cli/build.py", "\nfrom textbill.cli import check  # planted\n"),
}


@pytest.fixture(scope="module")
def clean_copy(tmp_path_factory):
    target = tmp_path_factory.mktemp("src")
    shutil.copytree(SRC / "textbill", target / "textbill", ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_a_planted_violation_is_named_with_its_file_and_line(rule, clean_copy, tmp_path):
    root = tmp_path / "src"
    shutil.copytree(clean_copy, root)
    rel, text = PLANTS[rule]
    path = root / rel
    lines_before = path.read_text().count("\n")
    with path.open("a") as f:
        f.write(text)
    found = rule(root)
    planted_lines = range(lines_before + 1, lines_before + text.count("\n") + 2)
    hits = [v for v in found if any(v.startswith(f"{rel}:{n}:") for n in planted_lines)]
    if rule is cycles:  # the cycle is reported where it closes, which may be the other module
        hits = [v for v in found if "textbill.core.model" in v and "textbill.core.money" in v]
    assert hits, f"{rule.__name__} did not report the planted violation in {rel}: {found}"
