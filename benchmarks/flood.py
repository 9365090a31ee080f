"""Drill: a lead's broadcast while strangers flood the bot, under Telegram's real limits.

The real bot (in this process, as `dutybot run` wires it) talks to the simulated Bot API
with Telegram's flood control (`RateLimits()`: 30 messages a second in all, one a second
to a chat). A lead broadcasts to PEOPLE staff twice: once in calm, once while strangers
write to the bot STRANGERS_PER_SECOND times a second. Every message the bot sends spends
one flood budget, in which replies to strangers come last and are few, so the broadcast
in the flood must finish within MAX_RATIO of its calm time, with no 429 from Telegram.

Printed: each broadcast's time (from the lead's press on Send to the last person's
copy), their ratio, the 429s, the strangers' messages and the replies they got.

    .venv/bin/python -m benchmarks.drills flood

tests/bot/test_flood.py runs a smaller one with the same requirements.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass

from benchmarks.drills import DrillFailed, Report, run_in_process, sqlite_workspace
from bot.settings import BotSettings
from bot.sim.telegram.flood import RateLimits
from bot.sim.telegram.server import FakeTelegram
from bot.sim.telegram.state import SentMessage
from db.models import Role, Staff
from tests.harness import MutableClock, RunningBot, running_bot

PEOPLE = 60
STRANGERS_PER_SECOND = 150.0
MAX_RATIO = 1.25
# Strangers are drawn from this many ids, so some write more than once a minute.
STRANGER_POOL = 3_000
FIRST_STRANGER_ID = 9_100_000_000
STRANGER_TEXTS = ("/start", "hello", "/help", "hi, who is this?", "/subscribe KZ")


@dataclass
class FloodFigures:
    calm_seconds: float
    flood_seconds: float
    too_many_requests: int
    stranger_messages: int
    stranger_replies: int

    @property
    def ratio(self) -> float:
        return self.flood_seconds / self.calm_seconds

    def lines(self, people: int, per_second: float) -> list[str]:
        return [
            f"broadcast to {people} without the flood: {self.calm_seconds:.2f} s",
            f"broadcast to {people} during {per_second:.0f} stranger messages a second: "
            f"{self.flood_seconds:.2f} s",
            f"ratio: {self.ratio:.2f} (at most {MAX_RATIO:.2f})",
            f"429 from Telegram: {self.too_many_requests}",
            f"stranger messages sent: {self.stranger_messages}; "
            f"stranger replies given: {self.stranger_replies}",
        ]


def is_stranger(chat_id: int) -> bool:
    return FIRST_STRANGER_ID <= chat_id < FIRST_STRANGER_ID + STRANGER_POOL


def _preview(fake: FakeTelegram, lead: Staff, after: int) -> SentMessage | None:
    """The lead's broadcast preview, with its Send button, among the messages after `after`."""
    for message in fake.messages_to(lead.chat_id)[after:]:
        rows = (message.reply_markup or {}).get("inline_keyboard", [])
        if any(str(b.get("callback_data", "")).startswith("bc:send:") for r in rows for b in r):
            return message
    return None


async def broadcast(bot: RunningBot, lead: Staff, people: list[Staff], marker: str) -> float:
    """The lead types a broadcast and presses Send; seconds from the press until the last
    of `people` has it."""
    fake = bot.fake
    before = len(fake.messages_to(lead.chat_id))
    fake.inject_message(lead.telegram_user_id, f"/broadcast KZ {marker}: stay indoors tonight.")
    await fake.await_for(lambda f: _preview(f, lead, before) is not None, timeout=30)
    shown = _preview(fake, lead, before)
    assert shown is not None and shown.reply_markup is not None
    data = shown.reply_markup["inline_keyboard"][0][0]["callback_data"]
    pressed = time.monotonic()
    bot.press(lead.telegram_user_id, chat_id=lead.chat_id, message_id=shown.message_id, data=data)
    chats = {p.chat_id for p in people}

    def copies(f: FakeTelegram) -> list[SentMessage]:
        return [m for m in f.sent if m.chat_id in chats and marker in m.text]

    await fake.await_for(lambda f: len(copies(f)) == len(chats), timeout=120)
    return max(m.at for m in copies(fake)) - pressed


class Flood:
    """Strangers writing to the bot `per_second` times a second, until `stop()`."""

    def __init__(self, fake: FakeTelegram, per_second: float) -> None:
        self.fake = fake
        self.per_second = per_second
        self.sent = 0
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="flood")

    async def _run(self) -> None:
        draw = random.Random(20220105)  # the same strangers on every run
        started = time.monotonic()
        while not self._stop.is_set():
            # Counted from the start, so a busy moment is made up for, not lost.
            due = int((time.monotonic() - started) * self.per_second)
            for _ in range(due - self.sent):
                self.fake.inject_message(
                    FIRST_STRANGER_ID + draw.randrange(STRANGER_POOL),
                    draw.choice(STRANGER_TEXTS),
                    first_name="Stranger",
                )
            self.sent = max(self.sent, due)
            await asyncio.sleep(0.01)  # the generator's own pace, not a wait for an outcome

    async def stop(self) -> None:
        self._stop.set()
        await self._task


async def measure(
    bot: RunningBot, *, people: int, per_second: float, warm_up: float = 1.0
) -> FloodFigures:
    """A broadcast to `people` in calm, then one during a flood of strangers that has run
    `warm_up` seconds, on `bot` (whose Telegram should apply `RateLimits()`)."""
    lead = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    staff = [bot.enrol(f"Staff {n}", countries=("KZ",)) for n in range(people)]
    calm = await broadcast(bot, lead, staff, "Calm broadcast")
    flood = Flood(bot.fake, per_second)
    try:
        # In full swing: the bot has already answered some strangers.
        await bot.fake.await_for(
            lambda f: (
                flood.sent >= per_second * warm_up and any(is_stranger(m.chat_id) for m in f.sent)
            ),
            timeout=30 + warm_up,
        )
        flooded = await broadcast(bot, lead, staff, "Flood broadcast")
    finally:
        await flood.stop()
    return FloodFigures(
        calm_seconds=calm,
        flood_seconds=flooded,
        too_many_requests=bot.fake.too_many_requests,
        stranger_messages=flood.sent,
        stranger_replies=sum(1 for m in list(bot.fake.sent) if is_stranger(m.chat_id)),
    )


async def _drill() -> list[str]:
    lines = Report()
    telegram = FakeTelegram(rate_limits=RateLimits())  # Telegram's own limits
    with sqlite_workspace() as (_folder, url, engine), telegram as fake:
        settings = BotSettings(
            _env_file=None,
            telegram_bot_token=FakeTelegram.TOKEN,
            telegram_base_url=fake.base_url,
            database_url=url,
            feeds_enabled=False,
            health_port=0,
        )
        async with running_bot(settings, engine=engine, fake=fake, clock=MutableClock()) as bot:
            figures = await measure(bot, people=PEOPLE, per_second=STRANGERS_PER_SECOND)
    lines.extend(figures.lines(PEOPLE, STRANGERS_PER_SECOND))
    if figures.too_many_requests:
        raise DrillFailed(f"Telegram answered 429 {figures.too_many_requests} times")
    if figures.ratio > MAX_RATIO:
        raise DrillFailed(f"the flood made the broadcast {figures.ratio:.2f} times as long")
    return lines


def drill_flood(_people: int) -> list[str]:
    """The drill, with its own PEOPLE whatever the other drills' --people."""
    return run_in_process("flood", _drill())
