"""`textbill lsp` end to end: the real server over stdio (pytest-lsp), on a ledger of several files.

One server serves the module's tests in order (starting one costs about a second); each test
leaves the buffers as it found them.  A second server, with its hover made to raise, shows that
an exception in a handler is logged to the client and the server keeps answering.

The ledger (hand-computed): SOW globex/web bills 100.00 USD an hour in 15-minute increments;
1h10m -> 1h15m = 125.00 and 2h = 200.00; INV-2025-0001 (2025-01-31, net 30 -> due 2025-03-02)
nets 325.00, VAT 10% 32.50, total 357.50; 100.00 paid -> 257.50 outstanding, overdue as of
2025-06-01 (the server's asOf) by 91 days.
"""
from __future__ import annotations

import asyncio
import os
import sys
import textwrap
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from textbill.checks.locks import write_lock
from textbill.pipeline import analyze

pytestmark = pytest.mark.asyncio(loop_scope="module")

SRC = str(Path(__file__).resolve().parents[1] / "src")
ENV = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
SERVER = [sys.executable, "-m", "textbill", "lsp"]

FILES = {
    "company.bill": """\
        company acme "Acme Consulting"
          country US
          currency USD
          payment-methods bank-transfer card

        reminders standard
          step +7d "friendly"
          step +21d firm
        """,
    "clients.bill": """\
        client globex "Globex Corporation"
          terms net 30
          tax VAT 10%
          reminders standard

        sow globex/web "Website"
          hourly 100.00 USD
          increment 15m
          cap 10h
        """,
    "2025/work.bill": """\
        2025-01-06 time globex/web 1h10m "Kickoff" #meeting
        2025-01-07 time globex/web 2h "Design"

        2025-01-31 invoice INV-2025-0001 globex
          period 2025-01-01 .. 2025-01-31

        2025-02-10 payment globex 100.00 for INV-2025-0001 via card
        """,
}


def write(root: Path) -> None:
    for name, body in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body), encoding="utf-8")
    (root / "textbill.yaml").write_text("out: build\n", encoding="utf-8")
    analysis = analyze(root, cache=False)
    assert analysis.ok, analysis.diagnostics
    write_lock(root, analysis.ledger, analysis.books)


async def start(client: LanguageClient, root: Path) -> None:
    await client.initialize_session(t.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), root_uri=root.as_uri(),
        workspace_folders=[t.WorkspaceFolder(uri=root.as_uri(), name="ledger")],
        initialization_options={"asOf": "2025-06-01", "debounceMs": 10}))


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=ENV), scope="module")
async def client(lsp_client: LanguageClient, tmp_path_factory):
    root = tmp_path_factory.mktemp("lsp-ledger")
    write(root)
    lsp_client.root = root  # type: ignore[attr-defined]
    await start(lsp_client, root)
    yield
    await lsp_client.shutdown_session()


def uri(client: LanguageClient, name: str) -> str:
    return (client.root / name).as_uri()  # type: ignore[attr-defined]


def text(client: LanguageClient, name: str) -> str:
    return (client.root / name).read_text(encoding="utf-8")  # type: ignore[attr-defined]


async def until(check, timeout: float = 15.0):
    """Wait until check() is true (diagnostics arrive as notifications)."""
    waited = 0.0
    while not check():
        if waited > timeout:
            raise AssertionError("timed out")
        await asyncio.sleep(0.02)
        waited += 0.02


_versions: dict[str, int] = {}


def open_doc(client: LanguageClient, name: str, body: str | None = None) -> None:
    _versions[name] = 1
    client.text_document_did_open(t.DidOpenTextDocumentParams(t.TextDocumentItem(
        uri=uri(client, name), language_id="textbill", version=1,
        text=text(client, name) if body is None else body)))


def change(client: LanguageClient, name: str, body: str) -> None:
    _versions[name] = _versions.get(name, 1) + 1
    client.text_document_did_change(t.DidChangeTextDocumentParams(
        t.VersionedTextDocumentIdentifier(uri=uri(client, name), version=_versions[name]),
        [t.TextDocumentContentChangeWholeDocument(text=body)]))


