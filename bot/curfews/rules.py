"""Curfew rules, without Telegram: drafts, proposals read from alerts, a lead's decision,
ending, and the reminders and "curfew over" notices due now.

Reminders are planned from the database, with a stable key per person, night and
curfew, so a restart or a second run at the same time never sends one twice; one whose
time passed more than `GRACE` ago while the bot was down is skipped, not sent late.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session

from bot import render
from bot.access import require_answers_for
from bot.cards.rules import refresh_country_cards
from bot.context import Services
from bot.curfews.parsing import CurfewRequest
from bot.curfews.texts import (
    describe,
    keyboard,
    local_today,
    occurrence_of,
    place,
    proposal_text,
    spec_of,
    until_text,
)
from bot.whereabouts.rules import own_zones
from db import audit, curfews, deliveries, staff, subscriptions
from db import leads as lead_rules
from db.curfews import days_of
from db.deliveries import Recipient
from db.engine import session_scope
from db.models import Curfew, CurfewStatus, DeliveryKind, Priority, Staff
from db.refusal import Refusal
from schedules import zones
from schedules.curfew_text import FoundCurfew, Lift, Reading, placements
from schedules.curfew_times import days_text
from schedules.reminders import (
    PlannedNotice,
    PlannedReminder,
    plan_curfew_notices,
    plan_curfew_reminders,
    render_notice,
    render_reminder,
)
from schedules.zones import local_and_utc, utc_offset

log = logging.getLogger(__name__)

GRACE = timedelta(minutes=5)  # a reminder this late is still useful; later, it is skipped


def tell_subscribers(
    session: Session, *, curfew: Curfew, text: str, key: str, now: datetime
) -> int:
    people = subscriptions.subscribers(session, country=curfew.country, now=now)
    recipients = [Recipient(p.id or 0, p.chat_id) for p in people if p.reachable]
    deliveries.enqueue(
        session,
        kind=DeliveryKind.CURFEW_NOTICE,
        dedupe_key=key,
        recipients=recipients,
        parts=render.split_html("", text),
        priority=Priority.HIGH,
        now=now,
    )
    return len(recipients)


def propose_curfews(
    session: Session,
    *,
    country: str,
    windows: Sequence[FoundCurfew],
    published: date,
    now: datetime,
    alert_id: int | None = None,
    leads: Sequence[Staff] | None = None,
) -> list[int]:
    """Offer each curfew window read from a text (`find_curfews`) to leads; returns the
    proposal ids.

    Alerts from feeds go to that country's leads; a text a lead pasted goes back to that
    lead. Nothing becomes a curfew without a lead's Confirm. A stated UTC window that
    disagrees with the time-zone database is pointed out, not trusted and not hidden.
    """
    ids: list[int] = []
    recipients = (
        leads if leads is not None else list(lead_rules.leads_for_country(session, country=country))
    )
    for found in windows:
        # The place named decides the zone; else the country's only offset that day;
        # else the offset that agrees with the stated UTC times, or the capital's.
        try:
            zone = placements(found, country, published)[0][0]
        except ValueError:
            log.warning("curfew found but no zone for %s/%s", country, found.area)
            continue
        curfew = curfews.create(
            session,
            country=country,
            area=found.area,
            zone=zone,
            start=f"{found.window.start:%H:%M}",
            end=f"{found.window.end:%H:%M}",
            first_day=found.from_day or published,
            last_day=found.until,
            continuous=found.from_day is not None,
            days=found.days,
            status=CurfewStatus.PROPOSED,
            now=now,
            alert_id=alert_id,
            stated_utc=found.stated_utc.label() if found.stated_utc else None,
            sentence=found.sentence[:2000],
        )
        assert curfew.id is not None
        ids.append(curfew.id)
        deliveries.enqueue(
            session,
            kind=DeliveryKind.CURFEW_PROPOSAL,
            dedupe_key=f"curfew-proposal:{curfew.id}",
            recipients=[Recipient(p.id or 0, p.chat_id) for p in recipients if p.reachable],
            parts=[proposal_text(curfew, found, published)],
            priority=Priority.HIGH,
            now=now,
            reply_markup=keyboard(curfew.id, proposal=True),
        )
    return ids


def offer_curfew_ends(
    session: Session, *, country: str, reading: Reading, text: str, now: datetime, alert_id: int
) -> list[int]:
    """When an alert (`text`, as `read_alert` read it) says a curfew was lifted and states
    none, point the country's leads at the active curfews it may end; the ids offered.
    Nothing ends without a lead."""
    if reading.curfews or not reading.lifts:
        return []
    ending = curfews_lifted(session, country=country, lifts=reading.lifts)
    if not ending:
        return []
    leads = [p for p in lead_rules.leads_for_country(session, country=country) if p.reachable]
    listed = "\n".join(f"#{c.id} {render.esc(describe(c, now=now))}" for c in ending)
    how = (
        f"/curfew_end {ending[0].id} ends it."
        if len(ending) == 1
        else f"/curfew_end and its number ends one, e.g. /curfew_end {ending[0].id}."
    )
    deliveries.enqueue(
        session,
        kind=DeliveryKind.CURFEW_PROPOSAL,
        dedupe_key=f"alert:{alert_id}:curfew-lifted",
        recipients=[Recipient(p.id or 0, p.chat_id) for p in leads],
        parts=[
            f"📰 An official alert says a curfew is lifted:\n<i>{render.esc(text[:300])}</i>\n\n"
            f"Active curfews it may end:\n{listed}\n{how}"
        ],
        priority=Priority.HIGH,
        now=now,
    )
    return [c.id or 0 for c in ending]


# -- planning reminders and notices ------------------------------------------------------
def plans(
    session: Session, *, now: datetime, horizon: timedelta
) -> tuple[list[PlannedReminder], list[PlannedNotice], dict[int, Curfew]]:
    active = list(curfews.active(session))
    by_id = {c.id or 0: c for c in active}
    people = curfews.subscribers_with_lead_times(
        session, countries=[c.country for c in active], now=now
    )
    specs = [spec_of(c) for c in active]
    lead_minutes = {c.id or 0: people.get(c.country, {}) for c in active}
    recipients = {c.id or 0: list(people.get(c.country, {})) for c in active}
    reminders = plan_curfew_reminders(specs, lead_minutes, now=now, horizon=horizon, grace=GRACE)
    notices = plan_curfew_notices(specs, recipients, now=now, horizon=horizon, grace=GRACE)
    return reminders, notices, by_id


def queue_due_curfew_messages(svc: Services) -> int:
    """Queue every reminder and end notice due now (within grace); returns how many were new.

    People who get the same text (same curfew, night and minutes left) are queued in one
    insert; the key per curfew and night (unique with the person) keeps each one single.
    """
    now = svc.clock()
    queued = cards_changed = 0
    with session_scope(svc.engine) as session:
        reminders, notices, by_id = plans(session, now=now, horizon=timedelta(seconds=1))
        wanted = {r.staff_id for r in reminders} | {n.staff_id for n in notices}
        chats = {p.id: p.chat_id for p in staff.everyone(session) if p.id in wanted}
        groups: dict[tuple[DeliveryKind, str, str], list[Recipient]] = defaultdict(list)
        zones = own_zones(session, staff_ids=sorted(wanted), now=now)
        for reminder in reminders:
            curfew = by_id[reminder.curfew_id]
            occ = occurrence_of(curfew, reminder.day)
            minutes_left = max(0, round((occ.starts_at - now).total_seconds() / 60))
            text = f"⏰ {render.esc(render_reminder(spec_of(curfew), occ, minutes_left))}"
            own = zones.get(reminder.staff_id)
            if own is not None and utc_offset(own.zone, occ.starts_at) != utc_offset(
                curfew.zone, occ.starts_at
            ):
                # Someone following the country from elsewhere reads it on their own clock.
                yours = local_and_utc(own.zone, occ.starts_at, date_too=False)
                text += f" For you it starts at {render.esc(yours)}."
            key = f"curfew:{curfew.id}:{reminder.day.isoformat()}"
            groups[(DeliveryKind.CURFEW_REMINDER, key, text)].append(
                Recipient(reminder.staff_id, chats[reminder.staff_id])
            )
        for notice in notices:
            curfew = by_id[notice.curfew_id]
            last = spec_of(curfew).last()
            assert last is not None  # a notice is planned only for a curfew that ends
            text = render.esc(render_notice(spec_of(curfew), last))
            key = f"curfew:{curfew.id}:ended"
            groups[(DeliveryKind.CURFEW_NOTICE, key, text)].append(
                Recipient(notice.staff_id, chats[notice.staff_id])
            )
        for (kind, key, text), recipients in groups.items():
            queued += deliveries.enqueue(
                session,
                kind=kind,
                dedupe_key=key,
                recipients=recipients,
                parts=[text],
                priority=Priority.HIGH,
                now=now,
            )
        for curfew in by_id.values():
            expired_at = _expiry(curfew)
            if expired_at is not None and expired_at <= now:
                curfews.end(session, curfew_id=curfew.id or 0, now=now)
                # Its last night is over: the cards no longer show it.
                cards_changed += refresh_country_cards(session, countries=[curfew.country], now=now)
    if queued or cards_changed:
        svc.wake_dispatcher()
    return queued


def refresh_curfew_cards(svc: Services) -> int:
    """Bring the cards of countries under curfew up to date; they show tonight's times,
    so a new local day (or a new UTC offset) changes them. How many cards changed."""
    with session_scope(svc.engine) as session:
        countries = {c.country for c in curfews.active(session)}
        changed = refresh_country_cards(session, countries=countries, now=svc.clock())
    if changed:
        svc.wake_dispatcher()
    return changed


def _expiry(curfew: Curfew) -> datetime | None:
    if curfew.last_day is None:
        return None
    last = spec_of(curfew).last()
    if last is None:  # none of its days falls before its last date: over at once
        return datetime.combine(curfew.first_day, datetime.min.time(), tzinfo=UTC)
    return last.ends_at + GRACE


@dataclass(frozen=True)
class Decision:
    """What a lead's Confirm / Edit / Cancel / Ignore led to, for the handler to show."""

    answer: str  # the short pop-up
    edit_to: str | None = None  # new text for the offer message
    reply: str | None = None  # a further message to the lead
    changed: bool = False  # curfews changed: plan the reminders again


