"""What roll calls say: the question and its buttons, answers, reminders, live rolls,
the roll with names, the deadline report, calls for help, and the roll as CSV."""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from bot import render
from bot.incidents.texts import profile_link
from db import checkins as db
from db.checkins import Answer, RollCall, RoundStatus
from db.models import Staff
from schedules import rollcall as plan
from schedules.countries import country_name
from schedules.rollcall import RollEntry, RollStatus
from schedules.zones import local_and_utc, utc_offset, zones_for_country

DEFAULT_QUESTION = "Are you safe?"
# Names per group in /roll (a message or two on a phone) and in the deadline report.
ROLL_GROUP_LIMIT = 30
ROLL_HELP_LIMIT = 100
# A note's characters shown in a roll line, so that one line always fits a message; the
# CSV has every note whole.
ROLL_NOTE_LIMIT = 500
ESCALATION_LIMIT = 300
# Calls for help named with their owner in the live roll; /roll shows every one.
LIVE_HANDLED_LIMIT = 10

ROUND_USAGE = "Usage: /{command} <round id or country>, e.g. /{command} 12 or /{command} KZ"

_STATUS_WORDS = {
    RollStatus.SAFE: "safe",
    RollStatus.HELP: "need help",
    RollStatus.NO_ANSWER: "no answer",
    RollStatus.UNREACHABLE: "unreachable",
}
_STATUS_ICONS = {
    RollStatus.SAFE: "✅",
    RollStatus.HELP: "🆘",
    RollStatus.NO_ANSWER: "❔",
    RollStatus.UNREACHABLE: "🚫",
}


_CHANNEL_WORDS = {"sms": "SMS", "email": "e-mail"}


def when_text(country: str, instant: datetime, *, zone: str | None = None) -> str:
    """A time as people there read it, and in UTC: "06 Jan 21:00 Almaty (06 Jan 16:00 UTC)".

    `zone`: the reader's own zone (bot.whereabouts.rules.own_zones); when its clock
    differs from the country's at that instant, the time is shown in it instead:
    "06 Jan 11:00 London (06 Jan 11:00 UTC)".
    """
    zones = zones_for_country(country)
    if zone is not None and (
        not zones or utc_offset(zone, instant) != utc_offset(zones[0], instant)
    ):
        return local_and_utc(zone, instant)
    return render.time_in(country, instant)


def _where(latitude: float, longitude: float) -> str:
    return f"{latitude:.5f}, {longitude:.5f}"


def _map_link(latitude: float, longitude: float) -> str:
    url = f"https://maps.google.com/?q={latitude:.5f},{longitude:.5f}"
    return f'<a href="{html.escape(url, quote=True)}">{_where(latitude, longitude)}</a>'


def answer_keyboard(round_id: int, member_id: int) -> dict[str, Any]:
    """The two buttons as the Bot API's JSON (built directly: a round may ask thousands)."""
    return {
        "inline_keyboard": [
            [
                {"text": "I'm safe", "callback_data": f"rc:{round_id}:{member_id}:s"},
                {"text": "I need help", "callback_data": f"rc:{round_id}:{member_id}:h"},
            ]
        ]
    }


def question_text(
    rollcall: RollCall, *, asked_by: str | None, advisory: str | None, zone: str | None = None
) -> str:
    """The roll-call message each person asked gets (before they answer); the deadline in
    their own `zone` when its clock differs from the country's."""
    lines = [f"🚨 <b>Safety roll call: {render.esc(country_name(rollcall.country))}</b>"]
    if advisory is not None:
        lines.append(f"<i>After a departure advisory: {render.esc(advisory[:300])}</i>")
    elif asked_by is not None:
        lines.append(f"<i>From {render.esc(asked_by)}</i>")
    lines.append("")
    lines.append(render.esc(rollcall.message or DEFAULT_QUESTION))
    lines.append("")
    lines.append(
        "Answer with the buttons below by "
        f"<b>{when_text(rollcall.country, rollcall.deadline_at, zone=zone)}</b>."
    )
    return "\n".join(lines)


def answered_text(question: str, *, country: str, answer: Answer, at: datetime, late: bool) -> str:
    """The question with what was recorded and when, as the person sees it after a press."""
    return f"{question}\n\n{answered_footer(country=country, answer=answer, at=at, late=late)}"


def answered_footer(*, country: str, answer: Answer, at: datetime, late: bool) -> str:
    """What `answered_text` adds below the question: the answer recorded and when."""
    when = when_text(country, at) + (", after the deadline" if late else "")
    if answer is Answer.SAFE:
        footer = f"✅ <b>Recorded: you are safe</b>, at {when}."
    else:
        footer = (
            f"🆘 <b>Recorded: you need help</b>, at {when}. Your security leads have been "
            "alerted. If you can, share your location (📎 → Location)."
        )
    return f"{footer}\nYou can change your answer with the buttons below."


