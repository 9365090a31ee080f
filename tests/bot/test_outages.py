"""Outages the bot must ride out: the database gone for a while, Telegram failing for a
while, and every kind of broken feed during a broadcast. The full-length versions, with
the real process and a PostgreSQL that is stopped and started, are `make drill`."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from bot import feeds
from bot.app import ERROR_TEXT
from bot.render import split_html
from bot.rollcall import jobs as rollcall
from bot.settings import BotSettings
from bot.sim.feeds import feed_server
from bot.sim.silent import SilentHost
from bot.sim.telegram.server import FakeTelegram
from db import deliveries, sources
from db.deliveries import Recipient
from db.engine import make_engine, session_scope
from db.models import Delivery, DeliveryKind, DeliveryStatus, Priority, Role, Source, Staff
from tests.harness import MutableClock, RunningBot, running_bot
from tests.schedules.sources.samples import StateItem, state_feed


@pytest.fixture
def settings(settings: BotSettings) -> BotSettings:
    # Slow enough that a broadcast to a few dozen people is still going when the fault hits.
    settings.send_rate_per_second = 20
    return settings


@contextmanager
def database_outage(engine: Engine) -> Iterator[None]:
    """The database goes away until the block ends.

    PostgreSQL for real: the database refuses new connections and the open ones are cut.
    SQLite has no server to stop, so every statement fails as a broken disk would.
    """
    if engine.dialect.name == "postgresql":
        name = engine.url.database
        admin = create_engine(engine.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
        try:
            yield
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))
            admin.dispose()
        return

    def disk_error(*_args: Any) -> None:
        raise OperationalError("(disk)", None, sqlite3.OperationalError("disk I/O error"))

    event.listen(engine, "before_cursor_execute", disk_error)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", disk_error)


def _broadcast(bot: RunningBot, people: list[Staff], text: str) -> None:
    with session_scope(bot.engine) as session:
        deliveries.enqueue(
            session,
            kind=DeliveryKind.BROADCAST,
            dedupe_key=f"drill:{text}",
            recipients=[Recipient(p.id or 0, p.chat_id) for p in people],
            parts=split_html("", text),
            priority=Priority.NORMAL,
            now=bot.clock(),
        )
    bot.services.wake_dispatcher()


def _rows(bot: RunningBot) -> list[Delivery]:
    with session_scope(bot.engine) as session:
        return list(session.exec(select(Delivery)).all())


async def _until_settled(bot: RunningBot, *, step_seconds: float = 0) -> None:
    """Wait until every row has its outcome; a step moves the clock past retry backoffs."""
    for _ in range(1500):
        if all(r.status not in ("pending", "sending") for r in _rows(bot)):
            return
        bot.clock.advance(seconds=step_seconds)
        bot.services.wake_dispatcher()
        await asyncio.sleep(0.02)
    raise AssertionError(f"still waiting: {Counter(r.status for r in _rows(bot))}")


def _copies(bot: RunningBot, people: list[Staff], text: str) -> Counter[int]:
    chats = {p.chat_id for p in people}
    return Counter(m.chat_id for m in bot.fake.sent if m.chat_id in chats and m.text == text)


def _messages(caplog: pytest.LogCaptureFixture, fragment: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if fragment in r.getMessage()]


async def test_a_database_outage_pauses_sending_and_then_every_outcome_is_recorded(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    people = [bot.enrol(f"P{n}", countries=("KZ",)) for n in range(60)]
    _broadcast(bot, people, "Stay indoors")
    await bot.fake.await_for(lambda f: len(f.sent) >= 10)

    with database_outage(bot.engine):
        before = sum(_copies(bot, people, "Stay indoors").values())
        await bot.fake.await_for(
            lambda f: bool(_messages(caplog, "database unavailable; sending paused"))
        )
        # The bot keeps answering, though it cannot look anyone up.
        reply = await bot.say(people[0].telegram_user_id, "/subscriptions")
        assert "something went wrong" in reply
        reply = await bot.say(people[1].telegram_user_id, "/subscriptions")
        assert "something went wrong" in reply
        during = sum(_copies(bot, people, "Stay indoors").values())
        # Only what was already on its way to Telegram when the database went.
        assert during - before <= bot.services.settings.send_max_in_flight

    await _until_settled(bot)
    assert "Kazakhstan" in await bot.say(people[0].telegram_user_id, "/subscriptions")
    copies = _copies(bot, people, "Stay indoors")
    assert set(copies) == {p.chat_id for p in people} and set(copies.values()) == {1}
    assert {r.status for r in _rows(bot)} == {DeliveryStatus.SENT.value}
    assert len(_messages(caplog, "database unavailable; sending paused")) == 1
    assert len(_messages(caplog, "database available again")) == 1
    assert not _messages(caplog, "could not record the outcome")


async def test_a_reminder_due_during_a_database_outage_goes_out_after_it(
    bot: RunningBot,
) -> None:
    lena = bot.enrol("Lena Lead", role=Role.LEAD)
    assert "You now lead" in await bot.say(lena.telegram_user_id, "/lead KZ")
    sid = bot.enrol("Sid Silent", countries=("KZ",))
    await bot.say(lena.telegram_user_id, "/checkin KZ Are you safe? 90m")
    await bot.fake.await_for(lambda f: len(f.messages_to(sid.chat_id)) == 1)
    jobs = bot.application.job_queue
    assert jobs is not None
    (reminder,) = [j for j in jobs.jobs() if (j.name or "").startswith(rollcall.REMIND_JOB)]

    bot.clock.advance(minutes=30)  # the first reminder is due
    with database_outage(bot.engine):
        await reminder.run(bot.application)
        for _ in range(500):  # errors are handled in a task of their own
            if len(jobs.get_jobs_by_name(reminder.name or "")) > 1:
                break
            await asyncio.sleep(0.01)
    planned = sorted(jobs.get_jobs_by_name(reminder.name or ""), key=lambda j: j.next_t or 0)
    assert len(planned) == 2, "the failed reminder was not planned again"
    assert len(bot.fake.messages_to(sid.chat_id)) == 1

    await planned[0].run(bot.application)  # its retry, without waiting for it
    await bot.fake.await_for(lambda f: len(f.messages_to(sid.chat_id)) == 2)
    assert "reminder" in bot.fake.messages_to(sid.chat_id)[1].text.lower()


async def test_telegram_failing_for_a_while_loses_nothing_and_backs_off(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    people = [bot.enrol(f"P{n}", countries=("KZ",)) for n in range(30)]
    bot.fake.fail_for("sendMessage", 1.0)  # 502 Bad Gateway for a second
    _broadcast(bot, people, "Stay indoors")
    await bot.fake.await_for(lambda f: not f.in_outage("sendMessage"))
    await _until_settled(bot, step_seconds=30)

    copies = _copies(bot, people, "Stay indoors")
    assert set(copies) == {p.chat_id for p in people} and set(copies.values()) == {1}
    rows = _rows(bot)
    assert {r.status for r in rows} == {DeliveryStatus.SENT.value}
    assert bot.fake.outage_answers > 0 and max(r.attempts for r in rows) > 1
    retries = _messages(caplog, "retrying in")
    assert retries and all("Bad Gateway" in line for line in retries)


CALM = StateItem(
    title="Kazakhstan - Level 1: Exercise Normal Precautions",
    description="<p>Exercise normal precautions in Kazakhstan.</p>",
    tag="KZ",
    slug="kazakhstan",
)
BAD_FEEDS: dict[str, tuple[bytes, dict[str, Any]]] = {
    "error": (b"oops", {"status": 500}),
    "timeout": (state_feed(CALM), {"delay": 2.0}),
    "oversize": (b"<rss>" + b" " * 2_000_000, {}),
    "html": (b"<!doctype html><html><body>Log in</body></html>", {"content_type": "text/html"}),
    "garbage": (bytes(range(256)) * 10, {}),
    "empty": (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>',
        {},
    ),
}


async def test_broken_feeds_during_a_broadcast_change_no_delivery(bot: RunningBot) -> None:
    bot.services.settings.feed_timeout_seconds = 0.5
    bot.services.settings.feed_max_bytes = 100_000
    people = [bot.enrol(f"P{n}", countries=("KZ",)) for n in range(40)]
    with feed_server() as server:
        ids = {}
        for name, (body, options) in BAD_FEEDS.items():
            server.serve(f"/{name}.xml", body, **options)
            with session_scope(bot.engine) as session:
                added = sources.add(
                    session, kind="rss", url=server.url(f"/{name}.xml"), country="KZ"
                )
                assert added is not None and added.id is not None
                ids[name] = added.id
        _broadcast(bot, people, "Stay indoors")
        polls = 0
        while polls < 2 * len(ids) or sum(_copies(bot, people, "Stay indoors").values()) < len(
            people
        ):
            for source_id in ids.values():
                await feeds.poll_source(bot.services, source_id)
                polls += 1
            bot.clock.advance(minutes=31)  # past each source's backoff
        await _until_settled(bot)

    assert polls >= 2 * len(BAD_FEEDS)
    copies = _copies(bot, people, "Stay indoors")
    assert set(copies) == {p.chat_id for p in people} and set(copies.values()) == {1}
    assert {r.status for r in _rows(bot)} == {DeliveryStatus.SENT.value}
    with session_scope(bot.engine) as session:
        failing = {s.id: s.last_error for s in session.exec(select(Source)).all()}
    for name, source_id in ids.items():
        assert failing[source_id], f"the {name} feed was not recorded as failing"


async def test_a_graceful_stop_records_what_telegram_accepted_while_the_database_was_down(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.dispatcher")
    sam = bot.enrol("Sam", countries=("KZ",))
    bot.fake.slow("sendMessage", 2.0)  # Telegram takes its time to accept it
    _broadcast(bot, [sam], "Stay indoors")
    await bot.fake.await_for(lambda f: any(method == "sendMessage" for method, _ in f.calls))
    (row,) = _rows(bot)
    with database_outage(bot.engine):
        # Telegram accepts the message while the bot cannot record it.
        await bot.fake.await_for(lambda _: bool(_messages(caplog, f"delivery {row.id}: sent")))
    dispatcher = bot.services.dispatcher
    assert dispatcher is not None
    await dispatcher.stop()

    (stored,) = _rows(bot)
    (accepted,) = bot.fake.messages_to(sam.chat_id)
    assert stored.status == DeliveryStatus.SENT.value
    assert stored.telegram_message_id == accepted.message_id


async def test_telegrams_refusals_during_a_database_outage_are_acted_on_once_it_is_back(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.dispatcher")
    lena = bot.enrol("Lena Lead", role=Role.LEAD, countries=("KZ",), answers_for=("KZ",))
    gus, fay = (bot.enrol(name, countries=("KZ",)) for name in ("Gus", "Fay"))
    bot.fake.block(gus.chat_id)
    bot.fake.slow("sendMessage", 2.0, count=2)  # both are with Telegram when it goes
    _broadcast(bot, [gus, fay], "Stay indoors")
    await bot.fake.await_for(lambda f: [m for m, _ in f.calls].count("sendMessage") == 2)
    ids = {r.staff_id: r.id for r in _rows(bot)}
    answered = [
        f"delivery {ids[gus.id or 0]}: staff {gus.id} is unreachable",
        f"delivery {ids[fay.id or 0]}: sent",
    ]

    def logged(_: FakeTelegram) -> bool:
        return all(_messages(caplog, line) for line in answered)

    with database_outage(bot.engine):
        # Telegram answers both while nothing can be recorded.
        await bot.fake.await_for(logged)

    await _until_settled(bot)
    statuses = {r.staff_id: r.status for r in _rows(bot)}
    assert statuses == {
        gus.id: DeliveryStatus.UNREACHABLE.value,
        fay.id: DeliveryStatus.SENT.value,
        lena.id: DeliveryStatus.SENT.value,  # told that Gus can no longer be reached
    }
    (notice,) = bot.fake.messages_to(lena.chat_id)
    assert notice.text.startswith(
        f'⚠️ <b><a href="tg://user?id={gus.telegram_user_id}">Gus</a> (@gus) can no longer be '
        "reached on Telegram.</b>"
    )
    assert _copies(bot, [fay], "Stay indoors") == {fay.chat_id: 1}


async def test_during_an_outage_a_person_is_told_once_a_minute_that_something_went_wrong(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    sam = bot.enrol("Sam Staff")

    def failures() -> int:
        return len(_messages(caplog, "database unavailable while handling an update"))

    with database_outage(bot.engine):
        assert await bot.say(sam.telegram_user_id, "/subscriptions") == ERROR_TEXT
        for _ in range(3):
            bot.fake.inject_message(sam.telegram_user_id, "/subscriptions")
        await bot.fake.await_for(lambda _: failures() == 4)
        await bot.settled()
        assert [m.text for m in bot.fake.messages_to(sam.chat_id)] == [ERROR_TEXT]
        bot.clock.advance(minutes=1)
        assert await bot.say(sam.telegram_user_id, "/subscriptions") == ERROR_TEXT


async def test_a_database_host_that_falls_silent_costs_answers_seconds_and_loses_nothing(
    settings: BotSettings, engine: Engine, fake: FakeTelegram, clock: MutableClock
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("a database host to fall silent needs PostgreSQL (TEST_DATABASE_URL)")
    url = engine.url
    with SilentHost((url.host or "127.0.0.1", url.port or 5432)) as host:
        relayed = make_engine(host.relayed(url), timeout=2)
        async with running_bot(settings, engine=relayed, fake=fake, clock=clock) as bot:
            lena = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
            sam = bot.enrol("Sam Staff", countries=("KZ",))
            host.silence()
            # Every wait on the database ends within seconds: people hear that something
            # went wrong instead of nothing at all.
            before = len(fake.messages_to(sam.chat_id))
            fake.inject_message(sam.telegram_user_id, "/help_me at the airport, road blocked")
            await fake.await_for(lambda f: len(f.messages_to(sam.chat_id)) > before, timeout=60)
            assert "something went wrong" in fake.messages_to(sam.chat_id)[before].text
            host.speak()
            await fake.await_for(lambda _f: _answers(relayed), timeout=60)
            # Back: the same call for help goes through and reaches the lead.
            reply = await bot.say(sam.telegram_user_id, "/help_me at the airport, road blocked")
            assert "something went wrong" not in reply
            await fake.await_for(
                lambda f: any("road blocked" in m.text for m in f.messages_to(lena.chat_id)),
                timeout=60,
            )
        relayed.dispose()


def _answers(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError:
        return False
    return True
