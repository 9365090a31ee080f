"""Several processes on one PostgreSQL: each one's seat among the senders of the outbox,
and the one that runs the scheduled jobs.

`dutybot run` may run as several replicas behind one PostgreSQL (webhook mode: any of
them takes updates). Then:

- every replica sends: `SenderSeat` registers it as a sender (db.senders), says it is
  alive every second, and tells the dispatcher its share: which chats are its own and
  what part of the flood limits. A replica that dies gives its share back when its lease
  runs out, and its claimed rows go back to the queue;
- one replica runs the scheduled jobs (feed polls, reminders, deadlines, reports): the
  one holding a PostgreSQL advisory lock (`Leadership`). The lock goes with its
  connection, so when that replica dies another takes it within LEADERSHIP_SECONDS and
  plans every job again from the database. Jobs planned on the others (a round started
  there) do not run there; the leader plans them from the database every REPLAN_SECONDS.

On SQLite there is one process: its seat is the only one and it always leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import socket
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.pool import NullPool
from telegram.ext import Job, JobQueue

from db import senders
from db.engine import session_scope
from db.senders import ALONE, Share
from db.types import utcnow

log = logging.getLogger(__name__)

# What the database raises when it is down, restarting or unreachable.
_UNAVAILABLE = (OperationalError, InterfaceError)

# The advisory lock the leader holds ("dutybot" in ASCII, as a 64-bit key).
LEADER_LOCK = 0x647574796267
# How often a replica that does not lead tries to, and the leader checks it still does.
LEADERSHIP_SECONDS = 2.0
# How often the leader plans again, from the database, the jobs other replicas planned.
REPLAN_SECONDS = 15.0
# Heartbeats a sender joining others waits before its first send.
JOIN_BEATS = 2
# Jobs every replica runs for itself: they only redraw what that replica was asked for.
LOCAL_JOBS = ("rollcall-roll:", "leadership")


def is_solo(engine: Engine) -> bool:
    """SQLite is one process; only PostgreSQL is shared by several."""
    return engine.dialect.name != "postgresql"


class SenderSeat:
    """This process's seat among the senders: its id, its share, its heartbeat."""

    def __init__(
        self,
        engine: Engine,
        *,
        name: str | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.solo = is_solo(engine)
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        # The real clock, even in tests that move the bot's own: leases are real seconds.
        self.clock = clock
        self.sender_id: int | None = None
        self.share: Share = ALONE
        self.on_share: list[Callable[[Share], None]] = []
        self._flooded_until: datetime | None = None
        self._paid_flooded_until: datetime | None = None
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._unavailable = False
        self._beats_to_ready = 0

    async def start(self) -> None:
        """Register; with other senders alive, wait JOIN_BEATS heartbeats before sending:
        they lower their rates at their next heartbeat, and what they sent at the old
        rate must have left the one-second window first."""
        if self.solo:
            self._ready.set()
            return
        with session_scope(self.engine) as session:
            senders.reap(session, now=self.clock())
            self.sender_id = senders.register(session, name=self.name, now=self.clock())
            share = senders.heartbeat(session, sender_id=self.sender_id, now=self.clock())
        self._apply(share or ALONE)
        log.info("sender %d of %d (%s)", self.share.index + 1, self.share.count, self.name)
        self._beats_to_ready = 0 if self.share.count == 1 else JOIN_BEATS
        if not self._beats_to_ready:
            self._ready.set()
        self._task = asyncio.create_task(self._run(), name="sender-heartbeat")

    async def ready(self) -> None:
        await self._ready.wait()

    def flooded(self, until: datetime, *, paid: bool = False) -> None:
        """Telegram answered 429 (to a paid broadcast: `paid`): the others hear of it at
        the next heartbeat."""
        if paid:
            self._paid_flooded_until = _later(self._paid_flooded_until, until)
        else:
            self._flooded_until = _later(self._flooded_until, until)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.sender_id is not None:
            with contextlib.suppress(*_UNAVAILABLE), session_scope(self.engine) as session:
                senders.deregister(session, sender_id=self.sender_id)

    async def _run(self) -> None:
        interval = senders.HEARTBEAT.total_seconds()
        while True:
            await asyncio.sleep(interval)
            try:
                self.beat()
            except _UNAVAILABLE:
                if not self._unavailable:
                    log.warning("sender heartbeat: database unavailable; keeping the share")
                self._unavailable = True
            except Exception:
                log.exception("sender heartbeat failed")
            else:
                self._unavailable = False
            self._beats_to_ready -= 1
            if self._beats_to_ready <= 0:
                self._ready.set()

    def beat(self) -> None:
        """One heartbeat: say this sender is alive, read its share, and (the first sender)
        give back the rows of senders that are gone."""
        assert self.sender_id is not None
        now = self.clock()
        flooded, self._flooded_until = self._flooded_until, None
        paid_flooded, self._paid_flooded_until = self._paid_flooded_until, None
        with session_scope(self.engine) as session:
            share = senders.heartbeat(
                session,
                sender_id=self.sender_id,
                now=now,
                flooded_until=flooded,
                paid_flooded_until=paid_flooded,
            )
            if share is None:
                log.warning(
                    "sender %d was taken for gone (no heartbeat for %.0f s); registering again",
                    self.sender_id,
                    senders.LEASE.total_seconds(),
                )
                self.sender_id = senders.register(session, name=self.name, now=now)
                share = senders.heartbeat(session, sender_id=self.sender_id, now=now)
            if share is not None and share.index == 0:
                given_back = senders.reap(session, now=now)
                if given_back:
                    log.warning(
                        "%d deliveries claimed by a sender that is gone go back to the queue",
                        given_back,
                    )
        self._apply(share or ALONE)

    def _apply(self, share: Share) -> None:
        changed = (share.index, share.count) != (self.share.index, self.share.count)
        self.share = share
        if changed and self.sender_id is not None:
            log.info("sender %d is now %d of %d", self.sender_id, share.index + 1, share.count)
        for listener in self.on_share:
            listener(share)


def _later(known: datetime | None, until: datetime) -> datetime:
    return until if known is None or until > known else known


class Leadership:
    """Whether this process runs the scheduled jobs: on PostgreSQL, while it holds the
    leader's advisory lock on a connection of its own; on SQLite, always."""

    def __init__(self, engine: Engine) -> None:
        self.solo = is_solo(engine)
        # The lock lives as long as its connection: one of its own, outside the pool, in
        # autocommit (never idle in a transaction), and cut by the kernel when the
        # database host goes away, so that the lead is never held by nobody.
        self.engine = create_engine(
            engine.url,
            poolclass=NullPool,
            isolation_level="AUTOCOMMIT",
            connect_args={
                "connect_timeout": 5,
                "keepalives": 1,
                "keepalives_idle": 5,
                "keepalives_interval": 2,
                "keepalives_count": 3,
                "tcp_user_timeout": 5000,
                "options": "-c statement_timeout=5000",
            },
        )
        self._connection: Connection | None = None
        self._planned_at = -math.inf  # time.monotonic() of the last plan from the database

    def due_to_plan(self, took_over: bool) -> bool:
        """Whether the leader should plan the jobs again: it just took over, or
        REPLAN_SECONDS have passed since it last did."""
        if not self.leads:
            return False
        now = time.monotonic()
        if not took_over and now - self._planned_at < REPLAN_SECONDS:
            return False
        self._planned_at = now
        return True

    @property
    def leads(self) -> bool:
        return self.solo or self._connection is not None

    def try_lead(self) -> bool:
        """Take the lead if nobody has it; True the moment this process becomes leader."""
        if self.solo:
            return False
        if self._connection is not None:
            try:
                self._connection.execute(select(1))
                return False
            except _UNAVAILABLE:
                log.warning("lost the connection that held the lead; scheduled jobs stop here")
                self._drop()
        try:
            connection = self.engine.connect()
        except _UNAVAILABLE:
            return False
        try:
            lock = select(func.pg_try_advisory_lock(LEADER_LOCK))
            taken = bool(connection.execute(lock).scalar())
        except _UNAVAILABLE:
            taken = False
        if not taken:
            connection.close()
            return False
        self._connection = connection
        log.info("this process runs the scheduled jobs")
        return True

    def release(self) -> None:
        if self._connection is None:
            self.engine.dispose()
            return
        with contextlib.suppress(*_UNAVAILABLE):
            self._connection.execute(select(func.pg_advisory_unlock(LEADER_LOCK)))
        self._drop()
        self.engine.dispose()

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()


class OnceJobQueue(JobQueue[Any]):
    """PTB's job queue, running each job only in the process that leads (see Leadership);
    LOCAL_JOBS run everywhere."""

    def __init__(self) -> None:
        super().__init__()
        self.leadership: Leadership | None = None

    @staticmethod
    async def job_callback(job_queue: JobQueue[Any], job: Job[Any]) -> None:
        leadership = getattr(job_queue, "leadership", None)
        if (
            leadership is not None
            and not leadership.leads
            and not (job.name or "").startswith(LOCAL_JOBS)
        ):
            return
        await JobQueue.job_callback(job_queue, job)
