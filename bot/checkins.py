"""Safety check-ins and roll calls: who is safe, who needs help, who has not answered.

Staff: `/safe [note]` and `/help_me [note]` at any time (a location shared with them, or
on its own, is recorded); "I need help" alerts the leads of every country the person
follows at once, through the outbox at the highest priority.

Leads (for the countries they picked with `/lead`; admins for all): `/checkin <country>
[message] [deadline]` asks every subscriber "are you safe?" with two buttons and answers
with a live roll, edited in place at most every ROLL_UPDATE_SECONDS; `/roll` shows
names, `/roll_csv` a spreadsheet, `/checkin_end` closes a round early. Non-responders
are reminded every CHECKIN_REMINDER_MINUTES until the deadline; at the deadline the
leads get the list of those who never answered. A departure advisory starts a round by
itself when AUTO_CHECKIN_ON_DEPARTURE is on.

Buttons carry `rc:<round id>:<member id>:s|h`. The member row binds a press to one
person and one round: a press counts only from that person's Telegram account, and only
while the round takes answers. Answers after the deadline are recorded as late; a round
closed by `/checkin_end` (or replaced by a newer round for the country) refuses presses,
pointing to /help_me. Every refused press is audited.

Jobs are derived from the database: `rollcall-remind:<round>` (the next reminder) and
`rollcall-deadline:<round>` per open round, planned at start-up and whenever a round
changes, so a restart neither loses nor repeats a reminder or an escalation.
"""

from __future__ import annotations

import asyncio
import csv
import html
import io
import logging
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    JobQueue,
    MessageHandler,
    filters,
)

from bot import render
from bot.access import command_argument, requires, row_id
from bot.context import SERVICES_KEY, Context, Services, services
from bot.settings import Settings
from bot.subscriptions import understand_country
from db import audit, deliveries, leads, subscriptions
from db import checkins as db
from db.checkins import Answer, CheckInKind, RollCall, RoundStatus
from db.deliveries import Recipient
from db.engine import session_scope
from db.models import Alert, DeliveryStatus, Priority, Role, Staff
from schedules import rollcall as plan
from schedules.countries import country_name, resolve_country, suggest_country
from schedules.rollcall import RollCounts, RollEntry, RollStatus
from schedules.zones import utc_to_local, zones_for_country

log = logging.getLogger(__name__)

CALLBACK = re.compile(r"^rc:([0-9]{1,9}):([0-9]{1,9}):([sh])$")  # ids within INTEGER
REMIND_JOB = "rollcall-remind:"
DEADLINE_JOB = "rollcall-deadline:"
ROLLS_JOB = "rollcall-rolls"
ROLL_JOB = "rollcall-roll:"  # one catch-up edit of one round's live roll
MAX_MESSAGE = 1000  # the roll-call question; people read it on a phone in a hurry
MAX_NOTE = 500
DEFAULT_QUESTION = "Please tell us whether you are safe."
# Names per group in /roll (a message or two on a phone) and in the deadline report.
ROLL_GROUP_LIMIT = 30
ROLL_HELP_LIMIT = 100
ESCALATION_LIMIT = 300
# How long after asking for help a shared location is passed on to the leads.
HELP_FOLLOW_UP = timedelta(hours=1)
# A /safe this long after /help_me still tells the leads the person is safe again.
HELP_MEMORY = timedelta(hours=24)

CHECKIN_USAGE = (
    "Usage: /checkin <country> [message] [deadline], for example:\n"
    "/checkin KZ Protests in Almaty tonight. 90m\n"
    "The deadline is like 2h, 90m or 1h30m (default {default})."
)
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


# -- rendering ---------------------------------------------------------------------------
def when_text(country: str, instant: datetime) -> str:
    """A time as people there read it, and in UTC: "06 Jan 16:00 local time (… UTC)"."""
    stamp = render.utc_stamp(instant)
    zones = zones_for_country(country)
    if not zones:
        return stamp
    local = utc_to_local(zones[0], instant)
    place = (
        "local time" if len(zones) == 1 else f"{zones[0].rsplit('/', 1)[-1].replace('_', ' ')} time"
    )
    return f"{local:%d %b %H:%M} {place} ({stamp})"


def _who(name: str, username: str | None) -> str:
    """A person for HTML: name and @username, escaped."""
    return f"{render.esc(name)} (@{render.esc(username)})" if username else render.esc(name)


def _plain_who(name: str, username: str | None) -> str:
    return f"{name} (@{username})" if username else name


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


def answer_markup(round_id: int, member_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(b["text"], callback_data=b["callback_data"])
                for b in answer_keyboard(round_id, member_id)["inline_keyboard"][0]
            ]
        ]
    )


def question_text(rollcall: RollCall, *, asked_by: str | None, advisory: str | None) -> str:
    """The roll-call message each subscriber gets (before they answer)."""
    lines = [f"🚨 <b>Safety roll call: {render.esc(country_name(rollcall.country))}</b>"]
    if advisory is not None:
        lines.append(f"<i>After a departure advisory: {render.esc(advisory[:300])}</i>")
    elif asked_by is not None:
        lines.append(f"<i>From {render.esc(asked_by)}</i>")
    lines.append("")
    lines.append(render.esc(rollcall.message or DEFAULT_QUESTION))
    lines.append("")
    lines.append(f"Please answer by <b>{when_text(rollcall.country, rollcall.deadline_at)}</b>.")
    return "\n".join(lines)


def answered_text(question: str, *, answer: Answer, at: datetime, late: bool) -> str:
    """The question with what was recorded and when, as the person sees it after a press."""
    when = render.utc_stamp(at) + (", after the deadline" if late else "")
    if answer is Answer.SAFE:
        footer = f"✅ <b>Recorded: you are safe</b> ({when})."
    else:
        footer = (
            f"🆘 <b>Recorded: you need help</b> ({when}). Your security leads have been "
            "alerted. If you can, share your location (📎 → Location)."
        )
    return f"{question}\n\n{footer}\nYou can change your answer with the buttons below."


