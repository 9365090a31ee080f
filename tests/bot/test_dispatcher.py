"""The outbox dispatcher against the fake Bot API: order, limits, and Telegram's failures."""

from __future__ import annotations

import asyncio
import html
import itertools
import logging
import random
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.exc import ProgrammingError
from sqlmodel import col, select, update

from bot.dispatcher import backoff_seconds
from bot.render import split_html
from bot.sim.telegram.flood import RateLimits
from bot.sim.telegram.server import FakeTelegram
from bot.sim.telegram.state import SentMessage
from db import deliveries, staff
from db.deliveries import Recipient
from db.engine import session_scope
from db.models import Delivery, DeliveryKind, DeliveryStatus, Priority, Role
from tests.harness import RunningBot, until_recorded
from tests.harness import queue as _queue


def _rows(bot: RunningBot) -> list[Delivery]:
    with session_scope(bot.engine) as session:
        return list(session.exec(select(Delivery).order_by(col(Delivery.id))).all())


async def _until_settled(bot: RunningBot, *, step_seconds: float = 30) -> None:
    """Move the clock past retry backoffs until nothing is pending, without sleeping them out."""
    for _ in range(400):
        if all(r.status not in ("pending", "sending") for r in _rows(bot)):
            return
        bot.clock.advance(seconds=step_seconds)
        bot.services.wake_dispatcher()
        await asyncio.sleep(0.02)
    raise AssertionError(f"still pending: {[(r.id, r.status, r.last_error) for r in _rows(bot)]}")


async def test_critical_goes_before_routine_even_when_queued_later(bot: RunningBot) -> None:
    bot.fake.rate_limits = RateLimits(global_per_second=20)
    # One request at a time, so that the order they arrive in is the order they were sent
    # in (requests under way together may overtake each other on a loaded machine).
    dispatcher = bot.services.dispatcher
    assert dispatcher is not None
    dispatcher.settings = dispatcher.settings.model_copy(update={"send_max_in_flight": 1})
    people = [bot.enrol(f"P{n}") for n in range(20)]
    with session_scope(bot.engine) as session:
        # One transaction, so the dispatcher sees both at once: routine is older.
        for key, group, priority in (
            ("routine", people[:10], Priority.ROUTINE),
            ("critical", people[10:], Priority.CRITICAL),
        ):
            deliveries.enqueue(
                session,
                kind=DeliveryKind.BROADCAST,
                dedupe_key=key,
                recipients=[Recipient(p.id or 0, p.chat_id) for p in group],
                parts=[key],
                priority=priority,
                now=bot.clock(),
            )
    bot.services.wake_dispatcher()
    await bot.fake.await_for(lambda f: len(f.sent) == 20)
    order = [m.text for m in bot.fake.sent]
    assert order == ["critical"] * 10 + ["routine"] * 10


async def test_rate_is_held_under_telegrams_limits(bot: RunningBot) -> None:
    limit = bot.services.settings.send_rate_per_second
    bot.fake.rate_limits = RateLimits(global_per_second=limit, per_chat_per_second=1)
    people = [bot.enrol(f"P{n}") for n in range(90)]
    _queue(bot, people, "Stay indoors", key="load", priority=Priority.NORMAL)
    await bot.fake.await_for(lambda f: len(f.sent) == 90)
    times = sorted(m.at for m in bot.fake.sent)
    rate = (len(times) - 1) / (times[-1] - times[0])
    print(f"\ndispatcher held {rate:.1f} msg/s against a limit of {limit:.0f} ({rate / limit:.0%})")
    assert bot.fake.too_many_requests == 0
    assert rate <= limit * 1.05
    await until_recorded(bot.engine)
    assert {r.status for r in _rows(bot)} == {DeliveryStatus.SENT.value}


