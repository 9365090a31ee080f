"""Calls for help on Telegram: what a person sends during one, the leads' buttons
("I'm handling it", "Reply"), their replies, `/incidents` and `/resolve`, and the offers
made for words typed outside a call (the alert button, "I'm safe", Send / Cancel).

Everything a person sends runs through `msg_from_person` first (its own handler group,
before the others): what belongs to a call or is offered a button stops there; a lead's
pasted alert text and a location outside a call go on to their own handlers.
"""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.ext import ApplicationHandlerStop, filters

from bot.access import clean_text, command_argument, requires, row_id
from bot.context import Context, services
from bot.incidents import rules, texts
from bot.incidents.rules import Incoming
from bot.messages import IN_TROUBLE, answer_in_trouble, edit_text
from bot.rollcall.live import refresh_rolls_of
from bot.rollcall.rules import check_in
from db import incidents
from db.checkins import Answer
from db.engine import session_scope
from db.incidents import Part
from db.models import Role, Staff

# The kinds of message a person in trouble may send, and what each is kept as.
_MEDIA = (
    ("photo", Part.PHOTO),
    ("voice", Part.VOICE),
    ("video", Part.VIDEO),
    ("video_note", Part.VIDEO_NOTE),
    ("audio", Part.AUDIO),
    ("animation", Part.ANIMATION),
    ("document", Part.DOCUMENT),
)


# The messages `msg_from_person` reads.
SENDABLE = (
    filters.TEXT
    | filters.PHOTO
    | filters.VOICE
    | filters.VIDEO
    | filters.VIDEO_NOTE
    | filters.AUDIO
    | filters.ANIMATION
    | filters.Document.ALL
    | filters.LOCATION
)


_AFTER_HELP = re.compile(r"^/help(?:@\w+)?\s+", re.IGNORECASE)

# A lead may answer a call's message the moment it arrives. Which call it belongs to is
# known once the dispatcher records its send, a fraction of a second after Telegram took
# it (longer with the database busy, or on another replica): a reply to the bot while a
# call's message to that chat is unrecorded waits up to this long for the record.
COPY_RECORD_WAIT_SECONDS = 5.0


def incoming(message: Message) -> Incoming | None:
    """What a message carries, or None for what is not passed on (stickers, polls)."""
    chat_id, message_id = message.chat.id, message.message_id
    if message.location is not None:
        live = message.location.live_period
        return Incoming(
            kind=Part.LIVE_LOCATION if live else Part.LOCATION,
            text=None,
            chat_id=chat_id,
            message_id=message_id,
            location=(message.location.latitude, message.location.longitude),
            live_minutes=_minutes(live) if live else None,
        )
    # An animation also carries a document; the animation comes first in _MEDIA.
    for name, part in _MEDIA:
        if getattr(message, name):
            caption = clean_text(message.caption) if message.caption else None
            return Incoming(kind=part, text=caption, chat_id=chat_id, message_id=message_id)
    if message.text:
        # "/help stuck at the airport" is offered the alert button: the words are the rest.
        words = _AFTER_HELP.sub("", clean_text(message.text))
        return Incoming(kind=Part.TEXT, text=words, chat_id=chat_id, message_id=message_id)
    return None


def _minutes(period: int | timedelta) -> int:
    seconds = period.total_seconds() if isinstance(period, timedelta) else period
    return int(seconds) // 60


def _markup(keyboard: dict[str, object] | None) -> InlineKeyboardMarkup | None:
    return InlineKeyboardMarkup.de_json(keyboard, None) if keyboard else None


@requires(Role.STAFF, action="message")
async def msg_from_person(
    update: Update, context: Context, person: Staff, message: Message
) -> None:
    """Anything typed or sent that is not a command: into a call, or offered a button."""
    found = incoming(message)
    if found is None:
        return
    svc = services(context)
    now = svc.clock()
    replied = message.reply_to_message.message_id if message.reply_to_message else None
    if replied is not None and Role(person.role) is not Role.STAFF:
        await _copy_recorded(context, chat_id=message.chat.id, message_id=replied)
    with session_scope(svc.engine) as session:
        way = rules.route(
            session, person=person, chat_id=message.chat.id, replied_to=replied, now=now
        )
        if way.lead_call is not None:
            to = rules.relay_from_lead(
                session, lead=person, call_id=way.lead_call, incoming=found, now=now
            )
            reply = f"Sent to {to.display_name} (call #{way.lead_call})."
        elif way.own_call is not None:
            told = rules.relay_from_person(session, person=person, incoming=found, now=now)
            reply = (
                texts.NO_LEAD
                if not told
                else texts.LOCATION_PASSED_ON
                if found.location is not None
                else texts.PASSED_ON
            )
        else:
            reply = ""
    if reply:
        svc.wake_dispatcher()
        if way.lead_call is not None:
            await message.reply_text(reply)
        else:
            await answer_in_trouble(message, reply)
        raise ApplicationHandlerStop
    if found.kind is Part.TEXT:
        offer = rules.offer_for(found.text or "", role=Role(person.role))
        if offer is None:
            return  # a lead's pasted text: the curfew reader has it
        question, keyboard = offer
    elif found.location is not None:
        return  # recorded by the location handler
    else:
        question, keyboard = (
            texts.SEND_QUESTION,
            texts.offer_keyboard(help_button=False, safe_button=False, send=True),
        )
    # A reply to their message, so that the press finds what they wrote or sent; perhaps
    # their emergency, so it does not wait for a broadcast.
    await answer_in_trouble(message, question, reply_markup=_markup(keyboard), quote=True)
    raise ApplicationHandlerStop


