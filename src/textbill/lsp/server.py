"""`textbill lsp`: the Language Server, on pygls, over stdio.

Each `.bill` document belongs to the ledger found upward from its folder (as the CLI finds one);
each ledger is a Session (session.py) holding the editor's unsaved buffers over the files on disk.
An edit marks its ledger for analysis after a short pause (debounce), so a burst of keystrokes
costs one analysis; the diagnostics are then published for every file of the ledger that has
some, and cleared for every file that no longer has any and every open document without any.  Completion, hover and the rest answer
from the buffer's text and the last analysis, so they work while a buffer does not parse.

The server may read the clock (the engine may not): "today" is date.today(), or the client's
initializationOptions {"asOf": "YYYY-MM-DD"}.  A handler that raises logs the traceback to the
client (window/logMessage) and answers nothing; the server keeps running.
"""
from __future__ import annotations

import asyncio
import functools
import traceback
from datetime import date
from pathlib import Path

from lsprotocol import types as t
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from textbill.checks.locks import LockError, write_lock
from textbill.incremental.workspace import Workspace
from textbill.loading.loader import find_root, read_source
from textbill.lsp import features
from textbill.lsp.session import Session
from textbill.pipeline import analyze
from textbill.version import __version__

DEBOUNCE_SECONDS = 0.03


class TextbillServer(LanguageServer):
    """The ledgers the editor has open, and the analyses waiting for a pause in the typing."""

    def __init__(self) -> None:
        super().__init__("textbill", __version__, text_document_sync_kind=t.TextDocumentSyncKind.Incremental)
        self.sessions: dict[Path, Session] = {}
        self.pending: dict[Path, asyncio.TimerHandle] = {}
        self.as_of: date | None = None
        self.debounce = DEBOUNCE_SECONDS

    def today(self) -> date:
        return self.as_of or date.today()

    # ------------------------------------------------------------------ documents and sessions
    def session_for(self, uri: str) -> tuple[Session, str] | None:
        """The session of a document's ledger, and the document's path."""
        fs = to_fs_path(uri)
        if fs is None:
            return None
        path = Path(fs).resolve()
        for root, session in self.sessions.items():
            if path.is_relative_to(root):
                return session, str(path)
        root = find_root(path.parent) or path.parent
        root = Path(root).resolve()
        session = self.sessions.setdefault(root, Session(root))
        return session, str(path)

    def schedule(self, session: Session) -> None:
        """Analyze the session's ledger after a pause in the edits."""
        old = self.pending.pop(session.root, None)
        if old is not None:
            old.cancel()
        loop = asyncio.get_running_loop()
        self.pending[session.root] = loop.call_later(self.debounce, self.refresh, session)

    def refresh(self, session: Session) -> None:
        """Analyze now and publish the diagnostics of every file that has some or had some."""
        self.pending.pop(session.root, None)
        try:
            session.reanalyze()
            found = features.diagnostics_by_file(session)
        except Exception:  # noqa: BLE001 - a bug must not stop the server
            self.log_error("analysis")
            return
        for path, diags in found.items():
            self.text_document_publish_diagnostics(
                t.PublishDiagnosticsParams(uri=features.uri_of(path), diagnostics=diags))
        # cleared: files that had some, and open documents (an editor shows them checked)
        for path in (session.published | set(session.overlay)) - set(found):
            self.text_document_publish_diagnostics(
                t.PublishDiagnosticsParams(uri=features.uri_of(path), diagnostics=[]))
        session.published = set(found)

    def log_error(self, where: str) -> None:
        self.window_log_message(t.LogMessageParams(
            type=t.MessageType.Error, message=f"textbill lsp: error in {where}:\n{traceback.format_exc()}"))

    def document(self, uri: str):
        """(session, path, text) of a document; NotAFile for a URI that names no file (`untitled:`)."""
        found = self.session_for(uri)
        if found is None:
            raise NotAFile(uri)
        session, path = found
        text = session.overlay.get(path)
        if text is None:
            text = self.workspace.get_text_document(uri).source
        return session, path, text


