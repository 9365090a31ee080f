"""Official feeds on the Telegram side: polling jobs, pushing news, sources and acknowledgements.

Each source has its own repeating job, `poll:<source id>`, planned from the database at
start-up and whenever a source is added or removed. A poll's news, the alerts made from
it, their outbox rows and the record of what was seen are written in one transaction,
so a crash or restart can neither lose a change nor push it twice.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import cast
from urllib.parse import urlsplit

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, JobQueue

from bot import render
from bot.access import require_answers_for, requires, row_id
from bot.cards.rules import refresh_country_cards
from bot.context import SERVICES_KEY, Context, Services, services
from bot.curfews.rules import offer_curfew_ends, propose_curfews
from bot.fanout import continue_fan_outs
from bot.rollcall import rules
from bot.rollcall.jobs import plan_round_jobs
from bot.settings import Settings
from bot.whereabouts import rules as whereabouts
from db import acks, audit, broadcasts, deliveries, sources, staff
from db.deliveries import Recipient
from db.engine import session_scope
from db.models import Alert, DeliveryKind, Priority, Role, Source, Staff
from db.refusal import Refusal
from schedules import polling
from schedules.countries import resolve_country
from schedules.curfew_text import read_alert
from schedules.sources.base import SourceKind
from schedules.sources.changes import Change, Seen, detect_changes

log = logging.getLogger(__name__)

JITTER_SECONDS = 30


# -- planning the jobs ---------------------------------------------------------------
def job_name(source_id: int) -> str:
    return f"poll:{source_id}"


def plan_source_polls(application: Application) -> None:  # type: ignore[type-arg]
    """(Re)create one polling job per source in the database, and none for removed ones."""
    svc: Services = application.bot_data[SERVICES_KEY]
    jobs: JobQueue = application.job_queue  # type: ignore[type-arg, assignment]
    if not svc.settings.feeds_enabled:
        return
    with session_scope(svc.engine) as session:
        wanted = {s.id: s.interval_minutes for s in sources.every(session) if s.id is not None}
    for job in jobs.jobs():
        if job.name and job.name.startswith("poll:"):
            source_id = int(job.name.removeprefix("poll:"))
            if source_id not in wanted:
                job.schedule_removal()
            else:
                wanted.pop(source_id)  # already planned
    for source_id, minutes in wanted.items():
        interval = timedelta(minutes=minutes)
        jobs.run_repeating(
            job_poll_source,
            interval=interval,
            first=polling.first_delay(interval),
            name=job_name(source_id),
            data=source_id,
            job_kwargs={"jitter": JITTER_SECONDS, "misfire_grace_time": 60},
        )


# -- one poll --------------------------------------------------------------------------
async def job_poll_source(context: Context) -> None:
    assert context.job is not None
    source_id = cast(int, context.job.data)
    if await poll_source(services(context), source_id):
        plan_round_jobs(context.application)  # a departure may have started one


async def poll_source(svc: Services, source_id: int) -> list[int]:
    """Poll one source now; returns the ids of the alerts it produced."""
    assert svc.http is not None
    now = svc.clock()
    with session_scope(svc.engine) as session:
        source = session.get(Source, source_id)
        if source is None:
            return []
        quiet_until = (source.last_polled_at or now) + polling.backoff(
            source.consecutive_failures, timedelta(minutes=source.interval_minutes)
        )
        if source.consecutive_failures and now < quiet_until:
            return []  # backing off a failing source
        kind, url, country = SourceKind(source.kind), source.url, source.country
        etag, last_modified = source.etag, source.last_modified
    result = await polling.poll(
        svc.http,
        kind=kind,
        url=url,
        country=country,
        etag=etag,
        last_modified=last_modified,
        now=now,
        timeout=svc.settings.feed_timeout_seconds,
        max_bytes=svc.settings.feed_max_bytes,
    )
    # Recording what the poll found (a row for each of a feed's hundreds of items, and
    # the alerts and roll calls of what changed) runs on a worker thread, like the
    # parsing: on the event loop it would hold up every message in flight. One poll's
    # at a time, as on the loop.
    async with svc.poll_records:
        alert_ids = await asyncio.to_thread(_record_poll, svc, source_id, kind, result, now)
    if alert_ids:
        svc.wake_dispatcher()
        continue_fan_outs(svc)  # the rest of each country, after its first people
    return alert_ids


def _record_poll(
    svc: Services, source_id: int, kind: SourceKind, result: polling.PollResult, now: datetime
) -> list[int]:
    """What a poll found, recorded: its failure, or its items and the alerts they make."""
    alert_ids: list[int] = []
    with session_scope(svc.engine) as session:
        source = session.get(Source, source_id)
        if source is None:
            return []  # removed while we were fetching
        if result.error is not None:
            log.warning(
                "source %d (%s) failed: %s",
                source_id,
                kind.value,
                result.error,
                extra={"source_id": source_id},
            )
            if sources.record_failure(session, source=source, error=result.error, now=now):
                _tell_admins_of_failure(session, source=source, now=now)
        else:
            sources.record_success(
                session,
                source=source,
                etag=result.etag,
                last_modified=result.last_modified,
                now=now,
            )
            if result.items is not None:
                alert_ids = apply_items(
                    session, source=source, result=result, now=now, settings=svc.settings
                )
    return alert_ids


def apply_items(
    session: Session,
    *,
    source: Source,
    result: polling.PollResult,
    now: datetime,
    settings: Settings,
) -> list[int]:
    """Turn a poll's news into alerts queued for each country's subscribers.

    The first good poll of a source is its baseline: recorded, nobody told.
    """
    assert source.id is not None and result.items is not None
    previous = {
        key: Seen(level=level, fingerprint=fp)
        for key, (level, fp) in sources.seen(session, source_id=source.id).items()
    }
    changes = detect_changes(previous, result.items)
    sources.remember(
        session,
        source_id=source.id,
        items=[
            sources.Shown(i.key, i.level, i.fingerprint, i.country, i.published)
            for i in result.items
        ],
        now=now,
    )
    if not source.baseline_done:
        source.baseline_done = True
        session.add(source)
        # Nobody is told, but the pinned cards show each country's level from now on.
        leveled = {i.country for i in result.items if i.country and i.level is not None}
        refresh_country_cards(session, countries=sorted(leveled), now=now)
        log.info(
            "source %d: baseline of %d items recorded",
            source.id,
            len(result.items),
            extra={"source_id": source.id},
        )
        return []
    alert_ids = []
    for change in changes:
        alert = _alert_for(session, source_id=source.id, change=change, now=now)
        alert_ids.append(alert.id or 0)
        if alert.country is None:
            log.warning(
                "alert %d: country not recognised, not pushed",
                alert.id,
                extra={"alert_id": alert.id, "source_id": source.id},
            )
            continue
        queued = _push(
            session,
            alert=alert,
            level_change=change.level_change_text(),
            now=now,
            # A departure advisory starts a roll call that asks about it: everyone is
            # queued for the advisory first, so that each person reads it before the
            # question (same priority, so the outbox keeps their order).
            chunk=broadcasts.EVERYONE if alert.departure else settings.fan_out_chunk,
        )
        # The followers' pinned cards show the level and any departure advisory (a card
        # whose content this alert leaves as it was is not edited).
        refresh_country_cards(session, countries=[alert.country], now=now)
        if alert.departure:
            whereabouts.tell_leads_who_is_there(
                session, country=alert.country, alert_id=alert.id or 0, now=now
            )
            round_id = rules.start_automatic_round(
                session, alert_id=alert.id or 0, country=alert.country, now=now, settings=settings
            )
            if round_id is not None:
                log.info(
                    "alert %d: roll call %d started for %s",
                    alert.id,
                    round_id,
                    alert.country,
                    extra={"alert_id": alert.id, "round_id": round_id},
                )
        if alert.curfew_text:
            published = (alert.published_at or now).date()
            # Read once: the windows are offered, and a lift points at what it may end.
            reading = read_alert(alert.curfew_text, reference=published, country=alert.country)
            proposals = propose_curfews(
                session,
                alert_id=alert.id or 0,
                country=alert.country,
                windows=reading.curfews,
                published=published,
                now=now,
            )
            ending = offer_curfew_ends(
                session,
                alert_id=alert.id or 0,
                country=alert.country,
                reading=reading,
                text=alert.curfew_text,
                now=now,
            )
            log.info(
                "alert %d: %d curfew windows offered to leads, %d curfews it may end",
                alert.id,
                len(proposals),
                len(ending),
                extra={"alert_id": alert.id},
            )
        log.info(
            "alert %d (%s, %s): %s; queued for %d%s",
            alert.id,
            alert.kind,
            alert.country,
            change.what,
            queued.reachable,
            "" if queued.done else " so far, the rest to follow",
            extra={"alert_id": alert.id, "source_id": source.id},
        )
    return alert_ids


def _alert_for(session: Session, *, source_id: int, change: Change, now: datetime) -> Alert:
    item = change.item
    return sources.create_feed_alert(
        session,
        source_id=source_id,
        kind=item.kind.value,
        country=item.country,
        title=item.title,
        summary=item.summary,
        link=item.url,
        level=item.level,
        previous_level=change.previous.level if change.previous else None,
        departure=item.departure,
        curfew_text=item.curfew_text,
        item_key=item.key,
        fingerprint=item.fingerprint,
        published_at=item.published,
        now=now,
    )


def _push(
    session: Session, *, alert: Alert, level_change: str | None, now: datetime, chunk: int
) -> broadcasts.Queued:
    assert alert.id is not None and alert.country is not None
    parts = render.feed_alert_message(
        kind=alert.kind,
        country=alert.country,
        title=alert.title,
        summary=alert.body,
        link=alert.link,
        level_change=level_change,
        detected_at=now,
        published_at=alert.published_at,
        alert_id=alert.id,
    )
    markup = ack_markup(alert.id).to_dict() if alert.departure else None
    return broadcasts.fan_out(
        session,
        alert=alert,
        parts=parts,
        now=now,
        reply_markup=markup,
        chunk=chunk,
    )


def _tell_admins_of_failure(session: Session, *, source: Source, now: datetime) -> None:
    admins = staff.reachable_admins(session)
    since = render.utc_stamp(source.failing_since or now)
    text = (
        f"⚠️ <b>Source {source.id} has failed since {since}</b>\n"
        f"{render.esc(source.kind)} {render.esc(source.url)}\n"
        f"Last error: {render.esc(source.last_error or '')}\n"
        "Alerts from it are not arriving. See /sources."
    )
    deliveries.enqueue(
        session,
        kind=DeliveryKind.SOURCE_FAILING,
        dedupe_key=f"source-failing:{source.id}:{since}",
        recipients=[Recipient(p.id or 0, p.chat_id) for p in admins],
        parts=[text],
        priority=Priority.HIGH,
        now=now,
    )


# -- acknowledgements ------------------------------------------------------------------
def ack_markup(alert_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton("Acknowledge", callback_data=f"ack:{alert_id}")]]
    )


@requires(Role.STAFF, action="acknowledge")
async def cb_acknowledge(update: Update, context: Context, person: Staff, message: Message) -> None:
    query = update.callback_query
    if query is None or query.data is None:
        return
    alert_id = row_id(query.data.removeprefix("ack:"))
    svc = services(context)
    now = svc.clock()
    with session_scope(svc.engine) as session:
        outcome = (
            acks.acknowledge(session, alert_id=alert_id, staff_id=person.id or 0, now=now)
            if alert_id is not None
            else acks.AckOutcome.NOT_YOURS
        )
        alert = session.get(Alert, alert_id) if alert_id is not None else None
        alert_country = alert.country if alert is not None else None
        if outcome is acks.AckOutcome.NOT_YOURS:
            audit.by(
                session,
                person,
                action="acknowledge",
                outcome="refused",
                data=query.data[:64],
            )
    if outcome is acks.AckOutcome.NOT_YOURS:
        await query.answer("That button is not valid for you.", show_alert=True)
        return
    await query.answer(
        "Thank you, acknowledged." if outcome is acks.AckOutcome.NEW else "Already acknowledged."
    )
    if outcome is acks.AckOutcome.NEW:
        try:
            await query.edit_message_text(
                render.acknowledged(message.text_html, now, alert_country),
                parse_mode=ParseMode.HTML,
                disable_web_page_preview=True,
            )
        except TelegramError as error:
            log.warning("could not mark the acknowledgement on the message: %s", error)


@requires(Role.LEAD)
async def cmd_acks(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/acks <alert id>: who acknowledged a departure advisory, and who has not yet."""
    args = context.args or []
    alert_id = row_id(args[0]) if len(args) == 1 else None
    if alert_id is None:
        await message.reply_text("Usage: /acks <alert id>, e.g. /acks 42")
        return
    with session_scope(services(context).engine) as session:
        alert = session.get(Alert, alert_id)
        if alert is not None and alert.country:
            require_answers_for(session, person=person, country=alert.country)
        report = acks.report(session, alert_id=alert_id)
    if report is None:
        await message.reply_text(f"There is no alert {alert_id} that was sent to anyone.")
        return
    if not report.asked:
        sent_to = render.plural(len(report.acknowledged) + len(report.waiting), "person", "people")
        titled = f" (“{report.title[:200]}”)" if report.title else ""
        await message.reply_text(
            f"Alert {report.alert_id}{titled} asked for no acknowledgement: it "
            f"went to {sent_to} without an Acknowledge button. Only departure advisories "
            "ask for one."
        )
        return

    def who(person: acks.Recipient) -> str:
        return render.profile_link(person.name, person.telegram_id, person.username)

    done = [
        f"• {who(person)} ({render.time_in(report.country, at)})"
        for person, at in report.acknowledged
    ]
    waiting = [
        f"• {who(person)}" + (f" (reached by {person.reached_by})" if person.reached_by else "")
        for person in report.waiting
    ]
    lines = [
        render.esc(report.title),
        "",
        f"Acknowledged ({len(done)}):",
        *(done or ["• nobody yet"]),
        "",
        f"Not yet ({len(waiting)}):",
        *(waiting or ["• nobody"]),
    ]
    if waiting and report.country:
        lines += ["", f"/checkin {report.country} asks them all whether they are safe."]
    header = f"<b>Acknowledgements of alert {report.alert_id}</b>"
    for part in render.split_lines(header, lines):
        await message.reply_text(part, parse_mode=ParseMode.HTML)


