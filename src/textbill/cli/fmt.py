"""`textbill fmt`: rewrite .bill files in their canonical layout."""
from __future__ import annotations

import difflib
import sys
from pathlib import Path

import click

from textbill.cli.common import Ctx, ledger_options, print_problems
from textbill.core.source import Sources
from textbill.loading.loader import display_name, ledger_files, read_source
from textbill.loading.writer import write_atomic
from textbill.syntax.parser import Syntax
from textbill.syntax.printer import format_text as canonical


@click.command("fmt")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--check", "check_only", is_flag=True, help="Change nothing; exit 1 if a file is not formatted.")
@click.option("--diff", "show_diff", is_flag=True,
              help="Change nothing; print a unified diff and exit 1 if a file is not formatted.")
@ledger_options
def fmt(ctx: Ctx, paths, check_only, show_diff):
    """Rewrite .bill files in canonical layout (comments and blank lines kept).

    A file that does not parse is left untouched and reported, and so is a symbolic link: fmt
    rewrites only regular files, never replacing a link with a copy.  --check and --diff change
    nothing.
    """
    targets: list[Path] = []
    if paths:
        for p in paths:
            path = Path(p)
            if not path.exists():
                raise click.BadParameter(f"no such file or folder: {p}", param_hint="PATHS")
            targets.extend(ledger_files(path))
    else:
        targets = ledger_files(ctx.ledger_path())
    changed, failed = 0, 0
    syntax = Syntax()  # one parser for every file
    for path in targets:
        name = display_name(path)
        if path.is_symlink() or not path.is_file():
            what = "a symbolic link" if path.is_symlink() else "not a regular file"
            click.echo(f"{name}: skipped: it is {what}; fmt rewrites only regular files "
                       "(format the file itself)", err=True)
            failed += 1
            continue
        text, problem = read_source(path, name)
        if problem:
            click.echo(f"{name}: skipped: {problem.message}", err=True)
            failed += 1
            continue
        result, diags = canonical(text, name, syntax)
        if result is None:
            sources = Sources()
            sources.add(name, text)
            print_problems(diags, sources)
            click.echo(f"{name}: not formatted: it does not parse", err=True)
            failed += 1
            continue
        if result == text:
            continue
        changed += 1
        if show_diff:
            sys.stdout.writelines(difflib.unified_diff(text.splitlines(True), result.splitlines(True),
                                                       name, name + " (formatted)"))
        if check_only or show_diff:
            click.echo(f"would reformat {name}", err=True)
        else:
            write_atomic(path, result.encode("utf-8"))
            click.echo(f"reformatted {name}", err=True)
    if check_only or show_diff:
        sys.exit(1 if changed or failed else 0)
    if not changed and not failed:
        click.echo(f"{len(targets)} file{'s' if len(targets) != 1 else ''} already formatted", err=True)
    sys.exit(1 if failed else 0)
