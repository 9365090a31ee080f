"""Curfews on the Telegram side: leads set and end them, staff see them and get reminders.

Reminders and "curfew over" notices are planned from the database (never kept only in
the scheduler): at start-up and whenever a curfew, a subscription or a reminder setting
changes, every `curfew-due:*` job is dropped and planned again. A due job re-plans what
is due at that moment and queues it with a stable key per person, night and curfew, so
a restart or a second job at the same time can never send a reminder twice; one whose
time passed more than `GRACE` ago while the bot was down is skipped, not sent late.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import Application, JobQueue

from bot import render
from bot.access import command_argument, message_text, require_answers_for, requires, row_id
from bot.context import SERVICES_KEY, Context, Services, services
from db import audit, curfews, deliveries, staff, subscriptions
from db import leads as lead_rules
from db.deliveries import Recipient
from db.engine import session_scope
from db.models import Curfew, CurfewStatus, Priority, Role, Staff
from schedules import zones
from schedules.countries import countries_named_in, country_name, resolve_country
from schedules.curfew_text import MAX_AREA, UNTIL_YEARS, FoundCurfew, find_curfews, utc_check
from schedules.curfew_times import (
    Window,
    format_duration,
    format_window,
    is_in_force,
    next_change,
    occurrence,
    parse_clock,
    parse_window,
)
from schedules.reminders import (
    CurfewSpec,
    PlannedNotice,
    PlannedReminder,
    plan_curfew_notices,
    plan_curfew_reminders,
    render_notice,
    render_reminder,
)

log = logging.getLogger(__name__)

HORIZON = timedelta(hours=26)  # plan a day ahead; re-planned every hour
GRACE = timedelta(minutes=5)  # a reminder this late is still useful; later, it is skipped
USAGE = (
    "Usage: /curfew_set <country> [area] <start>-<end> [until <date>], for example:\n"
    "/curfew_set KZ Almaty 23:00-07:00 until 19 January"
)


# -- reading what a lead typed -----------------------------------------------------------
@dataclass(frozen=True)
class CurfewRequest:
    country: str
    area: str | None
    zone: str
    window: Window
    until: date | None


_DATE_FORMATS = ("%Y-%m-%d", "%d %B %Y", "%d %b %Y", "%B %d %Y", "%b %d %Y")
_DAY_MONTH = ("%d %B", "%d %b", "%B %d", "%b %d")


def parse_until(text: str, *, today: date) -> date:
    """`19 January`, `January 19`, `19 Jan 2022`, `2022-01-19`; without a year, the next one."""
    cleaned = re.sub(r"[,.]|\b(at least|the|of)\b|(?<=\d)(st|nd|rd|th)\b", " ", text.strip())
    cleaned = " ".join(cleaned.split())
    for layout in _DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, layout).date()  # noqa: DTZ007  # a date only
        except ValueError:
            pass
    for layout in _DAY_MONTH:
        try:
            # A leap year as the parsing base so "29 February" parses; the year is set below.
            parsed = datetime.strptime(f"{cleaned} 2000", f"{layout} %Y").date()  # noqa: DTZ007
        except ValueError:
            continue
        # Eight years always reach a 29 February; other impossible dates never resolve.
        for year in range(today.year, today.year + 9):
            try:
                candidate = parsed.replace(year=year)
            except ValueError:
                continue
            if candidate >= today:
                return candidate
    raise ValueError(f"I can't read the date “{text.strip()[:40]}”; write e.g. 19 January.")


def parse_curfew_request(raw: str, *, today: date) -> CurfewRequest | str:
    """`<country> [area] <window> [until <date>]`, or one line saying what is wrong."""
    text, until_text = _split_until(raw)
    words = text.split()
    if len(words) < 2:
        return USAGE
    country = None
    rest: list[str] = []
    for n in range(min(4, len(words) - 1), 0, -1):
        found = resolve_country(" ".join(words[:n]))
        if found is not None:
            country, rest = found, words[n:]
            break
    if country is None:
        return f"I don't know the country “{words[0][:40]}”.\n{USAGE}"
    last_error = ""
    for i in range(len(rest)):
        try:
            window = parse_window(" ".join(rest[i:]))
        except ValueError as error:
            last_error = str(error)
            continue
        area = " ".join(rest[:i]) or None
        break
    else:
        detail = f" ({last_error})" if rest else ""
        return f"I can't read the curfew times{detail}. Write e.g. 23:00-07:00 or 11pm-7am."
    if area is not None and len(area) > MAX_AREA:
        return f"That area name is {len(area)} characters; please keep it under {MAX_AREA}."
    zone = zones.zone_for_area(country.code, area)
    if zone is None:
        options = ", ".join(zones.zones_for_country(country.code)[:12])
        where = f"“{area}”" if area else "the country as a whole"
        return (
            f"{country.name} has several time zones and {where} does not pick one. "
            f"Name the city or the zone, e.g. /curfew_set {country.code} "
            f"{options.split(', ')[0]} {window.label()}. Zones: {options}"
        )
    until = None
    if until_text:
        try:
            until = parse_until(until_text, today=today)
        except ValueError as error:
            return str(error)
        if until < today:
            return "That end date has already passed."
        if until.year > today.year + UNTIL_YEARS:
            return f"That end date is more than {UNTIL_YEARS} years away."
    return CurfewRequest(country=country.code, area=area, zone=zone, window=window, until=until)


def _split_until(raw: str) -> tuple[str, str]:
    match = re.search(r"\s+until\s+", raw, flags=re.IGNORECASE)
    if match is None:
        return raw.strip(), ""
    return raw[: match.start()].strip(), raw[match.end() :].strip()


# -- words for people --------------------------------------------------------------------
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
    )


def local_today(zone: str, now: datetime) -> date:
    return zones.utc_to_local(zone, now).date()


def describe(curfew: Curfew, *, now: datetime) -> str:
    """E.g. "Curfew in Almaty (Kazakhstan) from 23:00 to 07:00 local time (17:00-01:00 UTC)
    until 19 January 2022", with UTC computed for the coming night."""
    day = max(curfew.first_day, local_today(curfew.zone, now))
    until = f" until {curfew.last_day.day} {curfew.last_day:%B %Y}" if curfew.last_day else ""
    window = format_window(curfew.zone, window_of(curfew), day)
    return f"Curfew in {place(curfew)} from {window}{until}"