@pytest.mark.telegram_chat_limit
async def test_a_long_message_arrives_in_order_one_second_apart(bot: RunningBot) -> None:
    bot.fake.rate_limits = RateLimits()
    sam = bot.enrol("Sam")
    text = "\n\n".join(f"Paragraph {n}: " + "stay safe & keep calm " * 40 for n in range(12))
    _queue(bot, [sam], text, key="long", priority=Priority.NORMAL)
    await bot.fake.await_for(lambda f: len(f.messages_to(sam.chat_id)) == 3)
    received = bot.fake.messages_to(sam.chat_id)
    assert received[1].text.startswith("(2/3)") and received[2].text.startswith("(3/3)")
    assert "Paragraph 0" in received[0].text and "Paragraph 11" in received[2].text
    gaps = [b.at - a.at for a, b in itertools.pairwise(received)]
    assert min(gaps) >= 0.95
    assert bot.fake.too_many_requests == 0


async def test_429_waits_retry_after_and_delivers_once(bot: RunningBot) -> None:
    sam = bot.enrol("Sam")
    bot.fake.fail_next(
        "sendMessage", status=429, description="Too Many Requests: retry after 1", retry_after=1
    )
    _queue(bot, [sam], "hello", key="flood", priority=Priority.NORMAL)
    await bot.fake.await_for(lambda f: len(f.messages_to(sam.chat_id)) == 1)
    attempts = [c for c in bot.fake.calls if c[0] == "sendMessage"]
    assert len(attempts) == 2
    await until_recorded(bot.engine)
    (row,) = _rows(bot)
    assert row.status == DeliveryStatus.SENT.value


async def test_403_marks_unreachable_stops_retrying_and_tells_the_leads(bot: RunningBot) -> None:
    lead = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    sam = bot.enrol("Sam Staff", countries=("KZ",))
    bot.fake.block(sam.chat_id)
    _queue(bot, [sam], "first", key="a", priority=Priority.NORMAL)
    _queue(bot, [sam], "second", key="b", priority=Priority.NORMAL)
    await bot.fake.await_for(lambda f: len(f.messages_to(lead.chat_id)) == 1)
    notice = bot.fake.messages_to(lead.chat_id)[0].text
    # The name links to the person's profile: the lead reaches them in one tap.
    link = f'<a href="tg://user?id={sam.telegram_user_id}">Sam Staff</a>'
    assert f"{link} (@sam_staff) can no longer be reached" in notice
    await _until_settled(bot)
    to_sam = [
        c for c in bot.fake.calls if c[0] == "sendMessage" and int(c[1]["chat_id"]) == sam.chat_id
    ]
    assert len(to_sam) == 1  # the second message is not even tried
    with session_scope(bot.engine) as session:
        person = staff.by_telegram_id(session, telegram_user_id=sam.telegram_user_id)
        assert person is not None and person.reachable is False
    statuses = {r.dedupe_key: r.status for r in _rows(bot) if r.staff_id == sam.id}
    assert statuses == {"a": "unreachable", "b": "unreachable"}
    # Unblocking and writing to the bot again makes them reachable.
    bot.fake.unblock(sam.chat_id)
    await bot.say(sam.telegram_user_id, "/help")
    with session_scope(bot.engine) as session:
        person = staff.by_telegram_id(session, telegram_user_id=sam.telegram_user_id)
        assert person is not None and person.reachable is True


async def test_chat_not_found_is_permanent(bot: RunningBot) -> None:
    sam = bot.enrol("Sam")
    bot.fake.forget_chat(sam.chat_id)
    _queue(bot, [sam], "hello", key="gone", priority=Priority.NORMAL)
    await _until_settled(bot)
    (row,) = _rows(bot)
    assert row.status == DeliveryStatus.UNREACHABLE.value


async def test_5xx_and_timeouts_are_retried_with_backoff(bot: RunningBot) -> None:
    sam = bot.enrol("Sam")
    bot.fake.fail_next("sendMessage", status=502, description="Bad Gateway", count=2)
    _queue(bot, [sam], "hello", key="flaky", priority=Priority.NORMAL)
    await _until_settled(bot)
    (row,) = _rows(bot)
    assert row.status == DeliveryStatus.SENT.value and row.attempts == 3
    assert len(bot.fake.messages_to(sam.chat_id)) == 1


