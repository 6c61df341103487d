"""`textbill build`: a thin click command over textbill.building."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click

import textbill
from textbill.assets import output_problem
from textbill.building.manifest import noop
from textbill.building.spec import FORMATS, BuildError, BuildReport
from textbill.cli.common import (
    CI_FORMATS,
    Ctx,
    analyze_ledger,
    as_of_option,
    ci_report,
    ledger_options,
    load_clean,
    stderr_is_tty,
    today,
)
from textbill.core.diagnostics import has_errors, summary
from textbill.core.source import Sources
from textbill.incremental.checked import cached_check
from textbill.incremental.workspace import Workspace
from textbill.loading.loader import read_config
from textbill.render.diagnostics_formats import escape_data


def _formats(values: tuple[str, ...]) -> tuple[str, ...] | None:
    if not values:
        return None
    out: list[str] = []
    for value in values:
        out.extend(v.strip() for v in value.split(",") if v.strip())
    return tuple(out)


@click.command("build")
@click.argument("ledger_pos", metavar="[LEDGER]", required=False)
@click.option("-o", "--out", "out", metavar="DIR",
              help="Output folder (default: 'out' in textbill.yaml, else 'build', inside the ledger).")
@as_of_option
@click.option("-j", "--jobs", "jobs", type=click.IntRange(min=1), metavar="N",
              help="Documents rendered at once (default: 'jobs' in textbill.yaml, else the number of CPUs).")
@click.option("--force", is_flag=True, help="Render every document again, changed or not.")
@click.option("--format", "formats", multiple=True, metavar="LIST",
              help="Formats to write, comma-separated: html, pdf, json, csv, facturx, ubl, ksef "
                   "(default: 'formats' in textbill.yaml, else html,pdf).")
@click.option("--diagnostics-format", "diag_format", type=click.Choice(["text", *CI_FORMATS]), default="text",
              show_default=True,
              help="The ledger's diagnostics as text on stderr, or on stdout for CI, as `check --format` "
                   "prints them (github, sarif, codeclimate; warnings included).")
@ledger_options
def build_command(ctx: Ctx, ledger_pos, out, as_of, jobs, force, formats, diag_format):
    """Compile invoices, credit notes, statements, the overdue report, model.json and the dashboard.

    Only documents whose inputs changed are rendered again; PDFs are rendered in parallel.
    Refuses to build a ledger with errors (exit 1).
    """
    day = today(as_of)
    chosen = _formats(formats)
    for f in chosen or ():
        if f not in FORMATS:
            raise click.BadParameter(f"unknown format '{f}' (formats are: {', '.join(FORMATS)})",
                                     param_hint="--format")
    path = ctx.ledger_path(ledger_pos)
    # an unchanged ledger whose outputs are as the last build left them: answered from the check
    # cache and the manifest, without importing the compiler or the renderers
    report = None if (force or ctx.no_cache) else _nothing_to_do(path, out, day, chosen)
    if report is not None:
        if diag_format != "text":  # nothing to report, but a CI step may read the (empty) report
            click.echo(ci_report(diag_format, [], path), nl=False)
        click.echo(f"textbill: {report.summary()}", err=True)
        sys.exit(0)
    # --force renders every document: its invoices are computed with their lines at once
    if diag_format == "text":
        analysis = load_clean(ctx, ledger_pos, lines=force)
    else:
        analysis = analyze_ledger(ctx, ledger_pos, lines=force)
        click.echo(ci_report(diag_format, analysis.diagnostics, path), nl=False)
        if has_errors(analysis.diagnostics):
            click.echo(f"textbill: {summary(analysis.diagnostics)}; nothing was produced", err=True)
            sys.exit(1)
    config = analysis.config  # not analysis.ledger: an unchanged ledger is then never computed
    out_dir = Path(out) if out else Path(analysis.root) / config.out
    jobs = jobs or config.extra.get("jobs")
    _usable_out(out_dir, "--out" if out else "'out' in textbill.yaml")
    try:
        with _progress() as progress:
            report = textbill.build(analysis, out_dir, day, jobs=jobs, formats=chosen, force=force,
                                    progress=progress)
    except BuildError as exc:
        click.echo(f"textbill: {exc}", err=True)
        sys.exit(1)
    except OSError as exc:  # the disk, not textbill: a full disk, a folder made read-only meanwhile
        click.echo(f"textbill: cannot write {exc.filename or out_dir}: {exc.strerror or exc}", err=True)
        sys.exit(1)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
        if diag_format == "github":  # not a ledger diagnostic: no code, no line
            click.echo(f"::warning title=textbill build::{escape_data(str(warning))}")
    for failure in report.failures:
        click.echo(f"error: {failure}", err=True)
        if diag_format == "github":
            click.echo(f"::error title=textbill build::{escape_data(str(failure))}")
    click.echo(f"textbill: {report.summary()}", err=True)
    sys.exit(0 if report.ok else 1)


def _nothing_to_do(path: Path, out: str | None, day, formats) -> BuildReport | None:
    """The report of a build with nothing to do, or None (then the build looks at everything).

    Nothing to do: the check cache has this ledger's inputs without an error, and the manifest's
    no-op record matches them and every file it lists (building.manifest.noop)."""
    start = time.perf_counter()
    hit = cached_check(path)
    if hit is None or hit.diagnostics:  # a warning is printed by the full path, with the build
        return None
    config, problems = read_config(hit.root, Sources())
    if problems:
        return None
    out_dir = Path(out) if out else hit.root / config.out
    if not out_dir.is_dir() or not os.access(out_dir, os.W_OK | os.X_OK) or output_problem(hit.root, out_dir):
        return None
    found = noop(hit, out_dir.resolve(), day, formats, Workspace())
    if found is None:
        return None
    documents, warnings = found
    if warnings:
        return None  # printed by the full build, which says the same
    return BuildReport(out_dir.resolve(), documents=documents, unchanged=documents, noop=True,
                       seconds=time.perf_counter() - start)


def _usable_out(out_dir: Path, hint: str) -> None:
    """A usage error (exit 2) unless out_dir is a folder textbill can write, or can be made one."""
    if out_dir.exists() and not out_dir.is_dir():
        raise click.BadParameter(f"{out_dir} exists and is not a folder; the output is a folder of documents "
                                 "(name a new or existing folder)", param_hint=hint)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.BadParameter(f"cannot create the output folder {out_dir}: {exc.strerror or exc}",
                                 param_hint=hint) from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise click.BadParameter(f"the output folder {out_dir} is not writable", param_hint=hint)


class _progress:
    """A rich progress bar on a terminal; nothing otherwise.  It is drawn as the build reports,
    not by a refresh thread of its own: a process that runs no other thread may fork (the pages'
    workers, the site's processes: loading.forked.forkable)."""

    def __enter__(self):
        self.bar = None
        if not stderr_is_tty():
            return None
        # imported here: rich takes ~40 ms to import, which a build without a terminal never needs
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.bar = Progress(TextColumn("[bold]building"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), TextColumn("{task.description}"),
                            console=Console(stderr=True), transient=True, auto_refresh=False)
        self.task = None
        return self.update

    def update(self, done: int, total: int, key: str) -> None:
        if self.task is None:
            self.bar.start()
            self.task = self.bar.add_task("", total=total)
        self.bar.update(self.task, completed=done, total=total, description=key)
        self.bar.refresh()

    def __exit__(self, *exc):
        if self.bar is not None and self.task is not None:
            self.bar.stop()
        return False