def close_doc(client: LanguageClient, name: str) -> None:
    client.text_document_did_close(t.DidCloseTextDocumentParams(t.TextDocumentIdentifier(uri(client, name))))


def codes(client: LanguageClient, name: str) -> list[str]:
    return [d.code for d in client.diagnostics.get(uri(client, name), [])]


def pos(body: str, needle: str, offset: int = 0) -> t.Position:
    """The position of `needle` (plus offset characters) in body."""
    i = body.index(needle) + offset
    row = body.count("\n", 0, i)
    return t.Position(row, i - (body.rfind("\n", 0, i) + 1))


# ------------------------------------------------------------------------------ diagnostics
async def test_clean_ledger_then_a_typo_in_one_file_errs_in_another_and_clears(client: LanguageClient):
    open_doc(client, "clients.bill")
    await until(lambda: uri(client, "clients.bill") in client.diagnostics or client.diagnostics == {})
    await asyncio.sleep(0.2)
    assert all(not d for d in client.diagnostics.values())  # the ledger checks clean: nothing shown

    broken = text(client, "clients.bill").replace("client globex", "client globx")
    change(client, "clients.bill", broken)  # unsaved: the disk still says globex
    await until(lambda: "E101" in codes(client, "2025/work.bill"))
    work = client.diagnostics[uri(client, "2025/work.bill")]
    first = next(d for d in work if d.code == "E101")
    assert first.severity == t.DiagnosticSeverity.Error
    assert first.message.startswith("unknown client 'globex'")
    # the range is the word, as `check` points its caret: line 4, `globex` after the number
    line = text(client, "2025/work.bill").split("\n")[first.range.start.line]
    assert line[first.range.start.character:first.range.end.character] == "globex"
    # did-you-mean as related information, pointing at the definition of the guess
    assert first.related_information[0].message == "did you mean 'globx'?"
    assert first.related_information[0].location.uri == uri(client, "clients.bill")
    assert first.related_information[0].location.range.start == t.Position(0, 7)

    change(client, "clients.bill", text(client, "clients.bill"))
    await until(lambda: not client.diagnostics.get(uri(client, "2025/work.bill")))
    close_doc(client, "clients.bill")


async def test_diagnostics_match_check(client: LanguageClient):
    body = text(client, "2025/work.bill") + "2025-03-01 reminded INV-2025-0001 friendy\n" \
        "2025-03-02 time globex/wbe 1h\n"
    open_doc(client, "2025/work.bill", body)
    await until(lambda: len(codes(client, "2025/work.bill")) >= 2)
    got = sorted((d.code, d.range.start.line + 1, d.range.start.character + 1, d.message)
                 for d in client.diagnostics[uri(client, "2025/work.bill")])
    # the same ledger through `textbill check`'s own analysis
    (client.root / "scratch").mkdir(exist_ok=True)  # type: ignore[attr-defined]
    copy = client.root / "scratch"  # type: ignore[attr-defined]
    for name in FILES:
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_text(text(client, name), encoding="utf-8")
    (copy / "2025/work.bill").write_text(body, encoding="utf-8")
    (copy / "textbill.lock").write_text(text(client, "textbill.lock"), encoding="utf-8")
    expected = sorted((d.code, d.span.line, d.span.col, d.message + (f"\nhelp: {d.hint}" if d.hint else ""))
                      for d in analyze(copy, cache=False).diagnostics if d.span and d.span.file.endswith("work.bill"))
    for f in copy.rglob("*.bill"):
        f.unlink()  # the scratch copy is no ledger file of the open ledger
    assert got == expected and {c for c, *_ in got} >= {"E102"}
    change(client, "2025/work.bill", text(client, "2025/work.bill"))
    await until(lambda: not client.diagnostics.get(uri(client, "2025/work.bill")))


