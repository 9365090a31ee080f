"""Pacing for outgoing messages: stay under Telegram's limits instead of bouncing off them."""

from __future__ import annotations

import asyncio
import time


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
