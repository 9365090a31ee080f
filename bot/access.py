"""Who may do what: the gate in front of every command and button.

Every handler is wrapped by `requires(role)`. It refuses group chats, answers strangers
with one polite line that reveals nothing (once a minute each at most, and only a few a
second in all: past that, silence, so that a flood of strangers spends nothing of the
flood budget the alerts need), refuses people below the role (and audits the attempt
when the command is privileged), and hands the handler the person's row and the message
(the one a button is on, for a press).
A rule that turns a request down raises `Refusal(text)` (db.refusal); the gate makes it
the reply (and audits it for privileged commands), so no handler formats a refusal of
its own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, cast

from sqlmodel import Session
from telegram import Message, Update
from telegram.ext import ApplicationHandlerStop, ExtBot

from bot import menus
from bot.context import Context, services
from bot.ratelimit import Rank
from db import audit, leads, staff
from db.engine import session_scope
from db.models import Role, Staff
from db.refusal import Refusal
from schedules.countries import country_name

STRANGER_TEXT = (
    "This bot is for enrolled staff of a duty-of-care programme. "
    "If you should have access, ask your security team for an invite link."
)
PRIVATE_ONLY_TEXT = "Please talk to me in a private chat."

Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]
# A gated handler gets the person and the message (or the message a button is on).
StaffHandler = Callable[[Update, Context, Staff, Message], Coroutine[Any, Any, None]]

_ROLE_WORDS = {Role.LEAD: "security leads", Role.ADMIN: "admins"}


def require_answers_for(session: Session, *, person: Staff, country: str) -> None:
    """Refuse a lead who does not answer for `country` (admins answer for every one)."""
    if not leads.answers_for(session, person=person, country=country):
        raise Refusal(f"You don't answer for {country_name(country)}; /lead {country} takes it on.")


async def answer(update: Update, text: str, *, rank: Rank = Rank.REPLY) -> None:
    """Reply to a command with a message, or to a button with a short pop-up; `rank` is
    the reply's place in the flood budget."""
    message = update.effective_message
    if update.callback_query is not None:
        await update.callback_query.answer(text[:200], show_alert=True)  # not a message
    elif message is not None:
        # The bot's own send_message, as Message.reply_text does, but with the rank.
        bot = cast("ExtBot[int]", message.get_bot())
        await bot.send_message(chat_id=message.chat_id, text=text, rate_limit_args=rank)


async def answer_stranger(update: Update, context: Context, text: str) -> None:
    """Answer someone who is not enrolled, last in the budget, unless they were answered
    a moment ago or too many strangers are: then nothing is sent at all."""
    user = update.effective_user
    allowance = services(context).stranger_replies
    if user is None or not allowance.take(user.id):
        return
    try:
        await answer(update, text, rank=Rank.STRANGER)
    finally:
        allowance.done()


# Control characters (but tab and line breaks) mean nothing in what people write, and
# PostgreSQL refuses NUL in text outright: they are dropped from every text read.
_CONTROLS = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])


def clean_text(text: str) -> str:
    """`text` without control characters other than tab and line breaks."""
    return text.translate(_CONTROLS)


def message_text(update: Update) -> str:
    """The message's text, cleaned (see `clean_text`); "" when it has none."""
    message = update.effective_message
    return clean_text(message.text) if message is not None and message.text else ""


def command_argument(update: Update) -> str:
    """What follows the command, from the next line too (`/safe` then a note below)."""
    parts = message_text(update).split(None, 1)
    return parts[1].strip() if len(parts) > 1 else ""


# Row ids are INTEGER columns: PostgreSQL refuses a larger number in a query outright.
MAX_ROW_ID = 2**31 - 1


def row_id(text: str) -> int | None:
    """The id a person typed ("12" or "#12"), or None when it is no id a row can have
    (other characters, "²" or "١٢", zero, or a number beyond `MAX_ROW_ID`)."""
    digits = text.strip().removeprefix("#")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 10:
        return None
    number = int(digits)
    return number if 0 < number <= MAX_ROW_ID else None


