"""Lead broadcasts: /broadcast shows a preview with Send / Cancel; Send fans out; a live report.

Callback data is `bc:send:<alert id>` or `bc:cancel:<alert id>`; the button only works
for the lead who wrote the draft, and only while it is a draft.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode

from bot import render
from bot.access import command_argument, require_answers_for, requires, row_id
from bot.context import Context, services
from bot.fanout import continue_fan_outs
from bot.messages import edit_text
from db import audit, broadcasts, deliveries, subscriptions
from db.engine import session_scope
from db.models import Alert, AlertStatus, Role, Staff
from db.refusal import Refusal
from schedules.countries import Country, leading_country

log = logging.getLogger(__name__)

USAGE = "Usage: /broadcast <country> <message>, for example:\n/broadcast KZ Stay indoors tonight."
MAX_TEXT = 3500  # one message on a phone screen is already long; a lead can send two


@dataclass(frozen=True)
class BroadcastRequest:
    country: Country
    text: str


def parse_broadcast(raw: str) -> BroadcastRequest:
    """Split `/broadcast` arguments into a country (one to four words) and the message; a
    `Refusal` says in one line what is wrong."""
    first_line, newline, more = raw.strip().partition("\n")
    if not first_line.strip():
        raise Refusal(USAGE)
    try:
        country, rest = leading_country(first_line)
    except ValueError as error:
        raise Refusal(f"{error}\n{USAGE}") from None
    text = (" ".join(rest.split()) + newline + more).strip()
    if not text:
        raise Refusal(f"What should I send to {country.label()}?\n{USAGE}")
    if len(text) > MAX_TEXT:
        raise Refusal(f"That message is {len(text)} characters; please keep it under {MAX_TEXT}.")
    return BroadcastRequest(country=country, text=text)


def staff_message(alert: Alert, author: str) -> list[str]:
    return render.broadcast_message(
        country=alert.country or "", text=alert.body, author=author, at=alert.created_at
    )


def _buttons(alert_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Send", callback_data=f"bc:send:{alert_id}"),
                InlineKeyboardButton("Cancel", callback_data=f"bc:cancel:{alert_id}"),
            ]
        ]
    )


def decide_draft(
    session: Session,
    *,
    alert_id: int,
    send: bool,
    person: Staff,
    report_at: tuple[int, int],
    now: datetime,
    chunk: int = broadcasts.FAN_OUT_CHUNK,
) -> Alert | None:
    """A lead's Send or Cancel on their own draft: claimed once, audited, and on Send
    queued for the first `chunk` people following the country (`continue_fan_outs`
    queues the rest), the preview becoming its report. None when it is not (or no
    longer) a draft of theirs."""
    draft = session.get(Alert, alert_id)
    if draft is not None and draft.country and send:
        # Still theirs to send: a lead may have given the country up since the preview.
        require_answers_for(session, person=person, country=draft.country)
    verb = "send" if send else "cancel"
    status = AlertStatus.SENT if send else AlertStatus.CANCELLED
    claimed = broadcasts.claim_draft(
        session, alert_id=alert_id, author_staff_id=person.id or 0, status=status, now=now
    )
    audit.by(
        session,
        person,
        action=f"broadcast_{verb}",
        outcome="ok" if claimed else "refused",
        alert_id=alert_id,
    )
    alert = session.get(Alert, alert_id) if claimed else None
    if alert is not None and send:
        queued = broadcasts.fan_out(
            session,
            alert=alert,
            parts=staff_message(alert, person.display_name),
            now=now,
            chunk=chunk,
        )
        chat_id, message_id = report_at
        broadcasts.set_report(session, alert_id=alert_id, chat_id=chat_id, message_id=message_id)
        log.info(
            "broadcast %d: queued for %d people (%d unreachable)%s",
            alert_id,
            queued.reachable,
            queued.unreachable,
            "" if queued.done else " so far, the rest to follow",
            extra={"alert_id": alert_id},
        )
    return alert


@requires(Role.LEAD, action="broadcast")
async def cmd_broadcast(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/broadcast <country> <text>: preview first, nothing goes out before Send."""
    request = parse_broadcast(command_argument(update))
    svc = services(context)
    with session_scope(svc.engine) as session:
        require_answers_for(session, person=person, country=request.country.code)
        alert = broadcasts.create_draft(
            session,
            country=request.country.code,
            text=request.text,
            author_staff_id=person.id or 0,
            now=svc.clock(),
        )
        who = subscriptions.audience(session, country=request.country.code, now=svc.clock())
        audit.by(
            session,
            person,
            action="broadcast_draft",
            alert_id=alert.id,
            country=request.country.code,
        )
    total = len(who.people)
    if total == 0:
        await message.reply_text(
            f"Nobody follows {request.country.label()} or is there now, so there is no one "
            "to send to."
        )
        return
    preview = render.broadcast_preview(
        parts=staff_message(alert, person.display_name),
        recipients=total,
        unreachable=total - who.reachable,
        present=len(who.present),
    )
    await message.reply_text(
        preview, parse_mode=ParseMode.HTML, reply_markup=_buttons(alert.id or 0)
    )