async def test_a_message_telegram_rejects_is_failed_not_retried(bot: RunningBot) -> None:
    sam = bot.enrol("Sam")
    with session_scope(bot.engine) as session:
        deliveries.enqueue(
            session,
            kind=DeliveryKind.BROADCAST,
            dedupe_key="bad",
            recipients=[Recipient(sam.id or 0, sam.chat_id)],
            parts=["<blink>not Telegram HTML</blink>"],
            priority=Priority.NORMAL,
            now=bot.clock(),
        )
    bot.services.wake_dispatcher()
    await _until_settled(bot)
    (row,) = _rows(bot)
    assert row.status == DeliveryStatus.FAILED.value and "parse entities" in (row.last_error or "")


async def test_queueing_twice_sends_once(bot: RunningBot) -> None:
    sam = bot.enrol("Sam")
    _queue(bot, [sam], "once", key="same", priority=Priority.NORMAL)
    _queue(bot, [sam], "once", key="same", priority=Priority.NORMAL)
    await _until_settled(bot)
    assert [m.text for m in bot.fake.messages_to(sam.chat_id)] == ["once"]


def test_split_keeps_every_part_within_telegrams_limit() -> None:
    text = ("Ünïcødé & <tags> 🚨 " * 900).strip()
    parts = split_html("<b>Header</b>", text)
    assert len(parts) > 1
    for part in parts:
        visible = html.unescape(re.sub(r"<[^>]+>", "", part))
        assert len(visible.encode("utf-16-le")) // 2 <= 4096
    assert parts[0].startswith("<b>Header</b>")


async def test_urgent_news_queued_mid_batch_overtakes_the_rest_of_the_claim(
    bot: RunningBot,
) -> None:
    bot.fake.rate_limits = RateLimits(global_per_second=20)
    assert bot.services.dispatcher is not None
    bot.services.dispatcher._claim_size = 40  # all the routine rows in one claim
    routine = [bot.enrol(f"R{n}") for n in range(40)]
    critical = [bot.enrol(f"C{n}") for n in range(5)]
    _queue(bot, routine, "routine", key="routine", priority=Priority.ROUTINE)
    await bot.fake.await_for(lambda f: len(f.sent) >= 3)
    _queue(bot, critical, "critical", key="critical", priority=Priority.CRITICAL)
    queued_after = len(bot.fake.sent)
    await bot.fake.await_for(lambda f: len(f.sent) == 45)
    order = [m.text for m in bot.fake.sent]
    last_critical = len(order) - 1 - order[::-1].index("critical")
    # Only what was already on its way when they were queued arrives before or among them
    # (on a loaded machine a request under way can land after the first of them), not
    # the rest of the routine rows claimed (more than 30 of them at that point).
    assert order[queued_after : last_critical + 1].count("routine") <= 5
    await until_recorded(bot.engine)
    rows = _rows(bot)
    assert {r.status for r in rows} == {DeliveryStatus.SENT.value}
    assert {r.attempts for r in rows} == {1}  # a claim given back is not an attempt


async def test_every_row_records_its_own_message_id_at_a_high_rate(bot: RunningBot) -> None:
    bot.services.dispatcher.pacer.rate = 400  # type: ignore[union-attr]
    people = [bot.enrol(f"P{n}") for n in range(120)]
    for person in people[::3]:
        bot.fake.inject_message(person.telegram_user_id, "hi")  # their message ids move on
    await bot.fake.await_for(lambda f: len(f.sent) == 40)  # the bot's answers to them

    def broadcast(fake: FakeTelegram) -> list[SentMessage]:
        return [m for m in fake.sent if m.text == "Stay indoors"]

    _queue(bot, people, "Stay indoors", key="fast", priority=Priority.NORMAL)
    await bot.fake.await_for(lambda f: len(broadcast(f)) == 120)
    await until_recorded(bot.engine)
    given = {m.chat_id: m.message_id for m in broadcast(bot.fake)}
    rows = [r for r in _rows(bot) if r.dedupe_key == "fast"]
    assert {r.status for r in rows} == {DeliveryStatus.SENT.value}
    assert {r.chat_id: r.telegram_message_id for r in rows} == given
    assert len(set(given.values())) > 1


