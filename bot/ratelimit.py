"""Telegram's flood budget: every message the bot sends spends it, in one order of urgency.

`SendBudget` is python-telegram-bot's rate limiter for the application's bot: each
message sent (replies, documents and edits included) waits for a slot of the one global
`Pacer`, and when several wait, the slot goes to the most urgent. `Rank` is that order.
A 429 from Telegram pauses every slot for its `retry_after`.

`ReplyAllowance` decides, in memory and before anything is sent, whether someone who may
be flooding the bot (a stranger) gets an answer at all.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from enum import IntEnum
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from db.models import Priority


class Pacer:
    """Evenly spaced permits at `rate` per second, with a pause for Telegram's retry_after.

    Even spacing (rather than bursts up to a bucket size) keeps every one-second window
    at or under the rate, which is how Telegram counts. A sender that was busy when its
    slot came may still use the slot up to `catch_up` seconds late, so that short stalls
    (a database write, a garbage collection) do not lower the rate it sustains. Slots stay
    `interval` apart, so over any span no more than rate × span + 1 permits are given,
    and a one-second window holds at most rate × `catch_up` more than the rate.
    """

    def __init__(self, rate: float, *, catch_up: float = 0.05) -> None:
        self.interval = 1.0 / rate
        self.catch_up = catch_up
        self._next = time.monotonic()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    def paused_for(self) -> float:
        """Seconds left of the pause Telegram asked for (0 when not paused)."""
        return max(0.0, self._paused_until - time.monotonic())

    async def acquire(self) -> None:
        async with self._lock:
            now = time.monotonic()
            slot = max(self._next, now - self.catch_up, self._paused_until)
            while slot > now:
                await asyncio.sleep(slot - now)
                # A 429 may have come in meanwhile: its pause holds this permit too.
                now = time.monotonic()
                slot = max(slot, self._paused_until)
            self._next = slot + self.interval


class Rank(IntEnum):
    """Who gets the next slot when the budget is short; lower goes first.

    The outbox's deliveries go by their own `Priority` (a call for help or a roll call
    first, routine notices and then pinned country cards last). Replies to enrolled
    people come after every alert (critical, high and normal deliveries) but before
    routine notices and cards, so that a person
    pressing "I'm safe" during a routine fan-out to thousands is not kept waiting a
    minute; each reply costs the alerts one slot at most. Replies to strangers come after
    everything: nobody outside the programme can delay what is sent to those in it.
    """

    REPLY = 1 + (Priority.NORMAL + Priority.ROUTINE) // 2
    STRANGER = 1 + max(Priority) + 20


# A sender that took its slot itself with `SendBudget.slot` (the dispatcher does, so that
# it can stop between slots) sends with this as its rank, and is not held again.
HAS_SLOT = -1


def delivery_rank(priority: int) -> int:
    """An outbox delivery's rank: its `Priority`, past 0, which PTB would drop as no rank."""
    return 1 + priority


def retry_after_seconds(error: RetryAfter) -> float:
    """The wait Telegram asked for, whether PTB gives it as seconds or as a timedelta."""
    wait = error.retry_after
    return wait.total_seconds() if isinstance(wait, timedelta) else float(wait)


def spends_budget(endpoint: str) -> bool:
    """Whether a Bot API call is a message Telegram counts against its flood limits.

    Edits, pins and unpins are counted too: Telegram does not say they are free, and a
    live roll or a broadcast report edited every few seconds, or every follower's card
    brought up to date, must not push the alerts over the limit.
    """
    if endpoint == "sendChatAction":
        return False
    return endpoint.startswith(
        ("send", "copyMessage", "forwardMessage", "editMessage", "pinChatMessage", "unpinChat")
    )


