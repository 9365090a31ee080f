"""Drive the real Application against the fake Bot API, the way `dutybot run` does."""

from __future__ import annotations

import asyncio
import itertools
import socket
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from telegram.ext import Application

from bot.app import build_application
from bot.context import SERVICES_KEY, Services
from bot.render import split_html
from bot.settings import BotSettings
from bot.sim.telegram.server import FakeTelegram
from db import checkins, deliveries, leads, staff, subscriptions, whereabouts
from db.checkins import CheckIn, RollCall, RollCallAnswer
from db.deliveries import Recipient
from db.engine import session_scope
from db.models import CountryCard, Delivery, DeliveryKind, Priority, Role, Staff, Trip

ADMIN_ID = 1_000_000_001
# How a country card begins (bot/cards/texts.py): `say` looks such messages up.
CARD_MARK = "📌 "
_ids = itertools.count(5_000_000_000)  # above 2**32: Telegram ids are 64-bit


def free_ports(count: int) -> list[int]:
    """Ports free right now on 127.0.0.1, all different."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


def until_listening(port: int, *, timeout: float = 60.0) -> None:
    """Wait until something accepts connections on 127.0.0.1:`port` (a process started by
    a test binds its ports a little after it says it is up, later on a loaded machine)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class PacerTime:
    """A pacer's clock (time.monotonic's stand-in) that moves only when the pacer sleeps
    or the test says so: how far it went is how much of the budget was spent, whatever
    the machine's load."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


class MutableClock:
    """Real time plus an offset that tests move forward instead of sleeping."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **kwargs: float) -> None:
        self.offset += timedelta(**kwargs)

    def set(self, instant: datetime) -> None:
        """Jump to `instant` (aware); time keeps running from there."""
        self.offset = instant - datetime.now(UTC)


