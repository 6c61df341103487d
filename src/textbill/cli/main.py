"""The `textbill` command line: the root group, its entry point, and the commands registered lazily.

Each command lives in its own module under textbill.cli and is imported only when it runs (or when
its full help is asked for), so `textbill --help` and a cached `textbill check` start quickly.
"""
from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Mapping
from types import MappingProxyType

import click

from textbill.core.diagnostics import closest
from textbill.version import __version__

# name -> (module under textbill.cli, attribute, the first paragraph of its help: for `textbill --help`)
# tests/test_docs.py holds each summary to the command's own docstring.
COMMANDS: Mapping[str, tuple[str, str, str]] = MappingProxyType({
    "agreement": ("agreement", "agreement", "Render one SOW as an agreement document (HTML or PDF)."),
    "build": ("build", "build_command",
              "Compile invoices, credit notes, statements, the overdue report, model.json and the dashboard."),
    "check": ("check", "check", "Parse and validate a ledger; report every problem."),
    "clock": ("clock", "clock", "Running timers, one per SOW, several at once."),
    "diff": ("diff", "diff", "What a git range changes in the billing."),
    "doctor": ("doctor", "doctor",
               "Check Pango, HarfBuzz, the fonts and the optional tools; say how to install them."),
    "draft": ("draft", "draft", "The invoices that the SOW schedules call for now, computed but not written."),
    "explain": ("explain", "explain",
                "How every figure of one invoice came about: sources, rounding, tax groups, discount split."),
    "export": ("export", "export",
               "The receivables as plain-text accounting (hledger, Beancount) or CSV postings."),
    "fmt": ("fmt", "fmt", "Rewrite .bill files in canonical layout (comments and blank lines kept)."),
    "import": ("import_", "import_", "Time entries from other trackers (timeclock, Toggl), payments from bank statements."),
    "init": ("init", "init", "Create a new ledger: textbill.yaml, a commented example .bill file, .gitignore."),
    "invoices": ("invoices", "invoices", "The invoice list: amounts, payments and status as of a day."),
    "issue": ("issue", "issue",
              "Issue the invoices 'textbill draft' shows: append them to the ledger and lock them."),
    "lock": ("lock", "lock", "Lock every issued document, and every accepted SOW's terms, not yet locked."),
    "lsp": ("lsp", "lsp", "A Language Server (stdio) for any editor: diagnostics, completion, hover, navigation."),
    "remind": ("remind", "remind",
               "Reminder e-mails due now: list them, write them (--out), or send them (--send)."),
    "report": ("report", "report", "Reports over the receivables and the team's time."),
    "statement": ("statement", "statement",
                  "A client's statement: opening balance, documents and payments, running balance, aging."),
    "watch": ("watch", "watch", "Rebuild on every save and serve a live-reloading preview on localhost."),
})


class Group(click.Group):
    """Suggests the closest command for a misspelled one."""

    def resolve_command(self, ctx, args):
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError:
            if args:
                guess = closest(args[0], self.list_commands(ctx))
                if guess:
                    raise click.UsageError(f"no such command '{args[0]}' — did you mean '{guess}'?")
            raise


class LazyGroup(Group):
    """Commands imported on first use (click's LazyGroup pattern); the listing needs no import."""

    def __init__(self, *args, lazy: Mapping[str, tuple[str, str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in self.lazy:
            module, attr, _ = self.lazy[name]
            self.add_command(getattr(importlib.import_module(f"textbill.cli.{module}"), attr), name)
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # as click.Group.format_commands, with the summaries of the commands not imported yet
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            if name in self.commands or name not in self.lazy:
                cmd = self.get_command(ctx, name)
                if cmd is None or cmd.hidden:
                    continue
                rows.append((name, cmd.get_short_help_str(limit)))
            else:
                rows.append((name, click.Command(name, help=self.lazy[name][2]).get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, lazy=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="textbill")
def main():
    """textbill — plain-text, git-friendly invoicing.

    Keep clients, statements of work, time, expenses, invoices and payments in
    .bill files; textbill checks them and compiles invoices, statements, the
    overdue report, reminders and a dashboard.
    """


def run() -> None:
    """Entry point: never a traceback for the user (TEXTBILL_DEBUG=1 shows one)."""
    try:
        main(standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("TEXTBILL_DEBUG"):
            raise
        click.echo(f"textbill: internal error: {type(exc).__name__}: {exc}", err=True)
        click.echo("this is a bug in textbill; run with TEXTBILL_DEBUG=1 for details and please report it",
                   err=True)
        sys.exit(1)
