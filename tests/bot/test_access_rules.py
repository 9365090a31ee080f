"""Commands written in a group chat: enrolled staff and configured admins are always asked
to use a private chat, every time; a stranger is answered like any stranger, at most once
a minute, so a group cannot make the bot spend its budget on people it does not know."""

from __future__ import annotations

import itertools
import time

from bot.access import PRIVATE_ONLY_TEXT
from db.models import Role
from tests.harness import ADMIN_ID, RunningBot

GROUP = -1_000_000_888
STRANGER = 9_300_000_001
_message_ids = itertools.count(1)


def _write_in_group(bot: RunningBot, user_id: int, text: str) -> None:
    with bot.fake._cond:
        bot.fake._queue_update(
            {
                "message": {
                    "message_id": next(_message_ids),
                    "date": int(time.time()),
                    "chat": {"id": GROUP, "type": "group", "title": "Office"},
                    "from": {"id": user_id, "is_bot": False, "first_name": "Someone"},
                    "text": text,
                    "entities": [
                        {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
                    ],
                }
            }
        )


async def _answered_in_group(bot: RunningBot, user_id: int, text: str) -> str:
    """Write in the group and wait for the bot's answer there."""
    before = len(bot.fake.messages_to(GROUP))
    _write_in_group(bot, user_id, text)
    await bot.fake.await_for(lambda f: len(f.messages_to(GROUP)) > before)
    return bot.fake.messages_to(GROUP)[before].text


async def test_a_configured_admin_is_answered_in_a_group_every_time(bot: RunningBot) -> None:
    # The admin is known by configuration alone: not enrolled yet.
    assert await _answered_in_group(bot, ADMIN_ID, "/staff") == PRIVATE_ONLY_TEXT
    assert await _answered_in_group(bot, ADMIN_ID, "/help") == PRIVATE_ONLY_TEXT


async def test_an_enrolled_person_is_answered_in_a_group_every_time(bot: RunningBot) -> None:
    sam = bot.enrol("Sam Staff", role=Role.STAFF)
    assert await _answered_in_group(bot, sam.telegram_user_id, "/help") == PRIVATE_ONLY_TEXT
    assert await _answered_in_group(bot, sam.telegram_user_id, "/safe") == PRIVATE_ONLY_TEXT


async def test_a_stranger_in_a_group_is_answered_once_then_left_alone(bot: RunningBot) -> None:
    sam = bot.enrol("Sam Staff", role=Role.STAFF)
    assert await _answered_in_group(bot, STRANGER, "/help") == PRIVATE_ONLY_TEXT
    _write_in_group(bot, STRANGER, "/help")
    await bot.settled()
    # Someone enrolled writes next, so the stranger's second message has been handled.
    assert await _answered_in_group(bot, sam.telegram_user_id, "/help") == PRIVATE_ONLY_TEXT
    await bot.settled()
    assert [m.text for m in bot.fake.messages_to(GROUP)] == [PRIVATE_ONLY_TEXT] * 2
