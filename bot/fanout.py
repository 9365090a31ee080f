"""Finishing fan-outs: queueing an alert, or a roll call's question, for the rest of its
country, a chunk at a time.

Send (or a feed poll) queues an alert for the first people of its country and records how
far it got on the alert (`db.broadcasts.fan_out`); /checkin (or a departure advisory) does
the same with a roll call's question (`bot.rollcall.rules.start_round`). The dispatcher
starts sending at once: this task first lets it claim what is queued (up to
HEAD_START_SECONDS), then queues the rest, one chunk a transaction in a worker thread,
leaving the dispatcher and every handler between chunks as long as a chunk took. At
start-up it resumes whatever a crash or a stop left unfinished: the cursor is committed
with each chunk, and rows are unique per person, so nobody is left out and nobody is
queued twice.
"""

from __future__ import annotations

import asyncio
import logging
import time

from bot.context import Services
from bot.dispatcher import DATABASE_UNAVAILABLE
from bot.rollcall import rules
from db import broadcasts, checkins
from db.engine import session_scope

log = logging.getLogger(__name__)

# After a failure (the database away), wait this long before trying again.
RETRY_SECONDS = 2.0
# The most the first chunk waits for the dispatcher to claim what is queued already.
HEAD_START_SECONDS = 0.5


def continue_fan_outs(svc: Services) -> None:
    """Make sure every unfinished fan-out is being finished (one task does them all)."""
    if svc.fan_out_task is None or svc.fan_out_task.done():
        svc.fan_out_task = asyncio.create_task(_finish_fan_outs(svc), name="fan-out")


async def _head_start(svc: Services) -> None:
    """The first people's messages are claimed before the next chunk is written."""
    if svc.dispatcher is not None:
        await svc.dispatcher.looked(within=HEAD_START_SECONDS)


async def _finish_fan_outs(svc: Services) -> None:
    chunk = svc.settings.fan_out_chunk
    await _head_start(svc)
    while True:
        try:
            with session_scope(svc.engine) as session:
                alerts = broadcasts.fanning_out(session)
                rounds = checkins.rounds_queueing(session)
            if not alerts and not rounds:
                return
            # After each chunk, sends and handlers get the loop at least as long as the
            # chunk took: the first messages must not wait for the rest to be queued.
            for alert_id in alerts:
                started = time.monotonic()
                queued = await asyncio.to_thread(_alert_chunk, svc, alert_id, chunk)
                _queued(svc, "alert", alert_id, done=queued.done)
                await asyncio.sleep(time.monotonic() - started)
            for round_id in rounds:
                started = time.monotonic()
                done = await asyncio.to_thread(_round_chunk, svc, round_id, chunk)
                _queued(svc, "roll call", round_id, done=done)
                await asyncio.sleep(time.monotonic() - started)
        except DATABASE_UNAVAILABLE:
            log.warning("fan-out paused: database unavailable; retrying in %.0f s", RETRY_SECONDS)
            await asyncio.sleep(RETRY_SECONDS)
        except Exception:
            log.exception("fan-out failed; retrying in %.0f s", RETRY_SECONDS)
            await asyncio.sleep(RETRY_SECONDS)


def _alert_chunk(svc: Services, alert_id: int, chunk: int) -> broadcasts.Queued:
    with session_scope(svc.engine) as session:
        return broadcasts.continue_fan_out(session, alert_id=alert_id, now=svc.clock(), chunk=chunk)


def _round_chunk(svc: Services, round_id: int, chunk: int) -> bool:
    with session_scope(svc.engine) as session:
        return rules.continue_round(session, round_id=round_id, now=svc.clock(), chunk=chunk)


def _queued(svc: Services, what: str, ident: int, *, done: bool) -> None:
    # The dispatcher may have run out of the earlier chunks' rows meanwhile.
    svc.wake_dispatcher()
    if done:
        key = "round_id" if what == "roll call" else "alert_id"
        log.info("%s %d: queued for everyone", what, ident, extra={key: ident})
