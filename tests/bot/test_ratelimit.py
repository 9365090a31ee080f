"""The pacer: permits evenly spaced at the rate, and Telegram's retry_after honoured by all;
the budget every message spends, the most urgent first; when strangers are answered."""

from __future__ import annotations

import asyncio
import bisect
import itertools
import time
from collections.abc import Coroutine
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.ratelimit import (
    HAS_SLOT,
    Pacer,
    Rank,
    ReplyAllowance,
    SendBudget,
    delivery_rank,
    spends_budget,
)
from db.models import Priority
from tests.harness import PacerTime


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


# -- the window rule and backing off, on a clock of the test's own ------------------------
def _most_in_one_second(given: list[float]) -> int:
    """The most permits any one-second window [t, t + 1) holds."""
    return max(bisect.bisect_left(given, at + 1.0) - n for n, at in enumerate(given))


async def _acquire(pacer: Pacer, clock: PacerTime, count: int, *, stalls: int = 0) -> list[float]:
    """Permits as a sender takes them that, every `stalls` permits, is busy for a while."""
    given = []
    for n in range(count):
        if stalls and n % stalls == 0:
            clock.now += 0.04 + 0.01 * (n % 7)  # a database write, a garbage collection
        await pacer.acquire()
        given.append(clock.now)
    return given


async def test_no_one_second_window_holds_more_than_the_rate_however_late_the_sender() -> None:
    clock = PacerTime()
    pacer = Pacer(30.0, margin=0.0, catch_up=0.05, clock=clock, sleep=clock.sleep)
    # Catching up after each stall must not squeeze a 31st permit into a second.
    given = await _acquire(pacer, clock, 600, stalls=3)
    assert _most_in_one_second(given) == 30


async def test_the_margin_keeps_each_window_a_little_under_the_rate() -> None:
    clock = PacerTime()
    pacer = Pacer(30.0, margin=0.1, clock=clock, sleep=clock.sleep)
    given = await _acquire(pacer, clock, 300, stalls=5)
    # 30 permits take at least 1.1 s, so a window of 1.1 s holds no more than 30 either.
    spans = [later - earlier for earlier, later in zip(given[:-30], given[30:], strict=True)]
    assert min(spans) >= 1.1 - 1e-9
    # and an undisturbed sender is given the rate less the margin
    steady = await _acquire(pacer, clock, 301)
    assert (steady[-1] - steady[0]) == pytest.approx(300 * 1.1 / 30, rel=1e-3)


async def test_a_request_held_up_on_its_way_counts_from_when_it_went_out() -> None:
    clock = PacerTime()
    pacer = Pacer(30.0, margin=0.0, clock=clock, sleep=clock.sleep)
    await pacer.acquire()
    first = clock.now
    clock.now += 0.2  # the loop was busy: the first request leaves 0.2 s after its permit
    pacer.sending()
    for _ in range(29):
        await pacer.acquire()
        pacer.sending()
    await pacer.acquire()
    # Telegram saw the first at first + 0.2 s: the 31st may not arrive within a second of it.
    assert clock.now >= first + 0.2 + 1.0 - 1e-9


@pytest.mark.parametrize("idle", [1.5, 60.0])
async def test_after_an_idle_spell_the_permits_come_evenly_not_in_a_burst(idle: float) -> None:
    clock = PacerTime()
    pacer = Pacer(30.0, margin=0.0, catch_up=0.05, clock=clock, sleep=clock.sleep)
    await _acquire(pacer, clock, 10)
    clock.now += idle  # a quiet spell is anything over a second without a permit
    given = await _acquire(pacer, clock, 40)
    # None come at once: nobody fell behind meanwhile, so there is nothing to catch up.
    gaps = [later - earlier for earlier, later in itertools.pairwise(given)]
    assert min(gaps) >= 1 / 30 - 1e-9
    # The first second, whose first requests open connections, starts a little slower.
    assert sum(1 for at in given if at < given[0] + 1.0) < 30