def reminder_text(rollcall: RollCall, *, zone: str | None = None) -> str:
    # The lead's own question is repeated below; the default one is the first line's.
    own = rollcall.message and rollcall.message != DEFAULT_QUESTION
    asked = f"\n\n{render.esc(rollcall.message or '')}" if own else ""
    return (
        f"⏰ <b>Reminder: safety roll call for {render.esc(country_name(rollcall.country))}</b>\n"
        "We have not heard from you yet. Are you safe? Answer with the buttons by "
        f"<b>{when_text(rollcall.country, rollcall.deadline_at, zone=zone)}</b>.{asked}"
    )


def _state_line(rollcall: RollCall) -> str:
    if rollcall.status == RoundStatus.OPEN.value:
        return f"Open until {when_text(rollcall.country, rollcall.deadline_at)}"
    if rollcall.status == RoundStatus.PAST_DEADLINE.value:
        return (
            f"Deadline passed {when_text(rollcall.country, rollcall.deadline_at)}; "
            "late answers are still recorded"
        )
    closed = (
        when_text(rollcall.country, rollcall.closed_at)
        if rollcall.closed_at
        else "at an unknown time"
    )
    if rollcall.close_reason == "superseded":
        return f"Closed {closed}: a newer roll call for this country replaced it"
    return f"Ended by a lead {closed}; answers are no longer taken"


def _handling(entry: RollEntry) -> str:
    """Who owns a person's call for help: " — Lena Lead is handling it"; "" when nobody."""
    if entry.handled_by is None:
        return ""
    name, telegram_id = entry.handled_by
    return f" — {render.profile_link(name, telegram_id)} is handling it"


def _forgotten(rollcall: RollCall) -> str:
    """ "2 people removed their data", or "" when nobody asked in the round did."""
    if not rollcall.forgotten:
        return ""
    return f"{render.plural(rollcall.forgotten, 'person', 'people')} removed their data"


def live_roll_text(rollcall: RollCall, entries: Sequence[RollEntry]) -> str:
    """The lead's live roll: counts, and who owns each call for help, so that an edit
    happens only when a count or an owner changes."""
    counts = plan.count_roll(entries)
    sending = f" ({counts.being_sent} still being sent)" if counts.being_sent else ""
    late = f" · {counts.late} late" if counts.late else ""
    lines = [
        f"📋 <b>Roll call #{rollcall.id}: {render.esc(country_name(rollcall.country))}</b>",
        _state_line(rollcall),
        "",
        f"✅ safe: {counts.safe}",
        f"🆘 need help: {counts.help}",
        f"❔ no answer: {counts.no_answer}{sending}",
        f"🚫 unreachable: {counts.unreachable}",
        f"of {counts.total} asked{late}",
    ]
    if counts.by_sms:
        lines.append(f"📱 reached by SMS: {counts.by_sms}")
    if counts.by_email:
        lines.append(f"✉️ reached by e-mail: {counts.by_email}")
    if counts.paid:
        lines.append(f"⭐ asked by paid broadcast: {counts.paid}")
    if rollcall.forgotten:
        lines.append(f"🗑 {_forgotten(rollcall)}")
    # Answers that came without Telegram: the lead knows who is on it and who is not.
    by_sms = sorted(
        (e for e in entries if e.answer is not None and e.via == "sms"),
        key=lambda e: (e.name.casefold(), e.member_id),
    )
    if by_sms:
        lines.append("")
        lines += [
            f"{_STATUS_ICONS[e.status]} {render.profile_link(e.name, e.telegram_id)}: "
            f"{_STATUS_WORDS[e.status]} (SMS)"
            for e in by_sms[:LIVE_HANDLED_LIMIT]
        ]
        if len(by_sms) > LIVE_HANDLED_LIMIT:
            lines.append(f"… and {len(by_sms) - LIVE_HANDLED_LIMIT} more answers by SMS")
    handled = sorted(
        (e for e in entries if e.handled_by is not None),
        key=lambda e: (e.name.casefold(), e.member_id),
    )
    if handled:
        lines.append("")
        lines += [
            f"🆘 {render.profile_link(e.name, e.telegram_id)}{_handling(e)}"
            for e in handled[:LIVE_HANDLED_LIMIT]
        ]
        if len(handled) > LIVE_HANDLED_LIMIT:
            lines.append(f"… and {len(handled) - LIVE_HANDLED_LIMIT} more handled calls")
    lines += ["", f"/roll {rollcall.id} for names"]
    if rollcall.status != RoundStatus.CLOSED.value:
        lines[-1] += f" · /checkin_end {rollcall.id} to close"
    return "\n".join(lines)


