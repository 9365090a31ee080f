"""Personal data, record by record: what /export_me lists about calls for help, country
cards, trips and whereabouts, what /forget_me counts and deletes of them, and what the
retention job clears and counts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from db import deliveries, incidents, privacy, whereabouts
from db.deliveries import Recipient
from db.engine import session_scope
from db.incidents import HelpCall, HelpMessage, HelpReplying
from db.models import (
    CountryCard,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Priority,
    Role,
    Staff,
    Trip,
    Whereabouts,
)
from tests.harness import a_trip
from tests.harness import person as _person

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
KEEP = timedelta(days=30)
CUTOFF = NOW - KEEP


def _message(
    call_id: int, sender: Staff, *, from_person: bool, kind: str, text: str | None, at: datetime
) -> HelpMessage:
    return HelpMessage(
        call_id=call_id,
        sender_staff_id=sender.id,
        from_person=from_person,
        kind=kind,
        text=text,
        chat_id=sender.chat_id,
        message_id=1,
        at=at,
    )


def test_an_export_lists_each_call_for_help_with_its_whole_thread(engine: Engine) -> None:
    opened = NOW - timedelta(hours=5)
    with session_scope(engine) as session:
        sam, lena = _person(session, "Sam"), _person(session, "Lena", Role.LEAD)
        other = _person(session, "Nina")
        first = HelpCall(
            staff_id=sam.id or 0,
            opened_at=opened,
            owner_staff_id=lena.id,
            owned_at=opened + timedelta(minutes=3),
            closed_at=opened + timedelta(hours=1),
            closed_by_staff_id=lena.id,
            close_reason="safe",
        )
        second = HelpCall(staff_id=sam.id or 0, opened_at=NOW - timedelta(minutes=10))
        theirs = HelpCall(staff_id=other.id or 0, opened_at=opened)
        session.add_all([first, second, theirs])
        session.flush()
        first_id, second_id = first.id or 0, second.id or 0
        session.add_all(
            [
                _message(
                    first_id,
                    sam,
                    from_person=True,
                    kind="text",
                    text="Men with guns outside",
                    at=opened,
                ),
                _message(
                    first_id,
                    lena,
                    from_person=False,
                    kind="text",
                    text="Stay put, help is coming",
                    at=opened + timedelta(minutes=4),
                ),
                _message(
                    first_id,
                    sam,
                    from_person=True,
                    kind="location",
                    text="43.25, 76.95",
                    at=opened + timedelta(minutes=5),
                ),
                _message(
                    theirs.id or 0,
                    other,
                    from_person=True,
                    kind="text",
                    text="Nina's words",
                    at=opened,
                ),
            ]
        )
        session.flush()
        exported = privacy.export(session, person=sam, now=NOW)
    assert exported["calls_for_help"] == [
        {
            "call_id": first_id,
            "opened_at": "2025-03-10T07:00:00+00:00",
            "handled_since": "2025-03-10T07:03:00+00:00",
            "closed_at": "2025-03-10T08:00:00+00:00",
            "close_reason": "safe",
            "messages": [
                {
                    "from": "you",
                    "kind": "text",
                    "text": "Men with guns outside",
                    "at": "2025-03-10T07:00:00+00:00",
                },
                {
                    "from": "your security team",
                    "kind": "text",
                    "text": "Stay put, help is coming",
                    "at": "2025-03-10T07:04:00+00:00",
                },
                {
                    "from": "you",
                    "kind": "location",
                    "text": "43.25, 76.95",
                    "at": "2025-03-10T07:05:00+00:00",
                },
            ],
        },
        {
            "call_id": second_id,
            "opened_at": "2025-03-10T11:50:00+00:00",
            "handled_since": None,
            "closed_at": None,
            "close_reason": None,
            "messages": [],
        },
    ]


def test_an_export_lists_the_country_cards_in_the_persons_chat(engine: Engine) -> None:
    with session_scope(engine) as session:
        sam, nina = _person(session, "Sam"), _person(session, "Nina")
        session.add_all(
            [
                CountryCard(
                    staff_id=sam.id or 0,
                    country="KZ",
                    chat_id=sam.chat_id,
                    following=False,
                    text="Kazakhstan: no longer followed",
                    message_id=501,
                    pinned=False,
                    updated_at=NOW - timedelta(days=1),
                ),
                CountryCard(
                    staff_id=sam.id or 0,
                    country="GE",
                    chat_id=sam.chat_id,
                    following=True,
                    text="Georgia: calm",
                    message_id=502,
                    pinned=True,
                    updated_at=NOW - timedelta(hours=2),
                ),
                CountryCard(
                    staff_id=nina.id or 0,
                    country="GE",
                    chat_id=nina.chat_id,
                    text="Georgia: calm",
                    updated_at=NOW,
                ),
            ]
        )
        session.flush()
        exported = privacy.export(session, person=sam, now=NOW)
    assert exported["country_cards"] == [
        {
            "country": "GE",
            "chat_id": sam.chat_id,
            "message_id": 502,
            "pinned": True,
            "following": True,
            "text": "Georgia: calm",
            "updated_at": "2025-03-10T10:00:00+00:00",
        },
        {
            "country": "KZ",
            "chat_id": sam.chat_id,
            "message_id": 501,
            "pinned": False,
            "following": False,
            "text": "Kazakhstan: no longer followed",
            "updated_at": "2025-03-09T12:00:00+00:00",
        },
    ]


def test_an_export_lists_the_persons_trips_and_whereabouts_only(engine: Engine) -> None:
    with session_scope(engine) as session:
        sam, lena = _person(session, "Sam"), _person(session, "Lena", Role.LEAD)
        nina = _person(session, "Nina")
        own = Trip(
            staff_id=sam.id or 0,
            country="KZ",
            city="Almaty",
            zone="Asia/Almaty",
            first_day=date(2025, 3, 1),
            last_day=date(2025, 3, 20),
            starts_at=datetime(2025, 2, 28, 19, 0, tzinfo=UTC),
            ends_at=datetime(2025, 3, 20, 19, 0, tzinfo=UTC),
            created_at=NOW - timedelta(days=20),
        )
        by_lead = Trip(
            staff_id=sam.id or 0,
            country="GE",
            city=None,
            zone="Asia/Tbilisi",
            first_day=date(2025, 2, 1),
            last_day=date(2025, 2, 10),
            starts_at=datetime(2025, 1, 31, 20, 0, tzinfo=UTC),
            ends_at=datetime(2025, 2, 10, 20, 0, tzinfo=UTC),
            ended_at=datetime(2025, 2, 8, 9, 30, tzinfo=UTC),
            source="csv import",
            created_by_staff_id=lena.id,
            created_at=NOW - timedelta(days=40),
        )
        ninas = Trip(
            staff_id=nina.id or 0,
            country="AM",
            first_day=date(2025, 3, 1),
            last_day=date(2025, 3, 2),
            starts_at=datetime(2025, 2, 28, 20, 0, tzinfo=UTC),
            ends_at=datetime(2025, 3, 2, 20, 0, tzinfo=UTC),
        )
        session.add_all(
            [
                own,
                by_lead,
                ninas,
                Whereabouts(
                    staff_id=sam.id or 0,
                    latitude=43.25,
                    longitude=76.95,
                    country="KZ",
                    city="Almaty",
                    zone="Asia/Almaty",
                    seen_at=NOW - timedelta(minutes=30),
                    live_until=NOW + timedelta(minutes=30),
                    chosen_city="Astana",
                    chosen_country="KZ",
                    chosen_zone="Asia/Almaty",
                ),
                Whereabouts(staff_id=nina.id or 0, chosen_city="Yerevan", chosen_country="AM"),
            ]
        )
        session.flush()
        exported = privacy.export(session, person=sam, now=NOW)
    assert exported["trips"] == [
        {
            "id": own.id,
            "country": "KZ",
            "city": "Almaty",
            "time_zone": "Asia/Almaty",
            "first_day": "2025-03-01",
            "last_day": "2025-03-20",
            "ended_at": None,
            "recorded_from": "command",
            "recorded_by_someone_else": False,
            "recorded_at": "2025-02-18T12:00:00+00:00",
        },
        {
            "id": by_lead.id,
            "country": "GE",
            "city": None,
            "time_zone": "Asia/Tbilisi",
            "first_day": "2025-02-01",
            "last_day": "2025-02-10",
            "ended_at": "2025-02-08T09:30:00+00:00",
            "recorded_from": "csv import",
            "recorded_by_someone_else": True,
            "recorded_at": "2025-01-29T12:00:00+00:00",
        },
    ]
    assert exported["whereabouts"] == [
        {
            "latitude": 43.25,
            "longitude": 76.95,
            "country": "KZ",
            "city": "Almaty",
            "time_zone": "Asia/Almaty",
            "seen_at": "2025-03-10T11:30:00+00:00",
            "live_until": "2025-03-10T12:30:00+00:00",
            "chosen_city": "Astana",
            "chosen_country": "KZ",
            "chosen_time_zone": "Asia/Almaty",
        }
    ]


def test_retention_counts_the_last_places_seen_it_clears(engine: Engine) -> None:
    with session_scope(engine) as session:
        sam, nina = _person(session, "Sam"), _person(session, "Nina")
        dan = _person(session, "Dan")
        for person, seen in ((sam, CUTOFF - timedelta(days=1)), (nina, CUTOFF), (dan, None)):
            session.add(
                Whereabouts(
                    staff_id=person.id or 0,
                    latitude=None if seen is None else 41.7,
                    longitude=None if seen is None else 44.8,
                    country=None if seen is None else "GE",
                    seen_at=seen,
                    chosen_city="Tbilisi",
                )
            )
        session.flush()
        purged = privacy.purge_expired_details(session, now=NOW, keep=KEEP)
        left = {
            w.staff_id: (w.latitude, w.country, w.seen_at, w.chosen_city)
            for w in session.exec(select(Whereabouts)).all()
        }
    assert (purged.notes, purged.locations, purged.messages, purged.thread_messages) == (
        0,
        1,
        0,
        0,
    )
    assert purged.total == 1
    assert left == {
        sam.id: (None, None, None, "Tbilisi"),
        nina.id: (41.7, "GE", CUTOFF, "Tbilisi"),
        dan.id: (None, None, None, "Tbilisi"),
    }


def test_retention_drops_the_copied_photo_of_an_old_message(engine: Engine) -> None:
    with session_scope(engine) as session:
        sam, lena = _person(session, "Sam"), _person(session, "Lena", Role.LEAD)
        old = CUTOFF - timedelta(days=1)
        for key, at in (("call:1:message:1", old), ("call:1:message:2", NOW)):
            deliveries.enqueue(
                session,
                kind=DeliveryKind.HELP_MESSAGE,
                dedupe_key=key,
                about_staff_id=sam.id,
                recipients=[Recipient(lena.id or 0, lena.chat_id)],
                parts=["Sam: a photo of the street"],
                priority=Priority.CRITICAL,
                now=at,
                copy_from=(sam.chat_id, 77),
                status=DeliveryStatus.SENT,
            )
        purged = privacy.purge_expired_details(session, now=NOW, keep=KEEP)
        rows = {
            row.dedupe_key: (row.text, row.copy_from_chat_id, row.copy_message_id)
            for row in session.exec(select(Delivery)).all()
        }
    assert purged.messages == 1
    assert rows == {
        "call:1:message:1": (privacy.REDACTED_TEXT, None, None),
        "call:1:message:2": ("Sam: a photo of the street", sam.chat_id, 77),
    }


def test_retention_clears_thread_words_older_than_the_limit_of_calls_closed_before_it(
    engine: Engine,
) -> None:
    old = CUTOFF - timedelta(days=3)
    with session_scope(engine) as session:
        sam, lena = _person(session, "Sam"), _person(session, "Lena", Role.LEAD)
        long_ago = HelpCall(
            staff_id=sam.id or 0,
            opened_at=old,
            closed_at=CUTOFF - timedelta(days=1),
            close_reason="safe",
        )
        at_limit = HelpCall(
            staff_id=sam.id or 0, opened_at=old, closed_at=CUTOFF, close_reason="safe"
        )
        session.add_all([long_ago, at_limit])
        session.flush()
        messages = {
            "old words": _message(
                long_ago.id or 0, sam, from_person=True, kind="text", text="Help", at=old
            ),
            "old photo": _message(
                long_ago.id or 0, sam, from_person=True, kind="photo", text=None, at=old
            ),
            "words at the limit": _message(
                long_ago.id or 0,
                lena,
                from_person=False,
                kind="text",
                text="Are you still safe?",
                at=CUTOFF,
            ),
            "closed at the limit": _message(
                at_limit.id or 0, sam, from_person=True, kind="text", text="Help again", at=old
            ),
        }
        session.add_all(messages.values())
        session.flush()
        ids = {name: m.id for name, m in messages.items()}
        purged = privacy.purge_expired_details(session, now=NOW, keep=KEEP)
        texts = {m.id: m.text for m in session.exec(select(HelpMessage)).all()}
        again = privacy.purge_expired_details(session, now=NOW, keep=KEEP)
    assert purged.thread_messages == 1
    assert purged.total == 1
    assert {name: texts[ids[name]] for name in messages} == {
        "old words": None,
        "old photo": None,
        "words at the limit": "Are you still safe?",
        "closed at the limit": "Help again",
    }
    assert again.thread_messages == 0


def _out_in_the_field(
    session: Session, person: Staff, *, lead: Staff, trips: int, seen: bool = True
) -> int:
    """What a person in the field leaves: `trips` trips (the last one entered by the
    lead), the place they were last seen (if `seen`) and the city they chose, a call for help with
    the lead's answer in its thread, a pinned country card, a phone number and an
    emergency contact. Their call's id."""
    for n in range(trips):
        trip = a_trip(
            session,
            person,
            "KZ",
            starts=NOW + timedelta(days=10 * n),
            ends=NOW + timedelta(days=10 * n + 5),
        )
        trip.created_by_staff_id = lead.id if n == trips - 1 else None
        session.add(trip)
    if seen:
        whereabouts.record_location(
            session,
            staff_id=person.id or 0,
            latitude=43.25,
            longitude=76.95,
            country="KZ",
            city="Almaty",
            zone="Asia/Almaty",
            now=NOW,
        )
    whereabouts.choose_place(
        session, staff_id=person.id or 0, city="Astana", country="KZ", zone="Asia/Almaty"
    )
    call, _ = incidents.open_call(session, staff_id=person.id or 0, now=NOW)
    session.add_all(
        [
            _message(call.id or 0, person, from_person=True, kind="text", text="Shots", at=NOW),
            _message(call.id or 0, lead, from_person=False, kind="text", text="Stay", at=NOW),
        ]
    )
    session.add(
        CountryCard(staff_id=person.id or 0, country="KZ", chat_id=person.chat_id, text="KZ")
    )
    person.phone, person.emergency_contact = "+7 701 000 00 00", "Mother, +44 20 7946 0000"
    session.add(person)
    session.flush()
    return call.id or 0


