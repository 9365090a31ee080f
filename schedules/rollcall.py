"""Roll-call planning: deadlines, reminder times and the roll itself.

Pure functions that take `now`: no database, no Telegram, no sleeping. The bot plans one
reminder job and one deadline job per open round from what these return, so planning
again after a restart gives the same answer and never repeats a reminder already sent.

Rules:
- reminders go every `every` after the start, strictly before the deadline, numbered
  from 1 (so a 2 h round with 30 min reminders has reminders 1, 2 and 3);
- a reminder whose time passed while nobody could send it (the bot was down) is sent
  once, as soon as possible, and only the latest such one: people are not sent three
  reminders in a row after a restart;
- the roll groups each person by their latest answer; someone who never answered is
  "unreachable" when Telegram would not take their message, otherwise "no answer".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

MIN_DEADLINE = timedelta(minutes=5)
MAX_DEADLINE = timedelta(hours=72)
DEADLINE_EXAMPLES = "2h, 90m or 1h30m"

_DEADLINE = re.compile(r"^(?:(?P<hours>\d{1,4})h)?(?:(?P<minutes>\d{1,5})m(?:in)?)?$", re.I)


def looks_like_deadline(word: str) -> bool:
    """True for words written like a deadline (even one out of range), e.g. `2h`, `0m`."""
    cleaned = word.strip()
    return bool(cleaned) and _DEADLINE.match(cleaned) is not None


def parse_deadline(text: str) -> timedelta:
    """`2h`, `90m`, `1h30m` as a duration; ValueError with a message a lead can act on."""
    cleaned = text.strip()
    if not cleaned:
        raise ValueError(f"No deadline given; write it like {DEADLINE_EXAMPLES}.")
    match = _DEADLINE.match(cleaned)
    if match is None or not (match["hours"] or match["minutes"]):
        shown = " ".join(cleaned[:20].split())
        raise ValueError(f"“{shown}” is not a deadline; write it like {DEADLINE_EXAMPLES}.")
    duration = timedelta(hours=int(match["hours"] or 0), minutes=int(match["minutes"] or 0))
    if duration < MIN_DEADLINE:
        raise ValueError("A deadline must be at least 5 minutes away.")
    if duration > MAX_DEADLINE:
        raise ValueError("A deadline can be at most 72 hours away.")
    return duration


def format_duration(duration: timedelta) -> str:
    """`2 h`, `90 min` → "2 h", "1 h 30 min", "45 min"."""
    minutes = int(duration.total_seconds() // 60)
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours} h {rest} min"
    return f"{hours} h" if hours else f"{rest} min"


# -- reminders -------------------------------------------------------------------------
def _aware(instant: datetime, what: str) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")
    return instant.astimezone(UTC)


def _instants(
    started_at: datetime, deadline_at: datetime, now: datetime
) -> tuple[datetime, datetime, datetime]:
    return _aware(started_at, "started_at"), _aware(deadline_at, "deadline_at"), _aware(now, "now")


def _check_every(every: timedelta) -> None:
    if every <= timedelta(0):
        raise ValueError("the reminder interval must be positive")


@dataclass(frozen=True)
class PlannedReminder:
    index: int  # 1 for the first reminder
    at: datetime  # when it is due (in the past for one missed while the bot was down)


def due_reminder(
    *,
    started_at: datetime,
    deadline_at: datetime,
    every: timedelta,
    sent: int,
    now: datetime,
) -> PlannedReminder | None:
    """The reminder to send now: the latest one due at or before `now`, if not sent yet.

    None before the first reminder time, once the deadline has come, or when the latest
    due reminder (or a later one) is already sent (`sent` is the highest index sent, 0
    when none).
    """
    _check_every(every)
    start, deadline, current = _instants(started_at, deadline_at, now)
    if current >= deadline:
        return None
    # The latest slot at or before now (0 or less before the first reminder time); it is
    # before the deadline because now is.
    latest = int((current - start) / every)
    if latest <= sent:
        return None
    return PlannedReminder(index=latest, at=start + every * latest)


def next_reminder(
    *,
    started_at: datetime,
    deadline_at: datetime,
    every: timedelta,
    sent: int,
    now: datetime,
) -> PlannedReminder | None:
    """The reminder to plan a job for: one due now (missed), else the next one ahead."""
    due = due_reminder(
        started_at=started_at, deadline_at=deadline_at, every=every, sent=sent, now=now
    )
    if due is not None:
        return due
    start, deadline, current = _instants(started_at, deadline_at, now)
    index = max(sent + 1, int((current - start) / every) + 1)
    at = start + every * index
    if at >= deadline:
        return None
    return PlannedReminder(index=index, at=at)


# -- the roll ----------------------------------------------------------------------------
class RollStatus(StrEnum):
    """Where one person stands in a roll call; the first two are also the answers."""

    SAFE = "safe"
    HELP = "help"
    NO_ANSWER = "no_answer"
    UNREACHABLE = "unreachable"


# The order a lead reads the roll in: who needs someone first.
ROLL_ORDER = (RollStatus.HELP, RollStatus.NO_ANSWER, RollStatus.UNREACHABLE, RollStatus.SAFE)

# Delivery outcomes that mean the person never got the roll call.
_NOT_DELIVERED = frozenset({"unreachable", "failed"})
_BEING_SENT = frozenset({"pending", "sending"})


@dataclass(frozen=True)
class RollEntry:
    """One person in one round, as the roll needs them."""

    member_id: int
    staff_id: int
    name: str
    username: str | None
    answer: str | None  # "safe" or "help" (the latest), None when they never answered
    answered_at: datetime | None = None
    late: bool = False
    note: str | None = None
    location: tuple[float, float] | None = None
    delivery: str | None = None  # the outbox status of their roll-call message
    paid: bool = False  # that message went as a paid broadcast
    reachable: bool = True
    telegram_id: int | None = None  # for the link to their profile
    # The lead who owns their open call for help, when one does: (name, Telegram id).
    handled_by: tuple[str, int] | None = None
    # Asked because a trip took them to the country (rather than as a follower).
    on_trip: bool = False
    # How they answered ("sms" for an answer by SMS; "button" or a command otherwise), and
    # the channel other than Telegram the question reached them by ("sms", "email").
    via: str | None = None
    reached_by: str | None = None
    # The channels besides Telegram they can be reached by ("sms", "email"): whether, not
    # the number or address.
    fallback: tuple[str, ...] = ()

    @property
    def status(self) -> RollStatus:
        if self.answer == RollStatus.SAFE.value:
            return RollStatus.SAFE
        if self.answer == RollStatus.HELP.value:
            return RollStatus.HELP
        if self.reached_by is not None:
            return RollStatus.NO_ANSWER  # the question reached them after all
        if self.delivery in _NOT_DELIVERED or (
            not self.reachable and self.delivery not in ("sent", *_BEING_SENT)
        ):
            return RollStatus.UNREACHABLE
        return RollStatus.NO_ANSWER

    @property
    def being_sent(self) -> bool:
        return self.answer is None and self.reached_by is None and self.delivery in _BEING_SENT


@dataclass(frozen=True)
class RollCounts:
    safe: int = 0
    help: int = 0
    no_answer: int = 0
    unreachable: int = 0
    late: int = 0  # of the answers above, how many came after the deadline
    being_sent: int = 0  # of "no answer", how many have not had the message yet
    # Everyone a question or reminder reached by SMS, or else by e-mail, answered or not.
    by_sms: int = 0
    by_email: int = 0
    paid: int = 0  # asked by a paid broadcast

    @property
    def total(self) -> int:
        return self.safe + self.help + self.no_answer + self.unreachable


def count_roll(entries: Iterable[RollEntry]) -> RollCounts:
    tally = dict.fromkeys(RollStatus, 0)
    late = being_sent = by_sms = by_email = paid = 0
    for entry in entries:
        paid += entry.paid
        tally[entry.status] += 1
        late += entry.answer is not None and entry.late
        being_sent += entry.being_sent
        by_sms += entry.reached_by == "sms"
        by_email += entry.reached_by == "email"
    return RollCounts(
        safe=tally[RollStatus.SAFE],
        help=tally[RollStatus.HELP],
        no_answer=tally[RollStatus.NO_ANSWER],
        unreachable=tally[RollStatus.UNREACHABLE],
        late=late,
        being_sent=being_sent,
        by_sms=by_sms,
        by_email=by_email,
        paid=paid,
    )


def group_roll(entries: Sequence[RollEntry]) -> dict[RollStatus, list[RollEntry]]:
    """Everyone by status in `ROLL_ORDER`; by name within a group (answers: latest last)."""
    groups: dict[RollStatus, list[RollEntry]] = {status: [] for status in ROLL_ORDER}
    for entry in entries:
        groups[entry.status].append(entry)
    for members in groups.values():
        members.sort(key=lambda e: (e.name.casefold(), e.member_id))
    return groups
