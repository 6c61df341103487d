"""textbill.yaml: build settings, validated with their line numbers.  [I/O]"""
from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

import yaml

from textbill.core import model as m
from textbill.core.accounts import ROOTS, valid_account
from textbill.core.diagnostics import Diagnostic, did_you_mean, error
from textbill.core.source import Span

FORMATS = ("html", "pdf", "facturx", "ubl", "ksef", "json", "csv")
SMTP_KEYS = ("host", "port", "user", "from", "starttls", "ssl", "timeout")
BANK_CSV_KEYS = ("date", "amount", "currency", "payer", "iban", "text", "id", "status",
                 "delimiter", "decimal", "date-format", "encoding")

# key -> (kind, description); kinds are checked below
KEYS = MappingProxyType({
    "out": ("str", "the output folder, relative to the ledger root"),
    "theme": ("str", "a bundled theme's name or a folder inside the ledger"),
    "formats": ("list", "any of: " + ", ".join(FORMATS)),
    "locale": ("str", "the default document language, like en or pl"),
    "smtp": ("map", "host, port, user, from, starttls"),
    "paper": ("str", "a4 or letter"),
    "bilingual": ("str", "a second document language printed beside the first, like en"),
    "jobs": ("int", "how many documents to render at once"),
    "invoices-file": ("str", "the .bill file that 'textbill issue' appends to"),
    "payments-file": ("str", "the .bill file that 'textbill import bank' appends payments to"),
    "bank-csv": ("map", "the column names of a bank's CSV export: " + ", ".join(BANK_CSV_KEYS)),
    "time-file": ("str", "the .bill file that 'textbill clock out' and 'textbill import' append time to"),
    "toggl": ("map", "projects: a mapping of Toggl project names to client/sow"),
    "timeclock": ("map", "accounts: a mapping of timeclock accounts to client/sow"),
    "export": ("map", "account roots of 'textbill export': " + ", ".join(ROOTS)),
    "people": ("map", "a mapping of time trackers' user names or e-mails to person ids"),
})


