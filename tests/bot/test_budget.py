"""The flood budget on the running bot: strangers answered rarely and last, calls for help
never held up by them, no reply storm when Telegram refuses, and a broadcast that keeps
its pace while strangers flood the bot."""

from __future__ import annotations

import logging

import pytest

from benchmarks.flood import MAX_RATIO, measure
from bot.access import STRANGER_TEXT
from bot.ratelimit import ReplyAllowance
from bot.sim.telegram.flood import RateLimits
from bot.sim.telegram.server import FakeTelegram
from db.models import Role
from tests.harness import RunningBot

STRANGER = 9_300_000_001


def _texts(fake: FakeTelegram, chat_id: int) -> list[str]:
    return [m.text for m in fake.messages_to(chat_id)]


async def test_a_stranger_is_answered_once_a_minute_and_otherwise_not_at_all(
    bot: RunningBot,
) -> None:
    assert await bot.say(STRANGER, "/help") == STRANGER_TEXT
    for text in ("/help", "hello?", "/start", "/staff"):
        bot.fake.inject_message(STRANGER, text)
    await bot.settled()
    assert _texts(bot.fake, STRANGER) == [STRANGER_TEXT]
    bot.clock.advance(minutes=1)
    assert await bot.say(STRANGER, "/subscriptions") == STRANGER_TEXT


async def test_past_a_few_strangers_the_rest_get_silence_but_enrolled_people_never_do(
    bot: RunningBot,
) -> None:
    strangers = ReplyAllowance(per_second=0.001, burst=5, clock=lambda: bot.clock().timestamp())
    bot.services.stranger_replies = strangers
    sam = bot.enrol("Sam Staff")
    for n in range(20):
        bot.fake.inject_message(STRANGER + n, "/help")
        if n % 5 == 0:
            bot.fake.inject_message(sam.telegram_user_id, "/subscriptions")
    await bot.settled()
    answered = [n for n in range(20) if bot.fake.messages_to(STRANGER + n)]
    assert len(answered) == 5
    assert len(bot.fake.messages_to(sam.chat_id)) == 4


async def test_a_call_for_help_goes_before_the_strangers_waiting(bot: RunningBot) -> None:
    # Two slots a second, and strangers allowed plenty of answers: they queue up.
    pacer = bot.services.dispatcher.pacer  # type: ignore[union-attr]
    pacer.rate = 2
    bot.services.stranger_replies = ReplyAllowance(
        per_second=100, burst=16, on_their_way=16, clock=lambda: bot.clock().timestamp()
    )
    lena = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    sam = bot.enrol("Sam Staff", countries=("KZ",))
    for n in range(16):
        bot.fake.inject_message(STRANGER + n, "/start")
    bot.fake.inject_message(sam.telegram_user_id, "/help_me")

    def stranger_replies() -> int:
        return sum(1 for m in bot.fake.sent if STRANGER <= m.chat_id < STRANGER + 16)

    await bot.fake.await_for(
        lambda f: any("needs help</b>" in t for t in _texts(f, lena.chat_id)), timeout=30
    )
    await bot.fake.await_for(lambda f: bool(f.messages_to(sam.chat_id)), timeout=30)
    # The strangers who wrote first were still waiting: they go after both.
    assert stranger_replies() < 16
    pacer.rate = 30
    await bot.fake.await_for(lambda _: stranger_replies() == 16, timeout=30)


@pytest.mark.parametrize(
    ("status", "description", "retry_after"),
    [
        (429, "Too Many Requests: retry after 1", 1),
        (400, "Bad Request: message is too long", None),
        (403, "Forbidden: bot was blocked by the user", None),
    ],
)
async def test_no_apology_follows_a_reply_telegram_refused(
    bot: RunningBot,
    caplog: pytest.LogCaptureFixture,
    status: int,
    description: str,
    retry_after: int | None,
) -> None:
    caplog.set_level(logging.WARNING)
    sam = bot.enrol("Sam Staff")
    bot.fake.fail_next(
        "sendMessage",
        status=status,
        description=description,
        retry_after=retry_after,
        chat_id=sam.chat_id,
    )
    bot.fake.inject_message(sam.telegram_user_id, "/subscriptions")
    await bot.fake.await_for(
        lambda _: any("while handling an update" in r.getMessage() for r in caplog.records)
    )
    await bot.settled()
    tried = [p for method, p in bot.fake.calls if method == "sendMessage"]
    assert [int(p["chat_id"]) for p in tried] == [sam.chat_id]  # the refused reply, no more
    assert bot.fake.messages_to(sam.chat_id) == []


@pytest.mark.telegram_chat_limit
async def test_a_broadcast_keeps_its_pace_while_strangers_flood_the_bot(bot: RunningBot) -> None:
    """The drill (benchmarks/flood.py), smaller: no 429 and about the calm time."""
    bot.fake.rate_limits = RateLimits()
    figures = await measure(bot, people=30, per_second=150, warm_up=0.5)
    print("\n" + "\n".join(figures.lines(30, 150)))
    assert figures.too_many_requests == 0
    # Given some room: this run is short, and the machine running the tests may be busy.
    assert figures.ratio <= MAX_RATIO + 0.25
    assert figures.stranger_replies < figures.stranger_messages / 10