def _entry_line(entry: RollEntry, country: str) -> str:
    """One person in a roll, as HTML: "• Name (@username), time: “note” [location]"; the
    name links to their profile. db/privacy.py finds these lines by that link."""
    line = f"• {render.profile_link(entry.name, entry.telegram_id, entry.username)}"
    if entry.answered_at is not None:
        line += f", {when_text(country, entry.answered_at)}"
        if entry.late:
            line += " (late)"
        if entry.via == "sms":
            line += " (SMS)"
    elif entry.reached_by is not None:
        line += f", reached by {_CHANNEL_WORDS[entry.reached_by]}"
    elif entry.fallback:
        line += f", can be reached by {' or '.join(_CHANNEL_WORDS[c] for c in entry.fallback)}"
    if entry.note:
        note = entry.note
        if len(note) > ROLL_NOTE_LIMIT:
            note = note[:ROLL_NOTE_LIMIT] + "…"
        line += f": “{render.esc(note)}”"
    if entry.location is not None:
        line += f" [{_where(*entry.location)}]"
    return line + _handling(entry)


def _block(title: str, people: Sequence[RollEntry], *, limit: int, rollcall: RollCall) -> list[str]:
    """A titled list of people as HTML lines, cut at `limit` names (the CSV has everyone);
    those on a trip to the country listed apart, after the rest."""
    lines = [f"{title} ({len(people)}):"]
    others = [e for e in people if not e.on_trip]
    travelling = [e for e in people if e.on_trip]
    lines += [_entry_line(e, rollcall.country) for e in others[:limit]]
    if travelling:
        lines.append(f"<i>On a trip there ({len(travelling)}):</i>")
        room = max(0, limit - min(limit, len(others)))
        lines += [_entry_line(e, rollcall.country) for e in travelling[:room]]
    if len(people) > limit:
        more = len(people) - limit
        lines.append(f"… and {more} more: /roll_csv {rollcall.id} lists everyone.")
    return lines


def roll_details(rollcall: RollCall, entries: Sequence[RollEntry]) -> list[str]:
    """`/roll`: the roll with names in each group, who needs someone first.

    Long groups are cut so that the answer stays a message or two; nobody needing help
    is left out below ROLL_HELP_LIMIT.
    """
    counts = plan.count_roll(entries)
    header = (
        f"📋 <b>Roll call #{rollcall.id}: {render.esc(country_name(rollcall.country))}</b>\n"
        f"{_state_line(rollcall)}\n{counts.total} asked"
    )
    if rollcall.forgotten:
        header += f" · {_forgotten(rollcall)}"
    blocks = []
    for status, people in plan.group_roll(entries).items():
        title = f"{_STATUS_ICONS[status]} {_STATUS_WORDS[status].capitalize()}"
        limit = ROLL_HELP_LIMIT if status is RollStatus.HELP else ROLL_GROUP_LIMIT
        blocks.append(_block(title, people, limit=limit, rollcall=rollcall))
    return render.split_lines(header, _paragraphs(blocks))


def _paragraphs(blocks: Iterable[list[str]]) -> list[str]:
    """Blocks of lines as one list of lines, an empty line before each block."""
    return [line for block in blocks for line in ("", *block)]


def next_steps(rollcall: RollCall, counts: plan.RollCounts) -> list[str]:
    """What a lead can do once the deadline has passed, most urgent first."""
    round_id = rollcall.id or 0
    steps = ["<b>What you can do now</b>"]
    if counts.help:
        steps.append("• /incidents: the open calls for help; press “I'm handling it” on one.")
    if counts.no_answer or counts.unreachable or counts.help:
        steps.append("• Tap a name to write to that person directly, or call them.")
    if counts.unreachable:
        steps.append("• Those Telegram cannot reach need a phone call or another channel.")
    if counts.no_answer:
        steps.append(
            f"• /checkin {rollcall.country} asks everyone again, with a new deadline "
            "(it replaces this round)."
        )
    steps.append(f"• /roll_csv {round_id}: everyone's answer, as a spreadsheet.")
    steps.append(
        f"• /checkin_end {round_id} closes the round; until then late answers are "
        f"recorded and /roll {round_id} shows them."
    )
    return steps


