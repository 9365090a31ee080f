"""`dutybot demo`: a replay of Kazakhstan, January 2022, against simulated Telegram and feeds.

The real application (`build_application`) runs in this process against the simulated
Bot API and a simulated feed server, both on 127.0.0.1: no token, no network. A short
script plays the outside world (the embassy and the State Department publish, people
type and press buttons) on a clock that jumps from one moment of the crisis to the next,
and the transcript shows what each person's Telegram received from the bot, and when,
in Almaty time and UTC.

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
import tempfile
import textwrap
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall_time
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from telegram.ext import Application, JobQueue

from bot import feeds
from bot.app import build_application
from bot.curfews.jobs import plan_curfew_jobs
from bot.rollcall import handlers as rollcall
from bot.rollcall import live
from bot.settings import BotSettings
from bot.sim.feed_samples import EmbassyItem, StateItem, embassy_feed, state_feed
from bot.sim.feeds import FeedServer, feed_server
from bot.sim.telegram.server import FakeTelegram
from bot.sim.telegram.state import SentMessage
from bot.sim.telegram.validation import check_message_text
from db import sources, staff
from db.engine import make_engine, session_scope
from db.migrations import create_schema
from db.models import Delivery, DeliveryStatus, Role
from schedules import zones

ZONE = "Asia/Almaty"
CITY = "Almaty"
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
WIDTH = 92

STATE_PATH = "/_res/rss/TAsTWs.xml"
EMBASSY_PATH = "/category/alert/feed/"


@dataclass(frozen=True)
class Person:
    name: str
    username: str
    role: Role
    telegram_id: int

    @property
    def first(self) -> str:
        return self.name.split()[0]

    @property
    def label(self) -> str:
        return "security lead" if self.role is Role.LEAD else "staff"


AIGERIM = Person("Aigerim Bekova", "aigerim_b", Role.STAFF, 5_100_000_001)
DANIYAR = Person("Daniyar Seitkali", "daniyar_s", Role.STAFF, 5_100_000_002)
TOM = Person("Tom Whitfield", "tom_whitfield", Role.STAFF, 5_100_000_003)
SARAH = Person("Sarah Lindqvist", "sarah_security", Role.LEAD, 5_100_000_004)
PEOPLE = (AIGERIM, DANIYAR, TOM, SARAH)


def almaty(day: int, hour: int, minute: int = 0) -> datetime:
    """An Almaty wall time in January 2022 as a UTC instant, from the tz database."""
    return zones.local_to_utc(ZONE, date(2022, 1, day), wall_time(hour, minute)).utc


# -- what the feeds publish ----------------------------------------------------------------
_ASSISTANCE = (
    "<p><strong>Assistance:</strong></p>"
    "<p>U.S. Embassy Nur-Sultan<br>+7 (7172) 70-21-00<br>ACSAstana@state.gov</p>"
)
EMBASSY_EARLIER = EmbassyItem(
    title="Message for U.S. Citizens – U.S. Mission Kazakhstan (December 20, 2021)",
    content=(
        "<p><strong>Location:</strong> Kazakhstan</p>"
        "<p><strong>Event:</strong> Holiday travel: check your passport and visa before "
        "travelling, and register your trip with the Embassy.</p>" + _ASSISTANCE
    ),
    link="https://kz.usembassy.gov/message-for-u-s-citizens-december-20-2021/",
    guid="https://kz.usembassy.gov/?p=40990",
    pub_date="Mon, 20 Dec 2021 05:00:00 +0000",
)
EMBASSY_PROTESTS = EmbassyItem(
    title="Demonstration Alert – U.S. Mission Kazakhstan (January 2, 2022)",
    content=(
        "<p><strong>Location:</strong> Zhanaozen and Aktau, Mangystau Region</p>"
        "<p><strong>Event:</strong> Large demonstrations against a rise in the price of "
        "liquefied gas began in Zhanaozen on January 2 and have spread to Aktau. Further "
        "demonstrations are possible in other cities, including Almaty and Nur-Sultan.</p>"
        "<p><strong>Actions to Take:</strong></p>"
        "<ul><li>Avoid demonstrations and large crowds.</li>"
        "<li>Monitor local media for updates.</li></ul>" + _ASSISTANCE
    ),
    link="https://kz.usembassy.gov/demonstration-alert-january-2-2022/",
    guid="https://kz.usembassy.gov/?p=41201",
    pub_date="Sun, 02 Jan 2022 13:10:00 +0000",
)
EMBASSY_EMERGENCY = EmbassyItem(
    title="Security Alert – U.S. Mission Kazakhstan (January 5, 2022)",
    content=(
        "<p><strong>Location:</strong> Almaty and Mangystau Region</p>"
        "<p><strong>Event:</strong> The Government of Kazakhstan has declared a state of "
        "emergency in Almaty and Mangystau Region until January 19. A curfew is in force "
        "in Almaty from 23:00 to 07:00 until January 19. Protesters have entered government "
        "buildings in Almaty; mobile and internet services are disrupted.</p>"
        "<p><strong>Actions to Take:</strong></p>"
        "<ul><li>Comply with the curfew.</li><li>Shelter in place if it is safe to do so."
        "</li><li>Keep your phone charged.</li></ul>" + _ASSISTANCE
    ),
    link="https://kz.usembassy.gov/security-alert-january-5-2022/",
    guid="https://kz.usembassy.gov/?p=41234",
    pub_date="Wed, 05 Jan 2022 04:40:00 +0000",
)
STATE_KYRGYZSTAN = StateItem(
    title="Kyrgyzstan - Level 3: Reconsider Travel",
    description="<p>Reconsider travel to Kyrgyzstan due to COVID-19.</p>",
    tag="KG",
    slug="kyrgyzstan",
    pub_date="Mon, 04 Oct 2021",
)
STATE_KAZAKHSTAN_3 = StateItem(
    title="Kazakhstan - Level 3: Reconsider Travel",
    description="<p>Reconsider travel to Kazakhstan due to COVID-19.</p>",
    tag="KZ",
    slug="kazakhstan",
    pub_date="Mon, 04 Oct 2021",
)
STATE_KAZAKHSTAN_4 = StateItem(
    title="Kazakhstan - Level 4: Do Not Travel",
    description=(
        "<p>Do not travel to Kazakhstan due to civil unrest and COVID-19.</p>"
        "<p>On January 6, 2022, the Department of State authorized the voluntary departure "
        "of non-emergency U.S. government employees and family members from U.S. Consulate "
        "General Almaty.</p>"
    ),
    tag="KZ",
    slug="kazakhstan",
    pub_date="Thu, 06 Jan 2022",
)


# -- the transcript ------------------------------------------------------------------------
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


@dataclass(frozen=True)
class Entry:
    """One line of the story: a scene, something a person did, or what their Telegram showed."""

    at: datetime
    order: float  # time.monotonic(): the order things really happened in
    kind: str  # "scene", "action", "popup", "message", "edit"
    people: tuple[Person, ...] = ()
    text: str = ""
    buttons: tuple[str, ...] = ()
    subject: str = ""  # for an edit: the first line of the message edited


@dataclass
class Transcript:
    entries: list[Entry] = field(default_factory=list)

    def received(self, person: Person) -> list[Entry]:
        """What `person`'s Telegram showed: messages and edits, in order."""
        return [e for e in self.entries if e.kind in ("message", "edit") and person in e.people]

    def render(self) -> str:
        lines = [
            "Dutybot replay: Kazakhstan, January 2022",
            "The real bot against a simulated Telegram and simulated official feeds, on this",
            "machine only: no token, no network. Times are Almaty local time (UTC+6 in January",
            "2022, from the time-zone database) and UTC. What each person “sends” or “presses”",
            "is the script playing them; every message, edit and pop-up shown is what the",
            "simulated Telegram received from the bot.",
            "",
            "People:",
            *(f"  {p.name} (@{p.username}), {p.label}" for p in PEOPLE),
        ]
        for entry in self.entries:
            lines.extend(_render_entry(entry))
        return "\n".join(lines) + "\n"


