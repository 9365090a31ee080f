"""Logs: one JSON object per line with the ids of what it is about; no token, no message
text at INFO."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import select

from bot.logs import MASK, configure_logging, redact
from bot.sim.telegram.server import FakeTelegram
from db.engine import session_scope
from db.models import Alert, Role
from tests.bot.test_broadcasts import _button
from tests.harness import RunningBot

BODY = "Convoy leaves from the north gate at 06:40"


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Everything logged at INFO and above during the test, as `LOG_FORMAT=json` writes it."""
    root = logging.getLogger()
    level = root.level
    stream = io.StringIO()
    handler = configure_logging("json", stream=stream)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_a_broadcast_logs_one_json_line_with_its_alert_id_and_no_text(
    bot: RunningBot, json_log: io.StringIO
) -> None:
    lead = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    staff = [bot.enrol(f"Staff {n}", countries=("KZ",)) for n in range(3)]
    await bot.say(lead.telegram_user_id, f"/broadcast KZ {BODY}")
    message_id, data = _button(bot.fake, lead.telegram_user_id, "Send")
    bot.press(
        lead.telegram_user_id, chat_id=lead.telegram_user_id, message_id=message_id, data=data
    )
    await bot.fake.await_for(
        lambda f: all(len(f.messages_to(p.telegram_user_id)) == 1 for p in staff)
    )
    assert BODY in bot.fake.messages_to(staff[0].telegram_user_id)[0].text
    with session_scope(bot.engine) as session:
        alert_id = session.exec(select(Alert.id)).one()

    records = _records(json_log)  # every line parses
    queued = [r for r in records if r.get("alert_id") == alert_id]
    assert [r["message"] for r in queued] == [
        f"broadcast {alert_id}: queued for 3 people (0 unreachable)"
    ]
    assert queued[0]["level"] == "INFO" and queued[0]["logger"] == "bot.broadcasts"
    assert "time" in queued[0]
    text = json_log.getvalue()
    assert BODY not in text
    assert FakeTelegram.TOKEN.split(":")[1] not in text  # httpx's request lines stay quiet


def test_text_format_is_one_line_per_event(json_log: io.StringIO) -> None:
    stream = io.StringIO()
    handler = configure_logging("text", stream=stream)  # replaces the JSON handler
    try:
        logging.getLogger("bot.dispatcher").warning(
            "delivery %d: attempt %d failed", 12, 3, extra={"delivery_id": 12}
        )
    finally:
        logging.getLogger().removeHandler(handler)
    (line,) = stream.getvalue().splitlines()
    assert line.endswith("WARNING bot.dispatcher: delivery 12: attempt 3 failed")
    assert json_log.getvalue() == ""


def test_the_token_and_the_webhook_secret_are_masked_wherever_they_appear(
    json_log: io.StringIO,
) -> None:
    secret = "s3cret-Webhook_token-for-tests"
    redact([FakeTelegram.TOKEN, secret, "short"])
    log = logging.getLogger("tests")
    log.warning("calling https://api.telegram.org/bot%s/getMe", FakeTelegram.TOKEN)
    try:
        raise RuntimeError(f"secret {secret} refused")
    except RuntimeError:
        log.exception("webhook failed")
    log.warning("a short word is left alone")
    records = _records(json_log)
    assert records[0]["message"] == f"calling https://api.telegram.org/bot{MASK}/getMe"
    assert secret not in records[1]["exc_info"] and MASK in records[1]["exc_info"]
    assert records[2]["message"] == "a short word is left alone"
