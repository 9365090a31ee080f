"""Several processes on one PostgreSQL (bot.replicas): they share the sending and its limits,
one of them runs the scheduled jobs, and one that dies loses nothing.

Each replica here is a whole application with an engine of its own, as a process would
have; only the first takes updates (the others would, behind a webhook). PostgreSQL only
(TEST_DATABASE_URL): SQLite is one process. What a process does with the share a
heartbeat would give it is checked on SQLite, where no heartbeat runs.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from telegram.ext import Application

from bot.app import build_application
from bot.context import SERVICES_KEY, Context, Services
from bot.ratelimit import PAID_RATE, SendBudget
from bot.settings import BotSettings
from bot.sim.telegram.server import FakeTelegram
from db import cards
from db.engine import make_engine, session_scope
from db.models import Delivery, DeliveryKind, DeliveryStatus, Priority, Staff
from db.senders import LEASE, Share
from db.types import utcnow
from tests.harness import MutableClock, RunningBot, queue, running_bot, until_recorded


@pytest.fixture
def postgres(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("several processes share PostgreSQL only (TEST_DATABASE_URL)")


@pytest.fixture
def one_process(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        pytest.skip("on PostgreSQL the heartbeat reads the real share (the tests above)")


@pytest.fixture
async def paying(
    settings: BotSettings, engine: Engine, fake: FakeTelegram, clock: MutableClock
) -> AsyncIterator[RunningBot]:
    """A bot that sends what cannot wait as paid broadcasts."""
    paid = settings.model_copy(update={"paid_broadcast": True})
    async with running_bot(paid, engine=engine, fake=fake, clock=clock) as bot:
        yield bot


@pytest.fixture
def settings(settings: BotSettings) -> BotSettings:
    # Slow enough that a broadcast to a few dozen is still going when a replica dies.
    settings.send_rate_per_second = 20
    return settings


def _services(application: Application) -> Services:  # type: ignore[type-arg]
    return application.bot_data[SERVICES_KEY]  # type: ignore[no-any-return]


@asynccontextmanager
async def replica(settings: BotSettings, clock: MutableClock) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """Another process of the same bot on the same database, taking no updates itself."""
    engine = make_engine(settings.database_url)
    application = build_application(settings, engine=engine, clock=clock)
    await application.initialize()
    assert application.post_init is not None and application.post_stop is not None
    await application.post_init(application)
    await application.start()
    try:
        yield application
    finally:
        await application.stop()
        await application.post_stop(application)
        await application.shutdown()
        engine.dispose()


def kill_sending(application: Application) -> None:  # type: ignore[type-arg]
    """The process dies: its heartbeat and its sends stop where they are, nothing is
    recorded and nobody is told."""
    svc = _services(application)
    assert svc.seat is not None and svc.dispatcher is not None
    dispatcher = svc.dispatcher
    for task in (svc.seat._task, dispatcher._task, *dispatcher._in_flight, *dispatcher._recording):
        if task is not None:
            task.cancel()
    svc.seat, svc.dispatcher = None, None


async def until(predicate: Callable[[], bool], *, seconds: float) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("not within the time allowed")
        await asyncio.sleep(0.05)


def _copies(bot: RunningBot, people: list[Staff], text: str) -> Counter[int]:
    return Counter(
        person.chat_id
        for person in people
        for message in bot.fake.messages_to(person.chat_id)
        if message.text == text
    )


async def test_two_replicas_share_a_broadcast_and_its_limit_and_each_person_gets_it_once(
    bot: RunningBot, settings: BotSettings, postgres: None
) -> None:
    people = [bot.enrol(f"Person {n}") for n in range(30)]
    first = bot.services
    assert first.seat is not None
    async with replica(settings, bot.clock) as other:
        second = _services(other)
        assert second.seat is not None and second.dispatcher is not None
        await until(lambda: first.seat is not None and first.seat.share.count == 2, seconds=10)
        await second.seat.ready()
        # Each keeps to half of the bot's limit.
        assert first.dispatcher is not None
        assert first.dispatcher.pacer.rate == second.dispatcher.pacer.rate == 10

        queue(bot, people, "Stay indoors tonight", key="alert:1", priority=Priority.CRITICAL)
        second.wake_dispatcher()
        await until_recorded(bot.engine)

        assert _copies(bot, people, "Stay indoors tonight") == {p.chat_id: 1 for p in people}
        # Both sent their own half of the people.
        sent = (first.dispatcher.sent_count, second.dispatcher.sent_count)
        assert min(sent) > 0 and sum(sent) == 30
        for seat, dispatcher in ((first.seat, first.dispatcher), (second.seat, second.dispatcher)):
            with session_scope(bot.engine) as session:
                chats = session.exec(
                    select(Delivery.chat_id).where(col(Delivery.claimed_by) == seat.sender_id)
                ).all()
            assert len(chats) == dispatcher.sent_count
            assert all(seat.share.owns(chat) for chat in chats)

    # The other stopped: this one takes the whole limit back at its next heartbeat.
    await until(lambda: first.seat is not None and first.seat.share.count == 1, seconds=10)
    assert first.dispatcher.pacer.rate == 20


async def test_a_replica_that_dies_mid_broadcast_loses_nothing_and_repeats_only_its_own(
    bot: RunningBot, settings: BotSettings, postgres: None
) -> None:
    people = [bot.enrol(f"Person {n}") for n in range(40)]
    first = bot.services
    async with replica(settings, bot.clock) as other:
        second = _services(other)
        assert second.seat is not None and second.dispatcher is not None
        await until(lambda: first.seat is not None and first.seat.share.count == 2, seconds=10)
        await second.seat.ready()
        dying_id = second.seat.sender_id
        bot.fake.slow("sendMessage", 0.5)  # sends are under way when it dies

        queue(bot, people, "Leave the country", key="alert:2", priority=Priority.CRITICAL)
        second.wake_dispatcher()
        dispatcher = second.dispatcher
        await until(lambda: dispatcher.sent_count >= 3, seconds=20)
        kill_sending(other)
        with session_scope(bot.engine) as session:
            in_flight = set(
                session.exec(
                    select(Delivery.chat_id).where(
                        col(Delivery.claimed_by) == dying_id,
                        col(Delivery.status) == DeliveryStatus.SENDING.value,
                    )
                ).all()
            )

        # Within its lease and a heartbeat, the survivor takes its rows and its share.
        await until(
            lambda: first.seat is not None and first.seat.share.count == 1,
            seconds=LEASE.total_seconds() + 10,
        )
        bot.fake.slow("sendMessage", 0.0)
        await until_recorded(bot.engine)
        copies = _copies(bot, people, "Leave the country")
        assert set(copies) == {p.chat_id for p in people}
        twice = {chat for chat, n in copies.items() if n > 1}
        assert twice <= in_flight
        assert max(copies.values()) <= 2


async def test_one_replica_runs_the_scheduled_jobs_and_another_takes_over_when_it_goes(
    bot: RunningBot, settings: BotSettings, postgres: None
) -> None:
    first = bot.services
    assert first.leadership is not None and first.leadership.leads
    ran: list[str] = []

    async def probe(context: Context) -> None:
        assert context.job is not None and context.job.name is not None
        ran.append(context.job.name.removeprefix("probe-"))

    async with replica(settings, bot.clock) as other:
        second = _services(other)
        assert second.leadership is not None and not second.leadership.leads
        for name, application in (("first", bot.application), ("second", other)):
            assert application.job_queue is not None
            application.job_queue.run_repeating(probe, interval=0.2, name=f"probe-{name}")

        await until(lambda: "first" in ran, seconds=10)
        assert "second" not in ran

        # The leader goes (its lock with its connection); the other takes over.
        assert bot.application.job_queue is not None
        for job in bot.application.job_queue.get_jobs_by_name("leadership"):
            job.schedule_removal()
        first.leadership.release()
        await until(lambda: second.leadership is not None and second.leadership.leads, seconds=15)
        ran.clear()
        await until(lambda: "second" in ran, seconds=10)
        assert "first" not in ran


async def test_a_process_given_half_the_work_sends_to_its_own_chats_at_half_the_rate(
    bot: RunningBot, one_process: None
) -> None:
    seat, dispatcher = bot.services.seat, bot.services.dispatcher
    assert seat is not None and dispatcher is not None
    ann, bob = bot.enrol("Ann"), bot.enrol("Bob")
    mine, theirs = (ann, bob) if ann.chat_id % 2 == 0 else (bob, ann)
    # What a heartbeat reads when another process has joined: this one is the first of two.
    seat._apply(Share(index=0, count=2))
    assert dispatcher.pacer.rate == 10

    queue(bot, [mine, theirs], "Stay indoors", key="alert:9", priority=Priority.CRITICAL)
    await bot.fake.await_for(lambda f: len(f.messages_to(mine.chat_id)) == 1)
    with session_scope(bot.engine) as session:
        waiting = session.exec(
            select(Delivery.status).where(col(Delivery.chat_id) == theirs.chat_id)
        ).one()
    assert waiting == DeliveryStatus.PENDING.value  # the other process's chat
    assert bot.fake.messages_to(theirs.chat_id) == []

    # The other process is gone: this one takes all of it back.
    seat._apply(Share(index=0, count=1))
    dispatcher.wake()
    await bot.fake.await_for(lambda f: len(f.messages_to(theirs.chat_id)) == 1)
    assert dispatcher.pacer.rate == 20


async def test_a_process_holds_off_while_telegram_asked_another_to_wait(
    bot: RunningBot, one_process: None
) -> None:
    seat, dispatcher = bot.services.seat, bot.services.dispatcher
    assert seat is not None and dispatcher is not None
    kim = bot.enrol("Kim")
    # Less than a second: every wait Telegram asks for is kept, however short.
    seat._apply(Share(index=0, count=1, flooded_until=utcnow() + timedelta(seconds=0.9)))
    asked = time.monotonic()
    queue(bot, [kim], "Curfew at 23:00", key="alert:10", priority=Priority.CRITICAL)
    await bot.fake.await_for(lambda f: len(f.messages_to(kim.chat_id)) == 1)
    assert time.monotonic() - asked >= 0.7


async def test_a_429_here_is_passed_on_for_the_others_to_wait_out_as_long(
    bot: RunningBot, one_process: None
) -> None:
    """A card's step, as any message at the free rate: the others hold their free sends."""
    seat = bot.services.seat
    assert seat is not None
    kim = bot.enrol("Kim")
    bot.fake.fail_next(
        "sendMessage", status=429, description="Too Many Requests: retry after 1", retry_after=1
    )
    asked = utcnow()
    with session_scope(bot.engine) as session:
        cards.show(
            session, staff_id=kim.id or 0, chat_id=kim.chat_id, country="KZ", text="KZ", now=asked
        )
    bot.services.wake_dispatcher()
    await bot.fake.await_for(lambda f: len(f.messages_to(kim.chat_id)) == 1)
    until = seat._flooded_until
    assert until is not None and asked + timedelta(seconds=1) <= until <= utcnow()
    assert seat._paid_flooded_until is None


