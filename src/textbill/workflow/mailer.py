"""SMTP delivery of finished messages.  [I/O]

Settings come from the `smtp` mapping of textbill.yaml (host, port, user,
from, starttls, ssl, timeout); the password only from the environment
variable TEXTBILL_SMTP_PASSWORD, never from a file.  The messages are sent as
the exact bytes that `textbill remind --out` writes, so what was reviewed is
what goes out.
"""
from __future__ import annotations

import ipaddress
import smtplib
import socket
import ssl as ssl_module
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import TYPE_CHECKING

from textbill.core.model import Company

if TYPE_CHECKING:
    # typing.Self is Python 3.11+; imported for the checker only, as the package runs on 3.10
    from typing import Self

PASSWORD_ENV = "TEXTBILL_SMTP_PASSWORD"
DEFAULT_TIMEOUT = 30.0


class SettingsError(ValueError):
    """The smtp settings cannot be used to send (a usage error, exit 2)."""


class SendError(Exception):
    """One message could not be delivered; the text says why in plain words."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str | None  # smtp.from; None: the company's e-mail
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    ssl: bool = False
    timeout: float = DEFAULT_TIMEOUT


def smtp_settings(smtp: Mapping[str, object], environ: Mapping[str, str]) -> SmtpSettings:
    """Validate the `smtp` settings of textbill.yaml for sending; raises SettingsError."""
    if not smtp:
        raise SettingsError("no smtp settings in textbill.yaml; add for example:\n"
                            "  smtp: {host: smtp.example.com, port: 587, user: billing, "
                            "from: billing@example.com, starttls: true}\n"
                            f"and set the password in the {PASSWORD_ENV} environment variable")
    host = smtp.get("host")
    if not isinstance(host, str) or not host.strip():
        raise SettingsError("smtp.host is missing in textbill.yaml (the SMTP server's name, "
                            "like smtp.example.com)")
    use_ssl = _flag(smtp, "ssl")
    starttls = _flag(smtp, "starttls")
    if use_ssl and starttls:
        raise SettingsError("smtp: set either ssl (TLS from the start, usually port 465) or starttls "
                            "(usually port 587), not both")
    port = smtp.get("port", 465 if use_ssl else 587 if starttls else 25)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise SettingsError(f"smtp.port must be a port number like 587, not {port!r}")
    timeout = smtp.get("timeout", DEFAULT_TIMEOUT)
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
        raise SettingsError(f"smtp.timeout must be a number of seconds like 30, not {timeout!r}")
    sender = smtp.get("from")
    if sender is not None and not isinstance(sender, str):
        raise SettingsError(f"smtp.from must be an e-mail address, not {sender!r}")
    user = smtp.get("user")
    if user is not None and not isinstance(user, (str, int)):
        raise SettingsError(f"smtp.user must be a user name, not {user!r}")
    password = environ.get(PASSWORD_ENV) or None
    if user is not None and password is None:
        raise SettingsError(f"smtp.user is set but {PASSWORD_ENV} is not: set the SMTP password in that "
                            "environment variable (it never goes in textbill.yaml)")
    if user is not None and not (use_ssl or starttls) and not _is_loopback(host):
        raise SettingsError(f"refusing to send the SMTP password to {host} unencrypted: "
                            "set starttls: true (or ssl: true) under smtp in textbill.yaml")
    return SmtpSettings(host=host.strip(), port=port, sender=sender, user=None if user is None else str(user),
                        password=password, starttls=starttls, ssl=use_ssl, timeout=float(timeout))


def sender_address(settings: SmtpSettings | None, smtp: Mapping[str, object], company: Company | None) -> str | None:
    """The From address: smtp.from, else the company's e-mail."""
    if settings is not None and settings.sender:
        return settings.sender
    value = smtp.get("from") if smtp else None
    if isinstance(value, str) and value:
        return value
    return company.email if company else None


def _flag(smtp: Mapping[str, object], key: str) -> bool:
    value = smtp.get(key, False)
    if not isinstance(value, bool):
        raise SettingsError(f"smtp.{key} must be true or false, not {value!r}")
    return value


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Mailer:
    """One SMTP session, opened on first use and again after a failure."""

    def __init__(self, settings: SmtpSettings, smtp_class=None, ssl_class=None):
        self.settings = settings
        self._smtp_class = smtp_class or smtplib.SMTP
        self._ssl_class = ssl_class or smtplib.SMTP_SSL
        self._conn: smtplib.SMTP | None = None
        self._fatal: str | None = None  # a failure to connect or log in: the same for every message

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl_module.create_default_context()
        if s.ssl:
            conn = self._ssl_class(s.host, s.port, timeout=s.timeout, context=context)
        else:
            conn = self._smtp_class(s.host, s.port, timeout=s.timeout)
        try:
            conn.ehlo()
            if s.starttls:
                conn.starttls(context=context)
                conn.ehlo()
            if s.user is not None:
                conn.login(s.user, s.password or "")
        except BaseException:
            _quietly_close(conn)
            raise
        return conn

    def send(self, message: EmailMessage, data: bytes) -> None:
        """Deliver data (the serialized message) to the message's To address; raises SendError."""
        sender = _bare(message["From"])
        recipients = [_bare(message["To"])]
        if self._fatal is not None:
            raise SendError(f"not tried: {self._fatal}")
        if self._conn is None:
            try:
                self._conn = self._connect()
            except smtplib.SMTPAuthenticationError as exc:
                self._fatal = (f"the SMTP server refused the login of user '{self.settings.user}': "
                               f"{_reply(exc)} (check smtp.user and {PASSWORD_ENV})")
                raise SendError(self._fatal) from exc
            except (smtplib.SMTPException, OSError) as exc:
                self._fatal = self._talk_error(exc)
                raise SendError(self._fatal) from exc
        try:
            refused = self._conn.sendmail(sender, recipients, data)
        except smtplib.SMTPRecipientsRefused as exc:
            reasons = "; ".join(f"{addr}: {_reply(err)}" for addr, err in exc.recipients.items())
            raise SendError(f"the SMTP server refused the recipient ({reasons})") from exc
        except smtplib.SMTPSenderRefused as exc:
            raise SendError(f"the SMTP server refused the sender {exc.sender}: {_reply(exc)}") from exc
        except smtplib.SMTPResponseException as exc:
            self.close()
            raise SendError(f"the SMTP server answered {_reply(exc)}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise SendError(self._talk_error(exc)) from exc
        if refused:
            raise SendError("the SMTP server refused the recipient: "
                            + "; ".join(f"{a}: {_reply(e)}" for a, e in refused.items()))

    def _talk_error(self, exc: BaseException) -> str:
        where = f"{self.settings.host}:{self.settings.port}"
        if isinstance(exc, socket.timeout):
            return f"no answer from the SMTP server {where} within {self.settings.timeout:g} seconds"
        return f"could not talk to the SMTP server {where}: {exc or type(exc).__name__}"

    def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                _quietly_close(conn)


def _quietly_close(conn) -> None:
    try:
        conn.close()
    except OSError:  # pragma: no cover - closing a broken socket
        pass


def _bare(header) -> str:
    """The address of a single-address header (From, To)."""
    addresses = getattr(header, "addresses", None)
    if addresses:
        return addresses[0].addr_spec
    return str(header)


def _reply(exc) -> str:
    if isinstance(exc, tuple) and len(exc) == 2:
        code, text = exc
    else:
        code, text = getattr(exc, "smtp_code", ""), getattr(exc, "smtp_error", exc)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}".strip()