def status_line(curfew: Curfew, *, now: datetime) -> str:
    window = window_of(curfew)
    change = next_change(curfew.zone, window, curfew.first_day, curfew.last_day, now)
    if change is None:
        return "It is over."
    kind, at = change
    in_force = is_in_force(curfew.zone, window, curfew.first_day, curfew.last_day, now)
    state = "In force now" if in_force else "Not in force now"
    local = zones.utc_to_local(curfew.zone, at)
    return (
        f"{state}; it {'ends' if kind == 'end' else 'starts'} in {format_duration(at - now)} "
        f"(at {local:%H:%M} local, {at:%H:%M} UTC)."
    )


def _buttons(curfew_id: int, *, proposal: bool) -> InlineKeyboardMarkup:
    row = [InlineKeyboardButton("Confirm", callback_data=f"cf:ok:{curfew_id}")]
    if proposal:
        row.append(InlineKeyboardButton("Edit", callback_data=f"cf:edit:{curfew_id}"))
        row.append(InlineKeyboardButton("Ignore", callback_data=f"cf:no:{curfew_id}"))
    else:
        row.append(InlineKeyboardButton("Cancel", callback_data=f"cf:no:{curfew_id}"))
    return InlineKeyboardMarkup([row])


# -- domain operations -------------------------------------------------------------------
def tell_subscribers(
    session: Session, *, curfew: Curfew, text: str, key: str, now: datetime
) -> int:
    people = subscriptions.subscribers(session, country=curfew.country)
    recipients = [Recipient(p.id or 0, p.chat_id) for p in people if p.reachable]
    deliveries.enqueue(
        session,
        dedupe_key=key,
        recipients=recipients,
        parts=render.split_html("", text),
        priority=Priority.HIGH,
        now=now,
    )
    return len(recipients)


