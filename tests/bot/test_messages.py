"""Editing a sent message through the simulated Bot API: unchanged is done, refused is
given up, a passing failure is worth another try."""

from __future__ import annotations

import logging

import pytest

from bot.messages import edit_text
from tests.harness import RunningBot


async def test_an_edit_shows_the_new_text_and_an_unchanged_one_is_done(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    sam = bot.enrol("Sam")
    sent = await bot.application.bot.send_message(sam.chat_id, "Roll call: 0 of 3 safe")
    edit = {"chat_id": sam.chat_id, "message_id": sent.message_id, "what": "roll call 1: roll"}

    assert await edit_text(bot.application.bot, text="Roll call: <b>2</b> of 3 safe", **edit)
    assert bot.fake.current_text(sam.chat_id, sent.message_id) == "Roll call: <b>2</b> of 3 safe"
    # The same text again: Telegram says "not modified", which is what was wanted.
    assert await edit_text(bot.application.bot, text="Roll call: <b>2</b> of 3 safe", **edit)
    assert not [r for r in caplog.records if "not updated" in r.getMessage()]


async def test_a_refused_edit_is_logged_and_given_up_a_passing_failure_is_retried(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    sam = bot.enrol("Sam")
    sent = await bot.application.bot.send_message(sam.chat_id, "Report")

    gone = await edit_text(
        bot.application.bot,
        chat_id=sam.chat_id,
        message_id=sent.message_id + 99,
        text="New",
        what="broadcast 7: report",
    )
    assert gone is True  # a message that is gone is not worth trying again
    assert "broadcast 7: report not updated: Message to edit not found" in caplog.text

    bot.fake.fail_next("editMessageText", status=502, description="Bad Gateway")
    again = await edit_text(
        bot.application.bot,
        chat_id=sam.chat_id,
        message_id=sent.message_id,
        text="New",
        what="broadcast 7: report",
    )
    assert again is False
    assert bot.fake.current_text(sam.chat_id, sent.message_id) == "Report"
    assert await edit_text(
        bot.application.bot,
        chat_id=sam.chat_id,
        message_id=sent.message_id,
        text="New",
        what="broadcast 7: report",
    )
    assert bot.fake.current_text(sam.chat_id, sent.message_id) == "New"
