"""`textbill remind --send` end to end, against a real SMTP server on localhost (aiosmtpd).

Each test starts its own server on a free port.  textbill runs in this process,
except for the concurrency test, which starts real processes at once, as two
cron jobs would.  The ledger: three invoices due 2026-02-09 (net 30 from
2026-01-10); as of 2026-02-16 the friendly step (+7d) is due for each.
"""
from __future__ import annotations

import asyncio
import email
import email.policy
import os
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import ClassVar

import pytest

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")
from aiosmtpd.smtp import AuthResult, LoginPassword

from textbill.workflow.mailer import Mailer, SettingsError, SmtpSettings, smtp_settings

SRC = str(Path(__file__).resolve().parent.parent / "src")

LEDGER = '''
company acme "Acme Consulting"
  email billing@acme.example
  currency USD
  late-fee 40.00

reminders standard
  step +7d  "friendly"
  step +21d "firm" late-fee

client a "Alpha Ltd"
  email ap@alpha.example

client b "Beta Ltd"
  email ap@beta.example

client g "Gamma Ltd"
  email ap@gamma.example

2026-01-10 invoice INV-2026-0001 a
  item "Work" 1 x 100.00

2026-01-10 invoice INV-2026-0002 b
  item "Work" 1 x 200.00

2026-01-10 invoice INV-2026-0003 g
  item "Work" 1 x 300.00
'''


# ---------------------------------------------------------------------------- the server

@pytest.fixture(autouse=True)
def fake_pdf(monkeypatch):
    """In-process runs attach a fixed stand-in PDF (rendering is tested in test_remind_eml.py)."""
    from textbill.render import eml

    monkeypatch.setattr(eml, "invoice_pdf", lambda analysis, doc: (b"%PDF-1.4\n%%EOF\n", None))


class Inbox:
    """An aiosmtpd handler that keeps every accepted message; it can refuse or be slow."""

    def __init__(self, refuse=(), delay: float = 0.0):
        self.refuse = set(refuse)
        self.delay = delay
        self.lock = threading.Lock()
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted for delivery"

    def steps(self) -> list[tuple[str, str]]:
        """(invoice, step) of every delivered message, from its X-Textbill headers."""
        out = []
        for _, _, data in self.messages:
            msg = email.message_from_bytes(data, policy=email.policy.default)
            out.append((msg["X-Textbill-Invoice"], msg["X-Textbill-Step"]))
        return sorted(out)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    """smtp_server(inbox, **controller_kw) -> port; stopped after the test."""
    started = []

    def start(inbox: Inbox, **kw) -> int:
        port = free_port()
        controller = aiosmtpd_controller.Controller(inbox, hostname="127.0.0.1", port=port, **kw)
        controller.start()
        started.append(controller)
        return port

    yield start
    for controller in started:
        controller.stop()


def make_ledger(folder: Path, port: int | None, text: str = LEDGER, smtp_extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ledger.bill").write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    if port is not None:
        (folder / "textbill.yaml").write_text(
            f"smtp: {{host: 127.0.0.1, port: {port}, from: billing@acme.example, timeout: 10{smtp_extra}}}\n",
            encoding="utf-8")
    return folder


class Result:
    def __init__(self, returncode: int, stdout: str, stderr: str):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr

    def __repr__(self):
        return f"<exit {self.returncode}>\n{self.stdout}\n{self.stderr}"


def textbill(*args, env: dict | None = None) -> Result:
    """Run textbill in this process (fast); the concurrency test runs real processes."""
    from click.testing import CliRunner

    from textbill.cli.main import main

    env = {"TEXTBILL_SMTP_PASSWORD": None, "TEXTBILL_LEDGER": None, **(env or {})}
    r = CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)
    return Result(r.exit_code, r.stdout, r.stderr)


def _command(args) -> list[str]:
    return [sys.executable, "-m", "textbill", *[str(a) for a in args]]


def _env(extra: dict | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("TEXTBILL_SMTP_PASSWORD", "TEXTBILL_LEDGER")}
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra or {})
    return env


