"""The delivery dispatcher: sends the outbox to Telegram in priority order, within limits.

One long-running task. It claims due rows (most urgent first, then oldest) half a
second's worth at a time, hands them to the bot's flood budget (bot.ratelimit.SendBudget,
which every reply spends too) ranked by their priority, keeps each chat under its own
rate, and records every outcome in the database:

- sent: Telegram's message id is stored (when many are under way, a batch at a time
  within RECORD_SECONDS); the row is never sent again;
- 429: the row waits `retry_after`, and the budget pauses every send as long;
- timeout, 5xx, network errors: retried with exponential backoff;
- 403, "chat not found", deactivated: the person is marked unreachable, everything
  queued for them stops, and their leads are told;
- any other 400: the message itself is bad; it is marked failed and logged.

A row for a pinned country card (db.cards) is not one message but the next step the
card needs: send it, edit it to the card's latest text, pin it (silently) or unpin it.
Each step is recorded on the card and the row stays queued until the card shows what
it should, one step per turn of the chat's own rate. "Message is not modified" is a
success; a card the person deleted is sent and pinned anew. Card rows go after every
alert; one waiting longer than CARD_PATIENCE is raised to routine, so none starves.

Claiming and recording in batches keeps the database to a few statements a second,
whatever the rate. A crash can repeat only rows still `sending`: the ones on their way to
Telegram and those confirmed in the last RECORD_SECONDS. Something more urgent queued
meanwhile makes the dispatcher give back the rest of its claim and look again.

With paid broadcasts on (PAID_BROADCAST), critical rows go with `allow_paid_broadcast`
at Telegram's paid rate, on a pacer of their own, and are recorded as paid; everything
else keeps to the free rate. Should Telegram refuse to take payment (the bot's Stars ran
out), the row goes again at once at the free rate, the admins are told, and paid
broadcasts are tried again only after PAID_REFUSED_SECONDS. While a 429 holds paid
broadcasts, critical rows go at the free rate, ahead of the rest, rather than wait.

On PostgreSQL several processes may send (bot.replicas): each takes only the chats of
its seat's share and its part of the flood limits, skips rows another is claiming, and
waits as long as a 429 any of them got asked for. A process that starts does not give
back rows left `sending` (they may be another's, on their way): those of a sender that
is gone go back when its lease runs out.

Every database call runs on a thread of the dispatcher's own, one at a time and in the
order asked for, so that the event loop (every reply, press and send on it) never waits
for the database, nor for a lock another thread holds there.

While the database is unavailable nothing new is sent: outcomes Telegram has already
given are held in memory and recorded, in order, as soon as it is back. The outage is
logged once when it starts and once when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from telegram import InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot import render
from bot.ratelimit import (
    HAS_PAID_SLOT,
    HAS_SLOT,
    PAID_RATE,
    SendBudget,
    delivery_rank,
    retry_after_seconds,
)
from bot.replicas import SenderSeat
from bot.settings import BotSettings, Settings
from db import cards, deliveries, staff
from db import leads as lead_rules
from db.cards import Step
from db.deliveries import DueDelivery, Recipient
from db.engine import session_scope
from db.models import DeliveryKind, Priority, Staff
from db.senders import ALONE, Share
from db.types import utcnow

log = logging.getLogger(__name__)

T = TypeVar("T")

# Bad requests that mean the chat is gone for good, not that the message was wrong.
_GONE = ("chat not found", "user is deactivated", "bot was blocked", "peer_id_invalid")

# Rows claimed at once: this many seconds' worth at the configured rate.
CLAIM_SECONDS = 0.5
# Confirmed sends are recorded together at most this long after the first of them ...
RECORD_SECONDS = 0.2
# ... or as soon as there are this many.
RECORD_BATCH = 200

# A card update queued this long ago and still waiting goes up to routine priority ...
CARD_PATIENCE = timedelta(minutes=10)
# ... checked this often (seconds).
CARD_PATIENCE_CHECK_SECONDS = 30.0

# Paid broadcasts: requests under way at once (at 1,000 a second and about 100 ms each
# to Telegram, a hundred are) ...
PAID_MAX_IN_FLIGHT = 128
# ... and how long after Telegram refused one everything goes at the free rate.
PAID_REFUSED_SECONDS = 600.0

# What the database raises when it is down, restarting or unreachable.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


def _ids(row: DueDelivery) -> dict[str, int | None]:
    """What a log line about one delivery carries, for following it through the log."""
    return {"delivery_id": row.id, "alert_id": row.alert_id, "staff_id": row.staff_id}


def backoff_seconds(attempts: int) -> float:
    """2, 4, 8 ... seconds, capped at 5 minutes, with jitter so retries do not stampede."""
    base: float = min(2.0**attempts, 300.0)
    return base * random.uniform(0.8, 1.2)  # jitter, not security


class Dispatcher:
    def __init__(
        self,
        *,
        bot: ExtBot[int],
        engine: Engine,
        settings: Settings,
        clock: Callable[[], datetime],
        on_progress: Callable[[], None] | None = None,
        seat: SenderSeat | None = None,
    ) -> None:
        self.bot = bot
        self.seat = seat
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.on_progress = on_progress
        # The bot's one budget, which replies spend too: each send takes a slot there at
        # its row's rank, and is not held again on its way out.
        self.budget = SendBudget.of(bot)
        self.pacer = self.budget.pacer
        self._chat_interval = 1.0 / settings.send_rate_per_chat_per_second
        self._chat_free_at: dict[int, float] = {}
        self._in_flight: set[asyncio.Task[None]] = set()
        self._in_flight_chats: set[int] = set()
        self._wake = asyncio.Event()
        self._stopping = False
        self._stopped = False
        self._task: asyncio.Task[None] | None = None
        self.sent_count = 0
        # Outcomes Telegram gave that the database could not take yet, oldest first.
        self._unrecorded: list[Callable[[], None]] = []
        self._database_down_since: float | None = None
        self._held_during_outage = 0
        # When Telegram last refused a paid broadcast (time.monotonic()), if it did.
        self._paid_refused_at: float | None = None
        self.paid_count = 0
        rate = settings.send_rate_per_second
        if self.budget.paid_pacer is not None:
            rate += PAID_RATE
        self._rate = rate
        self._claim_size = max(8, min(500, int(rate * CLAIM_SECONDS)))
        if seat is not None:
            seat.on_share.append(self._take_share)
        # Sent and confirmed by Telegram, not yet recorded (the rows are still `sending`).
        self._confirmed: list[deliveries.Confirmed] = []
        self._record_timer: asyncio.TimerHandle | None = None
        # Claimed but not sent, and not yet given back (the database was unavailable).
        self._unreleased: list[int] = []
        self._cards_checked_at = 0.0  # time.monotonic() of the last CARD_PATIENCE check
        # The thread every database call runs on (see the module's docstring), and the
        # recordings of confirmed sends under way there.
        self._database = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dispatcher-db")
        self._recording: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        # Set each time it has taken what was due (see `looked`).
        self._looked = asyncio.Event()

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if self.seat is None or self.seat.solo:
            with session_scope(self.engine) as session:
                interrupted = deliveries.requeue_interrupted(session)
            if interrupted:
                # Telegram may have received these just before the last stop; sending
                # again is the price of never losing one.
                log.warning("requeued %d deliveries interrupted by the last shutdown", interrupted)
        self._task = asyncio.create_task(self._run(), name="dispatcher")

    def wake(self) -> None:
        self._wake.set()

    def _wake_soon(self) -> None:
        """`wake`, from the database's thread."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def _in_database(self, work: Callable[[], T]) -> T:
        """Run `work` on the dispatcher's database thread, after what was asked before."""
        return await asyncio.get_running_loop().run_in_executor(self._database, work)

    async def looked(self, *, within: float) -> None:
        """Wake up and return once the outbox has been claimed from (or after `within`
        seconds): what is queued now goes before work that would hold the loop."""
        self._looked.clear()
        self.wake()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._looked.wait(), timeout=within)

    def _take_share(self, share: Share) -> None:
        """This process's part of the bot's limits, from its seat's heartbeat."""
        self.budget.share(share.count)
        self._claim_size = max(8, min(500, int(self._rate / share.count * CLAIM_SECONDS)))
        now = utcnow()
        for until, pacer in (
            (share.flooded_until, self.pacer),
            (share.paid_flooded_until, self.budget.paid_pacer),
        ):
            if until is not None and pacer is not None and until > now:
                pacer.pause((until - now).total_seconds())

    async def stop(self) -> None:
        """Finish the requests already under way, then stop taking new ones. Once."""
        if self._stopped:
            return
        self._stopped = True
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._in_flight:
            await asyncio.wait(self._in_flight, timeout=10)
        if self._recording:
            await asyncio.wait(self._recording)
        try:
            self._cancel_record_timer()
            await self._in_database(self._record_known)
        except DATABASE_UNAVAILABLE:
            log.error(
                "database still unavailable at shutdown: %d outcomes not recorded; those "
                "messages will be sent again at the next start",
                len(self._unrecorded) + len(self._confirmed),
            )
        self._database.shutdown(wait=True)

    # -- the loop --------------------------------------------------------------------
    async def _run(self) -> None:
        while not self._stopping:
            try:
                # Outcomes already known go first; nothing new is sent before they are in.
                self._cancel_record_timer()
                await self._in_database(self._record_known)
                progressed = await self._dispatch_once()
            except DATABASE_UNAVAILABLE as error:
                self._database_unavailable(error)
                await self._sleep(2.0)
                continue
            except Exception:
                # The database may be down; keep the loop alive and try again shortly.
                log.exception("dispatcher pass failed; retrying in 2 s")
                await self._sleep(2.0)
                continue
            self._database_available()
            if not progressed:
                await self._sleep(await self._idle_wait())

    # -- database outages ----------------------------------------------------------
    async def _record(self, write: Callable[[], None]) -> None:
        """Record one outcome now, or hold it until the database is back."""
        if not self._unrecorded:
            try:
                await self._in_database(write)
                return
            except DATABASE_UNAVAILABLE as error:
                self._database_unavailable(error)
        # The row stays `sending` meanwhile, so it is neither sent again nor lost.
        self._unrecorded.append(write)
        self._held_during_outage += 1

    def _record_known(self) -> None:
        """On the database's thread: the outcomes held during an outage, then the
        confirmed sends, then the claimed rows given back; raises while the database is
        unavailable."""
        self._record_held_outcomes()
        self._record_confirmed()
        self._release_unsent()

    def _record_held_outcomes(self) -> None:
        while self._unrecorded:
            self._unrecorded[0]()  # raises while the database is still unavailable
            self._unrecorded.pop(0)

    def _database_unavailable(self, error: Exception) -> None:
        if self._database_down_since is not None:
            return
        self._database_down_since = time.monotonic()
        self._held_during_outage = 0
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0][:200]
        log.error("database unavailable; sending paused until it is back: %s", reason)

    def _database_available(self) -> None:
        if self._database_down_since is None:
            return
        log.warning(
            "database available again after %.0f s; %d outcomes held meanwhile are recorded",
            time.monotonic() - self._database_down_since,
            self._held_during_outage,
        )
        self._database_down_since = None

    def _busy_chats(self) -> set[int]:
        now = time.monotonic()
        for chat, free_at in list(self._chat_free_at.items()):
            if free_at <= now:
                del self._chat_free_at[chat]
        return self._in_flight_chats | set(self._chat_free_at)

    async def _dispatch_once(self) -> bool:
        self._wake.clear()
        if time.monotonic() - self._cards_checked_at >= CARD_PATIENCE_CHECK_SECONDS:
            await self._in_database(self._promote_waiting_cards)
            self._cards_checked_at = time.monotonic()
        seat = self.seat
        if seat is not None:
            await seat.ready()
        batch = await self._in_database(
            partial(
                self._claim,
                busy_chats=self._busy_chats(),
                share=ALONE if seat is None else seat.share,
                sender_id=None if seat is None else seat.sender_id,
            )
        )
        self._looked.set()
        for index, row in enumerate(batch):
            # Something new was queued (it may be more urgent than the rest of this batch),
            # or the database went away: give the rest back and look again.
            if self._stopping or self._wake.is_set() or self._database_down_since is not None:
                await self._give_back(batch[index:])
                break
            paid = self._pays_for(row)
            most = PAID_MAX_IN_FLIGHT if paid else self.settings.send_max_in_flight
            while len(self._in_flight) >= most:
                await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)
            # The slot is taken here, before the send starts, so that nothing is sent
            # after an outage or a more urgent row showed up meanwhile.
            if paid:
                await self.budget.paid_slot()
            else:
                await self.budget.slot(delivery_rank(row.priority))
            self._start_send(row, paid=paid)
        return bool(batch)

    def _promote_waiting_cards(self) -> None:
        with session_scope(self.engine) as session:
            deliveries.promote_waiting(session, queued_before=self.clock() - CARD_PATIENCE)

    def _claim(
        self, *, busy_chats: set[int], share: Share, sender_id: int | None
    ) -> list[DueDelivery]:
        with session_scope(self.engine) as session:
            return deliveries.claim_due(
                session,
                now=self.clock(),
                limit=self._claim_size,
                busy_chats=busy_chats,
                share=share,
                sender_id=sender_id,
            )

    async def _give_back(self, rows: list[DueDelivery]) -> None:
        # Should the database be unavailable, they stay `sending` until a pass after the
        # outage gives them back.
        self._unreleased.extend(row.id for row in rows)
        await self._in_database(self._release_unsent)

    def _release_unsent(self) -> None:
        if not self._unreleased:
            return
        with session_scope(self.engine) as session:
            deliveries.release(session, delivery_ids=self._unreleased)
        self._unreleased.clear()

    async def _idle_wait(self) -> float:
        soonest_chat = min(self._chat_free_at.values(), default=None)
        wait = 1.0
        if soonest_chat is not None:
            wait = min(wait, max(0.01, soonest_chat - time.monotonic()))
        with contextlib.suppress(Exception):
            next_at = await self._in_database(self._next_due_at)
            if next_at is not None:
                wait = min(wait, max(0.01, (next_at - self.clock()).total_seconds()))
        return wait

    def _next_due_at(self) -> datetime | None:
        with session_scope(self.engine) as session:
            return deliveries.next_due_at(session)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)

    def _pays_for(self, row: DueDelivery) -> bool:
        """Whether a row goes as a paid broadcast: critical messages only (never a card),
        with paid broadcasts on, not soon after Telegram refused one, and not while it
        asked paid broadcasts to wait (a 429): meanwhile they go first at the free rate."""
        paid_pacer = self.budget.paid_pacer
        if paid_pacer is None or row.priority > Priority.CRITICAL or row.card:
            return False
        return not self._paid_refused_lately() and not paid_pacer.paused_for()

    def _paid_refused_lately(self) -> bool:
        refused = self._paid_refused_at
        return refused is not None and time.monotonic() - refused < PAID_REFUSED_SECONDS

    def _start_send(self, row: DueDelivery, *, paid: bool = False) -> None:
        self._in_flight_chats.add(row.chat_id)
        task = asyncio.create_task(self._send(row, paid=paid), name=f"delivery:{row.id}")
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    # -- one message -----------------------------------------------------------------
    async def _send(self, row: DueDelivery, *, paid: bool) -> None:
        try:
            await self._send_and_record(row, paid=paid)
        except Exception:
            log.exception("delivery %d: could not record the outcome", row.id, extra=_ids(row))
        finally:
            # The chat's interval counts from Telegram's answer, so that a request that
            # took long to arrive is never followed too closely by the next one.
            self._chat_free_at[row.chat_id] = time.monotonic() + self._chat_interval
            self._in_flight_chats.discard(row.chat_id)
            if self.on_progress is not None:
                self.on_progress()

    async def _send_and_record(self, row: DueDelivery, *, paid: bool) -> None:
        if row.card is not None:
            await self._card_step(row, row.card)
            return
        markup = (
            InlineKeyboardMarkup.de_json(row.reply_markup, self.bot) if row.reply_markup else None
        )
        slot = HAS_PAID_SLOT if paid else HAS_SLOT
        try:
            # A photo, voice note or file from a call for help goes as a copy of the
            # original, with the row's text as its caption.
            message = (
                await self.bot.copy_message(
                    chat_id=row.chat_id,
                    from_chat_id=row.copy_from[0],
                    message_id=row.copy_from[1],
                    caption=row.text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                    allow_paid_broadcast=paid or None,
                    rate_limit_args=slot,
                )
                if row.copy_from is not None
                else await self.bot.send_message(
                    chat_id=row.chat_id,
                    text=row.text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                    link_preview_options=None,
                    allow_paid_broadcast=paid or None,
                    rate_limit_args=slot,
                )
            )
        except RetryAfter as error:
            await self._wait_out(row, error, paid=paid)
        except Forbidden as error:
            await self._record(partial(self._unreachable, row, error.message))
        except BadRequest as error:
            if any(marker in error.message.lower() for marker in _GONE):
                await self._record(partial(self._unreachable, row, error.message))
            elif paid:
                # Telegram would not take payment (it does not say how it words that):
                # the message itself may be fine, so it goes again at the free rate.
                await self._paid_refused(row, error.message)
            else:
                log.error(
                    "delivery %d: Telegram refused the message: %s",
                    row.id,
                    error.message,
                    extra=_ids(row),
                )
                await self._record(partial(self._mark_failed, row.id, error.message))
        except (NetworkError, TelegramError) as error:
            # Timeouts, 5xx and connection errors are passing; back off and try again.
            await self._record(
                partial(self._retry, row, f"{type(error).__name__}: {error.message}", None)
            )
        else:
            await self._confirm(row, message.message_id, paid=paid)
            log.debug("delivery %d: sent", row.id, extra=_ids(row))

    # -- country cards ---------------------------------------------------------------
    async def _card_step(self, row: DueDelivery, card: deliveries.CardState) -> None:
        """Take the one step the card needs next and record it (see db.cards)."""
        step = cards.next_step(card)
        text, message_id = card.text, card.message_id
        try:
            if step is Step.SEND:
                sent = await self.bot.send_message(
                    chat_id=row.chat_id,
                    text=text,
                    parse_mode=ParseMode.HTML,
                    link_preview_options=None,
                    rate_limit_args=HAS_SLOT,
                )
                message_id = sent.message_id
            elif step is Step.EDIT:
                assert message_id is not None
                await self.bot.edit_message_text(
                    chat_id=row.chat_id,
                    message_id=message_id,
                    text=text,
                    parse_mode=ParseMode.HTML,
                    rate_limit_args=HAS_SLOT,
                )
            elif step is Step.PIN:
                assert message_id is not None
                # Silently: a card brought up to date is no reason to ring a phone.
                await self.bot.pin_chat_message(
                    chat_id=row.chat_id,
                    message_id=message_id,
                    disable_notification=True,
                    rate_limit_args=HAS_SLOT,
                )
            elif step in (Step.UNPIN, Step.UNPIN_STALE):
                await self.bot.unpin_chat_message(
                    chat_id=row.chat_id,
                    message_id=card.stale_message_id if step is Step.UNPIN_STALE else message_id,
                    rate_limit_args=HAS_SLOT,
                )
        except RetryAfter as error:
            await self._wait_out(row, error)
        except Forbidden as error:
            await self._record(partial(self._unreachable, row, error.message))
        except BadRequest as error:
            said = error.message.lower()
            if "message is not modified" in said:
                # It already says this: the edit is done.
                await self._record(partial(self._card_done, row, card, Step.EDIT, text, message_id))
            elif step in (Step.UNPIN, Step.UNPIN_STALE) and "not found" in said:
                # Deleted, so no longer pinned either.
                await self._record(partial(self._card_done, row, card, step, text, message_id))
            elif step in (Step.EDIT, Step.PIN) and "not found" in said:
                # They deleted the card: it is sent and pinned anew.
                log.info(
                    "delivery %d: card message gone; sending a new one", row.id, extra=_ids(row)
                )
                await self._record(partial(self._card_done, row, card, Step.GONE, text, None))
            elif any(marker in said for marker in _GONE):
                await self._record(partial(self._unreachable, row, error.message))
            else:
                log.error(
                    "delivery %d: Telegram refused the card (%s): %s",
                    row.id,
                    step,
                    error.message,
                    extra=_ids(row),
                )
                await self._record(partial(self._mark_failed, row.id, error.message))
        except (NetworkError, TelegramError) as error:
            await self._record(
                partial(self._retry, row, f"{type(error).__name__}: {error.message}", None)
            )
        else:
            if step is None:
                log.debug("delivery %d: card already up to date", row.id, extra=_ids(row))
            await self._record(partial(self._card_done, row, card, step, text, message_id))

    def _card_done(
        self,
        row: DueDelivery,
        card: deliveries.CardState,
        step: Step | None,
        text: str,
        message_id: int | None,
    ) -> None:
        with session_scope(self.engine) as session:
            following = cards.record_step(
                session,
                delivery_id=row.id,
                card_id=card.card_id,
                step=step,
                attempts=row.attempts,
                now=self.clock(),
                text=text,
                message_id=message_id,
                # The next step is due when the chat's own interval allows it, so that
                # the loop does not look for it before then.
                next_at=self.clock() + timedelta(seconds=self._chat_interval),
            )
        if following is None:
            self.sent_count += 1

    # -- recording what Telegram confirmed, a few at a time -------------------------
    async def _confirm(self, row: DueDelivery, message_id: int, *, paid: bool = False) -> None:
        self._confirmed.append(
            deliveries.Confirmed(
                delivery_id=row.id, message_id=message_id, at=self.clock(), paid=paid
            )
        )
        # With nothing else on its way there is no batch to wait for: record it now, so
        # that what reads the outbox (roll-call reminders, reports) sees it at once.
        under_way = sum(1 for task in self._in_flight if not task.done())
        if len(self._confirmed) >= RECORD_BATCH or under_way <= 1:
            self._cancel_record_timer()
            await self._record_confirmed_soon()
        elif self._record_timer is None:
            self._record_timer = asyncio.get_running_loop().call_later(
                RECORD_SECONDS, self._record_confirmed_now
            )

    def _cancel_record_timer(self) -> None:
        if self._record_timer is not None:
            self._record_timer.cancel()
            self._record_timer = None

    def _record_confirmed_now(self) -> None:
        """Record the confirmed sends on the database's thread (RECORD_SECONDS after the
        first of them), without waiting for it."""
        self._cancel_record_timer()
        task = asyncio.create_task(self._record_confirmed_soon(), name="dispatcher-record")
        self._recording.add(task)
        task.add_done_callback(self._recording.discard)

    async def _record_confirmed_soon(self) -> None:
        try:
            await self._in_database(self._record_confirmed)
        except DATABASE_UNAVAILABLE as error:
            # Kept, and recorded by the loop before it sends anything else.
            self._database_unavailable(error)

    def _record_confirmed(self) -> None:
        """On the database's thread: record the confirmed sends; raises while the
        database is unavailable."""
        if not self._confirmed or self._unrecorded:
            return  # outcomes held from an outage go first
        batch = list(self._confirmed)
        with session_scope(self.engine) as session:
            deliveries.mark_sent_many(session, confirmed=batch)
        del self._confirmed[: len(batch)]
        self.sent_count += len(batch)
        self.paid_count += sum(1 for c in batch if c.paid)

    def _mark_failed(self, delivery_id: int, error: str) -> None:
        with session_scope(self.engine) as session:
            deliveries.mark_failed(session, delivery_id=delivery_id, error=error)

    def _retry(
        self, row: DueDelivery, error: str, after: float | None, *, count_attempt: bool = True
    ) -> None:
        attempts = row.attempts + 1
        with session_scope(self.engine) as session:
            if count_attempt and attempts >= self.settings.send_max_attempts:
                log.error(
                    "delivery %d: giving up after %d attempts: %s",
                    row.id,
                    attempts,
                    error,
                    extra=_ids(row),
                )
                deliveries.mark_failed(session, delivery_id=row.id, error=error)
                return
            delay = after if after is not None else backoff_seconds(attempts)
            log.warning(
                "delivery %d: attempt %d failed (%s); retrying in %.1f s",
                row.id,
                attempts,
                error,
                delay,
                extra=_ids(row),
            )
            deliveries.mark_retry(
                session,
                delivery_id=row.id,
                error=error,
                at=self.clock() + timedelta(seconds=delay),
                # A wait Telegram asked for is not an attempt: its claim is undone.
                attempts=None if count_attempt else row.attempts,
            )

    def _fallback_for(self, person: Staff) -> str:
        """ "SMS", "e-mail" or "" : how what cannot wait still reaches the person."""
        settings = self.settings
        if not isinstance(settings, BotSettings):
            return ""
        if person.mobile and settings.sms_enabled:
            return "SMS"
        if person.email and settings.email_enabled:
            return "e-mail"
        return ""

    async def _wait_out(self, row: DueDelivery, error: RetryAfter, *, paid: bool = False) -> None:
        """A 429: the row goes back for as long as Telegram asked (the budget has paused
        every send of its kind, paid or not, as long; other processes hear of it), and a
        wait is not an attempt."""
        seconds = retry_after_seconds(error)
        if self.seat is not None:
            self.seat.flooded(utcnow() + timedelta(seconds=seconds), paid=paid)
        log.warning(
            "delivery %d: Telegram asked to wait %.0f s (429)", row.id, seconds, extra=_ids(row)
        )
        await self._record(
            partial(
                self._retry, row, f"429 retry after {seconds:.0f} s", seconds, count_attempt=False
            )
        )

    async def _paid_refused(self, row: DueDelivery, reason: str) -> None:
        """Telegram refused a paid broadcast: the row goes again now at the free rate, and
        so does every critical row until PAID_REFUSED_SECONDS have passed."""
        first = not self._paid_refused_lately()
        self._paid_refused_at = time.monotonic()
        if first:
            log.error(
                "Telegram refused a paid broadcast (%s); critical messages go at the free "
                "rate for %.0f minutes",
                reason,
                PAID_REFUSED_SECONDS / 60,
                extra=_ids(row),
            )
            await self._record(partial(self._tell_admins_paid_refused, reason))
        await self._record(
            partial(self._retry, row, f"paid broadcast refused: {reason}", 0.0, count_attempt=False)
        )

    def _tell_admins_paid_refused(self, reason: str) -> None:
        now = self.clock()
        text = render.paid_refused_notice(reason=reason, minutes=PAID_REFUSED_SECONDS / 60)
        with session_scope(self.engine) as session:
            deliveries.enqueue(
                session,
                kind=DeliveryKind.PAID_REFUSED,
                dedupe_key=f"paid-refused:{now:%Y-%m-%dT%H:%M}",
                recipients=deliveries.recipients(staff.reachable_admins(session)),
                parts=[text],
                priority=Priority.HIGH,
                now=now,
            )
        self._wake_soon()

    def _unreachable(self, row: DueDelivery, reason: str) -> None:
        log.warning(
            "delivery %d: staff %d is unreachable: %s",
            row.id,
            row.staff_id,
            reason,
            extra=_ids(row),
        )
        with session_scope(self.engine) as session:
            deliveries.mark_unreachable(session, staff_id=row.staff_id, error=reason)
            if not staff.mark_unreachable(session, staff_id=row.staff_id):
                return  # already known; the leads were told then
            person = session.get(Staff, row.staff_id)
            leads = lead_rules.leads_of_person(session, staff_id=row.staff_id, now=self.clock())
            if person is None or not leads:
                return
            reason = f"They blocked the bot or their account is gone (Telegram said: {reason})."
            by = self._fallback_for(person)
            if by:
                reason += f" Urgent messages (roll calls, departure advisories) go to them by {by}."
            text = render.unreachable_notice(
                name=person.display_name,
                telegram_id=person.telegram_user_id,
                username=person.username,
                reason=reason,
            )
            deliveries.enqueue(
                session,
                kind=DeliveryKind.UNREACHABLE,
                dedupe_key=f"unreachable:{row.staff_id}:{row.id}",
                about_staff_id=row.staff_id,
                recipients=[
                    Recipient(staff_id=lead.id, chat_id=lead.chat_id)
                    for lead in leads
                    if lead.id is not None and lead.reachable
                ],
                parts=[text],
                priority=Priority.HIGH,
                now=self.clock(),
            )
        self._wake_soon()
