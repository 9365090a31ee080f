"""The command table: registration, the gates, the menus and /help all agree with it."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from telegram.ext import CommandHandler

from bot import menus
from bot.access import GATES
from bot.app import COMMANDS
from bot.commands import commands_for, help_text, menu_for
from bot.incidents.texts import HELP_QUESTION
from bot.settings import BotSettings
from bot.sim.telegram.server import FakeTelegram
from db import staff
from db.engine import session_scope
from db.models import Delivery, Role
from tests.harness import ADMIN_ID, MutableClock, RunningBot, running_bot


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
        assert menu == [c.name for c in commands_for(COMMANDS, role)]
        text = help_text(COMMANDS, role)
        # Their own role's commands in full, one line each, in the table's order...
        in_full = re.findall(r"^/(\w+)", text, flags=re.M)
        assert in_full == [c.name for c in COMMANDS if c.role is role and c.listed]
        # ...and for each lower role, a line with its urgent commands and the way to all.
        for other in (r for r in Role if r.rank < role.rank):
            theirs = [c for c in COMMANDS if c.role is other and c.listed]
            urgent = [c.name for c in theirs if c.task == theirs[0].task]
            (line,) = [x for x in text.split("\n") if x.endswith(f"(all: /help {other.value})")]
            assert re.findall(r"/(\w+)", line.split(": ", 1)[1].split(" (all:")[0]) == urgent
    staff_menu = {c.command for c in menu_for(COMMANDS, Role.STAFF)}
    assert {"help", "safe", "help_me", "subscribe"} <= staff_menu
    assert not staff_menu & {"broadcast", "checkin", "invite", "start"}
    assert {"broadcast", "checkin"} <= {c.command for c in menu_for(COMMANDS, Role.LEAD)}


def test_help_puts_the_urgent_first_and_fits_a_phone_screen() -> None:
    staff_help = help_text(COMMANDS, Role.STAFF)
    assert re.findall(r"^/(\w+)", staff_help, flags=re.M)[:3] == ["safe", "help_me", "curfew"]
    assert staff_help.split("\n")[1] == "<b>🆘 In an emergency</b>"
    lead_help = help_text(COMMANDS, Role.LEAD)
    assert re.findall(r"^/(\w+)", lead_help, flags=re.M)[:3] == ["checkin", "roll", "broadcast"]
    for role in Role:
        text = help_text(COMMANDS, role)
        visible = html.unescape(re.sub(r"<[^>]+>", "", text))
        # A phone shows about 32 lines of 44 characters: each line counted as it wraps.
        rows = sum(max(1, -(-len(line) // 44)) for line in visible.split("\n"))
        assert rows <= 32, (role, rows)
        for shown in (r for r in Role if r.rank <= role.rank):
            full = help_text(COMMANDS, role, shown=shown)
            assert all(f"\n/{c.name}" in full for c in COMMANDS if c.role is shown and c.listed)


async def test_help_names_a_role_the_person_holds(bot: RunningBot) -> None:
    sam = bot.enrol("Sam Staff")
    assert await bot.say(sam.telegram_user_id, "/help lead") == (
        "/help lead lists commands you do not have; /help shows yours."
    )
    assert await bot.say(sam.telegram_user_id, "/help something") == (
        f"{HELP_QUESTION}\n(/help alone lists what you can do.)"
    )
    as_staff = await bot.say(ADMIN_ID, "/help staff")
    assert "\n/safe [note]: tell your security team you are safe" in as_staff
    assert "<b>As an admin</b>: /invite" in as_staff


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


def _names(menu: list[dict[str, str]] | None) -> list[str]:
    return [c["command"] for c in menu or []]


def _decoded(value: Any) -> Any:
    """A parameter as the bot sent it: JSON in a form field, or already decoded."""
    return json.loads(value) if isinstance(value, str) else value


def _chat_scope(chat_id: int) -> str:
    return f'{{"chat_id":{chat_id},"type":"chat"}}'


async def test_a_stranger_is_offered_only_enrolment_and_a_new_person_gets_their_menu(
    bot: RunningBot,
) -> None:
    everyone = '{"type":"all_private_chats"}'
    # Set in the background at start-up, so that nothing waits for menus.
    await bot.fake.await_for(lambda f: everyone in f.commands_by_scope)
    default = bot.fake.commands_by_scope[everyone]
    assert _names(default) == ["start"]  # not /help_me, not anything of the staff's
    code = re.search(r"\?start=([\w-]+)", await bot.say(ADMIN_ID, "/invite"))
    assert code is not None
    assert "enrolled as staff" in await bot.say(7_000_321, f"/start {code.group(1)}")
    await bot.fake.await_for(
        lambda f: (
            _names(f.commands_by_scope.get(_chat_scope(7_000_321)))
            == [c.command for c in menu_for(COMMANDS, Role.STAFF)]
        )
    )


async def test_start_up_gives_menus_only_to_people_whose_menu_is_not_their_roles(
    settings: BotSettings, engine: Engine, fake: FakeTelegram, clock: MutableClock
) -> None:
    with session_scope(engine) as session:
        people = {
            role: staff.enrol(
                session,
                telegram_user_id=8_000_000 + role.rank,
                chat_id=8_000_000 + role.rank,
                display_name=f"{role} person",
                username=None,
                role=role,
            )
            for role in Role
        }
        # Someone whose chat already shows the staff menu, and a lead whose chat still
        # shows the menu of staff (promoted while the bot was down).
        for chat_id, role, shown in (
            (8_000_010, Role.STAFF, Role.STAFF),
            (8_000_011, Role.LEAD, Role.STAFF),
        ):
            person = staff.enrol(
                session,
                telegram_user_id=chat_id,
                chat_id=chat_id,
                display_name="Up to date",
                username=None,
                role=role,
            )
            staff.set_menu(
                session, staff_id=person.id or 0, menu=menus.role_fingerprint(COMMANDS, shown)
            )

    def menus_given() -> dict[int, list[str]]:
        given = {}
        for method, params in fake.calls:
            scope, commands = (_decoded(params.get(name)) for name in ("scope", "commands"))
            if method == "setMyCommands" and scope.get("type") == "chat":
                given[int(scope["chat_id"])] = _names(commands)
        return given

    async with running_bot(settings, engine=engine, fake=fake, clock=clock) as bot:
        assert bot.services.menu_task is not None
        assert await bot.services.menu_task == 4
    assert menus_given() == {
        **{p.chat_id: [c.command for c in menu_for(COMMANDS, role)] for role, p in people.items()},
        8_000_011: [c.command for c in menu_for(COMMANDS, Role.LEAD)],
    }

    # Started again, nobody's menu needs changing: only the strangers' default is set.
    before = len(fake.calls)
    async with running_bot(settings, engine=engine, fake=fake, clock=clock) as bot:
        assert bot.services.menu_task is not None
        assert await bot.services.menu_task == 0
    assert [m for m, _ in fake.calls[before:] if m == "setMyCommands"] == ["setMyCommands"]


async def test_a_menu_telegram_refuses_at_start_up_costs_the_menu_never_the_start(
    settings: BotSettings,
    engine: Engine,
    fake: FakeTelegram,
    clock: MutableClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake.fail_next("setMyCommands", status=502, description="Bad Gateway")
    async with running_bot(settings, engine=engine, fake=fake, clock=clock) as bot:
        assert bot.services.menu_task is not None
        await bot.services.menu_task
        # The bot is up and answering all the same.
        assert "/source_add" in await bot.say(ADMIN_ID, "/help")
    assert "could not set the default command menu: Bad Gateway" in caplog.text


async def test_an_edited_command_does_nothing_again(bot: RunningBot) -> None:
    """Editing "/help_me" (or any message) is not a new request: no second call for help,
    no second reply, not even to text that is no command."""
    lena = bot.enrol("Lena Lead", role=Role.LEAD, answers_for=("KZ",))
    sam = bot.enrol("Sam Staff", countries=("KZ",))
    update = bot.fake.inject_message(sam.telegram_user_id, "/help_me Car crash")
    await bot.fake.await_for(lambda f: len(f.messages_to(lena.chat_id)) == 1)
    await bot.fake.await_for(lambda f: len(f.messages_to(sam.chat_id)) == 1)
    # While his call for help is open, what Sam types goes to Lena too.
    typed = bot.fake.inject_message(sam.telegram_user_id, "hello")
    await bot.fake.await_for(lambda f: len(f.messages_to(sam.chat_id)) == 2)
    await bot.fake.await_for(lambda f: len(f.messages_to(lena.chat_id)) == 2)

    message_id = update["message"]["message_id"]
    bot.fake.inject_edit(sam.telegram_user_id, message_id, "/help_me Car crash, two hurt")
    bot.fake.inject_edit(sam.telegram_user_id, typed["message"]["message_id"], "/help_me")
    await bot.settled()
    # Whatever the bot does next is after the edits: a reply to this shows it is done.
    assert "What you can do" in await bot.say(sam.telegram_user_id, "/help")
    bot.services.wake_dispatcher()
    await bot.settled()
    assert len(bot.fake.messages_to(sam.chat_id)) == 3
    assert len(bot.fake.messages_to(lena.chat_id)) == 2
    with session_scope(bot.engine) as session:
        assert len(session.exec(select(Delivery)).all()) == 2