def test_forgetting_counts_and_deletes_the_persons_trips_places_calls_and_cards_alone(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        lena, oleg = _person(session, "Lena", Role.LEAD), _person(session, "Oleg", Role.LEAD)
        sam, nina = _person(session, "Sam"), _person(session, "Nina")
        sams_call = _out_in_the_field(session, sam, lead=lena, trips=2)
        ninas_call = _out_in_the_field(session, nina, lead=lena, trips=3, seen=False)
        # Oleg is answering Sam's call, Lena Nina's.
        incidents.start_reply(session, staff_id=oleg.id or 0, call_id=sams_call, now=NOW)
        incidents.start_reply(session, staff_id=lena.id or 0, call_id=ninas_call, now=NOW)
        ninas_before = privacy.holdings(session, person=nina)
        sam_id = sam.id or 0

    def left(session: Session) -> dict[str, object]:
        return {
            "trips": sorted(t.staff_id for t in session.exec(select(Trip))),
            "places": sorted(w.staff_id for w in session.exec(select(Whereabouts))),
            "calls": sorted(c.id or 0 for c in session.exec(select(HelpCall))),
            "thread": sorted(m.call_id for m in session.exec(select(HelpMessage))),
            "replying": sorted((r.staff_id, r.call_id) for r in session.exec(select(HelpReplying))),
            "cards": sorted(c.staff_id for c in session.exec(select(CountryCard))),
        }

    with session_scope(engine) as session:
        assert left(session) == {
            "trips": sorted([sam_id] * 2 + [nina.id or 0] * 3),
            "places": sorted([sam_id, nina.id or 0]),
            "calls": sorted([sams_call, ninas_call]),
            "thread": sorted([sams_call] * 2 + [ninas_call] * 2),
            "replying": sorted([(oleg.id or 0, sams_call), (lena.id or 0, ninas_call)]),
            "cards": sorted([sam_id, nina.id or 0]),
        }
        done = privacy.forget(session, staff_id=sam_id, configured_admin_ids=(), now=NOW)
    assert done is not None
    held = done.held
    assert (held.trips, held.places, held.calls_for_help, held.cards, held.contact) == (
        2,
        2,
        1,
        1,
        True,
    )
    with session_scope(engine) as session:
        assert left(session) == {
            "trips": [nina.id or 0] * 3,
            "places": [nina.id or 0],
            "calls": [ninas_call],
            "thread": [ninas_call] * 2,
            "replying": [(lena.id or 0, ninas_call)],
            "cards": [nina.id or 0],
        }
        kept = session.get(Staff, nina.id)
        assert kept is not None
        assert privacy.holdings(session, person=kept) == ninas_before
    assert (ninas_before.trips, ninas_before.places, ninas_before.calls_for_help) == (3, 1, 1)
    assert (ninas_before.cards, ninas_before.contact) == (1, True)


def test_a_person_with_no_phone_or_emergency_contact_has_no_contact_kept(engine: Engine) -> None:
    with session_scope(engine) as session:
        sam = _person(session, "Sam")
        assert privacy.holdings(session, person=sam).contact is False
        sam.emergency_contact = "Mother, +44 20 7946 0000"
        assert privacy.holdings(session, person=sam).contact is True
        sam.emergency_contact, sam.phone = None, "+7 701 000 00 00"
        assert privacy.holdings(session, person=sam).contact is True
