"""Roll-call planning: deadlines, reminder times (also after a restart) and the roll."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from schedules.rollcall import (
    RollEntry,
    RollStatus,
    count_roll,
    due_reminder,
    format_duration,
    group_roll,
    looks_like_deadline,
    next_reminder,
    parse_deadline,
    reminder_times,
)

START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
HALF_HOUR = timedelta(minutes=30)


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("2h", 120), ("90m", 90), ("1h30m", 90), ("1H30M", 90), ("45min", 45), (" 72h ", 4320)],
)
def test_deadlines_people_write(text: str, minutes: int) -> None:
    assert parse_deadline(text) == timedelta(minutes=minutes)
    assert looks_like_deadline(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "No deadline given"),
        ("soon", "“soon” is not a deadline; write it like 2h, 90m or 1h30m"),
        ("2 hours", "is not a deadline"),
        ("h", "is not a deadline"),
        ("0m", "at least 5 minutes"),
        ("4m", "at least 5 minutes"),
        ("73h", "at most 72 hours"),
    ],
)
def test_bad_deadlines_say_what_to_write(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_deadline(text)


def test_words_that_are_not_deadlines() -> None:
    assert not looks_like_deadline("now")
    assert not looks_like_deadline("")
    assert not looks_like_deadline("2")
    assert looks_like_deadline("0m")  # shaped like one: refused with a reason, not sent as text


def test_format_duration() -> None:
    assert format_duration(timedelta(hours=2)) == "2 h"
    assert format_duration(timedelta(minutes=90)) == "1 h 30 min"
    assert format_duration(timedelta(minutes=45)) == "45 min"


def test_reminders_every_interval_strictly_before_the_deadline() -> None:
    assert reminder_times(started_at=START, deadline_at=at(120), every=HALF_HOUR) == [
        at(30),
        at(60),
        at(90),
    ]
    assert reminder_times(started_at=START, deadline_at=at(100), every=HALF_HOUR) == [
        at(30),
        at(60),
        at(90),
    ]
    assert reminder_times(started_at=START, deadline_at=at(30), every=HALF_HOUR) == []


def _due(now: datetime, sent: int, deadline: float = 120) -> int | None:
    found = due_reminder(
        started_at=START, deadline_at=at(deadline), every=HALF_HOUR, sent=sent, now=now
    )
    return found.index if found else None


def test_the_reminder_due_is_the_latest_one_not_sent() -> None:
    assert _due(at(29.9), sent=0) is None
    assert _due(at(30), sent=0) == 1
    assert _due(at(45), sent=1) is None  # already sent
    # Down from 00:25 to 01:35: one reminder (the third), not the two missed in a row.
    assert _due(at(95), sent=0) == 3
    assert _due(at(95), sent=3) is None
    # At or after the deadline there are no reminders, only the escalation.
    assert _due(at(120), sent=0) is None
    assert _due(at(200), sent=1) is None
    # A slot falling on the deadline itself is the deadline, not a reminder.
    assert _due(at(119), sent=2, deadline=120) == 3
    assert _due(at(61), sent=0, deadline=60) is None


def test_next_reminder_to_plan() -> None:
    def plan(now: datetime, sent: int) -> tuple[int, datetime] | None:
        found = next_reminder(
            started_at=START, deadline_at=at(120), every=HALF_HOUR, sent=sent, now=now
        )
        return (found.index, found.at) if found else None

    assert plan(START, 0) == (1, at(30))
    assert plan(at(31), 1) == (2, at(60))
    assert plan(at(65), 1) == (2, at(60))  # missed while down: due now, planned at its time
    assert plan(at(95), 3) is None  # the last one went out; next is the deadline
    assert plan(at(130), 0) is None


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        reminder_times(started_at=START.replace(tzinfo=None), deadline_at=at(120), every=HALF_HOUR)
    with pytest.raises(ValueError, match="positive"):
        reminder_times(started_at=START, deadline_at=at(120), every=timedelta(0))


def _entry(
    n: int, answer: str | None, delivery: str | None = "sent", *, reachable: bool = True
) -> RollEntry:
    return RollEntry(
        member_id=n,
        staff_id=n,
        name=f"Person {n}",
        username=None,
        answer=answer,
        delivery=delivery,
        reachable=reachable,
        late=answer is not None and n == 3,
    )


def test_the_roll_counts_each_person_once_by_latest_answer_and_delivery() -> None:
    entries = [
        _entry(1, "safe"),
        _entry(2, "help"),
        _entry(3, "safe"),  # late
        _entry(4, None),  # got it, silent
        _entry(5, None, "pending"),  # not delivered yet: no answer, being sent
        _entry(6, None, "unreachable", reachable=False),
        _entry(7, None, "failed"),
        _entry(8, "safe", "unreachable", reachable=False),  # answered with /safe anyway
    ]
    counts = count_roll(entries)
    assert (counts.safe, counts.help, counts.no_answer, counts.unreachable) == (3, 1, 2, 2)
    assert counts.total == 8 and counts.late == 1 and counts.being_sent == 1
    groups = group_roll(entries)
    assert list(groups) == [
        RollStatus.HELP,
        RollStatus.NO_ANSWER,
        RollStatus.UNREACHABLE,
        RollStatus.SAFE,
    ]
    assert [e.member_id for e in groups[RollStatus.NO_ANSWER]] == [4, 5]
    assert [e.member_id for e in groups[RollStatus.UNREACHABLE]] == [6, 7]
