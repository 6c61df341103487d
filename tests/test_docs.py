"""The user documentation keeps up with the code: every command, directive, attribute and setting."""
from __future__ import annotations

import inspect
import re
from pathlib import Path

import click

from textbill.cli.main import COMMANDS as LAZY_COMMANDS
from textbill.cli.main import main
from textbill.loading.config import KEYS
from textbill.syntax.parser import BLOCK_ATTRIBUTES, DATED, DIRECTIVES

DOCS = Path(__file__).parents[1] / "docs"
LANGUAGE = (DOCS / "language.md").read_text(encoding="utf-8")
COMMANDS = (DOCS / "commands.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = ""):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):  # the root group imports its commands here, on first use
        cmd = group.get_command(ctx, name)
        path = f"{prefix}{name}"
        yield path, cmd
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, path + " ")


def test_every_command_and_subcommand_is_documented():
    missing = [path for path, _ in _commands(main) if f"textbill {path}" not in COMMANDS]
    assert not missing, f"commands missing from docs/commands.md: {missing}"


def test_every_option_of_every_command_is_documented():
    missing = []
    common = {"--help", "-h", "--ledger", "-f", "--no-cache", "--version"}
    for path, cmd in _commands(main):
        for param in cmd.params:
            if isinstance(param, click.Option):
                longs = [o for o in param.opts if o.startswith("--")]
                if longs and not any(o in common for o in longs) and not any(o in COMMANDS for o in longs):
                    missing.append(f"{path} {longs[0]}")
    assert not missing, f"options missing from docs/commands.md: {missing}"


def test_the_lazy_summaries_are_the_commands_own():
    # `textbill --help` shows COMMANDS' summaries without importing the commands
    ctx = click.Context(main)
    for name, (_, _, summary) in LAZY_COMMANDS.items():
        help_text = main.get_command(ctx, name).help or ""
        first = inspect.cleandoc(help_text).split("\n\n")[0]
        assert summary == " ".join(first.split()), name


def test_every_directive_is_documented():
    for word in DIRECTIVES + DATED:
        assert re.search(rf"^### {re.escape(word)}$", LANGUAGE, re.MULTILINE), f"directive '{word}' has no section"


def test_every_attribute_is_documented():
    missing = [f"{block}: {attr}" for block, attrs in BLOCK_ATTRIBUTES.items() for attr in attrs
               if f"`{attr}" not in LANGUAGE]
    assert not missing, f"attributes missing from docs/language.md: {missing}"


def test_every_setting_is_documented():
    missing = [key for key in KEYS if f"`{key}`" not in LANGUAGE]
    assert not missing, f"textbill.yaml settings missing from docs/language.md: {missing}"


def test_the_readme_gives_both_quick_start_commands():
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    assert "pip install . && textbill build example-ledger" in readme
    assert "pip install -e '.[test]' && pytest" in readme
