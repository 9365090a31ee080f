"""Personal data on the real database (SQLite, or PostgreSQL via TEST_DATABASE_URL): the
export, erasure and the retention rule, with an injected clock."""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot import render
from bot.rollcall.texts import deadline_report, question_text
from db import audit, broadcasts, checkins, curfews, deliveries, invites, leads, privacy, staff
from db import subscriptions as subs
from db.checkins import Answer, CheckIn, CheckInKind, RollCall, RollCallAnswer, RollCallMember
from db.deliveries import Recipient
from db.engine import session_scope
from db.incidents import HelpCall, HelpMessage
from db.leads import LeadCountry
from db.models import (
    Acknowledgement,
    Alert,
    AlertKind,
    AlertStatus,
    AuditEntry,
    Curfew,
    CurfewStatus,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Invite,
    Priority,
    Role,
    Staff,
    Subscription,
)
from db.refusal import Refusal
from tests.harness import a_round, answers_of, checkins_of
from tests.harness import person as _person

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
_ids = itertools.count(8_000_000_000)
_ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")


def _sent(
    session: Session,
    *,
    kind: DeliveryKind,
    key: str,
    to: Staff,
    text: str,
    alert_id: int | None = None,
    about: int | None = None,
    round_id: int | None = None,
) -> None:
    deliveries.enqueue(
        session,
        kind=kind,
        dedupe_key=key,
        about_staff_id=about,
        round_id=round_id,
        recipients=[Recipient(to.id or 0, to.chat_id)],
        parts=[text],
        priority=Priority.CRITICAL,
        now=NOW,
        alert_id=alert_id,
        status=DeliveryStatus.SENT,
    )


@dataclass
class World:
    lena: Staff  # a lead of KZ who ran the round
    sam: Staff
    nina: Staff
    rollcall: RollCall
    alert_id: int


def _life_of(
    session: Session,
    person: Staff,
    *,
    lead: Staff,
    rollcall: RollCall,
    alert_id: int,
    latitude: float,
) -> None:
    """Everything a staff member leaves behind: follows, check-ins, an answer with a note
    and a location, an acknowledgement, messages, a call for help, audit entries."""
    name = person.display_name
    staff_id = person.id or 0
    subs.subscribe(session, staff_id=staff_id, country="KZ")
    subs.subscribe(session, staff_id=staff_id, country="GE")
    safe = checkins.record_checkin(
        session,
        staff_id=staff_id,
        kind=CheckInKind.SAFE,
        note=f"{name} is at the hotel",
        location=(latitude + 0.25, 76.95),
        now=NOW - timedelta(hours=3),
    )
    checkins.record_checkin(
        session,
        staff_id=staff_id,
        kind=CheckInKind.LOCATION,
        note=None,
        location=(latitude + 0.26, 76.96),
        now=NOW - timedelta(hours=2),
    )
    members = checkins.add_members(session, round_id=rollcall.id or 0, staff_ids=[staff_id])
    _sent(
        session,
        kind=DeliveryKind.ROLLCALL_QUESTION,
        key=checkins.question_key(rollcall.id or 0),
        round_id=rollcall.id,
        to=person,
        text="Are you safe?",
    )
    checkins.link_deliveries(session, round_id=rollcall.id or 0)
    member = session.get(RollCallMember, members[staff_id])
    assert member is not None
    answer = checkins.record_answer(
        session,
        member=member,
        answer=Answer.HELP,
        note=f"{name} hurt a leg",
        location=(latitude + 0.27, 76.97),
        late=False,
        via="/help_me",
        now=NOW - timedelta(hours=1),
    )
    _sent(
        session,
        kind=DeliveryKind.FEED_ALERT,
        key=f"alert:{alert_id}",
        to=person,
        text="Leave now",
        alert_id=alert_id,
    )
    session.add(Acknowledgement(alert_id=alert_id, staff_id=staff_id, at=NOW))
    # What the lead was told about them.
    _sent(
        session,
        kind=DeliveryKind.SAFE_AGAIN,
        key=f"safe:{safe.id}",
        about=staff_id,
        to=lead,
        text=f"{name} now says they are safe",
    )
    _sent(
        session,
        kind=DeliveryKind.HELP_ALERT,
        key=f"rollcall:{rollcall.id}:help:{answer.id}",
        about=staff_id,
        round_id=rollcall.id,
        to=lead,
        text=f"{name} needs help: {name} hurt a leg [{latitude + 0.27:.2f}, 76.97]",
    )
    _sent(
        session,
        kind=DeliveryKind.UNREACHABLE,
        key=f"unreachable:{staff_id}:1",
        about=staff_id,
        to=lead,
        text=f"{name} can't be reached",
    )
    audit.record(session, action="enrol", actor_telegram_id=person.telegram_user_id)
    audit.record(
        session,
        action="promote",
        actor_telegram_id=lead.telegram_user_id,
        actor_staff_id=lead.id,
        target_staff_id=staff_id,
        new_role="staff",
    )


def _world(session: Session) -> World:
    lena = _person(session, "Lena", Role.LEAD)
    leads.lead(session, staff_id=lena.id or 0, country="KZ")
    sam, nina = _person(session, "Sam"), _person(session, "Nina")
    alert = Alert(kind=AlertKind.DEPARTURE.value, country="KZ", title="Leave Kazakhstan")
    session.add(alert)
    session.flush()
    rollcall = checkins.create_round(
        session,
        country="KZ",
        message="Explosion near the square; are you safe?",
        started_by_staff_id=lena.id,
        alert_id=None,
        now=NOW - timedelta(hours=2),
        deadline_at=NOW - timedelta(minutes=1),
        remind_every_minutes=30,
    )
    for person, latitude in ((sam, 43.0), (nina, 51.0)):
        _life_of(
            session,
            person,
            lead=lena,
            rollcall=rollcall,
            alert_id=alert.id or 0,
            latitude=latitude,
        )
    # The deadline report names both of them, as the bot writes it.
    session.flush()
    for part in deadline_report(rollcall, checkins.roll_entries(session, rollcall=rollcall)):
        _sent(
            session,
            kind=DeliveryKind.ROLLCALL_REPORT,
            key=checkins.deadline_key(rollcall.id or 0),
            round_id=rollcall.id,
            to=lena,
            text=part,
        )
    return World(lena=lena, sam=sam, nina=nina, rollcall=rollcall, alert_id=alert.id or 0)


def _times(value: Any) -> list[str]:
    """Every value under a key that names a time."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str) and (key.endswith("_at") or key in ("at", "since")):
                found.append(item)
            found.extend(_times(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_times(item))
    return found


def _traces(person: Staff) -> list[str]:
    """What would give a person away in someone else's file."""
    return [
        person.display_name,
        str(person.telegram_user_id),
        f"{person.display_name} hurt a leg",
        "43.2" if person.display_name == "Sam" else "51.2",  # their locations
    ]