def reminder_text(rollcall: RollCall) -> str:
    return (
        f"⏰ <b>Reminder: safety roll call for {render.esc(country_name(rollcall.country))}</b>\n"
        "We have not heard from you yet. Are you safe? Please answer by "
        f"<b>{when_text(rollcall.country, rollcall.deadline_at)}</b>.\n\n"
        f"{render.esc(rollcall.message or DEFAULT_QUESTION)}"
    )


def _state_line(rollcall: RollCall) -> str:
    if rollcall.status == RoundStatus.OPEN.value:
        return f"Open until {when_text(rollcall.country, rollcall.deadline_at)}"
    if rollcall.status == RoundStatus.PAST_DEADLINE.value:
        return (
            f"Deadline passed {when_text(rollcall.country, rollcall.deadline_at)}; "
            "late answers are still recorded"
        )
    closed = render.utc_stamp(rollcall.closed_at) if rollcall.closed_at else "?"
    why = "replaced by a newer round" if rollcall.close_reason == "superseded" else "ended"
    return f"Closed ({why}) {closed}"


def live_roll_text(rollcall: RollCall, counts: RollCounts) -> str:
    """The lead's live roll: counts only, so an edit happens only when a count changes."""
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
        "",
        f"/roll {rollcall.id} for names",
    ]
    if rollcall.status != RoundStatus.CLOSED.value:
        lines[-1] += f" · /checkin_end {rollcall.id} to close"
    return "\n".join(lines)


def _entry_line(entry: RollEntry) -> str:
    line = f"• {_plain_who(entry.name, entry.username)}"
    if entry.answered_at is not None:
        line += f", {entry.answered_at:%d %b %H:%M} UTC"
        if entry.late:
            line += " (late)"
    if entry.note:
        line += f": “{entry.note}”"
    if entry.location is not None:
        line += f" [{_where(*entry.location)}]"
    return line


def _block(title: str, people: Sequence[RollEntry], *, limit: int, round_id: int) -> str:
    """A titled list of people, cut at `limit` names (the CSV has everyone)."""
    lines = [f"{title} ({len(people)}):", *(_entry_line(e) for e in people[:limit])]
    if len(people) > limit:
        lines.append(f"… and {len(people) - limit} more: /roll_csv {round_id} lists everyone.")
    return "\n".join(lines)


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
    blocks = []
    for status, people in plan.group_roll(entries).items():
        title = f"{_STATUS_ICONS[status]} {_STATUS_WORDS[status].capitalize()}"
        limit = ROLL_HELP_LIMIT if status is RollStatus.HELP else ROLL_GROUP_LIMIT
        blocks.append(_block(title, people, limit=limit, round_id=rollcall.id or 0))
    return render.split_html(header, "\n\n".join(blocks))


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
    silent = groups[RollStatus.NO_ANSWER]
    blocks = [
        _block("Never answered", silent, limit=ESCALATION_LIMIT, round_id=round_id)
        if silent
        else "Everyone reachable answered."
    ]
    for status, title in (
        (RollStatus.UNREACHABLE, "Could not be reached on Telegram"),
        (RollStatus.HELP, "Still need help"),
    ):
        if groups[status]:
            blocks.append(_block(title, groups[status], limit=ESCALATION_LIMIT, round_id=round_id))
    blocks.append(
        f"Late answers are still recorded; /roll {round_id} shows them, "
        f"/checkin_end {round_id} closes the round."
    )
    return render.split_html(header, "\n\n".join(blocks))


def help_alert_text(
    *,
    person: Staff,
    note: str | None,
    location: db.Location | None,
    countries: Iterable[str],
    source: str,
    at: datetime,
) -> str:
    lines = [
        f"🆘 <b>{_who(person.display_name, person.username)} needs help</b>",
        render.esc(source),
    ]
    if note:
        lines.append(f"Note: “{render.esc(note)}”")
    if location is not None:
        lines.append(
            f"Last location: {_map_link(location.latitude, location.longitude)} "
            f"(shared {render.utc_stamp(location.at)})"
        )
    else:
        lines.append("No location shared.")
    names = ", ".join(country_name(c) for c in sorted(countries))
    if names:
        lines.append(f"Follows: {render.esc(names)}")
    lines.append(f"Asked {render.utc_stamp(at)}. Please contact them now.")
    return "\n".join(lines)


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


# -- parsing -------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckinRequest:
    country: str
    message: str
    deadline: timedelta


def parse_checkin(raw: str, *, default_deadline: timedelta) -> CheckinRequest | str:
    """`<country> [message] [deadline]`; the deadline may also come right after the country."""
    usage = CHECKIN_USAGE.format(default=plan.format_duration(default_deadline))
    text = raw.strip()
    words = text.split("\n", 1)[0].split()
    if not words:
        return usage
    for n in range(min(4, len(words)), 0, -1):
        found = resolve_country(" ".join(words[:n]))
        if found is not None:
            break
    else:
        suggestion = suggest_country(words[0])
        hint = f" Did you mean {suggestion.label()}?" if suggestion else ""
        return f"I don't know the country “{words[0][:60]}”.{hint}\n{usage}"
    rest = text
    for word in words[:n]:
        rest = rest[rest.index(word) + len(word) :]
    rest = rest.strip()
    deadline = default_deadline
    first, *after = rest.split(None, 1) or [""]
    *before, last = rest.rsplit(None, 1) or [""]
    try:
        if last and plan.looks_like_deadline(last):
            deadline, rest = plan.parse_deadline(last), "".join(before)
        elif first and plan.looks_like_deadline(first):
            deadline, rest = plan.parse_deadline(first), "".join(after)
    except ValueError as error:
        return f"{error}\n{usage}"
    rest = rest.strip()
    if len(rest) > MAX_MESSAGE:
        return f"That message is {len(rest)} characters; please keep it under {MAX_MESSAGE}."
    return CheckinRequest(country=found.code, message=rest, deadline=deadline)


def _note(update: Update) -> str | None:
    note = command_argument(update)[:MAX_NOTE]
    return note or None


def _location(update: Update) -> tuple[float, float] | None:
    message = update.effective_message
    if message is None or message.location is None:
        return None
    return (message.location.latitude, message.location.longitude)