async def test_a_429_slows_the_pacer_and_it_climbs_back_to_the_rate() -> None:
    clock = PacerTime()
    pacer = Pacer(30.0, margin=0.0, clock=clock, sleep=clock.sleep)
    await _acquire(pacer, clock, 30)
    pacer.flooded(1.0)
    for _ in range(5):
        pacer.flooded(1.0)  # the rest of the burst, already on its way, is refused too
    assert pacer.current_rate() == pytest.approx(30 * Pacer.DECREASE)  # one step down
    paused_until = clock.now + 1.0
    after = await _acquire(pacer, clock, 60)
    assert after[0] >= paused_until
    # The burst is not repeated: the first second after the pause holds fewer than 30.
    assert sum(1 for at in after if at < paused_until + 1.0) < 30
    # One 429 now and then (a request held up on the way) is soon forgotten.
    await _acquire(pacer, clock, 60)
    assert pacer.current_rate() == pytest.approx(30.0)
    # Another within a minute: the rate refused is not tried again for a while ...
    pacer.flooded(1.0)
    await _acquire(pacer, clock, 300)
    assert Pacer.CEILING * 30 - 0.5 < pacer.current_rate() < 30
    # ... but in the end it is.
    await _acquire(pacer, clock, 30 * 60 * 5)
    assert pacer.current_rate() == pytest.approx(30.0)


def test_a_429_as_the_pause_ends_is_a_new_one_and_a_minute_on_the_last_is_forgotten() -> None:
    clock = PacerTime()
    pacer = Pacer(30.0, margin=0.0, clock=clock, sleep=clock.sleep)
    pacer.flooded(1.0)
    clock.now += 1.0  # the pause is over: this 429 is not the first burst's
    pacer.flooded(1.0)
    assert pacer.current_rate() == pytest.approx(30 * Pacer.DECREASE**2)
    # Within a minute of the last: the rate refused is not tried again soon.
    ceiling = 30 * Pacer.DECREASE * Pacer.CEILING
    assert pacer._ceiling == pytest.approx(ceiling)
    # A minute after the last one, a 429 is a passing delay: the ceiling stays.
    clock.now += Pacer.MEMORY
    pacer.flooded(1.0)
    assert pacer.current_rate() == pytest.approx(30 * Pacer.DECREASE**3)
    assert pacer._ceiling == pytest.approx(ceiling)


async def test_a_server_stricter_than_the_rate_costs_a_few_percent() -> None:
    # Telegram refuses past 25 in any second while the pacer was told 30.
    clock = PacerTime()
    pacer = Pacer(30.0, margin=0.0, clock=clock, sleep=clock.sleep)
    accepted: list[float] = []
    refused = 0
    start = clock.now
    while len(accepted) < 3000:
        await pacer.acquire()
        if bisect.bisect_right(accepted, clock.now - 1.0) <= len(accepted) - 25:
            refused += 1
            pacer.flooded(1.0)
        else:
            accepted.append(clock.now)
    rate = len(accepted) / (clock.now - start)
    assert rate > 25 * 0.9
    assert refused <= 10  # in two minutes: a 429 now and then, not every second


# -- the budget: one pacer, the most urgent first ------------------------------------------
def _request(
    budget: SendBudget, done: list[str], label: str, rank: int | None, endpoint: str = "sendMessage"
) -> Coroutine[Any, Any, object]:
    async def call() -> bool:
        done.append(label)
        return True

    return budget.process_request(call, (), {}, endpoint, {}, rank)


async def test_each_slot_goes_to_the_most_urgent_request_waiting() -> None:
    budget = SendBudget(50.0)
    done: list[str] = []
    await asyncio.gather(
        _request(budget, done, "stranger", Rank.STRANGER),
        _request(budget, done, "reply", None),
        _request(budget, done, "routine", delivery_rank(Priority.ROUTINE)),
        _request(budget, done, "help", delivery_rank(Priority.CRITICAL)),
        _request(budget, done, "alert", delivery_rank(Priority.NORMAL)),
        _request(budget, done, "second reply", Rank.REPLY),
    )
    assert done == ["help", "alert", "reply", "second reply", "routine", "stranger"]


