"""Curfew reminder planning: which reminder goes to whom, and when.

Pure functions over curfews and each staff member's lead time, given `now`: no database,
no Telegram, no sleeping. The scheduler calls them at start-up and whenever a curfew or
a preference changes, and registers one job per planned item under its `key`. Keys
depend only on curfew, local date and staff member, so planning again after a restart
gives the same keys and the delivery layer can refuse a key it has already sent.

Rules for reminders:
- one per staff member per occurrence, sent `lead` minutes before that day's start
  (a lead of None means the person turned reminders off; 0 means at the start);
- a curfew confirmed less than a person's lead time before a start reminds them at
  its confirmation, saying how long is left, rather than not at all;
- a send time more than `grace` in the past is skipped, never sent late; one within
  `grace` is due now (its `send_at` becomes `now`);
- only send times before `now + horizon` are planned; plan again before it runs out;
- only days from the curfew's first to its last local date.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from schedules.curfew_times import (
    Occurrence,
    Window,
    occurrence,
    occurrences_between,
    unbroken,
)
from schedules.zones import as_utc


@dataclass(frozen=True)
class CurfewSpec:
    """A curfew as stored: local window, zone, first and optional last local date.

    `label` names the place for people ("Almaty"); `set_at` is when it was confirmed;
    `continuous`: one unbroken curfew from the start on `first_day` to the end on
    `last_day` (schedules.curfew_times.unbroken), not a nightly one; `days`: the days
    of the week it starts on (Mon=0), None for every day.
    """

    curfew_id: int
    zone: str
    window: Window
    first_day: date
    last_day: date | None
    label: str
    set_at: datetime | None = None
    continuous: bool = False
    days: tuple[int, ...] | None = None

    def last(self) -> Occurrence | None:
        """The occurrence that ends it; None while it runs until a lead ends it (or has
        no day left to run on)."""
        if self.last_day is None or self.last_day < self.first_day:
            return None
        if self.continuous:
            return unbroken(self.zone, self.window, self.first_day, self.last_day)
        day = self.last_day
        while self.days is not None and day.weekday() not in self.days:
            day -= timedelta(days=1)
            if day < self.first_day:
                return None
        return occurrence(self.zone, self.window, day)


@dataclass(frozen=True)
class PlannedReminder:
    """One reminder to send: `send_at` is when, `starts_at`/`ends_at` the occurrence."""

    curfew_id: int
    staff_id: int
    day: date
    send_at: datetime
    starts_at: datetime
    ends_at: datetime
    key: str


@dataclass(frozen=True)
class PlannedNotice:
    """One "curfew has ended for good" notice, due when the last occurrence ends."""

    curfew_id: int
    staff_id: int
    send_at: datetime
    ended_at: datetime
    key: str


def reminder_key(curfew_id: int, day: date, staff_id: int) -> str:
    return f"curfew:{curfew_id}:{day.isoformat()}:staff:{staff_id}"


def notice_key(curfew_id: int, staff_id: int) -> str:
    return f"curfew:{curfew_id}:ended:staff:{staff_id}"


def _check_now(now: datetime, horizon: timedelta, grace: timedelta) -> datetime:
    if horizon < timedelta(0) or grace < timedelta(0):
        raise ValueError("horizon and grace must not be negative")
    return as_utc(now, "now")


def plan_curfew_reminders(
    curfews: Sequence[CurfewSpec],
    lead_minutes: Mapping[int, Mapping[int, int | None]],
    *,
    now: datetime,
    horizon: timedelta,
    grace: timedelta,
) -> list[PlannedReminder]:
    """Reminders due in [now - grace, now + horizon), sorted by send time, then key.

    `lead_minutes[curfew_id][staff_id]` is that person's lead time in minutes for that
    curfew, or None when they turned reminders off; staff not listed get none. Raises
    ValueError for a naive `now`, a negative horizon, grace or lead.
    """
    current = _check_now(now, horizon, grace)
    earliest, latest = current - grace, current + horizon
    planned: list[PlannedReminder] = []
    for spec in curfews:
        leads = {
            staff: lead
            for staff, lead in lead_minutes.get(spec.curfew_id, {}).items()
            if lead is not None
        }
        if not leads:
            continue
        if min(leads.values()) < 0:
            raise ValueError(f"negative lead time for curfew {spec.curfew_id}")
        longest = timedelta(minutes=max(leads.values()))
        # Starts that can have a send time inside the planning window.
        for occ in occurrences_between(
            spec.zone,
            spec.window,
            spec.first_day,
            spec.last_day,
            earliest,
            latest + longest,
            continuous=spec.continuous,
            days=spec.days,
        ):
            if not earliest <= occ.starts_at < latest + longest:
                continue  # already running at `earliest`: its start is not ahead
            for staff, lead in leads.items():
                send_at = occ.starts_at - timedelta(minutes=lead)
                if spec.set_at is not None and send_at < spec.set_at <= occ.starts_at:
                    # Set too late for this lead time: a late reminder still warns.
                    send_at = as_utc(spec.set_at, "set_at")
                if not earliest <= send_at < latest:
                    continue
                planned.append(
                    PlannedReminder(
                        curfew_id=spec.curfew_id,
                        staff_id=staff,
                        day=occ.day,
                        send_at=max(send_at, current),
                        starts_at=occ.starts_at,
                        ends_at=occ.ends_at,
                        key=reminder_key(spec.curfew_id, occ.day, staff),
                    )
                )
    planned.sort(key=lambda r: (r.send_at, r.key))
    return planned


def plan_curfew_notices(
    curfews: Sequence[CurfewSpec],
    recipients: Mapping[int, Collection[int]],
    *,
    now: datetime,
    horizon: timedelta,
    grace: timedelta,
) -> list[PlannedNotice]:
    """Notices that a curfew has ended, at the end of the last occurrence of curfews that have
    a last day, with the same grace and horizon rules as reminders.

    `recipients[curfew_id]` is who is told (the caller decides whether people who turned
    reminders off still hear that a curfew is over). Curfews without a last day never
    end by themselves; lifting one early is an edit the caller announces.
    """
    current = _check_now(now, horizon, grace)
    planned: list[PlannedNotice] = []
    for spec in curfews:
        last = spec.last()
        if last is None:
            continue
        ended_at = last.ends_at
        if not current - grace <= ended_at < current + horizon:
            continue
        for staff in recipients.get(spec.curfew_id, ()):
            planned.append(
                PlannedNotice(
                    curfew_id=spec.curfew_id,
                    staff_id=staff,
                    send_at=max(ended_at, current),
                    ended_at=ended_at,
                    key=notice_key(spec.curfew_id, staff),
                )
            )
    planned.sort(key=lambda n: (n.send_at, n.key))
    return planned


def _minutes(count: int) -> str:
    return "1 minute" if count == 1 else f"{count} minutes"


def _clock_note(occ: Occurrence) -> str:
    if occ.shifted or occ.ambiguous:
        return " The clocks change during this curfew; the times above allow for it."
    return ""


def render_reminder(spec: CurfewSpec, occ: Occurrence, lead_minutes: int) -> str:
    """The reminder text, plain (no HTML), times in local time and UTC.

    `lead_minutes` is what the text says is left: pass the minutes actually remaining
    when a reminder goes out late within grace.
    """
    when = "starts now" if lead_minutes <= 0 else f"starts in {_minutes(lead_minutes)}"
    end = f"{occ.end.local:%H:%M} local time ({occ.ends_at:%H:%M} UTC)"
    if spec.continuous:
        # It does not lift in the morning: the day it ends is the point of the reminder.
        end += f" on {occ.end.local:%A} {occ.end.local.day} {occ.end.local:%B}, without a break"
    return (
        f"Curfew in {spec.label} {when}, at {occ.start.local:%H:%M} local time "
        f"({occ.starts_at:%H:%M} UTC), and ends at {end}.{_clock_note(occ)}"
    )


def render_notice(spec: CurfewSpec, occ: Occurrence) -> str:
    """The "curfew has ended" text for the last occurrence, plain text."""
    return (
        f"Curfew in {spec.label} ended at {occ.end.local:%H:%M} local time "
        f"({occ.ends_at:%H:%M} UTC) on {occ.end.local.day} {occ.end.local:%B %Y}. "
        "No more reminders will be sent for it."
    )
