"""The delivery dispatcher: sends the outbox to Telegram in priority order, within limits.

One long-running task. It takes due rows (most urgent first, then oldest), paces them
under the global rate, keeps each chat under its own rate, and records every outcome
in the database the moment it is known:

- sent: Telegram's message id is stored; the row is never sent again;
- 429: the row waits `retry_after` and the whole dispatcher pauses as long;
- timeout, 5xx, network errors: retried with exponential backoff;
- 403, "chat not found", deactivated: the person is marked unreachable, everything
  queued for them stops, and their leads are told;
- any other 400: the message itself is bad; it is marked failed and logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from telegram import Bot, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot import render
from bot.ratelimit import Pacer
from bot.settings import Settings
from db import deliveries, staff
from db.deliveries import DueDelivery, Recipient
from db.engine import session_scope
from db.models import Priority, Staff

log = logging.getLogger(__name__)

# Bad requests that mean the chat is gone for good, not that the message was wrong.
_GONE = ("chat not found", "user is deactivated", "bot was blocked", "peer_id_invalid")


def backoff_seconds(attempts: int) -> float:
    """2, 4, 8 ... seconds, capped at 5 minutes, with jitter so retries do not stampede."""
    base: float = min(2.0**attempts, 300.0)
    return base * random.uniform(0.8, 1.2)  # jitter, not security


class Dispatcher:
    def __init__(
        self,
        *,
        bot: Bot,
        engine: Engine,
        settings: Settings,
        clock: Callable[[], datetime],
        on_progress: Callable[[], None] | None = None,
    ) -> None:
        self.bot = bot
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.on_progress = on_progress
        self.pacer = Pacer(settings.send_rate_per_second)
        self._chat_interval = 1.0 / settings.send_rate_per_chat_per_second
        self._chat_free_at: dict[int, float] = {}
        self._in_flight: set[asyncio.Task[None]] = set()
        self._in_flight_chats: set[int] = set()
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self.sent_count = 0

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        with session_scope(self.engine) as session:
            interrupted = deliveries.requeue_interrupted(session)
        if interrupted:
            # Telegram may have received these just before the last stop; sending again
            # is the price of never losing one.
            log.warning("requeued %d deliveries interrupted by the last shutdown", interrupted)
        self._task = asyncio.create_task(self._run(), name="dispatcher")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        """Finish the requests already under way, then stop taking new ones."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._in_flight:
            await asyncio.wait(self._in_flight, timeout=10)

    # -- the loop --------------------------------------------------------------------
    async def _run(self) -> None:
        while not self._stopping:
            try:
                progressed = await self._dispatch_once()
            except Exception:
                # The database may be down; keep the loop alive and try again shortly.
                log.exception("dispatcher pass failed; retrying in 2 s")
                await self._sleep(2.0)
                continue
            if not progressed:
                await self._sleep(self._idle_wait())

    def _busy_chats(self) -> set[int]:
        now = time.monotonic()
        for chat, free_at in list(self._chat_free_at.items()):
            if free_at <= now:
                del self._chat_free_at[chat]
        return self._in_flight_chats | set(self._chat_free_at)

    async def _dispatch_once(self) -> bool:
        self._wake.clear()
        batch_size = max(32, min(500, int(self.settings.send_rate_per_second * 2)))
        with session_scope(self.engine) as session:
            batch = deliveries.due(
                session, now=self.clock(), limit=batch_size, busy_chats=self._busy_chats()
            )
        progressed = False
        for row in batch:
            if self._stopping or self._wake.is_set():
                # Something new was queued: it may be more urgent than the rest of this
                # batch, so look again.
                break
            if (
                row.chat_id in self._in_flight_chats
                or self._chat_free_at.get(row.chat_id, 0.0) > time.monotonic()
            ):
                continue
            while len(self._in_flight) >= self.settings.send_max_in_flight:
                await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)
            await self.pacer.acquire()
            if self._stopping:
                break
            self._start_send(row)
            progressed = True
        return progressed

    def _idle_wait(self) -> float:
        soonest_chat = min(self._chat_free_at.values(), default=None)
        wait = 1.0
        if soonest_chat is not None:
            wait = min(wait, max(0.01, soonest_chat - time.monotonic()))
        with contextlib.suppress(Exception), session_scope(self.engine) as session:
            next_at = deliveries.next_due_at(session)
            if next_at is not None:
                wait = min(wait, max(0.01, (next_at - self.clock()).total_seconds()))
        return wait

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)

    def _start_send(self, row: DueDelivery) -> None:
        with session_scope(self.engine) as session:
            deliveries.mark_sending(session, delivery_id=row.id, now=self.clock())
        self._in_flight_chats.add(row.chat_id)
        self._chat_free_at[row.chat_id] = time.monotonic() + self._chat_interval
        task = asyncio.create_task(self._send(row), name=f"delivery:{row.id}")
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    # -- one message -----------------------------------------------------------------
    async def _send(self, row: DueDelivery) -> None:
        try:
            await self._send_and_record(row)
        except Exception:
            log.exception("delivery %d: could not record the outcome", row.id)
        finally:
            self._in_flight_chats.discard(row.chat_id)
            if self.on_progress is not None:
                self.on_progress()

    async def _send_and_record(self, row: DueDelivery) -> None:
        markup = (
            InlineKeyboardMarkup.de_json(row.reply_markup, self.bot) if row.reply_markup else None
        )
        try:
            message = await self.bot.send_message(
                chat_id=row.chat_id,
                text=row.text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                link_preview_options=None,
            )
        except RetryAfter as error:
            wait = error.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            self.pacer.pause(seconds)
            log.warning("delivery %d: Telegram asked to wait %.0f s (429)", row.id, seconds)
            self._retry(row, f"429 retry after {seconds:.0f} s", seconds, count_attempt=False)
        except Forbidden as error:
            self._unreachable(row, error.message)
        except BadRequest as error:
            if any(marker in error.message.lower() for marker in _GONE):
                self._unreachable(row, error.message)
            else:
                log.error("delivery %d: Telegram refused the message: %s", row.id, error.message)
                with session_scope(self.engine) as session:
                    deliveries.mark_failed(session, delivery_id=row.id, error=error.message)
        except (NetworkError, TelegramError) as error:
            # Timeouts, 5xx and connection errors are passing; back off and try again.
            self._retry(row, f"{type(error).__name__}: {error.message}", None)
        else:
            with session_scope(self.engine) as session:
                deliveries.mark_sent(
                    session, delivery_id=row.id, message_id=message.message_id, now=self.clock()
                )
            self.sent_count += 1

    def _retry(
        self, row: DueDelivery, error: str, after: float | None, *, count_attempt: bool = True
    ) -> None:
        attempts = row.attempts + 1
        with session_scope(self.engine) as session:
            if count_attempt and attempts >= self.settings.send_max_attempts:
                log.error("delivery %d: giving up after %d attempts: %s", row.id, attempts, error)
                deliveries.mark_failed(session, delivery_id=row.id, error=error)
                return
            delay = after if after is not None else backoff_seconds(attempts)
            log.warning(
                "delivery %d: attempt %d failed (%s); retrying in %.1f s",
                row.id,
                attempts,
                error,
                delay,
            )
            deliveries.mark_retry(
                session,
                delivery_id=row.id,
                error=error,
                at=self.clock() + timedelta(seconds=delay),
            )

    def _unreachable(self, row: DueDelivery, reason: str) -> None:
        log.warning("delivery %d: staff %d is unreachable: %s", row.id, row.staff_id, reason)
        with session_scope(self.engine) as session:
            deliveries.mark_unreachable(session, staff_id=row.staff_id, error=reason)
            if not staff.mark_unreachable(session, staff_id=row.staff_id):
                return  # already known; the leads were told then
            person = session.get(Staff, row.staff_id)
            leads = staff.leads_of(session, staff_id=row.staff_id)
            if person is None or not leads:
                return
            text = render.unreachable_notice(
                name=person.display_name,
                username=person.username,
                reason=f"They blocked the bot or their account is gone (Telegram said: {reason}).",
            )
            deliveries.enqueue(
                session,
                dedupe_key=f"unreachable:{row.staff_id}:{row.id}",
                recipients=[
                    Recipient(staff_id=lead.id, chat_id=lead.chat_id)
                    for lead in leads
                    if lead.id is not None and lead.reachable
                ],
                parts=[text],
                priority=Priority.HIGH,
                now=self.clock(),
            )
        self.wake()
