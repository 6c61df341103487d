"""What a build makes: formats, output kinds and names, the job of one document, and its hashes.

Stage: building.  The light part of planning, shared by the plan, the renderers of each job and
the manifest, so that deciding that a build has nothing to do (building.manifest.noop) imports
neither the engine nor the renderers.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

MANIFEST_VERSION = 2


FORMATS = ("html", "pdf", "json", "csv", "facturx", "ubl", "ksef")


FOLDERS = MappingProxyType({"invoice": "invoices", "credit-note": "credit-notes", "statement": "statements",
                            "report": "reports", "agreement": "agreements"})


# what a document may be written as; `facturx` is a flavour of the pdf output (the same file name)
OUTPUTS = ("html", "pdf", "ubl", "ksef", "json", "csv")


SUFFIXES = MappingProxyType({"html": ".html", "pdf": ".pdf", "ubl": ".ubl.xml", "ksef": ".ksef.xml", "json": ".json",
                             "csv": ".csv"})


EINVOICES = ("invoice", "credit-note")


class BuildError(Exception):
    """The build cannot start or finish (an unknown format, a broken theme)."""


@dataclass(frozen=True)
class Job:
    """One document to render: what it is, where its files go, and the hash of its inputs."""

    kind: str  # invoice | credit-note | statement | report | agreement
    ref: str  # invoice/credit-note number, client id, or "overdue"
    base: str  # output path without extension, relative to out_dir: "invoices/FV-2026-0001"
    digest: str
    outputs: tuple[str, ...] = ()  # what to render this time (OUTPUTS), set by the build

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.ref}"


def resolve_formats(formats: Iterable[str] | None, ledger_or_config) -> tuple[str, ...]:
    config = getattr(ledger_or_config, "config", ledger_or_config)
    chosen = tuple(dict.fromkeys(formats if formats is not None else config.formats))
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown:
        raise BuildError(f"unknown format '{unknown[0]}' (formats are: {', '.join(FORMATS)})")
    return chosen


def outputs_of(formats: Iterable[str], kind: str) -> dict[str, str]:
    """output -> flavour: what the formats make of a document of this kind."""
    formats = set(formats)
    out: dict[str, str] = {}
    if "html" in formats:
        out["html"] = "html"
    if "pdf" in formats or "facturx" in formats:
        out["pdf"] = "facturx" if "facturx" in formats and kind in EINVOICES else "pdf"
    if "ubl" in formats and kind in EINVOICES:
        out["ubl"] = "ubl"
    if "ksef" in formats and kind in EINVOICES:
        out["ksef"] = "ksef"
    if "json" in formats:
        out["json"] = "json"
    if "csv" in formats:
        out["csv"] = "csv"
    return out


def flavours(output: str, kind: str) -> tuple[str, ...]:
    return ("pdf", "facturx") if output == "pdf" and kind in EINVOICES else (output,)


def output_hash(digest: str, flavour: str) -> str:
    return hashlib.sha256(f"{flavour}\0{digest}".encode()).hexdigest()


def json_hash(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
                          .encode("utf-8")).hexdigest()


@dataclass
class BuildReport:
    out_dir: Path
    documents: int = 0  # documents in the ledger's output
    rendered: list[str] = field(default_factory=list)  # keys of the documents rendered this time
    unchanged: int = 0
    written: list[str] = field(default_factory=list)  # paths (relative to out_dir) whose content changed
    removed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    noop: bool = False  # nothing was looked at again: every input was as the last build left it

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        parts = [f"{self.documents} document{'s' if self.documents != 1 else ''}",
                 f"{len(self.rendered)} rendered", f"{self.unchanged} unchanged"]
        if self.removed:
            parts.append(f"{len(self.removed)} file{'s' if len(self.removed) != 1 else ''} removed")
        if self.failures:
            parts.append(f"{len(self.failures)} failed")
        return f"built {', '.join(parts)} in {self.seconds:.1f}s -> {self.out_dir}"
