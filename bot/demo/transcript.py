"""The replay's transcript: what each person's Telegram showed, and when, as text.

It is read from what the simulated Telegram accepted from the bot (messages, edits and
pop-ups), with the script's own scenes and actions in between.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.demo.people import CITY, PEOPLE, ZONE, Person
from bot.sim.telegram.server import FakeTelegram
from bot.sim.telegram.state import SentMessage
from bot.sim.telegram.validation import check_message_text
from schedules import zones

WIDTH = 92


@dataclass(frozen=True)
class Entry:
    """One line of the story: a scene, something a person did, or what their Telegram showed."""

    at: datetime
    order: float  # time.monotonic(): the order things really happened in
    kind: str  # "scene", "action", "popup", "message", "edit"
    people: tuple[Person, ...] = ()
    text: str = ""
    buttons: tuple[str, ...] = ()
    subject: str = ""  # for an edit: the first line of the message edited


@dataclass
class Transcript:
    entries: list[Entry] = field(default_factory=list)

    def received(self, person: Person) -> list[Entry]:
        """What `person`'s Telegram showed: messages and edits, in order."""
        return [e for e in self.entries if e.kind in ("message", "edit") and person in e.people]

    def render(self) -> str:
        lines = [
            "Dutybot replay: Kazakhstan, January 2022",
            "The real bot against a simulated Telegram and simulated official feeds, on this",
            "machine only: no token, no network. Times are Almaty local time (UTC+6 in January",
            "2022, from the time-zone database) and UTC. What each person “sends” or “presses”",
            "is the script playing them; every message, edit and pop-up shown is what the",
            "simulated Telegram received from the bot.",
            "",
            "People:",
            *(f"  {p.name} (@{p.username}), {p.label}" for p in PEOPLE),
        ]
        for entry in self.entries:
            lines.extend(_render_entry(entry))
        return "\n".join(lines) + "\n"


def _stamp(instant: datetime) -> str:
    local = zones.utc_to_local(ZONE, instant)
    utc = instant.astimezone(UTC)
    utc_day = "" if utc.date() == local.date() else f" {utc:%d %b}"
    return f"{local:%H:%M} {CITY} ({utc:%H:%M} UTC{utc_day})"


def _indent(text: str) -> list[str]:
    out: list[str] = []
    for line in text.splitlines() or [""]:
        wrapped = textwrap.wrap(line, WIDTH - 6, break_on_hyphens=False) or [""]
        out.extend(f"      {part}".rstrip() for part in wrapped)
    return out


def _wrap(line: str) -> list[str]:
    return textwrap.wrap(line, WIDTH, subsequent_indent=" " * 6, break_on_hyphens=False)


def _render_entry(entry: Entry) -> list[str]:
    if entry.kind == "scene":
        local = zones.utc_to_local(ZONE, entry.at)
        offset = zones.utc_offset_label(ZONE, entry.at)
        heading = f"{local:%A} {local.day} {local:%B %Y} ({CITY}, {offset}): {entry.text}"
        return ["", "═" * WIDTH, *textwrap.wrap(heading, WIDTH), "═" * WIDTH]
    who = ", ".join(p.first for p in entry.people)
    if entry.kind == "action":
        return ["", *_wrap(f"  {_stamp(entry.at)}  {who} {entry.text}")]
    if entry.kind == "popup":
        return _wrap(f"  {_stamp(entry.at)}  {who}'s Telegram shows a pop-up: “{entry.text}”")
    if entry.kind == "edit":
        return [
            "",
            *_wrap(f"  {_stamp(entry.at)}  {who}'s message “{entry.subject}” is edited to show:"),
            *_indent(entry.text),
        ]
    buttons = "  ".join(f"[ {b} ]" for b in entry.buttons)
    return [
        "",
        f"  {_stamp(entry.at)}  to {who}:",
        *_indent(entry.text),
        *([f"      {buttons}"] if buttons else []),
    ]


def _buttons(markup: dict[str, Any] | None) -> tuple[str, ...]:
    rows = (markup or {}).get("inline_keyboard") or []
    return tuple(str(button.get("text", "")) for row in rows for button in row)


def shown(text: str, parse_mode: str | None) -> str:
    """The text as a Telegram client shows it: the HTML parsed away as Telegram does."""
    return check_message_text(text, parse_mode) if text else ""


def first_line(message: SentMessage) -> str:
    return shown(message.text, message.parse_mode).splitlines()[0]


def transcript_of(
    own: Sequence[Entry], fake: FakeTelegram, bot_time: Callable[[float], datetime]
) -> Transcript:
    """The story: the script's own entries and every message and edit the simulated
    Telegram accepted for the people of the replay, each dated by `bot_time`, the time
    the bot believed it was at that moment of the monotonic clock."""
    by_chat = {p.telegram_id: p for p in PEOPLE}
    entries = list(own)
    originals: dict[tuple[int, int], str] = {}
    for message in fake.sent:
        person = by_chat.get(message.chat_id)
        if person is None:
            continue
        text = shown(message.text, message.parse_mode)
        if message.method == "sendDocument":
            text = f"📎 {message.filename or 'a file'}" + (f"\n{text}" if text else "")
        originals[(message.chat_id, message.message_id)] = text
        entries.append(
            Entry(
                at=bot_time(message.at),
                order=message.at,
                kind="message",
                people=(person,),
                text=text,
                buttons=_buttons(message.reply_markup),
            )
        )
    entries.extend(_edits(fake, originals, by_chat, bot_time))
    entries.sort(key=lambda e: e.order)
    return Transcript(entries=_merge_same(entries))


def _edits(
    fake: FakeTelegram,
    originals: dict[tuple[int, int], str],
    by_chat: dict[int, Person],
    bot_time: Callable[[float], datetime],
) -> list[Entry]:
    found = []
    current = dict(originals)
    for edit in fake.edits:
        person = by_chat.get(edit.chat_id)
        key = (edit.chat_id, edit.message_id)
        if person is None or edit.text is None or key not in current:
            continue  # a change of buttons only
        before = current[key]
        after = shown(edit.text, edit.parse_mode)
        current[key] = after
        old_lines = set(before.splitlines())
        changed = [line for line in after.splitlines() if line not in old_lines]
        found.append(
            Entry(
                at=bot_time(edit.at),
                order=edit.at,
                kind="edit",
                people=(person,),
                text="\n".join(changed) or after,
                subject=(originals[key].splitlines() or [""])[0],
                buttons=_buttons(edit.reply_markup),
            )
        )
    return found


def _merge_same(entries: Sequence[Entry]) -> list[Entry]:
    """The same message to several people at the same minute is shown once, to all of them.

    A message joins an earlier one only when nothing else reached that person in between,
    so each person's messages stay in the order they arrived.
    """
    merged: list[Entry] = []
    for entry in entries:
        target = None
        if entry.kind == "message":
            for index in range(len(merged) - 1, -1, -1):
                earlier = merged[index]
                if (
                    earlier.kind == "message"
                    and earlier.text == entry.text
                    and earlier.buttons == entry.buttons
                    and _stamp(earlier.at) == _stamp(entry.at)
                    and not set(earlier.people) & set(entry.people)
                ):
                    target = index
                    break
                if set(earlier.people) & set(entry.people) or earlier.kind == "scene":
                    break
        if target is None:
            merged.append(entry)
        else:
            earlier = merged[target]
            merged[target] = Entry(
                at=earlier.at,
                order=earlier.order,
                kind=earlier.kind,
                people=tuple(sorted(earlier.people + entry.people, key=PEOPLE.index)),
                text=earlier.text,
                buttons=earlier.buttons,
            )
    return merged
