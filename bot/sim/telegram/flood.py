"""Telegram's flood control, as the simulated Telegram applies it to messages sent.

Messages sent (sendMessage, sendDocument, copyMessage), pins and unpins are limited,
and edits too with ``count_edits``: one a second to a chat, and a token bucket over all
chats. Telegram does not say how it counts edits and pins; ``count_edits`` is the
strictest reading. A request over
either limit is answered with 429 and ``retry_after``, as Telegram does, and does not
count against the limits.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from http import HTTPStatus

from bot.sim.telegram.errors import ApiError


@dataclass
class RateLimits:
    """Flood-control model: messages, pins and unpins count; edits with `count_edits`."""

    global_per_second: float = 30.0  # token bucket, capacity == rate
    per_chat_per_second: float = 1.0  # min interval 1/rate between messages to one chat
    per_chat_tolerance: float = 0.05  # seconds of slack for the per-chat interval
    count_edits: bool = False  # edits count against both limits like messages


class FloodControl:
    """The limits in force and what has been sent against them.

    Not locked: the simulated Telegram calls it under its own lock.
    """

    def __init__(self, limits: RateLimits | None) -> None:
        self._last_sent_at: dict[int, float] = {}
        self._bucket_tokens = 0.0
        self._bucket_at = 0.0
        self.limits = limits

    @property
    def limits(self) -> RateLimits | None:
        """None: no flood control at all."""
        return self._limits

    @limits.setter
    def limits(self, value: RateLimits | None) -> None:
        # New limits start with a full bucket; the per-chat intervals carry on.
        self._limits = value
        self._bucket_tokens = self._bucket_capacity(value) if value else 0.0
        self._bucket_at = time.monotonic()

    @staticmethod
    def _bucket_capacity(limits: RateLimits) -> float:
        # capacity == rate, but at least one message must fit or nothing could ever pass.
        return max(limits.global_per_second, 1.0)

    def check(self, chat_id: int, now: float) -> None:
        """Raise Telegram's 429 when a message to `chat_id` at `now` would be over a limit."""
        limits = self._limits
        if limits is None:
            return
        if limits.per_chat_per_second > 0:
            last = self._last_sent_at.get(chat_id)
            interval = 1.0 / limits.per_chat_per_second - limits.per_chat_tolerance
            if last is not None and now - last < interval:
                wait = last + interval - now
                raise ApiError(
                    HTTPStatus.TOO_MANY_REQUESTS,
                    f"Too Many Requests: retry after {max(1, math.ceil(wait))}",
                    max(1, math.ceil(wait)),
                )
        if limits.global_per_second > 0:
            capacity = self._bucket_capacity(limits)
            elapsed = now - self._bucket_at
            self._bucket_tokens = min(
                capacity, self._bucket_tokens + elapsed * limits.global_per_second
            )
            self._bucket_at = now
            if self._bucket_tokens < 1.0:
                wait = (1.0 - self._bucket_tokens) / limits.global_per_second
                raise ApiError(
                    HTTPStatus.TOO_MANY_REQUESTS,
                    f"Too Many Requests: retry after {max(1, math.ceil(wait))}",
                    max(1, math.ceil(wait)),
                )

    def check_edit(self, chat_id: int, now: float) -> None:
        """`check` for an edit, when edits count."""
        if self._limits is not None and self._limits.count_edits:
            self.check(chat_id, now)

    def accept_edit(self, chat_id: int, now: float) -> None:
        if self._limits is not None and self._limits.count_edits:
            self.accept(chat_id, now)

    def accept(self, chat_id: int, now: float) -> None:
        """Count a message sent to `chat_id` at `now`."""
        # Tokens are only spent by accepted messages, so rejected ones don't skew limits.
        self._last_sent_at[chat_id] = now
        if self._limits is not None and self._limits.global_per_second > 0:
            self._bucket_tokens -= 1.0
