"""The command table: registration, the gates, the menus and /help all agree with it."""

from __future__ import annotations

import re

from telegram.ext import CommandHandler

from bot.access import GATES
from bot.app import COMMANDS
from bot.commands import commands_for, help_text, menu_for
from db.models import Role
from tests.harness import ADMIN_ID, RunningBot


def test_each_handler_asks_for_the_role_its_row_gives() -> None:
    for command in COMMANDS:
        assert GATES.get(command.handler) == command.role, command.name
    assert len({c.name for c in COMMANDS}) == len(COMMANDS)


def test_every_command_is_registered_once_with_its_handler(bot: RunningBot) -> None:
    registered = [
        (name, handler.callback)
        for group in bot.application.handlers.values()
        for handler in group
        if isinstance(handler, CommandHandler)
        for name in handler.commands
    ]
    assert registered == [(c.name, c.handler) for c in COMMANDS]


def test_help_lists_exactly_the_menu_of_each_role() -> None:
    for role in Role:
        menu = [c.command for c in menu_for(COMMANDS, role)]
        helped = re.findall(r"^/(\w+)", help_text(COMMANDS, role), flags=re.M)
        assert helped == menu == [c.name for c in commands_for(COMMANDS, role)]
    staff_menu = {c.command for c in menu_for(COMMANDS, Role.STAFF)}
    assert {"help", "safe", "help_me", "subscribe"} <= staff_menu
    assert not staff_menu & {"broadcast", "checkin", "invite", "start"}
    assert {"broadcast", "checkin"} <= {c.command for c in menu_for(COMMANDS, Role.LEAD)}


async def test_an_admin_named_in_the_settings_gets_the_admin_menu_on_first_contact(
    bot: RunningBot,
) -> None:
    admin_menu = [
        {"command": c.command, "description": c.description} for c in menu_for(COMMANDS, Role.ADMIN)
    ]
    scope = f'{{"chat_id":{ADMIN_ID},"type":"chat"}}'
    assert scope not in bot.fake.commands_by_scope
    reply = await bot.say(ADMIN_ID, "/help")
    assert "/source_add" in reply
    await bot.fake.await_for(lambda f: f.commands_by_scope.get(scope) == admin_menu)
    await bot.say(ADMIN_ID, "/help")
    setting = [method for method, _ in bot.fake.calls if method == "setMyCommands"]
    assert len(setting) == 2  # everyone's default at start-up, then hers, once