async def test_requests_share_the_rate_of_the_one_pacer() -> None:
    budget = SendBudget(20.0)
    done: list[str] = []
    start = time.monotonic()
    await asyncio.gather(
        *(
            _request(budget, done, str(n), rank)
            for n, rank in enumerate([None, 1, Rank.STRANGER] * 3)
        )
    )
    assert len(done) == 9
    assert time.monotonic() - start >= 8 / 20 - 0.05  # nine slots, 1/20 s apart


async def test_a_429_on_any_message_pauses_every_slot() -> None:
    budget = SendBudget(1000.0)

    async def flooded() -> bool:
        raise RetryAfter(3)

    with pytest.raises(RetryAfter):
        await budget.process_request(flooded, (), {}, "sendMessage", {}, Rank.STRANGER)
    assert budget.pacer.paused_for() > 2.0


async def test_what_is_not_a_message_is_never_held() -> None:
    budget = SendBudget(1000.0)
    budget.pacer.pause(60)  # nothing that spends the budget may go for a minute
    done: list[str] = []
    held = asyncio.create_task(_request(budget, done, "message", None))
    for endpoint in ("answerCallbackQuery", "getMe", "setMyCommands", "sendChatAction"):
        await asyncio.wait_for(_request(budget, done, endpoint, None, endpoint), timeout=10)
    assert done == ["answerCallbackQuery", "getMe", "setMyCommands", "sendChatAction"]
    assert budget.waiting() == 1 and not held.done()
    held.cancel()
    await budget.shutdown()


@pytest.mark.parametrize(
    ("endpoint", "spends"),
    [
        ("sendMessage", True),
        ("sendDocument", True),
        ("sendPhoto", True),
        ("copyMessage", True),
        ("forwardMessage", True),
        ("editMessageText", True),
        ("editMessageReplyMarkup", True),
        ("pinChatMessage", True),
        ("unpinChatMessage", True),
        ("sendChatAction", False),
        ("answerCallbackQuery", False),
        ("getUpdates", False),
        ("setMyCommands", False),
        ("getMe", False),
    ],
)
def test_messages_and_edits_spend_the_budget(endpoint: str, spends: bool) -> None:
    assert spends_budget(endpoint) is spends


def test_alerts_go_before_replies_then_routine_notices_then_strangers() -> None:
    alerts = [delivery_rank(p) for p in (Priority.CRITICAL, Priority.HIGH, Priority.NORMAL)]
    ranks = [*alerts, Rank.REPLY, delivery_rank(Priority.ROUTINE), Rank.STRANGER]
    assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks)
    assert all(rank for rank in ranks)  # PTB passes a falsy rate_limit_args on as None
    assert HAS_SLOT not in ranks


# -- whether to answer someone who may be flooding the bot --------------------------------
class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_person_is_answered_once_per_interval() -> None:
    clock = _Clock()
    allowance = ReplyAllowance(per_person_seconds=60, per_second=100, clock=clock)
    assert allowance.take(1)
    allowance.done()
    clock.now += 59.9
    assert not allowance.take(1)
    assert allowance.take(2)  # someone else is answered meanwhile
    allowance.done()
    clock.now += 0.1
    assert allowance.take(1)


def test_answers_in_all_are_held_to_the_rate_after_a_burst() -> None:
    clock = _Clock()
    allowance = ReplyAllowance(per_person_seconds=60, per_second=2, burst=5, clock=clock)
    assert [allowance.take(person) for person in range(7)] == [True] * 5 + [False] * 2
    for _ in range(5):
        allowance.done()
    clock.now += 0.5  # one more at 2 a second
    assert [allowance.take(person) for person in range(10, 13)] == [True, False, False]
    clock.now += 3600  # the bucket holds no more than the burst, however long it rested
    assert sum(allowance.take(person) for person in range(20, 40)) == 5