# ------------------------------------------------------------------------------ completion
async def labels(client: LanguageClient, name: str, body: str, at: t.Position) -> list[str]:
    result = await client.text_document_completion_async(t.CompletionParams(
        t.TextDocumentIdentifier(uri(client, name)), at))
    items = result.items if isinstance(result, t.CompletionList) else (result or [])
    return [i.label for i in items]


async def test_completion_in_a_buffer_that_does_not_parse(client: LanguageClient):
    body = text(client, "2025/work.bill") + "2025-03-01 payment glo"
    open_doc(client, "2025/work.bill", body)
    lines = body.split("\n")
    end = t.Position(len(lines) - 1, len(lines[-1]))
    assert await labels(client, "2025/work.bill", body, end) == ["globex"]

    cases = [
        ("2025-03-01 ", ["time", "expense", "done", "invoice", "payment", "credit-note", "plan", "reminded",
                         "writeoff", "collections", "fx", "sent", "accepted"]),
        ("2025-03-01 time ", ["globex/web"]),
        ("2025-03-01 done ", ["globex/web"]),
        ("2025-03-01 payment globex 10.00 for ", ["INV-2025-0001"]),  # open invoices only
        ("2025-03-01 payment globex 10.00 via ", ["bank-transfer", "card"]),
        ("2025-03-01 reminded INV-2025-0001 ", ["friendly", "firm"]),
        ("2025-03-01 time globex/web 1h \"x\" #", ["#meeting"]),
        ("2025-03-31 invoice ", ["INV-2025-0002"]),
        ("2025-03-31 invoice INV-2025-0002 ", ["globex"]),
        ("client x \"X\"\n  reminders ", ["standard", "off"]),
        ("client x \"X\"\n  tax ", ["VAT", "exempt", "reverse-charge"]),
        ("sow globex/x \"X\"\n  schedule ", ["weekly", "biweekly", "monthly", "quarterly", "on-completion"]),
        ("2025-03-31 invoice INV-2025-0002 globex\n  sow ", ["web"]),
        ("2025-03-31 invoice INV-2025-0002 globex\n  due 2025-04-01 ((\n  ", None),
    ]
    for tail, expected in cases:
        buf = text(client, "2025/work.bill") + tail
        change(client, "2025/work.bill", buf)
        lines = buf.split("\n")
        got = await labels(client, "2025/work.bill", buf, t.Position(len(lines) - 1, len(lines[-1])))
        if expected is None:  # an attribute of an invoice, under a line that does not parse
            assert {"item", "discount", "charge", "due", "note"} <= set(got), got
        else:
            assert got == expected, (tail, got)

    buf = text(client, "2025/work.bill") + "2025-03-01 expense globex/web 12.50 "
    change(client, "2025/work.bill", buf)
    got = await labels(client, "2025/work.bill", buf, t.Position(buf.count("\n"), len(buf.split("\n")[-1])))
    assert got[0] == "USD" and "EUR" in got and "JPY" in got
    got = await labels(client, "2025/work.bill", "", t.Position(buf.count("\n"), 0))
    assert got[:4] == ["company", "client", "sow", "reminders"] and "2025-06-01" in got
    buf = "company acme \"A\"\n  \n"
    change(client, "2025/work.bill", text(client, "2025/work.bill") + buf)
    got = await labels(client, "2025/work.bill", "", t.Position(text(client, "2025/work.bill").count("\n") + 1, 2))
    assert "numbering" in got and "late-fee" in got and "terms" not in got
    change(client, "2025/work.bill", text(client, "2025/work.bill"))
    await until(lambda: not client.diagnostics.get(uri(client, "2025/work.bill")))


# ------------------------------------------------------------------------------ hover
async def hover(client: LanguageClient, name: str, at: t.Position) -> str:
    result = await client.text_document_hover_async(t.HoverParams(t.TextDocumentIdentifier(uri(client, name)), at))
    return result.contents.value if result else ""


