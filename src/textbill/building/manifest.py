"""The build's manifest, `.textbill-build.json`: what earlier builds wrote, and whether a build has
anything to do.  [I/O]

    documents  per document and output (html, pdf, ubl, json, csv), its hash and the files written
    site       model.json and the dashboard files
    digests    the sha256 of every file listed, as this build wrote it: a later build deletes a file
               only while it still has that content (a planted manifest deletes nothing but the
               files textbill wrote in its own folder)
    noop       after a complete build (no failures): a key of every input of the build and the
               size and modification time of every file it lists

No-op builds.  The key covers the check cache's key of the ledger (all ledger files, textbill.yaml,
textbill.lock, the working folder, textbill's code), the day, the formats, every file of the theme
and of the bundled themes, the logo's bytes, the versions of the libraries that render.  When a
build finds the same key and every file as recorded, the build it would do writes and removes
nothing, so it does nothing: it does not even compute the books.

The manifest is written last (atomically), so a build that dies half-way renders the missing
documents next time.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import stat as stat_module
import sys
from datetime import date
from pathlib import Path

from textbill.building.spec import (
    MANIFEST_VERSION,
    OUTPUTS,
    SUFFIXES,
    BuildError,
    Job,
    flavours,
    json_hash,
    output_hash,
    outputs_of,
    resolve_formats,
)
from textbill.core.paths import is_special, resolves_outside
from textbill.core.source import Sources
from textbill.incremental.workspace import Workspace
from textbill.loading.loader import read_config
from textbill.loading.writer import locked, write_atomic
from textbill.render.themes import ThemeError, bundled_themes, theme_by_name
from textbill.version import __version__

MANIFEST = ".textbill-build.json"
# libraries whose upgrade may change an output: part of the no-op key (by their files' stamps)
RENDERING_LIBRARIES = ("jinja2", "markupsafe", "babel", "weasyprint", "pydyf", "tinycss2", "cssselect2",
                       "fontTools", "facturx", "pypdf", "lxml", "segno")


def write_manifest(path: Path, manifest: dict, workspace: Workspace, durable: bool = True) -> None:
    """Write the manifest, and keep it in the workspace with its file's stamp (watch mode builds
    again and again and need not parse it again)."""
    # one line, by the C encoder: with a thousand documents an indented one takes a tenth of a second
    write_atomic(path, (json.dumps(manifest, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
                        + "\n").encode("utf-8"), durable=durable)
    try:
        workspace.manifests[str(path)] = (stamp(os.stat(path)), {k: manifest[k] for k in
                                                                 ("documents", "site", "model", "noop",
                                                                  "digests")
                                                                 if k in manifest})
    except OSError:
        workspace.manifests.pop(str(path), None)


def _remembered(path: Path, workspace: Workspace) -> dict | None:
    """The manifest this workspace wrote at path, while the file is still the one it wrote."""
    known = workspace.manifests.get(str(path))
    return known[1] if known is not None and known[0] == stamp(os.stat(path)) else None


def read_manifest(path: Path, workspace: Workspace) -> dict:
    try:
        known = _remembered(path, workspace)
        if known is not None:
            return known
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    docs = data.get("documents")
    if not isinstance(docs, dict):
        return {}
    version = data.get("version")
    clean: dict[str, dict] = {}
    for key, entry in docs.items():
        if not isinstance(entry, dict):
            continue
        if version == 1:  # one hash for all formats: its files are known (and pruned), never current
            if isinstance(entry.get("files"), list):
                files = [f for f in entry["files"] if isinstance(f, str) and safe_rel(f)]
                clean[key] = {_output_of(f): {"hash": "", "files": [f]} for f in files}
            continue
        if version != MANIFEST_VERSION:
            return {}
        outputs = {}
        for name, o in entry.items():
            if name in OUTPUTS and isinstance(o, dict) and isinstance(o.get("files"), list):
                files = [f for f in o["files"] if isinstance(f, str) and safe_rel(f)]
                outputs[name] = {"hash": str(o.get("hash", "")), "files": files}
        clean[key] = outputs
    site = [f for f in data.get("site", []) if isinstance(f, str) and safe_rel(f)]
    digests = data.get("digests")
    digests = {k: v for k, v in digests.items() if isinstance(k, str) and isinstance(v, str) and safe_rel(k)} \
        if isinstance(digests, dict) else {}
    out = {"documents": clean, "site": site, "model": str(data.get("model", "")), "digests": digests}
    if version == MANIFEST_VERSION and isinstance(data.get("noop"), dict):
        out["noop"] = data["noop"]
    return out


def _output_of(rel: str) -> str:
    if rel.endswith(".xml"):
        return "ubl"
    return next((name for name, suffix in SUFFIXES.items() if rel.endswith(suffix)), "html")


def safe_rel(rel: str) -> str | None:
    """A relative path inside the output folder (not the manifest), as posix; None if it is not one."""
    p = Path(rel)
    if p.is_absolute() or not p.parts or any(part in ("..", "") for part in p.parts) or rel == MANIFEST:
        return None
    return p.as_posix()


def stamps(out_dir: Path, files: list[str], known: dict | None = None) -> dict[str, list[int]]:
    """The stamp of every file; known: stamps taken during this build of files it did not write."""
    found = {}
    base = str(out_dir)
    for rel in files:
        if known and rel in known:
            found[rel] = known[rel]
            continue
        try:
            found[rel] = stamp(os.stat(os.path.join(base, rel)))
        except OSError:
            continue
    return found


def stamp(st: os.stat_result) -> list[int]:
    """A file as written: a change of its content changes its size, time or (a new file) inode."""
    return [st.st_size, st.st_mtime_ns, st.st_ino]


class Unchanged:
    """Whether the files an earlier build wrote are there as it left them: with the size and time
    it recorded (after a complete build), else at least there."""

    def __init__(self, out_dir: Path, recorded: dict):
        self.base, self.stamps = str(out_dir), recorded
        self.kept: dict[str, list[int]] = {}  # the stamps of the files of outputs kept as they are

    def __call__(self, files) -> bool:
        seen = []
        for rel in files:
            try:
                now = stamp(os.stat(os.path.join(self.base, rel)))
            except OSError:
                return False
            recorded = self.stamps.get(rel)
            if recorded is not None and recorded != now:
                return False
            seen.append((rel, now))
        self.kept.update(seen)
        return True


def reuse(job: Job, old_entry: dict, formats, there: Unchanged, force: bool) -> tuple[dict, list[str]]:
    """The manifest entry a document keeps (output -> hash and files) and the outputs to render.

    An output of this build is kept when its hash is the same and its files are there; an output
    of another format is kept only while it is up to date (its hash is one this document has now)."""
    wanted = outputs_of(formats, job.kind)
    entry: dict[str, dict] = {}
    missing: list[str] = []
    for name, flavour in wanted.items():
        o = old_entry.get(name)
        if not force and o and o["hash"] == output_hash(job.digest, flavour) and there(o["files"]):
            entry[name] = o
        else:
            missing.append(name)
    for name, o in old_entry.items():
        if name in wanted:
            continue
        current = {output_hash(job.digest, f) for f in flavours(name, job.kind)}
        if o["hash"] in current and there(o["files"]):
            entry[name] = o
    return entry, missing


def noop(analysis, out_dir: Path, as_of: date, formats, workspace: Workspace) -> tuple[int, list[str]] | None:
    """(documents, warnings) of a build that has nothing to do, or None when it may have something to do.

    Nothing to do: the manifest's no-op record has this build's input key (see the module's
    docstring) and every file it lists is there with the size and time it had when written.
    Looked at before the books are computed: on an unchanged ledger the analysis comes from the
    check cache, and they are never computed."""
    key = getattr(analysis, "check_key", None)
    if key is None or not (out_dir / MANIFEST).is_file():
        return None
    try:
        with locked(out_dir / "textbill-build"):  # not while another build writes
            return _noop_record(analysis, key, out_dir, as_of, formats, workspace)
    except (OSError, ValueError, TypeError, AttributeError, BuildError):
        return None


def _noop_record(analysis, key: str, out_dir: Path, as_of: date, formats,
                 workspace: Workspace) -> tuple[int, list[str]] | None:
    path = out_dir / MANIFEST
    known = _remembered(path, workspace)  # as this workspace wrote it (watch), else the record alone is read
    if known is not None:
        record = known.get("noop")
    else:
        data = json.loads(path.read_text(encoding="utf-8"))
        record = data.get("noop") if data.get("version") == MANIFEST_VERSION else None
    if not isinstance(record, dict) or not isinstance(record.get("stamps"), dict):
        return None
    root = Path(analysis.root)
    config, problems = read_config(root, Sources())
    if problems:
        return None
    chosen = resolve_formats(formats, config)
    try:
        theme = theme_by_name(root, config.theme or "default")
    except ThemeError:
        return None
    logo = record.get("logo")
    if logo is not None and not isinstance(logo, str):
        return None
    if inputs_key(key, root, chosen, as_of, out_dir, logo, theme, workspace) != record.get("key"):
        return None
    for rel, recorded in record["stamps"].items():
        if safe_rel(rel) is None or stamp(os.stat(out_dir / rel)) != recorded:
            return None
    return int(record.get("documents", 0)), [w for w in record.get("warnings", []) if isinstance(w, str)]


def inputs_key(check_key: str | None, root: Path, formats, as_of: date, out_dir: Path, logo: str | None,
               theme, workspace: Workspace) -> str | None:
    """Every input of a build, as one hash (None when the ledger's inputs have no key)."""
    if check_key is None:
        return None
    bundled = bundled_themes().resolve()
    trees = [bundled] + [Path(d).resolve() for d in theme.dirs
                         if not (Path(d).resolve() == bundled or bundled in Path(d).resolve().parents)]
    return json_hash("noop", MANIFEST_VERSION, __version__, sys.version, check_key, as_of.isoformat(),
                     sorted(formats), str(out_dir), theme.name, [str(d) for d in theme.dirs], theme.user,
                     [_tree_digest(t, workspace.file_digests, root) for t in trees], _logo_state(root, logo),
                     _libraries(workspace))


def _tree_digest(folder: Path, known_files: dict[str, tuple], root: Path | None = None) -> str:
    """Every file below a folder, by name and content; known_files: path -> (its stamp, the sha256
    of its content), so that a file is read again only when its stamp changed.  A file of a folder
    inside the ledger at root that resolves outside it, or is not a regular file, is never read
    (its name and a mark count instead)."""
    base = Path(root).resolve() if root is not None else None
    confined = base is not None and (folder.resolve() == base or base in folder.resolve().parents)
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            h.update(os.path.relpath(path, folder).replace(os.sep, "/").encode("utf-8", "surrogatepass") + b"\0")
            try:
                if confined and (resolves_outside(base, Path(path)) or is_special(Path(path))):
                    h.update(b"!")
                    continue
                if not os.path.isfile(path):
                    h.update(b"?")
                    continue
                now = stamp(os.stat(path))
                known = known_files.get(path)
                if known is None or known[0] != now:
                    with open(path, "rb") as fh:
                        known = known_files[path] = (now, hashlib.sha256(fh.read()).digest())
                h.update(known[1])
            except OSError:
                h.update(b"?")
    return h.hexdigest()


def _logo_state(root: Path, logo: str | None) -> str:
    """What the documents take from the logo: where it resolves to and its bytes."""
    if not logo:
        return ""
    path = root / logo
    try:
        return f"{path.resolve()}\0{hashlib.sha256(path.read_bytes()).hexdigest()}"
    except OSError as exc:
        return f"{path}\0{type(exc).__name__}"


def _libraries(workspace: Workspace) -> tuple:
    """The rendering libraries' files as installed (an upgrade rewrites them): found once per workspace."""
    if workspace.libraries is None:
        out = []
        for name in RENDERING_LIBRARIES:
            try:
                spec = importlib.util.find_spec(name)
                origin = spec.origin if spec else None
                st = os.stat(origin) if origin else None
            except (ImportError, ValueError, OSError):
                origin, st = None, None
            out.append((name, origin, st.st_size if st else None, st.st_mtime_ns if st else None))
        workspace.libraries = tuple(out)
    return workspace.libraries


def file_digest(path: Path) -> str | None:
    """The sha256 of a regular file (not through a symlink), else None."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        if not stat_module.S_ISREG(os.fstat(fd).st_mode):
            return None
        return hashlib.file_digest(fh, "sha256").hexdigest()


def file_digests(out_dir: Path, files, known: dict, written) -> dict[str, str]:
    """The digest of every file the build leaves listed: known (the last manifest's) for a file not
    written since, else read from the file."""
    written = set(written)
    out = {}
    for rel in sorted(files):
        digest = known.get(rel) if rel not in written else None
        if digest is None:
            digest = file_digest(out_dir / rel)
        if digest is not None:
            out[rel] = digest
    return out


def remove(out_dir: Path, rel: str, digest: str | None) -> bool:
    """Delete a file an earlier build wrote, and its folder when left empty: only inside out_dir,
    only a regular file (a symlink is not followed) and only while its content has the digest the
    manifest recorded when it was written.  A manifest planted in a pull request therefore deletes
    nothing but files textbill itself wrote into its output folder."""
    safe = safe_rel(rel)
    if safe is None or not digest:
        return False
    path = out_dir / safe
    try:
        if out_dir not in path.parent.resolve().parents and path.parent.resolve() != out_dir:
            return False
        if file_digest(path) != digest:
            return False
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError:
        return False
    parent = path.parent
    while parent != out_dir and out_dir in parent.parents:
        try:
            parent.rmdir()
        except OSError:
            break
        parent = parent.parent
    return True
