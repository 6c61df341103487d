"""Names vulture reports as unused that are used, in ways static analysis cannot see.

vulture's whitelist mechanism: this file is only parsed, never imported or run.  Check with
    vulture src/textbill vulture_whitelist.py --min-confidence 60
Each entry says why the name is used; a bare name stands for a function or variable, `_.name`
for an attribute or method of any class.
"""

# PEP 562 module hooks of the textbill package: the library API looked up lazily from textbill.api
__getattr__  # textbill/__init__.py
__dir__  # textbill/__init__.py

# assigning __class__ turns a filled mutable twin into the frozen class's instance (core/frozen.py)
_.__class__  # core/frozen.py, mutable_twin's layout check

# click commands: registered by their decorators, imported by name through cli/main.py's COMMANDS
build_command  # cli/build.py
clock_status  # cli/clock.py, @clock.command("status")
clock_cancel  # cli/clock.py, @clock.command("cancel")
export_hledger  # cli/export.py
export_beancount  # cli/export.py
export_csv  # cli/export.py
import_timeclock  # cli/import_.py
import_toggl  # cli/import_.py
import_bank  # cli/import_.py
doctor  # cli/doctor.py
init  # cli/init.py
issue  # cli/issue.py
remind  # cli/remind.py
report_overdue  # cli/report.py, @report.command("overdue")
report_team  # cli/report.py, @report.command("team")
watch  # cli/watch.py
lsp  # cli/lsp.py
# the language server's handlers: registered with pygls by their decorators (lsp/server.py)
initialize
did_open
did_change
did_close
files_changed
did_save
document_symbol
workspace_symbol
code_action
inlay_hint
_.format_commands  # cli/main.py: overrides click.Group.format_commands, called by click for --help

# the name tracebacks and profilers show for a generated builder (core/frozen.py)
_.__qualname__

# ledger data in the model, read by library users through textbill.load() (docs/language.md
# documents `deliverable` in a SOW); the parser fills it
deliverables  # core/model.py Sow.deliverables

# cache statistics, read by tests/test_cache.py and tests/test_incremental_engine.py
_.hits  # incremental/cache.py ParseCache, incremental/books_memo.py BooksMemo
_.misses

# pickle protocol hooks of the parse cache (incremental/cache.py)
_.reducer_override  # pickle.Pickler
_.find_class  # pickle.Unpickler

# Lark Transformer callbacks, called by the rule of the same name in grammar/textbill.lark
# (syntax/parser.py _ToModel)
deliverable
_.bank_detail
_.client_iban
_.reference
_.client_discount
_.client_reminders
_.hourly
_.invoice_sows
_.reminder_policy
_.entry_flag
_.credit_note
_.role_rate  # grammar rule of section 12 (person, rate, by, sent, accepted)

# http.server / socketserver settings and hooks of the watch preview server (watch/loop.py)
daemon_threads  # socketserver.ThreadingMixIn
allow_reuse_address  # socketserver.TCPServer
server_version  # BaseHTTPRequestHandler, sent in the Server header
_.log_message  # BaseHTTPRequestHandler, silenced
_.list_directory  # SimpleHTTPRequestHandler: no folder listings in the watch preview
_.close_connection  # BaseHTTPRequestHandler, ends the event stream's keep-alive

# watchdog callback (watch/loop.py)
_.on_any_event  # watchdog.events.FileSystemEventHandler

# read by tests/test_incremental_persist.py: whether a recalled document's lines were computed
_.lines_computed  # incremental/persist.py PersistentBooks

# jinja2.BytecodeCache hooks and the attribute Jinja reads (incremental/templates.py, render/templating.py)
_.load_bytecode
_.dump_bytecode
_.bytecode_cache