def test_no_more_answers_wait_than_allowed() -> None:
    allowance = ReplyAllowance(per_second=100, burst=100, on_their_way=3, clock=_Clock())
    assert [allowance.take(person) for person in range(4)] == [True, True, True, False]
    allowance.done()
    assert allowance.take(5)
    # Each answer sent frees one place, not more: three on their way again, then two.
    assert not allowance.take(6)
    allowance.done()
    assert [allowance.take(person) for person in (7, 8)] == [True, False]


def test_each_of_several_senders_keeps_its_part_of_both_rates() -> None:
    budget = SendBudget(30.0, paid_rate=1000.0)
    assert budget.paid_pacer is not None
    budget.share(3)
    assert budget.pacer.rate == 10.0
    assert budget.paid_pacer.rate == pytest.approx(1000 / 3)
    budget.share(1)  # the others have gone
    assert (budget.pacer.rate, budget.paid_pacer.rate) == (30.0, 1000.0)


def test_only_a_bot_built_with_the_budget_has_one() -> None:
    with pytest.raises(TypeError, match="no SendBudget"):
        SendBudget.of(object())


async def test_a_rate_lowered_when_another_sender_joins_holds_from_that_moment() -> None:
    clock = PacerTime()
    pacer = Pacer(30.0, margin=0.0, clock=clock, sleep=clock.sleep)
    before = await _acquire(pacer, clock, 45)
    pacer.rescale(15.0)  # a second sender took half of the bot's limit
    lowered_at = clock.now
    after = await _acquire(pacer, clock, 60)
    # Any one-second window from the moment of the change holds at most the new rate,
    # however many permits the window just before it held.
    starts = [lowered_at, *after]
    assert max(sum(1 for at in after if start <= at < start + 1.0) for start in starts) == 15
    assert _most_in_one_second(before + after) == 30


async def test_a_rate_raised_when_a_sender_leaves_brings_no_burst() -> None:
    clock = PacerTime()
    pacer = Pacer(15.0, margin=0.0, clock=clock, sleep=clock.sleep)
    before = await _acquire(pacer, clock, 30)
    pacer.rescale(30.0)  # the other sender is gone: its share comes back
    after = await _acquire(pacer, clock, 90)
    assert _most_in_one_second(before + after) == 30
    # And the higher rate is used: 90 permits in about three seconds, not six.
    assert after[-1] - before[-1] < 3.5


async def test_a_lowered_rate_counts_the_permits_this_second_already_gave() -> None:
    clock = PacerTime()
    pacer = Pacer(30.0, margin=0.0, clock=clock, sleep=clock.sleep)
    before = await _acquire(pacer, clock, 45)
    pacer.rescale(15.0)
    after = await _acquire(pacer, clock, 1)
    # The window the next permit closes holds the last 14 given at the old rate: it
    # comes a second after the 15th last of them, not at once.
    assert after[0] >= before[-15] + 1.0


async def test_requests_held_up_while_the_rate_changes_count_from_when_they_went_out() -> None:
    clock = PacerTime()
    pacer = Pacer(30.0, margin=0.0, clock=clock, sleep=clock.sleep)
    for _ in range(15):
        await pacer.acquire()  # given their permits; the busy loop has not sent them yet
    pacer.rescale(15.0)  # meanwhile a second sender took half of the bot's limit
    clock.now += 0.3
    went_out = clock.now
    for _ in range(15):
        pacer.sending()
    await pacer.acquire()
    # Telegram saw those 15 at `went_out`: at 15 a second the next may not follow within
    # a second of them.
    assert clock.now >= went_out + 1.0 - 1e-9


async def test_a_rate_lowered_after_a_429_stays_lowered_by_the_same_share_when_rescaled() -> None:
    clock = PacerTime()
    pacer = Pacer(30.0, margin=0.0, clock=clock, sleep=clock.sleep)
    pacer.flooded(1.0)
    lowered = pacer.current_rate()
    assert lowered < 30.0
    pacer.rescale(15.0)
    assert pacer.current_rate() == pytest.approx(lowered / 2)
    pacer.rescale(30.0)
    assert pacer.current_rate() == pytest.approx(lowered)