def deadline_report(rollcall: RollCall, entries: Sequence[RollEntry]) -> list[str]:
    """What the leads get at the deadline: who never answered, and who still needs help."""
    counts = plan.count_roll(entries)
    groups = plan.group_roll(entries)
    round_id = rollcall.id or 0
    header = (
        f"⏰ <b>Roll call #{round_id} for {render.esc(country_name(rollcall.country))}: "
        f"deadline passed</b>\n"
        f"✅ {counts.safe} safe · 🆘 {counts.help} need help · ❔ {counts.no_answer} no answer "
        f"· 🚫 {counts.unreachable} unreachable, of {counts.total}"
    )
    travelling = [e for e in entries if e.on_trip]
    if travelling:
        trip_counts = plan.count_roll(travelling)
        header += (
            f"\n✈️ of them on a trip there: {trip_counts.safe} safe · {trip_counts.help} need "
            f"help · {trip_counts.no_answer} no answer, of {trip_counts.total}"
        )
    if rollcall.forgotten:
        header += f"\n🗑 {_forgotten(rollcall)}"
    silent = groups[RollStatus.NO_ANSWER]
    blocks = []
    if groups[RollStatus.HELP]:
        blocks.append(
            _block(
                "Still need help",
                groups[RollStatus.HELP],
                limit=ESCALATION_LIMIT,
                rollcall=rollcall,
            )
        )
    blocks.append(
        _block("Never answered", silent, limit=ESCALATION_LIMIT, rollcall=rollcall)
        if silent
        else ["Everyone reachable answered."]
    )
    if groups[RollStatus.UNREACHABLE]:
        blocks.append(
            _block(
                "Could not be reached on Telegram",
                groups[RollStatus.UNREACHABLE],
                limit=ESCALATION_LIMIT,
                rollcall=rollcall,
            )
        )
    blocks.append(next_steps(rollcall, counts))
    return render.split_lines(header, _paragraphs(blocks))


def help_alert_text(
    *,
    person: Staff,
    note: str | None,
    location: db.Location | None,
    countries: Iterable[str],
    source: str,
    at: datetime,
) -> str:
    places = sorted(countries)
    lines = [
        f"🆘 <b>{profile_link(person)} needs help</b>",
        render.esc(source),
    ]
    if person.phone:
        lines.append(f"Phone: {render.esc(person.phone)}")
    if person.mobile:
        lines.append(f"Mobile (SMS): {render.esc(person.mobile)}")
    if person.email:
        lines.append(f"E-mail: {render.esc(person.email)}")
    if person.emergency_contact:
        lines.append(f"Emergency contact: {render.esc(person.emergency_contact)}")
    if note:
        lines.append(f"Note: “{render.esc(note)}”")
    if location is not None:
        lines.append(
            f"Last location, shared {render.time_in(places, location.at)}: "
            f"{_map_link(location.latitude, location.longitude)}"
        )
    else:
        lines.append("No location shared.")
    names = ", ".join(country_name(c) for c in places)
    if names:
        lines.append(f"Follows: {render.esc(names)}")
    lines.append(f"Asked {render.time_in(places, at)}. Please contact them now.")
    return "\n".join(lines)


def safe_again_text(
    *, person: Staff, note: str | None, countries: Iterable[str], at: datetime
) -> str:
    """What the leads hear when someone who asked for help says they are safe."""
    text = (
        f"✅ <b>{profile_link(person)} now says they are safe</b>, at "
        f"{render.time_in(sorted(countries), at)}; they had asked for help."
    )
    if note:
        text += f"\nNote: “{render.esc(note)}”"
    return text


def location_passed_on_text(
    *, person: Staff, location: tuple[float, float], countries: Iterable[str], at: datetime
) -> str:
    """A location shared after a call for help, as the leads get it."""
    return (
        f"📍 <b>{profile_link(person)}</b>, who asked for help, shared their location at "
        f"{render.time_in(sorted(countries), at)}: {_map_link(*location)}"
    )


def _csv_cell(text: str) -> str:
    """Names and notes come from people; keep spreadsheets from reading them as formulas."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def roll_csv(entries: Sequence[RollEntry]) -> bytes:
    """name, username, status, answered at (UTC), note, location, late; UTF-8 with a BOM so
    that spreadsheet programs read names in any script correctly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["name", "username", "status", "answered_at_utc", "note", "location", "late"])
    for status, people in plan.group_roll(entries).items():
        for e in people:
            writer.writerow(
                [
                    _csv_cell(e.name),
                    e.username or "",
                    _STATUS_WORDS[status],
                    f"{e.answered_at:%Y-%m-%dT%H:%M:%SZ}" if e.answered_at else "",
                    _csv_cell(e.note or ""),
                    _where(*e.location).replace(" ", "") if e.location else "",
                    "yes" if e.late else "",
                ]
            )
    return out.getvalue().encode("utf-8-sig")