async def test_a_429_to_a_paid_broadcast_is_passed_on_as_paid(
    paying: RunningBot, one_process: None
) -> None:
    seat, fake = paying.services.seat, paying.fake
    assert seat is not None
    kim = paying.enrol("Kim")
    fake.fail_next(
        "sendMessage", status=429, description="Too Many Requests: retry after 1", retry_after=1
    )
    asked = utcnow()
    queue(
        paying,
        [kim],
        "Are you safe?",
        key="rollcall:1",
        priority=Priority.CRITICAL,
        kind=DeliveryKind.ROLLCALL_QUESTION,
    )
    await fake.await_for(lambda f: len(f.messages_to(kim.chat_id)) == 1)
    until = seat._paid_flooded_until
    assert until is not None and asked + timedelta(seconds=1) <= until <= utcnow()
    assert seat._flooded_until is None
    assert fake.messages_to(kim.chat_id)[0].paid


async def test_a_process_given_half_the_work_claims_half_as_much_at_a_time(
    bot: RunningBot, one_process: None
) -> None:
    # What a crash could repeat is what one claim took: half a second at this process's
    # part of the rate (half of 20 a second: 5), and never fewer than 8 rows.
    seat = bot.services.seat
    assert seat is not None
    seat._apply(Share(index=0, count=2))
    people = [bot.enrol(f"Person {n}") for n in range(40)]
    mine = [p for p in people if p.chat_id % 2 == 0]
    bot.fake.slow("sendMessage", 1.0)  # the first claim's messages are all under way
    queue(bot, mine, "Stay indoors", key="alert:11", priority=Priority.CRITICAL)
    await bot.fake.await_for(lambda f: [m for m, _ in f.calls].count("sendMessage") >= 1)
    with session_scope(bot.engine) as session:
        claimed = session.exec(
            select(Delivery.id).where(col(Delivery.status) == DeliveryStatus.SENDING.value)
        ).all()
    assert len(claimed) == 8
    bot.fake.slow("sendMessage", 0.0)


async def test_with_paid_broadcasts_each_process_keeps_to_its_part_of_the_paid_rate(
    paying: RunningBot, one_process: None
) -> None:
    seat, budget = paying.services.seat, SendBudget.of(paying.application.bot)
    assert seat is not None and budget.paid_pacer is not None
    seat._apply(Share(index=1, count=4))
    assert budget.paid_pacer.rate == PAID_RATE / 4
    seat._apply(Share(index=0, count=1))
    assert budget.paid_pacer.rate == PAID_RATE


async def test_waiting_for_the_dispatcher_to_look_gives_up_after_the_time_given(
    bot: RunningBot,
) -> None:
    dispatcher = bot.services.dispatcher
    assert dispatcher is not None
    await dispatcher.stop()  # it will not claim anything any more
    started = time.monotonic()
    await asyncio.wait_for(dispatcher.looked(within=0.2), timeout=10)
    assert time.monotonic() - started >= 0.15
