"""The Kazakhstan replay's script, and `dutybot demo`, which plays it and prints the story.

The script plays the outside world (the embassy and the State Department publish,
people type and press buttons) on a clock that jumps from one moment of the crisis to
the next, and the transcript shows what each person's Telegram received from the bot,
and when, in Almaty time and UTC.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from sqlalchemy.engine import Engine

from bot.demo.news import (
    EMBASSY_EARLIER,
    EMBASSY_EMERGENCY,
    EMBASSY_PATH,
    EMBASSY_PROTESTS,
    STATE_KAZAKHSTAN_3,
    STATE_KAZAKHSTAN_4,
    STATE_KYRGYZSTAN,
    STATE_PATH,
)
from bot.demo.people import AIGERIM, DANIYAR, SARAH, TOM, Person, almaty
from bot.demo.replay import Replay, running
from bot.demo.transcript import Transcript
from bot.sim.feed_samples import embassy_feed, state_feed
from bot.sim.feeds import feed_server
from bot.sim.telegram.server import FakeTelegram
from db.engine import make_engine


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
    await r.press(AIGERIM, "Acknowledge", on="DEPARTURE ADVISORY")
    await r.press(AIGERIM, "I'm safe", on="Safety roll call")
    await r.skip_to(almaty(6, 9, 11))
    await r.say(
        DANIYAR,
        "/help_me Shooting near Republic Square. Sheltering in the office basement on "
        "Zheltoksan Street with two colleagues; phone at 20%.",
    )
    await r.skip_to(almaty(6, 9, 13))
    await r.share_location(DANIYAR, 43.23822, 76.94571)
    # The lead takes the call and the two stay in conversation through the bot.
    await r.skip_to(almaty(6, 9, 14))
    await r.press(SARAH, "I'm handling it", on=DANIYAR_NEEDS_HELP)
    await r.press(SARAH, "Reply", on=DANIYAR_NEEDS_HELP)
    await r.say(
        SARAH,
        "Stay in the basement, away from the windows. I have called the police and will "
        "ring you at 09:30.",
    )
    await r.skip_to(almaty(6, 9, 17))
    await r.say(DANIYAR, "OK. Shots again on Zheltoksan, we are staying put.")
    await r.say(DANIYAR, "Armoured vehicles at the corner", photo=True)

    await r.scene(almaty(6, 9, 29), "half an hour on, one person has not answered")
    await r.until_job_runs(almaty(6, 9, 30), lambda: _got(r, TOM, "Reminder: safety roll call"))

    await r.scene(almaty(6, 9, 59), "the roll call's deadline")
    await r.until_job_runs(almaty(6, 10, 0), lambda: _got(r, SARAH, "deadline passed"))

    await r.scene(almaty(6, 10, 20), "Tom's phone is back on; Daniyar gets out")
    await r.say(TOM, "Sorry, my phone was off. I'm safe, at home.")
    await r.press(TOM, "I'm safe", on="Tell your security team you are safe?")
    await r.skip_to(almaty(6, 10, 40))
    await r.say(DANIYAR, "/safe Police cleared the street, we are out and going home.")
    await r.settle()


DANIYAR_NEEDS_HELP = f"{DANIYAR.name} (@{DANIYAR.username}) needs help"


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
                async with running(engine, fake=fake, feed=feed, database_url=url) as r:
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
