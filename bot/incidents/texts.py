"""What a call for help says: to the person, to the leads, the buttons, the list of
open calls. Names come from people and are escaped; times are shown as local time
and UTC by the one helper (`schedules.zones.local_and_utc`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bot import render
from db.models import Staff

TYPE_WHAT = (
    "Type what is happening, or send a photo or your location; it goes straight to "
    "your security team."
)
PASSED_ON = "Passed to your security team."
LOCATION_PASSED_ON = "📍 Location recorded and sent to your security leads."
NO_LEAD = (
    "There is no security lead I can reach. Call your local emergency number or your "
    "organisation's emergency line now."
)
SEND_QUESTION = "Send this to your security team?"
HELP_QUESTION = "Do you need help? The button alerts your security team now, with what you wrote."
SAFE_QUESTION = "Tell your security team you are safe?"
CANCELLED = "Not sent."
# A caption holds 1024 characters; the header and the name take the rest.
MAX_CAPTION_WORDS = 800
# Telegram's message limit, less the header.
MAX_WORDS = 3500

_MEDIA_WORDS = {
    "photo": "a photo",
    "voice": "a voice note",
    "video": "a video",
    "video note": "a video message",
    "audio": "an audio file",
    "document": "a file",
    "animation": "an animation",
}


def profile_link(person: Staff) -> str:
    """A staff member as `render.profile_link` shows them."""
    return render.profile_link(person.display_name, person.telegram_user_id, person.username)


def time_there(countries: Iterable[str], at: datetime) -> str:
    """`at` where the person is (the first of their countries, by code, with one offset
    then), and in UTC: "21:12 Almaty (16:12 UTC)"."""
    return render.time_in(sorted(countries), at, date_too=False)


def alert_keyboard(call_id: int) -> dict[str, Any]:
    """The help alert's buttons, as the Bot API's JSON."""
    return {
        "inline_keyboard": [
            [
                {"text": "I'm handling it", "callback_data": f"hc:own:{call_id}"},
                {"text": "Reply", "callback_data": f"hc:reply:{call_id}"},
            ]
        ]
    }


def reply_keyboard(call_id: int) -> dict[str, Any]:
    return {"inline_keyboard": [[{"text": "Reply", "callback_data": f"hc:reply:{call_id}"}]]}


def take_over_keyboard(call_id: int, owner_id: int) -> dict[str, Any]:
    data = f"hc:take:{call_id}:{owner_id}"
    return {"inline_keyboard": [[{"text": "Take it over", "callback_data": data}]]}


def offer_keyboard(*, help_button: bool, safe_button: bool, send: bool) -> dict[str, Any]:
    """What the bot offers for words typed outside a call for help."""
    row: list[dict[str, str]] = []
    if help_button:
        row.append({"text": "🆘 Alert my security team", "callback_data": "hx:help"})
    if safe_button:
        row.append({"text": "I'm safe", "callback_data": "hx:safe"})
    if send:
        row += [
            {"text": "Send", "callback_data": "hx:send"},
            {"text": "Cancel", "callback_data": "hx:no"},
        ]
    return {"inline_keyboard": [row]}


def _words(text: str | None, limit: int) -> str:
    if not text:
        return ""
    cut = text if len(text) <= limit else text[:limit] + "…"
    return render.esc(cut)


def from_person_text(
    *, person: Staff, call_id: int, kind: str, text: str | None, media: bool
) -> str:
    """A message a person sent during a call for help, as their leads get it (the caption
    of a copy, for a photo or a voice note)."""
    head = f"💬 <b>{profile_link(person)}</b> (call #{call_id})"
    if media:
        words = _words(text, MAX_CAPTION_WORDS)
        sent = f"{head} sent {_MEDIA_WORDS.get(kind, 'a file')}"
        return f"{sent}: “{words}”" if words else f"{sent}."
    return f"{head}:\n{_words(text, MAX_WORDS)}"


def to_person_text(*, lead: Staff, text: str | None, media: bool) -> str:
    """A lead's answer as the person in the call gets it."""
    head = f"💬 <b>{render.esc(lead.display_name)}</b>, your security team"
    if media:
        words = _words(text, MAX_CAPTION_WORDS)
        return f"{head}: “{words}”" if words else f"{head}."
    return f"{head}:\n{_words(text, MAX_WORDS)}"


def to_other_leads_text(
    *, lead: Staff, person: Staff, call_id: int, text: str | None, media: bool
) -> str:
    """A lead's answer as the other leads of the call see it."""
    head = f"↩️ <b>{render.esc(lead.display_name)}</b> to {profile_link(person)} (call #{call_id})"
    if media:
        words = _words(text, MAX_CAPTION_WORDS)
        return f"{head}: “{words}”" if words else f"{head}."
    return f"{head}:\n{_words(text, MAX_WORDS)}"


def handling_line(*, owner: Staff, viewer_id: int, since: str) -> str:
    who = "You are" if owner.id == viewer_id else f"{render.esc(owner.display_name)} is"
    return f"👤 <b>{who} handling this</b>, since {since}."


def on_it_text(lead: Staff) -> str:
    return f"👤 {render.esc(lead.display_name)} from your security team is on it."


def take_over_question(*, owner: Staff, since: str) -> str:
    return (
        f"{render.esc(owner.display_name)} has been handling this call since {since}. Take it over?"
    )


def reply_prompt(*, person: Staff, call_id: int) -> str:
    return (
        f"↩️ Your next message goes to {profile_link(person)} (call #{call_id}); "
        "text, a photo, a voice note or a location."
    )


def resolved_to_person(call_id: int) -> str:
    return (
        f"✅ Your security team has closed your call for help (#{call_id}). "
        "If you need help again, send /help_me."
    )


def resolved_to_leads(*, lead: Staff, person: Staff, call_id: int) -> str:
    return (
        f"✅ Call #{call_id} for {profile_link(person)} was closed by "
        f"{render.esc(lead.display_name)}."
    )


def age(opened_at: datetime, now: datetime) -> str:
    minutes = max(0, int((now - opened_at).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours < 48 else f"{hours // 24} days"