def decide(
    session: Session, *, verb: str, curfew_id: int, person: Staff, now: datetime
) -> Decision:
    """Apply a lead's choice on a draft (only its author) or a proposal (a lead who
    answers for its country)."""
    curfew = session.get(Curfew, curfew_id)
    if curfew is None or not (
        curfew.set_by_staff_id == person.id or curfew.status == CurfewStatus.PROPOSED.value
    ):
        return Decision("That is not yours to confirm.")
    require_answers_for(session, person=person, country=curfew.country)
    if verb == "edit":
        area = f" {curfew.area}" if curfew.area else ""
        until = until_text(curfew.last_day)
        if curfew.continuous:
            first = curfew.first_day
            until = f"from {first.day} {first:%B %Y} {until} without a break"
        elif curfew.days:
            until = f"{days_text(days_of(curfew.days))} {until}"
        command = f"/curfew_set {curfew.country}{area} {curfew.start}-{curfew.end} {until}"
        return Decision(
            "Edit and send the command below.", reply=f"Copy, change and send:\n{command}"
        )
    if verb == "no":
        if curfews.discard(session, curfew_id=curfew_id) is None:
            return Decision("Already handled.")
        return Decision("Discarded.", edit_to="Discarded; nothing was sent.")
    confirmed = curfews.confirm(session, curfew_id=curfew_id, by_staff_id=person.id or 0, now=now)
    if confirmed is None:
        return Decision("Already handled.")
    old = curfews.replaced_by(session, curfew=confirmed, now=now)
    text = f"🌙 {'Curfew changed. ' if old else ''}{describe(confirmed, now=now)}."
    count = tell_subscribers(
        session, curfew=confirmed, text=text, key=f"curfew:{confirmed.id}:set", now=now
    )
    refresh_country_cards(session, countries=[confirmed.country], now=now)
    audit.by(
        session,
        person,
        action="curfew_confirm",
        curfew_id=curfew_id,
        replaced=old.id if old else None,
    )
    told = render.plural(count, "person", "people")
    result = (
        f"Curfew #{curfew_id} {'changed' if old else 'set'}; {told} "
        f"{'is' if count == 1 else 'are'} being told."
    )
    return Decision(result[:200], edit_to=result, changed=True)