async def test_one_429_pauses_every_send_to_everyone_for_its_retry_after(
    bot: RunningBot,
) -> None:
    # One request at a time: each answer is in before the next request is made, so the
    # pause is owed from the very next one.
    bot.services.settings.send_max_in_flight = 1
    people = [bot.enrol(f"P{n}") for n in range(8)]
    bot.fake.fail_next(
        "sendMessage", status=429, description="Too Many Requests: retry after 2", retry_after=2
    )
    _queue(bot, people, "Stay indoors", key="flood", priority=Priority.NORMAL)
    await bot.fake.await_for(lambda f: len(f.sent) == 8, timeout=30)
    (refused_at,) = bot.fake.too_many_requests_at
    # Nothing, to anyone, until Telegram's retry_after has passed ...
    assert min(m.at for m in bot.fake.sent) >= refused_at + 2
    # ... and then every message arrives, once each.
    assert sorted(m.chat_id for m in bot.fake.sent) == sorted(p.chat_id for p in people)
    assert {m.text for m in bot.fake.sent} == {"Stay indoors"}
    await until_recorded(bot.engine)
    assert {r.status for r in _rows(bot)} == {DeliveryStatus.SENT.value}
    assert len([c for c in bot.fake.calls if c[0] == "sendMessage"]) == 9


async def test_a_flood_longer_than_the_attempt_limit_still_delivers_a_critical_alert(
    bot: RunningBot,
) -> None:
    bot.services.settings.send_max_attempts = 2
    sam = bot.enrol("Sam")
    bot.fake.fail_next(
        "sendMessage",
        status=429,
        description="Too Many Requests: retry after 1",
        retry_after=1,
        count=3,
    )
    _queue(bot, [sam], "Shelter in place now", key="critical", priority=Priority.CRITICAL)
    await bot.fake.await_for(lambda f: len(f.messages_to(sam.chat_id)) == 1, timeout=30)
    assert bot.fake.too_many_requests == 3
    await until_recorded(bot.engine)
    (row,) = _rows(bot)
    assert row.status == DeliveryStatus.SENT.value and row.last_error is None
    assert [m.text for m in bot.fake.messages_to(sam.chat_id)] == ["Shelter in place now"]


async def test_a_server_error_after_a_long_flood_is_retried_not_given_up(
    bot: RunningBot,
) -> None:
    bot.services.settings.send_max_attempts = 2
    sam = bot.enrol("Sam")
    bot.fake.fail_next(
        "sendMessage",
        status=429,
        description="Too Many Requests: retry after 1",
        retry_after=1,
        count=3,
    )
    bot.fake.fail_next("sendMessage", status=502, description="Bad Gateway")
    _queue(bot, [sam], "Shelter in place now", key="critical", priority=Priority.CRITICAL)
    await bot.fake.await_for(lambda f: f.too_many_requests == 3, timeout=30)
    await _until_settled(bot, step_seconds=5)
    (row,) = _rows(bot)
    # The waits Telegram asked for are not attempts: one failure, then the send.
    assert (row.status, row.attempts) == (DeliveryStatus.SENT.value, 2)
    assert [m.text for m in bot.fake.messages_to(sam.chat_id)] == ["Shelter in place now"]


