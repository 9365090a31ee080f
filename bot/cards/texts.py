"""A country card in words, and the emergency numbers and embassy contacts a lead types."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from bot import render
from bot.curfews.texts import local_today, next_night, occurrence_of, place, until_text
from db.cards import Advisory
from db.curfews import days_of
from db.models import Curfew, Staff
from db.refusal import Refusal
from schedules import zones
from schedules.countries import country
from schedules.curfew_times import days_text

CARD_SET_USAGE = (
    "Usage: /card_set <country> <entries separated by ;>, e.g. /card_set KZ Police 102; "
    "Ambulance 103; US Embassy Astana +7 7172 70 21 00. /card_set KZ alone clears them."
)
MAX_ENTRIES = 12
MAX_ENTRY = 100
# Words that clear the list, as an empty /card_set does.
_CLEAR_WORDS = {"clear", "none", "off", "-"}
MAX_LEADS_SHOWN = 6
MAX_LEAD_NAME = 40  # characters of each lead's name shown
MAX_CURFEWS_SHOWN = 4


def card_zone(code: str) -> str:
    """The zone a card's times are shown in: the country's most populous one."""
    found = zones.zones_for_country(code)
    return found[0] if found else "UTC"


def _heading(code: str) -> str:
    return f"📌 <b>{render.esc(country(code).label())}</b>"


def _advisory_lines(advisory: Advisory) -> list[str]:
    lines = [
        f"<b>Advisory level {advisory.level}</b> since {advisory.level_at:%d %b %Y}"
        if advisory.level is not None and advisory.level_at is not None
        else "Advisory level: none from official sources yet."
    ]
    if advisory.departure and advisory.departure_at is not None:
        lines.append(
            f"🚨 <b>Departure advisory in force</b> since {advisory.departure_at:%d %b %Y} "
            f"(alert {advisory.departure_alert_id})."
        )
    else:
        lines.append("No departure advisory.")
    return lines


def curfew_line(curfew: Curfew, *, now: datetime) -> str | None:
    """ "🌙 Curfew in Almaty (Kazakhstan), tonight (06 Jan) 23:00 Almaty (17:00 UTC) to
    07:00 Almaty (01:00 UTC), until 19 January 2022"; "in force now" for last night's
    until it ends, "next Saturday" for one on some days; None when it has no night left."""
    today = local_today(curfew.zone, now)
    yesterday = today - timedelta(days=1)
    night = next_night(curfew, today)
    if (
        next_night(curfew, yesterday) == yesterday
        and occurrence_of(curfew, yesterday).ends_at > now
    ):
        night = yesterday  # last night's, still in force this morning
    if night is None:
        return None
    day = night if not curfew.continuous else curfew.first_day
    occ = occurrence_of(curfew, day)
    if curfew.continuous:
        # It does not lift in the morning: both ends with their dates.
        start = zones.local_and_utc(curfew.zone, occ.starts_at, date_too=True)
        end = zones.local_and_utc(curfew.zone, occ.ends_at, date_too=True)
        when = f"without a break from {start} to {end}."
    else:
        start = zones.local_and_utc(curfew.zone, occ.starts_at, date_too=False)
        end = zones.local_and_utc(curfew.zone, occ.ends_at, date_too=False)
        on = days_text(days_of(curfew.days))
        night_is = {today: "tonight", yesterday: "in force now"}.get(day, f"next {day:%A}")
        when = (
            f"{night_is} ({day:%d %b}) {start} to {end}, {on + ', ' if on else ''}"
            f"{until_text(curfew.last_day)}."
        )
    return render.esc(f"🌙 Curfew in {place(curfew)}, {when}").replace(
        "🌙 Curfew", "🌙 <b>Curfew</b>", 1
    )


def card_text(
    *,
    code: str,
    advisory: Advisory,
    curfews: Sequence[Curfew],
    leads: Sequence[Staff],
    contacts: Sequence[str],
    now: datetime,
) -> str:
    """The card of a country as every follower sees it (well under 4096 characters: the
    lists are bounded)."""
    lines = [_heading(code), *_advisory_lines(advisory)]
    nights = [line for c in curfews if (line := curfew_line(c, now=now)) is not None]
    lines.extend(nights[:MAX_CURFEWS_SHOWN] or ["No curfew."])
    if len(nights) > MAX_CURFEWS_SHOWN:
        lines.append(f"… and {len(nights) - MAX_CURFEWS_SHOWN} more: /curfew lists them.")
    if leads:
        shown = [
            render.profile_link(p.display_name[:MAX_LEAD_NAME], p.telegram_user_id, p.username)
            for p in leads[:MAX_LEADS_SHOWN]
        ]
        more = len(leads) - MAX_LEADS_SHOWN
        lines.append(
            f"<b>Your security leads</b>: {', '.join(shown)}"
            + (f" and {more} more" if more > 0 else "")
        )
    else:
        lines.append("<b>Your security leads</b>: none yet.")
    lines.append("<b>Emergency numbers and embassy</b>")
    if contacts:
        lines.extend(f"• {render.esc(entry)}" for entry in contacts)
    else:
        lines.append(f"None set yet (a lead adds them: /card_set {code}).")
    stamp = zones.local_and_utc(card_zone(code), now)
    lines.append(f"<i>Updated {render.esc(stamp)}.</i>")
    return "\n".join(lines)


def without_stamp(text: str) -> str:
    """A card's text but its last line, the time it was made."""
    return text.rsplit("\n", 1)[0]


def unfollowed_text(*, code: str, now: datetime) -> str:
    """What a card says once its country is no longer followed (and it is unpinned)."""
    stamp = zones.local_and_utc(card_zone(code), now)
    return (
        f"{_heading(code)}\nYou no longer follow {render.esc(country(code).name)}, so this "
        f"card is no longer kept up to date. /subscribe {code} follows it again.\n"
        f"<i>Since {render.esc(stamp)}.</i>"
    )


def parse_contacts(raw: str) -> list[str]:
    """Entries separated by ";" or line breaks, spaces tidied; none (or "clear") clears.
    A `Refusal` saying what is wrong, and that nothing changed, when one is no contact."""
    if raw.strip().casefold() in _CLEAR_WORDS:
        return []
    entries = [" ".join(part.split()) for part in re.split(r"[;\n]", raw)]
    entries = [entry for entry in entries if entry]
    if len(entries) > MAX_ENTRIES:
        raise Refusal(
            f"That is {len(entries)} entries; a card holds at most {MAX_ENTRIES}. "
            "Nothing was changed."
        )
    for entry in entries:
        if len(entry) > MAX_ENTRY:
            raise Refusal(
                f"“{entry[:40]}…” is {len(entry)} characters; keep each entry under "
                f"{MAX_ENTRY}. Nothing was changed."
            )
        if not any(ch.isdigit() for ch in entry) and "@" not in entry and "://" not in entry:
            raise Refusal(
                f"“{entry}” has no number or address; write each entry as a name and a "
                f"number, e.g. “Police 102”. Nothing was changed.\n{CARD_SET_USAGE}"
            )
    return entries
