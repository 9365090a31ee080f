"""Tests for schedules.reminders: who gets which curfew reminder, when, under which key."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta

import pytest

from schedules.curfew_times import Window, occurrence, unbroken
from schedules.reminders import (
    CurfewSpec,
    plan_curfew_notices,
    plan_curfew_reminders,
    render_notice,
    render_reminder,
)

ALMATY = CurfewSpec(
    curfew_id=7,
    zone="Asia/Almaty",
    window=Window(time(23, 0), time(7, 0)),
    first_day=date(2025, 1, 6),
    last_day=date(2025, 1, 9),
    label="Almaty",
)
DAY = timedelta(days=1)
NO_GRACE = timedelta(0)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def plan(
    leads: dict[int, int | None],
    now: datetime,
    horizon: timedelta = DAY,
    grace: timedelta = NO_GRACE,
    spec: CurfewSpec = ALMATY,
) -> list[tuple[int, date, datetime]]:
    planned = plan_curfew_reminders(
        [spec], {spec.curfew_id: leads}, now=now, horizon=horizon, grace=grace
    )
    return [(r.staff_id, r.day, r.send_at) for r in planned]


def test_each_staff_member_gets_their_own_lead_time_sorted_by_send_time() -> None:
    # Start on 6 January 2025 is 23:00 local = 18:00 UTC.
    assert plan({1: 15, 2: 60, 3: 0}, now=utc(2025, 1, 6, 12)) == [
        (2, date(2025, 1, 6), utc(2025, 1, 6, 17, 0)),
        (1, date(2025, 1, 6), utc(2025, 1, 6, 17, 45)),
        (3, date(2025, 1, 6), utc(2025, 1, 6, 18, 0)),
    ]


def test_reminders_off_and_unlisted_staff_get_nothing() -> None:
    assert plan({1: None}, now=utc(2025, 1, 6, 12)) == []
    planned = plan_curfew_reminders(
        [ALMATY], {99: {1: 30}}, now=utc(2025, 1, 6, 12), horizon=DAY, grace=NO_GRACE
    )
    assert planned == []


def test_send_time_within_grace_is_due_now_and_beyond_grace_is_skipped() -> None:
    now = utc(2025, 1, 6, 17, 5)  # 5 minutes after the 60-minute reminder was due
    half_day = timedelta(hours=12)
    assert plan({1: 60}, now=now, horizon=half_day, grace=timedelta(minutes=10)) == [
        (1, date(2025, 1, 6), now)
    ]
    assert plan({1: 60}, now=now, horizon=half_day, grace=timedelta(minutes=4)) == []


def test_only_within_horizon() -> None:
    now = utc(2025, 1, 6, 12)
    assert plan({1: 60}, now=now, horizon=timedelta(hours=5)) == []  # due at 17:00 exactly
    assert [d for _, d, _ in plan({1: 60}, now=now, horizon=timedelta(hours=5, minutes=1))] == [
        date(2025, 1, 6)
    ]
    assert [d for _, d, _ in plan({1: 60}, now=now, horizon=timedelta(days=2))] == [
        date(2025, 1, 6),
        date(2025, 1, 7),
    ]


def test_first_and_last_day_are_respected() -> None:
    days = [d for _, d, _ in plan({1: 60}, now=utc(2025, 1, 1), horizon=timedelta(days=30))]
    assert days == [date(2025, 1, 6), date(2025, 1, 7), date(2025, 1, 8), date(2025, 1, 9)]


def test_open_ended_curfew_keeps_going() -> None:
    spec = CurfewSpec(7, "Asia/Almaty", ALMATY.window, date(2025, 1, 6), None, "Almaty")
    days = [d for _, d, _ in plan({1: 60}, now=utc(2025, 3, 1), horizon=DAY, spec=spec)]
    assert days == [date(2025, 3, 1)]


def test_lead_longer_than_a_day_reaches_the_right_start() -> None:
    planned = plan({1: 36 * 60}, now=utc(2025, 1, 5), horizon=DAY)
    assert planned == [(1, date(2025, 1, 6), utc(2025, 1, 5, 6, 0))]


def test_keys_are_stable_across_replanning() -> None:
    leads = {7: {1: 60, 2: 15}}
    first = plan_curfew_reminders(
        [ALMATY], leads, now=utc(2025, 1, 6, 12), horizon=timedelta(days=2), grace=NO_GRACE
    )
    again = plan_curfew_reminders(
        [ALMATY], leads, now=utc(2025, 1, 6, 16), horizon=timedelta(days=2), grace=NO_GRACE
    )
    assert [r.key for r in first] == [r.key for r in again]
    assert first[0].key == "curfew:7:2025-01-06:staff:1"
    assert len({r.key for r in first}) == len(first) == 4


def test_reminder_carries_the_occurrence_for_that_date() -> None:
    [reminder] = plan_curfew_reminders(
        [ALMATY], {7: {1: 60}}, now=utc(2025, 1, 6, 12), horizon=DAY, grace=NO_GRACE
    )
    assert (reminder.starts_at, reminder.ends_at) == (utc(2025, 1, 6, 18), utc(2025, 1, 7, 2))
    assert reminder.send_at.tzinfo is UTC


def test_spring_forward_start_moves_the_reminder() -> None:
    spec = CurfewSpec(
        3, "Europe/London", Window(time(1, 30), time(6, 0)), date(2025, 3, 29), None, "London"
    )
    planned = plan({5: 30}, now=utc(2025, 3, 29, 12), horizon=DAY, spec=spec)
    # 01:30 on the 30th does not exist; it reads as 02:30 BST = 01:30 UTC.
    assert planned == [(5, date(2025, 3, 30), utc(2025, 3, 30, 1, 0))]


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="negative lead"):
        plan({1: -5}, now=utc(2025, 1, 6, 12))
    with pytest.raises(ValueError, match="timezone-aware"):
        plan({1: 5}, now=datetime(2025, 1, 6, 12))  # noqa: DTZ001
    with pytest.raises(ValueError, match="must not be negative"):
        plan({1: 5}, now=utc(2025, 1, 6, 12), horizon=-DAY)


def test_notice_when_the_last_occurrence_ends() -> None:
    notices = plan_curfew_notices(
        [ALMATY], {7: [1, 2]}, now=utc(2025, 1, 9, 12), horizon=DAY, grace=NO_GRACE
    )
    assert [(n.staff_id, n.send_at, n.key) for n in notices] == [
        (1, utc(2025, 1, 10, 2), "curfew:7:ended:staff:1"),
        (2, utc(2025, 1, 10, 2), "curfew:7:ended:staff:2"),
    ]


def test_notice_grace_horizon_and_open_ended() -> None:
    def notices(spec: CurfewSpec, now: datetime, grace: timedelta) -> list[datetime]:
        planned = plan_curfew_notices([spec], {7: [1]}, now=now, horizon=DAY, grace=grace)
        return [n.send_at for n in planned]

    assert notices(ALMATY, utc(2025, 1, 8, 0), NO_GRACE) == []  # beyond the horizon
    late = utc(2025, 1, 10, 2, 5)
    assert notices(ALMATY, late, timedelta(minutes=10)) == [late]
    assert notices(ALMATY, late, timedelta(minutes=1)) == []
    open_ended = CurfewSpec(7, "Asia/Almaty", ALMATY.window, date(2025, 1, 6), None, "Almaty")
    assert notices(open_ended, utc(2025, 1, 9, 12), NO_GRACE) == []


def test_render_reminder_shows_local_and_utc_for_the_date() -> None:
    old = CurfewSpec(1, "Asia/Almaty", ALMATY.window, date(2022, 1, 1), None, "Almaty")
    occ = occurrence(old.zone, old.window, date(2022, 1, 6))
    assert render_reminder(old, occ, 60) == (
        "Curfew in Almaty starts in 60 minutes, at 23:00 local time (17:00 UTC), "
        "and ends at 07:00 local time (01:00 UTC)."
    )
    occ_2025 = occurrence(ALMATY.zone, ALMATY.window, date(2025, 1, 6))
    assert render_reminder(ALMATY, occ_2025, 1) == (
        "Curfew in Almaty starts in 1 minute, at 23:00 local time (18:00 UTC), "
        "and ends at 07:00 local time (02:00 UTC)."
    )
    assert render_reminder(ALMATY, occ_2025, 0).startswith("Curfew in Almaty starts now, at")


def test_render_reminder_on_a_clock_change_night() -> None:
    spec = CurfewSpec(
        3, "Europe/London", Window(time(1, 30), time(6, 0)), date(2025, 3, 30), None, "London"
    )
    text = render_reminder(spec, occurrence(spec.zone, spec.window, date(2025, 3, 30)), 30)
    assert "at 02:30 local time (01:30 UTC)" in text
    assert "ends at 06:00 local time (05:00 UTC)" in text
    assert "clocks change" in text
    assert "<" not in text


def test_render_notice() -> None:
    occ = occurrence(ALMATY.zone, ALMATY.window, date(2025, 1, 9))
    assert render_notice(ALMATY, occ) == (
        "Curfew in Almaty ended at 07:00 local time (02:00 UTC) on 10 January 2025. "
        "No more reminders will be sent for it."
    )


def test_a_curfew_set_after_a_reminder_time_reminds_at_once() -> None:
    # Confirmed at 17:32 UTC, 28 minutes before the 18:00 UTC start of 6 January.
    confirmed = utc(2025, 1, 6, 17, 32)
    spec = dataclasses.replace(ALMATY, set_at=confirmed)
    tonight, tomorrow = date(2025, 1, 6), date(2025, 1, 7)
    assert plan({1: 60, 2: 15}, now=confirmed, horizon=DAY, spec=spec) == [
        (1, tonight, confirmed),
        (2, tonight, utc(2025, 1, 6, 17, 45)),
        (1, tomorrow, utc(2025, 1, 7, 17, 0)),  # later nights as usual
    ]
    # Without the confirmation time the 60-minute reminder is past and skipped.
    assert plan({1: 60}, now=confirmed, horizon=timedelta(hours=1)) == []
    # Confirmed once tonight's curfew is running: no reminder for a start already past.
    running = dataclasses.replace(ALMATY, set_at=utc(2025, 1, 6, 18, 30))
    assert (
        plan({1: 60}, now=utc(2025, 1, 6, 18, 30), horizon=timedelta(hours=2), spec=running) == []
    )


# Paris over the weekend the clocks go back (Sunday 26 October 2025, 03:00 -> 02:00): a
# curfew from 20:00 on Friday until 06:00 on Monday never lifts in between.
WEEKEND = dataclasses.replace(
    ALMATY,
    zone="Europe/Paris",
    window=Window(time(20), time(6)),
    first_day=date(2025, 10, 24),
    last_day=date(2025, 10, 27),
    label="Paris",
    continuous=True,
)


def test_a_curfew_without_a_break_is_reminded_once_and_over_on_its_last_day() -> None:
    # One reminder over the whole weekend: an hour before Friday 20:00 (CEST, 18:00 UTC).
    everything = plan({1: 60}, utc(2025, 10, 24, 12), horizon=4 * DAY, spec=WEEKEND)
    assert everything == [(1, date(2025, 10, 24), utc(2025, 10, 24, 17))]
    assert plan({1: 60}, utc(2025, 10, 25, 12), horizon=DAY, spec=WEEKEND) == []
    # Over at 06:00 on Monday, CET by then: 05:00 UTC, not Tuesday morning.
    notices = plan_curfew_notices(
        [WEEKEND], {7: [1]}, now=utc(2025, 10, 26, 12), horizon=DAY, grace=NO_GRACE
    )
    assert [n.send_at for n in notices] == [utc(2025, 10, 27, 5)]
    whole = unbroken(WEEKEND.zone, WEEKEND.window, date(2025, 10, 24), date(2025, 10, 27))
    assert WEEKEND.last() == whole
    assert render_reminder(WEEKEND, whole, 60) == (
        "Curfew in Paris starts in 60 minutes, at 20:00 local time (18:00 UTC), and ends "
        "at 06:00 local time (05:00 UTC) on Monday 27 October, without a break."
    )
    assert render_notice(WEEKEND, whole) == (
        "Curfew in Paris ended at 06:00 local time (05:00 UTC) on 27 October 2025. "
        "No more reminders will be sent for it."
    )


def test_a_curfew_on_some_days_is_reminded_on_those_days_and_over_on_the_last_of_them() -> None:
    # Almaty's window on Saturdays and Sundays only, 6 to 16 January 2025 (a Monday to a
    # Thursday): reminders on 11, 12 January; the last night is Sunday the 12th.
    weekends = dataclasses.replace(ALMATY, last_day=date(2025, 1, 16), days=(5, 6))
    planned = plan({1: 60}, utc(2025, 1, 6), horizon=12 * DAY, spec=weekends)
    assert [day for _, day, _ in planned] == [date(2025, 1, 11), date(2025, 1, 12)]
    last = weekends.last()
    assert last is not None and last.day == date(2025, 1, 12)
    notices = plan_curfew_notices(
        [weekends], {7: [1]}, now=utc(2025, 1, 12, 12), horizon=DAY, grace=NO_GRACE
    )
    assert [n.send_at for n in notices] == [utc(2025, 1, 13, 2)]
    # No day of its kind before its last date: nothing ends, nothing is reminded.
    none_left = dataclasses.replace(weekends, last_day=date(2025, 1, 9))
    assert none_left.last() is None
    assert plan({1: 60}, utc(2025, 1, 6), horizon=4 * DAY, spec=none_left) == []