def recorded(folder: Path, name: str = "reminders.bill") -> list[str]:
    path = folder / name
    if not path.exists():
        return []
    return [line.split(";")[0].strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line and not line.startswith(";")]


FRIENDLY = [("INV-2026-0001", "friendly"), ("INV-2026-0002", "friendly"), ("INV-2026-0003", "friendly")]


# ---------------------------------------------------------------------------- end to end

def test_send_twice_delivers_each_step_once(tmp_path, smtp_server):
    inbox = Inbox()
    folder = make_ledger(tmp_path / "ledger", smtp_server(inbox))
    out = tmp_path / "out"
    first = textbill("remind", "-f", folder, "--as-of", "2026-02-16", "--send", "--out", out)
    assert first.returncode == 0, first.stderr
    assert inbox.steps() == FRIENDLY
    assert "3 reminders sent and recorded" in first.stderr
    assert recorded(folder) == ["2026-02-16 reminded INV-2026-0001 friendly",
                                "2026-02-16 reminded INV-2026-0002 friendly",
                                "2026-02-16 reminded INV-2026-0003 friendly"]
    # what was written with --out is byte for byte what the server received
    by_rcpt = {rcpt[0]: data for _, rcpt, data in inbox.messages}
    assert by_rcpt["ap@alpha.example"] == (out / "INV-2026-0001-friendly.eml").read_bytes()
    assert {m[0] for m in inbox.messages} == {"billing@acme.example"}

    second = textbill("remind", "-f", folder, "--as-of", "2026-02-16", "--send")
    assert second.returncode == 0, second.stderr
    assert "nothing to send" in second.stderr
    assert len(inbox.messages) == 3
    # the ledger with its records still checks clean, and the next step comes on its day
    assert textbill("check", folder).returncode == 0
    third = textbill("remind", "-f", folder, "--as-of", "2026-03-02", "--send")
    assert third.returncode == 0, third.stderr
    assert inbox.steps() == sorted(FRIENDLY + [(n, "firm") for n, _ in FRIENDLY])
    assert len(recorded(folder)) == 6


def test_concurrent_runs_deliver_each_step_once(tmp_path, smtp_server):
    inbox = Inbox(delay=0.4)  # slow enough that the runs overlap
    folder = make_ledger(tmp_path / "ledger", smtp_server(inbox))
    args = _command(("remind", "-f", folder, "--as-of", "2026-02-16", "--send"))
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(None))
             for _ in range(3)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], results
    assert inbox.steps() == FRIENDLY
    assert len(recorded(folder)) == 3
    assert sum("nothing to send" in err for _, err in results) == 2


def test_header_injection_sends_nothing(tmp_path, smtp_server):
    inbox = Inbox()
    text = LEDGER.replace('  email ap@alpha.example', '  email "ap@alpha.example\\nBcc: victim@else.example"')
    text = text.replace('client b "Beta Ltd"', 'client b "Beta\\r\\nBcc: victim@else.example"')
    folder = make_ledger(tmp_path / "ledger", smtp_server(inbox), text)
    r = textbill("remind", "-f", folder, "--as-of", "2026-02-16", "--send")
    assert r.returncode == 1
    assert "error[E251]" in r.stderr and "error[E252]" in r.stderr
    assert inbox.steps() == [("INV-2026-0003", "friendly")]  # only the clean client
    assert all("victim" not in rcpt[0] and b"victim" not in data for _, rcpt, data in inbox.messages)
    assert recorded(folder) == ["2026-02-16 reminded INV-2026-0003 friendly"]