@requires(Role.LEAD, action="broadcast_button")
async def cb_broadcast(update: Update, context: Context, person: Staff, message: Message) -> None:
    query = update.callback_query
    if query is None or query.data is None or query.message is None:
        return
    verb, _, raw_id = query.data.removeprefix("bc:").partition(":")
    alert_id = row_id(raw_id)
    if verb not in ("send", "cancel") or alert_id is None:
        await query.answer("That button is not valid.", show_alert=True)
        return
    svc = services(context)
    with session_scope(svc.engine) as session:
        alert = decide_draft(
            session,
            alert_id=alert_id,
            send=verb == "send",
            person=person,
            report_at=(query.message.chat.id, query.message.message_id),
            now=svc.clock(),
            chunk=svc.settings.fan_out_chunk,
        )
    if alert is None:
        await query.answer("This preview has already been sent or cancelled.", show_alert=True)
        return
    await query.answer("Sending…" if verb == "send" else "Cancelled.")
    if verb == "cancel":
        await query.edit_message_text("Cancelled. Nothing was sent.")
        return
    svc.wake_dispatcher()
    continue_fan_outs(svc)
    await refresh_report(context, alert)


async def refresh_report(context: Context, alert: Alert) -> None:
    """Edit the lead's report message to the current counts; close it when nothing waits."""
    if alert.id is None or alert.report_chat_id is None or alert.report_message_id is None:
        return
    svc = services(context)
    with session_scope(svc.engine) as session:
        counts = deliveries.counts_for_alert(session, alert_id=alert.id)
        # Not finished while people are still being queued, even if all queued are sent.
        finished = counts.pending == 0 and broadcasts.fan_out_done(session, alert_id=alert.id)
    text = render.delivery_report(country=alert.country or "", counts=counts, finished=finished)
    # The last text shown is cached only to avoid pointless edits; losing it costs one edit.
    shown: dict[int, str] = context.application.bot_data.setdefault("report_texts", {})
    if shown.get(alert.id) == text and not finished:
        return
    settled = await edit_text(
        context.bot,
        chat_id=alert.report_chat_id,
        message_id=alert.report_message_id,
        text=text,
        what=f"broadcast {alert.id}: report",
        extra={"alert_id": alert.id},
    )
    if not settled:
        return  # tried again on the next tick
    shown[alert.id] = text
    if finished:
        shown.pop(alert.id, None)
        with session_scope(svc.engine) as session:
            broadcasts.close_report(session, alert_id=alert.id)


async def job_update_broadcast_reports(context: Context) -> None:
    """Every few seconds: keep each running broadcast's report current."""
    with session_scope(services(context).engine) as session:
        open_reports = list(broadcasts.open_reports(session))
    for alert in open_reports:
        await refresh_report(context, alert)
