"""Privacy: a person's copy of their data, erasure at their request, and retention.

- `/export_me`: a JSON file with everything stored about the sender (db/privacy.py says
  what that is), and nothing about anyone else.
- `/forget_me`: a preview of what will be deleted with Delete / Cancel buttons. Delete
  removes the person from Dutybot with their data; to come back they need a new
  invite. An admin listed in ADMIN_TELEGRAM_IDS, and the last admin, are refused, as
  /demote refuses them. The audit log keeps only that a deletion happened.
- `job_retention` (daily): check-in notes and locations (last known places too) older than
  RETENTION_DAYS go.

Buttons carry `pv:forget:<staff id>:<issued, unix seconds>` or `pv:cancel:<staff id>`:
a press counts only from that person, and a Delete older than CONFIRM_WITHIN is refused
so an old preview cannot be tapped by accident. The deletion's first statement writes
the person's row, so a double tap deletes once and the second press finds nobody.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from datetime import UTC, datetime, timedelta

from telegram import (
    BotCommandScopeChat,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import TelegramError

from bot.access import requires
from bot.context import Context, Services, services
from bot.curfews.jobs import plan_curfew_jobs
from bot.messages import edit_text
from bot.render import plural
from bot.rollcall.live import refresh_roll
from db import audit, privacy
from db import checkins as db_checkins
from db.engine import session_scope
from db.models import Role, Staff
from db.refusal import Refusal

log = logging.getLogger(__name__)

CALLBACK = re.compile(r"^pv:(forget|cancel):(\d{1,12})(?::(\d{1,12}))?$")
CONFIRM_WITHIN = timedelta(hours=1)
RETENTION_JOB = "retention"
RETENTION_INTERVAL_SECONDS = 24 * 3600
RETENTION_FIRST_SECONDS = 60  # soon after start-up, so a bot restarted often still purges
MAX_DOCUMENT_BYTES = 50_000_000  # Telegram's upload limit for bots

CANCELLED_TEXT = "Cancelled. Nothing was deleted."
EXPIRED_TEXT = "This confirmation has expired; nothing was deleted. Send /forget_me again."
DONE_TEXT = (
    "Your data has been deleted: you are no longer enrolled, and Dutybot keeps nothing "
    "about you. The audit log records only that a deletion happened.\n"
    "To use Dutybot again, ask your security team for a new invite."
)


def forget_preview(held: privacy.Holdings) -> str:
    """What /forget_me will delete, in words, before the person confirms."""
    lines = ["This deletes everything Dutybot keeps about you:"]
    lines.append("• your name, username and Telegram ids (you will no longer be enrolled)")
    lines.append(f"• {plural(held.subscriptions, 'country', 'countries')} you follow")
    if held.countries_led:
        lines.append(f"• {plural(held.countries_led, 'country', 'countries')} you lead")
    lines.append(
        f"• {plural(held.checkins, 'check-in')} and {plural(held.answers, 'roll-call answer')}"
        f", with {plural(held.notes, 'note')} and {plural(held.locations, 'location')}"
    )
    if held.contact:
        lines.append("• the phone number and emergency contact you gave with /contact")
    if held.calls_for_help:
        lines.append(
            f"• {plural(held.calls_for_help, 'call for help', 'calls for help')}, with "
            "everything you and your security team wrote in them"
        )
    if held.trips:
        lines.append(f"• {plural(held.trips, 'trip')}")
    if held.places:
        lines.append("• where you were last seen (from a location you shared) and your /where city")
    lines.append(f"• {plural(held.acknowledgements, 'acknowledgement')}")
    lines.append(f"• {plural(held.messages_to_them, 'message')} sent or queued to you")
    if held.messages_about_them:
        lines.append(
            f"• {plural(held.messages_about_them, 'report')} about you sent to your security "
            "team (the copies kept here)"
        )
    if held.cards:
        lines.append(
            f"• where your {plural(held.cards, 'pinned country card')} "
            f"{'is' if held.cards == 1 else 'are'} in this chat (the messages stay here; "
            "unpin or delete them yourself)"
        )
    lines.append(
        f"• your identity in {plural(held.audit_entries, 'audit log entry', 'audit log entries')}"
        "; the log keeps only that a deletion happened"
    )
    lines.append("")
    lines.append(
        "Broadcasts, roll calls and curfews you set for others stay, without your name. "
        "To use Dutybot again you will need a new invite. Want a copy first? Send /export_me.\n"
        "This cannot be undone."
    )
    return "\n".join(lines)


def _buttons(staff_id: int, issued: datetime) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "Delete my data",
                    callback_data=f"pv:forget:{staff_id}:{int(issued.timestamp())}",
                ),
                InlineKeyboardButton("Cancel", callback_data=f"pv:cancel:{staff_id}"),
            ]
        ]
    )


@requires(Role.STAFF)
async def cmd_export_me(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/export_me: everything stored about you, as a JSON file."""
    svc = services(context)
    now = svc.clock()
    with session_scope(svc.engine) as session:
        audit.by(
            session,
            person,
            action="export_me",
        )
        fresh = session.get(Staff, person.id)
        data = privacy.export(session, person=fresh or person, now=now)
    content = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    if len(content) > MAX_DOCUMENT_BYTES:
        log.warning("export of %d bytes is over Telegram's file limit", len(content))
        await message.reply_text(
            "Your data is larger than Telegram lets a bot send in one file; please ask your "
            "security team for a copy."
        )
        return
    await message.reply_document(
        document=io.BytesIO(content),
        filename=f"dutybot-my-data-{now:%Y%m%dT%H%M%SZ}.json",
        caption=f"Everything Dutybot stores about you, as of {now:%d %b %Y %H:%M} UTC."
        + (
            " Your pinned country cards are messages in this chat; what is stored is "
            "their chat and message ids and the text they show (country_cards)."
            if data["country_cards"]
            else ""
        ),
    )