def _stamp(instant: datetime) -> str:
    local = zones.utc_to_local(ZONE, instant)
    utc = instant.astimezone(UTC)
    utc_day = "" if utc.date() == local.date() else f" {utc:%d %b}"
    return f"{local:%H:%M} {CITY} ({utc:%H:%M} UTC{utc_day})"


def _indent(text: str) -> list[str]:
    out: list[str] = []
    for line in text.splitlines() or [""]:
        wrapped = textwrap.wrap(line, WIDTH - 6, break_on_hyphens=False) or [""]
        out.extend(f"      {part}".rstrip() for part in wrapped)
    return out


def _wrap(line: str) -> list[str]:
    return textwrap.wrap(line, WIDTH, subsequent_indent=" " * 6, break_on_hyphens=False)


def _render_entry(entry: Entry) -> list[str]:
    if entry.kind == "scene":
        local = zones.utc_to_local(ZONE, entry.at)
        offset = zones.utc_offset_label(ZONE, entry.at)
        heading = f"{local:%A} {local.day} {local:%B %Y} ({CITY}, {offset}): {entry.text}"
        return ["", "═" * WIDTH, *textwrap.wrap(heading, WIDTH), "═" * WIDTH]
    who = ", ".join(p.first for p in entry.people)
    if entry.kind == "action":
        return ["", *_wrap(f"  {_stamp(entry.at)}  {who} {entry.text}")]
    if entry.kind == "popup":
        return _wrap(f"  {_stamp(entry.at)}  {who}'s Telegram shows a pop-up: “{entry.text}”")
    if entry.kind == "edit":
        return [
            "",
            *_wrap(f"  {_stamp(entry.at)}  {who}'s message “{entry.subject}” is edited to show:"),
            *_indent(entry.text),
        ]
    buttons = "  ".join(f"[ {b} ]" for b in entry.buttons)
    return [
        "",
        f"  {_stamp(entry.at)}  to {who}:",
        *_indent(entry.text),
        *([f"      {buttons}"] if buttons else []),
    ]