async def test_hover_invoice_sow_client_and_time_entry(client: LanguageClient):
    body = text(client, "2025/work.bill")
    open_doc(client, "2025/work.bill")
    shown = await hover(client, "2025/work.bill", pos(body, "INV-2025-0001", 3))
    for row in ("| date | 2025-01-31 |", "| due | 2025-03-02 |", "| net | 325.00 USD |", "| tax | 32.50 USD |",
                "| total | 357.50 USD |", "| paid | 100.00 USD |", "| credited | 0.00 USD |",
                "| outstanding | 257.50 USD |", "| status as of 2025-06-01 | overdue, 91 days |"):
        assert row in shown, (row, shown)
    # the payment names the same invoice: the same figures
    assert "| outstanding | 257.50 USD |" in await hover(client, "2025/work.bill", pos(body, "for INV", 6))

    shown = await hover(client, "2025/work.bill", pos(body, "globex/web 1h10m", 8))
    assert "hourly 100.00 USD/h, increment 15m" in shown
    assert "| billed on invoices | 325.00 USD |" in shown
    assert "| budget used | 3.25h of 10.00h (32%) |" in shown  # 1h15m + 2h of a 10h cap, as E163 rounds

    shown = await hover(client, "2025/work.bill", pos(body, "payment globex", 9))
    assert "| balance as of 2025-06-01 | 257.50 USD |" in shown
    assert "| overdue | 257.50 USD (INV-2025-0001; oldest 91 days) |" in shown

    shown = await hover(client, "2025/work.bill", pos(body, "1h10m", 1))
    assert "| billed after the 15m increment | 1.25h (75 min) |" in shown
    assert "| amount | 125.00 USD |" in shown and "| invoice | INV-2025-0001 |" in shown

    # a buffer that does not parse still hovers on the lines that name things
    broken = body + "2025-03-01 payment globex ((( for INV-2025-0001\n"
    change(client, "2025/work.bill", broken)
    assert "257.50 USD" in await hover(client, "2025/work.bill", pos(broken, "((( for INV", 8))
    change(client, "2025/work.bill", body)
    await until(lambda: not client.diagnostics.get(uri(client, "2025/work.bill")))


# ------------------------------------------------------------------------------ navigation
async def test_definition_and_references(client: LanguageClient):
    body = text(client, "2025/work.bill")
    open_doc(client, "2025/work.bill")
    doc = t.TextDocumentIdentifier(uri(client, "2025/work.bill"))
    found = await client.text_document_definition_async(t.DefinitionParams(doc, pos(body, "globex/web", 2)))
    assert found.uri == uri(client, "clients.bill") and found.range.start == t.Position(5, 4)
    found = await client.text_document_definition_async(t.DefinitionParams(doc, pos(body, "payment globex", 9)))
    assert found.uri == uri(client, "clients.bill") and found.range == t.Range(t.Position(0, 7), t.Position(0, 13))
    found = await client.text_document_definition_async(t.DefinitionParams(doc, pos(body, "for INV", 6)))
    assert found.uri == uri(client, "2025/work.bill") and found.range.start == t.Position(3, 19)

    refs = await client.text_document_references_async(t.ReferenceParams(
        text_document=doc, position=pos(body, "INV-2025-0001"), context=t.ReferenceContext(include_declaration=True)))
    assert sorted((r.uri.rsplit("/", 1)[-1], r.range.start.line) for r in refs) == [("work.bill", 3), ("work.bill", 6)]
    refs = await client.text_document_references_async(t.ReferenceParams(
        text_document=doc, position=pos(body, "payment globex", 9),
        context=t.ReferenceContext(include_declaration=False)))
    # the invoice, the payment and the SOW's header name the client
    assert sorted((r.uri.rsplit("/", 1)[-1], r.range.start.line) for r in refs) == \
        [("clients.bill", 5), ("work.bill", 3), ("work.bill", 6)]


