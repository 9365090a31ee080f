"""Telegram's flood budget: every message the bot sends spends it, in one order of urgency.

`SendBudget` is python-telegram-bot's rate limiter for the application's bot: each
message sent (replies, documents and edits included) waits for a slot of the one global
`Pacer`, and when several wait, the slot goes to the most urgent. `Rank` is that order.
A 429 from Telegram pauses every slot for its `retry_after` and lowers the rate for a
while. With paid broadcasts on, the most urgent deliveries take their slots from a
second pacer at Telegram's paid rate (`PAID_RATE`), apart from everything else.

`ReplyAllowance` decides, in memory and before anything is sent, whether someone who may
be flooding the bot (a stranger) gets an answer at all.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from enum import IntEnum
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from db.models import Priority


class Pacer:
    """Permits at up to `rate` a second, never more than that in any one-second window.

    Telegram does not say how it counts its limit, so the pacer keeps to the strictest
    reading: however its permits fall, no window of one second (by its own clock, plus
    `margin` for the network's jitter between here and Telegram) holds more than the
    rate. Permits are evenly spaced; a sender that was busy when its slot came may still
    use it up to `catch_up` seconds late, so that short stalls (a database write, a
    garbage collection) do not lower the rate it sustains, but never so late that the
    window would hold one too many.

    A request counts from when it goes out (`sending`), if that is later than its permit.

    A 429 means Telegram counts more strictly than that. Everything waits its
    `retry_after` (`flooded`), and the pacer does not repeat the burst: it lowers its
    rate by a tenth and climbs back within a second or two. A second 429 within a minute
    means the rate itself is too much: the climb then stops at a ceiling a little under
    the rate that was refused, which creeps back up to `rate` while nothing is refused.
    A server a little stricter than expected costs a few percent, not a 429 a second.
    """

    # After a 429: the rate falls to this share of what it was ...
    DECREASE = 0.9
    # ... and climbs back this share of the configured rate a second ...
    CLIMB = 0.1
    # ... up to this share of the rate that was refused, which rises again by this share
    # of the configured rate a second (so that a server that refused at 25 a second is
    # tried at 25 again only some minutes later); never below FLOOR of the configured rate.
    CEILING = 0.95
    PROBE = 0.0005
    FLOOR = 0.25
    # Seconds within which a second 429 means the ceiling, not a passing delay, was wrong.
    MEMORY = 60.0
    # After a quiet spell, the first second goes at this share of the rate and climbs: new
    # connections make the first requests arrive late and the next ones close behind.
    RESTART = 0.9

    def __init__(
        self,
        rate: float,
        *,
        margin: float = 0.02,
        catch_up: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.margin = margin
        self.catch_up = catch_up
        self._clock = clock
        self._sleep = sleep
        self._paused_until = 0.0
        self._flooded_at = -math.inf
        self._lock = asyncio.Lock()
        self.rate = rate

    @property
    def rate(self) -> float:
        """The configured rate: the most it gives a second when nothing is refused."""
        return self._limit

    @rate.setter
    def rate(self, value: float) -> None:
        self._limit = value
        self._current = value
        self._ceiling = value
        now = self._clock()
        self._climbed_at = now
        self._next = now
        # The latest permits, as many as one window may hold: when each was given, and
        # once its request went out (`sending`), when that was. Each is a one-item list
        # so that `_unsent` (those given whose request has not gone out yet, oldest
        # first) can move its time on.
        most = self._most(value)
        self._given: deque[list[float]] = deque(maxlen=most)
        self._unsent: deque[list[float]] = deque(maxlen=most)

    def rescale(self, rate: float) -> None:
        """A new configured rate (another sender joined or left), keeping what the last
        window holds, so that a lower rate holds at once and a higher one brings no burst.
        A rate lowered after a 429 stays lowered by the same share."""
        if rate == self._limit:
            return
        ratio = rate / self._limit
        self._limit = rate
        self._current = min(rate, self._current * ratio)
        self._ceiling = min(rate, self._ceiling * ratio)
        most = self._most(rate)
        self._given = deque(self._given, maxlen=most)
        self._unsent = deque(self._unsent, maxlen=most)

    def current_rate(self) -> float:
        """The rate it gives now: lower than `rate` for a while after a 429."""
        return self._current

    @staticmethod
    def _most(rate: float) -> int:
        # Permits one window may hold; at least one, or nothing could ever be sent.
        return max(1, math.floor(rate))

    def pause(self, seconds: float) -> None:
        """Give no permit for `seconds`."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)
        self._climbed_at = max(self._climbed_at, self._paused_until)

    def flooded(self, retry_after: float) -> None:
        """Telegram answered 429: wait as it asked, and come back slower."""
        now = self._clock()
        # The requests already on their way answer 429 too: one burst, one step down.
        if now >= self._paused_until:
            floor = self._limit * self.FLOOR
            # A 429 now and then is the network's jitter; another soon after means
            # Telegram counts more strictly than the rate, which is not tried again soon.
            if now - self._flooded_at < self.MEMORY:
                self._ceiling = max(floor, self._current * self.CEILING)
            self._current = max(floor, self._current * self.DECREASE)
            self._flooded_at = now
        self.pause(retry_after)

    def paused_for(self) -> float:
        """Seconds left of the pause Telegram asked for (0 when not paused)."""
        return max(0.0, self._paused_until - self._clock())

    def _climb(self, now: float) -> None:
        elapsed = now - self._climbed_at
        if elapsed <= 0:
            return
        self._climbed_at = now
        self._ceiling = min(self._limit, self._ceiling + self._limit * self.PROBE * elapsed)
        self._current = min(self._ceiling, self._current + self._limit * self.CLIMB * elapsed)

    async def acquire(self) -> None:
        async with self._lock:
            now = self._clock()
            if self._given and now - self._given[-1][0] > 1.0:
                # Nobody fell behind while nothing was sent: no catch-up, and a gentle start.
                self._next = now
                self._current = min(self._current, self._limit * self.RESTART)
                self._climbed_at = now
            self._climb(now)
            # Slots `interval` apart, so that `most` of them take one window and a little.
            interval = (1.0 + self.margin) / self._current
            most = self._most(self._current)
            slot = max(self._next, now - self.catch_up, self._paused_until)
            if len(self._given) >= most:
                slot = max(slot, self._oldest_in_window(most) + most * interval)
            while slot > now:
                await self._sleep(slot - now)
                # A 429 may have come in meanwhile: its pause holds this permit too.
                now = self._clock()
                slot = max(slot, self._paused_until)
            permit = [now]
            self._given.append(permit)
            self._unsent.append(permit)
            self._next = slot + interval

    def sending(self) -> None:
        """A request given a permit goes out now.

        Telegram counts a request when it arrives, not when its permit was given: one
        held up on its way (a busy loop) must not bring the next window's closer. Requests
        go out in about the order their permits came, so the oldest permit still waiting
        takes the time.
        """
        if self._unsent:
            permit = self._unsent.popleft()
            permit[0] = max(permit[0], self._clock())

    def _oldest_in_window(self, most: int) -> float:
        """The earliest time among the last `most` permits (sent or not).

        Those whose requests went out are the older ones, their times in order; those
        still waiting are the newer ones, in order too: the earliest is the first of
        either."""
        oldest = self._given[-most][0]
        if self._unsent:
            oldest = min(oldest, self._unsent[0][0])
        return oldest


class Rank(IntEnum):
    """Who gets the next slot when the budget is short; lower goes first.

    The outbox's deliveries go by their own `Priority` (a call for help or a roll call
    first, routine notices and then pinned country cards last). Replies to enrolled
    people come after every alert (critical, high and normal deliveries) but before
    routine notices and cards, so that a person
    pressing "I'm safe" during a routine fan-out to thousands is not kept waiting a
    minute; each reply costs the alerts one slot at most. What is said to a person in
    trouble goes with the critical deliveries instead (bot.messages.IN_TROUBLE): after
    their own call for help, nothing they are told may wait for a broadcast. Replies to
    strangers come after everything: nobody outside the programme can delay what is sent
    to those in it.
    """

    REPLY = 1 + (Priority.NORMAL + Priority.ROUTINE) // 2
    STRANGER = 1 + max(Priority) + 20


# A sender that took its slot itself with `SendBudget.slot` (the dispatcher does, so that
# it can stop between slots) sends with this as its rank, and is not held again ...
HAS_SLOT = -1
# ... or with this, when its slot was one of the paid pacer's (`SendBudget.paid_slot`).
HAS_PAID_SLOT = -2

# Messages a second Telegram allows a bot's paid broadcasts (allow_paid_broadcast).
PAID_RATE = 1000.0


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

    def __init__(self, rate: float, *, paid_rate: float | None = None) -> None:
        self.pacer = Pacer(rate)
        # Paid broadcasts: a pacer of their own, which only `paid_slot` takes from.
        self.paid_pacer = Pacer(paid_rate) if paid_rate else None
        self._rates = (rate, paid_rate)
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

    def share(self, senders: int) -> None:
        """With several processes sending (bot.replicas), each keeps to its part of the
        bot's limits: the rates divided by how many there are."""
        rate, paid_rate = self._rates
        self.pacer.rescale(rate / max(1, senders))
        if self.paid_pacer is not None and paid_rate:
            self.paid_pacer.rescale(paid_rate / max(1, senders))

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
        pacer = self.pacer
        if rate_limit_args == HAS_PAID_SLOT and self.paid_pacer is not None:
            pacer = self.paid_pacer
        elif rate_limit_args not in (HAS_SLOT, HAS_PAID_SLOT):
            await self.slot(Rank.REPLY if rate_limit_args is None else rate_limit_args)
        pacer.sending()
        try:
            return await callback(*args, **kwargs)
        except RetryAfter as error:
            # Whoever flooded, everyone waits and comes back slower: repeating the burst
            # is what gets bots banned.
            pacer.flooded(retry_after_seconds(error))
            raise

    async def slot(self, rank: int) -> None:
        """Wait for a slot of the budget; the most urgent waiting request gets each one."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (rank, next(self._arrival), future))
        if self._feeder is None or self._feeder.done():
            self._feeder = asyncio.create_task(self._feed(), name="send-budget")
        await future

    async def paid_slot(self) -> None:
        """Wait for a slot of the paid pacer (there must be one). Only the most urgent
        deliveries take these, in the dispatcher's order: there is nothing to rank."""
        assert self.paid_pacer is not None, "paid broadcasts are off"
        await self.paid_pacer.acquire()

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
