"""Enrolment and roles: invites, /start, /help, promotions and the staff list."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlmodel import Session
from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot import menus, render
from bot.access import STRANGER_TEXT, answer_stranger, clean_text, identify, requires
from bot.commands import help_text, promotion_text
from bot.context import Context, services
from bot.incidents.texts import HELP_QUESTION, offer_keyboard
from db import audit, invites, leads, staff, subscriptions
from db.engine import session_scope
from db.models import Role, Staff

log = logging.getLogger(__name__)

# Who an invite is for, as its message names them.
INVITE_FOR = {Role.STAFF: "a staff member", Role.LEAD: "a security lead"}

WELCOME = (
    "Welcome to Dutybot, {name}. You are enrolled as {role}.\n"
    "Follow the countries you are in or travel to with /subscribe <country> "
    "(for example /subscribe Kazakhstan); /help lists everything you can do."
)


async def cmd_start(update: Update, context: Context) -> None:
    """/start [code]: enrol with an invite, or greet someone already enrolled."""
    user, chat, message = update.effective_user, update.effective_chat, update.effective_message
    if user is None or chat is None or message is None or chat.type != "private":
        return
    person = identify(update, context)
    if person is not None:
        await message.reply_text(
            WELCOME.format(name=person.display_name, role=staff.role_words(person.role))
        )
        return
    code = clean_text(context.args[0]) if context.args else ""
    svc = services(context)
    if not code or len(code) > 64:
        await answer_stranger(update, context, STRANGER_TEXT)
        return
    with session_scope(svc.engine) as session:
        outcome = invites.enrol_with_invite(
            session,
            code=code,
            telegram_user_id=user.id,
            chat_id=chat.id,
            display_name=user.full_name,
            username=user.username,
            now=svc.clock(),
        )
        if outcome.person is not None:
            audit.record(
                session,
                action="enrol",
                actor_telegram_id=user.id,
                actor_staff_id=outcome.person.id,
                role=outcome.person.role,
            )
    if outcome.person is None:
        await answer_stranger(update, context, STRANGER_TEXT)
        return
    await _set_menu(context, outcome.person)
    await message.reply_text(
        WELCOME.format(name=outcome.person.display_name, role=staff.role_words(outcome.person.role))
    )


@requires(Role.STAFF)
async def cmd_help(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/help [staff|lead|admin]: what the person can do, their own role's commands in full
    (or those of a role they hold, when named)."""
    role = Role(person.role)
    asked = " ".join(context.args or []).strip().lower()
    held = {r.value: r for r in Role if r.rank <= role.rank}
    if asked in {r.value for r in Role} and asked not in held:
        await message.reply_text(
            f"/help {asked} lists commands you do not have; /help shows yours."
        )
        return
    if asked and asked not in held:
        # "/help me", "/help stuck at the airport": words after /help may be someone in
        # trouble, so they get the alert button (their words go with it) and the way to
        # the list of commands.
        keyboard = offer_keyboard(help_button=True, safe_button=True, send=False)
        await message.reply_text(
            f"{HELP_QUESTION}\n(/help alone lists what you can do.)",
            reply_markup=InlineKeyboardMarkup.de_json(keyboard, None),
            do_quote=True,
        )
        return
    await message.reply_text(
        help_text(services(context).commands, role, shown=held.get(asked)),
        parse_mode=ParseMode.HTML,
    )