async def test_document_and_workspace_symbols(client: LanguageClient):
    open_doc(client, "clients.bill")
    symbols = await client.text_document_document_symbol_async(t.DocumentSymbolParams(
        t.TextDocumentIdentifier(uri(client, "clients.bill"))))
    assert [(s.name, s.kind, s.range.start.line, s.range.end.line) for s in symbols] == [
        ("globex", t.SymbolKind.Class, 0, 3), ("globex/web", t.SymbolKind.Module, 5, 8)]
    found = await client.workspace_symbol_async(t.WorkspaceSymbolParams(query="inv-2025"))
    assert [(s.name, s.location.uri.rsplit("/", 1)[-1], s.location.range.start.line) for s in found] == \
        [("INV-2025-0001", "work.bill", 3)]
    close_doc(client, "clients.bill")


async def test_formatting_is_fmt(client: LanguageClient):
    messy = "2025-03-01   fx  USD EUR   0.9 ;rate\n"
    body = text(client, "2025/work.bill") + messy
    open_doc(client, "2025/work.bill", body)
    edits = await client.text_document_formatting_async(t.DocumentFormattingParams(
        t.TextDocumentIdentifier(uri(client, "2025/work.bill")), t.FormattingOptions(tab_size=2, insert_spaces=True)))
    assert len(edits) == 1 and edits[0].new_text.endswith("2025-03-01 fx USD EUR 0.9  ;rate\n")
    edits = await client.text_document_formatting_async(t.DocumentFormattingParams(
        t.TextDocumentIdentifier(uri(client, "2025/work.bill")), t.FormattingOptions(tab_size=2, insert_spaces=True)))
    assert len(edits) == 1  # the buffer was not changed: the same edit again
    change(client, "2025/work.bill", body + "2025-03-02 fx USD\n")  # a syntax error: left as it is
    edits = await client.text_document_formatting_async(t.DocumentFormattingParams(
        t.TextDocumentIdentifier(uri(client, "2025/work.bill")), t.FormattingOptions(tab_size=2, insert_spaces=True)))
    assert edits is None and "syntax errors" in client.messages[-1].message
    change(client, "2025/work.bill", text(client, "2025/work.bill"))
    await until(lambda: not client.diagnostics.get(uri(client, "2025/work.bill")))


async def actions(client: LanguageClient, name: str, diags: list[t.Diagnostic]) -> list[t.CodeAction]:
    return await client.text_document_code_action_async(t.CodeActionParams(
        t.TextDocumentIdentifier(uri(client, name)), diags[0].range if diags else t.Range(t.Position(0, 0),
                                                                                         t.Position(0, 0)),
        t.CodeActionContext(diagnostics=diags)))


async def test_code_actions(client: LanguageClient):
    name = "2025/work.bill"
    body = text(client, name) + "2025-03-01 payment globx 1.00\n"
    open_doc(client, name, body)
    await until(lambda: "E101" in codes(client, name))
    diags = [d for d in client.diagnostics[uri(client, name)] if d.code == "E101"]
    fix = (await actions(client, name, diags))[0]
    assert fix.title == "Replace with 'globex'"
    edit = fix.edit.changes[uri(client, name)][0]
    assert edit.new_text == "globex" and edit.range == t.Range(t.Position(7, 19), t.Position(7, 24))

    body = text(client, name).replace("  period", "period")  # a stray attribute (E018)
    change(client, name, body)
    await until(lambda: "E018" in codes(client, name))
    diags = [d for d in client.diagnostics[uri(client, name)] if d.code == "E018"]
    fix = (await actions(client, name, diags))[0]
    assert fix.edit.changes[uri(client, name)][0] == t.TextEdit(t.Range(t.Position(4, 0), t.Position(4, 0)), "  ")

    clients = text(client, "clients.bill").replace("  terms net 30", "  terms net 30\n  currency EUR")
    open_doc(client, "clients.bill", clients)
    change(client, name, text(client, name))
    await until(lambda: "E150" in codes(client, name))
    diags = [d for d in client.diagnostics[uri(client, name)] if d.code == "E150"]
    fix = next(a for a in await actions(client, name, diags) if getattr(a, "edit", None))
    assert fix.edit.changes[uri(client, name)][0].new_text.startswith("2025-01-31 fx USD EUR RATE")
    assert fix.edit.changes[uri(client, name)][0].range.start == t.Position(3, 0)
    # the lock action carries only a command (pygls' client reads such a CodeAction as a Command
    # whose `command` is the nested object, rendered as a string)
    lock = [a for a in await actions(client, name, diags) if getattr(a, "edit", None) is None]
    assert len(lock) == 1 and "'command': 'textbill.lock'" in str(lock[0].command)
    close_doc(client, "clients.bill")
    change(client, name, text(client, name))
    await until(lambda: not client.diagnostics.get(uri(client, name)))


