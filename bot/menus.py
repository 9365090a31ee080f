"""The command menu each chat shows: a stranger's, and each person's role's.

Telegram keeps a chat's menu until it is replaced, so the bot gives a person their menu
when they enrol, when their role changes, and at start-up only to those whose menu is
not their role's current one (new people, a changed command table, a failed attempt).
Each person's row remembers a fingerprint of the menu their chat shows, so a restart in
a crisis does not spend Telegram's rate limit on menus nobody needs changed.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
from collections.abc import Sequence

from sqlalchemy.engine import Engine
from telegram import Bot, BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat
from telegram.error import RetryAfter, TelegramError

from bot.commands import Command, menu_for
from db import staff
from db.engine import session_scope
from db.models import Role, Staff

log = logging.getLogger(__name__)


def fingerprint(menu: Sequence[BotCommand]) -> str:
    listed = json.dumps([[c.command, c.description] for c in menu], ensure_ascii=False)
    return hashlib.sha256(listed.encode()).hexdigest()[:16]


@functools.cache
def role_fingerprint(table: Sequence[Command], role: str) -> str:
    """The fingerprint of a role's menu, as `Staff.menu` holds it once given."""
    return fingerprint(menu_for(table, Role(role)))


def stranger_menu(table: Sequence[Command]) -> list[BotCommand]:
    """What a chat with someone not enrolled offers: enrolling, and nothing of the staff's."""
    return [BotCommand(c.name, c.summary[:256]) for c in table if c.role is None]


async def give_stranger_menu(bot: Bot, table: Sequence[Command]) -> None:
    """The default for every private chat; enrolled people have a menu of their own."""
    await bot.set_my_commands(stranger_menu(table), scope=BotCommandScopeAllPrivateChats())


async def _show(bot: Bot, engine: Engine, table: Sequence[Command], person: Staff) -> None:
    menu = menu_for(table, Role(person.role))
    await bot.set_my_commands(menu, scope=BotCommandScopeChat(person.chat_id))
    # The database off the event loop: start-up gives thousands of menus while alerts go.
    await asyncio.to_thread(_remember, engine, person.id or 0, fingerprint(menu))


def _remember(engine: Engine, staff_id: int, menu: str) -> None:
    with session_scope(engine) as session:
        staff.set_menu(session, staff_id=staff_id, menu=menu)


# People a handler is giving a menu to right now: the start-up pass leaves them to it.
_being_given: set[int] = set()


async def give_menu(bot: Bot, engine: Engine, table: Sequence[Command], person: Staff) -> bool:
    """Show a person their role's menu in their chat and remember it; False if Telegram
    refused (logged; the next start-up tries again). One already being given (by the
    start-up pass) is left to that."""
    if person.id in _being_given:
        return True
    _being_given.add(person.id or 0)
    try:
        await _show(bot, engine, table, person)
    except TelegramError as error:
        log.warning("could not set the command menu for staff %s: %s", person.id, error)
        return False
    finally:
        _being_given.discard(person.id or 0)
    return True


async def on_startup(bot: Bot, engine: Engine, table: Sequence[Command]) -> int:
    """The strangers' default menu, then everyone's own: in the background, so that a
    failure of Telegram's at that moment costs a menu (logged; the next start-up tries
    again), never the start-up itself. How many people were given theirs."""
    try:
        await give_stranger_menu(bot, table)
    except TelegramError as error:
        log.warning("could not set the default command menu: %s", error)
    return await bring_menus_up_to_date(bot, engine, table)


def _without_menu(engine: Engine, menus: dict[Role, str]) -> list[Staff]:
    with session_scope(engine) as session:
        return list(staff.without_menu(session, menus=menus))


def _shows_menu(engine: Engine, person: Staff, menus: dict[Role, str]) -> bool:
    with session_scope(engine) as session:
        current = session.get(Staff, person.id)
    return current is None or current.menu == menus.get(Role(current.role))


async def _show_patiently(bot: Bot, engine: Engine, table: Sequence[Command], person: Staff) -> int:
    """`_show`, waiting out Telegram's flood control up to three times; 1 if shown."""
    for _ in range(3):
        try:
            await _show(bot, engine, table, person)
        except RetryAfter as flood:
            # Menus wait out Telegram's flood control like everything else.
            wait = flood.retry_after
            await asyncio.sleep(wait if isinstance(wait, int) else wait.total_seconds())
            continue
        except TelegramError as error:
            log.warning("could not set the command menu for staff %s: %s", person.id, error)
        else:
            return 1
        return 0
    return 0


async def bring_menus_up_to_date(bot: Bot, engine: Engine, table: Sequence[Command]) -> int:
    """Give their menu to everyone whose chat shows another; how many were given."""
    menus = {role: role_fingerprint(table, role) for role in Role}
    people = await asyncio.to_thread(_without_menu, engine, menus)
    given = 0
    for person in people:
        # Someone who wrote to the bot meanwhile may have been given theirs already, or
        # be being given it now (checked and claimed without a pause between).
        if person.id in _being_given or _shows_menu(engine, person, menus):
            continue
        _being_given.add(person.id or 0)
        try:
            given += await _show_patiently(bot, engine, table, person)
        finally:
            _being_given.discard(person.id or 0)
    if people:
        log.info("command menus given to %d of %d people", given, len(people))
    return given