# -- managing sources --------------------------------------------------------------------
def parse_source_args(args: list[str]) -> tuple[SourceKind, str, str | None]:
    """`<kind> <url> [country]` checked; a `Refusal` says in one line why it is not
    acceptable (the bot replies with it, the command line prints it)."""
    kinds = ", ".join(k.value for k in SourceKind)
    if len(args) < 2:
        raise Refusal(f"Usage: /source_add <kind> <url> [country]; kinds: {kinds}")
    try:
        kind = SourceKind(args[0].lower())
    except ValueError:
        raise Refusal(f"Unknown kind “{args[0][:30]}”; use one of: {kinds}") from None
    url = args[1]
    try:
        parts = urlsplit(url)
    except ValueError:  # "http://[x": a bracketed host that is no IP address
        raise Refusal(f"That is not a URL I can fetch: “{url[:60]}”.") from None
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 1000:
        raise Refusal("The URL must start with http:// or https://")
    country: str | None = None
    if len(args) > 2:
        found = resolve_country(" ".join(args[2:]))
        if found is None:
            raise Refusal(f"I don't know the country “{' '.join(args[2:])[:60]}”.")
        country = found.code
    if kind is SourceKind.RSS and country is None:
        raise Refusal("An rss source needs a country: /source_add rss <url> <country>")
    return kind, url, country