@requires(Role.ADMIN)
async def cmd_invite(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/invite [lead]: a single-use invite link."""
    args = [a.lower() for a in context.args or []]
    if args not in ([], ["lead"], ["staff"]):
        await message.reply_text("Usage: /invite for staff, or /invite lead for a security lead.")
        return
    role = Role.LEAD if args == ["lead"] else Role.STAFF
    svc = services(context)
    now = svc.clock()
    with session_scope(svc.engine) as session:
        invite = invites.create(
            session,
            role=role,
            created_by_staff_id=person.id,
            now=now,
            ttl=timedelta(days=svc.settings.invite_ttl_days),
        )
        audit.by(
            session,
            person,
            action="invite",
            role=role.value,
            invite_id=invite.id,
        )
    link = f"https://t.me/{context.bot.username}?start={invite.code}"
    await message.reply_text(
        f"Invite for {INVITE_FOR[role]}, single use, valid until "
        f"{render.utc_stamp(invite.expires_at)}:\n{link}\n\n"
        f"Or they can send me: /start {invite.code}",
        disable_web_page_preview=True,
    )


@requires(Role.ADMIN)
async def cmd_promote(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/promote <@user|id> [lead|admin]"""
    await _change_role(context, person, message, up=True)


@requires(Role.ADMIN)
async def cmd_demote(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/demote <@user|id>"""
    await _change_role(context, person, message, up=False)


async def _change_role(context: Context, actor: Staff, message: Message, *, up: bool) -> None:
    args = context.args or []
    verb = "promote" if up else "demote"
    usage = f"Usage: /{verb} @username (or their Telegram id)" + (" [lead|admin]" if up else "")
    to = args[1].lower() if len(args) == 2 else None
    if not args or len(args) > 2 or (to is not None and (not up or to not in ("lead", "admin"))):
        await message.reply_text(usage)
        return
    svc = services(context)
    with session_scope(svc.engine) as session:
        target = staff.find(session, reference=args[0])
        if target is None:
            change = None
        else:
            change = staff.change_role(
                session,
                person=target,
                up=up,
                to=Role(to) if to else None,
                configured_admin_ids=svc.settings.admin_telegram_ids,
            )
            if change.new is not None:
                audit.by(
                    session,
                    actor,
                    action=verb,
                    target_staff_id=target.id,
                    old_role=change.old.value,
                    new_role=change.new.value,
                )
    if target is None or change is None:
        await message.reply_text(f"No enrolled person matches {args[0][:64]}.")
        return
    if change.new is None:
        await message.reply_text(change.refusal)
        return
    await _set_menu(context, target)
    await message.reply_text(f"{target.display_name} is now {staff.role_words(change.new)}.")
    if up:
        try:
            await context.bot.send_message(
                target.chat_id,
                promotion_text(svc.commands, change.old, change.new),
                parse_mode=ParseMode.HTML,
            )
        except TelegramError as error:
            # Their menu shows the new commands when they come back; the promotion stands.
            log.warning("could not tell person %s of their promotion: %s", target.id, error)


@requires(Role.ADMIN)
async def cmd_staff(update: Update, context: Context, person: Staff, message: Message) -> None:
    """/staff: everyone enrolled."""
    svc = services(context)
    with session_scope(svc.engine) as session:
        people = staff.everyone(session)
        lines = []
        for p in people:
            follows = ", ".join(subscriptions.countries_of(session, staff_id=p.id or 0)) or "none"
            reach = "" if p.reachable else " [UNREACHABLE]"
            # Whether urgent messages can reach them without Telegram; never the address.
            fallback = [label for label, given in (("SMS", p.mobile), ("e-mail", p.email)) if given]
            if fallback:
                reach += f"; reachable by {' and '.join(fallback)}"
            lines.append(
                f"• {render.profile_link(p.display_name, p.telegram_user_id, p.username)} "
                f"(id {p.telegram_user_id}): {p.role}; follows {follows}"
                f"{render.esc(_answers_for(session, p))}{reach}"
            )
    for part in render.split_lines(f"<b>Enrolled: {len(lines)}</b>", ["", *lines]):
        await message.reply_text(part, parse_mode=ParseMode.HTML)


def _answers_for(session: Session, person: Staff) -> str:
    """The countries a lead answers for, for /staff; admins answer for every one."""
    if Role(person.role) is Role.ADMIN:
        return "; answers for every country"
    if Role(person.role) is Role.LEAD:
        led = leads.countries_led(session, staff_id=person.id or 0)
        return f"; answers for {', '.join(led) or 'none'}"
    return ""


async def _set_menu(context: Context, person: Staff) -> None:
    """Give a person their role's command menu in their own chat."""
    svc = services(context)
    await menus.give_menu(context.bot, svc.engine, svc.commands, person)
