"""Several `dutybot run` replicas on one PostgreSQL, sending one roll call to 10,000 people.

Part of `make bench` (benchmarks/broadcast.py prints its rows in the same table): the
bot as it would run scaled out, each replica a process of its own in webhook mode behind
the same PostgreSQL, with paid broadcasts on, against the simulated Bot API served by its
asyncio front (which serves well over 2,000 requests a second, so that it is never the
limit being measured). For 1, 2 and 3 replicas: the rate, what each added replica
brings, and each replica's CPU per thousand messages. Then the drill: three replicas, one
killed with SIGKILL in the middle. Nothing may be lost; only messages the killed replica
had claimed and not recorded may arrive twice; the survivors take over its share.

    .venv/bin/python -m benchmarks.replicas          # needs TEST_DATABASE_URL (PostgreSQL)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
from sqlmodel import col, select

from benchmarks.broadcast import (
    MARKER,
    Row,
    Watch,
    _cpu_seconds,
    _fill_row,
    _free_port,
    _loop_lag,
    _peak_mb,
    _prepare_database,
    _process,
    _unsent,
    print_table,
    warmed,
    without_collector_pauses,
)
from benchmarks.people import FIRST_STAFF_ID, LEAD_ID
from bot.sim.telegram.flood import FloodMode, RateLimits
from bot.sim.telegram.server import FakeTelegram
from db.engine import make_engine, session_scope
from db.models import Delivery, DeliveryStatus, Sender
from db.senders import LEASE

PAID_RATE = 1_000
SECRET = "bench-webhook-secret-0123456789"
PUBLIC_URL = "https://dutybot.example.org/telegram"


class Replica:
    """One `dutybot run` process in webhook mode."""

    def __init__(self, stack: ExitStack, *, url: str, fake: FakeTelegram, log: Path) -> None:
        self.webhook_port = _free_port()
        self.health_port = _free_port()
        env = {
            "TELEGRAM_BOT_TOKEN": FakeTelegram.TOKEN,
            "TELEGRAM_BASE_URL": fake.base_url,
            "TELEGRAM_WEBHOOK_URL": PUBLIC_URL,
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "WEBHOOK_PORT": str(self.webhook_port),
            "HEALTH_PORT": str(self.health_port),
            "DATABASE_URL": url,
            "ADMIN_TELEGRAM_IDS": "",
            "SEND_RATE_PER_SECOND": "30",
            "PAID_BROADCAST": "true",
            "FEEDS_ENABLED": "false",
        }
        self.log = log
        self.process: subprocess.Popen[str] = stack.enter_context(
            _process([sys.executable, "-m", "bot", "run"], env, log)
        )

    def up(self) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.health_port}/healthz", timeout=2).is_success
        except httpx.HTTPError:
            return False

    def post(self, update: dict[str, object]) -> None:
        answer = httpx.post(
            f"http://127.0.0.1:{self.webhook_port}/telegram",
            content=json.dumps(update),
            headers={
                "Content-Type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": SECRET,
            },
            timeout=10,
        )
        answer.raise_for_status()


def _senders(url: str) -> dict[int, int]:
    """Live senders: process id -> sender id (a sender's name ends with its pid)."""
    engine = make_engine(url)
    with session_scope(engine) as session:
        rows = session.exec(select(Sender.id, Sender.name)).all()
    engine.dispose()
    return {int(name.rsplit(":", 1)[1]): sender_id or 0 for sender_id, name in rows}


def _claimed_by(url: str, sender_id: int) -> set[int]:
    """Chats whose message the sender claimed and has not recorded as sent."""
    engine = make_engine(url)
    with session_scope(engine) as session:
        chats = session.exec(
            select(Delivery.chat_id).where(
                col(Delivery.claimed_by) == sender_id,
                col(Delivery.status) == DeliveryStatus.SENDING.value,
            )
        ).all()
    engine.dispose()
    return set(chats)


def _wait(what: str, done: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not done():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _machine_busy() -> tuple[float, float] | None:
    """(busy, total) CPU time of the whole machine so far, from /proc/stat."""
    try:
        fields = [float(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _rate_between(times: list[float], start: float, end: float) -> float:
    inside = [t for t in times if start <= t < end]
    return len(inside) / (end - start) if end > start else 0.0


def run(url: str, *, people: int, replicas: int, kill: bool, folder: Path) -> Row:
    """One roll call to `people`, sent by `replicas` processes; with `kill`, the second of
    them is killed once a third of the people have their question."""
    name = "replica killed" if kill else "replicas-paid-10k"
    row = Row(name, "postgresql", f"dutybot x{replicas}", PAID_RATE, FloodMode.TOKEN_BUCKET.value)
    expected = {FIRST_STAFF_ID + n for n in range(people)}
    limits = RateLimits(global_per_second=30, paid_per_second=PAID_RATE)
    with FakeTelegram(rate_limits=limits, server="async") as fake, ExitStack() as stack:
        _prepare_database(url, people=people, advisory=None)
        started = [
            Replica(stack, url=url, fake=fake, log=folder / f"replica-{n}.log")
            for n in range(replicas)
        ]
        _wait("the replicas", lambda: all(r.up() for r in started), 120)
        for replica in started:
            warmed(replica.log)
        _wait("every sender", lambda: len(_senders(url)) == replicas, 30)
        # A replica that joins others waits two heartbeats before it sends.
        time.sleep(3)
        watch = Watch(fake)
        update = fake.inject_message(
            LEAD_ID,
            f"/checkin KZ {MARKER}: are you safe? 2h",
            first_name="Lena Lead",
            username="lena",
        )
        assert update is not None
        sent = time.monotonic()
        started[0].post(update)
        cpu_before = {r.process.pid: _cpu_seconds(r.process.pid) for r in started}
        machine_before = _machine_busy()
        killed_at: float | None = None
        allowed_twice: set[int] = set()
        if kill:
            watch.wait(lambda: len(watch.copies) >= people // 3, what="a third of them")
            victim = started[1]
            victim_id = _senders(url)[victim.process.pid]
            victim.process.send_signal(signal.SIGKILL)
            victim.process.wait()
            killed_at = time.monotonic()
            # What it had claimed and not recorded: it may have reached Telegram.
            allowed_twice = _claimed_by(url, victim_id)
        watch.wait(lambda: len(watch.copies) >= len(expected), what="the roll call")
        machine_after = _machine_busy()
        survivors = [r for r in started if r.process.poll() is None]
        cpu = {r.process.pid: _cpu_seconds(r.process.pid) for r in survivors}
        row.peak_mb = max((_peak_mb(r.process.pid) or 0 for r in survivors), default=None)
        row.lag = _loop_lag(started[0].health_port)
        time.sleep(1.5)  # duplicates would arrive now
        watch.poll()
        _fill_row(row, watch, expected, sent)
        spent = [
            after - before
            for pid, after in cpu.items()
            if after is not None and (before := cpu_before.get(pid)) is not None
        ]
        if spent and row.messages:
            row.cpu_per_k = sum(spent) / row.messages * 1000
        twice = {chat for chat, n in watch.copies.items() if n > 1}
        if killed_at is not None:
            row.duplicates = len(twice - allowed_twice)  # only unexplained ones count
            lease = LEASE.total_seconds()
            row.notes.append(
                f"killed after {killed_at - sent:.1f} s with {len(allowed_twice)} claimed and "
                f"unrecorded; {len(twice)} people got a second copy, "
                f"{len(twice - allowed_twice)} of them outside those; rate in the 3 s before "
                f"the kill {_rate_between(watch.times, killed_at - 3, killed_at):.0f}/s, "
                f"until its lease ran out "
                f"{_rate_between(watch.times, killed_at, killed_at + lease):.0f}/s, after "
                f"{_rate_between(watch.times, killed_at + lease + 1, max(watch.times)):.0f}/s"
            )
        deadline = time.monotonic() + 15
        while (unsent := _unsent(url)) and time.monotonic() < deadline:
            time.sleep(0.2)
        if unsent:
            row.notes.append(f"{unsent} outbox rows not recorded as sent")
        per_replica = ", ".join(
            f"{(after - (cpu_before[pid] or 0)) / max(1, row.messages) * 1000:.2f}"
            for pid, after in cpu.items()
            if after is not None
        )
        row.notes.append(f"CPU s/1k per replica: {per_replica}")
        if machine_before is not None and machine_after is not None:
            busy = machine_after[0] - machine_before[0]
            total = machine_after[1] - machine_before[1]
            row.notes.append(
                f"the machine's {os.cpu_count()} CPUs were {busy / total:.0%} busy meanwhile"
            )
    return row


def rows(url: str, *, people: int, counts: tuple[int, ...] = (1, 2, 3)) -> list[Row]:
    result: list[Row] = []
    for replicas in counts:
        print(f"replicas-paid-10k: {people} people, {replicas} replica(s) ...", flush=True)
        with tempfile.TemporaryDirectory() as folder, without_collector_pauses():
            result.append(
                run(url, people=people, replicas=replicas, kill=False, folder=Path(folder))
            )
    print(f"replica killed: {people} people, 3 replicas, one killed ...", flush=True)
    with tempfile.TemporaryDirectory() as folder, without_collector_pauses():
        result.append(run(url, people=people, replicas=3, kill=True, folder=Path(folder)))
    base = result[0].rate
    for row, replicas in zip(result, counts, strict=False):
        if replicas > 1 and base:
            row.notes.append(
                f"{(row.rate - base) / (replicas - 1):+.0f} msg/s per replica added to one"
            )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        parser.error("several replicas need PostgreSQL: set TEST_DATABASE_URL")
    print(f"CPUs: {os.cpu_count()}", flush=True)
    print_table(rows(url, people=args.people, counts=tuple(args.replicas)))


if __name__ == "__main__":
    main()