# -- who hears about it --------------------------------------------------------------------
def _leads_of(session: Session, *, countries: Iterable[str], exclude: int | None) -> list[Staff]:
    """The leads of these countries and every admin, reachable, without `exclude`."""
    found: dict[int, Staff] = {}
    for country in sorted(set(countries)) or [""]:  # no country: the admins alone
        for person in leads.leads_for_country(session, country=country):
            if person.id is not None and person.id != exclude and person.reachable:
                found[person.id] = person
    return list(found.values())


def _tell(
    session: Session, *, people: Sequence[Staff], parts: list[str], key: str, now: datetime
) -> int:
    deliveries.enqueue(
        session,
        dedupe_key=key,
        recipients=deliveries.recipients(people),
        parts=parts,
        priority=Priority.CRITICAL,
        now=now,
    )
    return len(people)


def _alert_help(
    session: Session,
    *,
    person: Staff,
    note: str | None,
    extra_countries: Iterable[str],
    source: str,
    key: str,
    now: datetime,
) -> int:
    """Tell the leads of every country the person follows that they need help; how many."""
    countries = set(subscriptions.countries_of(session, staff_id=person.id or 0))
    countries.update(extra_countries)
    text = help_alert_text(
        person=person,
        note=note,
        location=db.last_location(session, staff_id=person.id or 0),
        countries=countries,
        source=source,
        at=now,
    )
    people = _leads_of(session, countries=countries, exclude=person.id)
    return _tell(session, people=people, parts=[text], key=key, now=now)


def _tell_safe_again(
    session: Session, *, person: Staff, note: str | None, key: str, now: datetime
) -> None:
    countries = subscriptions.countries_of(session, staff_id=person.id or 0)
    text = (
        f"✅ <b>{_who(person.display_name, person.username)} now says they are safe</b> "
        f"({render.utc_stamp(now)}); they had asked for help."
    )
    if note:
        text += f"\nNote: “{render.esc(note)}”"
    _tell(
        session,
        people=_leads_of(session, countries=countries, exclude=person.id),
        parts=[text],
        key=key,
        now=now,
    )


# -- starting rounds -----------------------------------------------------------------------
def _question_for(session: Session, rollcall: RollCall) -> str:
    starter = (
        session.get(Staff, rollcall.started_by_staff_id) if rollcall.started_by_staff_id else None
    )
    alert = session.get(Alert, rollcall.alert_id) if rollcall.alert_id else None
    return question_text(
        rollcall,
        asked_by=starter.display_name if starter else None,
        advisory=(alert.title or "official advisory") if alert else None,
    )


def start_round(
    session: Session,
    *,
    country: str,
    message: str,
    deadline: timedelta,
    now: datetime,
    started_by: Staff | None,
    alert_id: int | None,
    remind_every_minutes: int,
) -> RollCall | str:
    """Ask every subscriber of `country`, through the outbox; the round, or why not."""
    label = f"{country_name(country)} ({country})"
    existing = db.open_round_for_country(session, country=country)
    if existing is not None:
        return (
            f"Roll call #{existing.id} for {label} is still open: /roll {existing.id} shows "
            f"it, /checkin_end {existing.id} closes it."
        )
    people = subscriptions.subscribers(session, country=country)
    if not people:
        return f"Nobody follows {label}, so there is nobody to ask."
    db.supersede_rounds(session, country=country, now=now)
    rollcall = db.create_round(
        session,
        country=country,
        message=message,
        started_by_staff_id=started_by.id if started_by else None,
        alert_id=alert_id,
        now=now,
        deadline_at=now + deadline,
        remind_every_minutes=remind_every_minutes,
    )
    round_id = rollcall.id or 0
    members = db.add_members(session, round_id=round_id, staff_ids=[p.id or 0 for p in people])
    question = _question_for(session, rollcall)
    for person in people:
        # Each person's buttons name their own member row, so one enqueue per person.
        deliveries.enqueue(
            session,
            dedupe_key=db.question_key(round_id),
            recipients=[Recipient(person.id or 0, person.chat_id)],
            parts=[question],
            priority=Priority.CRITICAL,
            now=now,
            reply_markup=answer_keyboard(round_id, members[person.id or 0]),
            status=DeliveryStatus.PENDING if person.reachable else DeliveryStatus.UNREACHABLE,
        )
    db.link_deliveries(session, round_id=round_id)
    # Every other lead of the country gets a live roll of their own, kept current too.
    others = _leads_of(session, countries=[country], exclude=started_by.id if started_by else None)
    _tell(
        session,
        people=others,
        parts=[
            live_roll_text(rollcall, plan.count_roll(db.roll_entries(session, rollcall=rollcall)))
        ],
        key=db.live_roll_key(round_id),
        now=now,
    )
    log.info(
        "roll call %d: started for %s, %d people asked",
        round_id,
        country,
        len(people),
        extra={"round_id": round_id, "alert_id": alert_id},
    )
    return rollcall


