"""Running the Kazakhstan replay: the real bot on a scripted clock, and the script's helpers.

The real application (`build_application`) runs in this process against the simulated
Bot API and a simulated feed server, both on 127.0.0.1: no token, no network.

How the clock is accelerated without bending the bot:
- The clock is injected, as in production, so every domain decision reads scripted time.
- Scheduler jobs run on real time. After each jump the bot's time-driven jobs are planned
  again from the database, as at start-up, and the script jumps to a moment just before
  the next one is due; the real job queue then runs it a second or two later.
- Feed polls are the bot's own polling jobs (planned at start-up, kept from firing on
  their timer), run at the moment a feed has news.
- Before each jump the script waits until every queued message has been sent, so each
  message is dated by the moment the simulated Telegram accepted it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from telegram.ext import Application, JobQueue

from bot import feeds
from bot.app import build_application
from bot.curfews.jobs import plan_curfew_jobs
from bot.demo.news import EMBASSY_PATH, STATE_PATH
from bot.demo.people import PEOPLE, Person, almaty
from bot.demo.transcript import Entry, Transcript, first_line, shown, transcript_of
from bot.rollcall import jobs as rollcall
from bot.rollcall import live
from bot.settings import BotSettings
from bot.sim.feeds import FeedServer
from bot.sim.telegram.server import FakeTelegram
from bot.sim.telegram.state import SentMessage
from db import sources, staff
from db.engine import session_scope
from db.migrations import create_schema
from db.models import Delivery, DeliveryStatus

# Roll calls in the replay: an hour to answer, a reminder after half an hour.
DEADLINE_MINUTES = 60
REMINDER_MINUTES = 30
# Jump to this long before a job is due, and let the real job queue run it.
LEAD_IN = timedelta(seconds=0.5)
# How often live rolls are brought up to date; and how long the outbox must be empty and
# nothing sent or edited (with a live-roll update run since) for the bot to count as idle.
ROLL_UPDATE_SECONDS = 0.25
QUIET_SECONDS = 0.35
WAIT_SECONDS = 30.0


class ReplayClock:
    """The bot's clock: a scripted instant plus the real time elapsed since it was set.

    Every setting is kept, so that a moment on the monotonic clock (when the simulated
    Telegram accepted a message) can be given the time the bot believed it was.
    """

    def __init__(self, start: datetime) -> None:
        self._marks: list[tuple[float, datetime]] = [(time.monotonic(), start)]

    def __call__(self) -> datetime:
        return self.at(time.monotonic())

    def set(self, instant: datetime) -> None:
        self._marks.append((time.monotonic(), instant))

    def at(self, monotonic: float) -> datetime:
        mark, instant = self._marks[0]
        for candidate, candidate_instant in self._marks:
            if candidate <= monotonic:
                mark, instant = candidate, candidate_instant
        return instant + timedelta(seconds=monotonic - mark)


class Replay:
    """The running bot, the simulators and the script's helpers."""

    def __init__(
        self,
        *,
        application: Application,  # type: ignore[type-arg]
        fake: FakeTelegram,
        feed: FeedServer,
        engine: Engine,
        clock: ReplayClock,
        source_ids: dict[str, int],
    ) -> None:
        self.application = application
        self.fake = fake
        self.feed = feed
        self.engine = engine
        self.clock = clock
        self.source_ids = source_ids
        self._own: list[Entry] = []  # scenes, actions and pop-ups, recorded as they happen

    @property
    def jobs(self) -> JobQueue:  # type: ignore[type-arg]
        jobs = self.application.job_queue
        assert jobs is not None
        return jobs

    # -- time ----------------------------------------------------------------------------
    async def scene(self, instant: datetime, heading: str) -> None:
        """Let the last scene finish, then move the clock to `instant` and say what happens."""
        await self.settle()
        self.clock.set(instant)
        self._replan()
        self._own.append(Entry(at=instant, order=time.monotonic(), kind="scene", text=heading))

    async def skip_to(self, instant: datetime) -> None:
        """Move the clock on within a scene (after what is under way has finished)."""
        await self.settle()
        self.clock.set(instant)
        self._replan()

    async def until_job_runs(self, due: datetime, done: Callable[[], bool]) -> None:
        """Jump to just before `due`; the bot's own scheduled job does the rest, on time."""
        await self.skip_to(due - LEAD_IN)
        await self._wait(done, f"the job due at {due:%d %b %H:%M} UTC")

    def _replan(self) -> None:
        """Plan the time-driven jobs again from the database, as at start-up: a jump in the
        clock is to the scheduler what a restart is."""
        for job in self.jobs.jobs():
            if (job.name or "").startswith((rollcall.REMIND_JOB, rollcall.DEADLINE_JOB)):
                job.schedule_removal()
        rollcall.plan_round_jobs(self.application)
        plan_curfew_jobs(self.application)

    async def settle(self) -> None:
        """Wait until the outbox has been empty, and nothing sent or edited, for a moment,
        and the live rolls' periodic update has run since (it edits what changed)."""
        (rolls,) = self.jobs.get_jobs_by_name(rollcall.ROLLS_JOB)
        last = (-1, -1, -1)
        quiet_since = time.monotonic()
        tick_then = rolls.next_t
        deadline = quiet_since + WAIT_SECONDS
        while True:
            now = time.monotonic()
            activity = (len(self.fake.sent), len(self.fake.edits), len(self.fake.callback_answers))
            if activity != last or not self._idle():
                last, quiet_since, tick_then = activity, now, rolls.next_t
            elif now - quiet_since >= QUIET_SECONDS and rolls.next_t != tick_then:
                return
            if now > deadline:
                raise TimeoutError("the bot did not settle; see the log above")
            await asyncio.sleep(0.02)

    def _idle(self) -> bool:
        """Nothing in the outbox and no catch-up edit of a live roll planned."""
        if any((job.name or "").startswith(live.ROLL_JOB) for job in self.jobs.jobs()):
            return False
        waiting = (DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value)
        with session_scope(self.engine) as session:
            count = session.exec(
                select(func.count()).select_from(Delivery).where(col(Delivery.status).in_(waiting))
            ).one()
        return int(count) == 0

    async def _wait(self, done: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while not done():
            if time.monotonic() > deadline:
                raise TimeoutError(f"gave up waiting for {what}")
            await asyncio.sleep(0.02)

    # -- the outside world ---------------------------------------------------------------
    async def publish(self, source: str, path: str, body: bytes) -> None:
        """A feed publishes; the bot's polling job for it runs now."""
        self.feed.serve(path, body)
        (job,) = self.jobs.get_jobs_by_name(feeds.job_name(self.source_ids[source]))
        await job.run(self.application)

    def _act(self, person: Person, text: str) -> None:
        self._own.append(
            Entry(
                at=self.clock(), order=time.monotonic(), kind="action", people=(person,), text=text
            )
        )

    async def say(self, person: Person, text: str, *, photo: bool = False) -> None:
        """The person sends `text` to the bot (as a photo's caption with `photo`); returns
        once the bot has answered."""
        before = len(self.fake.messages_to(person.telegram_id))
        self._act(person, f"sends a photo: {text}" if photo else f"sends: {text}")
        self.fake.inject_message(
            person.telegram_id,
            "" if photo else text,
            first_name=person.name,
            username=person.username,
            media="photo" if photo else None,
            caption=text if photo else None,
        )
        await self._wait(
            lambda: len(self.fake.messages_to(person.telegram_id)) > before,
            f"the reply to {person.first}'s {text!r}",
        )

    async def share_location(self, person: Person, latitude: float, longitude: float) -> None:
        before = len(self.fake.messages_to(person.telegram_id))
        self._act(person, f"shares a location: {latitude:.5f}, {longitude:.5f}")
        self.fake.inject_message(
            person.telegram_id,
            "",
            first_name=person.name,
            username=person.username,
            location=(latitude, longitude),
        )
        await self._wait(
            lambda: len(self.fake.messages_to(person.telegram_id)) > before,
            f"the reply to {person.first}'s location",
        )

    async def press(self, person: Person, button: str, *, on: str) -> None:
        """The person presses `button` on the latest message to them that contains `on`."""
        message = self._latest(person, on)
        markup = self.fake.current_markup(person.telegram_id, message.message_id)
        data = next(
            (
                str(b["callback_data"])
                for row in (markup or {}).get("inline_keyboard", [])
                for b in row
                if b.get("text") == button
            ),
            None,
        )
        if data is None:
            raise LookupError(f"no button {button!r} on {person.first}'s message {on!r}")
        self._act(person, f"presses [ {button} ] on “{first_line(message)}”")
        query_id = self.fake.inject_callback(
            person.telegram_id,
            chat_id=person.telegram_id,
            message_id=message.message_id,
            data=data,
            first_name=person.name,
            username=person.username,
        )
        answer: list[dict[str, Any]] = []

        def answered() -> bool:
            answer[:] = [
                a for a in self.fake.callback_answers if a.get("callback_query_id") == query_id
            ]
            return bool(answer)

        await self._wait(answered, f"the answer to {person.first}'s press on {button!r}")
        if answer[0].get("text"):
            self._own.append(
                Entry(
                    at=self.clock(),
                    order=time.monotonic(),
                    kind="popup",
                    people=(person,),
                    text=str(answer[0]["text"]),
                )
            )

    def _latest(self, person: Person, containing: str) -> SentMessage:
        for message in reversed(self.fake.messages_to(person.telegram_id)):
            if containing in shown(message.text, message.parse_mode):
                return message
        raise LookupError(f"{person.first} has no message containing {containing!r}")

    # -- the story as the simulated Telegram saw it ---------------------------------------
    def transcript(self) -> Transcript:
        return transcript_of(self._own, self.fake, self.clock.at)


def demo_settings(fake: FakeTelegram, database_url: str) -> BotSettings:
    """Everything the replay depends on is set here, so that no .env or environment
    variable can change the story (or send it to a real Telegram)."""
    return BotSettings(
        _env_file=None,
        telegram_bot_token=FakeTelegram.TOKEN,
        telegram_base_url=fake.base_url,
        database_url=database_url,
        admin_telegram_ids=[],
        feeds_enabled=True,
        feed_proxy=None,
        auto_checkin_on_departure=True,
        checkin_reminder_minutes=REMINDER_MINUTES,
        checkin_default_deadline_minutes=DEADLINE_MINUTES,
        roll_update_seconds=ROLL_UPDATE_SECONDS,
        health_port=0,  # no /healthz: the replay must not need a free port
    )


def _prepare_database(engine: Engine, feed: FeedServer) -> dict[str, int]:
    """The four people, and the two feeds served by the simulator instead of the real ones."""
    create_schema(engine)
    with session_scope(engine) as session:
        for existing in sources.every(session):
            sources.remove(session, source_id=existing.id or 0)
        for person in PEOPLE:
            staff.enrol(
                session,
                telegram_user_id=person.telegram_id,
                chat_id=person.telegram_id,
                display_name=person.name,
                username=person.username,
                role=person.role,
            )
        state = sources.add(session, kind="us-state", url=feed.url(STATE_PATH), country=None)
        embassy = sources.add(session, kind="us-embassy", url=feed.url(EMBASSY_PATH), country="KZ")
        assert state is not None and embassy is not None
        return {"state": state.id or 0, "embassy": embassy.id or 0}


@asynccontextmanager
async def running(
    engine: Engine, *, fake: FakeTelegram, feed: FeedServer, database_url: str
) -> AsyncIterator[Replay]:
    """Start and stop the application in the same order as `Application.run_polling`."""
    clock = ReplayClock(almaty(2, 9, 0))
    source_ids = _prepare_database(engine, feed)
    settings = demo_settings(fake, database_url)
    application = build_application(settings, engine=engine, clock=clock)
    await application.initialize()
    assert application.post_init is not None and application.updater is not None
    await application.post_init(application)
    jobs = application.job_queue
    assert jobs is not None
    for job in jobs.jobs():
        if (job.name or "").startswith("poll:"):
            job.enabled = False  # the script runs each poll when its feed has news
    await application.updater.start_polling(poll_interval=0.0, timeout=1)
    await application.start()
    try:
        yield Replay(
            application=application,
            fake=fake,
            feed=feed,
            engine=engine,
            clock=clock,
            source_ids=source_ids,
        )
    finally:
        await application.updater.stop()
        await application.stop()
        assert application.post_stop is not None
        await application.post_stop(application)
        await application.shutdown()