class SendBudget(BaseRateLimiter[int]):
    """The one flood budget of the bot, shared by the outbox dispatcher and every handler.

    A request's `rate_limit_args` is its rank (`delivery_rank` or a `Rank`), or HAS_SLOT;
    without one it is a reply to an enrolled person. Calls that are not messages
    (getUpdates, callback answers, menus) are not held.
    """

    def __init__(self, rate: float) -> None:
        self.pacer = Pacer(rate)
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrival = itertools.count()  # equal ranks go in the order they came
        self._feeder: asyncio.Task[None] | None = None

    @staticmethod
    def of(bot: object) -> SendBudget:
        """The budget a bot built by `build_application` sends through."""
        budget = getattr(bot, "rate_limiter", None)
        if not isinstance(budget, SendBudget):
            raise TypeError("the bot has no SendBudget as its rate limiter")
        return budget

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        if self._feeder is not None:
            self._feeder.cancel()
        for _, _, future in self._waiting:
            future.cancel()
        self._waiting.clear()

    def waiting(self) -> int:
        """Requests waiting for a slot."""
        return sum(1 for _, _, future in self._waiting if not future.done())

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if not spends_budget(endpoint):
            return await callback(*args, **kwargs)
        if rate_limit_args != HAS_SLOT:
            await self.slot(Rank.REPLY if rate_limit_args is None else rate_limit_args)
        try:
            return await callback(*args, **kwargs)
        except RetryAfter as error:
            # Whoever flooded, everyone waits: repeating the burst is what gets bots banned.
            self.pacer.pause(retry_after_seconds(error))
            raise

    async def slot(self, rank: int) -> None:
        """Wait for a slot of the budget; the most urgent waiting request gets each one."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (rank, next(self._arrival), future))
        if self._feeder is None or self._feeder.done():
            self._feeder = asyncio.create_task(self._feed(), name="send-budget")
        await future

    async def _feed(self) -> None:
        while self._waiting:
            await self.pacer.acquire()
            # Chosen when the slot comes, not when the request came: something urgent
            # that arrived meanwhile goes first.
            while self._waiting:
                _, _, future = heapq.heappop(self._waiting)
                if not future.done():  # not given up (cancelled) meanwhile
                    future.set_result(None)
                    break


class ReplyAllowance:
    """Whether to answer someone who may be flooding the bot; no means silence.

    At most one answer a person every `per_person_seconds`, at most `per_second` in all
    (a bucket of `burst`), and no more than `on_their_way` answers still waiting for the
    budget, so that a flood never ties up the handlers. Everything is in memory and cheap;
    the people remembered are only those answered within `per_person_seconds`, which the
    total rate bounds.
    """

    def __init__(
        self,
        *,
        per_person_seconds: float = 60.0,
        per_second: float = 1.0,
        burst: float = 5.0,
        on_their_way: int = 10,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_person_seconds = per_person_seconds
        self.per_second = per_second
        self.burst = max(1.0, burst)
        self.on_their_way = on_their_way
        self._clock = clock
        self._answered: dict[int, float] = {}  # person: when last answered, oldest first
        self._tokens = self.burst
        self._filled_at = clock()
        self._under_way = 0

    def take(self, person: int) -> bool:
        """Whether `person` gets an answer now; if so, call `done()` once it is sent."""
        now = self._clock()
        self._forget_answered_before(now - self.per_person_seconds)
        if person in self._answered:
            return False
        elapsed = max(0.0, now - self._filled_at)
        self._tokens = min(self.burst, self._tokens + elapsed * self.per_second)
        self._filled_at = now
        if self._tokens < 1.0 or self._under_way >= self.on_their_way:
            return False
        self._tokens -= 1.0
        self._answered[person] = now
        self._under_way += 1
        return True

    def done(self) -> None:
        """An answer `take` allowed has been sent (or failed)."""
        self._under_way -= 1

    def _forget_answered_before(self, cutoff: float) -> None:
        while self._answered:
            person, at = next(iter(self._answered.items()))
            if at > cutoff:
                return
            del self._answered[person]
