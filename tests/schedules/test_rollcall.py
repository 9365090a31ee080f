"""Roll-call planning: deadlines, reminder times (also after a restart) and the roll."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

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
)
from tests.strategies import NoOffset

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


def _planned(started_at: datetime, deadline_at: datetime) -> list[datetime]:
    """Every reminder of a round, planned as the bot plans them: one job at a time, the
    next one when the last has gone out."""
    times: list[datetime] = []
    sent, now = 0, started_at
    while found := next_reminder(
        started_at=started_at, deadline_at=deadline_at, every=HALF_HOUR, sent=sent, now=now
    ):
        times.append(found.at)
        sent, now = found.index, found.at
    return times


def test_reminders_every_interval_strictly_before_the_deadline() -> None:
    assert _planned(START, at(120)) == [at(30), at(60), at(90)]
    assert _planned(START, at(100)) == [at(30), at(60), at(90)]
    assert _planned(START, at(30)) == []


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
        next_reminder(
            started_at=START.replace(tzinfo=None),
            deadline_at=at(120),
            every=HALF_HOUR,
            sent=0,
            now=START,
        )
    with pytest.raises(ValueError, match="positive"):
        next_reminder(started_at=START, deadline_at=at(120), every=timedelta(0), sent=0, now=START)


@pytest.mark.parametrize("argument", ["started_at", "deadline_at", "now"])
@pytest.mark.parametrize("naive", [START.replace(tzinfo=None), START.replace(tzinfo=NoOffset())])
def test_the_refusal_names_the_time_that_has_no_zone(argument: str, naive: datetime) -> None:
    times = {"started_at": START, "deadline_at": at(120), "now": at(10), argument: naive}
    for plan in (due_reminder, next_reminder):
        with pytest.raises(ValueError, match=f"^{argument} must be timezone-aware$"):
            plan(every=HALF_HOUR, sent=0, **times)


def test_the_roll_counts_who_was_reached_by_sms_or_email_and_by_a_paid_broadcast() -> None:
    def entry(n: int, reached_by: str | None, *, paid: bool = False) -> RollEntry:
        return RollEntry(
            member_id=n,
            staff_id=n,
            name=f"P{n}",
            username=None,
            answer=None,
            reached_by=reached_by,
            paid=paid,
        )

    entries = [
        entry(1, "sms", paid=True),
        entry(2, "email", paid=True),
        entry(3, "sms"),
        entry(4, "email"),
        entry(5, None, paid=True),
        entry(6, None),
    ]
    counts = count_roll(entries)
    assert (counts.by_sms, counts.by_email, counts.paid) == (2, 2, 3)


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


def test_what_a_lead_reads_when_a_deadline_is_wrong() -> None:
    def refusal(text: str) -> str:
        with pytest.raises(ValueError) as caught:
            parse_deadline(text)
        return str(caught.value)

    assert refusal("  ") == "No deadline given; write it like 2h, 90m or 1h30m."
    assert refusal("soon") == "“soon” is not a deadline; write it like 2h, 90m or 1h30m."
    assert refusal("in  two\thours and a bit more") == (
        "“in two hours and a” is not a deadline; write it like 2h, 90m or 1h30m."
    )
    assert refusal("4m") == "A deadline must be at least 5 minutes away."
    assert refusal("72h1m") == "A deadline can be at most 72 hours away."
    assert refusal("12345h") == "“12345h” is not a deadline; write it like 2h, 90m or 1h30m."
    assert refusal("123456m") == "“123456m” is not a deadline; write it like 2h, 90m or 1h30m."
    assert refusal("1h30") == "“1h30” is not a deadline; write it like 2h, 90m or 1h30m."


def test_the_shortest_and_longest_deadlines_are_taken() -> None:
    assert parse_deadline("5m") == timedelta(minutes=5)
    assert parse_deadline("4h") == timedelta(hours=4)
    assert parse_deadline("72h") == parse_deadline("4320m") == timedelta(hours=72)
    assert parse_deadline("0h90min") == timedelta(minutes=90)
    assert not looks_like_deadline("   ")
    assert not looks_like_deadline("2 h")
    assert looks_like_deadline(" 99999m ")


def test_durations_as_people_read_them() -> None:
    assert format_duration(timedelta(minutes=60)) == "1 h"
    assert format_duration(timedelta(minutes=61)) == "1 h 1 min"
    assert format_duration(timedelta(minutes=5, seconds=59)) == "5 min"
    assert format_duration(timedelta(hours=72)) == "72 h"


def test_every_time_argument_must_say_its_zone() -> None:
    naive = START.replace(tzinfo=None)
    cases = [
        (dict(started_at=naive, deadline_at=at(120)), "started_at must be timezone-aware"),
        (dict(started_at=START, deadline_at=at(120).replace(tzinfo=None)), "deadline_at must"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValueError, match=message):
            due_reminder(every=HALF_HOUR, sent=0, now=at(30), **kwargs)
        with pytest.raises(ValueError, match=message):
            next_reminder(every=HALF_HOUR, sent=0, now=at(30), **kwargs)
    for planner in (due_reminder, next_reminder):
        with pytest.raises(ValueError, match=r"^now must be timezone-aware$"):
            planner(started_at=START, deadline_at=at(120), every=HALF_HOUR, sent=0, now=naive)
        with pytest.raises(ValueError, match=r"^the reminder interval must be positive$"):
            planner(started_at=START, deadline_at=at(120), every=-HALF_HOUR, sent=0, now=at(30))


def test_times_in_other_zones_are_planned_in_utc() -> None:
    almaty = timezone(timedelta(hours=5))
    start = START.astimezone(almaty)
    third = next_reminder(started_at=start, deadline_at=at(120), every=HALF_HOUR, sent=2, now=start)
    assert third is not None and third.at == at(90) and third.at.tzinfo is UTC
    planned = _planned(start, at(120))
    assert planned and all(instant.tzinfo is UTC for instant in planned)
    due = due_reminder(started_at=start, deadline_at=at(120), every=HALF_HOUR, sent=0, now=at(31))
    assert due is not None and due.at.tzinfo is UTC and due.at == at(30)


def test_a_reminder_already_sent_ahead_is_not_planned_again() -> None:
    def plan(now: datetime, sent: int, deadline: float = 120) -> tuple[int, datetime] | None:
        found = next_reminder(
            started_at=START, deadline_at=at(deadline), every=HALF_HOUR, sent=sent, now=now
        )
        return (found.index, found.at) if found else None

    assert plan(at(10), 2) == (3, at(90))
    assert plan(at(30), 1) == (2, at(60))
    assert plan(at(59.9), 1) == (2, at(60))
    assert plan(at(95), 3, deadline=121) == (4, at(120))
    assert plan(at(95), 3, deadline=120) is None
    assert plan(at(121), 0, deadline=120) is None
    assert plan(at(-5), 0) == (1, at(30))
    assert _due(at(60), sent=1) == 2
    assert _due(at(89.9), sent=1) == 2
    assert _due(at(119.9), sent=3) is None


def test_who_counts_as_unreachable_and_who_is_still_being_sent_to() -> None:
    def entry(answer: str | None, delivery: str | None, reachable: bool) -> RollEntry:
        return RollEntry(
            member_id=1,
            staff_id=1,
            name="P",
            username=None,
            answer=answer,
            delivery=delivery,
            reachable=reachable,
            late=True,
        )

    # Blocked the bot after Telegram took the question: they got it, so no answer.
    assert entry(None, "sent", False).status is RollStatus.NO_ANSWER
    assert entry(None, "sending", False).status is RollStatus.NO_ANSWER
    assert entry(None, "pending", False).status is RollStatus.NO_ANSWER
    assert entry(None, None, False).status is RollStatus.UNREACHABLE
    assert entry(None, None, True).status is RollStatus.NO_ANSWER
    assert entry(None, "failed", True).status is RollStatus.UNREACHABLE
    assert entry("help", "failed", False).status is RollStatus.HELP
    assert entry(None, "sending", True).being_sent
    assert not entry("safe", "pending", True).being_sent
    assert not entry(None, "sent", True).being_sent
    counts = count_roll([entry(None, "sending", True), entry("safe", "sent", True)])
    assert (counts.no_answer, counts.safe, counts.late, counts.being_sent) == (1, 1, 1, 1)


def test_the_roll_lists_names_alphabetically_whatever_their_case() -> None:
    def entry(n: int, name: str) -> RollEntry:
        return RollEntry(member_id=n, staff_id=n, name=name, username=None, answer="safe")

    people = [entry(1, "bob"), entry(2, "alice"), entry(3, "Alice"), entry(4, "Bea")]
    assert [e.member_id for e in group_roll(people)[RollStatus.SAFE]] == [2, 3, 4, 1]
    assert count_roll(people).total == 4
