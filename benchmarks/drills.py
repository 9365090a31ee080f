"""Fault drills: the real bot rides out crashes, a database outage, Telegram failing for a
minute and broken feeds, each during a broadcast, and the figures are printed.

    .venv/bin/python -m benchmarks.drills               # every drill (make drill)
    .venv/bin/python -m benchmarks.drills kill telegram # some of them
    .venv/bin/python -m benchmarks.drills --people 500  # a smaller broadcast

- kill: `dutybot run` is killed with SIGKILL at random moments of a broadcast, ten times,
  and started again each time. Everyone must end with exactly one copy, except messages
  whose fate was unknown at a kill (Telegram had them, the database did not yet).
- database: a PostgreSQL of the drill's own is stopped for 30 seconds mid-broadcast
  and started again. The bot must keep running, log the outage, and catch up. Needs
  PostgreSQL's server programs (Debian: `apt-get install postgresql`); without them the
  drill says so and is skipped.
- silent-database: the same PostgreSQL, reached through a relay that falls silent for a
  minute (connections and queries hang, nothing is refused), as a host that froze or
  dropped off the network would. The bot must answer every command meanwhile (with
  "something went wrong"), then catch up and serve everyone once.
- telegram: the Bot API answers 502 for 30 seconds, then does not answer at all for 30
  seconds. Nothing may be lost, and the backoff must show in the log.
- feeds: every kind of broken feed (HTTP error, timeout, oversize body, HTML instead of
  a feed, garbage, an empty feed) is polled over and over during a broadcast, which must
  go out as if nothing happened.
- token, deaf: the token revoked mid-run, getUpdates answering 404 for two minutes
  (benchmarks/listening.py).
- flood: a broadcast to 60 while strangers write 150 messages a second (benchmarks/flood.py).
- blackout: Telegram unreachable during a roll call; everyone with a mobile number is
  asked by SMS and answers by SMS (benchmarks/blackout.py).

The bot talks to the simulated Bot API (`bot.sim.telegram`) with Telegram's rate limits.
The exit status is 1 if any drill missed its requirement.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import glob
import itertools
import logging
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlmodel import select

from benchmarks.people import FIRST_STAFF_ID, LEAD_ID, enrol_lead, enrol_staff
from bot import feeds
from bot.broadcasts import staff_message
from bot.settings import BotSettings
from bot.sim.feeds import feed_server
from bot.sim.silent import SilentHost
from bot.sim.telegram.flood import RateLimits
from bot.sim.telegram.server import FakeTelegram
from db import broadcasts, sources, staff
from db.engine import make_engine, session_scope
from db.migrations import create_schema
from db.models import AlertStatus, Delivery, DeliveryStatus, Role, Source
from db.types import utcnow
from tests.harness import MutableClock, running_bot
from tests.schedules.sources.samples import StateItem, state_feed

ROOT = Path(__file__).resolve().parents[1]
TEXT = "Stay indoors tonight; the protest is moving to Republic Square."
ASKER_ID = 7_000_000_000


class DrillFailed(Exception):
    """A drill missed its requirement; the message says how."""


@dataclass
class Outcome:
    name: str
    passed: bool | None  # None: skipped
    lines: list[str]


# -- shared pieces ------------------------------------------------------------------------
def say(line: str) -> None:
    print(line, flush=True)


class Report(list[str]):
    """A drill's figures, printed as they come."""

    def append(self, line: str) -> None:
        say(line)
        super().append(line)

    def extend(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.append(line)


def wait_until(what: str, predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise DrillFailed(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def seed_broadcast(engine: Engine, people: int) -> None:
    """A lead, `people` staff following Kazakhstan, and a broadcast to them all, queued."""
    now = utcnow()
    with session_scope(engine) as session:
        lead = enrol_lead(session, countries=())
        enrol_staff(session, people)
        alert = broadcasts.create_draft(
            session, country="KZ", text=TEXT, author_staff_id=lead.id or 0, now=now
        )
        claimed = broadcasts.claim_draft(
            session,
            alert_id=alert.id or 0,
            author_staff_id=lead.id or 0,
            status=AlertStatus.SENT,
            now=now,
        )
        assert claimed
        broadcasts.fan_out(session, alert=alert, parts=staff_message(alert, "Lena Lead"), now=now)


def copies(fake: FakeTelegram, people: int) -> Counter[int]:
    """How many copies of the broadcast each subscriber's chat received."""
    staff_chats = range(FIRST_STAFF_ID, FIRST_STAFF_ID + people)
    return Counter(m.chat_id for m in list(fake.sent) if m.chat_id in staff_chats)


def more_sent_than(fake: FakeTelegram, count: int) -> Callable[[], bool]:
    return lambda: len(fake.sent) > count


def statuses(engine: Engine) -> Counter[str]:
    with session_scope(engine) as session:
        return Counter(r for r in session.exec(select(Delivery.status)).all())


def chats_with_status(engine: Engine, status: DeliveryStatus) -> set[int]:
    with session_scope(engine) as session:
        query = select(Delivery.chat_id).where(Delivery.status == status.value)
        return set(session.exec(query).all())


def all_sent(engine: Engine) -> bool:
    return set(statuses(engine)) == {DeliveryStatus.SENT.value}


def send_rate(fake: FakeTelegram, people: int) -> tuple[float, float]:
    """Messages per second over the broadcast, and the longest pause between two."""
    times = sorted(m.at for m in fake.sent if FIRST_STAFF_ID <= m.chat_id < FIRST_STAFF_ID + people)
    if len(times) < 2:
        return 0.0, 0.0
    gaps = [b - a for a, b in itertools.pairwise(times)]
    return (len(times) - 1) / (times[-1] - times[0]), max(gaps)


class BotProcess:
    """`python -m bot run` against the fake Bot API, its log appended to one file."""

    def __init__(
        self,
        fake: FakeTelegram,
        database_url: str,
        folder: Path,
        drill: str,
        env: dict[str, str] | None = None,
    ) -> None:
        self.fake = fake
        self.database_url = database_url
        self.folder = folder
        self.env = env or {}  # settings of its own, over the drill's defaults
        # Kept after the drill, to read what the bot said.
        self.log_path = Path(tempfile.gettempdir()) / f"dutybot-drill-{drill}.log"
        self.log_path.write_bytes(b"")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": FakeTelegram.TOKEN,
            "TELEGRAM_BASE_URL": self.fake.base_url,
            "DATABASE_URL": self.database_url,
            "FEEDS_ENABLED": "false",
            "HEALTH_PORT": "0",
            "PYTHONPATH": str(ROOT),
            **self.env,
        }
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                cwd=self.folder,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def log_lines(self, pattern: str) -> list[str]:
        regex = re.compile(pattern)
        lines = self.log_path.read_text(errors="replace").splitlines()
        return [line for line in lines if regex.search(line)]


@contextmanager
def sqlite_workspace() -> Iterator[tuple[Path, str, Engine]]:
    with tempfile.TemporaryDirectory(prefix="dutybot-drill-") as name:
        folder = Path(name)
        url = f"sqlite:///{folder / 'dutybot.sqlite3'}"
        engine = make_engine(url)
        create_schema(engine)
        try:
            yield folder, url, engine
        finally:
            engine.dispose()


def realistic_telegram() -> FakeTelegram:
    return FakeTelegram(rate_limits=RateLimits())


def check_served_once(fake: FakeTelegram, people: int, *, allowed_twice: set[int]) -> list[str]:
    counts = copies(fake, people)
    missing = people - len(counts)
    twice = {chat for chat, n in counts.items() if n > 1}
    if missing:
        raise DrillFailed(f"{missing} subscribers never got the broadcast")
    if max(counts.values()) > 2:
        raise DrillFailed(f"someone got {max(counts.values())} copies")
    if not twice <= allowed_twice:
        raise DrillFailed(f"{len(twice - allowed_twice)} subscribers got a second copy")
    return [
        f"served: {len(counts)} of {people} subscribers, "
        f"{sum(1 for n in counts.values() if n == 1)} exactly once, {len(twice)} twice"
    ]


# -- drill: SIGKILL ten times -------------------------------------------------------------
def drill_kill(people: int, kills: int = 10) -> list[str]:
    lines = Report()
    with sqlite_workspace() as (folder, url, engine), realistic_telegram() as fake:
        seed_broadcast(engine, people)
        bot = BotProcess(fake, url, folder, "kill")
        may_repeat: set[int] = set()  # chats whose message Telegram had when a kill came
        per_kill: list[int] = []
        started = time.monotonic()
        for kill in range(1, kills + 1):
            bot.start()
            wait_until("the bot to send again", more_sent_than(fake, len(fake.sent)), 60)
            time.sleep(random.uniform(0.0, 4.0))  # a random moment of the broadcast
            bot.kill()
            in_doubt = chats_with_status(engine, DeliveryStatus.SENDING)
            received = in_doubt & set(copies(fake, people))
            confirmed = len(chats_with_status(engine, DeliveryStatus.SENT))
            may_repeat |= received
            per_kill.append(len(received))
            lines.append(
                f"kill {kill:2}: {confirmed:5} confirmed, {len(in_doubt):2} in flight, "
                f"{len(received):2} of them already at Telegram"
            )
            if confirmed == people:
                raise DrillFailed("the broadcast finished before the last kill; use more people")
        bot.start()
        try:
            wait_until("the broadcast to finish", lambda: all_sent(engine), 600)
        finally:
            bot.stop()
        elapsed = time.monotonic() - started
        lines.extend(check_served_once(fake, people, allowed_twice=may_repeat))
        twice = sum(1 for n in copies(fake, people).values() if n > 1)
        lines.append(
            f"sent twice: {twice} over {kills} kills (at most {max(per_kill)} at one kill; "
            f"each was at Telegram, unconfirmed, when the bot died)"
        )
        worst = max(per_kill)
        lines.append(
            f"at most one per kill: {'yes' if worst <= 1 else 'no'} "
            f"(most at one kill: {worst}; bounded by what is in flight or not yet recorded)"
        )
        lines.append(f"broadcast of {people} with {kills} restarts took {elapsed:.0f} s")
    return lines


# -- drill: PostgreSQL stopped for 30 seconds ---------------------------------------------
def postgres_programs() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _version(path: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", path))


class Postgres:
    """A throwaway PostgreSQL cluster; as root, its programs run as the `postgres` user."""

    def __init__(self, programs: Path, folder: Path) -> None:
        self.programs = programs
        self.data = folder / "pgdata"
        self.data.mkdir()
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.data, "postgres")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]

    def _run(self, *args: str) -> None:
        command = [str(self.programs / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["su", "postgres", "-s", "/bin/sh", "-c", subprocess.list2cmdline(command)]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "dutybot", "--auth=trust")

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.data} -c fsync=off"
        log = str(self.data / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-w", "-o", options, "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://dutybot@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        admin = create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        return self.url(name)


@contextmanager
def postgres_broadcast(programs: Path, people: int) -> Iterator[tuple[Path, Postgres, Engine]]:
    """A PostgreSQL of the drill's own, in a folder of its own, with a broadcast to
    `people` queued; yields (folder, cluster, engine) and stops the cluster after."""
    with tempfile.TemporaryDirectory(prefix="dutybot-drill-") as name:
        folder = Path(name)
        if os.geteuid() == 0:
            os.chmod(folder, 0o755)  # the postgres user must reach its data folder
        postgres = Postgres(programs, folder)
        postgres.init()
        postgres.start()
        engine: Engine | None = None
        try:
            engine = make_engine(postgres.create_database("dutybot_drill"))
            create_schema(engine)
            seed_broadcast(engine, people)
            yield folder, postgres, engine
        finally:
            if engine is not None:
                engine.dispose()
            with contextlib.suppress(subprocess.CalledProcessError):
                postgres.stop()  # unless already stopped


def no_postgres() -> None:
    say("PostgreSQL's server programs (initdb, pg_ctl) are not installed; skipped.")
    say("Install them with `apt-get install postgresql` (as .ci/run does) to run it.")


def drill_database(people: int, outage_seconds: float = 30.0) -> list[str] | None:
    programs = postgres_programs()
    if programs is None:
        no_postgres()
        return None
    lines = Report()
    with (
        postgres_broadcast(programs, people) as (folder, postgres, drill_engine),
        realistic_telegram() as fake,
    ):
        bot = BotProcess(fake, postgres.url("dutybot_drill"), folder, "database")
        try:
            bot.start()
            wait_until("a quarter of the broadcast", lambda: len(fake.sent) >= people // 4, 300)

            postgres.stop()
            went_down = time.monotonic()
            sent_at_stop = len(copies(fake, people))
            fake.inject_message(LEAD_ID, "/subscriptions", first_name="Lena", username="lena")
            wait_until(
                "the bot to answer during the outage", lambda: bool(fake.messages_to(LEAD_ID)), 30
            )
            answer = fake.messages_to(LEAD_ID)[-1].text
            time.sleep(max(0.0, outage_seconds - (time.monotonic() - went_down)))
            sent_during = len(copies(fake, people)) - sent_at_stop
            if not bot.alive():
                raise DrillFailed("the bot died while the database was down")
            postgres.start()
            came_back = time.monotonic()
            down_for = came_back - went_down
            wait_until("the first message after", more_sent_than(fake, len(fake.sent)), 120)
            resumed = time.monotonic() - came_back
            wait_until("the broadcast to finish", lambda: all_sent(drill_engine), 600)
            finished = time.monotonic() - came_back
            replies = len(fake.messages_to(LEAD_ID))
            fake.inject_message(LEAD_ID, "/subscriptions", first_name="Lena", username="lena")
            wait_until(
                "an answer after the outage", lambda: len(fake.messages_to(LEAD_ID)) > replies, 30
            )
            answer_after = fake.messages_to(LEAD_ID)[-1].text
        finally:
            bot.stop()
        lines.extend(check_served_once(fake, people, allowed_twice=set()))
        paused = bot.log_lines(r"database unavailable; sending paused")
        back = bot.log_lines(r"database available again")
        tracebacks = bot.log_lines(r"^Traceback")
        if not paused or len(paused) != len(back):
            raise DrillFailed(
                f"the dispatcher logged {len(paused)} outage and {len(back)} recovery lines"
            )
        if "something went wrong" not in answer or "something went wrong" in answer_after:
            raise DrillFailed(f"answers during/after the outage: {answer!r} / {answer_after!r}")
        lines.extend(
            [
                f"database down for {down_for:.0f} s; the bot kept running and answered commands",
                f"sent while it was down: {sent_during} (requests already on their way)",
                f"the dispatcher logged the outage {len(paused)} time(s), its end {len(back)}:",
                f"  {paused[0].split(': ', 1)[-1][:110]}",
                f"  {back[0].split(': ', 1)[-1][:110]}",
                f"other outage lines in the log: {len(bot.log_lines('database unavailable while'))}"
                f" (one per job tick or update that met it), tracebacks: {len(tracebacks)}",
                f"sending resumed {resumed:.1f} s after the database was back; "
                f"the broadcast finished {finished:.0f} s after",
            ]
        )
    return lines


# -- drill: the database host falls silent ----------------------------------------------
def answered(fake: FakeTelegram, chat_id: int, before: int) -> Callable[[], bool]:
    """The chat has more than `before` messages: the bot answered."""
    return lambda: len(fake.messages_to(chat_id)) > before


def drill_silent_database(people: int, silent_seconds: float = 60.0) -> list[str] | None:
    """PostgreSQL's host stops answering (no refusal: connections and queries just hang)
    for a minute mid-broadcast; the bot must keep answering and then catch up."""
    programs = postgres_programs()
    if programs is None:
        no_postgres()
        return None
    lines = Report()
    answer_times: list[float] = []
    answers: list[str] = []
    with (
        postgres_broadcast(programs, people) as (folder, postgres, drill_engine),
        realistic_telegram() as fake,
    ):
        bot = BotProcess(fake, "", folder, "silent-database")
        try:
            # Staff who follow no country: what they are told is not counted as the broadcast.
            with session_scope(drill_engine) as session:
                for n in range(40):
                    staff.enrol(
                        session,
                        telegram_user_id=ASKER_ID + n,
                        chat_id=ASKER_ID + n,
                        display_name=f"Asker {n}",
                        username=None,
                        role=Role.STAFF,
                    )
            with SilentHost(("127.0.0.1", postgres.port)) as host:
                bot.database_url = host.relayed(postgres.url("dutybot_drill"))
                bot.start()
                wait_until("a quarter of the broadcast", lambda: len(fake.sent) >= people // 4, 300)
                host.silence()
                went_silent = time.monotonic()
                sent_at_silence = len(copies(fake, people))
                # People keep writing during the silence, each once (an apology per person
                # a minute is all the bot sends); each must get an answer within seconds.
                asker = ASKER_ID
                while time.monotonic() - went_silent < silent_seconds - 15:
                    asked = time.monotonic()
                    before = len(fake.messages_to(asker))
                    fake.inject_message(asker, "/help_me at the office, the road is blocked")
                    wait_until(
                        "an answer while the database is silent", answered(fake, asker, before), 60
                    )
                    answer_times.append(time.monotonic() - asked)
                    answers.append(fake.messages_to(asker)[-1].text)
                    asker += 1
                    time.sleep(2)
                time.sleep(max(0.0, silent_seconds - (time.monotonic() - went_silent)))
                sent_during = len(copies(fake, people)) - sent_at_silence
                if not bot.alive():
                    raise DrillFailed("the bot died while the database was silent")
                host.speak()
                spoke = time.monotonic()
                wait_until("the first message after", more_sent_than(fake, len(fake.sent)), 120)
                resumed = time.monotonic() - spoke
                wait_until("the broadcast to finish", lambda: all_sent(drill_engine), 600)
                finished = time.monotonic() - spoke
                replies = len(fake.messages_to(LEAD_ID))
                fake.inject_message(LEAD_ID, "/subscriptions", first_name="Lena", username="lena")
                wait_until("an answer after", lambda: len(fake.messages_to(LEAD_ID)) > replies, 30)
                answer_after = fake.messages_to(LEAD_ID)[-1].text
        finally:
            bot.stop()
        lines.extend(check_served_once(fake, people, allowed_twice=set()))
        if not answers or any("something went wrong" not in a for a in answers):
            raise DrillFailed(f"answers while silent: {answers!r}")
        if "something went wrong" in answer_after:
            raise DrillFailed(f"the answer after the silence: {answer_after!r}")
        lines.extend(
            [
                f"database host silent for {silent_seconds:.0f} s; the bot kept running",
                f"{len(answers)} people sent /help_me meanwhile; each was told 'something went "
                f"wrong' after {min(answer_times):.1f}-{max(answer_times):.1f} s",
                f"sent while it was silent: {sent_during} (requests already on their way)",
                f"sending resumed {resumed:.1f} s after the host answered again; "
                f"the broadcast finished {finished:.0f} s after",
                f"tracebacks in the log: {len(bot.log_lines(r'^Traceback'))}",
            ]
        )
    return lines


# -- drill: Telegram failing for a minute -------------------------------------------------
def drill_telegram(people: int, seconds: float = 30.0) -> list[str]:
    lines = Report()
    with sqlite_workspace() as (folder, url, engine), realistic_telegram() as fake:
        seed_broadcast(engine, people)
        bot = BotProcess(fake, url, folder, "telegram")
        bot.start()
        try:
            wait_until("a quarter of the broadcast", lambda: len(fake.sent) >= people // 4, 300)
            at_start = len(copies(fake, people))
            fake.fail_for("sendMessage", seconds)  # 502 Bad Gateway
            wait_until("the 5xx window to end", lambda: not fake.in_outage("sendMessage"), 120)
            errors = fake.outage_answers
            # Then no answer at all: held past the client's 5 s read timeout.
            fake.fail_for(
                "sendMessage", seconds, status=504, description="Gateway Timeout", delay=8.0
            )
            wait_until("the timeout window to end", lambda: not fake.in_outage("sendMessage"), 120)
            over = time.monotonic()
            sent_during = len(copies(fake, people)) - at_start
            wait_until("the broadcast to finish", lambda: all_sent(engine), 900)
            finished = time.monotonic() - over
        finally:
            bot.stop()
        lines.extend(check_served_once(fake, people, allowed_twice=set()))
        retries = bot.log_lines(r"attempt \d+ failed .*retrying in")
        delays = [float(d) for d in re.findall(r"retrying in ([\d.]+) s", "\n".join(retries))]
        attempts = Counter(int(a) for a in re.findall(r"attempt (\d+) failed", "\n".join(retries)))
        timeouts = sum(1 for line in retries if "TimedOut" in line)
        if not delays:
            raise DrillFailed("no backoff in the log")
        with session_scope(engine) as session:
            most = max(session.exec(select(Delivery.attempts)).all())
        lines.extend(
            [
                f"Telegram failed for {2 * seconds:.0f} s: {errors} answers 502, then "
                f"{fake.outage_answers - errors} requests left unanswered "
                f"({timeouts} timed out in the bot)",
                f"delivered while failing: {sent_during}; nothing failed or lost",
                f"backoff in the log: {len(retries)} retries; by attempt: "
                + ", ".join(
                    f"#{a}: {n} (waits {_spread(delays, retries, a)})"
                    for a, n in sorted(attempts.items())
                ),
                f"most attempts for one message: {most}; broadcast finished {finished:.0f} s "
                "after Telegram recovered",
            ]
        )
    return lines


def _spread(delays: list[float], retries: list[str], attempt: int) -> str:
    mine = [d for d, line in zip(delays, retries, strict=True) if f"attempt {attempt} " in line]
    return f"{min(mine):.1f}-{max(mine):.1f} s"


# -- drill: broken feeds during a broadcast -----------------------------------------------
CALM = StateItem(
    title="Kazakhstan - Level 1: Exercise Normal Precautions",
    description="<p>Exercise normal precautions in Kazakhstan.</p>",
    tag="KZ",
    slug="kazakhstan",
)
EMPTY_FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
BROKEN_FEEDS: dict[str, tuple[bytes, dict[str, Any]]] = {
    "HTTP error": (b"Service Unavailable", {"status": 503}),
    "timeout": (state_feed(CALM), {"delay": 5.0}),
    "oversize body": (b"<rss>" + b" " * 6_000_000, {}),
    "HTML instead of a feed": (
        b"<!doctype html><html><body>Please log in</body></html>",
        {"content_type": "text/html"},
    ),
    "garbage": (bytes(range(256)) * 64, {}),
    "empty feed": (EMPTY_FEED, {}),
}


async def _drill_feeds(people: int) -> list[str]:
    lines = Report()
    with sqlite_workspace() as (_folder, url, engine), feed_server() as server:
        seed_broadcast(engine, people)
        fake = realistic_telegram()
        fake.start()
        try:
            settings = BotSettings(
                _env_file=None,
                telegram_bot_token=FakeTelegram.TOKEN,
                telegram_base_url=fake.base_url,
                database_url=url,
                feeds_enabled=False,  # the drill polls, as fast as it can
                feed_timeout_seconds=2,
                health_port=0,
            )
            ids: dict[str, int] = {}
            with session_scope(engine) as session:
                for n, (kind, (body, options)) in enumerate(BROKEN_FEEDS.items()):
                    server.serve(f"/{n}.xml", body, **options)
                    added = sources.add(
                        session, kind="rss", url=server.url(f"/{n}.xml"), country="KZ"
                    )
                    assert added is not None and added.id is not None
                    ids[kind] = added.id
            clock = MutableClock()
            async with running_bot(settings, engine=engine, fake=fake, clock=clock) as bot:
                polls = 0
                started = time.monotonic()
                while not await asyncio.to_thread(all_sent, engine):
                    await asyncio.gather(
                        *(feeds.poll_source(bot.services, i) for i in ids.values())
                    )
                    polls += len(ids)
                    clock.advance(minutes=31)  # past each source's backoff
                elapsed = time.monotonic() - started
            with session_scope(engine) as session:
                errors = {s.id: s.last_error or "" for s in session.exec(select(Source)).all()}
        finally:
            fake.stop()
        lines.extend(check_served_once(fake, people, allowed_twice=set()))
        rate, longest_gap = send_rate(fake, people)
        lines.append(
            f"{polls} polls of {len(ids)} broken feeds during the broadcast, each error recorded:"
        )
        for kind, source_id in ids.items():
            if not errors[source_id]:
                raise DrillFailed(f"the {kind} feed was not recorded as failing")
            lines.append(f"  {kind}: {errors[source_id].split(': ', 1)[-1][:80]}")
        lines.append(
            f"broadcast of {people} in {elapsed:.0f} s: {rate:.1f} messages/s (limit 30), "
            f"longest pause between two sends {longest_gap * 1000:.0f} ms"
        )
    return lines


def run_in_process(name: str, drill: Coroutine[Any, Any, list[str]]) -> list[str]:
    """Run a drill whose bot runs in this process; its log goes where the other drills'
    logs go (dutybot-drill-NAME.log)."""
    log_path = Path(tempfile.gettempdir()) / f"dutybot-drill-{name}.log"
    handler = logging.FileHandler(log_path, mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        return asyncio.run(drill)
    finally:
        root.removeHandler(handler)
        handler.close()


def drill_feeds(people: int) -> list[str]:
    return run_in_process("feeds", _drill_feeds(people))


# -- running them ----------------------------------------------------------------------------
DRILLS: dict[str, tuple[str, Callable[[int], list[str] | None]]] = {
    "kill": ("SIGKILL ten times during a broadcast", drill_kill),
    "database": ("PostgreSQL stopped for 30 s during a broadcast", drill_database),
    "silent-database": (
        "PostgreSQL's host silent for 60 s during a broadcast",
        drill_silent_database,
    ),
    "telegram": ("Telegram 5xx for 30 s, then timing out for 30 s", drill_telegram),
    "feeds": ("every kind of broken feed during a broadcast", drill_feeds),
}


def _register_listening_drills() -> None:
    # Their own module (benchmarks/listening.py), which imports this one's helpers.
    from benchmarks.listening import drill_deaf, drill_token

    DRILLS["token"] = ("the token revoked while the bot polls", drill_token)
    DRILLS["deaf"] = ("getUpdates answering 404 for 2 minutes", drill_deaf)


def main(argv: list[str] | None = None) -> int:
    _register_listening_drills()
    from benchmarks.flood import drill_flood  # its own module, which uses this one's pieces

    DRILLS["flood"] = ("a broadcast while strangers flood the bot", drill_flood)
    from benchmarks.blackout import drill_blackout  # its own module too

    DRILLS["blackout"] = ("Telegram cut off during a roll call; SMS reaches people", drill_blackout)
    OWN_SCENE = {"token", "deaf", "flood", "blackout"}
    parser = argparse.ArgumentParser(prog="python -m benchmarks.drills", description=__doc__)
    parser.add_argument("drills", nargs="*", metavar="DRILL", help=", ".join(DRILLS))
    parser.add_argument("--people", type=int, default=2000, help="subscribers (default 2000)")
    parser.add_argument(
        "--blackout-seconds",
        type=float,
        default=60.0,
        help="blackout: how long Telegram is down (default 60, the real 10 minutes scaled down)",
    )
    args = parser.parse_args(argv)
    DRILLS["blackout"] = (
        DRILLS["blackout"][0],
        lambda people: drill_blackout(people, blackout_seconds=args.blackout_seconds),
    )
    unknown = [d for d in args.drills if d not in DRILLS]
    if unknown or args.people < 100:
        parser.error(f"drills are {', '.join(DRILLS)}; --people at least 100")
    chosen = args.drills or list(DRILLS)
    outcomes = []
    for name in chosen:
        title, run = DRILLS[name]
        # The drills that broadcast to --people say so; the others set their own scene.
        audience = "" if name in OWN_SCENE else f", {args.people} subscribers"
        say(f"\n== {name}: {title}{audience} ==")
        started = time.monotonic()
        try:
            lines = run(args.people)
        except DrillFailed as failure:
            say(f"FAILED: {failure}")
            outcomes.append(Outcome(name, False, [str(failure)]))
        else:
            outcomes.append(Outcome(name, None if lines is None else True, lines or []))
        say(f"({time.monotonic() - started:.0f} s)")
    say("\n== summary ==")
    for outcome in outcomes:
        verdict = {True: "passed", False: "FAILED", None: "skipped"}[outcome.passed]
        say(f"{outcome.name:9} {verdict}")
    say(f"the bot's logs: {Path(tempfile.gettempdir()) / 'dutybot-drill-*.log'}")
    say(f"machine: {os.cpu_count()} CPUs; each figure is from a single run")
    return 1 if any(o.passed is False for o in outcomes) else 0


if __name__ == "__main__":
    # Run as the imported module, not as __main__: the drills in their own modules raise
    # benchmarks.drills.DrillFailed, which must be the class `main` catches.
    from benchmarks import drills

    sys.exit(drills.main())