@requires(Role.STAFF)
async def cmd_forget_me(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/forget_me: a preview with Delete / Cancel; nothing is deleted before Delete."""
    svc = services(context)
    with session_scope(svc.engine) as session:
        privacy.require_may_forget(
            session, person=person, configured_admin_ids=svc.settings.admin_telegram_ids
        )
        held = privacy.holdings(session, person=person)
    await message.reply_text(
        forget_preview(held), reply_markup=_buttons(person.id or 0, svc.clock())
    )


async def _edit(query: CallbackQuery, text: str) -> None:
    if query.message is not None:
        await edit_text(
            query.get_bot(),
            chat_id=query.message.chat.id,
            message_id=query.message.message_id,
            text=text,
            what="forget_me: preview",
            parse_mode=None,
        )


@requires(Role.STAFF)
async def cb_privacy(update: Update, context: Context, person: Staff, message: Message) -> None:
    """A press on Delete my data or Cancel."""
    query = update.callback_query
    if query is None:
        return
    match = CALLBACK.match(query.data or "")
    if match is None or int(match[2]) != person.id:
        await query.answer("That button is not yours.", show_alert=True)
        return
    if match[1] == "cancel":
        await query.answer("Cancelled.")
        await _edit(query, CANCELLED_TEXT)
        return
    svc = services(context)
    now = svc.clock()
    issued = datetime.fromtimestamp(int(match[3] or 0), UTC)
    if not timedelta(minutes=-5) <= now - issued <= CONFIRM_WITHIN:
        await query.answer(EXPIRED_TEXT, show_alert=True)
        await _edit(query, EXPIRED_TEXT)
        return
    try:
        with session_scope(svc.engine) as session:
            outcome = privacy.forget(
                session,
                staff_id=person.id or 0,
                configured_admin_ids=svc.settings.admin_telegram_ids,
                now=now,
            )
            live = {r.id for r in db_checkins.live_rounds(session)}
    except Refusal as refusal:
        # The preview says why in full (the gate's pop-up holds 200 characters), and its
        # Delete button, which would only be refused again, goes with it.
        await _edit(query, refusal.text)
        raise
    if outcome is None:
        await query.answer("Your data has already been deleted.", show_alert=True)
        return
    log.info("a person's data was deleted at their request")
    await query.answer("Deleted.")
    await _edit(query, DONE_TEXT)
    if person.role != Role.STAFF.value:
        try:
            await context.bot.delete_my_commands(scope=BotCommandScopeChat(person.chat_id))
        except TelegramError as error:
            log.warning("forget_me: command menu not reset: %s", error.message)
    plan_curfew_jobs(context.application)  # they no longer get reminders
    for round_id in outcome.round_ids:
        if round_id in live:
            await refresh_roll(context.application, round_id)


async def job_retention(context: Context) -> None:
    """Daily: delete check-in notes and locations older than RETENTION_DAYS, and the
    words of calls for help closed before then.

    In a worker thread: the first run over a large, long-kept database takes seconds,
    which the event loop (and everyone's buttons) should not wait for.
    """
    await asyncio.to_thread(purge, services(context))


def purge(svc: Services) -> privacy.Purged:
    """Run the retention rule once, on the service clock; logs and returns the counts."""
    days = svc.settings.retention_days
    with session_scope(svc.engine) as session:
        purged = privacy.purge_expired_details(session, now=svc.clock(), keep=timedelta(days=days))
    log.info(
        "retention: removed %d notes and %d locations older than %d days and the words of "
        "%d messages in calls for help closed before then; redacted %d outbox copies",
        purged.notes,
        purged.locations,
        days,
        purged.thread_messages,
        purged.messages,
    )
    return purged