async def test_inlay_hint_and_lock_command(client: LanguageClient):
    name = "2025/work.bill"
    open_doc(client, name)
    hints = await client.text_document_inlay_hint_async(t.InlayHintParams(
        t.TextDocumentIdentifier(uri(client, name)), t.Range(t.Position(0, 0), t.Position(99, 0))))
    assert [(h.position.line, h.label) for h in hints] == [(3, " = 357.50 USD")]

    # a second invoice, saved but not locked: a warning until `textbill lock` runs
    body = text(client, name) + "\n2025-02-28 invoice INV-2025-0002 globex\n  item \"Hosting\" 2 x 10.00\n"
    (client.root / name).write_text(body, encoding="utf-8")  # type: ignore[attr-defined]
    change(client, name, body)
    await until(lambda: "W172" in codes(client, name))
    await client.workspace_execute_command_async(t.ExecuteCommandParams(command="textbill.lock"))
    await until(lambda: not client.diagnostics.get(uri(client, name)))
    assert "INV-2025-0002" in text(client, "textbill.lock")
    assert any("1 document locked" in m.message for m in client.messages)


# ------------------------------------------------------------------------------ a handler that raises
BROKEN = [sys.executable, "-c", (
    "import sys, textbill.lsp.features as f\n"
    "def boom(*a):\n    raise RuntimeError('hover exploded')\n"
    "f.hover = boom\n"
    "sys.argv = ['textbill', 'lsp']\n"
    "from textbill.cli.main import run\nrun()\n")]


@pytest_lsp.fixture(config=ClientServerConfig(server_command=BROKEN, server_env=ENV), scope="module")
async def faulty(lsp_client: LanguageClient, tmp_path_factory):
    root = tmp_path_factory.mktemp("lsp-faulty")
    write(root)
    lsp_client.root = root  # type: ignore[attr-defined]
    await start(lsp_client, root)
    yield
    await lsp_client.shutdown_session()


async def test_an_exception_in_a_handler_is_logged_and_the_server_keeps_running(faulty: LanguageClient):
    # (first, with no document open yet: workspace symbols come from the workspace folder's ledger)
    found = await faulty.workspace_symbol_async(t.WorkspaceSymbolParams(query="globex"))
    assert sorted(s.name for s in found) == ["globex", "globex/web"]
    open_doc(faulty, "2025/work.bill")
    doc = t.TextDocumentIdentifier(uri(faulty, "2025/work.bill"))
    result = await faulty.text_document_hover_async(t.HoverParams(doc, t.Position(3, 22)))
    assert result is None
    await until(lambda: any("hover exploded" in m.message for m in faulty.log_messages))
    logged = next(m for m in faulty.log_messages if "hover exploded" in m.message)
    assert logged.type == t.MessageType.Error and "Traceback" in logged.message
    # still serving
    found = await faulty.text_document_definition_async(t.DefinitionParams(doc, t.Position(6, 20)))
    assert found.uri == uri(faulty, "clients.bill")


async def test_a_document_that_is_no_file_gets_no_answer_and_no_error(client: LanguageClient):
    before = len(client.log_messages)
    client.text_document_did_open(t.DidOpenTextDocumentParams(t.TextDocumentItem(
        uri="untitled:Untitled-1", language_id="textbill", version=1, text="client x \"X\"\n")))
    result = await client.text_document_hover_async(t.HoverParams(
        t.TextDocumentIdentifier("untitled:Untitled-1"), t.Position(0, 7)))
    assert result is None
    assert not [m for m in client.log_messages[before:] if m.type == t.MessageType.Error]
