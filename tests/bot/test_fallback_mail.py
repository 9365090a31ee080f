"""E-mail over SMTP against a real SMTP server on 127.0.0.1 (aiosmtpd): a message goes
with its plain and HTML parts; a password is never sent over a connection that is not
encrypted; a refused recipient is final; a server that is not there is tried again."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from bot.fallback import mail
from bot.fallback.sms import Outcome
from tests.harness import free_ports


class Inbox:
    def __init__(self) -> None:
        self.received: list[email.message.EmailMessage] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.endswith("@nowhere.example"):
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, email.message.EmailMessage)
        self.received.append(parsed)
        return "250 Message accepted for delivery"


@pytest.fixture
def server() -> Iterator[tuple[Inbox, int]]:
    (port,) = free_ports(1)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _message(to: str) -> email.message.EmailMessage:
    return mail.compose(
        sender="dutybot@example.org",
        to=to,
        subject="Dutybot: Departure advisory",
        text="Leave now.",
        html="<b>Leave now.</b>",
    )


async def test_a_message_goes_with_its_plain_and_html_parts(server: tuple[Inbox, int]) -> None:
    inbox, port = server
    target = mail.SmtpTarget.parse(f"smtp://127.0.0.1:{port}")
    result = await mail.send(target, _message("sam@example.org"))
    assert result.outcome is Outcome.SENT and result.detail.endswith("@example.org>")
    (got,) = inbox.received
    assert got["Subject"] == "Dutybot: Departure advisory"
    plain, html = got.get_body(("plain",)), got.get_body(("html",))
    assert plain is not None and plain.get_content().strip() == "Leave now."
    assert html is not None and html.get_content().strip() == "<b>Leave now.</b>"


async def test_a_password_is_not_sent_in_clear(server: tuple[Inbox, int]) -> None:
    inbox, port = server
    target = mail.SmtpTarget.parse(f"smtp://me:p%40ss@127.0.0.1:{port}")
    assert (target.user, target.password) == ("me", "p@ss")
    result = await mail.send(target, _message("sam@example.org"))
    assert result.outcome is Outcome.REFUSED and "not sent in clear" in result.detail
    assert inbox.received == []


async def test_a_refused_recipient_is_final_and_a_missing_server_is_tried_again(
    server: tuple[Inbox, int],
) -> None:
    inbox, port = server
    target = mail.SmtpTarget.parse(f"smtp://127.0.0.1:{port}")
    refused = await mail.send(target, _message("ghost@nowhere.example"))
    assert refused.outcome is Outcome.REFUSED and "No such user" in refused.detail
    (closed,) = free_ports(1)
    gone = await mail.send(mail.SmtpTarget.parse(f"smtp://127.0.0.1:{closed}"), _message("a@b.org"))
    assert gone.outcome is Outcome.RETRY
    assert inbox.received == []