def test_a_failed_send_records_nothing_for_it_and_the_others_go_on(tmp_path, smtp_server):
    inbox = Inbox(refuse={"ap@beta.example"})
    folder = make_ledger(tmp_path / "ledger", smtp_server(inbox))
    r = textbill("remind", "-f", folder, "--as-of", "2026-02-16", "--send")
    assert r.returncode == 1
    assert "failed: INV-2026-0002 'friendly' to ap@beta.example" in r.stderr
    assert "550" in r.stderr
    assert inbox.steps() == [("INV-2026-0001", "friendly"), ("INV-2026-0003", "friendly")]
    assert recorded(folder) == ["2026-02-16 reminded INV-2026-0001 friendly",
                                "2026-02-16 reminded INV-2026-0003 friendly"]
    again = textbill("remind", "-f", folder, "--as-of", "2026-02-16", "--send")
    assert again.returncode == 1  # only the failed one is tried again
    assert "failed: INV-2026-0002" in again.stderr and "sent INV-2026-0001" not in again.stderr
    assert len(inbox.messages) == 2


def test_no_server_fails_every_reminder_and_records_nothing(tmp_path):
    folder = make_ledger(tmp_path / "ledger", free_port())
    r = textbill("remind", "-f", folder, "--as-of", "2026-02-16", "--send")
    assert r.returncode == 1
    assert r.stderr.count("could not talk to the SMTP server") == 3  # the first tried, the others not again
    assert r.stderr.count("not tried: could not talk") == 2
    assert recorded(folder) == []


def test_login_with_the_password_from_the_environment(tmp_path, smtp_server):
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login, auth_data.password))
        # handled=False: aiosmtpd answers 535 itself
        return AuthResult(success=(auth_data.login, auth_data.password) == (b"billing", b"s3cret"), handled=False)

    inbox = Inbox()
    port = smtp_server(inbox, authenticator=authenticator, auth_require_tls=False)
    folder = make_ledger(tmp_path / "ledger", port, smtp_extra=", user: billing")
    wrong = textbill("remind", "-f", folder, "--as-of", "2026-02-16", "--send",
                     env={"TEXTBILL_SMTP_PASSWORD": "guess"})
    assert wrong.returncode == 1
    assert "refused the login of user 'billing'" in wrong.stderr
    assert len(logins) <= 2  # one login (smtplib tries PLAIN, then LOGIN), not one per reminder
    assert recorded(folder) == [] and inbox.messages == []
    right = textbill("remind", "-f", folder, "--as-of", "2026-02-16", "--send",
                     env={"TEXTBILL_SMTP_PASSWORD": "s3cret"})
    assert right.returncode == 0, right.stderr
    assert inbox.steps() == FRIENDLY
    assert (b"billing", b"s3cret") in logins


def test_missing_smtp_settings_is_a_usage_error(tmp_path):
    folder = make_ledger(tmp_path / "ledger", None)
    r = textbill("remind", "-f", folder, "--as-of", "2026-02-16", "--send")
    assert r.returncode == 2
    assert "no smtp settings in textbill.yaml" in r.stderr
    assert recorded(folder) == []


def test_a_user_without_the_password_variable_is_a_usage_error(tmp_path):
    folder = make_ledger(tmp_path / "ledger", free_port(), smtp_extra=", user: billing")
    r = textbill("remind", "-f", folder, "--as-of", "2026-02-16", "--send")
    assert r.returncode == 2
    assert "TEXTBILL_SMTP_PASSWORD" in r.stderr


def test_record_file_option_and_single_file_ledgers(tmp_path, smtp_server):
    inbox = Inbox()
    port = smtp_server(inbox)
    folder = make_ledger(tmp_path / "ledger", port)
    outside = textbill("remind", "-f", folder, "--as-of", "2026-02-16", "--send", "--file", tmp_path / "x.bill")
    assert outside.returncode == 2 and "outside the ledger" in outside.stderr
    (folder / "2026").mkdir()
    r = textbill("remind", "-f", folder, "--as-of", "2026-02-16", "--send", "--client", "a",
                 "--file", folder / "2026" / "sent.bill")
    assert r.returncode == 0, r.stderr
    assert recorded(folder / "2026", "sent.bill") == ["2026-02-16 reminded INV-2026-0001 friendly"]
    assert inbox.steps() == [("INV-2026-0001", "friendly")]

    # a ledger given as one .bill file records into that file
    single = make_ledger(tmp_path / "single", port)
    r = textbill("remind", "-f", single / "ledger.bill", "--as-of", "2026-02-16", "--send", "--client", "b")
    assert r.returncode == 0, r.stderr
    assert "2026-02-16 reminded INV-2026-0002 friendly" in recorded(single, "ledger.bill")
    assert not (single / "reminders.bill").exists()
    again = textbill("remind", "-f", single / "ledger.bill", "--as-of", "2026-02-16", "--send", "--client", "b")
    assert "nothing to send" in again.stderr
    assert inbox.steps() == [("INV-2026-0001", "friendly"), ("INV-2026-0002", "friendly")]