def draft_curfew(
    session: Session, *, request: CurfewRequest, person: Staff, now: datetime
) -> tuple[Curfew, date]:
    """A lead's /curfew_set as a draft for them to confirm, and the local day it starts."""
    require_answers_for(session, person=person, country=request.country)
    today = local_today(request.zone, now)
    if request.from_day is not None and request.from_day < today:
        raise Refusal("That start date has already passed.")
    curfew = curfews.create(
        session,
        country=request.country,
        area=request.area,
        zone=request.zone,
        start=f"{request.window.start:%H:%M}",
        end=f"{request.window.end:%H:%M}",
        first_day=request.from_day or today,
        last_day=request.until,
        continuous=request.continuous,
        days=request.days,
        status=CurfewStatus.DRAFT,
        now=now,
        set_by_staff_id=person.id,
    )
    audit.by(
        session,
        person,
        action="curfew_draft",
        curfew_id=curfew.id,
    )
    return curfew, today


def curfews_lifted(session: Session, *, country: str, lifts: Sequence[Lift]) -> list[Curfew]:
    """The active curfews of `country` that lifts read from a text may end: those in the
    place a lift names, or all of the country's when a lift names no place."""
    active = list(curfews.active(session, countries=[country]))
    if any(lift.area is None for lift in lifts):
        return active
    named = {lift.area.casefold() for lift in lifts if lift.area}
    zones_named = {lift.zone for lift in lifts if lift.zone}
    return [
        c
        for c in active
        if (c.area or "").casefold() in named or (c.area is None and c.zone in zones_named)
    ]


def end_curfew(session: Session, *, curfew_id: int, person: Staff, now: datetime) -> int:
    """Lift an active curfew early and tell its staff; how many are being told."""
    current = session.get(Curfew, curfew_id)
    if current is not None:
        require_answers_for(session, person=person, country=current.country)
    ended = curfews.end(session, curfew_id=curfew_id, now=now)
    if ended is None:
        raise Refusal(f"There is no active curfew #{curfew_id}.")
    count = tell_subscribers(
        session,
        curfew=ended,
        text=f"✅ The curfew in {place(ended)} has been lifted "
        f"({zones.local_and_utc(ended.zone, now)}). No more reminders will be sent for it.",
        key=f"curfew:{curfew_id}:ended",
        now=now,
    )
    refresh_country_cards(session, countries=[ended.country], now=now)
    audit.by(
        session,
        person,
        action="curfew_end",
        curfew_id=curfew_id,
    )
    return count