@pytest.mark.parametrize(
    ("status", "description", "said"),
    [
        (400, "Bad Request: chat not found", "Chat not found"),
        (400, "Bad Request: user is deactivated", "User is deactivated"),
        (400, "Bad Request: bot was blocked by the user", "Bot was blocked by the user"),
        (400, "Bad Request: PEER_ID_INVALID", "Peer_id_invalid"),
        (
            403,
            "Forbidden: bot was kicked from the group chat",
            "Forbidden: bot was kicked from the group chat",
        ),
    ],
)
async def test_a_chat_gone_for_good_stops_its_messages_and_tells_the_reachable_leads(
    bot: RunningBot, status: int, description: str, said: str
) -> None:
    lena = bot.enrol("Lena Lead", role=Role.LEAD, countries=("KZ",), answers_for=("KZ",))
    omar = bot.enrol("Omar Lead", role=Role.LEAD, countries=("KZ",), answers_for=("KZ",))
    with session_scope(bot.engine) as session:
        assert staff.mark_unreachable(session, staff_id=omar.id or 0)
    sam = bot.enrol("Sam Staff", countries=("KZ",))
    bot.fake.fail_next("sendMessage", status=status, description=description, chat_id=sam.chat_id)
    _queue(bot, [sam], "first", key="a", priority=Priority.NORMAL)
    await bot.fake.await_for(lambda f: len(f.messages_to(lena.chat_id)) == 1)
    await _until_settled(bot)
    assert [m.text for m in bot.fake.messages_to(lena.chat_id)] == [
        f'⚠️ <b><a href="tg://user?id={sam.telegram_user_id}">Sam Staff</a> (@sam_staff) can '
        "no longer be reached on Telegram.</b>\n"
        f"They blocked the bot or their account is gone (Telegram said: {said}).\n"
        "Messages to them are stopped until they write to the bot again; "
        "please reach them another way."
    ]
    assert bot.fake.messages_to(omar.chat_id) == []
    rows = _rows(bot)
    (to_sam,) = [r for r in rows if r.staff_id == sam.id]
    assert (to_sam.status, to_sam.last_error) == (DeliveryStatus.UNREACHABLE.value, said)
    (notice,) = [r for r in rows if r.staff_id == lena.id]
    # Erasing Sam's data later finds the notices about them by these columns.
    assert (notice.kind, notice.about_staff_id) == (DeliveryKind.UNREACHABLE.value, sam.id)
    assert notice.dedupe_key == f"unreachable:{sam.id}:{to_sam.id}"
    assert notice.priority == Priority.HIGH


async def test_a_person_already_known_unreachable_is_not_reported_again(bot: RunningBot) -> None:
    lena = bot.enrol("Lena Lead", role=Role.LEAD, countries=("KZ",))
    sam = bot.enrol("Sam Staff", countries=("KZ",))
    with session_scope(bot.engine) as session:
        assert staff.mark_unreachable(session, staff_id=sam.id or 0)
    bot.fake.block(sam.chat_id)
    _queue(bot, [sam], "first", key="a", priority=Priority.NORMAL)
    await _until_settled(bot)
    (row,) = _rows(bot)
    assert row.status == DeliveryStatus.UNREACHABLE.value
    assert bot.fake.messages_to(lena.chat_id) == []


async def test_a_person_without_leads_is_marked_unreachable_quietly(bot: RunningBot) -> None:
    sam = bot.enrol("Sam Staff")
    bot.fake.block(sam.chat_id)
    _queue(bot, [sam], "first", key="a", priority=Priority.NORMAL)
    await _until_settled(bot)
    (row,) = _rows(bot)
    assert row.status == DeliveryStatus.UNREACHABLE.value
    assert [c[0] for c in bot.fake.calls if c[0] == "sendMessage"] == ["sendMessage"]


