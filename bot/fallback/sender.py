"""The fallback sender: one task that queues SMS and e-mail for critical messages
Telegram has not delivered in time (bot.fallback.plan), and sends them.

It works the outbox as the Telegram dispatcher does: claims due rows of its channels
(marking them `sending`), records each outcome, retries what the provider or mail
server could not take now with backoff (429 waits as long as asked), marks failed what
will never go (an invalid number, a refused address), and gives up after
SEND_MAX_ATTEMPTS. A row left `sending` by a crash is sent again at start-up, as on
Telegram; while the database is unavailable, outcomes are held in memory and recorded
in order once it is back, before anything else is sent. Addresses are read from the
person when sending: one removed meanwhile stops the message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.engine import Engine

from bot.dispatcher import DATABASE_UNAVAILABLE, backoff_seconds
from bot.fallback import mail, plan
from bot.fallback.mail import SmtpTarget
from bot.fallback.sms import Outcome, SmsClient
from bot.replicas import SenderSeat
from bot.settings import BotSettings
from db import deliveries
from db import fallback as db
from db.deliveries import DueDelivery
from db.engine import session_scope
from db.models import Channel, Delivery, DeliveryKind, Staff
from db.senders import ALONE

log = logging.getLogger(__name__)

BATCH = 20
# How often the outbox is looked at for messages that need a fallback, at most.
PLAN_SECONDS = 1.0


def _ids(row: DueDelivery) -> dict[str, int | None]:
    return {"delivery_id": row.id, "alert_id": row.alert_id, "staff_id": row.staff_id}


class FallbackSender:
    def __init__(
        self,
        *,
        engine: Engine,
        settings: BotSettings,
        clock: Callable[[], datetime],
        on_sent: Callable[[list[int]], Awaitable[None]] | None = None,
        seat: SenderSeat | None = None,
    ) -> None:
        self.engine = engine
        # With several processes (bot.replicas): this one's share of the people.
        self.seat = seat
        self.settings = settings
        self.clock = clock
        # Told the round ids of roll-call messages that went, so live rolls show it.
        self.on_sent = on_sent
        self.sms = SmsClient(settings) if settings.sms_enabled else None
        self.smtp = (
            SmtpTarget.parse(settings.smtp_url.get_secret_value())
            if settings.email_enabled and settings.smtp_url is not None
            else None
        )
        self.channels = [
            channel
            for channel, on in ((Channel.SMS, self.sms), (Channel.EMAIL, self.smtp))
            if on is not None
        ]
        self.sent_count = 0
        self.passes = 0  # looks at the outbox so far, for tests and drills to wait on
        # Outcomes the provider or mail server gave while the database was unavailable:
        # recorded, in order, before anything else is sent (the rows stay `sending`
        # meanwhile, so they are neither sent again nor lost).
        self._unrecorded: list[Callable[[], None]] = []
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    # -- life --------------------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="fallback")
        log.info(
            "fallback on: %s after %.0f s without Telegram",
            " and ".join(c.label for c in self.channels),
            self.settings.fallback_after_seconds,
        )

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.sms is not None:
            await self.sms.aclose()
        try:
            self._record_held()
        except DATABASE_UNAVAILABLE:
            log.error(
                "database still unavailable at shutdown: %d SMS or e-mail outcomes not "
                "recorded; those messages will be sent again at the next start",
                len(self._unrecorded),
            )

    async def _run(self) -> None:
        while not self._stopping:
            try:
                self._record_held()
                await asyncio.to_thread(self._queue_fallbacks)
                sent = await self._send_due()
            except DATABASE_UNAVAILABLE:
                log.warning("fallback: database unavailable; trying again shortly")
                sent = 0
            except Exception:
                log.exception("fallback pass failed; trying again shortly")
                sent = 0
            self.passes += 1
            if not sent:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self._pause())
                self._wake.clear()

    def _pause(self) -> float:
        # A tiny FALLBACK_AFTER_SECONDS (tests, drills) is honoured closely.
        return max(0.05, min(PLAN_SECONDS, self.settings.fallback_after_seconds / 4))

    # -- planning ------------------------------------------------------------------------
    def _queue_fallbacks(self) -> None:
        with session_scope(self.engine) as session:
            queued = plan.queue_fallbacks(
                session,
                now=self.clock(),
                after=timedelta(seconds=self.settings.fallback_after_seconds),
                sms=self.sms is not None,
                email=self.smtp is not None,
            )
        for candidate in queued:
            log.info(
                "delivery %d: not delivered on Telegram (%s); queued by %s",
                candidate.delivery_id,
                candidate.status,
                "SMS" if candidate.mobile else "e-mail",
                extra={"delivery_id": candidate.delivery_id, "staff_id": candidate.staff_id},
            )

    # -- sending -------------------------------------------------------------------------
    async def _send_due(self) -> int:
        with session_scope(self.engine) as session:
            batch = deliveries.claim_due(
                session,
                now=self.clock(),
                limit=BATCH,
                channels=self.channels,
                share=ALONE if self.seat is None else self.seat.share,
                sender_id=None if self.seat is None else self.seat.sender_id,
            )
        if not batch:
            return 0
        rounds = await asyncio.gather(*(self._send_one(row) for row in batch))
        done = sorted({r for r in rounds if r is not None})
        if done and self.on_sent is not None:
            await self.on_sent(done)
        return len(batch)

    # -- recording, held while the database is unavailable ------------------------------
    def _record(self, write: Callable[[], None]) -> None:
        if not self._unrecorded:
            try:
                write()
                return
            except DATABASE_UNAVAILABLE:
                log.warning("fallback: database unavailable; the outcome is held until it is back")
        self._unrecorded.append(write)

    def _record_held(self) -> None:
        while self._unrecorded:
            self._unrecorded[0]()  # raises while the database is still unavailable
            self._unrecorded.pop(0)

    def _release(self, delivery_id: int) -> None:
        with session_scope(self.engine) as session:
            deliveries.release(session, delivery_ids=[delivery_id])

    def _mark_sent(self, delivery_id: int, detail: str, at: datetime) -> None:
        with session_scope(self.engine) as session:
            db.mark_sent(session, delivery_id=delivery_id, at=at, detail=detail)

    async def _send_one(self, row: DueDelivery) -> int | None:
        """Send one row and record its outcome; the round it belongs to when it went."""
        try:
            with session_scope(self.engine) as session:
                delivery = session.get(Delivery, row.id)
                person = session.get(Staff, row.staff_id)
                channel = Channel(delivery.channel) if delivery is not None else None
                kind = DeliveryKind(delivery.kind) if delivery is not None else DeliveryKind.OTHER
                round_id = delivery.round_id if delivery is not None else None
                address = None
                if person is not None:
                    address = person.mobile if channel is Channel.SMS else person.email
        except DATABASE_UNAVAILABLE:
            self._record(partial(self._release, row.id))  # not sent: back to the queue
            return None
        if channel is None:
            return None
        if address is None:
            self._record_failed(row, f"no {channel.label} address any more")
            return None
        if channel is Channel.SMS:
            assert self.sms is not None
            result = await self.sms.send(to=address, body=row.text)
            outcome, detail, wait = result.outcome, result.detail, result.retry_after
        else:
            assert self.smtp is not None and self.settings.smtp_from is not None
            text, html = plan.email_bodies(row.text, kind=kind, round_id=round_id)
            message = mail.compose(
                sender=self.settings.smtp_from,
                to=address,
                subject=plan.email_subject(kind, round_id),
                text=text,
                html=html,
            )
            sent = await mail.send(self.smtp, message)
            outcome, detail, wait = sent.outcome, sent.detail, None
        if outcome is Outcome.SENT:
            self._record(partial(self._mark_sent, row.id, detail, self.clock()))
            self.sent_count += 1
            log.info("delivery %d: sent by %s", row.id, channel.label, extra=_ids(row))
            return round_id
        if outcome is Outcome.REFUSED:
            log.error("delivery %d: %s refused: %s", row.id, channel.label, detail, extra=_ids(row))
            self._record_failed(row, detail)
            return None
        self._retry(row, channel, detail, wait)
        return None

    def _record_failed(self, row: DueDelivery, error: str) -> None:
        self._record(partial(self._mark_failed, row.id, error))

    def _mark_failed(self, delivery_id: int, error: str) -> None:
        with session_scope(self.engine) as session:
            deliveries.mark_failed(session, delivery_id=delivery_id, error=error)

    def _retry(self, row: DueDelivery, channel: Channel, error: str, wait: float | None) -> None:
        attempts = row.attempts + 1
        if attempts >= self.settings.send_max_attempts:
            log.error(
                "delivery %d: giving up on %s after %d attempts: %s",
                row.id,
                channel.label,
                attempts,
                error,
                extra=_ids(row),
            )
            self._record_failed(row, error)
            return
        delay = wait if wait is not None else backoff_seconds(attempts)
        log.warning(
            "delivery %d: %s attempt %d failed (%s); retrying in %.1f s",
            row.id,
            channel.label,
            attempts,
            error,
            delay,
            extra=_ids(row),
        )
        self._record(
            partial(self._mark_retry, row.id, error, self.clock() + timedelta(seconds=delay))
        )

    def _mark_retry(self, delivery_id: int, error: str, at: datetime) -> None:
        with session_scope(self.engine) as session:
            deliveries.mark_retry(session, delivery_id=delivery_id, error=error, at=at)
