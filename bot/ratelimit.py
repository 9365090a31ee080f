"""Pacing for outgoing messages: stay under Telegram's limits instead of bouncing off them."""

from __future__ import annotations

import asyncio
import time


class Pacer:
    """Evenly spaced permits at `rate` per second, with a pause for Telegram's retry_after.

    Even spacing (rather than bursts up to a bucket size) keeps every one-second window
    at or under the rate, which is how Telegram counts.
    """

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = time.monotonic()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    async def acquire(self) -> None:
        async with self._lock:
            now = time.monotonic()
            start = max(now, self._next, self._paused_until)
            self._next = start + self.interval
            if start > now:
                await asyncio.sleep(start - now)
