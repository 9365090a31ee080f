"""Tests of the fake Telegram server itself, driven through a real ``telegram.Bot``.

If the fake drifts from what python-telegram-bot sends or expects, every end-to-end
test built on it becomes meaningless, so these pin the contract down.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import math
import socket
import sys
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from bot.ratelimit import retry_after_seconds
from bot.sim.telegram.errors import ApiError
from bot.sim.telegram.flood import FloodControl, FloodMode, RateLimits
from bot.sim.telegram.server import FakeTelegram

CHAT = 4242


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    tg = FakeTelegram()
    tg.start()
    try:
        yield tg
    finally:
        tg.stop()


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    # Depends on `fake`, so the bot shuts down before the server stops. The fake is plain
    # HTTP, so skip loading the CA bundle (~90 ms per Bot) that PTB's default clients do.
    def request() -> HTTPXRequest:
        return HTTPXRequest(httpx_kwargs={"verify": False})

    real_bot = Bot(
        FakeTelegram.TOKEN,
        base_url=fake.base_url,
        request=request(),
        get_updates_request=request(),
    )
    async with real_bot:
        yield real_bot


def _keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d, callback_data=d) for d in data]])


async def test_get_me_and_send_message_are_recorded(fake: FakeTelegram, bot: Bot) -> None:
    assert bot.username == FakeTelegram.BOT_USERNAME  # getMe ran in bot.initialize()
    assert FakeTelegram.TOKEN in fake.tokens_seen

    message = await bot.send_message(
        CHAT, "<b>Alert</b> &amp; stay inside", parse_mode="HTML", reply_markup=_keyboard("ok")
    )

    assert message.message_id == 1
    assert message.chat.id == CHAT
    # Like Telegram, the bot gets plain text plus entities back, not the HTML it sent.
    assert message.text == "Alert & stay inside"
    assert message.text_html == "<b>Alert</b> &amp; stay inside"
    assert message.from_user is not None and message.from_user.id == FakeTelegram.BOT_ID
    [sent] = fake.messages_to(CHAT)
    assert sent.text == "<b>Alert</b> &amp; stay inside"
    assert sent.parse_mode == "HTML"
    assert sent.method == "sendMessage"
    assert sent.reply_markup == {"inline_keyboard": [[{"text": "ok", "callback_data": "ok"}]]}
    assert fake.current_text(CHAT, 1) == sent.text
    method, params = fake.calls[-1]
    assert (method, params["chat_id"]) == ("sendMessage", CHAT)


async def test_send_document_multipart_keeps_bytes(fake: FakeTelegram, bot: Bot) -> None:
    payload = b"name,ok\r\nA,\xff\x00\r\n--boundary-lookalike\r\n"

    message = await bot.send_document(
        CHAT, payload, filename='roll "call".csv', caption="<i>Roll call</i>", parse_mode="HTML"
    )

    assert message.document is not None
    assert message.document.file_name == 'roll "call".csv'
    [sent] = fake.sent
    assert (sent.method, sent.document, sent.filename) == (
        "sendDocument",
        payload,
        message.document.file_name,
    )
    assert sent.text == "<i>Roll call</i>"


async def test_rate_limit_answers_429_with_retry_after(
    fake: FakeTelegram, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # retry_after as timedelta, no warning
    fake.rate_limits = RateLimits(per_chat_per_second=1.0)
    await bot.send_message(CHAT, "first")

    with pytest.raises(RetryAfter) as exc_info:
        await bot.send_message(CHAT, "second, too soon")

    assert exc_info.value.retry_after == dtm.timedelta(seconds=1)
    assert fake.too_many_requests == 1
    assert [m.text for m in fake.sent] == ["first"]
    await bot.send_message(CHAT + 1, "another chat is not limited")

    fake.fail_next("sendMessage", status=429, description="Too Many Requests", retry_after=7)
    with pytest.raises(RetryAfter) as exc_info:
        await bot.send_message(CHAT + 2, "injected flood wait")
    assert exc_info.value.retry_after == dtm.timedelta(seconds=7)
    assert fake.too_many_requests == 2


# -- the three ways of counting the flood limits ------------------------------------------
def _accepted(mode: FloodMode, sends: list[tuple[float, int]], **limits: Any) -> list[bool]:
    """Which of `sends` (when, to which chat) a flood control counting by `mode` lets through."""
    flood = FloodControl(RateLimits(mode=mode, **limits))
    start = float(math.ceil(time.monotonic()) + 10)  # ahead of its clock, on a whole second
    outcome = []
    for at, chat in sends:
        try:
            flood.check(chat, start + at)
        except ApiError as error:
            assert error.status == 429 and error.retry_after is not None
            assert error.retry_after >= 1
            outcome.append(False)
        else:
            flood.accept(chat, start + at)
            outcome.append(True)
    return outcome


def _burst(at: float, count: int, first_chat: int = 0) -> list[tuple[float, int]]:
    return [(at, first_chat + n) for n in range(count)]


@pytest.mark.parametrize("mode", list(FloodMode))
def test_every_mode_refuses_a_31st_message_in_one_instant(mode: FloodMode) -> None:
    assert _accepted(mode, _burst(0.5, 31)) == [True] * 30 + [False]


@pytest.mark.parametrize("mode", list(FloodMode))
def test_every_mode_takes_30_a_second_evenly_spaced(mode: FloodMode) -> None:
    sends = [(n / 29.9, n) for n in range(300)]
    assert all(_accepted(mode, sends))


@pytest.mark.parametrize(
    ("mode", "second_burst"),
    [
        # A bucket refills 30 a second: 0.25 s after a burst, 7 more go through.
        (FloodMode.TOKEN_BUCKET, 7),
        # Any one second: the first burst is still in the window.
        (FloodMode.SLIDING_WINDOW, 0),
        # Clock seconds: the second burst is in a new second.
        (FloodMode.FIXED_WINDOW, 30),
    ],
)
def test_two_bursts_across_a_second_boundary(mode: FloodMode, second_burst: int) -> None:
    outcome = _accepted(mode, _burst(0.9, 30) + _burst(1.15, 30, first_chat=100))
    assert outcome[:30] == [True] * 30
    assert outcome[30:] == [True] * second_burst + [False] * (30 - second_burst)


@pytest.mark.parametrize(
    ("mode", "then"),
    [
        # A steady 30 a second keeps the bucket full: a whole burst goes through.
        (FloodMode.TOKEN_BUCKET, [True] * 30),
        # Only the 15 sent before 0.49 s have left the window.
        (FloodMode.SLIDING_WINDOW, [True] * 15 + [False] * 15),
        # A new clock second.
        (FloodMode.FIXED_WINDOW, [True] * 30),
    ],
)
def test_a_burst_half_a_second_after_a_steady_second(mode: FloodMode, then: list[bool]) -> None:
    steady = [(n / 30, n) for n in range(30)]  # 0 to 0.967 s, evenly
    outcome = _accepted(mode, steady + _burst(1.49, 30, first_chat=100))
    assert outcome[:30] == [True] * 30
    assert outcome[30:] == then


@pytest.mark.parametrize(
    ("mode", "second_at", "accepted"),
    [
        (FloodMode.TOKEN_BUCKET, 0.96, True),  # one a second, less the 0.05 s tolerance
        (FloodMode.TOKEN_BUCKET, 0.9, False),
        (FloodMode.SLIDING_WINDOW, 0.96, True),
        (FloodMode.SLIDING_WINDOW, 0.9, False),
        (FloodMode.FIXED_WINDOW, 1.0, True),  # 0.95 and 1.0 are different clock seconds
        (FloodMode.FIXED_WINDOW, 0.99, False),
    ],
)
def test_one_a_second_to_one_chat_counted_the_same_way(
    mode: FloodMode, second_at: float, accepted: bool
) -> None:
    first_at = 0.95 if mode is FloodMode.FIXED_WINDOW else 0.0
    outcome = _accepted(mode, [(first_at, 7), (first_at + 0.01, 8), (second_at, 7)])
    assert outcome == [True, True, accepted]


async def test_the_chosen_mode_applies_to_what_the_bot_sends(
    fake: FakeTelegram, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    # One message in any 10 s, counted over a sliding window.
    fake.rate_limits = RateLimits(
        global_per_second=0.1, per_chat_per_second=0, mode=FloodMode.SLIDING_WINDOW
    )
    await bot.send_message(CHAT, "first")
    with pytest.raises(RetryAfter) as exc_info:
        await bot.send_message(CHAT + 1, "another chat, but within the window")
    assert 1 <= retry_after_seconds(exc_info.value) <= 10
    assert [m.text for m in fake.sent] == ["first"]
    assert fake.too_many_requests == 1


@pytest.mark.parametrize("mode", list(FloodMode))
def test_paid_broadcasts_are_counted_apart_up_to_1000_a_second(mode: FloodMode) -> None:
    flood = FloodControl(RateLimits(mode=mode))
    start = float(math.ceil(time.monotonic()) + 10)
    for chat in range(30):
        flood.check(chat, start + 0.5)
        flood.accept(chat, start + 0.5)
    with pytest.raises(ApiError):
        flood.check(30, start + 0.5)  # the 31st free message
    for chat in range(100, 1100):  # 1,000 paid ones in the same instant
        flood.check(chat, start + 0.5, paid=True)
        flood.accept(chat, start + 0.5, paid=True)
    with pytest.raises(ApiError):
        flood.check(2000, start + 0.5, paid=True)
    # Paid or not, one chat still gets one a second.
    with pytest.raises(ApiError):
        flood.check(100, start + 0.6)


async def test_a_paid_broadcast_is_charged_and_refused_once_the_stars_run_out(
    fake: FakeTelegram, bot: Bot
) -> None:
    fake.star_balance = 2 * FakeTelegram.PAID_BROADCAST_STARS
    await bot.send_message(CHAT, "paid", allow_paid_broadcast=True)
    await bot.send_message(CHAT + 1, "free")
    await bot.send_message(CHAT + 2, "paid too", allow_paid_broadcast=True)
    with pytest.raises(BadRequest, match=r"(?i)balance_too_low"):
        await bot.send_message(CHAT + 3, "no Stars left", allow_paid_broadcast=True)
    await bot.send_message(CHAT + 3, "free still goes")
    assert [(m.text, m.paid) for m in fake.sent] == [
        ("paid", True),
        ("free", False),
        ("paid too", True),
        ("free still goes", False),
    ]
    assert fake.stars_spent == pytest.approx(2 * FakeTelegram.PAID_BROADCAST_STARS)


async def test_an_outage_fails_every_call_until_it_is_over(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_for("sendMessage", 0.5)
    assert fake.in_outage("sendMessage") and not fake.in_outage("editMessageText")
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(CHAT, "during the outage")
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(CHAT + 1, "another chat, same outage")
    await fake.await_for(lambda f: not f.in_outage("sendMessage"), timeout=5)
    await bot.send_message(CHAT, "after it")
    assert [m.text for m in fake.sent] == ["after it"]
    assert fake.outage_answers == 2


async def test_an_outage_with_a_delay_times_out(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_for("sendMessage", 5, status=504, description="Gateway Timeout", delay=1.0)
    with pytest.raises(TimedOut):
        await bot.send_message(CHAT, "nobody answers", read_timeout=0.2)
    assert fake.sent == []


async def test_blocked_user_raises_forbidden(fake: FakeTelegram, bot: Bot) -> None:
    fake.block(CHAT)

    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(CHAT, "hello")

    assert fake.sent == []


async def test_forgotten_chat_raises_bad_request(fake: FakeTelegram, bot: Bot) -> None:
    fake.forget_chat(CHAT)

    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(CHAT, "hello")


@pytest.mark.parametrize(
    "text",
    [
        "<blink>now</blink>",  # unknown tag
        "<b>never closed",
        "<b><i>misnested</b></i>",
        "fish & chips",  # bare ampersand
        "&nbsp;curfew",  # entity Telegram does not know
        '<span class="red">x</span>',
    ],
)
async def test_invalid_html_is_rejected(fake: FakeTelegram, bot: Bot, text: str) -> None:
    with pytest.raises(BadRequest, match="Can't parse entities"):
        await bot.send_message(CHAT, text, parse_mode="HTML")

    assert fake.sent == []


async def test_telegram_limits_are_enforced(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(CHAT, "x" * 4097)
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(CHAT, "pick", reply_markup=_keyboard("d" * 65))
    # Tags do not count towards the 4096 limit; an emoji counts as two UTF-16 units.
    await bot.send_message(CHAT, "<b>" + "x" * 4094 + "</b>🙂", parse_mode="HTML")
    assert len(fake.sent) == 1


async def test_get_updates_returns_injected_command(fake: FakeTelegram, bot: Bot) -> None:
    injected = fake.inject_message(CHAT, "/start hello", first_name="Ana", username="ana")

    [update] = await bot.get_updates(timeout=0)

    assert update.update_id == injected["update_id"]
    assert update.message is not None
    assert update.message.text == "/start hello"
    assert update.message.from_user is not None and update.message.from_user.username == "ana"
    assert update.message.parse_entities() != {}
    [entity] = update.message.entities
    assert (entity.type, entity.offset, entity.length) == ("bot_command", 0, 6)
    # Confirming with offset drops it, as on Telegram.
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()


async def test_a_user_edits_a_message_they_sent(fake: FakeTelegram, bot: Bot) -> None:
    sent = fake.inject_message(CHAT, "hello", first_name="Ana")["message"]
    edited = fake.inject_edit(CHAT, sent["message_id"], "/help_me now")

    [first, update] = await bot.get_updates(timeout=0)

    assert update.update_id == edited["update_id"] == first.update_id + 1
    assert update.message is None and update.edited_message is not None
    message = update.edited_message
    assert (message.message_id, message.text) == (sent["message_id"], "/help_me now")
    assert message.date.timestamp() == sent["date"] and message.edit_date is not None
    [entity] = message.entities  # a command now, so it carries the entity
    assert (entity.type, entity.offset, entity.length) == ("bot_command", 0, 8)
    with pytest.raises(KeyError, match="sent no message"):
        fake.inject_edit(CHAT + 1, sent["message_id"], "not theirs")


async def test_long_poll_wakes_up_on_injected_update(fake: FakeTelegram, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.await_for(lambda tg: any(m == "getUpdates" for m, _ in tg.calls), timeout=2)

    fake.inject_message(CHAT, "", location=(50.45, 30.52))
    updates = await asyncio.wait_for(poll, timeout=2)

    assert updates[0].message is not None and updates[0].message.location is not None
    assert updates[0].message.location.latitude == pytest.approx(50.45)


async def test_edits_and_callbacks(fake: FakeTelegram, bot: Bot) -> None:
    message = await bot.send_message(CHAT, "Are you safe?", reply_markup=_keyboard("safe"))
    query_id = fake.inject_callback(CHAT, chat_id=CHAT, message_id=message.message_id, data="safe")
    [update] = await bot.get_updates(timeout=0)
    assert update.callback_query is not None
    assert update.callback_query.id == query_id
    assert update.callback_query.data == "safe"

    await update.callback_query.answer("Thanks")
    await bot.edit_message_text("Marked safe", chat_id=CHAT, message_id=message.message_id)

    assert fake.callback_answers[0]["text"] == "Thanks"
    assert fake.current_text(CHAT, message.message_id) == "Marked safe"
    assert fake.current_markup(CHAT, message.message_id) is None  # no markup: keyboard removed
    assert [(e.text, e.reply_markup) for e in fake.edits] == [("Marked safe", None)]
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text("Marked safe", chat_id=CHAT, message_id=message.message_id)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", chat_id=CHAT, message_id=999)


async def test_a_callback_answer_over_200_characters_is_refused_and_the_query_stays_open(
    fake: FakeTelegram, bot: Bot
) -> None:
    message = await bot.send_message(CHAT, "Are you safe?", reply_markup=_keyboard("safe"))
    fake.inject_callback(CHAT, chat_id=CHAT, message_id=message.message_id, data="safe")
    [update] = await bot.get_updates(timeout=0)
    assert update.callback_query is not None
    with pytest.raises(BadRequest, match=r"(?i)message_too_long"):
        await update.callback_query.answer("x" * 201)
    await update.callback_query.answer("x" * 200)
    assert [len(a["text"]) for a in fake.callback_answers] == [200]


async def test_unknown_method_and_json_body(fake: FakeTelegram) -> None:
    async with httpx.AsyncClient() as client:
        url = f"{fake.base_url}{FakeTelegram.TOKEN}"
        missing = await client.post(f"{url}/sendPigeon", json={"chat_id": 1})
        sent = await client.post(f"{url}/sendMessage", json={"chat_id": CHAT, "text": "hi"})

    assert missing.status_code == 404
    assert missing.json() == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found: method not found",
    }
    assert sent.json()["result"]["text"] == "hi"
    assert fake.sent[0].text == "hi"


def test_wait_for_times_out_with_context(fake: FakeTelegram) -> None:
    with pytest.raises(TimeoutError, match="0 sent"):
        fake.wait_for(lambda tg: len(tg.sent) > 0, timeout=0.05)


def test_stop_closes_the_port() -> None:
    tg = FakeTelegram()
    tg.start()
    port = int(tg.base_url.rsplit(":", 1)[1].split("/")[0])
    tg.stop()

    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


async def test_a_webhook_replaces_get_updates_until_it_is_deleted(
    fake: FakeTelegram, bot: Bot
) -> None:
    with pytest.raises(BadRequest, match=r"(?i)https url must be provided"):
        await bot.set_webhook("http://bot.example.org/hook")
    assert await bot.set_webhook(
        "https://bot.example.org/hook", secret_token="abc_DEF-123", allowed_updates=["message"]
    )
    assert fake.webhook == {
        "url": "https://bot.example.org/hook",
        "secret_token": "abc_DEF-123",
        "allowed_updates": ["message"],
    }
    info = await bot.get_webhook_info()
    assert (info.url, info.allowed_updates) == ("https://bot.example.org/hook", ("message",))
    update = fake.inject_message(CHAT, "hello")  # pushed by Telegram, not queued
    assert update["message"]["text"] == "hello"
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()

    assert await bot.delete_webhook()
    assert fake.webhook is None and (await bot.get_webhook_info()).url == ""
    fake.inject_message(CHAT, "after")
    assert [u.message.text for u in await bot.get_updates() if u.message] == ["after"]


async def test_copy_message_copies_what_a_user_sent_and_checks_it(
    fake: FakeTelegram, bot: Bot
) -> None:
    photo = fake.inject_message(CHAT, "", media="photo", caption="the street")["message"]
    text = fake.inject_message(CHAT, "words")["message"]
    copied = await bot.copy_message(
        chat_id=7, from_chat_id=CHAT, message_id=photo["message_id"], caption="<b>From Nina</b>"
    )
    (sent,) = fake.messages_to(7)
    assert sent.message_id == copied.message_id and sent.method == "copyMessage"
    assert sent.copy_of == (CHAT, photo["message_id"])
    assert sent.content is not None and sent.content["photo"] == photo["photo"]
    assert [size["width"] for size in photo["photo"]] == [90, 320, 1280]
    assert sent.text == "<b>From Nina</b>"
    with pytest.raises(BadRequest, match="Message to copy not found"):
        await bot.copy_message(chat_id=7, from_chat_id=CHAT, message_id=999)
    with pytest.raises(BadRequest, match="caption"):
        await bot.copy_message(
            chat_id=7, from_chat_id=CHAT, message_id=text["message_id"], caption="x"
        )
    with pytest.raises(BadRequest, match="caption is too long"):
        await bot.copy_message(
            chat_id=7, from_chat_id=CHAT, message_id=photo["message_id"], caption="x" * 1025
        )
    await bot.copy_message(chat_id=8, from_chat_id=CHAT, message_id=text["message_id"])
    assert fake.messages_to(8)[0].text == "words"


async def test_replies_name_a_message_of_their_own_chat(fake: FakeTelegram, bot: Bot) -> None:
    asked = fake.inject_message(CHAT, "help")["message"]
    reply = await bot.send_message(CHAT, "Alert?", reply_to_message_id=asked["message_id"])
    assert reply.reply_to_message is not None and reply.reply_to_message.text == "help"
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(CHAT, "Alert?", reply_to_message_id=999)
    # A user's reply to the bot's message carries it, one level deep.
    answer = fake.inject_message(CHAT, "yes", reply_to=reply.message_id)["message"]
    assert answer["reply_to_message"]["text"] == "Alert?"
    assert "reply_to_message" not in answer["reply_to_message"]


async def test_pins_and_unpins_like_telegram(fake: FakeTelegram, bot: Bot) -> None:
    first = await bot.send_message(CHAT, "card one")
    second = await bot.send_message(CHAT, "card two")
    assert await bot.pin_chat_message(CHAT, first.message_id, disable_notification=True)
    assert await bot.pin_chat_message(CHAT, second.message_id)
    assert fake.pinned(CHAT) == [second.message_id, first.message_id]  # newest on top
    assert fake.pinned_texts(CHAT) == ["card two", "card one"]
    assert [(p.message_id, p.silent) for p in fake.pins] == [
        (first.message_id, True),
        (second.message_id, False),
    ]
    with pytest.raises(BadRequest, match=r"^Message to pin not found$"):
        await bot.pin_chat_message(CHAT, 999)
    assert await bot.unpin_chat_message(CHAT, first.message_id)
    assert fake.pinned(CHAT) == [second.message_id]
    assert await bot.unpin_chat_message(CHAT, first.message_id)  # not pinned: still fine
    with pytest.raises(BadRequest, match=r"^Message to unpin not found$"):
        await bot.unpin_chat_message(CHAT, 999)
    assert await bot.unpin_chat_message(CHAT)  # the newest pinned one
    assert fake.pinned(CHAT) == []
    assert await bot.unpin_chat_message(CHAT)  # none pinned: nothing to do


async def test_a_message_the_user_deleted_cannot_be_edited_or_pinned(
    fake: FakeTelegram, bot: Bot
) -> None:
    sent = await bot.send_message(CHAT, "card")
    await bot.pin_chat_message(CHAT, sent.message_id)
    fake.delete_message(CHAT, sent.message_id)
    assert fake.pinned(CHAT) == []
    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_text("new", chat_id=CHAT, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=r"^Message to pin not found$"):
        await bot.pin_chat_message(CHAT, sent.message_id)


async def test_pins_and_counted_edits_are_rate_limited_per_chat(
    fake: FakeTelegram, bot: Bot
) -> None:
    # One request per chat every 10 s: the second request to a chat is always too soon.
    fake.rate_limits = RateLimits(per_chat_per_second=0.1)
    sent = await bot.send_message(CHAT, "card")
    await bot.edit_message_text(
        "edits are free by default", chat_id=CHAT, message_id=sent.message_id
    )
    with pytest.raises(RetryAfter):
        await bot.pin_chat_message(CHAT, sent.message_id)
    with pytest.raises(RetryAfter):
        await bot.unpin_chat_message(CHAT, sent.message_id)
    assert fake.pinned(CHAT) == []
    fake.rate_limits = RateLimits(per_chat_per_second=0.1, count_edits=True)
    other = await bot.send_message(CHAT + 1, "card")
    with pytest.raises(RetryAfter):
        await bot.edit_message_text("too soon", chat_id=CHAT + 1, message_id=other.message_id)
    assert fake.current_text(CHAT + 1, other.message_id) == "card"
    assert fake.too_many_requests == 3


async def test_a_document_a_user_sent_is_fetched_and_downloaded(fake: FakeTelegram) -> None:
    real_bot = Bot(
        FakeTelegram.TOKEN,
        base_url=fake.base_url,
        base_file_url=fake.base_url.replace("/bot", "/file/bot"),
        request=HTTPXRequest(httpx_kwargs={"verify": False}),
    )
    async with real_bot:
        fake.inject_message(CHAT, "", document=("trips.csv", b"who,country\n@dana,KZ\n"))
        (update,) = await real_bot.get_updates()
        assert update.message is not None and update.message.document is not None
        assert update.message.document.file_name == "trips.csv"
        assert update.message.document.mime_type == "text/csv"
        file = await real_bot.get_file(update.message.document.file_id)
        assert bytes(await file.download_as_bytearray()) == b"who,country\n@dana,KZ\n"
        with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
            await real_bot.get_file("BQACAgIFake99999999")


async def test_a_live_location_moves_by_edits_of_its_message(fake: FakeTelegram, bot: Bot) -> None:
    sent = fake.inject_message(CHAT, "", location=(43.238, 76.945), live_period=900)
    fake.inject_location_edit(CHAT, sent["message"]["message_id"], (42.875, 74.570))
    first, moved = await bot.get_updates()
    assert first.message is not None and first.message.location is not None
    assert moved.edited_message is not None and moved.edited_message.location is not None
    assert moved.edited_message.message_id == first.message.message_id
    assert (moved.edited_message.location.latitude, moved.edited_message.location.longitude) == (
        42.875,
        74.570,
    )
    assert moved.edited_message.edit_date is not None
    with pytest.raises(ValueError, match="not a location"):
        text = fake.inject_message(CHAT, "hello")
        fake.inject_location_edit(CHAT, text["message"]["message_id"], (0.0, 0.0))


# -- the asyncio front (server="async") and the simulator as a process ---------------------
@pytest.fixture
def async_fake() -> Iterator[FakeTelegram]:
    tg = FakeTelegram(server="async")
    tg.start()
    try:
        yield tg
    finally:
        tg.stop()


def _bot_on(base_url: str) -> Bot:
    return Bot(
        FakeTelegram.TOKEN,
        base_url=base_url,
        base_file_url=base_url.replace("/bot", "/file/bot"),
        request=HTTPXRequest(httpx_kwargs={"verify": False}),
        get_updates_request=HTTPXRequest(httpx_kwargs={"verify": False}),
    )


@pytest.fixture
async def async_bot(async_fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with _bot_on(async_fake.base_url) as real_bot:
        yield real_bot


async def test_the_async_server_records_a_send(async_fake: FakeTelegram, async_bot: Bot) -> None:
    assert async_bot.username == FakeTelegram.BOT_USERNAME  # getMe, in bot.initialize()

    message = await async_bot.send_message(CHAT, "<b>Alert</b>: stay inside", parse_mode="HTML")

    assert (message.message_id, message.text) == (1, "Alert: stay inside")
    [sent] = async_fake.messages_to(CHAT)
    assert (sent.text, sent.parse_mode) == ("<b>Alert</b>: stay inside", "HTML")
    assert [method for method, _ in async_fake.calls] == ["getMe", "sendMessage"]
    assert async_fake.stats()["accepted_per_chat"] == {str(CHAT): 1}


async def test_the_async_server_answers_a_flood_with_retry_after(
    async_fake: FakeTelegram, async_bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # retry_after as timedelta, no warning
    async_fake.rate_limits = RateLimits(per_chat_per_second=1.0)
    await async_bot.send_message(CHAT, "first")

    with pytest.raises(RetryAfter) as exc_info:
        await async_bot.send_message(CHAT, "second, too soon")

    assert exc_info.value.retry_after == dtm.timedelta(seconds=1)
    assert async_fake.too_many_requests == 1
    assert [m.text for m in async_fake.sent] == ["first"]


async def test_the_async_server_reads_a_chunked_body(async_fake: FakeTelegram) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"chat_id=4242&"
        yield b"text=in+two+chunks"

    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{async_fake.base_url}{FakeTelegram.TOKEN}/sendMessage",
            content=body(),  # no length known: httpx sends it chunked
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    assert response.json()["result"]["text"] == "in two chunks"
    assert response.request.headers["Transfer-Encoding"] == "chunked"


async def test_a_slow_call_on_the_async_server_holds_up_no_other(
    async_fake: FakeTelegram, async_bot: Bot
) -> None:
    async_fake.slow("sendMessage", 60)
    held = asyncio.create_task(async_bot.send_message(CHAT, "held back"))
    await async_fake.await_for(lambda f: len(f.calls) == 2, timeout=10)  # getMe, held

    await async_bot.send_message(CHAT + 1, "not held back")

    assert not held.done()
    assert [m.text for m in async_fake.sent] == ["not held back"]
    held.cancel()
    with pytest.raises(asyncio.CancelledError):
        await held


async def test_a_slow_answer_comes_after_the_message_is_in_the_chat(
    fake: FakeTelegram, bot: Bot
) -> None:
    fake.slow("sendMessage", 60, after=True)
    held = asyncio.create_task(bot.send_message(CHAT, "on its way back"))
    await fake.await_for(lambda f: [m.text for m in f.sent] == ["on its way back"], timeout=10)
    # Answered late, but already sent: the next call is neither delayed nor held.
    await bot.send_message(CHAT, "next")
    assert not held.done()
    assert [m.text for m in fake.sent] == ["on its way back", "next"]
    held.cancel()
    with pytest.raises(asyncio.CancelledError):
        await held


async def test_the_async_server_cuts_a_connection_the_client_gave_up_on(
    async_fake: FakeTelegram, async_bot: Bot
) -> None:
    async_fake.fail_for("sendMessage", 60, status=504, description="Gateway Timeout", delay=30)
    with pytest.raises(TimedOut):
        await async_bot.send_message(CHAT, "nobody answers", read_timeout=0.2)
    # The client closed the connection it timed out on; the server lets it go.
    await async_fake.await_for(lambda f: not f._connections, timeout=10)

    assert await async_bot.get_me()  # on a new connection
    assert async_fake.sent == []


async def test_stopping_the_async_server_cuts_its_connections() -> None:
    tg = FakeTelegram(server="async")
    tg.start()
    port = int(tg.base_url.rsplit(":", 1)[1].split("/")[0])
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        # An idle keep-alive connection, as httpx keeps in its pool.
        writer.write(f"GET /bot{FakeTelegram.TOKEN}/getMe HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
        assert head.startswith(b"HTTP/1.1 200")
        assert len(tg._connections) == 1
        await asyncio.to_thread(tg.stop)
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        await asyncio.wait_for(reader.readexactly(length), timeout=10)
        assert await asyncio.wait_for(reader.read(), timeout=10) == b""  # cut by the server
        writer.close()
    finally:
        tg.stop()

    assert not tg._connections
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


async def test_the_async_server_serves_a_document_a_user_sent(
    async_fake: FakeTelegram, async_bot: Bot
) -> None:
    async_fake.inject_message(CHAT, "", document=("trips.csv", b"who,country\n@dana,KZ\n"))
    (update,) = await async_bot.get_updates()
    assert update.message is not None and update.message.document is not None

    file = await async_bot.get_file(update.message.document.file_id)

    assert bytes(await file.download_as_bytearray()) == b"who,country\n@dana,KZ\n"


@pytest.mark.parametrize("server", ["async", "threaded"])
async def test_the_simulator_process_serves_reports_and_stops(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "bot.sim.telegram", "--port", "0", "--server", server),
        *("--flood", "sliding-window", "--chat-rate", "2"),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        base_url = (await asyncio.wait_for(process.stdout.readline(), timeout=60)).decode()
        base_url = base_url.strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/bot")
        async with _bot_on(base_url) as real_bot:
            await real_bot.send_message(CHAT, "hello")
            await real_bot.send_message(CHAT, "hello")  # a duplicate
            await real_bot.send_message(CHAT + 1, "hello")
            with pytest.raises(RetryAfter):
                await real_bot.send_message(CHAT, "a third in a second")
        expected = {
            "accepted": 3,
            "accepted_per_chat": {str(CHAT): 2, str(CHAT + 1): 1},
            "too_many_requests": 1,
            "duplicates": 1,
            "duplicates_per_chat": {str(CHAT): 1},
        }
        async with httpx.AsyncClient() as client:
            stats = await client.get(base_url.removesuffix("/bot") + "/sim/stats")
        assert stats.json() == expected

        process.terminate()
        last = await asyncio.wait_for(process.stdout.readline(), timeout=30)
        assert json.loads(last) == expected
        assert await asyncio.wait_for(process.wait(), timeout=30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