async def _copy_recorded(context: Context, *, chat_id: int, message_id: int) -> None:
    """Until the message replied to is known as a call's, or no call's message to this
    chat is waiting to be recorded (COPY_RECORD_WAIT_SECONDS at most)."""
    svc = services(context)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + COPY_RECORD_WAIT_SECONDS
    while loop.time() < deadline:
        with session_scope(svc.engine) as session:
            if incidents.call_of_copy(session, chat_id=chat_id, message_id=message_id) is not None:
                return
            if not incidents.copies_unrecorded(session, chat_id=chat_id):
                return
        await asyncio.sleep(0.02)


@requires(Role.STAFF, action="help_offer")
async def cb_offer(update: Update, context: Context, person: Staff, message: Message) -> None:
    """A press on what was offered for typed words: alert, "I'm safe", Send or Cancel."""
    query = update.callback_query
    if query is None:
        return
    verb = (query.data or "").removeprefix("hx:")
    original = message.reply_to_message
    found = incoming(original) if original is not None else None
    if verb not in ("help", "safe", "send", "no") or (verb == "send" and found is None):
        await query.answer("That button is no longer valid.", show_alert=True)
        return
    svc = services(context)
    now = svc.clock()
    if verb == "no":
        await query.answer()
        await edit_text(
            context.bot,
            chat_id=message.chat.id,
            message_id=message.message_id,
            text=texts.CANCELLED,
            what="help offer",
            parse_mode=None,
        )
        return
    with session_scope(svc.engine) as session:
        if verb == "send":
            assert found is not None
            told = rules.relay_from_person(session, person=person, incoming=found, now=now)
            done = texts.PASSED_ON if told else texts.NO_LEAD
        else:
            answer = Answer.HELP if verb == "help" else Answer.SAFE
            words = found.text if found is not None and found.kind is Part.TEXT else None
            outcome = check_in(
                session, person=person, answer=answer, note=words, location=None, now=now
            )
            if answer is Answer.SAFE:
                done = f"✅ Recorded: you are safe, at {outcome.when}."
            elif outcome.leads_told:
                done = f"🆘 Your security team is being alerted now.\n\n{texts.TYPE_WHAT}"
            else:
                done = f"🆘 Recorded. {texts.NO_LEAD}"
            if answer is Answer.HELP and found is not None and found.kind is not Part.TEXT:
                rules.relay_from_person(session, person=person, incoming=found, now=now)
    svc.wake_dispatcher()
    await query.answer()
    await edit_text(
        context.bot,
        chat_id=message.chat.id,
        message_id=message.message_id,
        text=done,
        what="help offer",
        parse_mode=None,
        rate_limit_args=IN_TROUBLE,
    )


@requires(Role.LEAD, action="help_call")
async def cb_call(update: Update, context: Context, person: Staff, message: Message) -> None:
    """A lead's press on a call for help: "I'm handling it", "Reply", "Take it over"."""
    query = update.callback_query
    if query is None:
        return
    verb, _, rest = (query.data or "").removeprefix("hc:").partition(":")
    raw_id, _, raw_owner = rest.partition(":")
    call_id = row_id(raw_id)
    if verb not in ("own", "reply", "take") or call_id is None:
        await query.answer("That button is not valid.", show_alert=True)
        return
    svc = services(context)
    now = svc.clock()
    if verb == "reply":
        with session_scope(svc.engine) as session:
            to = rules.start_reply(session, lead=person, call_id=call_id, now=now)
            prompt = texts.reply_prompt(person=to, call_id=call_id)
        await query.answer()
        await message.reply_text(prompt, parse_mode=ParseMode.HTML)
        return
    with session_scope(svc.engine) as session:
        outcome = rules.claim(
            session,
            lead=person,
            call_id=call_id,
            take_from=row_id(raw_owner) if verb == "take" else None,
            now=now,
        )
    svc.wake_dispatcher()
    await query.answer(outcome.toast)
    if outcome.question is not None:
        await message.reply_text(
            outcome.question, parse_mode=ParseMode.HTML, reply_markup=_markup(outcome.keyboard)
        )
    for edit in outcome.edits:
        await edit_text(
            context.bot,
            chat_id=edit.chat_id,
            message_id=edit.message_id,
            text=edit.text,
            what=f"call {call_id}: alert",
            reply_markup=_markup(edit.keyboard),
        )
    if outcome.person_id is not None:
        await refresh_rolls_of(context.application, outcome.person_id)


@requires(Role.LEAD, action="incidents")
async def cmd_incidents(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/incidents: the open calls for help of the people you answer for."""
    svc = services(context)
    with session_scope(svc.engine) as session:
        text = rules.open_calls_text(session, lead=person, now=svc.clock())
    await message.reply_text(text, parse_mode=ParseMode.HTML)


@requires(Role.LEAD, action="resolve")
async def cmd_resolve(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/resolve <id>: close a call for help."""
    svc = services(context)
    with session_scope(svc.engine) as session:
        call = rules.resolve(
            session, lead=person, call_id=row_id(command_argument(update)), now=svc.clock()
        )
    svc.wake_dispatcher()
    await message.reply_text(f"Call #{call.id} is closed; they and the other leads are told.")
    await refresh_rolls_of(context.application, call.staff_id)
