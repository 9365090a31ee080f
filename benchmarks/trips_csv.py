"""Benchmark: a lead imports a CSV of 500 trips, one in ten of its lines bad.

Runs the real Application (tests.harness.running_bot) against the fake Bot API on a
SQLite file: the lead sends the file with the caption /trips_csv; the time is from the
upload to the report in their chat (the file fetched from Telegram, every line read,
the trips recorded, curfew reminders re-planned, the report sent). Then the import on its
own (reading and recording, no Telegram), a few times. Prints both and checks that every
bad line is in the report with its reason.

    .venv/bin/python benchmarks/trips_csv.py [--trips 500] [--people 400]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import select

from benchmarks.people import FIRST_STAFF_ID, LEAD_ID, enrol_lead, enrol_staff
from bot.settings import BotSettings
from bot.sim.telegram.server import FakeTelegram
from bot.sim.telegram.state import SentMessage
from bot.whereabouts.imports import import_csv
from db import staff
from db.engine import make_engine, session_scope
from db.migrations import create_schema
from db.models import Trip
from db.types import utcnow
from tests.harness import MutableClock, running_bot

BUDGET_SECONDS = 5.0
# What an export from a travel agency looks like: countries by name or code, cities,
# dates in the forms such systems write.
PLACES = [
    ("Kazakhstan", "Almaty"),
    ("KZ", "Astana"),
    ("Kyrgyzstan", "Bishkek"),
    ("KG", ""),
    ("Uzbekistan", "Tashkent"),
    ("Georgia", "Tbilisi"),
]
BAD_KINDS = ["nobody", "country", "dates", "reversed", "led"]


def _enrol(database_url: str, people: int) -> None:
    engine = make_engine(database_url)
    create_schema(engine)
    with session_scope(engine) as session:
        enrol_lead(session, countries=("KZ", "KG", "UZ", "GE"))
        enrol_staff(session, people, country=None, name="Staff Member", usernames=True)
    engine.dispose()


def make_csv(trips: int, people: int, *, seed: int = 7) -> tuple[bytes, dict[int, str]]:
    """The file, and the line numbers of the bad lines with the kind of fault."""
    rng = random.Random(seed)
    start = utcnow().date() + timedelta(days=10)
    lines = ["Traveller;Destination Country;City;Departure;Return"]
    bad: dict[int, str] = {}
    for n in range(trips):
        who_n = rng.randrange(people)
        who = rng.choice([f"@staff{who_n}", f"Staff Member {who_n}", str(FIRST_STAFF_ID + who_n)])
        country, city = rng.choice(PLACES)
        first = start + timedelta(days=rng.randrange(200))
        last = first + timedelta(days=rng.randrange(1, 30))
        span = rng.choice(
            [
                (f"{first:%Y-%m-%d}", f"{last:%Y-%m-%d}"),
                (f"{first:%d/%m/%Y}", f"{last:%d/%m/%Y}"),
                (f"{first:%d.%m.%Y}", f"{last:%d.%m.%Y}"),
                (f"{first:%Y-%m-%d} 08:15", f"{last:%Y-%m-%d} 19:40"),
            ]
        )
        line_number = len(lines) + 1
        if n % 10 == 9:
            kind = BAD_KINDS[(n // 10) % len(BAD_KINDS)]
            bad[line_number] = kind
            if kind == "nobody":
                who = f"@ghost{n}"
            elif kind == "country":
                country, city = "Narnia", ""
            elif kind == "dates":
                span = ("31/02/2027", span[1])
            elif kind == "reversed":
                span = (span[1], span[0])
            else:
                country, city = "France", "Paris"
        lines.append(";".join([who, country, city, *span]))
    return ("\n".join(lines) + "\n").encode(), bad


def _report_done(messages: list[SentMessage]) -> bool:
    """The report has come in full: one message, or its last part "(n/n)"."""
    if not messages:
        return False
    first = messages[0].text
    if "(1/" not in first[:6] and len(messages) == 1 and not first.startswith("("):
        return True
    last = messages[-1].text
    return (
        last.startswith("(")
        and last[1 : last.index(")")].split("/")[0] == (last[1 : last.index(")")].split("/")[1])
    )


async def through_telegram(content: bytes, bad: dict[int, str], people: int) -> float:
    with tempfile.TemporaryDirectory() as folder, FakeTelegram() as fake:
        database_url = f"sqlite:///{folder}/bench.sqlite3"
        _enrol(database_url, people)
        settings = BotSettings(
            _env_file=None,
            telegram_bot_token=FakeTelegram.TOKEN,
            telegram_base_url=fake.base_url,
            database_url=database_url,
            feeds_enabled=False,
            health_port=0,
        )
        engine = make_engine(database_url)
        async with running_bot(settings, engine=engine, fake=fake, clock=MutableClock()):
            began = time.perf_counter()
            fake.inject_message(
                LEAD_ID,
                "",
                document=("trips.csv", content),
                caption="/trips_csv",
                first_name="Lena Lead",
                username="lena",
            )
            await fake.await_for(lambda f: _report_done(f.messages_to(LEAD_ID)), timeout=60)
            elapsed = time.perf_counter() - began
            report = "\n".join(m.text for m in fake.messages_to(LEAD_ID))
        with session_scope(engine) as session:
            recorded = len(session.exec(select(Trip)).all())
        engine.dispose()
    missing = [n for n in bad if f"line {n}:" not in report]
    print(f"  report: {report.splitlines()[0]}")
    print(f"  trips in the database: {recorded}; bad lines not explained: {len(missing)}")
    for kind in BAD_KINDS:
        example = next(n for n, k in bad.items() if k == kind)
        line = next(x for x in report.splitlines() if x.startswith(f"❌ line {example}:"))
        print(f"    {kind:9} {line}")
    assert not missing, missing
    assert recorded == len(content.splitlines()) - 1 - len(bad)
    return elapsed


def import_alone(content: bytes, people: int, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            database_url = f"sqlite:///{folder}/bench.sqlite3"
            _enrol(database_url, people)
            engine = make_engine(database_url)
            with session_scope(engine) as session:
                lead = staff.by_telegram_id(session, telegram_user_id=LEAD_ID)
                assert lead is not None
            began = time.perf_counter()
            with session_scope(engine) as session:
                import_csv(session, lead=lead, content=content, now=utcnow(), today=utcnow().date())
            times.append(time.perf_counter() - began)
            engine.dispose()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trips", type=int, default=500)
    parser.add_argument("--people", type=int, default=400)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    content, bad = make_csv(args.trips, args.people)
    print(
        f"{args.trips} trips ({len(bad)} bad lines), {args.people} people, {len(content)} bytes;"
        f" {platform.python_implementation()} {platform.python_version()},"
        f" {os.cpu_count()} CPUs"
    )
    elapsed = asyncio.run(through_telegram(content, bad, args.people))
    print(
        f"upload to report through the fake Bot API, sent the moment the bot started, while "
        f"it is still loading the gazetteer and the zone boundaries: {elapsed:.2f} s"
    )
    again = asyncio.run(through_telegram(content, bad, args.people))
    print(
        f"the same again, places loaded, as in a running bot: {again:.2f} s "
        f"(budget {BUDGET_SECONDS} s)"
    )
    alone = import_alone(content, args.people, args.runs)
    print(
        f"import alone (read, check, record; {args.runs} runs): median "
        f"{statistics.median(alone):.2f} s, max {max(alone):.2f} s"
    )
    if again > BUDGET_SECONDS:
        sys.exit(f"over budget: {again:.2f} s > {BUDGET_SECONDS} s")


if __name__ == "__main__":
    main()
