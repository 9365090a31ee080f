"""Telegram's flood control, as the simulated Telegram applies it to messages sent.

Messages sent (sendMessage, sendDocument, copyMessage), pins and unpins are limited,
and edits too with ``count_edits``: about one a second to a chat and about 30 a second
over all chats. Telegram does not say how it counts edits and pins; ``count_edits`` is
the strictest reading. A request over either limit is answered with 429 and
``retry_after``, as Telegram does, and does not count against the limits.

Telegram does not document how it counts, so the simulator can count three ways
(`FloodMode`), the same way for the total and for each chat:

- ``token-bucket``: a bucket of `rate` tokens refilled at `rate` a second; it lets a
  full burst through after a quiet spell (the most lenient reading);
- ``sliding-window``: at most `rate` messages in any one-second window (the strictest);
- ``fixed-window``: at most `rate` messages in each clock second (``[k, k + 1)``),
  whatever was sent at the end of the one before.

Paid broadcasts (``allow_paid_broadcast``) are counted apart, against
``paid_per_second`` (Telegram's 1,000 a second); the limit for each chat holds for them
as for any message.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from http import HTTPStatus

from bot.sim.telegram.errors import ApiError


class FloodMode(StrEnum):
    TOKEN_BUCKET = "token-bucket"
    SLIDING_WINDOW = "sliding-window"
    FIXED_WINDOW = "fixed-window"


@dataclass
class RateLimits:
    """Flood-control model: messages, pins and unpins count; edits with `count_edits`."""

    global_per_second: float = 30.0
    per_chat_per_second: float = 1.0
    per_chat_tolerance: float = 0.05  # seconds of slack for one chat's window
    mode: FloodMode = FloodMode.TOKEN_BUCKET
    count_edits: bool = False  # edits count against both limits like messages
    paid_per_second: float = 1000.0  # paid broadcasts, counted apart from the others


def _too_many(wait: float) -> ApiError:
    seconds = max(1, math.ceil(wait))
    return ApiError(
        HTTPStatus.TOO_MANY_REQUESTS, f"Too Many Requests: retry after {seconds}", seconds
    )


class _Counter:
    """One limit (`rate` a second, counted by `mode`) over the messages it has accepted.

    `slack` (the per-chat limit's tolerance) lets a message through that many seconds
    early: it shortens a sliding window and the time a token takes to come back.
    """

    def __init__(self, rate: float, mode: FloodMode, *, slack: float = 0.0, now: float) -> None:
        self.rate = rate
        # Slack is for the network's jitter: never half of a message's own interval, or a
        # fast limit (20 a second to a chat) would become no limit at all.
        slack = min(slack, 0.5 / rate)
        self.mode = mode
        # The most that may be in one window: at least one, or nothing could ever pass.
        self.most = max(1, math.floor(rate))
        # The window holding `most` messages at `rate`: 1 s at 30/s, 2 s at 0.5/s; the
        # slack shortens a sliding window, never the clock's own seconds.
        self.window = self.most / rate - (slack if mode is FloodMode.SLIDING_WINDOW else 0.0)
        self._tokens = max(rate, 1.0)  # a new bucket starts full
        self._filled_at = now
        self._accepted: deque[float] = deque()  # sliding window: the times in the last window
        self._fixed_index = -1  # fixed window: which window, and how many in it
        self._fixed_count = 0
        self._slack = slack

    def check(self, now: float) -> None:
        if self.mode is FloodMode.TOKEN_BUCKET:
            capacity = max(self.rate, 1.0)
            # The slack shortens the time one token takes to come back.
            refill = 1.0 / (1.0 / self.rate - self._slack)
            self._tokens = min(capacity, self._tokens + max(0.0, now - self._filled_at) * refill)
            self._filled_at = now
            if self._tokens < 1.0:
                raise _too_many((1.0 - self._tokens) / refill)
        elif self.mode is FloodMode.SLIDING_WINDOW:
            while self._accepted and self._accepted[0] <= now - self.window:
                self._accepted.popleft()
            if len(self._accepted) >= self.most:
                raise _too_many(self._accepted[0] + self.window - now)
        else:
            index = math.floor(now / self.window)
            if index == self._fixed_index and self._fixed_count >= self.most:
                raise _too_many((index + 1) * self.window - now)

    def accept(self, now: float) -> None:
        if self.mode is FloodMode.TOKEN_BUCKET:
            self._tokens -= 1.0
        elif self.mode is FloodMode.SLIDING_WINDOW:
            self._accepted.append(now)
        else:
            index = math.floor(now / self.window)
            if index != self._fixed_index:
                self._fixed_index, self._fixed_count = index, 0
            self._fixed_count += 1


class FloodControl:
    """The limits in force and what has been sent against them.

    Not locked: the simulated Telegram calls it under its own lock.
    """

    def __init__(self, limits: RateLimits | None) -> None:
        self._total: _Counter | None = None
        self._paid: _Counter | None = None
        self._chats: dict[int, _Counter] = {}
        self.limits = limits

    @property
    def limits(self) -> RateLimits | None:
        """None: no flood control at all."""
        return self._limits

    @limits.setter
    def limits(self, value: RateLimits | None) -> None:
        # New limits start afresh: a full bucket, empty windows.
        self._limits = value
        self._chats.clear()
        now = time.monotonic()
        self._total = (
            _Counter(value.global_per_second, value.mode, now=now)
            if value is not None and value.global_per_second > 0
            else None
        )
        self._paid = (
            _Counter(value.paid_per_second, value.mode, now=now)
            if value is not None and value.paid_per_second > 0
            else None
        )

    def _chat(self, chat_id: int, now: float) -> _Counter | None:
        limits = self._limits
        if limits is None or limits.per_chat_per_second <= 0:
            return None
        counter = self._chats.get(chat_id)
        if counter is None:
            counter = self._chats[chat_id] = _Counter(
                limits.per_chat_per_second,
                limits.mode,
                slack=limits.per_chat_tolerance,
                now=now,
            )
        return counter

    def check(self, chat_id: int, now: float, *, paid: bool = False) -> None:
        """Raise Telegram's 429 when a message to `chat_id` at `now` would be over a limit
        (a paid broadcast's when `paid`)."""
        chat = self._chat(chat_id, now)
        if chat is not None:
            chat.check(now)
        total = self._paid if paid else self._total
        if total is not None:
            total.check(now)

    def check_edit(self, chat_id: int, now: float) -> None:
        """`check` for an edit, when edits count."""
        if self._limits is not None and self._limits.count_edits:
            self.check(chat_id, now)

    def accept_edit(self, chat_id: int, now: float) -> None:
        if self._limits is not None and self._limits.count_edits:
            self.accept(chat_id, now)

    def accept(self, chat_id: int, now: float, *, paid: bool = False) -> None:
        """Count a message sent to `chat_id` at `now` (a paid broadcast when `paid`)."""
        # Only accepted messages count, so rejected ones don't skew the limits.
        chat = self._chat(chat_id, now)
        if chat is not None:
            chat.accept(now)
        total = self._paid if paid else self._total
        if total is not None:
            total.accept(now)
