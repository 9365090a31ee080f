"""How late the event loop runs: the proof that nothing blocks it.

A timer due every `interval` seconds (10 ms) notes how late it fired. Whatever holds
the loop (parsing a feed, a slow query, a long computation) delays it, and with it every
message in flight and every button pressed. /healthz shows the median, the 99th
percentile and the worst lag over the last `window` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class LagSummary:
    """Loop lag over a recent window, in milliseconds."""

    p50_ms: float
    p99_ms: float
    max_ms: float
    samples: int

    def as_dict(self) -> dict[str, float | int]:
        return {
            "p50_ms": round(self.p50_ms, 1),
            "p99_ms": round(self.p99_ms, 1),
            "max_ms": round(self.max_ms, 1),
            "samples": self.samples,
        }


def _percentile(ordered: list[float], share: float) -> float:
    """The value `share` of the way through `ordered` (nearest rank)."""
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


class LoopLag:
    """Measures the running loop's lag; `start()` on the loop, `stop()` when done."""

    def __init__(
        self,
        *,
        interval: float = 0.01,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self.window = window
        self._clock = clock
        self._samples: deque[tuple[float, float]] = deque()  # (when, lag in seconds)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="loop-lag")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            due = self._clock() + self.interval
            await asyncio.sleep(self.interval)
            now = self._clock()
            self.note(max(0.0, now - due), at=now)

    def note(self, lag: float, *, at: float) -> None:
        """One timer fired `lag` seconds late, at `at`."""
        self._samples.append((at, lag))
        cutoff = at - self.window
        while self._samples and self._samples[0][0] < cutoff:
            self._samples.popleft()

    def summary(self) -> LagSummary:
        """The lag over the last `window` seconds."""
        cutoff = self._clock() - self.window
        ordered = sorted(lag for at, lag in self._samples if at >= cutoff)
        return LagSummary(
            p50_ms=_percentile(ordered, 0.50) * 1000,
            p99_ms=_percentile(ordered, 0.99) * 1000,
            max_ms=(ordered[-1] if ordered else 0.0) * 1000,
            samples=len(ordered),
        )
