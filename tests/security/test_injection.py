"""Issue 14.6: e-mail header injection by an encoded word (spec section 11: no send to an address
not in the ledger; no encoded word adds a recipient).

Written as the attacker would: a pull request sets a client's name, the company's name, a
reminder step or a theme's subject line to an RFC 2047 encoded word whose decoded text is a
second mailbox (`Boss <ceo@victim.example>, x`) or a line break followed by `Bcc:`.  `textbill
remind --out` writes the .eml files that `--send` would deliver byte for byte; each is parsed
back the way a mail program reads it (email.policy.default).
"""
from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import write_ledger

from textbill.cli.main import main
from textbill.render import eml

SECOND_MAILBOX = "=?utf-8?q?Boss_=3Cceo=40victim=2Eexample=3E=2C_x?="  # decodes to 'Boss <ceo@victim.example>, x'
BCC_LINE = "=?utf-8?q?Dear=0D=0ABcc=3A_ceo=40victim=2Eexample?="  # decodes to 'Dear\r\nBcc: ceo@victim.example'
BCC_LF = "=?utf-8?b?WA pBcc: x?= =?utf-8?q?Hi=0ABcc:_ceo@victim.example?="  # a bare LF, among other words

LEDGER = '''
company acme "{company}"
  email billing@acme.example
  currency USD

reminders standard
  step +7d "{step}"

client mark "{client}"
  email ap@client.example

2026-01-10 invoice INV-2026-0001 mark
  item "Work" 1 x 100.00
'''


@pytest.fixture(autouse=True)
def no_pdf(monkeypatch):
    monkeypatch.setattr(eml, "invoice_pdf", lambda analysis, doc: (None, "no PDF in this test"))


def remind(tmp_path: Path, client="Mark Ltd", company="Acme", step="friendly", subject=None):
    folder = write_ledger(tmp_path / "ledger", LEDGER.format(client=client, company=company, step=step),
                          company=False, config="theme: evil\n" if subject else None)
    if subject:
        (folder / "evil" / "reminders").mkdir(parents=True)
        (folder / "evil" / "reminders" / "friendly.txt").write_text(f"Subject: {subject}\nPlease pay.\n",
                                                                   encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["remind", "-f", str(folder), "--as-of", "2026-03-02", "--out", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output + result.stderr
    (written,) = sorted(out.glob("*.eml"))
    data = written.read_bytes()
    head = data.split(b"\r\n\r\n")[0]  # the top-level headers (the body quotes the name as text)
    return email.message_from_bytes(data, policy=email.policy.default), head


def mailboxes(msg, name: str) -> list[str]:
    return [a.addr_spec for a in msg[name].addresses]


def no_smuggled_headers(msg) -> None:
    names = {key.lower() for key in msg}
    assert not names & {"bcc", "cc", "reply-to", "resent-to", "resent-bcc"}, msg.keys()
    for name in ("From", "To", "Subject", "X-Textbill-Step"):
        assert len(msg.get_all(name)) == 1, name


@pytest.mark.parametrize("name", [SECOND_MAILBOX, BCC_LINE, BCC_LF, f"Zoë {SECOND_MAILBOX} Żółć"])
def test_an_encoded_word_in_the_client_name_adds_no_recipient(tmp_path, name):
    msg, data = remind(tmp_path, client=name)
    assert mailboxes(msg, "To") == ["ap@client.example"]
    assert b"victim.example" not in data  # the attacker's mailbox never appears decoded in a header
    no_smuggled_headers(msg)
    # the reader sees the client's name as written, one display name (Python's phrase parser
    # puts a space between two adjacent encoded words, so compare without spaces)
    assert msg["To"].addresses[0].display_name.replace(" ", "") == name.replace(" ", "")


@pytest.mark.parametrize("name", [SECOND_MAILBOX, BCC_LINE])
def test_an_encoded_word_in_the_company_name_changes_no_sender_and_adds_no_recipient(tmp_path, name):
    msg, data = remind(tmp_path, company=name)
    assert mailboxes(msg, "From") == ["billing@acme.example"]
    assert mailboxes(msg, "To") == ["ap@client.example"]
    assert b"victim.example" not in data
    no_smuggled_headers(msg)


def test_an_encoded_word_in_a_step_name_adds_no_header(tmp_path):
    msg, data = remind(tmp_path, step=BCC_LINE)
    assert msg["X-Textbill-Step"] == BCC_LINE  # the literal text, decoded from our own encoding
    assert b"victim.example" not in data
    no_smuggled_headers(msg)


@pytest.mark.parametrize("subject", ["{{ client.name }} owes you", "Pay " + BCC_LINE])
def test_an_encoded_word_in_a_theme_subject_adds_no_header(tmp_path, subject):
    msg, data = remind(tmp_path, client=BCC_LINE, subject=subject)
    assert mailboxes(msg, "To") == ["ap@client.example"]
    assert BCC_LINE in msg["Subject"]
    assert b"victim.example" not in data
    no_smuggled_headers(msg)


def test_ordinary_names_are_written_as_before(tmp_path):
    msg, data = remind(tmp_path, client=r"Zoë \"Q\" Ltd, Inc.", company="Acme & Sons")
    assert b"To: =?utf-8?b?Wm/DqyAiUSIgTHRkLCBJbmMu?= <ap@client.example>" in data  # Python's own encoding
    assert msg["To"].addresses[0].display_name == 'Zoë "Q" Ltd, Inc.'
    assert msg["From"].addresses[0].display_name == "Acme & Sons"


def test_the_parse_back_names_what_a_reader_would_see():
    data = (b"From: Acme <billing@acme.example>\r\nTo: Boss <ceo@victim.example>, x <ap@client.example>\r\n"
            b"Subject: s\r\nBcc: ceo@victim.example\r\n\r\nbody\r\n")
    headers = {"From": ("Acme", "billing@acme.example"), "To": ("x", "ap@client.example"), "Subject": "s"}
    assert eml.unsafe_headers(data, headers) == "it would carry the header 'bcc'"
    data = data.replace(b"Bcc: ceo@victim.example\r\n", b"")
    assert eml.unsafe_headers(data, headers) == "its To header would name ceo@victim.example, ap@client.example"
    assert eml.unsafe_headers(data.replace(b"Boss <ceo@victim.example>, ", b""), headers) is None