def propose_curfews(
    session: Session,
    *,
    country: str,
    text: str,
    published: date,
    now: datetime,
    alert_id: int | None = None,
    leads: Sequence[Staff] | None = None,
) -> list[int]:
    """Offer each curfew window found in a text to leads; returns the proposal ids.

    Alerts from feeds go to that country's leads; a text a lead pasted goes back to that
    lead. Nothing becomes a curfew without a lead's Confirm. A stated UTC window that
    disagrees with the time-zone database is pointed out, not trusted and not hidden.
    """
    ids: list[int] = []
    recipients = (
        leads if leads is not None else list(lead_rules.leads_for_country(session, country=country))
    )
    for found in find_curfews(text, reference=published):
        zone = zones.zone_for_area(country, found.area) or zones.zone_for_area(country, None)
        if zone is None:
            log.warning("curfew found but no single zone for %s/%s", country, found.area)
            continue
        curfew = curfews.create(
            session,
            country=country,
            area=found.area,
            zone=zone,
            start=f"{found.window.start:%H:%M}",
            end=f"{found.window.end:%H:%M}",
            first_day=published,
            last_day=found.until,
            status=CurfewStatus.PROPOSED,
            now=now,
            alert_id=alert_id,
            stated_utc=found.stated_utc.label() if found.stated_utc else None,
            sentence=found.sentence[:2000],
        )
        assert curfew.id is not None
        ids.append(curfew.id)
        deliveries.enqueue(
            session,
            dedupe_key=f"curfew-proposal:{curfew.id}",
            recipients=[Recipient(p.id or 0, p.chat_id) for p in recipients if p.reachable],
            parts=[_proposal_text(curfew, found, published)],
            priority=Priority.HIGH,
            now=now,
            reply_markup=_buttons(curfew.id, proposal=True).to_dict(),
        )
    return ids