def test_an_export_has_everything_about_the_person_and_nothing_about_others(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        world = _world(session)
        sam_data = privacy.export(session, person=world.sam, now=NOW)
        lena_data = privacy.export(session, person=world.lena, now=NOW)
    text = json.dumps(sam_data)
    assert sam_data["exported_at"] == "2025-03-10T12:00:00+00:00"
    assert sam_data["person"]["telegram_user_id"] == world.sam.telegram_user_id
    assert sam_data["person"]["curfew_reminder_minutes"] == 60
    assert [s["country"] for s in sam_data["subscriptions"]] == ["GE", "KZ"]
    assert [(c["kind"], c["note"], c["latitude"]) for c in sam_data["checkins"]] == [
        ("safe", "Sam is at the hotel", 43.25),
        ("location", None, 43.26),
    ]
    (asked,) = sam_data["roll_calls_asked"]
    assert asked["question"] == "Explosion near the square; are you safe?"
    assert [(a["answer"], a["note"], a["longitude"]) for a in asked["answers"]] == [
        ("help", "Sam hurt a leg", 76.97)
    ]
    assert sam_data["acknowledgements"] == [
        {"alert_id": world.alert_id, "title": "Leave Kazakhstan", "at": "2025-03-10T12:00:00+00:00"}
    ]
    assert {(m["kind"], m["text"]) for m in sam_data["messages_to_you"]} == {
        ("roll call question", "Are you safe?"),
        ("feed alert", "Leave now"),
    }
    assert {(r["kind"], r["text"], r["recipients"]) for r in sam_data["reports_about_you"]} == {
        ("safe again", "Sam now says they are safe", 1),
        ("call for help", "Sam needs help: Sam hurt a leg [43.27, 76.97]", 1),
        ("unreachable notice", "Sam can't be reached", 1),
    }
    assert [(e["action"], e["you"], e["detail"]) for e in sam_data["audit_log"]] == [
        ("enrol", "acted", {}),
        ("promote", "were named", {"target": "you", "new_role": "staff"}),
    ]
    assert all(_ISO_UTC.match(t) for t in _times(sam_data)), _times(sam_data)
    for trace in [*_traces(world.nina), world.lena.display_name, str(world.lena.telegram_user_id)]:
        assert trace not in text, trace

    # The lead's file has the round she ran, but none of the answers to it, and the
    # reports she got about Sam and Nina without their text.
    lena_text = json.dumps(lena_data)
    (ran,) = lena_data["roll_calls_run"]
    assert ran["round_id"] == world.rollcall.id and ran["you"] == ["started"]
    assert lena_data["countries_led"][0]["country"] == "KZ"
    withheld = [m for m in lena_data["messages_to_you"] if m["text"] is None]
    assert {m["kind"] for m in withheld} == {
        "safe again",
        "call for help",
        "unreachable notice",
        "roll call deadline report",
    }
    assert len(lena_data["messages_to_you"]) == len(withheld)
    assert [e["detail"] for e in lena_data["audit_log"]] == [{"new_role": "staff"}] * 2
    for trace in [*_traces(world.sam), *_traces(world.nina)]:
        assert trace not in lena_text, trace


def _rows_of(session: Session, staff_id: int) -> dict[str, int]:
    counts = {}
    for model in (
        Subscription,
        LeadCountry,
        CheckIn,
        RollCallMember,
        RollCallAnswer,
        Acknowledgement,
        Delivery,
    ):
        rows = session.exec(select(model).where(col(model.staff_id) == staff_id)).all()
        counts[model.__name__] = len(rows)
    return counts


def test_forgetting_deletes_only_that_persons_data(engine: Engine) -> None:
    with session_scope(engine) as session:
        world = _world(session)
        sam_id, nina_id = world.sam.id or 0, world.nina.id or 0
        # Sam also did some lead's work, which the organisation keeps.
        invite = invites.create(
            session, role=Role.STAFF, created_by_staff_id=sam_id, now=NOW, ttl=timedelta(days=7)
        )
        used = invites.create(
            session, role=Role.STAFF, created_by_staff_id=None, now=NOW, ttl=timedelta(days=7)
        )
        assert invites.redeem(session, code=used.code, staff_id=sam_id, now=NOW).ok
        draft = broadcasts.create_draft(
            session, country="KZ", text="Stay in", author_staff_id=sam_id, now=NOW
        )
        curfew = curfews.create(
            session,
            country="KZ",
            area=None,
            zone="Asia/Almaty",
            start="23:00",
            end="07:00",
            first_day=date(2025, 3, 10),
            last_day=None,
            status=CurfewStatus.ACTIVE,
            now=NOW,
            set_by_staff_id=sam_id,
        )
        own_round = checkins.create_round(
            session,
            country="GE",
            message="Are you safe?",
            started_by_staff_id=sam_id,
            alert_id=None,
            now=NOW,
            deadline_at=NOW + timedelta(hours=2),
            remind_every_minutes=30,
        )
        checkins.set_report(
            session, round_id=own_round.id or 0, chat_id=world.sam.chat_id, message_id=7
        )
        # What staff got from Sam: a roll-call question and a broadcast, signed by him.
        question = question_text(own_round, asked_by="Sam", advisory=None)
        _sent(
            session,
            kind=DeliveryKind.ROLLCALL_QUESTION,
            key=checkins.question_key(own_round.id or 0),
            round_id=own_round.id,
            to=world.nina,
            text=question,
        )
        sent = broadcasts.create_draft(
            session, country="KZ", text="Curfew at 23:00", author_staff_id=sam_id, now=NOW
        )
        for part in render.broadcast_message(country="KZ", text=sent.body, author="Sam", at=NOW):
            _sent(
                session,
                kind=DeliveryKind.BROADCAST,
                key=f"alert:{sent.id}",
                to=world.nina,
                text=part,
                alert_id=sent.id,
            )
        nina_before = privacy.holdings(session, person=world.nina)
        nina_rows = _rows_of(session, nina_id)
        lena_rows = _rows_of(session, world.lena.id or 0)
        sam_before = privacy.holdings(session, person=world.sam)

    with session_scope(engine) as session:
        done = privacy.forget(session, staff_id=sam_id, configured_admin_ids=(), now=NOW)
    assert isinstance(done, privacy.Forgotten)
    assert done.held == sam_before
    assert done.round_ids == [world.rollcall.id]
    assert (done.held.checkins, done.held.answers, done.held.notes, done.held.locations) == (
        2,
        1,
        2,
        3,
    )
    assert (done.held.messages_to_them, done.held.messages_about_them) == (2, 3)

    with session_scope(engine) as session:
        assert session.get(Staff, sam_id) is None
        assert set(_rows_of(session, sam_id).values()) == {0}
        # Nina keeps all of hers; Lena lost only the three reports about Sam.
        assert privacy.holdings(session, person=world.nina) == nina_before
        assert _rows_of(session, nina_id) == nina_rows
        lena_now = _rows_of(session, world.lena.id or 0)
        assert lena_now["Delivery"] == lena_rows["Delivery"] - 3
        lena_texts = session.exec(
            select(Delivery.text).where(Delivery.staff_id == world.lena.id)
        ).all()
        assert not any("Sam" in t for t in lena_texts)
        report = session.exec(
            select(Delivery.text).where(
                Delivery.dedupe_key == checkins.deadline_key(world.rollcall.id or 0)
            )
        ).one()
        nina_line = f'• <a href="tg://user?id={world.nina.telegram_user_id}">Nina</a> (@nina)'
        assert privacy.FORGOTTEN_LINE in report and nina_line in report
        # The organisation's records stay, without the link to Sam.
        kept_invite, kept_used = session.get(Invite, invite.id), session.get(Invite, used.id)
        assert kept_invite is not None and kept_invite.created_by_staff_id is None
        assert kept_used is not None and kept_used.used_by_staff_id is None
        assert kept_used.used_at is not None
        kept_draft = session.get(Alert, draft.id)
        assert kept_draft is not None and kept_draft.created_by_staff_id is None
        assert kept_draft.status == AlertStatus.CANCELLED.value
        signed = session.exec(
            select(Delivery.text).where(
                col(Delivery.dedupe_key).in_(
                    [checkins.question_key(own_round.id or 0), f"alert:{sent.id}"]
                )
            )
        ).all()
        assert len(signed) == 2
        assert all("<i>From your security team" in t and "Sam" not in t for t in signed)
        kept_curfew = session.get(Curfew, curfew.id)
        assert kept_curfew is not None and kept_curfew.set_by_staff_id is None
        kept_round = session.get(RollCall, own_round.id)
        assert kept_round is not None and kept_round.started_by_staff_id is None
        assert kept_round.report_chat_id is None
        # The audit log keeps that it happened, and nothing that names Sam.
        entries = session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all()
        assert not any(e.actor_telegram_id == world.sam.telegram_user_id for e in entries)
        assert not any(str(sam_id) in e.detail and "staff_id" in e.detail for e in entries)
        last = entries[-1]
        assert (last.action, last.actor_telegram_id, last.actor_staff_id, last.detail) == (
            "forget_me",
            None,
            None,
            "{}",
        )
        assert sum(e.action == "promote" and "target_staff_id" in e.detail for e in entries) == 1

    # A second confirmation finds nobody and records nothing.
    with session_scope(engine) as session:
        assert privacy.forget(session, staff_id=sam_id, configured_admin_ids=(), now=NOW) is None
        assert len(session.exec(select(AuditEntry)).all()) == len(entries)


def test_the_last_admin_and_configured_admins_are_refused(engine: Engine) -> None:
    with session_scope(engine) as session:
        ada = _person(session, "Ada", Role.ADMIN)
        subs.subscribe(session, staff_id=ada.id or 0, country="KZ")
        ids = (ada.telegram_user_id,)
        with pytest.raises(Refusal, match="ADMIN_TELEGRAM_IDS"):
            privacy.forget(session, staff_id=ada.id or 0, configured_admin_ids=ids, now=NOW)
        with pytest.raises(Refusal, match="last admin"):
            privacy.forget(session, staff_id=ada.id or 0, configured_admin_ids=(), now=NOW)
        assert subs.countries_of(session, staff_id=ada.id or 0) == ["KZ"]
        _person(session, "Bo", Role.ADMIN)
        gone = privacy.forget(session, staff_id=ada.id or 0, configured_admin_ids=(), now=NOW)
        assert isinstance(gone, privacy.Forgotten)
        assert staff.count_admins(session) == 1


def test_retention_removes_only_old_notes_and_locations(engine: Engine) -> None:
    keep = timedelta(days=90)
    old, recent = NOW - keep - timedelta(minutes=1), NOW - keep + timedelta(minutes=1)
    with session_scope(engine) as session:
        sam = _person(session, "Sam")
        lena = _person(session, "Lena", Role.LEAD)
        rollcall = checkins.create_round(
            session,
            country="KZ",
            message="",
            started_by_staff_id=None,
            alert_id=None,
            now=old,
            deadline_at=NOW,
            remind_every_minutes=30,
        )
        members = checkins.add_members(session, round_id=rollcall.id or 0, staff_ids=[sam.id or 0])
        member = session.get(RollCallMember, members[sam.id or 0])
        assert member is not None
        # Rounds whose deadline reports carry names, notes and locations.
        reports = {
            label: checkins.create_round(
                session,
                country=country,
                message="",
                started_by_staff_id=None,
                alert_id=None,
                now=at,
                deadline_at=at + timedelta(minutes=5),
                remind_every_minutes=30,
            )
            for label, at, country in (("old", old, "GE"), ("recent", recent, "FR"))
        }
        rows = {}
        for label, at in (("old", old), ("recent", recent)):
            for kind in CheckInKind:
                location = (41.0, 69.0) if kind is not CheckInKind.HELP else None
                note = None if kind is CheckInKind.LOCATION else f"{label} {kind}"
                row = checkins.record_checkin(
                    session, staff_id=sam.id or 0, kind=kind, note=note, location=location, now=at
                )
                rows[(label, kind)] = row.id
            checkins.record_answer(
                session,
                member=member,
                answer=Answer.SAFE,
                note=f"{label} answer",
                location=(41.0, 69.0),
                late=False,
                via="/safe",
                now=at,
            )
            sam_id = sam.id or 0
            report_round = reports[label].id or 0
            for delivery_kind, key, about, round_id, status in (
                (
                    DeliveryKind.HELP_ALERT,
                    f"help:{rows[(label, CheckInKind.HELP)]}",
                    sam_id,
                    None,
                    DeliveryStatus.SENT,
                ),
                (
                    DeliveryKind.ROLLCALL_REPORT,
                    checkins.deadline_key(report_round),
                    None,
                    report_round,
                    DeliveryStatus.SENT,
                ),
                (DeliveryKind.FEED_ALERT, f"alert:{label}", None, None, DeliveryStatus.SENT),
                (
                    DeliveryKind.LOCATION,
                    f"location:{rows[(label, CheckInKind.LOCATION)]}",
                    sam_id,
                    None,
                    DeliveryStatus.PENDING,
                ),
            ):
                deliveries.enqueue(
                    session,
                    kind=delivery_kind,
                    dedupe_key=key,
                    about_staff_id=about,
                    round_id=round_id,
                    recipients=[Recipient(lena.id or 0, lena.chat_id)],
                    parts=[f"{label}: Sam at 41.0, 69.0"],
                    priority=Priority.CRITICAL,
                    now=at,
                    status=status,
                )

    with session_scope(engine) as session:
        purged = privacy.purge_expired_details(session, now=NOW, keep=keep)
    # Old: the safe and help notes and the /safe answer's; the safe check-in's location, the
    # location-only check-in and the answer's location; the copies in the help alert and
    # the deadline report (not the alert, and not the one still waiting to be sent).
    assert (purged.notes, purged.locations, purged.messages) == (3, 3, 2)

    with session_scope(engine) as session:
        again = privacy.purge_expired_details(session, now=NOW, keep=keep)
        found = {
            c.id: (c.kind, c.note, c.latitude) for c in checkins_of(session, staff_id=sam.id or 0)
        }
        answers = answers_of(session, member_id=member.id or 0)
        texts = dict(session.exec(select(Delivery.dedupe_key, Delivery.text)).all())
    assert again.total == 0
    assert found == {
        rows[("old", CheckInKind.SAFE)]: ("safe", None, None),
        rows[("old", CheckInKind.HELP)]: ("help", None, None),
        rows[("recent", CheckInKind.SAFE)]: ("safe", "recent safe", 41.0),
        rows[("recent", CheckInKind.HELP)]: ("help", "recent help", None),
        rows[("recent", CheckInKind.LOCATION)]: ("location", None, 41.0),
    }
    assert [(a.answer, a.note, a.longitude, a.at) for a in answers] == [
        ("safe", None, None, old),
        ("safe", "recent answer", 69.0, recent),
    ]
    assert texts[f"help:{rows[('old', CheckInKind.HELP)]}"] == privacy.REDACTED_TEXT
    assert texts[f"help:{rows[('recent', CheckInKind.HELP)]}"].startswith("recent")
    assert texts[checkins.deadline_key(reports["old"].id or 0)] == privacy.REDACTED_TEXT
    assert texts[checkins.deadline_key(reports["recent"].id or 0)].startswith("recent")
    assert texts["alert:old"].startswith("old")  # not a check-in's copy
    assert texts[f"location:{rows[('old', CheckInKind.LOCATION)]}"].startswith("old")  # pending


def test_what_is_kept_about_a_person_is_counted_in_full(engine: Engine) -> None:
    with session_scope(engine) as session:
        world = _world(session)
        sam = privacy.holdings(session, person=world.sam)
        lena = privacy.holdings(session, person=world.lena)
    assert sam == privacy.Holdings(
        subscriptions=2,
        countries_led=0,
        checkins=2,
        answers=1,
        notes=2,
        locations=3,
        acknowledgements=1,
        messages_to_them=2,
        messages_about_them=3,
        audit_entries=2,
    )
    assert (lena.subscriptions, lena.countries_led, lena.checkins, lena.audit_entries) == (
        0,
        1,
        0,
        2,
    )


def test_export_times_are_utc_and_a_missing_time_stays_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    almaty = timezone(timedelta(hours=5))
    monkeypatch.setenv("TZ", "Asia/Tokyo")  # the server's own zone plays no part
    time.tzset()
    try:
        shown = privacy.iso(datetime(2025, 3, 10, 17, 0, 30, 999, tzinfo=almaty))
    finally:
        monkeypatch.undo()
        time.tzset()
    assert shown == "2025-03-10T12:00:30+00:00"
    assert privacy.iso(None) is None


def test_the_refusals_to_forget_say_what_to_do(engine: Engine) -> None:
    with session_scope(engine) as session:
        ada = _person(session, "Ada", Role.ADMIN)
        with pytest.raises(Refusal) as configured:
            privacy.require_may_forget(
                session, person=ada, configured_admin_ids=[ada.telegram_user_id]
            )
        assert configured.value.text == (
            "You are an admin through ADMIN_TELEGRAM_IDS, so your next message would enrol "
            "you again. Ask whoever runs the bot to remove your id there first."
        )
        with pytest.raises(Refusal) as last:
            privacy.require_may_forget(session, person=ada, configured_admin_ids=[1])
        assert last.value.text == (
            "You are the last admin; promote someone else to admin first, then try again."
        )
        lena = _person(session, "Lena", Role.LEAD)
        privacy.require_may_forget(session, person=lena, configured_admin_ids=[])
        _person(session, "Bo", Role.ADMIN)
        privacy.require_may_forget(session, person=ada, configured_admin_ids=[])


def test_retention_redacts_every_kind_of_finished_copy_older_than_the_limit(
    engine: Engine,
) -> None:
    keep = timedelta(days=30)
    cutoff = NOW - keep
    old = cutoff - timedelta(seconds=1)
    markup = {"inline_keyboard": [[{"text": "Call", "callback_data": "x"}]]}
    with session_scope(engine) as session:
        lena = _person(session, "Lena", Role.LEAD)
        # Every kind that can carry a note or a location, then every other kind.
        details = {
            "help:1": DeliveryKind.HELP_ALERT,
            "safe:1": DeliveryKind.SAFE_AGAIN,
            "location:1": DeliveryKind.LOCATION,
            "rollcall:2:help:1": DeliveryKind.HELP_ALERT,
            "rollcall:2:safe:1": DeliveryKind.SAFE_AGAIN,
            "rollcall:2:deadline": DeliveryKind.ROLLCALL_REPORT,
            "call:1:message:1": DeliveryKind.HELP_MESSAGE,
            "call:1:reply:2": DeliveryKind.HELP_REPLY,
        }
        others = {f"other:{kind}": kind for kind in DeliveryKind if kind not in details.values()}
        detail_keys = list(details)
        kinds = details | others
        cases = [(key, old, DeliveryStatus.SENT) for key in kinds]
        cases += [
            (f"help:{n}", old, status)
            for n, status in enumerate(DeliveryStatus, start=10)
            if status is not DeliveryStatus.SENT
        ]
        cases.append(("help:99", cutoff, DeliveryStatus.SENT))
        for key, at, status in cases:
            deliveries.enqueue(
                session,
                kind=kinds.get(key, DeliveryKind.HELP_ALERT),
                dedupe_key=key,
                recipients=[Recipient(lena.id or 0, lena.chat_id)],
                parts=["Sam at 41.0, 69.0"],
                priority=Priority.CRITICAL,
                now=at,
                reply_markup=markup,
                status=status,
            )
        purged = privacy.purge_expired_details(session, now=NOW, keep=keep)
        rows = session.exec(select(Delivery.dedupe_key, Delivery.text, Delivery.reply_markup))
        redacted = {key: (text, reply) for key, text, reply in rows.all()}
    expected_keys = {
        *detail_keys,
        *(
            f"help:{n}"
            for n, status in enumerate(DeliveryStatus, start=10)
            if status.value in ("failed", "unreachable")
        ),
    }
    assert {k for k, (text, _) in redacted.items() if text == privacy.REDACTED_TEXT} == (
        expected_keys
    )
    assert all(redacted[k][1] is None for k in expected_keys)
    assert all(redacted[k][1] is not None for k in redacted.keys() - expected_keys)
    assert (purged.notes, purged.locations, purged.messages) == (0, 0, len(expected_keys))
    assert purged.total == len(expected_keys)


def test_retention_clears_the_words_of_calls_for_help_closed_before_the_limit(
    engine: Engine,
) -> None:
    keep = timedelta(days=30)
    cutoff = NOW - keep
    old, recent = cutoff - timedelta(days=2), cutoff + timedelta(days=1)
    with session_scope(engine) as session:
        sam = _person(session, "Sam", Role.STAFF)
        lena = _person(session, "Lena", Role.LEAD)
        calls = {}
        # Closed long ago; closed after the limit; still open though old.
        for name, closed in (("long ago", old), ("recently", recent), ("open", None)):
            reason = "safe" if closed else None
            call = HelpCall(
                staff_id=sam.id or 0, opened_at=old, closed_at=closed, close_reason=reason
            )
            session.add(call)
            session.flush()
            calls[name] = call.id or 0
            for sender, words in ((sam, f"{name}: men with guns outside"), (lena, "Stay put")):
                session.add(
                    HelpMessage(
                        call_id=call.id or 0,
                        sender_staff_id=sender.id,
                        from_person=sender is sam,
                        kind="text",
                        text=words,
                        chat_id=sender.chat_id,
                        message_id=1,
                        at=old,
                    )
                )
        purged = privacy.purge_expired_details(session, now=NOW, keep=keep)
        left = {
            (m.call_id, m.from_person): (m.text, m.kind, m.at)
            for m in session.exec(select(HelpMessage)).all()
        }
    assert purged.thread_messages == 2
    # Who wrote, what kind and when stay; the words of the call closed long ago go.
    assert left[(calls["long ago"], True)] == (None, "text", old)
    assert left[(calls["long ago"], False)] == (None, "text", old)
    assert left[(calls["recently"], True)][0] == "recently: men with guns outside"
    assert left[(calls["open"], True)][0] == "open: men with guns outside"


def test_retention_keeps_what_is_exactly_at_the_limit_and_clears_half_locations(
    engine: Engine,
) -> None:
    keep = timedelta(days=30)
    cutoff = NOW - keep
    with session_scope(engine) as session:
        sam = _person(session, "Sam")
        staff_id = sam.id or 0
        at_limit = [
            CheckIn(staff_id=staff_id, kind=kind, note="n", latitude=1.0, longitude=2.0, at=cutoff)
            for kind in (CheckInKind.SAFE, CheckInKind.LOCATION)
        ]
        half = [
            CheckIn(staff_id=staff_id, kind=CheckInKind.SAFE, latitude=1.0, at=cutoff - keep),
            CheckIn(staff_id=staff_id, kind=CheckInKind.HELP, longitude=2.0, at=cutoff - keep),
        ]
        session.add_all([*at_limit, *half])
        session.flush()
        purged = privacy.purge_expired_details(session, now=NOW, keep=keep)
    with session_scope(engine) as session:
        found = sorted(
            (
                (c.kind, c.note, c.latitude, c.longitude)
                for c in checkins_of(session, staff_id=staff_id)
            ),
            key=repr,
        )
    assert (purged.notes, purged.locations, purged.messages) == (0, 2, 0)
    assert purged.total == 2
    assert found == [
        ("help", None, None, None),
        ("location", "n", 1.0, 2.0),
        ("safe", "n", 1.0, 2.0),
        ("safe", None, None, None),
    ]


def test_an_export_lists_each_record_with_every_field(engine: Engine) -> None:
    with session_scope(engine) as session:
        world = _world(session)
        sam, sam_id = world.sam, world.sam.id or 0
        created = invites.create(
            session, role=Role.LEAD, created_by_staff_id=sam_id, now=NOW, ttl=timedelta(days=7)
        )
        used = invites.create(
            session, role=Role.STAFF, created_by_staff_id=None, now=NOW, ttl=timedelta(days=7)
        )
        assert invites.redeem(session, code=used.code, staff_id=sam_id, now=NOW).ok
        draft = broadcasts.create_draft(
            session, country="KZ", text="Stay in", author_staff_id=sam_id, now=NOW
        )
        curfew_ids = [
            curfews.create(
                session,
                country="KZ",
                area=area,
                zone="Asia/Almaty",
                start="23:00",
                end="07:00",
                first_day=date(2025, 3, 10),
                last_day=last_day,
                status=CurfewStatus.ACTIVE,
                now=NOW,
                set_by_staff_id=sam_id,
            ).id
            for area, last_day in (("Almaty", date(2025, 3, 20)), (None, None))
        ]
        own = checkins.create_round(
            session,
            country="GE",
            message="Are you safe in Tbilisi?",
            started_by_staff_id=sam_id,
            alert_id=None,
            now=NOW,
            deadline_at=NOW + timedelta(hours=2),
            remind_every_minutes=30,
        )
        for rollcall in (world.rollcall, own):
            rollcall.closed_by_staff_id = sam_id
            rollcall.closed_at = NOW + timedelta(hours=1)
            session.add(rollcall)
        # A second copy of a report about Sam, not yet delivered.
        deliveries.enqueue(
            session,
            kind=DeliveryKind.UNREACHABLE,
            dedupe_key=f"unreachable:{sam_id}:1",
            about_staff_id=sam_id,
            recipients=[Recipient(world.nina.id or 0, world.nina.chat_id)],
            parts=["Sam can't be reached"],
            priority=Priority.CRITICAL,
            now=NOW,
        )
        # Someone else's acknowledgement of another alert, and a round Sam was asked in
        # first although it was started later.
        shelter = Alert(kind=AlertKind.SECURITY.value, country="GE", title="Shelter")
        session.add(shelter)
        session.flush()
        session.add(Acknowledgement(alert_id=shelter.id or 0, staff_id=world.lena.id or 0, at=NOW))
        # The alert reached Sam at 12:05, after a failed first attempt.
        delivered = session.exec(
            select(Delivery).where(
                Delivery.staff_id == sam_id, Delivery.dedupe_key == f"alert:{world.alert_id}"
            )
        ).one()
        delivered.sent_at, delivered.attempts = NOW + timedelta(minutes=5), 2
        delivered.last_error = "Bad Gateway"
        session.add(delivered)
        earlier, later = (
            checkins.create_round(
                session,
                country=country,
                message="Still safe?",
                started_by_staff_id=None,
                alert_id=None,
                now=NOW,
                deadline_at=NOW + timedelta(hours=3),
                remind_every_minutes=30,
            )
            for country in ("UZ", "TJ")
        )
        for rollcall in (later, earlier):
            checkins.add_members(session, round_id=rollcall.id or 0, staff_ids=[sam_id])
        session.flush()
        data = privacy.export(session, person=sam, now=NOW)
        since = {
            s.country: privacy.iso(s.created_at)
            for s in session.exec(select(Subscription).where(Subscription.staff_id == sam_id))
        }
        audit_at = [
            privacy.iso(e.at) for e in session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))
        ]
        lena_messages = privacy.export(session, person=world.lena, now=NOW)["messages_to_you"]
    assert data["person"] == {
        "id": sam_id,
        "telegram_user_id": sam.telegram_user_id,
        "chat_id": sam.chat_id,
        "display_name": "Sam",
        "username": "sam",
        "role": "staff",
        "reachable": True,
        "curfew_reminder_minutes": 60,
        "phone": None,
        "emergency_contact": None,
        "mobile_for_sms": None,
        "email": None,
        "enrolled_at": privacy.iso(sam.created_at),
        "updated_at": privacy.iso(sam.updated_at),
    }
    assert data["subscriptions"] == [
        {"country": "GE", "since": since["GE"]},
        {"country": "KZ", "since": since["KZ"]},
    ]
    assert data["checkins"] == [
        {
            "kind": "safe",
            "note": "Sam is at the hotel",
            "latitude": 43.25,
            "longitude": 76.95,
            "at": "2025-03-10T09:00:00+00:00",
        },
        {
            "kind": "location",
            "note": None,
            "latitude": 43.26,
            "longitude": 76.96,
            "at": "2025-03-10T10:00:00+00:00",
        },
    ]
    assert data["roll_calls_asked"][0] == {
        "round_id": world.rollcall.id,
        "country": "KZ",
        "question": "Explosion near the square; are you safe?",
        "started_at": "2025-03-10T10:00:00+00:00",
        "deadline_at": "2025-03-10T11:59:00+00:00",
        "status": "open",
        "answers": [
            {
                "answer": "help",
                "note": "Sam hurt a leg",
                "latitude": 43.27,
                "longitude": 76.97,
                "late": False,
                "via": "/help_me",
                "at": "2025-03-10T11:00:00+00:00",
            }
        ],
    }
    assert [r["round_id"] for r in data["roll_calls_asked"]] == [
        world.rollcall.id,
        earlier.id,
        later.id,
    ]
    assert data["acknowledgements"] == [
        {"alert_id": world.alert_id, "title": "Leave Kazakhstan", "at": "2025-03-10T12:00:00+00:00"}
    ]
    assert data["messages_to_you"] == [
        {
            "kind": "roll call question",
            "channel": "telegram",
            "alert_id": None,
            "part": 0,
            "status": "sent",
            "attempts": 0,
            "queued_at": "2025-03-10T12:00:00+00:00",
            "sent_at": None,
            "last_error": None,
            "text": "Are you safe?",
        },
        {
            "kind": "feed alert",
            "channel": "telegram",
            "alert_id": world.alert_id,
            "part": 0,
            "status": "sent",
            "attempts": 2,
            "queued_at": "2025-03-10T12:00:00+00:00",
            "sent_at": "2025-03-10T12:05:00+00:00",
            "last_error": "Bad Gateway",
            "text": "Leave now",
        },
    ]
    assert data["reports_about_you"][2] == {
        "kind": "unreachable notice",
        "queued_at": "2025-03-10T12:00:00+00:00",
        "recipients": 2,
        "delivered": 1,
        "text": "Sam can't be reached",
    }
    assert data["invites_created"] == [
        {
            "id": created.id,
            "role": "lead",
            "created_at": "2025-03-10T12:00:00+00:00",
            "expires_at": "2025-03-17T12:00:00+00:00",
            "used_at": None,
        }
    ]
    assert data["invite_used"] == [
        {"id": used.id, "role": "staff", "used_at": "2025-03-10T12:00:00+00:00"}
    ]
    assert data["broadcasts_written"] == [
        {
            "alert_id": draft.id,
            "country": "KZ",
            "status": "draft",
            "text": "Stay in",
            "written_at": "2025-03-10T12:00:00+00:00",
            "sent_at": None,
        }
    ]
    assert data["roll_calls_run"] == [
        {
            "round_id": world.rollcall.id,
            "country": "KZ",
            "question": "Explosion near the square; are you safe?",
            "you": ["ended"],
            "started_at": "2025-03-10T10:00:00+00:00",
            "deadline_at": "2025-03-10T11:59:00+00:00",
            "closed_at": "2025-03-10T13:00:00+00:00",
        },
        {
            "round_id": own.id,
            "country": "GE",
            "question": "Are you safe in Tbilisi?",
            "you": ["started", "ended"],
            "started_at": "2025-03-10T12:00:00+00:00",
            "deadline_at": "2025-03-10T14:00:00+00:00",
            "closed_at": "2025-03-10T13:00:00+00:00",
        },
    ]
    assert data["curfews_set"] == [
        {
            "curfew_id": curfew_ids[0],
            "country": "KZ",
            "area": "Almaty",
            "zone": "Asia/Almaty",
            "start": "23:00",
            "end": "07:00",
            "first_day": "2025-03-10",
            "last_day": "2025-03-20",
            "continuous": False,
            "days": None,
            "status": "active",
            "confirmed_at": None,
        },
        {
            "curfew_id": curfew_ids[1],
            "country": "KZ",
            "area": None,
            "zone": "Asia/Almaty",
            "start": "23:00",
            "end": "07:00",
            "first_day": "2025-03-10",
            "last_day": None,
            "continuous": False,
            "days": None,
            "status": "active",
            "confirmed_at": None,
        },
    ]
    assert data["audit_log"] == [
        {"at": audit_at[0], "action": "enrol", "outcome": "ok", "you": "acted", "detail": {}},
        {
            "at": audit_at[1],
            "action": "promote",
            "outcome": "ok",
            "you": "were named",
            "detail": {"new_role": "staff", "target": "you"},
        },
    ]
    assert all(m["text_left_out"] == "it is about other people" for m in lena_messages)


