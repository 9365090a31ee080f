"""Sending one e-mail over SMTP (`SMTP_URL`), with smtplib in a worker thread.

smtp://user:password@host:587 speaks STARTTLS whenever the server offers it, and refuses
to send a password over a connection that is not encrypted; smtps:// is TLS from the
first byte. Plain text and the bot's HTML go as two alternatives of one message.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import unquote, urlsplit

from bot.fallback.sms import Outcome

TIMEOUT_SECONDS = 20.0


@dataclass(frozen=True)
class MailResult:
    outcome: Outcome
    detail: str


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    implicit_tls: bool
    user: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        parts = urlsplit(url)
        implicit = parts.scheme == "smtps"
        return cls(
            host=parts.hostname or "localhost",
            port=parts.port or (465 if implicit else 587),
            implicit_tls=implicit,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


def compose(*, sender: str, to: str, subject: str, text: str, html: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


class PlaintextRefused(smtplib.SMTPException):
    """The server offers no encryption, and a password is not sent in clear."""


def _send(target: SmtpTarget, message: EmailMessage) -> None:
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if target.implicit_tls:
        client = smtplib.SMTP_SSL(
            target.host, target.port, timeout=TIMEOUT_SECONDS, context=context
        )
    else:
        client = smtplib.SMTP(target.host, target.port, timeout=TIMEOUT_SECONDS)
    with client:
        client.ehlo()
        encrypted = target.implicit_tls
        if not encrypted and client.has_extn("starttls"):
            client.starttls(context=context)
            client.ehlo()
            encrypted = True
        if target.user is not None:
            if not encrypted:
                raise PlaintextRefused(
                    "the server does not offer STARTTLS: the password is not sent in clear"
                )
            client.login(target.user, target.password or "")
        client.send_message(message)


async def send(target: SmtpTarget, message: EmailMessage) -> MailResult:
    """Send off the event loop; what the server's answer means for the row."""
    try:
        await asyncio.to_thread(_send, target, message)
    except PlaintextRefused as error:
        # No retry mends the server's set-up: the operator must (SMTP_URL).
        return MailResult(Outcome.REFUSED, str(error))
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as error:
        return MailResult(Outcome.REFUSED, f"{type(error).__name__}: {error}"[:300])
    except smtplib.SMTPResponseException as error:
        # 4xx is "try later"; 5xx is final.
        outcome = Outcome.RETRY if 400 <= error.smtp_code < 500 else Outcome.REFUSED
        raw = error.smtp_error
        reason = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        return MailResult(outcome, f"{error.smtp_code} {reason}"[:300])
    except (OSError, smtplib.SMTPException) as error:
        return MailResult(Outcome.RETRY, f"{type(error).__name__}: {error}"[:300])
    return MailResult(Outcome.SENT, str(message["Message-ID"]))