# ---------------------------------------------------------------------------- the mailer alone

class FakeSMTP:
    calls: ClassVar[list] = []

    def __init__(self, host, port, timeout=None, context=None):
        FakeSMTP.calls = [("connect", host, port, timeout, context is not None)]

    def ehlo(self):
        self.calls.append(("ehlo",))

    def starttls(self, context=None):
        self.calls.append(("starttls", context is not None))

    def login(self, user, password):
        self.calls.append(("login", user, password))

    def sendmail(self, sender, recipients, data):
        self.calls.append(("sendmail", sender, tuple(recipients)))
        return {}

    def quit(self):
        self.calls.append(("quit",))


def _message():
    from email.message import EmailMessage

    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = "Acme <billing@acme.example>"
    msg["To"] = "Alpha <ap@alpha.example>"
    msg.set_content("hi")
    return msg


def test_starttls_comes_before_the_login():
    settings = smtp_settings({"host": "smtp.example.com", "user": "billing", "starttls": True,
                              "from": "billing@acme.example"}, {"TEXTBILL_SMTP_PASSWORD": "pw"})
    assert (settings.port, settings.timeout) == (587, 30.0)
    with Mailer(settings, smtp_class=FakeSMTP) as mailer:
        msg = _message()
        mailer.send(msg, msg.as_bytes())
    assert [c[0] for c in FakeSMTP.calls] == ["connect", "ehlo", "starttls", "ehlo", "login", "sendmail", "quit"]
    assert FakeSMTP.calls[0] == ("connect", "smtp.example.com", 587, 30.0, False)
    assert FakeSMTP.calls[4] == ("login", "billing", "pw")
    assert FakeSMTP.calls[5] == ("sendmail", "billing@acme.example", ("ap@alpha.example",))


def test_ssl_uses_an_ssl_connection_on_465():
    settings = smtp_settings({"host": "smtp.example.com", "ssl": True}, {})
    assert settings.port == 465
    with Mailer(settings, smtp_class=None, ssl_class=FakeSMTP) as mailer:
        msg = _message()
        mailer.send(msg, msg.as_bytes())
    assert FakeSMTP.calls[0] == ("connect", "smtp.example.com", 465, 30.0, True)
    assert "starttls" not in [c[0] for c in FakeSMTP.calls]


@pytest.mark.parametrize("smtp, env, message", [
    ({}, {}, "no smtp settings"),
    ({"port": 25}, {}, "smtp.host is missing"),
    ({"host": "smtp.example.com", "user": "u"}, {"TEXTBILL_SMTP_PASSWORD": "pw"}, "unencrypted"),
    ({"host": "smtp.example.com", "ssl": True, "starttls": True}, {}, "not both"),
    ({"host": "smtp.example.com", "port": "x"}, {}, "port"),
    ({"host": "smtp.example.com", "starttls": "yes"}, {}, "true or false"),
    ({"host": "smtp.example.com", "timeout": 0}, {}, "timeout"),
])
def test_unusable_settings(smtp, env, message):
    with pytest.raises(SettingsError, match=message):
        smtp_settings(smtp, env)


def test_the_password_never_comes_from_the_file():
    settings = smtp_settings({"host": "127.0.0.1", "user": "u"}, {"TEXTBILL_SMTP_PASSWORD": "from-env"})
    assert isinstance(settings, SmtpSettings) and settings.password == "from-env"
