"""The command catalogue: one list drives /help and the client's command menu."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import BotCommand

from db.models import Role


@dataclass(frozen=True)
class Command:
    name: str
    args: str
    summary: str
    role: Role


CATALOGUE: tuple[Command, ...] = (
    Command("help", "", "what you can do here", Role.STAFF),
    Command(
        "subscribe", "<country>", "get alerts for a country, e.g. /subscribe Kazakhstan", Role.STAFF
    ),
    Command("unsubscribe", "<country>", "stop alerts for a country", Role.STAFF),
    Command("subscriptions", "", "the countries you follow", Role.STAFF),
    Command("safe", "[note]", "tell your security team you are safe", Role.STAFF),
    Command("help_me", "[note]", "alert your security leads now", Role.STAFF),
    Command("curfew", "", "curfews where you are, in local time and UTC", Role.STAFF),
    Command("remind", "<minutes|off>", "when to remind you before a curfew starts", Role.STAFF),
    Command("export_me", "", "everything Dutybot stores about you, as a file", Role.STAFF),
    Command("forget_me", "", "delete your data from Dutybot (asks first)", Role.STAFF),
    Command("broadcast", "<country> <text>", "send a message to a country's staff", Role.LEAD),
    Command("countries", "", "countries with subscribers and how many", Role.LEAD),
    Command("lead", "[country]", "the countries you lead; /lead KZ adds one", Role.LEAD),
    Command("unlead", "<country>", "stop leading a country", Role.LEAD),
    Command(
        "checkin",
        "<country> [message] [deadline]",
        "start a safety roll call, e.g. /checkin KZ Are you safe? 2h",
        Role.LEAD,
    ),
    Command("roll", "[round|country]", "who is safe, needs help or has not answered", Role.LEAD),
    Command("roll_csv", "<round|country>", "a roll call as a CSV file", Role.LEAD),
    Command("checkin_end", "<round|country>", "close a roll call now", Role.LEAD),
    Command("acks", "<alert id>", "who acknowledged a departure advisory", Role.LEAD),
    Command(
        "curfew_set",
        "<country> [area] <start>-<end> [until <date>]",
        "set a curfew, e.g. /curfew_set KZ Almaty 23:00-07:00",
        Role.LEAD,
    ),
    Command("curfew_end", "<id>", "lift a curfew early", Role.LEAD),
    Command("curfews", "[country]", "active curfews with their ids", Role.LEAD),
    Command("invite", "[lead]", "create a single-use invite link", Role.ADMIN),
    Command("promote", "<@user|id> [lead|admin]", "raise someone's role", Role.ADMIN),
    Command("demote", "<@user|id>", "lower someone's role", Role.ADMIN),
    Command("staff", "", "everyone enrolled, with role and countries", Role.ADMIN),
    Command("sources", "", "official feeds polled, with their health", Role.ADMIN),
    Command("source_add", "<kind> <url> [country]", "poll another feed", Role.ADMIN),
    Command("source_remove", "<id>", "stop polling a feed", Role.ADMIN),
)


def commands_for(role: Role) -> list[Command]:
    return [c for c in CATALOGUE if c.role.rank <= role.rank]


def menu_for(role: Role) -> list[BotCommand]:
    return [BotCommand(c.name, c.summary[:256]) for c in commands_for(role)]


def help_text(role: Role) -> str:
    lines = ["<b>What you can do</b>"]
    for command in commands_for(role):
        usage = f"/{command.name} {command.args}".strip()
        lines.append(f"{usage.replace('<', '&lt;').replace('>', '&gt;')}: {command.summary}")
    return "\n".join(lines)
