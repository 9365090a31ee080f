"""Curfews in words: where, when in local time and UTC, and what a lead is offered."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from bot import render
from db.curfews import days_of
from db.models import Curfew
from schedules import zones
from schedules.countries import country_name
from schedules.curfew_text import FoundCurfew, utc_check
from schedules.curfew_times import (
    Occurrence,
    Window,
    days_text,
    format_duration,
    format_unbroken,
    format_window,
    next_change,
    occurrence,
    parse_clock,
    unbroken,
)
from schedules.reminders import CurfewSpec


def place(curfew: Curfew) -> str:
    name = country_name(curfew.country)
    return f"{curfew.area} ({name})" if curfew.area else f"{name} (nationwide)"


def window_of(curfew: Curfew) -> Window:
    return Window(parse_clock(curfew.start), parse_clock(curfew.end))


def spec_of(curfew: Curfew) -> CurfewSpec:
    return CurfewSpec(
        curfew_id=curfew.id or 0,
        zone=curfew.zone,
        window=window_of(curfew),
        first_day=curfew.first_day,
        last_day=curfew.last_day,
        label=curfew.area or country_name(curfew.country),
        set_at=curfew.confirmed_at,
        continuous=curfew.continuous,
        days=days_of(curfew.days),
    )


def occurrence_of(curfew: Curfew, day: date) -> Occurrence:
    """The curfew that starts on local date `day`: that night's, or the whole of a
    continuous one."""
    if curfew.continuous and curfew.last_day is not None:
        return unbroken(curfew.zone, window_of(curfew), curfew.first_day, curfew.last_day)
    return occurrence(curfew.zone, window_of(curfew), day)


def when_text(curfew: Curfew, day: date) -> str:
    """Its hours for people: "23:00 to 07:00 local time (17:00-01:00 UTC)" for the night
    that starts on `day`, or the whole span of a continuous one."""
    if curfew.continuous and curfew.last_day is not None:
        return format_unbroken(curfew.zone, window_of(curfew), curfew.first_day, curfew.last_day)
    on = days_text(days_of(curfew.days))
    return format_window(curfew.zone, window_of(curfew), day) + (f" {on}" if on else "")


def next_night(curfew: Curfew, day: date) -> date | None:
    """The first local date from `day` on that the curfew starts on (its first date at
    the earliest); None when it has none left."""
    day = max(day, curfew.first_day)
    days = days_of(curfew.days)
    for _ in range(7):
        if curfew.last_day is not None and day > curfew.last_day:
            return None
        if days is None or day.weekday() in days:
            return day
        day += timedelta(days=1)
    return None


def local_today(zone: str, now: datetime) -> date:
    return zones.utc_to_local(zone, now).date()


def until_text(last_day: date | None) -> str:
    """How a curfew's end is shown everywhere: "until 19 January 2022", or "until further
    notice" for one that runs until a lead ends it."""
    return f"until {last_day.day} {last_day:%B %Y}" if last_day else "until further notice"


def describe(curfew: Curfew, *, now: datetime, until_typed: str | None = None) -> str:
    """E.g. "Curfew in Almaty (Kazakhstan) from 23:00 to 07:00 local time (17:00-01:00 UTC)
    until 19 January 2022", with UTC computed for the coming night; with `until_typed`,
    the words the end date was read from."""
    day = max(curfew.first_day, local_today(curfew.zone, now))
    if curfew.continuous:
        return f"Curfew in {place(curfew)} {when_text(curfew, day)}"
    until = until_text(curfew.last_day)
    if until_typed and curfew.last_day:
        until += f" (read from “{until_typed}”)"
    return f"Curfew in {place(curfew)} from {when_text(curfew, day)} {until}"


def status_line(curfew: Curfew, *, now: datetime) -> str:
    change = next_change(
        curfew.zone,
        window_of(curfew),
        curfew.first_day,
        curfew.last_day,
        now,
        continuous=curfew.continuous,
        days=days_of(curfew.days),
    )
    if change is None:
        return "It is over."
    kind, at = change
    in_force = kind == "end"
    state = "In force now" if in_force else "Not in force now"
    return (
        f"{state}; it {'ends' if kind == 'end' else 'starts'} in {format_duration(at - now)} "
        f"(at {zones.local_and_utc(curfew.zone, at, date_too=False)})."
    )


def keyboard(curfew_id: int, *, proposal: bool) -> dict[str, Any]:
    """Confirm and Cancel under a lead's own draft; Confirm, Edit and Ignore under a
    proposal read from an alert. As Telegram's JSON, which the outbox stores."""
    row = [{"text": "Confirm", "callback_data": f"cf:ok:{curfew_id}"}]
    if proposal:
        row.append({"text": "Edit", "callback_data": f"cf:edit:{curfew_id}"})
        row.append({"text": "Ignore", "callback_data": f"cf:no:{curfew_id}"})
    else:
        row.append({"text": "Cancel", "callback_data": f"cf:no:{curfew_id}"})
    return {"inline_keyboard": [row]}


def draft_text(
    curfew: Curfew,
    *,
    today: date,
    now: datetime,
    until_typed: str | None = None,
    place_note: str | None = None,
) -> str:
    """What a lead sees before confirming their own /curfew_set: what was understood,
    including what an end date was read from and which of several places was taken."""
    described = describe(curfew, now=now, until_typed=until_typed)
    note = f"{render.esc(place_note)}.\n" if place_note else ""
    day = next_night(curfew, today) or max(today, curfew.first_day)
    if curfew.continuous:
        first = f"In {render.esc(curfew.zone)}, without a break: "
    else:
        night = "Tonight" if day == today else "The first night"
        first = f"{night} ({day:%d %B}) in {render.esc(curfew.zone)}: "
    return (
        f"<b>Please check</b>: {render.esc(described)}.\n{note}"
        f"{first}{render.esc(when_text(curfew, day))}.\n"
        "Confirm to tell staff and remind them before each start."
    )


def _understood(curfew: Curfew, day: date) -> str:
    if curfew.continuous:
        return when_text(curfew, day)
    window = format_window(curfew.zone, window_of(curfew), day)
    on = days_text(days_of(curfew.days))
    if on:
        return f"{window} {on}, from {day:%d %B %Y}, {until_text(curfew.last_day)}"
    return f"{window} on {day:%d %B %Y}, {until_text(curfew.last_day)}"


def proposal_text(curfew: Curfew, found: FoundCurfew, day: date) -> str:
    """A curfew read out of an alert or a pasted text, offered to a lead."""
    lines = [
        f"🌙 <b>Curfew found in alert {curfew.alert_id}</b>"
        if curfew.alert_id
        else "🌙 <b>Curfew found in the text you sent</b>",
        render.esc(f"“{found.sentence[:600]}”"),
        "",
        render.esc(f"Understood: {place(curfew)}, {_understood(curfew, day)} ({curfew.zone})."),
    ]
    if utc_check(found, curfew.zone, day) is False and found.stated_utc is not None:
        lines.append(
            render.esc(
                f"⚠️ The alert says {found.stated_utc.label()} UTC, but the time-zone database "
                f"gives {format_window(curfew.zone, window_of(curfew), day).split('(')[1][:-1]} "
                f"for {curfew.zone} on that date. Check before confirming."
            )
        )
    lines.append("Confirm to remind staff before each start; nothing is sent until you do.")
    return "\n".join(lines)