def test_forgetting_removes_each_line_about_the_person_and_their_links(engine: Engine) -> None:
    with session_scope(engine) as session:
        lena = _person(session, "Lena", Role.LEAD)
        ann = staff.enrol(
            session,
            telegram_user_id=next(_ids),
            chat_id=next(_ids),
            display_name="Ann O'Neil <&>",
            username=None,
            role=Role.LEAD,
        )
        sam = _person(session, "Sam")
        ann_id = ann.id or 0
        # A line is hers when it links to her profile, whatever the name beside it.
        ann_link = f'<a href="tg://user?id={ann.telegram_user_id}">'
        sam_link = f'<a href="tg://user?id={sam.telegram_user_id}">'
        lines = {
            f"• {ann_link}Ann O'Neil &lt;&amp;&gt;</a>": True,
            f"• {ann_link}Ann O'Neil &lt;&amp;&gt;</a>, 10:00": True,
            f"• {ann_link}Ann O'Neil &lt;&amp;&gt;</a>: “fine”": True,
            f"• {ann_link}Ann</a> [43.20, 76.90]": True,
            f'• <a href="tg://user?id={ann.telegram_user_id}0">Ann</a>, 10:00': False,
            # A report sent before names linked to profiles.
            "• Ann O'Neil &lt;&amp;&gt;, 10:00": True,
            "• Ann O'Neil &lt;&amp;&gt;son, 10:00": False,
            "• Ann O'Neil <&>, 10:00": False,
            f"  • {ann_link}Ann O'Neil &lt;&amp;&gt;</a>": False,
            f"• {sam_link}Sam</a> (@sam), 10:00": False,
        }
        rounds = []
        for asked, country in ((True, "KZ"), (False, "UZ")):
            rollcall = checkins.create_round(
                session,
                country=country,
                message="Are you safe?",
                started_by_staff_id=lena.id,
                alert_id=None,
                now=NOW,
                deadline_at=NOW + timedelta(hours=1),
                remind_every_minutes=30,
            )
            members = [ann_id, sam.id or 0] if asked else [sam.id or 0]
            checkins.add_members(session, round_id=rollcall.id or 0, staff_ids=members)
            _sent(
                session,
                kind=DeliveryKind.ROLLCALL_REPORT,
                key=checkins.deadline_key(rollcall.id or 0),
                round_id=rollcall.id,
                to=lena,
                text="\n".join(["<b>Roll call</b>", *lines]),
            )
            rounds.append(rollcall.id)
        # A round Ann ended, a broadcast she sent, and its live report in her chat.
        ended = checkins.create_round(
            session,
            country="GE",
            message="Are you safe?",
            started_by_staff_id=lena.id,
            alert_id=None,
            now=NOW,
            deadline_at=NOW + timedelta(hours=1),
            remind_every_minutes=30,
        )
        ended.closed_by_staff_id = ann_id
        session.add(ended)
        sent = broadcasts.create_draft(
            session, country="KZ", text="Curfew", author_staff_id=ann_id, now=NOW
        )
        assert broadcasts.claim_draft(
            session, alert_id=sent.id or 0, author_staff_id=ann_id, status=AlertStatus.SENT, now=NOW
        )
        broadcasts.set_report(session, alert_id=sent.id or 0, chat_id=ann.chat_id, message_id=5)
        signed = render.broadcast_message(
            country="KZ", text="Curfew", author=ann.display_name, at=NOW
        )
        _sent(
            session,
            kind=DeliveryKind.BROADCAST,
            key=f"alert:{sent.id}",
            to=sam,
            text=signed[0],
            alert_id=sent.id,
        )
        _sent(session, kind=DeliveryKind.BROADCAST, key="alert:999", to=sam, text=signed[0])
        audit.record(
            session,
            action="promote",
            actor_telegram_id=lena.telegram_user_id,
            actor_staff_id=lena.id,
            target_staff_id=ann_id,
            by_staff_id=lena.id,
            new_role="lead",
        )
        ids = (ended.id, sent.id)
    with session_scope(engine) as session:
        done = privacy.forget(session, staff_id=ann_id, configured_admin_ids=(), now=NOW)
        assert isinstance(done, privacy.Forgotten) and done.round_ids == [rounds[0]]
    with session_scope(engine) as session:
        reports = [
            session.exec(
                select(Delivery.text).where(Delivery.dedupe_key == checkins.deadline_key(r or 0))
            ).one()
            for r in rounds
        ]
        kept_round, kept_alert = session.get(RollCall, ids[0]), session.get(Alert, ids[1])
        texts = dict(
            session.exec(
                select(Delivery.dedupe_key, Delivery.text).where(Delivery.staff_id == sam.id)
            ).all()
        )
        (entry,) = session.exec(select(AuditEntry).where(AuditEntry.action == "promote")).all()
    assert reports[0].split("\n") == [
        "<b>Roll call</b>",
        *(privacy.FORGOTTEN_LINE if theirs else line for line, theirs in lines.items()),
    ]
    assert reports[1] == "\n".join(["<b>Roll call</b>", *lines])  # she was not asked there
    assert kept_round is not None and kept_round.closed_by_staff_id is None
    assert kept_alert is not None
    assert (
        kept_alert.status,
        kept_alert.created_by_staff_id,
        kept_alert.report_chat_id,
        kept_alert.report_message_id,
        kept_alert.report_done,
    ) == ("sent", None, None, None, True)
    assert texts[f"alert:{ids[1]}"] == signed[0].replace(
        "<i>From Ann O'Neil &lt;&amp;&gt;", "<i>From your security team"
    )
    assert texts["alert:999"] == signed[0]  # not hers
    assert (entry.actor_telegram_id, entry.actor_staff_id) == (lena.telegram_user_id, lena.id)
    assert json.loads(entry.detail or "{}") == {"by_staff_id": lena.id, "new_role": "lead"}