def identify(update: Update, context: Context) -> Staff | None:
    """The enrolled person behind an update (kept current), or None for a stranger.

    People listed in ADMIN_TELEGRAM_IDS are enrolled as admins on first contact.
    """
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return None
    svc = services(context)
    with session_scope(svc.engine) as session:
        person = staff.by_telegram_id(session, telegram_user_id=user.id)
        if person is not None:
            staff.touch(
                session,
                person=person,
                chat_id=chat.id,
                display_name=user.full_name,
                username=user.username,
            )
        elif user.id in svc.settings.admin_telegram_ids:
            person = staff.enrol(
                session,
                telegram_user_id=user.id,
                chat_id=chat.id,
                display_name=user.full_name,
                username=user.username,
                role=Role.ADMIN,
            )
            audit.record(
                session,
                action="enrol",
                actor_telegram_id=user.id,
                actor_staff_id=person.id,
                role=Role.ADMIN.value,
                via="ADMIN_TELEGRAM_IDS",
            )
        configured_admin = user.id in svc.settings.admin_telegram_ids
        if person is not None and configured_admin and person.role != Role.ADMIN.value:
            staff.set_role(session, person=person, role=Role.ADMIN)
    if person is not None and person.menu != menus.role_fingerprint(svc.commands, person.role):
        # Enrolled on first contact, promoted through the settings, or their last menu
        # failed: the chat shows another role's menu until this one lands.
        context.application.create_task(
            menus.give_menu(context.bot, svc.engine, svc.commands, person),
            name=f"menu:{chat.id}",
        )
    return person


# The least role each gated handler asks for, so that the command table can be checked
# against the gates (tests/bot/test_commands.py).
GATES: dict[Handler, Role] = {}


def requires(
    role: Role = Role.STAFF, *, action: str | None = None
) -> Callable[[StaffHandler], Handler]:
    """Wrap a handler so it only runs for an enrolled person holding at least `role`."""

    def decorate(handler: StaffHandler) -> Handler:
        @functools.wraps(handler)
        async def gated(update: Update, context: Context) -> None:
            await _pass_gate(update, context, handler=handler, role=role, action=action)

        GATES[gated] = role
        return gated

    return decorate


async def _pass_gate(
    update: Update, context: Context, *, handler: StaffHandler, role: Role, action: str | None
) -> None:
    """What every gated handler does first: refuse or run it, and answer its refusals."""
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    if chat is None or user is None or message is None:
        return  # nothing a person sent, nowhere to answer
    if chat.type != "private":
        if _enrolled(context, user.id):
            await answer(update, PRIVATE_ONLY_TEXT)
        else:
            await answer_stranger(update, context, PRIVATE_ONLY_TEXT)
        return
    what = action or handler.__name__.removeprefix("cmd_")
    person = identify(update, context)
    if person is None or Role(person.role).rank < role.rank:
        if role is not Role.STAFF:
            _audit_refusal(
                context,
                action=what,
                user_id=user.id,
                person=person,
                reason="not enrolled" if person is None else f"role {person.role}",
            )
        if person is None:
            await answer_stranger(update, context, STRANGER_TEXT)
        else:
            await answer(update, f"Sorry, only {_ROLE_WORDS[role]} can do that.")
        # Answered once: no handler of a later group answers the same update again.
        raise ApplicationHandlerStop
    if context.args:
        context.args = [a for a in map(clean_text, context.args) if a]
    try:
        await handler(update, context, person, message)
    except Refusal as refusal:
        if role is not Role.STAFF:
            _audit_refusal(
                context, action=what, user_id=user.id, person=person, reason=refusal.text[:200]
            )
        await answer(update, refusal.text)


def _enrolled(context: Context, user_id: int) -> bool:
    """Whether `user_id` is enrolled or a configured admin; only looks (unlike `identify`)."""
    svc = services(context)
    if user_id in svc.settings.admin_telegram_ids:
        return True
    with session_scope(svc.engine) as session:
        return staff.by_telegram_id(session, telegram_user_id=user_id) is not None


def _audit_refusal(
    context: Context, *, action: str, user_id: int, person: Staff | None, reason: str
) -> None:
    with session_scope(services(context).engine) as session:
        audit.record(
            session,
            action=action,
            actor_telegram_id=user_id,
            actor_staff_id=person.id if person else None,
            outcome="refused",
            reason=reason,
        )