class NotAFile(Exception):
    """A document that is no file of a ledger: no answer, and nothing to log."""


def guarded(name: str):
    """A handler whose exception is logged to the client and answered with nothing."""
    def wrap(fn):
        @functools.wraps(fn)
        def run(server: TextbillServer, params):
            try:
                return fn(server, params)
            except NotAFile:
                return None
            except Exception:  # noqa: BLE001 - the server keeps running; the client sees the traceback
                server.log_error(name)
                return None
        return run
    return wrap


def make_server() -> TextbillServer:
    server = TextbillServer()

    @server.feature(t.INITIALIZE)
    @guarded("initialize")
    def initialize(ls: TextbillServer, params: t.InitializeParams):
        options = params.initialization_options if isinstance(params.initialization_options, dict) else {}
        if options.get("asOf"):
            ls.as_of = date.fromisoformat(str(options["asOf"]))
        if options.get("debounceMs") is not None:
            ls.debounce = max(0.0, float(options["debounceMs"]) / 1000)

    @server.feature(t.TEXT_DOCUMENT_DID_OPEN)
    @guarded("didOpen")
    def did_open(ls: TextbillServer, params: t.DidOpenTextDocumentParams):
        found = ls.session_for(params.text_document.uri)
        if found is None:
            return
        session, path = found
        session.overlay[path] = params.text_document.text
        if session.analysis is None:
            ls.refresh(session)
        else:
            ls.schedule(session)

    @server.feature(t.TEXT_DOCUMENT_DID_CHANGE)
    @guarded("didChange")
    def did_change(ls: TextbillServer, params: t.DidChangeTextDocumentParams):
        found = ls.session_for(params.text_document.uri)
        if found is None:
            return
        session, path = found
        session.overlay[path] = ls.workspace.get_text_document(params.text_document.uri).source
        ls.schedule(session)

    @server.feature(t.TEXT_DOCUMENT_DID_CLOSE)
    @guarded("didClose")
    def did_close(ls: TextbillServer, params: t.DidCloseTextDocumentParams):
        found = ls.session_for(params.text_document.uri)
        if found is None:
            return
        session, path = found
        session.close(path)
        ls.schedule(session)

    @server.feature(t.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    @guarded("didChangeWatchedFiles")
    def files_changed(ls: TextbillServer, params: t.DidChangeWatchedFilesParams):
        for session in ls.sessions.values():
            ls.schedule(session)

    @server.feature(t.TEXT_DOCUMENT_DID_SAVE)
    @guarded("didSave")
    def did_save(ls: TextbillServer, params: t.DidSaveTextDocumentParams):
        found = ls.session_for(params.text_document.uri)
        if found is not None:
            ls.schedule(found[0])  # textbill.lock or textbill.yaml may have changed beside it

    @server.feature(t.TEXT_DOCUMENT_COMPLETION, t.CompletionOptions(trigger_characters=[" ", "#"]))
    @guarded("completion")
    def completion(ls: TextbillServer, params: t.CompletionParams):
        session, _, text = ls.document(params.text_document.uri)
        return t.CompletionList(is_incomplete=False,
                                items=features.completion(session, text, params.position, ls.today()))

    @server.feature(t.TEXT_DOCUMENT_HOVER)
    @guarded("hover")
    def hover(ls: TextbillServer, params: t.HoverParams):
        session, path, text = ls.document(params.text_document.uri)
        return features.hover(session, path, text, params.position, ls.today())

    @server.feature(t.TEXT_DOCUMENT_DEFINITION)
    @guarded("definition")
    def definition(ls: TextbillServer, params: t.DefinitionParams):
        session, _, text = ls.document(params.text_document.uri)
        return features.definition(session, text, params.position)

    @server.feature(t.TEXT_DOCUMENT_REFERENCES)
    @guarded("references")
    def references(ls: TextbillServer, params: t.ReferenceParams):
        session, _, text = ls.document(params.text_document.uri)
        return features.references(session, text, params.position, params.context.include_declaration)

    @server.feature(t.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    @guarded("documentSymbol")
    def document_symbol(ls: TextbillServer, params: t.DocumentSymbolParams):
        _, _, text = ls.document(params.text_document.uri)
        return features.document_symbols(text)

    @server.feature(t.WORKSPACE_SYMBOL)
    @guarded("workspaceSymbol")
    def workspace_symbol(ls: TextbillServer, params: t.WorkspaceSymbolParams):
        if not ls.sessions:  # nothing opened yet: the ledgers of the workspace folders
            for uri in [*ls.workspace.folders, ls.workspace.root_uri or ""]:
                fs = to_fs_path(uri) if uri else None
                root = find_root(Path(fs)) if fs else None
                if root is not None:
                    ls.sessions.setdefault(Path(root).resolve(), Session(Path(root)))
        out = []
        for session in ls.sessions.values():
            if session.analysis is None:
                ls.refresh(session)
            out += features.workspace_symbols(session, params.query)
        return out

    @server.feature(t.TEXT_DOCUMENT_FORMATTING)
    @guarded("formatting")
    def formatting(ls: TextbillServer, params: t.DocumentFormattingParams):
        _, path, text = ls.document(params.text_document.uri)
        edits = features.formatting(text, Path(path).name)
        if edits is None:
            ls.window_show_message(t.ShowMessageParams(
                type=t.MessageType.Warning, message="textbill fmt: the file has syntax errors; fix them first"))
        return edits

    @server.feature(t.TEXT_DOCUMENT_CODE_ACTION, t.CodeActionOptions(
        code_action_kinds=[t.CodeActionKind.QuickFix, t.CodeActionKind.Source]))
    @guarded("codeAction")
    def code_action(ls: TextbillServer, params: t.CodeActionParams):
        _, _, text = ls.document(params.text_document.uri)
        return features.code_actions(params.text_document.uri, text, list(params.context.diagnostics))

    @server.feature(t.TEXT_DOCUMENT_INLAY_HINT)
    @guarded("inlayHint")
    def inlay_hint(ls: TextbillServer, params: t.InlayHintParams):
        session, path, text = ls.document(params.text_document.uri)
        return features.inlay_hints(session, path, text, params.range)

    @server.command(features.LOCK_COMMAND)
    def lock(ls: TextbillServer, *args):
        try:
            for session in list(ls.sessions.values()):
                ls.window_show_message(t.ShowMessageParams(type=t.MessageType.Info, message=run_lock(session)))
                ls.refresh(session)
        except Exception:  # noqa: BLE001 - as guarded(): logged, and the server keeps running
            ls.log_error(features.LOCK_COMMAND)

    return server


def run_lock(session: Session) -> str:
    """`textbill lock` on the ledger as saved; refused while a buffer differs from its file."""
    for path, text in session.overlay.items():
        saved, _ = read_source(Path(path), path, session.root)
        if saved != text:
            return f"textbill lock: save {Path(path).name} first (the lock records the files as saved)"
    analysis = analyze(session.root, workspace=Workspace())
    if not analysis.ok:
        return "textbill lock: the ledger has errors; fix them first (a ledger with errors is not locked)"
    try:
        added = write_lock(analysis.root, analysis.ledger, analysis.books)
    except LockError as exc:
        return f"textbill lock: {exc}"
    if not added:
        return "textbill lock: nothing to lock, every document is locked"
    return f"textbill lock: {len(added)} document{'s' if len(added) != 1 else ''} locked in textbill.lock"


def serve() -> None:
    """Speak LSP on stdin and stdout until the client exits."""
    make_server().start_io()
