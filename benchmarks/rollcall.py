"""Benchmark: a safety roll call for 1,000 subscribers, with Telegram's limits on in the fake.

Runs the real Application (tests.harness.running_bot) against the fake Bot API with
`RateLimits()` (30 messages a second in total, 1 a second per chat) on a SQLite file, and
prints:

- the time from a lead's `/checkin` to their live-roll reply, and to the last roll-call
  message Telegram accepted;
- the time from a press on "I'm safe" to the lead's live roll showing it: one press
  during the fan-out, single presses when the roll is quiet (the leading edge of the
  throttle), and a burst of presses (the trailing edge, at most one edit per
  ROLL_UPDATE_SECONDS).

    .venv/bin/python benchmarks/rollcall.py [--people 1000] [--presses 5] [--burst 20] [--gap 0.15]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.people import LEAD_ID, enrol_lead, enrol_staff
from bot.settings import BotSettings
from bot.sim.telegram.flood import RateLimits
from bot.sim.telegram.server import FakeTelegram
from bot.sim.telegram.state import SentMessage
from db.engine import make_engine, session_scope
from db.migrations import create_schema
from tests.harness import MutableClock, RunningBot, running_bot

_SAFE = re.compile(r"safe: (\d+)\n")


def _question_of(message: SentMessage) -> str | None:
    """The "I'm safe" callback data when `message` is a roll-call question."""
    markup = message.reply_markup or {}
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = str(button.get("callback_data", ""))
            if data.startswith("rc:") and data.endswith(":s"):
                return data
    return None


def _enrol(database_url: str, people: int) -> None:
    engine = make_engine(database_url)
    create_schema(engine)
    with session_scope(engine) as session:
        enrol_lead(session)
        enrol_staff(session, people, usernames=True)
    engine.dispose()


def _press(fake: FakeTelegram, message: SentMessage) -> float:
    data = _question_of(message)
    assert data is not None
    at = time.monotonic()
    fake.inject_callback(
        message.chat_id, chat_id=message.chat_id, message_id=message.message_id, data=data
    )
    return at


async def _roll_shows(fake: FakeTelegram, report: SentMessage, safe: int) -> float:
    """When the lead's live roll first showed at least `safe` people safe (fake's clock)."""

    def shown() -> list[float]:
        return [
            e.at
            for e in fake.edits
            if e.chat_id == report.chat_id
            and e.message_id == report.message_id
            and e.text is not None
            and (found := _SAFE.search(e.text)) is not None
            and int(found[1]) >= safe
        ]

    await fake.await_for(lambda f: bool(shown()), timeout=30)
    return min(shown())


async def _run(
    bot: RunningBot, fake: FakeTelegram, people: int, presses: int, burst: int, gap: float
) -> None:
    settings = bot.services.settings
    started = time.monotonic()
    fake.inject_message(
        LEAD_ID, "/checkin KZ Benchmark: are you safe? 2h", first_name="Lena Lead", username="lena"
    )
    await fake.await_for(lambda f: bool(f.messages_to(LEAD_ID)), timeout=60)
    report = fake.messages_to(LEAD_ID)[0]

    # One press as soon as the first question arrives, while the rest are still going out.
    await fake.await_for(lambda f: any(_question_of(m) for m in f.sent), timeout=60)
    first = next(m for m in fake.sent if _question_of(m))
    pressed = _press(fake, first)
    during = await _roll_shows(fake, report, 1) - pressed

    def questions() -> list[SentMessage]:
        return [m for m in fake.sent if _question_of(m)]

    await fake.await_for(lambda f: len(questions()) >= people, timeout=people / 5 + 120)
    sent = questions()
    last = max(m.at for m in sent)
    fan_out = last - started
    rate = len(sent) / (last - min(m.at for m in sent))

    # Let the roll settle: everyone served, and the last edit about that made.
    await fake.await_for(
        lambda f: "being sent" not in f.current_text(LEAD_ID, report.message_id), timeout=30
    )

    # Quiet roll: each press is the first change for a while (the leading edge).
    by_chat = {m.chat_id: m for m in sent}
    order = sorted(by_chat)[1:]  # the first person already answered
    quiet: list[float] = []
    safe = 1
    for chat_id in order[:presses]:
        await asyncio.sleep(settings.roll_update_seconds + 0.3)
        pressed = _press(fake, by_chat[chat_id])
        safe += 1
        quiet.append(await _roll_shows(fake, report, safe) - pressed)

    # A steady stream of presses: the roll is edited at most once per interval, so a
    # press waits at most about that long to show.
    await asyncio.sleep(settings.roll_update_seconds + 0.3)
    edits_before = sum(1 for e in fake.edits if e.message_id == report.message_id)
    stream_start = time.monotonic()
    pressed_at: list[tuple[int, float]] = []
    for chat_id in order[presses : presses + burst]:
        safe += 1
        pressed_at.append((safe, _press(fake, by_chat[chat_id])))
        await asyncio.sleep(gap)
    stream = [await _roll_shows(fake, report, n) - at for n, at in pressed_at]
    stream_seconds = time.monotonic() - stream_start
    stream_edits = sum(1 for e in fake.edits if e.message_id == report.message_id) - edits_before

    print(f"CPUs: {os.cpu_count()}; subscribers: {people}; fake limits: {RateLimits()}")
    print(f"/checkin to the lead's live roll reply: {(report.at - started) * 1000:.0f} ms")
    print(
        f"/checkin to the last of {len(sent)} roll-call messages: {fan_out:.2f} s "
        f"({rate:.1f} msg/s; 429s from the fake: {fake.too_many_requests})"
    )
    print(f"press to live roll, during the fan-out: {during * 1000:.0f} ms")
    print(
        f"press to live roll, quiet roll ({len(quiet)} presses): median "
        f"{statistics.median(quiet) * 1000:.0f} ms, max {max(quiet) * 1000:.0f} ms"
    )
    print(
        f"press to live roll, a press every {gap * 1000:.0f} ms ({burst} presses): median "
        f"{statistics.median(stream) * 1000:.0f} ms, max {max(stream) * 1000:.0f} ms; "
        f"{stream_edits} edits in {stream_seconds:.1f} s "
        f"(ROLL_UPDATE_SECONDS={settings.roll_update_seconds:g})"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--presses", type=int, default=5)
    parser.add_argument("--burst", type=int, default=20, help="presses in the steady stream")
    parser.add_argument("--gap", type=float, default=0.15, help="seconds between them")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory() as folder, FakeTelegram(rate_limits=RateLimits()) as fake:
        database_url = f"sqlite:///{folder}/rollcall.sqlite3"
        _enrol(database_url, args.people)
        settings = BotSettings(
            _env_file=None,
            telegram_bot_token=FakeTelegram.TOKEN,
            telegram_base_url=fake.base_url,
            database_url=database_url,
            feeds_enabled=False,
            health_port=0,
        )
        engine = make_engine(database_url)
        async with running_bot(settings, engine=engine, fake=fake, clock=MutableClock()) as bot:
            await _run(bot, fake, args.people, args.presses, args.burst, args.gap)
        engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