def test_audit_entries_naming_a_longer_id_are_not_the_persons(engine: Engine) -> None:
    with session_scope(engine) as session:
        sam = _person(session, "Sam")
        lena = _person(session, "Lena", Role.ADMIN)
        other = int(f"{sam.id}5")  # "staff_id": 15 looks like "staff_id": 1 to LIKE
        audit.record(
            session,
            action="promote",
            actor_telegram_id=lena.telegram_user_id,
            actor_staff_id=lena.id,
            target_staff_id=other,
        )
        assert privacy.export(session, person=sam, now=NOW)["audit_log"] == []
        assert privacy.holdings(session, person=sam).audit_entries == 0
        assert isinstance(
            privacy.forget(session, staff_id=sam.id or 0, configured_admin_ids=(), now=NOW),
            privacy.Forgotten,
        )
        (entry,) = session.exec(select(AuditEntry).where(AuditEntry.action == "promote")).all()
        assert json.loads(entry.detail or "{}") == {"target_staff_id": other}


def test_an_audit_entry_shows_the_person_as_you_and_leaves_out_others(engine: Engine) -> None:
    with session_scope(engine) as session:
        sam = _person(session, "Sam")
        lena = _person(session, "Lena", Role.ADMIN)
        audit.record(
            session,
            action="promote",
            actor_telegram_id=lena.telegram_user_id,
            actor_staff_id=lena.id,
            by_staff_id=lena.id,
            new_role="lead",
            staff_id=sam.id,
            target_staff_id=sam.id,
            zone="Asia/Almaty",
        )
        (entry,) = privacy.export(session, person=sam, now=NOW)["audit_log"]
    assert entry["detail"] == {
        "new_role": "lead",
        "staff_id": "you",
        "target": "you",
        "zone": "Asia/Almaty",
    }


