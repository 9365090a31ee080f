"""The shape of the command table and what is built from it: the client's command menu
for each role and the /help text. The table itself, with each command's handler, is
`bot.app.COMMANDS`, next to the rest of the wiring; the running bot keeps it in
`Services.commands`."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from telegram import BotCommand, Update

from db.models import Role

Handler = Callable[[Update, Any], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class Command:
    """One command: its name, the arguments and line /help shows, the least role that may
    use it (None: anyone, as /start for a stranger with an invite), and its handler."""

    name: str
    args: str
    summary: str
    role: Role | None
    handler: Handler
    listed: bool = True  # in the menu and in /help
    task: str = ""  # the heading /help lists it under


def commands_for(table: Sequence[Command], role: Role) -> list[Command]:
    """The listed commands a person holding `role` may use, in the table's order."""
    return [c for c in table if c.listed and (c.role is None or c.role.rank <= role.rank)]


def menu_for(table: Sequence[Command], role: Role) -> list[BotCommand]:
    return [BotCommand(c.name, c.summary[:256]) for c in commands_for(table, role)]


# The tasks /help groups commands under, in the order a person in a crisis needs them.
EMERGENCY = "🆘 In an emergency"
ALERTS = "🔔 Alerts"
TRAVEL = "✈️ Travel"
YOURSELF = "👤 You"
REACH = "🚨 Reach your people"
CALLS = "🆘 Calls for help"
CURFEWS = "🌙 Curfews"
COVERAGE = "🌍 Alerts and countries"
PEOPLE = "👥 People"
SOURCES = "📡 Official sources"


def _line(command: Command) -> str:
    usage = f"/{command.name} {command.args}".strip()
    return f"{usage.replace('<', '&lt;').replace('>', '&gt;')}: {command.summary}"


def help_text(table: Sequence[Command], role: Role, *, shown: Role | None = None) -> str:
    """/help: the commands of one role (the person's own unless `shown`, which must be one
    they hold) in full, grouped by task with the urgent first; for each other role they
    hold, one line with its urgent commands and the way to the rest, so that every
    role's help fits one phone screen."""
    shown = shown or role
    own = [c for c in commands_for(table, role) if c.role is shown]
    lines = ["<b>What you can do</b>"]
    task = None
    for command in own:
        if command.task != task:
            task = command.task
            lines.append(f"<b>{task}</b>")
        lines.append(_line(command))
    others = [r for r in Role if r.rank <= role.rank and r is not shown]
    for other in sorted(others, key=lambda r: -r.rank):
        # The first task's commands (the urgent ones), and the way to the rest.
        theirs = [c for c in commands_for(table, other) if c.role is other]
        first = [f"/{c.name}" for c in theirs if c.task == theirs[0].task]
        more = " …" if len(first) < len(theirs) else ""
        lines.append(
            f"<b>As {_ROLE_NAMES[other]}</b>: {' '.join(first)}{more} (all: /help {other.value})"
        )
    return "\n".join(lines)


_ROLE_NAMES = {Role.STAFF: "staff", Role.LEAD: "a security lead", Role.ADMIN: "an admin"}


def promotion_text(table: Sequence[Command], old: Role, new: Role) -> str:
    """What a promoted person is told: their new role and the commands it adds."""
    before = {c.name for c in commands_for(table, old)}
    lines = [f"<b>You are now {_ROLE_NAMES[new]}.</b> You can now also use:"]
    for command in commands_for(table, new):
        if command.name not in before:
            lines.append(_line(command))
    if new is Role.LEAD:
        lines.append("\nStart with /lead &lt;country&gt; for each country you answer for.")
    lines.append("/help lists everything you can do.")
    return "\n".join(lines)
