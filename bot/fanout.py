"""Finishing fan-outs: queueing an alert for the rest of its country, a chunk at a time.

Send (or a feed poll) queues an alert for the first people of its country and records how
far it got on the alert (`db.broadcasts.fan_out`); the dispatcher starts sending at once.
This task queues the rest, one chunk a transaction, leaving the loop to the dispatcher
and every handler between chunks for as long as a chunk took. At start-up it resumes
whatever a crash or a stop left unfinished: the alert's cursor is committed with each
chunk, and rows are unique per person, so nobody is left out and nobody is queued twice.
"""

from __future__ import annotations

import asyncio
import logging
import time

from bot.context import Services
from bot.dispatcher import DATABASE_UNAVAILABLE
from db import broadcasts
from db.engine import session_scope

log = logging.getLogger(__name__)

# After a failure (the database away), wait this long before trying again.
RETRY_SECONDS = 2.0


def continue_fan_outs(svc: Services) -> None:
    """Make sure every unfinished fan-out is being finished (one task does them all)."""
    if svc.fan_out_task is None or svc.fan_out_task.done():
        svc.fan_out_task = asyncio.create_task(_finish_fan_outs(svc), name="fan-out")


async def _finish_fan_outs(svc: Services) -> None:
    chunk = svc.settings.fan_out_chunk
    while True:
        try:
            with session_scope(svc.engine) as session:
                unfinished = broadcasts.fanning_out(session)
            if not unfinished:
                return
            for alert_id in unfinished:
                started = time.monotonic()
                with session_scope(svc.engine) as session:
                    queued = broadcasts.continue_fan_out(
                        session, alert_id=alert_id, now=svc.clock(), chunk=chunk
                    )
                if queued.done:
                    log.info(
                        "alert %d: queued for everyone", alert_id, extra={"alert_id": alert_id}
                    )
                    # The dispatcher may have run out of this alert's rows meanwhile.
                    svc.wake_dispatcher()
                # Sends and handlers get the loop at least as long as a chunk took: the
                # first messages must not wait for the rest of the audience to be queued.
                await asyncio.sleep(time.monotonic() - started)
        except DATABASE_UNAVAILABLE:
            log.warning("fan-out paused: database unavailable; retrying in %.0f s", RETRY_SECONDS)
            await asyncio.sleep(RETRY_SECONDS)
        except Exception:
            log.exception("fan-out failed; retrying in %.0f s", RETRY_SECONDS)
            await asyncio.sleep(RETRY_SECONDS)