def _organiser_work(session: Session, person: Staff, *, country: str, to: Staff) -> None:
    """What a lead leaves in the organisation's records: invites, broadcasts (a draft, a
    sent one signed by them and its live report in their chat), a curfew, a roll call they
    started and ended with its report in their chat, and the audit entries for them."""
    staff_id = person.id or 0
    invites.create(
        session, role=Role.STAFF, created_by_staff_id=staff_id, now=NOW, ttl=timedelta(days=7)
    )
    broadcasts.create_draft(
        session,
        country=country,
        text=f"{person.display_name} drafts",
        author_staff_id=staff_id,
        now=NOW,
    )
    sent = broadcasts.create_draft(
        session, country=country, text="Stay indoors", author_staff_id=staff_id, now=NOW
    )
    assert broadcasts.claim_draft(
        session, alert_id=sent.id or 0, author_staff_id=staff_id, status=AlertStatus.SENT, now=NOW
    )
    broadcasts.set_report(session, alert_id=sent.id or 0, chat_id=person.chat_id, message_id=11)
    for part in render.broadcast_message(
        country=country, text=sent.body, author=person.display_name, at=NOW
    ):
        _sent(
            session,
            kind=DeliveryKind.BROADCAST,
            key=f"alert:{sent.id}",
            to=to,
            text=part,
            alert_id=sent.id,
        )
    curfews.create(
        session,
        country=country,
        area=None,
        zone="Asia/Almaty",
        start="22:00",
        end="06:00",
        first_day=date(2025, 3, 10),
        last_day=None,
        status=CurfewStatus.ACTIVE,
        now=NOW,
        set_by_staff_id=staff_id,
    )
    rollcall = checkins.create_round(
        session,
        country=country,
        message=f"{person.display_name} asks: are you safe?",
        started_by_staff_id=staff_id,
        alert_id=None,
        now=NOW,
        deadline_at=NOW + timedelta(hours=1),
        remind_every_minutes=30,
    )
    checkins.set_report(session, round_id=rollcall.id or 0, chat_id=person.chat_id, message_id=12)
    question = question_text(rollcall, asked_by=person.display_name, advisory=None)
    _sent(
        session,
        kind=DeliveryKind.ROLLCALL_QUESTION,
        key=checkins.question_key(rollcall.id or 0),
        round_id=rollcall.id,
        to=to,
        text=question,
    )
    assert checkins.end_round(session, round_id=rollcall.id or 0, by_staff_id=staff_id, now=NOW)
    audit.record(
        session,
        action="curfew",
        actor_telegram_id=person.telegram_user_id,
        actor_staff_id=staff_id,
        country=country,
    )