def parse_config(text: str, name: str) -> tuple[m.Config, list[Diagnostic]]:
    diags: list[Diagnostic] = []
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        span = Span(name, mark.line + 1, mark.column + 1) if mark else Span(name, 1)
        problem = getattr(exc, "problem", None) or str(exc)
        return m.Config(), [error(span, "E008", f"textbill.yaml is not valid YAML: {problem}",
                                  "check the indentation and the colons of this line")]
    if node is None:
        return m.Config(), []

    def at(n) -> Span:
        return Span(name, n.start_mark.line + 1, n.start_mark.column + 1,
                    n.end_mark.line + 1, n.end_mark.column + 1)

    if not isinstance(node, yaml.MappingNode):
        return m.Config(), [error(at(node), "E008", "textbill.yaml must be a mapping of settings",
                                  "write one 'key: value' per line, e.g. 'out: build'")]
    values: dict = {}
    extra: dict = {}
    spans: dict = {}
    for key_node, value_node in node.value:
        key = key_node.value
        spans[key] = at(value_node)
        if key not in KEYS:
            diags.append(error(at(key_node), "E008", f"unknown setting '{key}' in textbill.yaml",
                               did_you_mean(str(key), KEYS) or "settings are: " + ", ".join(KEYS)))
            continue
        if key in values or key in extra:
            diags.append(error(at(key_node), "E008", f"setting '{key}' is given twice", "keep one of them"))
            continue
        kind, desc = KEYS[key]
        try:
            value = yaml.safe_load(yaml.serialize(value_node))
        except yaml.YAMLError:  # pragma: no cover
            value = None
        problem = _check(key, kind, value)
        if problem:
            diags.append(error(at(value_node), "E008", f"'{key}' {problem}", f"'{key}' is {desc}"))
            continue
        if key == "smtp":
            for sk_node, _ in value_node.value:
                if sk_node.value not in SMTP_KEYS:
                    diags.append(error(at(sk_node), "E008", f"unknown smtp setting '{sk_node.value}'",
                                       did_you_mean(str(sk_node.value), SMTP_KEYS)
                                       or "smtp takes: " + ", ".join(SMTP_KEYS)))
            if "password" in value:
                diags.append(error(at(value_node), "E008", "the SMTP password does not belong in textbill.yaml",
                                   "set TEXTBILL_SMTP_PASSWORD in the environment instead"))
        if key == "bank-csv":
            for bk_node, bv_node in value_node.value:
                if bk_node.value not in BANK_CSV_KEYS:
                    diags.append(error(at(bk_node), "E008", f"unknown bank-csv setting '{bk_node.value}'",
                                       did_you_mean(str(bk_node.value), BANK_CSV_KEYS)
                                       or "bank-csv takes: " + ", ".join(BANK_CSV_KEYS)))
                elif not isinstance(bv_node, yaml.ScalarNode) or bv_node.value == "":
                    diags.append(error(at(bv_node), "E008", f"bank-csv '{bk_node.value}' must be a column name "
                                       "or a single value", "e.g. date: Date"))
        if key == "export":
            diags.extend(_check_export(value_node, at))
        if key == "formats":
            for item_node in value_node.value:
                if item_node.value not in FORMATS:
                    diags.append(error(at(item_node), "E008", f"unknown output format '{item_node.value}'",
                                       did_you_mean(str(item_node.value), FORMATS)
                                       or "formats are: " + ", ".join(FORMATS)))
            value = tuple(v for v in value if v in FORMATS)
        if key in ("out", "theme", "locale", "formats", "smtp"):
            values[key] = value
        else:
            extra[key] = value
    kw = {}
    if "out" in values:
        kw["out"] = values["out"]
    if "theme" in values:
        kw["theme"] = values["theme"]
    if "formats" in values:
        kw["formats"] = tuple(values["formats"])
    if "locale" in values:
        kw["locale"] = values["locale"]
    if "smtp" in values:
        kw["smtp"] = MappingProxyType(dict(values["smtp"]))
    return m.Config(extra=MappingProxyType(extra), spans=MappingProxyType(spans), **kw), diags


def _check_export(node, at) -> list[Diagnostic]:
    """export: {receivable: Assets:Receivables, ...}: known keys, account names, no account twice."""
    diags = []
    given: dict[str, tuple[str, object]] = {}
    for key_node, value_node in node.value:
        key, value = key_node.value, value_node.value
        if key not in ROOTS:
            diags.append(error(at(key_node), "E008", f"unknown export setting '{key}'",
                               did_you_mean(str(key), ROOTS) or "export takes: " + ", ".join(ROOTS)))
        elif not isinstance(value, str) or not valid_account(value):
            diags.append(error(at(value_node), "E008", f"export {key} '{value}' is not an account name",
                               "write capitalised components joined by colons, like Assets:Receivables"))
        else:
            given[key] = (value, value_node)
    roots = {key: given[key][0] if key in given else default for key, (default, _) in ROOTS.items()}
    for key, (value, value_node) in given.items():
        other = next((k for k, v in roots.items() if v == value and k != key), None)
        if other is not None:
            diags.append(error(at(value_node), "E008", f"export {key} is '{value}', the same account as "
                               f"export {other}" + ("" if other in given else " by default"),
                               f"give {key} an account of its own"))
    return diags


def _check(key: str, kind: str, value) -> str | None:
    if value is None:
        return "has no value"
    if kind == "str" and not isinstance(value, str):
        return f"must be text, not {type(value).__name__}"
    if kind == "int" and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        return "must be a whole number of at least 1"
    if kind == "list" and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        return "must be a list like [html, pdf]"
    if kind == "map" and not isinstance(value, dict):
        return "must be a mapping"
    if key == "paper" and value not in ("a4", "letter"):
        return "must be a4 or letter"
    if key == "out" and (value.startswith("/") or ".." in Path(value).parts):
        return "must be a folder inside the ledger"
    if key == "out" and not [part for part in Path(value).parts if part != "."]:
        return "must be a folder inside the ledger, not the ledger folder itself (a build prunes its folder)"
    return None