def _proposal_text(curfew: Curfew, found: FoundCurfew, day: date) -> str:
    lines = [
        f"🌙 <b>Curfew found in alert {curfew.alert_id}</b>"
        if curfew.alert_id
        else "🌙 <b>Curfew found in the text you sent</b>",
        render.esc(f"“{found.sentence[:600]}”"),
        "",
        render.esc(
            f"Understood: {place(curfew)}, "
            f"{format_window(curfew.zone, window_of(curfew), day)} on {day:%d %B %Y}"
            + (f", until {curfew.last_day:%d %B %Y}" if curfew.last_day else ", no end date")
            + f" ({curfew.zone})."
        ),
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


# -- planning reminders and notices ------------------------------------------------------
def _plans(
    session: Session, *, now: datetime, horizon: timedelta
) -> tuple[list[PlannedReminder], list[PlannedNotice], dict[int, Curfew]]:
    active = list(curfews.active(session))
    by_id = {c.id or 0: c for c in active}
    people = curfews.subscribers_with_lead_times(session, countries=[c.country for c in active])
    specs = [spec_of(c) for c in active]
    lead_minutes = {c.id or 0: people.get(c.country, {}) for c in active}
    recipients = {c.id or 0: list(people.get(c.country, {})) for c in active}
    reminders = plan_curfew_reminders(specs, lead_minutes, now=now, horizon=horizon, grace=GRACE)
    notices = plan_curfew_notices(specs, recipients, now=now, horizon=horizon, grace=GRACE)
    return reminders, notices, by_id


def queue_due_curfew_messages(svc: Services) -> int:
    """Queue every reminder and end notice due now (within grace); returns how many were new.

    People who get the same text (same curfew, night and minutes left) are queued in one
    insert; the key per curfew and night (unique with the person) keeps each one single.
    """
    now = svc.clock()
    queued = 0
    with session_scope(svc.engine) as session:
        reminders, notices, by_id = _plans(session, now=now, horizon=timedelta(seconds=1))
        wanted = {r.staff_id for r in reminders} | {n.staff_id for n in notices}
        chats = {p.id: p.chat_id for p in staff.everyone(session) if p.id in wanted}
        groups: dict[tuple[str, str], list[Recipient]] = defaultdict(list)
        for reminder in reminders:
            curfew = by_id[reminder.curfew_id]
            occ = occurrence(curfew.zone, window_of(curfew), reminder.day)
            minutes_left = max(0, round((occ.starts_at - now).total_seconds() / 60))
            text = f"⏰ {render.esc(render_reminder(spec_of(curfew), occ, minutes_left))}"
            key = f"curfew:{curfew.id}:{reminder.day.isoformat()}"
            groups[(key, text)].append(Recipient(reminder.staff_id, chats[reminder.staff_id]))
        for notice in notices:
            curfew = by_id[notice.curfew_id]
            assert curfew.last_day is not None
            occ = occurrence(curfew.zone, window_of(curfew), curfew.last_day)
            text = render.esc(render_notice(spec_of(curfew), occ))
            key = f"curfew:{curfew.id}:ended"
            groups[(key, text)].append(Recipient(notice.staff_id, chats[notice.staff_id]))
        for (key, text), recipients in groups.items():
            queued += deliveries.enqueue(
                session,
                dedupe_key=key,
                recipients=recipients,
                parts=[text],
                priority=Priority.HIGH,
                now=now,
            )
        for curfew in by_id.values():
            expired_at = _expiry(curfew)
            if expired_at is not None and expired_at <= now:
                curfews.end(session, curfew_id=curfew.id or 0, now=now)
    if queued:
        svc.wake_dispatcher()
    return queued


def _expiry(curfew: Curfew) -> datetime | None:
    if curfew.last_day is None:
        return None
    return occurrence(curfew.zone, window_of(curfew), curfew.last_day).ends_at + GRACE


async def job_curfew_due(context: Context) -> None:
    queue_due_curfew_messages(services(context))


async def job_replan_curfews(context: Context) -> None:
    plan_curfew_jobs(context.application)


def plan_curfew_jobs(application: Application) -> None:  # type: ignore[type-arg]
    """Drop and re-create one job per distinct due time in the next day, from the database."""
    svc: Services = application.bot_data[SERVICES_KEY]
    jobs: JobQueue = application.job_queue  # type: ignore[type-arg, assignment]
    for job in jobs.jobs():
        if job.name and job.name.startswith("curfew-due:"):
            job.schedule_removal()
    now = svc.clock()
    with session_scope(svc.engine) as session:
        reminders, notices, _ = _plans(session, now=now, horizon=HORIZON)
    due_times = sorted({r.send_at for r in reminders} | {n.send_at for n in notices})
    for at in due_times:
        # The job runs on the real clock; `at` is an instant on the service clock.
        when = max(0.0, (at - now).total_seconds())
        jobs.run_once(job_curfew_due, when=when, name=f"curfew-due:{at:%Y%m%dT%H%M%S}")
    log.info("planned %d curfew reminder times", len(due_times))


# -- handlers ----------------------------------------------------------------------------
@requires(Role.LEAD, action="curfew_set")
async def cmd_curfew_set(update: Update, context: Context, person: Staff) -> None:
    """/curfew_set <country> [area] <start>-<end> [until <date>]"""
    message = update.effective_message
    if message is None:
        return
    raw = command_argument(update)
    svc = services(context)
    now = svc.clock()
    request = parse_curfew_request(raw, today=now.date())
    if isinstance(request, str):
        await message.reply_text(request)
        return
    today = local_today(request.zone, now)
    with session_scope(svc.engine) as session:
        require_answers_for(session, person=person, country=request.country)
        curfew = curfews.create(
            session,
            country=request.country,
            area=request.area,
            zone=request.zone,
            start=f"{request.window.start:%H:%M}",
            end=f"{request.window.end:%H:%M}",
            first_day=today,
            last_day=request.until,
            status=CurfewStatus.DRAFT,
            now=now,
            set_by_staff_id=person.id,
        )
        audit.record(
            session,
            action="curfew_draft",
            actor_telegram_id=person.telegram_user_id,
            actor_staff_id=person.id,
            curfew_id=curfew.id,
        )
    text = (
        f"<b>Please check</b>: {render.esc(describe(curfew, now=now))}.\n"
        f"Tonight ({today:%d %B}) in {render.esc(curfew.zone)}: "
        f"{render.esc(format_window(curfew.zone, request.window, today))}.\n"
        "Confirm to tell staff and remind them before each start."
    )
    await message.reply_text(
        text, parse_mode=ParseMode.HTML, reply_markup=_buttons(curfew.id or 0, proposal=False)
    )


@dataclass(frozen=True)
class Decision:
    """What a lead's Confirm / Edit / Cancel / Ignore led to, for the handler to show."""

    answer: str  # the short pop-up
    edit_to: str | None = None  # new text for the offer message
    reply: str | None = None  # a further message to the lead
    changed: bool = False  # curfews changed: plan the reminders again


def decide(
    session: Session, *, verb: str, curfew_id: int, person: Staff, now: datetime
) -> Decision:
    """Apply a lead's choice on a draft (only its author) or a proposal (a lead who
    answers for its country)."""
    curfew = session.get(Curfew, curfew_id)
    if curfew is None or not (
        curfew.set_by_staff_id == person.id or curfew.status == CurfewStatus.PROPOSED.value
    ):
        return Decision("That is not yours to confirm.")
    require_answers_for(session, person=person, country=curfew.country)
    if verb == "edit":
        area = f" {curfew.area}" if curfew.area else ""
        until = f" until {curfew.last_day:%d %B %Y}" if curfew.last_day else ""
        command = f"/curfew_set {curfew.country}{area} {curfew.start}-{curfew.end}{until}"
        return Decision(
            "Edit and send the command below.", reply=f"Copy, change and send:\n{command}"
        )
    if verb == "no":
        if curfews.discard(session, curfew_id=curfew_id) is None:
            return Decision("Already handled.")
        return Decision("Discarded.", edit_to="Discarded; nothing was sent.")
    confirmed = curfews.confirm(session, curfew_id=curfew_id, by_staff_id=person.id or 0, now=now)
    if confirmed is None:
        return Decision("Already handled.")
    old = curfews.replaced_by(session, curfew=confirmed, now=now)
    text = f"🌙 {'Curfew changed. ' if old else ''}{describe(confirmed, now=now)}."
    count = tell_subscribers(
        session, curfew=confirmed, text=text, key=f"curfew:{confirmed.id}:set", now=now
    )
    audit.record(
        session,
        action="curfew_confirm",
        actor_telegram_id=person.telegram_user_id,
        actor_staff_id=person.id,
        curfew_id=curfew_id,
        replaced=old.id if old else None,
    )
    result = f"Curfew #{curfew_id} {'changed' if old else 'set'}; {count} people are being told."
    return Decision(result[:200], edit_to=result, changed=True)


@requires(Role.LEAD, action="curfew_button")
async def cb_curfew(update: Update, context: Context, person: Staff) -> None:
    query = update.callback_query
    if query is None or query.data is None:
        return
    verb, _, raw_id = query.data.removeprefix("cf:").partition(":")
    curfew_id = row_id(raw_id)
    if verb not in ("ok", "no", "edit") or curfew_id is None:
        await query.answer("That button is not valid.", show_alert=True)
        return
    svc = services(context)
    with session_scope(svc.engine) as session:
        decision = decide(session, verb=verb, curfew_id=curfew_id, person=person, now=svc.clock())
    await query.answer(decision.answer)
    if decision.edit_to is not None:
        await query.edit_message_text(render.esc(decision.edit_to))
    if decision.reply is not None and query.message is not None:
        await context.bot.send_message(query.message.chat.id, decision.reply)
    if decision.changed:
        svc.wake_dispatcher()
        plan_curfew_jobs(context.application)


@requires(Role.LEAD, action="curfew_end")
async def cmd_curfew_end(update: Update, context: Context, person: Staff) -> None:
    """/curfew_end <id>"""
    message = update.effective_message
    if message is None:
        return
    args = context.args or []
    curfew_id = row_id(args[0]) if len(args) == 1 else None
    if curfew_id is None:
        await message.reply_text("Usage: /curfew_end <id>; /curfews lists the ids.")
        return
    svc = services(context)
    now = svc.clock()
    with session_scope(svc.engine) as session:
        current = session.get(Curfew, curfew_id)
        if current is not None:
            require_answers_for(session, person=person, country=current.country)
        ended = curfews.end(session, curfew_id=curfew_id, now=now)
        if ended is not None:
            count = tell_subscribers(
                session,
                curfew=ended,
                text=f"✅ The curfew in {place(ended)} has been lifted "
                f"({render.utc_stamp(now)}). No more reminders will be sent for it.",
                key=f"curfew:{curfew_id}:ended",
                now=now,
            )
            audit.record(
                session,
                action="curfew_end",
                actor_telegram_id=person.telegram_user_id,
                actor_staff_id=person.id,
                curfew_id=curfew_id,
            )
    if ended is None:
        await message.reply_text(f"There is no active curfew #{curfew_id}.")
        return
    svc.wake_dispatcher()
    plan_curfew_jobs(context.application)
    await message.reply_text(f"Curfew #{curfew_id} ended; {count} people are being told.")


@requires(Role.LEAD)
async def cmd_curfews(update: Update, context: Context, person: Staff) -> None:
    """/curfews [country]: active curfews, with ids."""
    message = update.effective_message
    if message is None:
        return
    countries: Sequence[str] | None = None
    if context.args:
        found = resolve_country(" ".join(context.args))
        if found is None:
            await message.reply_text(f"I don't know the country “{' '.join(context.args)[:40]}”.")
            return
        countries = [found.code]
    svc = services(context)
    now = svc.clock()
    with session_scope(svc.engine) as session:
        lines = [
            f"#{c.id} {describe(c, now=now)}. {status_line(c, now=now)}"
            for c in curfews.active(session, countries=countries)
        ]
    # Many curfews with long area names run past one message.
    for part in render.split_html("", "\n".join(lines) or "No active curfews."):
        await message.reply_text(part, parse_mode=ParseMode.HTML)


@requires(Role.STAFF)
async def cmd_curfew(update: Update, context: Context, person: Staff) -> None:
    """/curfew: the curfews where you are, in local time and UTC, and when they next change."""
    message = update.effective_message
    if message is None:
        return
    svc = services(context)
    now = svc.clock()
    with session_scope(svc.engine) as session:
        mine = subscriptions.countries_of(session, staff_id=person.id or 0)
        lines = [
            f"🌙 {describe(c, now=now)}.\n{status_line(c, now=now)}"
            for c in curfews.active(session, countries=mine)
        ]
    if not lines:
        await message.reply_text("No curfew is in force in the countries you follow.")
        return
    reminder = (
        f"You are reminded {person.curfew_reminder_minutes} minutes before each start."
        if person.curfew_reminder_minutes is not None
        else "Reminders are off (/remind 60 turns them on)."
    )
    for part in render.split_html("", "\n\n".join([*lines, reminder])):
        await message.reply_text(part, parse_mode=ParseMode.HTML)


@requires(Role.STAFF)
async def cmd_remind(update: Update, context: Context, person: Staff) -> None:
    """/remind <minutes> | off"""
    message = update.effective_message
    if message is None:
        return
    args = context.args or []
    if len(args) != 1 or not (
        args[0].lower() == "off" or (args[0].isascii() and args[0].isdigit())
    ):
        await message.reply_text(
            "Usage: /remind 60 (minutes before each curfew starts) or /remind off"
        )
        return
    minutes = None if args[0].lower() == "off" else int(args[0])
    if minutes is not None and not 0 <= minutes <= 720:
        await message.reply_text("Choose between 0 and 720 minutes.")
        return
    with session_scope(services(context).engine) as session:
        curfews.set_reminder_minutes(session, staff=person, minutes=minutes)
    plan_curfew_jobs(context.application)
    if minutes is None:
        await message.reply_text("Curfew reminders are off. /remind 60 turns them back on.")
    else:
        await message.reply_text(
            f"You will be reminded {minutes} minutes before each curfew starts."
        )


@requires(Role.STAFF)
async def msg_text(update: Update, context: Context, person: Staff) -> None:
    """Text a lead pasted or forwarded: any curfew in it is offered back for confirmation."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    if Role(person.role) is Role.STAFF:
        await message.reply_text("I don't know that one. /help lists what you can do.")
        return
    text = message_text(update)
    svc = services(context)
    now = svc.clock()
    named = countries_named_in(text)
    if not find_curfews(text, reference=now.date()):
        await message.reply_text(
            "I found no curfew times in that text. /help lists what you can do."
        )
        return
    if len(named) != 1:
        await message.reply_text(
            "Which country is that about? Send it again starting with the country, "
            "e.g. “Kazakhstan: …”."
            if not named
            else "That text names several countries; send it again starting with the one "
            "the curfew is in, e.g. “Kazakhstan: …”."
        )
        return
    with session_scope(svc.engine) as session:
        ids = propose_curfews(
            session,
            country=named[0].code,
            text=text,
            published=local_today(zones.zones_for_country(named[0].code)[0], now),
            now=now,
            leads=[person],
        )
    svc.wake_dispatcher()
    if not ids:
        await message.reply_text("I found curfew times but could not tell which time zone.")