def describe_source(source: Source) -> str:
    ok = render.utc_stamp(source.last_success_at) if source.last_success_at else "never"
    line = f"#{source.id} {source.kind} {source.url}"
    if source.country:
        line += f" [{source.country}]"
    line += f"\n   every {source.interval_minutes} min; last success: {ok}"
    if source.last_error:
        line += f"\n   last error: {source.last_error}"
    return line


@requires(Role.ADMIN)
async def cmd_sources(update: Update, context: Context, person: Staff, message: Message) -> None:
    with session_scope(services(context).engine) as session:
        lines = [describe_source(s) for s in sources.every(session)]
    body = "\n".join(lines) or "No sources. Add one with /source_add."
    for part in render.split_html("<b>Feed sources</b>", body):
        await message.reply_text(part, parse_mode=ParseMode.HTML, disable_web_page_preview=True)


@requires(Role.ADMIN)
async def cmd_source_add(update: Update, context: Context, person: Staff, message: Message) -> None:
    kind, url, country = parse_source_args(context.args or [])
    with session_scope(services(context).engine) as session:
        source = sources.add(session, kind=kind.value, url=url, country=country)
        if source is not None:
            audit.by(
                session,
                person,
                action="source_add",
                source_id=source.id,
                kind=kind.value,
                url=url,
            )
    if source is None:
        await message.reply_text("That source is already there; see /sources.")
        return
    plan_source_polls(context.application)
    await message.reply_text(
        f"Added source #{source.id}. Its first poll records what is there now and "
        "notifies nobody; after that, news is pushed.",
        disable_web_page_preview=True,
    )


@requires(Role.ADMIN)
async def cmd_source_remove(
    update: Update, context: Context, person: Staff, message: Message
) -> None:
    args = context.args or []
    source_id = row_id(args[0]) if len(args) == 1 else None
    if source_id is None:
        await message.reply_text("Usage: /source_remove <id>; /sources lists the ids.")
        return
    with session_scope(services(context).engine) as session:
        removed = sources.remove(session, source_id=source_id)
        if removed is not None:
            audit.by(
                session,
                person,
                action="source_remove",
                source_id=source_id,
                url=removed.url,
            )
    if removed is None:
        await message.reply_text(f"There is no source #{source_id}.")
        return
    plan_source_polls(context.application)
    await message.reply_text(f"Removed source #{source_id}.")