def _buttons(markup: dict[str, Any] | None) -> tuple[str, ...]:
    rows = (markup or {}).get("inline_keyboard") or []
    return tuple(str(button.get("text", "")) for row in rows for button in row)


def _shown(text: str, parse_mode: str | None) -> str:
    """The text as a Telegram client shows it: the HTML parsed away as Telegram does."""
    return check_message_text(text, parse_mode) if text else ""


# -- the replay ----------------------------------------------------------------------------
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
        self._by_chat = {p.telegram_id: p for p in PEOPLE}
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

    async def say(self, person: Person, text: str) -> None:
        """The person sends `text` to the bot; returns once the bot has answered."""
        before = len(self.fake.messages_to(person.telegram_id))
        self._act(person, f"sends: {text}")
        self.fake.inject_message(
            person.telegram_id, text, first_name=person.name, username=person.username
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
        self._act(person, f"presses [ {button} ] on “{_first_line(message)}”")
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
            if containing in _shown(message.text, message.parse_mode):
                return message
        raise LookupError(f"{person.first} has no message containing {containing!r}")

    # -- the story as the simulated Telegram saw it ---------------------------------------
    def transcript(self) -> Transcript:
        entries = list(self._own)
        originals: dict[tuple[int, int], str] = {}
        for message in self.fake.sent:
            person = self._by_chat.get(message.chat_id)
            if person is None:
                continue
            shown = _shown(message.text, message.parse_mode)
            if message.method == "sendDocument":
                shown = f"📎 {message.filename or 'a file'}" + (f"\n{shown}" if shown else "")
            originals[(message.chat_id, message.message_id)] = shown
            entries.append(
                Entry(
                    at=self.clock.at(message.at),
                    order=message.at,
                    kind="message",
                    people=(person,),
                    text=shown,
                    buttons=_buttons(message.reply_markup),
                )
            )
        entries.extend(self._edits(originals))
        entries.sort(key=lambda e: e.order)
        return Transcript(entries=_merge_same(entries))

    def _edits(self, originals: dict[tuple[int, int], str]) -> list[Entry]:
        found = []
        current = dict(originals)
        for edit in self.fake.edits:
            person = self._by_chat.get(edit.chat_id)
            key = (edit.chat_id, edit.message_id)
            if person is None or edit.text is None or key not in current:
                continue  # a change of buttons only
            before = current[key]
            after = _shown(edit.text, edit.parse_mode)
            current[key] = after
            old_lines = set(before.splitlines())
            changed = [line for line in after.splitlines() if line not in old_lines]
            found.append(
                Entry(
                    at=self.clock.at(edit.at),
                    order=edit.at,
                    kind="edit",
                    people=(person,),
                    text="\n".join(changed) or after,
                    subject=(originals[key].splitlines() or [""])[0],
                    buttons=_buttons(edit.reply_markup),
                )
            )
        return found


def _first_line(message: SentMessage) -> str:
    return _shown(message.text, message.parse_mode).splitlines()[0]


def _merge_same(entries: Sequence[Entry]) -> list[Entry]:
    """The same message to several people at the same minute is shown once, to all of them.

    A message joins an earlier one only when nothing else reached that person in between,
    so each person's messages stay in the order they arrived.
    """
    merged: list[Entry] = []
    for entry in entries:
        target = None
        if entry.kind == "message":
            for index in range(len(merged) - 1, -1, -1):
                earlier = merged[index]
                if (
                    earlier.kind == "message"
                    and earlier.text == entry.text
                    and earlier.buttons == entry.buttons
                    and _stamp(earlier.at) == _stamp(entry.at)
                    and not set(earlier.people) & set(entry.people)
                ):
                    target = index
                    break
                if set(earlier.people) & set(entry.people) or earlier.kind == "scene":
                    break
        if target is None:
            merged.append(entry)
        else:
            earlier = merged[target]
            merged[target] = Entry(
                at=earlier.at,
                order=earlier.order,
                kind=earlier.kind,
                people=tuple(sorted(earlier.people + entry.people, key=PEOPLE.index)),
                text=earlier.text,
                buttons=earlier.buttons,
            )
    return merged


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
async def _running(
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


async def play(r: Replay) -> None:
    """The script: what the world does and what people do, scene by scene."""
    await r.scene(almaty(2, 9, 0), "four people in Almaty follow Kazakhstan")
    # The first poll of a source is its baseline: recorded, nobody told.
    await r.publish("state", STATE_PATH, state_feed(STATE_KYRGYZSTAN, STATE_KAZAKHSTAN_3))
    await r.publish("embassy", EMBASSY_PATH, embassy_feed(EMBASSY_EARLIER))
    for person in (AIGERIM, DANIYAR, TOM):
        await r.say(person, "/subscribe Kazakhstan")
    await r.say(SARAH, "/lead Kazakhstan")
    await r.say(SARAH, "/subscribe KZ")
    await r.say(TOM, "/remind 30")

    await r.scene(almaty(2, 19, 15), "the US embassy warns of protests in Mangystau")
    await r.publish("embassy", EMBASSY_PATH, embassy_feed(EMBASSY_PROTESTS, EMBASSY_EARLIER))

    await r.scene(
        almaty(5, 11, 0),
        "a state of emergency in Almaty, with a curfew from 23:00 to 07:00",
    )
    await r.publish(
        "embassy",
        EMBASSY_PATH,
        embassy_feed(EMBASSY_EMERGENCY, EMBASSY_PROTESTS, EMBASSY_EARLIER),
    )
    await r.skip_to(almaty(5, 11, 6))
    await r.press(SARAH, "Confirm", on="Curfew found in alert")

    await r.scene(almaty(5, 21, 59), "an hour before the first curfew")
    await r.until_job_runs(almaty(5, 22, 0), lambda: _got(r, AIGERIM, "starts in 60 minutes"))
    await r.until_job_runs(almaty(5, 22, 30), lambda: _got(r, TOM, "starts in 30 minutes"))

    await r.scene(
        almaty(6, 9, 0),
        "the State Department raises Kazakhstan to Level 4 and authorises the voluntary "
        "departure of non-emergency staff",
    )
    await r.publish("state", STATE_PATH, state_feed(STATE_KYRGYZSTAN, STATE_KAZAKHSTAN_4))
    await r.skip_to(almaty(6, 9, 2))
    await r.press(SARAH, "I'm safe", on="Safety roll call")
    await r.skip_to(almaty(6, 9, 4))
    await r.press(AIGERIM, "Acknowledge", on="Level 4")
    await r.press(AIGERIM, "I'm safe", on="Safety roll call")
    await r.skip_to(almaty(6, 9, 11))
    await r.say(
        DANIYAR,
        "/help_me Shooting near Republic Square. Sheltering in the office basement on "
        "Zheltoksan Street with two colleagues; phone at 20%.",
    )
    await r.skip_to(almaty(6, 9, 13))
    await r.share_location(DANIYAR, 43.23822, 76.94571)

    await r.scene(almaty(6, 9, 29), "half an hour on, one person has not answered")
    await r.until_job_runs(almaty(6, 9, 30), lambda: _got(r, TOM, "Reminder: safety roll call"))

    await r.scene(almaty(6, 9, 59), "the roll call's deadline")
    await r.until_job_runs(almaty(6, 10, 0), lambda: _got(r, SARAH, "deadline passed"))
    await r.settle()


def _got(r: Replay, person: Person, text: str) -> bool:
    return any(text in m.text for m in r.fake.messages_to(person.telegram_id))


async def replay(engine: Engine | None = None, database_url: str | None = None) -> Transcript:
    """Run the whole replay; the database is a temporary SQLite file unless one is given."""
    with tempfile.TemporaryDirectory(prefix="dutybot-demo-") as folder:
        url = database_url or f"sqlite:///{Path(folder) / 'demo.sqlite3'}"
        own_engine = engine is None
        engine = engine or make_engine(url)
        try:
            with FakeTelegram() as fake, feed_server() as feed:
                async with _running(engine, fake=fake, feed=feed, database_url=url) as r:
                    await play(r)
                    return r.transcript()
        finally:
            if own_engine:
                engine.dispose()


def run_demo() -> int:
    """`dutybot demo`: print the transcript."""
    started = time.monotonic()
    transcript = asyncio.run(replay())
    print(transcript.render(), end="")
    print(f"\n(replayed in {time.monotonic() - started:.0f} s)")
    return 0
