"""The pacer: permits evenly spaced at the rate, and Telegram's retry_after honoured by all."""

from __future__ import annotations

import asyncio
import time

from bot.ratelimit import Pacer


async def test_permits_are_spaced_evenly_at_the_rate() -> None:
    pacer = Pacer(20.0)
    start = time.monotonic()
    given = []
    for _ in range(10):
        await pacer.acquire()
        given.append(time.monotonic())
    # Ten permits at 20 a second take at least 9 intervals, less the catch-up allowance.
    assert given[-1] - start >= 9 / 20 - 0.05


async def test_an_idle_pacer_gives_no_burst_after_its_first_permit() -> None:
    pacer = Pacer(20.0)
    await asyncio.sleep(0.5)  # nothing to send for a while
    start = time.monotonic()
    for _ in range(5):
        await pacer.acquire()
    # The first may be up to one catch-up late; the rest follow one interval apart.
    assert time.monotonic() - start >= 4 / 20 - 0.05


async def test_a_sender_that_falls_behind_keeps_the_rate_it_was_given() -> None:
    # Permits a little late (a database write, a busy loop) are not made up for by
    # spacing the rest further apart: a thousand a second for 200 takes a fraction of
    # a second, not the 10 s that pushing each slot past the catch-up would take.
    pacer = Pacer(1000.0)
    start = time.monotonic()
    for _ in range(200):
        await pacer.acquire()
    assert time.monotonic() - start < 5.0


async def test_a_pause_holds_every_permit_until_it_ends() -> None:
    pacer = Pacer(1000.0)
    assert pacer.paused_for() == 0.0
    pacer.pause(0.3)
    paused_until = time.monotonic() + 0.3
    for _ in range(3):
        await pacer.acquire()
        assert time.monotonic() >= paused_until - 0.001
    assert pacer.paused_for() == 0.0


async def test_a_pause_reaches_a_sender_already_waiting_for_its_slot() -> None:
    pacer = Pacer(4.0)  # slots 0.25 s apart
    await pacer.acquire()
    waiting = asyncio.create_task(pacer.acquire())
    await asyncio.sleep(0)  # it now waits for its slot
    pacer.pause(0.6)  # Telegram answers 429 meanwhile
    paused_until = time.monotonic() + 0.6
    await waiting
    assert time.monotonic() >= paused_until - 0.001


def test_a_shorter_pause_does_not_cut_a_longer_one_short() -> None:
    pacer = Pacer(30.0)
    pacer.pause(5.0)
    pacer.pause(1.0)
    assert 4.0 < pacer.paused_for() <= 5.0