_TABLES: tuple[Any, ...] = (
    Staff,
    Subscription,
    LeadCountry,
    CheckIn,
    RollCall,
    RollCallMember,
    RollCallAnswer,
    Acknowledgement,
    Alert,
    Delivery,
    Invite,
    Curfew,
    AuditEntry,
)


def _every_row(session: Session) -> dict[str, dict[int, dict[str, Any]]]:
    """Every row of every table, column by column, by table and id."""
    return {
        model.__name__: {
            row.id: {c.name: getattr(row, c.name) for c in model.__table__.columns}
            for row in session.exec(select(model)).all()
        }
        for model in _TABLES
    }


def _touches(
    table: str, row: dict[str, Any], person: Staff, about: set[str], asked_in: set[int]
) -> bool:
    """Whether forgetting `person` may change or delete this row: it is theirs, links to
    them, lived in their chat, reports on them, carries their name, or is a round they
    were asked in (which counts them as removed)."""
    staff_id = person.id
    if table == "RollCall" and row["id"] in asked_in:
        return True
    if table == "Staff":
        return bool(row["id"] == staff_id)
    if table == "AuditEntry":
        detail = json.loads(row["detail"] or "{}")
        return (
            row["actor_staff_id"] == staff_id
            or row["actor_telegram_id"] == person.telegram_user_id
            or any(k.endswith("staff_id") and v == staff_id for k, v in detail.items())
        )
    if table == "Delivery" and (row["dedupe_key"] in about or person.display_name in row["text"]):
        return True
    links = [v for k, v in row.items() if k.endswith("staff_id")]
    return staff_id in links or row.get("report_chat_id") == person.chat_id