async def test_a_message_failing_past_the_attempt_limit_is_given_up_with_the_reason(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    bot.services.settings.send_max_attempts = 3
    sam = bot.enrol("Sam")
    bot.fake.fail_next("sendMessage", status=502, description="Bad Gateway", count=3)
    _queue(bot, [sam], "hello", key="flaky", priority=Priority.NORMAL)
    await _until_settled(bot)
    (row,) = _rows(bot)
    assert (row.status, row.attempts, row.last_error) == (
        DeliveryStatus.FAILED.value,
        3,
        "NetworkError: Bad Gateway",
    )
    assert bot.fake.messages_to(sam.chat_id) == []
    assert len([c for c in bot.fake.calls if c[0] == "sendMessage"]) == 3
    # The operator can follow the delivery through the log.
    (gave_up,) = [r for r in caplog.records if "giving up" in r.getMessage()]
    ids = {key: getattr(gave_up, key) for key in ("delivery_id", "staff_id", "alert_id")}
    assert ids == {"delivery_id": row.id, "staff_id": sam.id, "alert_id": None}


def test_retries_back_off_exponentially_with_jitter_up_to_five_minutes() -> None:
    random.seed(1)
    for attempts, base in ((1, 2.0), (2, 4.0), (5, 32.0), (8, 256.0), (9, 300.0), (30, 300.0)):
        waits = [backoff_seconds(attempts) for _ in range(400)]
        assert all(0.8 * base <= w <= 1.2 * base for w in waits)
        # The jitter spreads them over the whole range.
        assert min(waits) < 0.82 * base and max(waits) > 1.18 * base


async def test_a_lone_message_is_recorded_as_soon_as_telegram_accepts_it(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    # What reads the outbox (roll-call reminders, reports) must see it at once, not after
    # a batch's worth of waiting.
    caplog.set_level(logging.DEBUG, logger="bot.dispatcher")
    sam = bot.enrol("Sam")
    _queue(bot, [sam], "hello", key="one", priority=Priority.NORMAL)
    (row,) = _rows(bot)

    def accepted(_: FakeTelegram) -> bool:
        return any(r.getMessage() == f"delivery {row.id}: sent" for r in caplog.records)

    await bot.fake.await_for(accepted)
    (stored,) = _rows(bot)
    (message,) = bot.fake.messages_to(sam.chat_id)
    assert (stored.status, stored.telegram_message_id) == (
        DeliveryStatus.SENT.value,
        message.message_id,
    )


async def test_a_pass_the_database_refuses_is_logged_and_sending_goes_on(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    # Not an outage: a statement refused outright (a schema half migrated, say). The
    # pass fails, and the loop tries again a little later.
    def refuse(*_: object) -> None:
        raise ProgrammingError("(schema)", None, Exception("no such column: delivery.paid"))

    event.listen(bot.engine, "before_cursor_execute", refuse)
    try:
        bot.services.wake_dispatcher()
        await bot.fake.await_for(
            lambda _: any("dispatcher pass failed" in r.getMessage() for r in caplog.records)
        )
    finally:
        event.remove(bot.engine, "before_cursor_execute", refuse)
    sam = bot.enrol("Sam")
    _queue(bot, [sam], "Still here", key="after", priority=Priority.NORMAL)
    await bot.fake.await_for(lambda f: bool(f.messages_to(sam.chat_id)))


async def test_no_more_requests_are_under_way_at_once_than_allowed(bot: RunningBot) -> None:
    bot.services.settings.send_max_in_flight = 2
    people = [bot.enrol(f"P{n}") for n in range(6)]
    bot.fake.slow("sendMessage", 0.5, count=6)  # Telegram is slow to answer
    _queue(bot, people, "Stay indoors", key="slow", priority=Priority.NORMAL)
    await bot.fake.await_for(lambda f: len(f.sent) == 6, timeout=30)
    # At any moment, the requests Telegram has received but not yet answered.
    arrived = [
        t
        for (method, _), t in zip(bot.fake.calls, bot.fake.call_times, strict=True)
        if method == "sendMessage"
    ]
    events = sorted([(t, 1) for t in arrived] + [(m.at, -1) for m in bot.fake.sent])
    under_way = list(itertools.accumulate(step for _, step in events))
    assert max(under_way) == 2
    await until_recorded(bot.engine)
    assert {r.status for r in _rows(bot)} == {DeliveryStatus.SENT.value}


async def test_a_slow_send_holds_back_only_its_own_place_under_way(bot: RunningBot) -> None:
    bot.services.settings.send_max_in_flight = 2
    people = [bot.enrol(f"P{n}") for n in range(3)]
    bot.fake.slow("sendMessage", 2.0)  # the first request to arrive is slow to be answered
    _queue(bot, people, "Stay indoors", key="one-slow", priority=Priority.NORMAL)
    await bot.fake.await_for(lambda f: len(f.sent) == 3)
    arrived = {
        int(params["chat_id"]): at
        for (method, params), at in zip(bot.fake.calls, bot.fake.call_times, strict=True)
        if method == "sendMessage"
    }
    taken = {m.chat_id: m.at for m in bot.fake.sent}
    slow = max(taken, key=lambda chat: taken[chat] - arrived[chat])
    # The third went as soon as another was answered, the slow one still on its way.
    assert all(at < taken[slow] for chat, at in taken.items() if chat != slow)


async def test_a_message_that_failed_often_waits_its_backoff_before_the_next_try(
    bot: RunningBot,
) -> None:
    sam = bot.enrol("Sam")
    bot.fake.fail_next("sendMessage", status=502, description="Bad Gateway")
    with session_scope(bot.engine) as session:
        deliveries.enqueue(
            session,
            kind=DeliveryKind.BROADCAST,
            dedupe_key="flaky",
            recipients=[Recipient(sam.id or 0, sam.chat_id)],
            parts=["hello"],
            priority=Priority.NORMAL,
            now=bot.clock(),
        )
        # It has failed seven times already: the next wait is 2⁸ s, give or take a fifth.
        session.execute(update(Delivery).values(attempts=7))
    before = bot.clock()
    bot.services.wake_dispatcher()
    await bot.fake.await_for(lambda f: any(method == "sendMessage" for method, _ in f.calls))
    (row,) = _rows(bot)
    for _ in range(3000):
        if row.status == DeliveryStatus.PENDING.value:
            break
        await asyncio.sleep(0.01)
        (row,) = _rows(bot)
    after = bot.clock()
    assert (row.status, row.attempts, row.last_error) == (
        DeliveryStatus.PENDING.value,
        8,
        "NetworkError: Bad Gateway",
    )
    assert before + timedelta(seconds=0.8 * 256) <= row.next_attempt_at
    assert row.next_attempt_at <= after + timedelta(seconds=1.2 * 256)
    assert bot.fake.messages_to(sam.chat_id) == []

    bot.clock.advance(seconds=1.2 * 256)
    bot.services.wake_dispatcher()
    await bot.fake.await_for(lambda f: len(f.messages_to(sam.chat_id)) == 1)
    await until_recorded(bot.engine)
    (row,) = _rows(bot)
    assert (row.status, row.attempts, row.last_error) == (DeliveryStatus.SENT.value, 9, None)


async def test_the_bot_keeps_running_while_another_writer_holds_the_database(
    bot: RunningBot,
) -> None:
    """A claim waiting for a lock someone else holds (a fan-out chunk, a migration, a
    second process) waits on the dispatcher's own thread: the event loop, and with it
    every reply and press, goes on meanwhile."""
    sam = bot.enrol("Sam")
    later = bot.clock() + timedelta(minutes=5)
    _queue(bot, [sam], "Stay indoors", key="later", priority=Priority.NORMAL, not_before=later)
    locked, loop_ran = threading.Event(), threading.Event()
    waited: list[bool] = []

    def hold_the_write_lock() -> None:
        with bot.engine.connect() as connection:
            # Other writers wait; plain reads go on, as they would.
            if bot.engine.dialect.name == "sqlite":
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                connection.exec_driver_sql("LOCK TABLE delivery IN EXCLUSIVE MODE")
            locked.set()
            # Released once the loop has shown it runs, or after 20 s if it never does.
            waited.append(loop_ran.wait(timeout=20))
            connection.rollback()

    holder = threading.Thread(target=hold_the_write_lock)
    holder.start()
    try:
        assert await asyncio.to_thread(locked.wait, 20)
        # The message is due now: the dispatcher claims it, and waits for the lock.
        bot.clock.advance(minutes=5)
        bot.services.wake_dispatcher()
        await asyncio.sleep(0.1)  # the loop turns: the dispatcher is in its claim by now
        loop_ran.set()
    finally:
        await asyncio.to_thread(holder.join)
    assert waited == [True], "the event loop stopped while the database was locked"
    await bot.fake.await_for(lambda f: len(f.messages_to(sam.chat_id)) == 1)