@dataclass
class RunningBot:
    application: Application  # type: ignore[type-arg]
    fake: FakeTelegram
    engine: Engine
    clock: MutableClock
    people: dict[str, Staff] = field(default_factory=dict)

    @property
    def services(self) -> Services:
        return self.application.bot_data[SERVICES_KEY]  # type: ignore[no-any-return]

    def _identity(self, user_id: int, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Known people write under their own names, as they would on Telegram."""
        for person in self.people.values():
            if person.telegram_user_id == user_id:
                kwargs.setdefault("first_name", person.display_name)
                kwargs.setdefault("username", person.username)
        return kwargs

    async def say(self, user_id: int, text: str, **kwargs: Any) -> str:
        """Send a message as a user and wait for the bot's reply to it; return the reply.

        A country card the outbox sends meanwhile (following a country gives one) is not
        the reply: it may arrive before or after it."""
        before = len(self.fake.messages_to(user_id))
        self.fake.inject_message(user_id, text, **self._identity(user_id, kwargs))
        replies: list[str] = []

        def replied(fake: FakeTelegram) -> bool:
            replies[:] = [
                m.text
                for m in fake.messages_to(user_id)[before:]
                if not self._is_card(user_id, m.text)
            ]
            return bool(replies)

        await self.fake.await_for(replied)
        return replies[0]

    def _is_card(self, chat_id: int, text: str) -> bool:
        if not text.startswith(CARD_MARK):
            return False
        with session_scope(self.engine) as session:
            found = session.exec(
                select(CountryCard.id).where(
                    CountryCard.chat_id == chat_id,
                    or_(col(CountryCard.text) == text, col(CountryCard.shown_text) == text),
                )
            ).first()
        return found is not None

    async def settled(self) -> None:
        """Wait until the bot has fetched and finished every update sent so far."""
        application = self.application
        deadline = time.monotonic() + FakeTelegram.WAIT_SECONDS
        while time.monotonic() < deadline:
            busy = application.update_processor.current_concurrent_updates
            if not self.fake._updates and busy == 0 and application.update_queue.empty():
                return
            await asyncio.sleep(0.01)
        raise TimeoutError("the bot did not finish handling its updates")

    def press(self, user_id: int, *, chat_id: int, message_id: int, data: str) -> None:
        self.fake.inject_callback(
            user_id,
            chat_id=chat_id,
            message_id=message_id,
            data=data,
            **self._identity(user_id, {}),
        )

    def enrol(
        self,
        name: str,
        *,
        role: Role = Role.STAFF,
        countries: tuple[str, ...] = (),
        answers_for: tuple[str, ...] = (),
    ) -> Staff:
        """A person enrolled straight into the database (the invite path has its own tests),
        following `countries`; a lead answering for `answers_for` as after `/lead`."""
        user_id = next(_ids)
        with session_scope(self.engine) as session:
            person = staff.enrol(
                session,
                telegram_user_id=user_id,
                chat_id=user_id,
                display_name=name,
                username=name.lower().replace(" ", "_"),
                role=role,
            )
            for country in countries:
                subscriptions.subscribe(session, staff_id=person.id or 0, country=country)
            for country in answers_for:
                leads.lead(session, staff_id=person.id or 0, country=country)
        self.people[name] = person
        return person


_people = itertools.count(9_000_000_000)


def person(session: Session, name: str, role: Role = Role.STAFF) -> Staff:
    """Someone enrolled straight into the database, their username their name."""
    user_id = next(_people)
    return staff.enrol(
        session,
        telegram_user_id=user_id,
        chat_id=user_id,
        display_name=name,
        username=name.lower(),
        role=role,
    )


def a_trip(
    session: Session,
    who: Staff,
    country: str,
    *,
    starts: datetime,
    ends: datetime,
    ended: datetime | None = None,
) -> Trip:
    """A trip written straight into the database, from `starts` to `ends` (its last day
    the day before), cut short at `ended` if given."""
    trip = Trip(
        staff_id=who.id or 0,
        country=country,
        zone="Asia/Almaty",
        first_day=starts.date(),
        last_day=(ends - timedelta(days=1)).date(),
        starts_at=starts,
        ends_at=ends,
        ended_at=ended,
    )
    session.add(trip)
    session.flush()
    return trip


def a_location(
    session: Session,
    who: Staff,
    country: str,
    at: datetime,
    *,
    live_until: datetime | None = None,
    live_message_id: int | None = None,
) -> None:
    """A location `who` shared at `at` in `country` (live until `live_until`, if given),
    written straight into the database."""
    whereabouts.record_location(
        session,
        staff_id=who.id or 0,
        latitude=41.31,
        longitude=69.28,
        country=country,
        city="Tashkent",
        zone="Asia/Tashkent",
        now=at,
        live_until=live_until,
        live_message_id=live_message_id,
    )


def a_round(
    session: Session,
    country: str,
    *,
    now: datetime,
    deadline: timedelta = timedelta(hours=2),
    remind_every_minutes: int = 30,
    started_by: Staff | None = None,
) -> RollCall:
    """A roll call for `country` written straight into the database, nobody asked yet."""
    return checkins.create_round(
        session,
        country=country,
        message="Are you safe?",
        started_by_staff_id=started_by.id if started_by else None,
        alert_id=None,
        now=now,
        deadline_at=now + deadline,
        remind_every_minutes=remind_every_minutes,
    )


def queue(
    bot: RunningBot,
    people: Sequence[Staff],
    text: str,
    *,
    key: str,
    priority: Priority,
    kind: DeliveryKind = DeliveryKind.BROADCAST,
    not_before: datetime | None = None,
) -> None:
    """Put `text` in the outbox for `people` (in parts, if long), to go now or from
    `not_before`, and wake the dispatcher."""
    with session_scope(bot.engine) as session:
        deliveries.enqueue(
            session,
            kind=kind,
            dedupe_key=key,
            recipients=[Recipient(p.id or 0, p.chat_id) for p in people],
            parts=split_html("", text),
            priority=priority,
            now=bot.clock(),
            not_before=not_before,
        )
    bot.services.wake_dispatcher()


@asynccontextmanager
async def running_bot(
    settings: BotSettings, *, engine: Engine, fake: FakeTelegram, clock: MutableClock
) -> AsyncIterator[RunningBot]:
    """Start and stop the application in the same order as `Application.run_polling`."""
    application = build_application(settings, engine=engine, clock=clock)
    await application.initialize()
    assert application.post_init is not None
    await application.post_init(application)
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0.0, timeout=1)
    await application.start()
    try:
        yield RunningBot(application=application, fake=fake, engine=engine, clock=clock)
    finally:
        await application.updater.stop()
        await application.stop()
        assert application.post_stop is not None
        await application.post_stop(application)
        await application.shutdown()


# The bot never reads back one person's check-ins or one member's answers in full; tests
# do, to see what was recorded.
def checkins_of(session: Session, *, staff_id: int) -> Sequence[CheckIn]:
    """A person's check-ins, oldest first."""
    return session.exec(
        select(CheckIn).where(CheckIn.staff_id == staff_id).order_by(col(CheckIn.id))
    ).all()


def answers_of(session: Session, *, member_id: int) -> Sequence[RollCallAnswer]:
    """A member's answers, oldest first."""
    return session.exec(
        select(RollCallAnswer)
        .where(RollCallAnswer.member_id == member_id)
        .order_by(col(RollCallAnswer.id))
    ).all()


async def until_recorded(engine: Engine, *, seconds: float | None = None) -> None:
    """Telegram has the messages; wait until the dispatcher has recorded every outcome."""
    bound = FakeTelegram.WAIT_SECONDS if seconds is None else seconds
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        with session_scope(engine) as session:
            busy = session.exec(
                select(Delivery.id).where(col(Delivery.status).in_(["pending", "sending"]))
            ).first()
        if busy is None:
            return
        await asyncio.sleep(0.01)
    with session_scope(engine) as session:
        left = session.exec(
            select(Delivery.dedupe_key, Delivery.staff_id, Delivery.status).where(
                col(Delivery.status).in_(["pending", "sending"])
            )
        ).all()
    raise AssertionError(f"deliveries not recorded after {bound:.0f} s: {left}")