def test_forgetting_one_person_leaves_everyone_elses_records_exactly_as_they_were(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        world = _world(session)
        lena, sam, nina = world.lena, world.sam, world.nina
        # Everyone has records of every kind: Nina and Sam lead a country too, and each
        # of the three does a lead's work that reaches the others.
        leads.lead(session, staff_id=nina.id or 0, country="UZ")
        leads.lead(session, staff_id=sam.id or 0, country="TJ")
        subs.subscribe(session, staff_id=lena.id or 0, country="KZ")
        _organiser_work(session, lena, country="GE", to=nina)
        _organiser_work(session, nina, country="UZ", to=sam)
        _organiser_work(session, sam, country="TJ", to=nina)
        used = invites.create(
            session, role=Role.STAFF, created_by_staff_id=None, now=NOW, ttl=timedelta(days=7)
        )
        assert invites.redeem(session, code=used.code, staff_id=nina.id or 0, now=NOW).ok
        session.add(Acknowledgement(alert_id=world.alert_id, staff_id=lena.id or 0, at=NOW))
        session.flush()
        about_sam = {
            key
            for key in session.exec(select(Delivery.dedupe_key).where(Delivery.staff_id == lena.id))
            if key.startswith(("safe:", "unreachable:", "help:"))
            or (key.startswith("rollcall:") and ":help:" in key)
        }
        before = _every_row(session)
        asked_in = set(
            session.exec(
                select(RollCallMember.round_id).where(RollCallMember.staff_id == sam.id)
            ).all()
        )
        exports = {p.id: privacy.export(session, person=p, now=NOW) for p in (lena, nina)}
        held = {p.id: privacy.holdings(session, person=p) for p in (lena, nina)}
    # What forgetting Sam may touch, and that each table also has rows it must not.
    touched = {
        table: {i for i, row in rows.items() if _touches(table, row, sam, about_sam, asked_in)}
        for table, rows in before.items()
    }
    assert all(rows.keys() - touched[table] for table, rows in before.items()), touched

    with session_scope(engine) as session:
        done = privacy.forget(session, staff_id=sam.id or 0, configured_admin_ids=(), now=NOW)
    assert isinstance(done, privacy.Forgotten)

    with session_scope(engine) as session:
        after = _every_row(session)
        exports_after = {p.id: privacy.export(session, person=p, now=NOW) for p in (lena, nina)}
        held_after = {p.id: privacy.holdings(session, person=p) for p in (lena, nina)}
    for table, rows in before.items():
        untouched = {i: row for i, row in rows.items() if i not in touched[table]}
        kept = {i: row for i, row in after[table].items() if i in rows}
        assert {i: kept.get(i) for i in untouched} == untouched, table
    # Nothing new but the audit entry that a deletion happened.
    assert {t: rows.keys() - before[t].keys() for t, rows in after.items()} == {
        t: (set() if t != "AuditEntry" else {max(after[t])}) for t in after
    }
    # Nina's copy of her data is the same but for Sam's signature on what he sent her,
    # and so is Lena's but for the three reports about Sam she had been sent.
    nina_expected = dict(exports[nina.id])
    nina_expected["messages_to_you"] = [
        {**m, "text": m["text"].replace("<i>From Sam", "<i>From your security team")}
        for m in nina_expected["messages_to_you"]
    ]
    assert nina_expected != exports[nina.id]
    assert exports_after[nina.id] == nina_expected
    assert held_after[nina.id] == held[nina.id]
    lena_before, lena_after = exports[lena.id], exports_after[lena.id]
    assert {k: v for k, v in lena_after.items() if k != "messages_to_you"} == {
        k: v for k, v in lena_before.items() if k != "messages_to_you"
    }
    assert len(lena_after["messages_to_you"]) == len(lena_before["messages_to_you"]) - 3
    assert held_after[lena.id] == dataclasses.replace(
        held[lena.id], messages_to_them=held[lena.id].messages_to_them - 3
    )


def test_forgetting_rewrites_the_audit_entries_about_the_person_exactly(engine: Engine) -> None:
    with session_scope(engine) as session:
        zoe = _person(session, "Zoë Ørsted", Role.LEAD)
        lena = _person(session, "Lena", Role.ADMIN)
        zoe_id = zoe.id or 0
        acted = audit.record(
            session,
            action="broadcast",
            actor_telegram_id=zoe.telegram_user_id,
            actor_staff_id=zoe_id,
            text="Évacuez — 東京",
            country="FR",
        )
        named = audit.record(
            session,
            action="promote",
            actor_telegram_id=lena.telegram_user_id,
            actor_staff_id=lena.id,
            target_staff_id=zoe_id,
            by_staff_id=lena.id,
            zone="Europe/Paris",
            reason="Zoë leads Île-de-France",
        )
        # A round she started, whose live report is still in her chat.
        rollcall = checkins.create_round(
            session,
            country="FR",
            message="Are you safe?",
            started_by_staff_id=zoe_id,
            alert_id=None,
            now=NOW,
            deadline_at=NOW + timedelta(hours=1),
            remind_every_minutes=30,
        )
        checkins.set_report(session, round_id=rollcall.id or 0, chat_id=zoe.chat_id, message_id=9)
        ids = (acted.id, named.id, rollcall.id)
    with session_scope(engine) as session:
        done = privacy.forget(session, staff_id=zoe_id, configured_admin_ids=(), now=NOW)
        assert isinstance(done, privacy.Forgotten)
    with session_scope(engine) as session:
        entries = {
            e.id: (e.actor_telegram_id, e.actor_staff_id, e.detail)
            for e in session.exec(select(AuditEntry))
        }
        kept_round = session.get(RollCall, ids[2])
    assert entries[ids[0]] == (None, None, '{"country": "FR", "text": "Évacuez — 東京"}')
    assert entries[ids[1]] == (
        lena.telegram_user_id,
        lena.id,
        f'{{"by_staff_id": {lena.id}, "reason": "Zoë leads Île-de-France", '
        '"zone": "Europe/Paris"}',
    )
    assert kept_round is not None
    assert (
        kept_round.started_by_staff_id,
        kept_round.report_chat_id,
        kept_round.report_message_id,
    ) == (None, None, None)


def test_audit_entries_whose_detail_is_not_an_object_show_no_detail(engine: Engine) -> None:
    with session_scope(engine) as session:
        sam = _person(session, "Sam")
        for detail in ("", "[1, 2]", '"promoted"', "null", "not json"):
            session.add(
                AuditEntry(
                    action="promote",
                    actor_telegram_id=sam.telegram_user_id,
                    actor_staff_id=sam.id,
                    detail=detail,
                )
            )
        session.flush()
        data = privacy.export(session, person=sam, now=NOW)
        assert privacy.holdings(session, person=sam).audit_entries == 5
        done = privacy.forget(session, staff_id=sam.id or 0, configured_admin_ids=(), now=NOW)
        assert isinstance(done, privacy.Forgotten)
        kept = session.exec(
            select(AuditEntry.actor_staff_id, AuditEntry.detail).where(
                AuditEntry.action == "promote"
            )
        ).all()
    assert [(e["you"], e["detail"]) for e in data["audit_log"]] == [("acted", {})] * 5
    assert kept == [(None, "{}")] * 5


def test_an_export_explains_itself_and_gives_each_record_its_times(engine: Engine) -> None:
    with session_scope(engine) as session:
        sam = _person(session, "Sam", Role.LEAD)
        sam_id = sam.id or 0
        leads.lead(session, staff_id=sam_id, country="KZ")
        # An invite he made, used a day later by Nina.
        invite = invites.create(
            session, role=Role.STAFF, created_by_staff_id=sam_id, now=NOW, ttl=timedelta(days=7)
        )
        nina = _person(session, "Nina")
        assert invites.redeem(
            session, code=invite.code, staff_id=nina.id or 0, now=NOW + timedelta(days=1)
        ).ok
        # A broadcast he sent at 12:30, and a curfew proposal he confirmed at 13:00.
        sent = broadcasts.create_draft(
            session, country="KZ", text="Stay in", author_staff_id=sam_id, now=NOW
        )
        assert broadcasts.claim_draft(
            session,
            alert_id=sent.id or 0,
            author_staff_id=sam_id,
            status=AlertStatus.SENT,
            now=NOW + timedelta(minutes=30),
        )
        proposal = curfews.create(
            session,
            country="KZ",
            area=None,
            zone="Asia/Almaty",
            start="23:00",
            end="06:00",
            first_day=date(2025, 3, 11),
            last_day=None,
            status=CurfewStatus.PROPOSED,
            now=NOW,
        )
        assert curfews.confirm(
            session, curfew_id=proposal.id or 0, by_staff_id=sam_id, now=NOW + timedelta(hours=1)
        )
        # A roll call he was asked in and has not answered.
        rollcall = checkins.create_round(
            session,
            country="KZ",
            message="Are you safe?",
            started_by_staff_id=None,
            alert_id=None,
            now=NOW,
            deadline_at=NOW + timedelta(hours=2),
            remind_every_minutes=30,
        )
        checkins.add_members(session, round_id=rollcall.id or 0, staff_ids=[sam_id])
        led_since = session.exec(
            select(LeadCountry.created_at).where(LeadCountry.staff_id == sam_id)
        ).one()
        data = privacy.export(session, person=sam, now=NOW)
    assert data["about"] == (
        "Everything Dutybot stores about you. Times are UTC (ISO 8601). Messages to you that "
        "report on other people are listed without their text, and other people's answers to "
        "roll calls you ran are not included. Invite codes are left out: an unused one still "
        "works."
    )
    assert data["countries_led"] == [{"country": "KZ", "since": privacy.iso(led_since)}]
    assert data["invites_created"] == [
        {
            "id": invite.id,
            "role": "staff",
            "created_at": "2025-03-10T12:00:00+00:00",
            "expires_at": "2025-03-17T12:00:00+00:00",
            "used_at": "2025-03-11T12:00:00+00:00",
        }
    ]
    assert data["broadcasts_written"] == [
        {
            "alert_id": sent.id,
            "country": "KZ",
            "status": "sent",
            "text": "Stay in",
            "written_at": "2025-03-10T12:00:00+00:00",
            "sent_at": "2025-03-10T12:30:00+00:00",
        }
    ]
    assert data["curfews_set"] == [
        {
            "curfew_id": proposal.id,
            "country": "KZ",
            "area": None,
            "zone": "Asia/Almaty",
            "start": "23:00",
            "end": "06:00",
            "first_day": "2025-03-11",
            "last_day": None,
            "continuous": False,
            "days": None,
            "status": "active",
            "confirmed_at": "2025-03-10T13:00:00+00:00",
        }
    ]
    assert data["roll_calls_asked"] == [
        {
            "round_id": rollcall.id,
            "country": "KZ",
            "question": "Are you safe?",
            "started_at": "2025-03-10T12:00:00+00:00",
            "deadline_at": "2025-03-10T14:00:00+00:00",
            "status": "open",
            "answers": [],
        }
    ]


def test_redacting_deadline_reports_counts_the_reports_it_changed(engine: Engine) -> None:
    with session_scope(engine) as session:
        lena = _person(session, "Lena", Role.LEAD)
        sam, nina = _person(session, "Sam"), _person(session, "Nina")
        sam_line = f'• <a href="tg://user?id={sam.telegram_user_id}">Sam</a> (@sam), 10:00'
        nina_line = f'• <a href="tg://user?id={nina.telegram_user_id}">Nina</a> (@nina), 10:05'
        report = "\n".join(["<b>Roll call</b>", sam_line, nina_line])
        for country in ("KZ", "UZ", "TJ"):
            rollcall = checkins.create_round(
                session,
                country=country,
                message="Are you safe?",
                started_by_staff_id=lena.id,
                alert_id=None,
                now=NOW,
                deadline_at=NOW + timedelta(hours=1),
                remind_every_minutes=30,
            )
            asked = [sam.id or 0, nina.id or 0] if country != "TJ" else [nina.id or 0]
            checkins.add_members(session, round_id=rollcall.id or 0, staff_ids=asked)
            # Two leads got the KZ report; the UZ one no longer names Sam.
            text = report if country != "UZ" else report.replace(f"{sam_line}\n", "")
            for to in (lena, nina) if country == "KZ" else (lena,):
                _sent(
                    session,
                    kind=DeliveryKind.ROLLCALL_REPORT,
                    key=checkins.deadline_key(rollcall.id or 0),
                    round_id=rollcall.id,
                    to=to,
                    text=text,
                )
        assert privacy._redact_deadline_reports(session, person=sam) == 2
        assert privacy._redact_deadline_reports(session, person=sam) == 0
        assert privacy._redact_deadline_reports(session, person=nina) == 4


def test_reports_written_before_names_were_links_lose_the_persons_plain_lines(
    engine: Engine,
) -> None:
    """Older deadline reports name people as plain text: "• Name (@username), ..." or,
    without a username, "• Name, ...", "• Name: ..." or "• Name [...]"."""
    with session_scope(engine) as session:
        lena = _person(session, "Lena", Role.LEAD)
        sam, samantha = _person(session, "Sam"), _person(session, "Samantha")
        nina = _person(session, "Nina")
        nina.username = None
        rollcall = a_round(session, "KZ", now=NOW, started_by=lena)
        people = [sam.id or 0, samantha.id or 0, nina.id or 0]
        checkins.add_members(session, round_id=rollcall.id or 0, staff_ids=people)
        lines = [
            "<b>Roll call</b>",
            "• Sam (@sam), 10:00: “at the hotel”",
            "• Sam (@sam) [43.25, 76.95]",
            "• Samantha (@samantha), 10:01",
            "• Sam (@sam)",
            "• Nina, 10:05",
            "• Nina: no answer",
            "• Nina [51.10, 71.40]",
            "• Nina",
            "• Ninasam, 10:06",
        ]
        _sent(
            session,
            kind=DeliveryKind.ROLLCALL_REPORT,
            key=checkins.deadline_key(rollcall.id or 0),
            round_id=rollcall.id,
            to=lena,
            text="\n".join(lines),
        )
        assert privacy._redact_deadline_reports(session, person=sam) == 1
        assert privacy._redact_deadline_reports(session, person=nina) == 1
        text = session.exec(select(Delivery.text).where(Delivery.staff_id == lena.id)).one()
    gone = privacy.FORGOTTEN_LINE
    assert text.split("\n") == [
        lines[0],
        gone,
        gone,
        lines[3],
        gone,
        gone,
        gone,
        gone,
        gone,
        lines[9],
    ]


def test_a_namesakes_roll_call_questions_keep_their_signature(engine: Engine) -> None:
    """Two leads called Sam: forgetting one leaves the other's name on what they sent."""
    with session_scope(engine) as session:
        sam, namesake = _person(session, "Sam", Role.LEAD), _person(session, "Sam", Role.LEAD)
        nina = _person(session, "Nina")
        texts: dict[str, str] = {}
        for who, country in ((sam, "KZ"), (namesake, "UZ")):
            rollcall = a_round(session, country, now=NOW, started_by=who)
            question = question_text(rollcall, asked_by=who.display_name, advisory=None)
            key = checkins.question_key(rollcall.id or 0)
            texts[key] = question
            _sent(
                session,
                kind=DeliveryKind.ROLLCALL_QUESTION,
                key=key,
                round_id=rollcall.id,
                to=nina,
                text=question,
            )
        assert all("<i>From Sam" in text for text in texts.values())
        sams = checkins.question_key(
            session.exec(select(RollCall.id).where(RollCall.started_by_staff_id == sam.id)).one()
            or 0
        )
        assert privacy.forget(session, staff_id=sam.id or 0, configured_admin_ids=(), now=NOW)
        after = dict(session.exec(select(Delivery.dedupe_key, Delivery.text)).all())
    signed = "<i>From your security team"
    assert after == {
        key: text.replace("<i>From Sam", signed) if key == sams else text
        for key, text in texts.items()
    }


def test_copies_of_calls_for_help_and_locations_count_as_reports_about_the_person(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        lena = _person(session, "Lena", Role.LEAD)
        sam = _person(session, "Sam")
        nina = _person(session, "Nina")
        for person in (sam, nina):
            name = person.display_name
            help_me = checkins.record_checkin(
                session,
                staff_id=person.id or 0,
                kind=CheckInKind.HELP,
                note=f"{name} is trapped",
                location=None,
                now=NOW,
            )
            shared = checkins.record_checkin(
                session,
                staff_id=person.id or 0,
                kind=CheckInKind.LOCATION,
                note=None,
                location=(43.2, 76.9),
                now=NOW,
            )
            _sent(
                session,
                kind=DeliveryKind.HELP_ALERT,
                key=f"help:{help_me.id}",
                about=person.id,
                to=lena,
                text=f"{name} needs help",
            )
            _sent(
                session,
                kind=DeliveryKind.LOCATION,
                key=f"location:{shared.id}",
                about=person.id,
                to=lena,
                text=f"{name} is at 43.2, 76.9",
            )
        held = privacy.holdings(session, person=sam)
        reports = privacy.export(session, person=sam, now=NOW)["reports_about_you"]
        assert isinstance(
            privacy.forget(session, staff_id=sam.id or 0, configured_admin_ids=(), now=NOW),
            privacy.Forgotten,
        )
        left = session.exec(select(Delivery.text).where(Delivery.staff_id == lena.id)).all()
    assert held.messages_about_them == 2
    assert [(r["kind"], r["text"], r["recipients"], r["delivered"]) for r in reports] == [
        ("call for help", "Sam needs help", 1, 1),
        ("location passed on", "Sam is at 43.2, 76.9", 1, 1),
    ]
    assert sorted(left) == ["Nina is at 43.2, 76.9", "Nina needs help"]


def test_unsigning_takes_names_literally(engine: Engine) -> None:
    """A name with LIKE's wildcards or a backslash (PostgreSQL's default LIKE escape)."""
    with session_scope(engine) as session:
        names = ["Ops_Team 100%", "Ops\\Team", "Q\\%_"]
        people = [_person(session, name, Role.LEAD) for name in names]
        reader = _person(session, "Nina")
        others = _person(session, "OpsXTeam 100%abc", Role.LEAD)
        written = {}
        for person in [*people, others]:
            alert = broadcasts.create_draft(
                session, country="KZ", text="Stay in", author_staff_id=person.id or 0, now=NOW
            )
            (text,) = render.broadcast_message(
                country="KZ", text="Stay in", author=person.display_name, at=NOW
            )
            _sent(
                session,
                kind=DeliveryKind.BROADCAST,
                key=f"alert:{alert.id}",
                to=reader,
                text=text,
                alert_id=alert.id,
            )
            written[person.display_name] = (f"alert:{alert.id}", text)
        for person in people:
            done = privacy.forget(
                session, staff_id=person.id or 0, configured_admin_ids=(), now=NOW
            )
            assert isinstance(done, privacy.Forgotten)
        texts = dict(session.exec(select(Delivery.dedupe_key, Delivery.text)).all())
    for name in names:
        key, text = written[name]
        signed = f"<i>From {name}"
        assert signed in text
        assert texts[key] == text.replace(signed, "<i>From your security team")
    key, text = written[others.display_name]
    assert texts[key] == text
