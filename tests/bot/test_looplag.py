"""The loop-lag monitor: how late a 10 ms timer fires, summed up over a recent window."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from bot.looplag import LoopLag


class _Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def test_the_summary_gives_the_median_the_99th_percentile_and_the_worst() -> None:
    clock = _Clock()
    lag = LoopLag(window=60.0, clock=clock)
    for n in range(1, 201):  # 1 ms to 200 ms, one of each
        clock.now += 0.01
        lag.note(n / 1000, at=clock.now)
    summary = lag.summary()
    assert summary.samples == 200
    assert summary.p50_ms == 100.0
    assert summary.p99_ms == 198.0
    assert summary.max_ms == 200.0


def test_only_the_recent_window_counts() -> None:
    clock = _Clock()
    lag = LoopLag(window=60.0, clock=clock)
    lag.note(0.5, at=clock.now)  # a stall a while ago
    clock.now += 61.0
    lag.note(0.002, at=clock.now)
    summary = lag.summary()
    assert (summary.samples, summary.max_ms) == (1, 2.0)
    clock.now += 61.0
    assert lag.summary().samples == 0 and lag.summary().max_ms == 0.0


async def _until(done: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30.0
    while time.monotonic() < deadline:
        if done():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("not within 30 s")


def _stall(seconds: float) -> None:
    """Work that holds the event loop (what the monitor is there to catch)."""
    time.sleep(seconds)


async def test_a_stall_on_the_loop_shows_as_lag() -> None:
    lag = LoopLag(interval=0.01)
    lag.start()
    try:
        await _until(lambda: lag.summary().samples >= 3)
        _stall(0.3)  # the loop can run nothing meanwhile
        # The timer that was due meanwhile fires when the stall is over, 0.3 s late.
        await _until(lambda: lag.summary().max_ms >= 290)
    finally:
        await lag.stop()
    samples = lag.summary().samples
    await asyncio.sleep(0.05)
    assert lag.summary().samples == samples  # stopped