def start_checkin(
    session: Session, *, raw: str, person: Staff, now: datetime, settings: Settings
) -> RollCall | str:
    """`/checkin`: parse, check the lead may run the country's roll calls, start, audit."""
    request = parse_checkin(
        raw, default_deadline=timedelta(minutes=settings.checkin_default_deadline_minutes)
    )
    if isinstance(request, str):
        return request
    if not leads.may_see(session, person=person, country=request.country):
        audit.record(
            session,
            action="checkin",
            actor_telegram_id=person.telegram_user_id,
            actor_staff_id=person.id,
            outcome="refused",
            reason=f"does not lead {request.country}",
        )
        return (
            f"You don't lead {country_name(request.country)} ({request.country}). "
            f"Pick it with /lead {request.country} to run its roll calls."
        )
    started = start_round(
        session,
        country=request.country,
        message=request.message,
        deadline=request.deadline,
        now=now,
        started_by=person,
        alert_id=None,
        remind_every_minutes=settings.checkin_reminder_minutes,
    )
    if isinstance(started, RollCall):
        audit.record(
            session,
            action="checkin_start",
            actor_telegram_id=person.telegram_user_id,
            actor_staff_id=person.id,
            country=request.country,
            round_id=started.id,
            deadline_minutes=int(request.deadline.total_seconds() // 60),
        )
    return started


def start_automatic_round(
    session: Session, *, alert_id: int, country: str, now: datetime, settings: Settings
) -> int | None:
    """A departure advisory for `country`: start a round, inside the caller's transaction.

    Only writes rows and queues messages; the caller wakes the dispatcher and calls
    `plan_round_jobs`. None when the setting is off, nobody follows the country, or a
    round for it is already open.
    """
    if not settings.auto_checkin_on_departure:
        return None
    if session.get(Alert, alert_id) is None:
        return None
    started = start_round(
        session,
        country=country,
        message=DEFAULT_QUESTION,  # the advisory's title is in the message's header
        deadline=timedelta(minutes=settings.checkin_default_deadline_minutes),
        now=now,
        started_by=None,
        alert_id=alert_id,
        remind_every_minutes=settings.checkin_reminder_minutes,
    )
    if isinstance(started, str):
        log.info(
            "alert %d: no automatic roll call for %s: %s",
            alert_id,
            country,
            started,
            extra={"alert_id": alert_id},
        )
        return None
    audit.record(
        session,
        action="checkin_start",
        actor_telegram_id=None,
        country=country,
        round_id=started.id,
        alert_id=alert_id,
        via="departure advisory",
    )
    return started.id


# -- answers -------------------------------------------------------------------------------
@dataclass(frozen=True)
class PressOutcome:
    """What a press did: a refusal to show, or what was recorded and the redrawn message."""

    refusal: str | None = None
    round_id: int = 0
    toast: str = ""
    text: str | None = None
    markup: InlineKeyboardMarkup | None = None
    queued: bool = False


def _refuse(session: Session, *, presser: Staff, data: str, reason: str, say: str) -> PressOutcome:
    audit.record(
        session,
        action="rollcall_answer",
        actor_telegram_id=presser.telegram_user_id,
        actor_staff_id=presser.id,
        outcome="refused",
        reason=reason,
        data=data[:64],
    )
    return PressOutcome(refusal=say)


def answer_press(session: Session, *, data: str, presser: Staff, now: datetime) -> PressOutcome:
    """A press on "I'm safe" / "I need help": check it, record it, alert on a call for help."""
    match = CALLBACK.match(data)
    if match is None:
        return _refuse(
            session, presser=presser, data=data, reason="malformed", say="That button is not valid."
        )
    round_id, member_id, code = int(match[1]), int(match[2]), match[3]
    found = db.member_with_round(session, member_id=member_id)
    if found is None or found[1].id != round_id:
        return _refuse(
            session,
            presser=presser,
            data=data,
            reason="no such member in that round",
            say="That button is not valid.",
        )
    member, rollcall = found
    if member.staff_id != presser.id:
        return _refuse(
            session,
            presser=presser,
            data=data,
            reason=f"member {member_id} is staff {member.staff_id}",
            say="This button is not for you.",
        )
    if rollcall.status == RoundStatus.CLOSED.value:
        return _refuse(
            session,
            presser=presser,
            data=data,
            reason=f"round {round_id} is closed",
            say="This roll call is closed. If you need help, send /help_me.",
        )
    answer = Answer.SAFE if code == "s" else Answer.HELP
    late = now > rollcall.deadline_at
    previous = db.latest_answer(session, member_id=member_id)
    question = _question_for(session, rollcall)
    markup = answer_markup(round_id, member_id)
    if previous is not None and previous.answer == answer.value:
        # A second tap (or a replayed update) changes nothing.
        return PressOutcome(
            round_id=round_id,
            toast="Already recorded.",
            text=answered_text(question, answer=answer, at=previous.at, late=previous.late),
            markup=markup,
        )
    row = db.record_answer(
        session,
        member=member,
        answer=answer,
        note=None,
        location=None,
        late=late,
        via="button",
        now=now,
    )
    queued = False
    if answer is Answer.HELP:
        source = f"Roll call #{round_id}: {country_name(rollcall.country)}" + (
            " (after the deadline)" if late else ""
        )
        queued = bool(
            _alert_help(
                session,
                person=presser,
                note=None,
                extra_countries=[rollcall.country],
                source=source,
                key=f"rollcall:{round_id}:help:{row.id}",
                now=now,
            )
        )
    elif previous is not None and previous.answer == Answer.HELP.value:
        _tell_safe_again(
            session, person=presser, note=None, key=f"rollcall:{round_id}:safe:{row.id}", now=now
        )
        queued = True
    if answer is Answer.SAFE:
        toast = "Recorded: you are safe."
    elif queued:
        toast = "Recorded. Your leads are being alerted."
    else:
        toast = "Recorded, but no lead could be alerted: call your emergency line."
    return PressOutcome(
        round_id=round_id,
        toast=toast + (" (late)" if late else ""),
        text=answered_text(question, answer=answer, at=now, late=late),
        markup=markup,
        queued=queued,
    )


@dataclass(frozen=True)
class CheckInOutcome:
    at: datetime
    rounds: list[tuple[int, str]] = field(default_factory=list)  # (round id, country) answered
    leads_told: int = 0
    location: bool = False


def check_in(
    session: Session,
    *,
    person: Staff,
    answer: Answer,
    note: str | None,
    location: tuple[float, float] | None,
    now: datetime,
) -> CheckInOutcome:
    """`/safe` or `/help_me`: record it, answer the person's running roll calls with it,
    and on a call for help alert their leads at once."""
    staff_id = person.id or 0
    was_help = answer is Answer.SAFE and db.help_since(
        session, staff_id=staff_id, since=now - HELP_MEMORY
    )
    kind = CheckInKind.SAFE if answer is Answer.SAFE else CheckInKind.HELP
    row = db.record_checkin(
        session, staff_id=staff_id, kind=kind, note=note, location=location, now=now
    )
    answered = []
    for member, rollcall in db.answerable_memberships(session, staff_id=staff_id):
        db.record_answer(
            session,
            member=member,
            answer=answer,
            note=note,
            location=location,
            late=now > rollcall.deadline_at,
            via=f"/{'safe' if answer is Answer.SAFE else 'help_me'}",
            now=now,
        )
        answered.append((rollcall.id or 0, rollcall.country))
    told = 0
    if answer is Answer.HELP:
        told = _alert_help(
            session,
            person=person,
            note=note,
            extra_countries=[country for _, country in answered],
            source="Sent with /help_me",
            key=f"help:{row.id}",
            now=now,
        )
    elif was_help:
        _tell_safe_again(session, person=person, note=note, key=f"safe:{row.id}", now=now)
    return CheckInOutcome(at=now, rounds=answered, leads_told=told, location=location is not None)


def share_location(
    session: Session, *, person: Staff, location: tuple[float, float], now: datetime
) -> int:
    """A location shared on its own: recorded; passed on to the leads (how many) when the
    person asked for help within the last hour and has not said they are safe since."""
    staff_id = person.id or 0
    row = db.record_checkin(
        session,
        staff_id=staff_id,
        kind=CheckInKind.LOCATION,
        note=None,
        location=location,
        now=now,
    )
    if not db.help_since(session, staff_id=staff_id, since=now - HELP_FOLLOW_UP):
        return 0
    text = (
        f"📍 <b>{_who(person.display_name, person.username)}</b>, who asked for help, shared "
        f"their location: {_map_link(*location)} ({render.utc_stamp(now)})."
    )
    countries = subscriptions.countries_of(session, staff_id=staff_id)
    return _tell(
        session,
        people=_leads_of(session, countries=countries, exclude=person.id),
        parts=[text],
        key=f"location:{row.id}",
        now=now,
    )


# -- reminders and the deadline ------------------------------------------------------------
def send_due_reminder(svc: Services, round_id: int) -> int:
    """Queue the reminder that is due now to everyone who has not answered; how many."""
    now = svc.clock()
    with session_scope(svc.engine) as session:
        rollcall = db.by_id(session, round_id=round_id)
        if rollcall is None or rollcall.status != RoundStatus.OPEN.value:
            return 0
        due = plan.due_reminder(
            started_at=rollcall.started_at,
            deadline_at=rollcall.deadline_at,
            every=timedelta(minutes=rollcall.remind_every_minutes),
            sent=rollcall.reminders_sent,
            now=now,
        )
        if due is None or not db.claim_reminder(session, round_id=round_id, index=due.index):
            return 0
        text = reminder_text(rollcall)
        targets = db.to_remind(session, round_id=round_id)
        for member_id, staff_id, chat_id in targets:
            deliveries.enqueue(
                session,
                dedupe_key=db.reminder_key(round_id, due.index),
                recipients=[Recipient(staff_id, chat_id)],
                parts=[text],
                priority=Priority.CRITICAL,
                now=now,
                reply_markup=answer_keyboard(round_id, member_id),
            )
    log.info(
        "roll call %d: reminder %d queued for %d people",
        round_id,
        due.index,
        len(targets),
        extra={"round_id": round_id},
    )
    if targets:
        svc.wake_dispatcher()
    return len(targets)


def pass_round_deadline(svc: Services, round_id: int) -> bool:
    """At the deadline: the leads get who never answered; late answers are still taken."""
    now = svc.clock()
    with session_scope(svc.engine) as session:
        if not db.pass_deadline(session, round_id=round_id, now=now):
            return False
        rollcall = db.by_id(session, round_id=round_id)
        assert rollcall is not None
        people = _leads_of(session, countries=[rollcall.country], exclude=None)
        starter = (
            session.get(Staff, rollcall.started_by_staff_id)
            if rollcall.started_by_staff_id
            else None
        )
        if (
            starter is not None
            and starter.reachable
            and starter.role != Role.STAFF.value
            and all(p.id != starter.id for p in people)
        ):
            people.append(starter)
        entries = db.roll_entries(session, rollcall=rollcall)
        _tell(
            session,
            people=people,
            parts=deadline_report(rollcall, entries),
            key=db.deadline_key(round_id),
            now=now,
        )
        audit.record(
            session,
            action="checkin_deadline",
            actor_telegram_id=None,
            round_id=round_id,
            never_answered=plan.count_roll(entries).no_answer,
        )
    log.info(
        "roll call %d: deadline passed; %d leads told",
        round_id,
        len(people),
        extra={"round_id": round_id},
    )
    svc.wake_dispatcher()
    return True


@dataclass(frozen=True)
class RoundView:
    rollcall: RollCall
    entries: list[RollEntry]


def find_round(session: Session, *, reference: str, person: Staff, action: str) -> RollCall | str:
    """The round a lead names by id or country, if they may see it (refusals audited)."""
    ref = reference.strip().lstrip("#")
    if not ref:
        return ROUND_USAGE.format(command=action)
    if ref.isascii() and ref.isdigit():
        number = row_id(ref)
        rollcall = db.by_id(session, round_id=number) if number is not None else None
        missing = f"There is no roll call #{ref[:20]}."
    else:
        found = understand_country(ref)
        if isinstance(found, str):
            return found
        rollcall = db.latest_round_for_country(session, country=found.code)
        missing = f"There has been no roll call for {found.label()}."
    if rollcall is not None and not leads.may_see(session, person=person, country=rollcall.country):
        audit.record(
            session,
            action=action,
            actor_telegram_id=person.telegram_user_id,
            actor_staff_id=person.id,
            outcome="refused",
            round_id=rollcall.id,
            reason=f"does not lead {rollcall.country}",
        )
        # Say no more than for a round that does not exist.
        return f"There is no roll call {reference.strip()[:30]} in the countries you lead."
    if rollcall is None:
        return missing
    audit.record(
        session,
        action=action,
        actor_telegram_id=person.telegram_user_id,
        actor_staff_id=person.id,
        round_id=rollcall.id,
    )
    return rollcall


def end_checkin(
    session: Session, *, reference: str, person: Staff, now: datetime
) -> RoundView | str:
    """`/checkin_end`: close a round the lead may see; later presses are refused."""
    rollcall = find_round(session, reference=reference, person=person, action="checkin_end")
    if isinstance(rollcall, str):
        return rollcall
    round_id = rollcall.id or 0
    if not db.end_round(session, round_id=round_id, by_staff_id=person.id, now=now):
        return f"Roll call #{round_id} is already closed."
    session.refresh(rollcall)
    return RoundView(rollcall=rollcall, entries=db.roll_entries(session, rollcall=rollcall))


def roll_view(session: Session, *, reference: str, person: Staff) -> RoundView | str:
    rollcall = find_round(session, reference=reference, person=person, action="roll")
    if isinstance(rollcall, str):
        return rollcall
    return RoundView(rollcall=rollcall, entries=db.roll_entries(session, rollcall=rollcall))


def running_summary(session: Session, *, person: Staff) -> str:
    """`/roll` without arguments: the running rounds the person may see."""
    countries = leads.visible_countries(session, person=person)
    if countries == []:
        return "You lead no countries yet; pick yours with /lead <country>."
    rounds = db.running_rounds(session, countries=countries)
    if not rounds:
        return "No roll call is running in the countries you lead. Start one with /checkin."
    lines = ["Running roll calls:"]
    for rollcall in rounds:
        c = plan.count_roll(db.roll_entries(session, rollcall=rollcall))
        lines.append(
            f"#{rollcall.id} {country_name(rollcall.country)}: {c.safe} safe, {c.help} need "
            f"help, {c.no_answer} no answer, {c.unreachable} unreachable"
        )
    lines.append("/roll <id> for names.")
    return "\n".join(lines)


# -- jobs ----------------------------------------------------------------------------------
def _svc(application: Application) -> Services:  # type: ignore[type-arg]
    return cast(Services, application.bot_data[SERVICES_KEY])


def plan_round_jobs(application: Application) -> None:  # type: ignore[type-arg]
    """(Re)plan the next reminder and the deadline of every open round, from the database.

    Idempotent: a job already planned for the same round and time is left alone; jobs of
    rounds that are no longer open are removed. A reminder missed while the bot was down
    is planned for now (only the latest one, and only if not sent).
    """
    svc = _svc(application)
    jobs: JobQueue = application.job_queue  # type: ignore[type-arg, assignment]
    now = svc.clock()
    with session_scope(svc.engine) as session:
        rounds = [
            (r.id or 0, r.started_at, r.deadline_at, r.remind_every_minutes, r.reminders_sent)
            for r in db.rounds_to_plan(session)
        ]
    wanted: dict[str, tuple[int, datetime]] = {}
    for round_id, started_at, deadline_at, every, sent in rounds:
        reminder = plan.next_reminder(
            started_at=started_at,
            deadline_at=deadline_at,
            every=timedelta(minutes=every),
            sent=sent,
            now=now,
        )
        if reminder is not None:
            wanted[f"{REMIND_JOB}{round_id}"] = (round_id, reminder.at)
        wanted[f"{DEADLINE_JOB}{round_id}"] = (round_id, deadline_at)
    for job in jobs.jobs():
        name = job.name or ""
        if not name.startswith((REMIND_JOB, DEADLINE_JOB)):
            continue
        if wanted.get(name) == job.data:
            del wanted[name]  # already planned for that time
        else:
            job.schedule_removal()
    for name, (round_id, at) in wanted.items():
        callback = job_remind_round if name.startswith(REMIND_JOB) else job_round_deadline
        # The job runs on the real clock; `at` is an instant on the service clock.
        jobs.run_once(
            callback,
            when=max(0.0, (at - now).total_seconds()),
            name=name,
            data=(round_id, at),
            job_kwargs={"misfire_grace_time": None},
        )


async def job_remind_round(context: Context) -> None:
    assert context.job is not None
    round_id, _ = cast(tuple[int, datetime], context.job.data)
    send_due_reminder(services(context), round_id)
    plan_round_jobs(context.application)


async def job_round_deadline(context: Context) -> None:
    assert context.job is not None
    round_id, _ = cast(tuple[int, datetime], context.job.data)
    if pass_round_deadline(services(context), round_id):
        await refresh_roll(context.application, round_id)
    plan_round_jobs(context.application)


@dataclass
class _Rolls:
    """What the live rolls last showed, to edit only on change and not too often. Losing
    it (a restart) costs one edit per roll."""

    shown: dict[tuple[int, int], str] = field(default_factory=dict)
    last_edit: dict[int, float] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def _rolls(application: Application) -> _Rolls:  # type: ignore[type-arg]
    return cast(_Rolls, application.bot_data.setdefault("rollcall_rolls", _Rolls()))


async def refresh_roll(application: Application, round_id: int) -> None:  # type: ignore[type-arg]
    """Edit a round's live rolls to the current counts, at most every ROLL_UPDATE_SECONDS
    and only when the text changed. Closed rounds get a last edit and are then left."""
    svc = _svc(application)
    state = _rolls(application)
    async with state.lock:
        since = time.monotonic() - state.last_edit.get(round_id, float("-inf"))
        if since < svc.settings.roll_update_seconds:
            # Edited a moment ago: edit again as soon as the interval is over.
            _plan_trailing_edit(application, round_id, svc.settings.roll_update_seconds - since)
            return
        with session_scope(svc.engine) as session:
            rollcall = db.by_id(session, round_id=round_id)
            if rollcall is None or rollcall.report_done:
                return
            counts = plan.count_roll(db.roll_entries(session, rollcall=rollcall))
            targets = db.report_targets(session, rollcall=rollcall)
            pending = db.live_rolls_pending(session, round_id=round_id)
        text = live_roll_text(rollcall, counts)
        edited = False
        for chat_id, message_id in targets:
            if state.shown.get((chat_id, message_id)) == text:
                continue
            if svc.dispatcher is not None:
                await svc.dispatcher.pacer.acquire()  # edits count against the same limit
            try:
                await application.bot.edit_message_text(
                    text, chat_id=chat_id, message_id=message_id, parse_mode=ParseMode.HTML
                )
                edited = True
            except BadRequest as error:
                # "not modified" is fine; a deleted message is not worth hammering.
                if "not modified" not in error.message.lower():
                    log.warning(
                        "roll call %d: live roll not updated: %s",
                        round_id,
                        error.message,
                        extra={"round_id": round_id},
                    )
            except TelegramError as error:
                log.warning(
                    "roll call %d: live roll not updated: %s",
                    round_id,
                    error.message,
                    extra={"round_id": round_id},
                )
                continue  # try again on the next tick
            state.shown[(chat_id, message_id)] = text
        if edited:
            state.last_edit[round_id] = time.monotonic()
        if rollcall.status == RoundStatus.CLOSED.value and not pending:
            for target in targets:
                state.shown.pop(target, None)
            state.last_edit.pop(round_id, None)
            with session_scope(svc.engine) as session:
                db.close_report(session, round_id=round_id)


def _plan_trailing_edit(application: Application, round_id: int, delay: float) -> None:  # type: ignore[type-arg]
    jobs: JobQueue = application.job_queue  # type: ignore[type-arg, assignment]
    name = f"{ROLL_JOB}{round_id}"
    if not jobs.get_jobs_by_name(name):
        jobs.run_once(job_refresh_roll, when=delay, name=name, data=round_id)


async def job_refresh_roll(context: Context) -> None:
    assert context.job is not None
    await refresh_roll(context.application, cast(int, context.job.data))


async def job_update_rolls(context: Context) -> None:
    """Every ROLL_UPDATE_SECONDS: bring live rolls up to date with what presses do not
    announce (messages delivered, deadlines, /safe), and plan the jobs of rounds started
    elsewhere (by the feeds) that have none yet."""
    application = context.application
    svc = _svc(application)
    with session_scope(svc.engine) as session:
        live = [(r.id or 0, r.status) for r in db.live_rounds(session)]
    jobs: JobQueue = application.job_queue  # type: ignore[type-arg, assignment]
    if any(
        status == RoundStatus.OPEN.value and not jobs.get_jobs_by_name(f"{DEADLINE_JOB}{rid}")
        for rid, status in live
    ):
        plan_round_jobs(application)
    for round_id, _ in live:
        await refresh_roll(application, round_id)


# -- handlers ------------------------------------------------------------------------------
@requires(Role.STAFF)
async def cmd_safe(update: Update, context: Context, person: Staff) -> None:
    """/safe [note]: I am safe (a location sent with it is recorded too)."""
    message = update.effective_message
    if message is None:
        return
    svc = services(context)
    with session_scope(svc.engine) as session:
        outcome = check_in(
            session,
            person=person,
            answer=Answer.SAFE,
            note=_note(update),
            location=_location(update),
            now=svc.clock(),
        )
    svc.wake_dispatcher()
    lines = [f"✅ Recorded: you are safe ({render.utc_stamp(outcome.at)})."]
    if outcome.location:
        lines.append("Your location was recorded with it.")
    for round_id, country in outcome.rounds:
        lines.append(f"This answers roll call #{round_id} for {country_name(country)}.")
    await message.reply_text("\n".join(lines))
    for round_id, _ in outcome.rounds:
        await refresh_roll(context.application, round_id)


@requires(Role.STAFF)
async def cmd_help_me(update: Update, context: Context, person: Staff) -> None:
    """/help_me [note]: alert my leads now."""
    message = update.effective_message
    if message is None:
        return
    svc = services(context)
    with session_scope(svc.engine) as session:
        outcome = check_in(
            session,
            person=person,
            answer=Answer.HELP,
            note=_note(update),
            location=_location(update),
            now=svc.clock(),
        )
    svc.wake_dispatcher()
    if outcome.leads_told == 0:
        await message.reply_text(
            "🆘 Recorded, but there is no security lead I can alert. Call your local "
            "emergency number or your organisation's emergency line now."
        )
    else:
        people = "person" if outcome.leads_told == 1 else "people"
        await message.reply_text(
            f"🆘 Your security leads are being alerted now ({outcome.leads_told} {people}) with "
            "your name, username, note and last shared location. If you can, share your "
            "location (📎 → Location) and keep your phone on. Send /safe when you are safe."
        )
    for round_id, _ in outcome.rounds:
        await refresh_roll(context.application, round_id)


@requires(Role.STAFF)
async def cmd_share_location(update: Update, context: Context, person: Staff) -> None:
    """A location sent on its own: recorded (and passed on after a recent call for help)."""
    message = update.effective_message
    location = _location(update)
    if message is None or location is None:
        return
    svc = services(context)
    with session_scope(svc.engine) as session:
        told = share_location(session, person=person, location=location, now=svc.clock())
    if told:
        svc.wake_dispatcher()
        await message.reply_text("📍 Location recorded and sent to your security leads.")
    else:
        await message.reply_text(
            "📍 Location recorded. Your leads see it with /help_me and in roll calls."
        )


@requires(Role.LEAD, action="lead")
async def cmd_lead(update: Update, context: Context, person: Staff) -> None:
    """/lead [country]: answer for a country's roll calls and calls for help; alone, list them."""
    message = update.effective_message
    if message is None:
        return
    argument = command_argument(update)
    if not argument:
        with session_scope(services(context).engine) as session:
            codes = leads.countries_led(session, staff_id=person.id or 0)
        if not codes:
            await message.reply_text("You lead no countries yet. Pick one with /lead <country>.")
        else:
            names = "\n".join(f"• {country_name(c)} ({c})" for c in codes)
            await message.reply_text(f"You lead:\n{names}")
        return
    found = understand_country(argument)
    if isinstance(found, str):
        await message.reply_text(found)
        return
    with session_scope(services(context).engine) as session:
        added = leads.lead(session, staff_id=person.id or 0, country=found.code)
        audit.record(
            session,
            action="lead",
            actor_telegram_id=person.telegram_user_id,
            actor_staff_id=person.id,
            country=found.code,
            changed=added,
        )
    if added:
        await message.reply_text(
            f"You now lead {found.label()}: you run its roll calls and hear at once when "
            "someone there asks for help."
        )
    else:
        await message.reply_text(f"You already lead {found.label()}.")


@requires(Role.LEAD, action="unlead")
async def cmd_unlead(update: Update, context: Context, person: Staff) -> None:
    """/unlead <country>"""
    message = update.effective_message
    if message is None:
        return
    found = understand_country(command_argument(update))
    if isinstance(found, str):
        await message.reply_text(found)
        return
    with session_scope(services(context).engine) as session:
        removed = leads.unlead(session, staff_id=person.id or 0, country=found.code)
        audit.record(
            session,
            action="unlead",
            actor_telegram_id=person.telegram_user_id,
            actor_staff_id=person.id,
            country=found.code,
            changed=removed,
        )
    await message.reply_text(
        f"You no longer lead {found.label()}." if removed else f"You did not lead {found.label()}."
    )


@requires(Role.LEAD, action="checkin")
async def cmd_checkin(update: Update, context: Context, person: Staff) -> None:
    """/checkin <country> [message] [deadline]: ask everyone there; reply with a live roll."""
    message = update.effective_message
    if message is None:
        return
    raw = command_argument(update)
    svc = services(context)
    now = svc.clock()
    with session_scope(svc.engine) as session:
        started = start_checkin(session, raw=raw, person=person, now=now, settings=svc.settings)
        counts = (
            plan.count_roll(db.roll_entries(session, rollcall=started))
            if isinstance(started, RollCall)
            else None
        )
    if isinstance(started, str) or counts is None:
        await message.reply_text(str(started))
        return
    text = live_roll_text(started, counts)
    svc.wake_dispatcher()
    plan_round_jobs(context.application)
    reply = await message.reply_text(text, parse_mode=ParseMode.HTML)
    with session_scope(svc.engine) as session:
        db.set_report(
            session,
            round_id=started.id or 0,
            chat_id=reply.chat_id,
            message_id=reply.message_id,
        )
    _rolls(context.application).shown[(reply.chat_id, reply.message_id)] = text


@requires(Role.LEAD, action="checkin_end")
async def cmd_checkin_end(update: Update, context: Context, person: Staff) -> None:
    """/checkin_end <round or country>: close a round now."""
    message = update.effective_message
    if message is None:
        return
    svc = services(context)
    with session_scope(svc.engine) as session:
        ended = end_checkin(
            session, reference=command_argument(update), person=person, now=svc.clock()
        )
    if isinstance(ended, str):
        await message.reply_text(ended)
        return
    plan_round_jobs(context.application)
    _rolls(context.application).last_edit.pop(ended.rollcall.id or 0, None)
    await refresh_roll(context.application, ended.rollcall.id or 0)
    for part in roll_details(ended.rollcall, ended.entries):
        await message.reply_text(part, parse_mode=ParseMode.HTML)


@requires(Role.LEAD, action="roll")
async def cmd_roll(update: Update, context: Context, person: Staff) -> None:
    """/roll [round or country]: the roll with names; alone, the running rounds."""
    message = update.effective_message
    if message is None:
        return
    reference = command_argument(update)
    with session_scope(services(context).engine) as session:
        view = (
            roll_view(session, reference=reference, person=person)
            if reference
            else running_summary(session, person=person)
        )
    if isinstance(view, str):
        await message.reply_text(view)
        return
    for part in roll_details(view.rollcall, view.entries):
        await message.reply_text(part, parse_mode=ParseMode.HTML)


@requires(Role.LEAD, action="roll_csv")
async def cmd_roll_csv(update: Update, context: Context, person: Staff) -> None:
    """/roll_csv <round or country>: the roll as a CSV file."""
    message = update.effective_message
    if message is None:
        return
    svc = services(context)
    with session_scope(svc.engine) as session:
        rollcall = find_round(
            session, reference=command_argument(update), person=person, action="roll_csv"
        )
        entries = (
            db.roll_entries(session, rollcall=rollcall) if isinstance(rollcall, RollCall) else []
        )
    if isinstance(rollcall, str):
        await message.reply_text(rollcall)
        return
    await message.reply_document(
        document=io.BytesIO(roll_csv(entries)),
        filename=f"rollcall-{rollcall.id}-{rollcall.country}.csv",
        caption=f"Roll call #{rollcall.id}, {country_name(rollcall.country)}, as of "
        f"{render.utc_stamp(svc.clock())}",
    )


@requires(Role.STAFF, action="rollcall_answer")
async def cb_rollcall(update: Update, context: Context, person: Staff) -> None:
    """A press on "I'm safe" or "I need help"."""
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    with session_scope(svc.engine) as session:
        outcome = answer_press(session, data=query.data or "", presser=person, now=svc.clock())
    if outcome.refusal is not None:
        await query.answer(outcome.refusal, show_alert=True)
        return
    if outcome.queued:
        svc.wake_dispatcher()
    await query.answer(outcome.toast)
    if outcome.text is not None and query.message is not None:
        try:
            await query.edit_message_text(
                outcome.text, parse_mode=ParseMode.HTML, reply_markup=outcome.markup
            )
        except BadRequest as error:
            if "not modified" not in error.message.lower():
                log.warning(
                    "roll call %d: answer not shown: %s",
                    outcome.round_id,
                    error.message,
                    extra={"round_id": outcome.round_id},
                )
        except TelegramError as error:
            log.warning(
                "roll call %d: answer not shown: %s",
                outcome.round_id,
                error.message,
                extra={"round_id": outcome.round_id},
            )
    await refresh_roll(context.application, outcome.round_id)


# -- wiring ----------------------------------------------------------------------------------
def register(application: Application) -> None:  # type: ignore[type-arg]
    """Add the check-in handlers and jobs to the application."""
    private = filters.ChatType.PRIVATE
    application.add_handlers(
        [
            CommandHandler("safe", cmd_safe),
            CommandHandler("help_me", cmd_help_me),
            MessageHandler(
                private & filters.LOCATION & filters.UpdateType.MESSAGE, cmd_share_location
            ),
            CommandHandler("lead", cmd_lead),
            CommandHandler("unlead", cmd_unlead),
            CommandHandler("checkin", cmd_checkin),
            CommandHandler("checkin_end", cmd_checkin_end),
            CommandHandler("roll", cmd_roll),
            CommandHandler("roll_csv", cmd_roll_csv),
            CallbackQueryHandler(cb_rollcall, pattern=r"^rc:"),
        ]
    )
    jobs = application.job_queue
    assert jobs is not None, "python-telegram-bot[job-queue] is required"
    tick = _svc(application).settings.roll_update_seconds
    jobs.run_repeating(job_update_rolls, interval=tick, first=tick, name=ROLLS_JOB)


async def on_startup(application: Application) -> None:  # type: ignore[type-arg]
    """Plan the open rounds' reminder and deadline jobs from the database."""
    plan_round_jobs(application)
