"""Curfews on the real database: drafts and proposals, confirming once, replacing the
curfew of the same place, ending, and who is reminded (`db/curfews.py`)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from db import curfews, staff, subscriptions
from db.engine import session_scope
from db.models import Curfew, CurfewStatus, Role, Staff
from db.types import utcnow

NOW = datetime(2026, 3, 14, 18, 30, tzinfo=UTC)
_ids = itertools.count(2**33 + 500)


def _person(session: Session, name: str, *follows: str) -> Staff:
    user_id = next(_ids)
    person = staff.enrol(
        session,
        telegram_user_id=user_id,
        chat_id=user_id,
        display_name=name,
        username=None,
        role=Role.LEAD,
    )
    for country in follows:
        subscriptions.subscribe(session, staff_id=person.id or 0, country=country)
    return person


def _curfew(
    session: Session,
    *,
    country: str = "KZ",
    area: str | None = None,
    status: CurfewStatus = CurfewStatus.DRAFT,
    start: str = "22:00",
) -> Curfew:
    return curfews.create(
        session,
        country=country,
        area=area,
        zone="Asia/Almaty",
        start=start,
        end="06:00",
        first_day=date(2026, 3, 14),
        last_day=None,
        status=status,
        now=NOW,
    )


def _status(engine: Engine, curfew_id: int) -> str:
    with session_scope(engine) as session:
        curfew = session.get(Curfew, curfew_id)
        assert curfew is not None
        return curfew.status


def test_a_created_curfew_keeps_everything_it_was_given(engine: Engine) -> None:
    with session_scope(engine) as session:
        lead = _person(session, "Lena")
        created = curfews.create(
            session,
            country="GE",
            area="Tbilisi",
            zone="Asia/Tbilisi",
            start="23:00",
            end="05:00",
            first_day=date(2026, 3, 14),
            last_day=date(2026, 3, 20),
            status=CurfewStatus.PROPOSED,
            now=NOW,
            set_by_staff_id=lead.id,
            stated_utc="19:00-01:00",
            sentence="A curfew is in force in Tbilisi from 23:00 to 05:00.",
        )
        assert created.id is not None
    with session_scope(engine) as session:
        stored = session.get(Curfew, created.id)
        assert stored is not None
        assert (stored.country, stored.area, stored.zone) == ("GE", "Tbilisi", "Asia/Tbilisi")
        assert (stored.start, stored.end) == ("23:00", "05:00")
        assert (stored.first_day, stored.last_day) == (date(2026, 3, 14), date(2026, 3, 20))
        assert stored.status == "proposed"
        assert stored.set_by_staff_id == lead.id
        assert stored.alert_id is None
        assert stored.stated_utc == "19:00-01:00"
        assert stored.sentence == "A curfew is in force in Tbilisi from 23:00 to 05:00."
        assert stored.created_at == NOW
        assert stored.created_at.tzinfo is not None
        assert (stored.confirmed_at, stored.ended_at) == (None, None)


def test_a_draft_or_proposal_is_confirmed_once_and_a_second_tap_gets_nothing(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        lena, omar = _person(session, "Lena"), _person(session, "Omar")
        draft = _curfew(session, status=CurfewStatus.DRAFT)
        proposal = _curfew(session, status=CurfewStatus.PROPOSED, area="Almaty")
    later = NOW + timedelta(minutes=3)
    with session_scope(engine) as session:
        confirmed = curfews.confirm(
            session, curfew_id=draft.id or 0, by_staff_id=omar.id or 0, now=later
        )
        assert confirmed is not None
        assert (confirmed.id, confirmed.status, confirmed.confirmed_at) == (
            draft.id,
            "active",
            later,
        )
        assert confirmed.set_by_staff_id == omar.id
        taken = curfews.confirm(
            session, curfew_id=proposal.id or 0, by_staff_id=lena.id or 0, now=later
        )
        assert taken is not None and taken.status == "active"
    with session_scope(engine) as session:
        again = curfews.confirm(
            session, curfew_id=draft.id or 0, by_staff_id=lena.id or 0, now=later + timedelta(1)
        )
        assert again is None
        assert (
            curfews.confirm(session, curfew_id=10**6, by_staff_id=lena.id or 0, now=later) is None
        )
    with session_scope(engine) as session:
        stored = session.get(Curfew, draft.id)
        assert stored is not None
        assert (stored.status, stored.confirmed_at, stored.set_by_staff_id) == (
            "active",
            later,
            omar.id,
        )


def test_a_discarded_or_ended_curfew_cannot_be_confirmed(engine: Engine) -> None:
    with session_scope(engine) as session:
        lena = _person(session, "Lena")
        dropped = _curfew(session)
        ended = _curfew(session, status=CurfewStatus.ACTIVE)
        assert curfews.discard(session, curfew_id=dropped.id or 0) is not None
        assert curfews.end(session, curfew_id=ended.id or 0, now=NOW) is not None
        for curfew in (dropped, ended):
            assert (
                curfews.confirm(
                    session, curfew_id=curfew.id or 0, by_staff_id=lena.id or 0, now=NOW
                )
                is None
            )
    assert _status(engine, dropped.id or 0) == "discarded"
    assert _status(engine, ended.id or 0) == "ended"


def test_discarding_works_on_drafts_and_proposals_only(engine: Engine) -> None:
    with session_scope(engine) as session:
        draft = _curfew(session, status=CurfewStatus.DRAFT)
        proposal = _curfew(session, status=CurfewStatus.PROPOSED)
        running = _curfew(session, status=CurfewStatus.ACTIVE)
        gone = curfews.discard(session, curfew_id=draft.id or 0)
        assert gone is not None and (gone.id, gone.status) == (draft.id, "discarded")
        gone = curfews.discard(session, curfew_id=proposal.id or 0)
        assert gone is not None and gone.status == "discarded"
        assert curfews.discard(session, curfew_id=draft.id or 0) is None
        assert curfews.discard(session, curfew_id=running.id or 0) is None
        assert curfews.discard(session, curfew_id=10**6) is None
    assert _status(engine, running.id or 0) == "active"


def test_ending_works_once_on_an_active_curfew_only(engine: Engine) -> None:
    with session_scope(engine) as session:
        running = _curfew(session, status=CurfewStatus.ACTIVE)
        draft = _curfew(session)
    later = NOW + timedelta(hours=5)
    with session_scope(engine) as session:
        ended = curfews.end(session, curfew_id=running.id or 0, now=later)
        assert ended is not None and (ended.id, ended.status) == (running.id, "ended")
        assert curfews.end(session, curfew_id=running.id or 0, now=later + timedelta(1)) is None
        assert curfews.end(session, curfew_id=draft.id or 0, now=later) is None
        assert curfews.end(session, curfew_id=10**6, now=later) is None
    with session_scope(engine) as session:
        stored = session.get(Curfew, running.id)
        assert stored is not None and stored.ended_at == later
    assert _status(engine, draft.id or 0) == "draft"


def test_a_new_curfew_replaces_the_active_one_for_the_same_place_whatever_the_case(
    engine: Engine,
) -> None:
    later = NOW + timedelta(hours=1)
    with session_scope(engine) as session:
        almaty = _curfew(session, area="Almaty", status=CurfewStatus.ACTIVE)
        nationwide = _curfew(session, area=None, status=CurfewStatus.ACTIVE)
        elsewhere = _curfew(session, country="GE", area="Almaty", status=CurfewStatus.ACTIVE)
        astana = _curfew(session, area="Astana", status=CurfewStatus.ACTIVE)
        new = _curfew(session, area="ALMATY", status=CurfewStatus.ACTIVE, start="21:00")
        old = curfews.replaced_by(session, curfew=new, now=later)
        assert old is not None and old.id == almaty.id
        assert (old.status, old.ended_at) == ("ended", later)
        # Nothing else is active there any more: a second look finds nothing.
        assert curfews.replaced_by(session, curfew=new, now=later) is None
    assert [_status(engine, c.id or 0) for c in (nationwide, elsewhere, astana, new)] == [
        "active"
    ] * 4
    with session_scope(engine) as session:
        country_wide = _curfew(session, area=None, status=CurfewStatus.ACTIVE, start="20:00")
        old = curfews.replaced_by(session, curfew=country_wide, now=later)
        assert old is not None and old.id == nationwide.id


def test_a_place_named_in_cyrillic_is_replaced_whatever_the_case(engine: Engine) -> None:
    with session_scope(engine) as session:
        first = _curfew(session, area="Алматы", status=CurfewStatus.ACTIVE)
        again = _curfew(session, area="АЛМАТЫ", status=CurfewStatus.ACTIVE, start="21:00")
        old = curfews.replaced_by(session, curfew=again, now=NOW)
        assert old is not None and old.id == first.id
    assert _status(engine, first.id or 0) == "ended"


def test_drafts_and_proposals_are_never_replaced(engine: Engine) -> None:
    with session_scope(engine) as session:
        draft = _curfew(session, area="Almaty", status=CurfewStatus.DRAFT)
        proposal = _curfew(session, area="Almaty", status=CurfewStatus.PROPOSED)
        new = _curfew(session, area="Almaty", status=CurfewStatus.ACTIVE)
        assert curfews.replaced_by(session, curfew=new, now=NOW) is None
    assert _status(engine, draft.id or 0) == "draft"
    assert _status(engine, proposal.id or 0) == "proposed"


def test_active_curfews_are_listed_by_country_then_age_and_can_be_narrowed(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        kz_1 = _curfew(session, country="KZ", area="Almaty", status=CurfewStatus.ACTIVE)
        ge = _curfew(session, country="GE", status=CurfewStatus.ACTIVE)
        _curfew(session, country="AM", status=CurfewStatus.DRAFT)
        kz_2 = _curfew(session, country="KZ", area="Astana", status=CurfewStatus.ACTIVE)
        ended = _curfew(session, country="AM", status=CurfewStatus.ACTIVE)
        curfews.end(session, curfew_id=ended.id or 0, now=NOW)
        assert [c.id for c in curfews.active(session)] == [ge.id, kz_1.id, kz_2.id]
        assert [c.id for c in curfews.active(session, countries=["KZ", "AM"])] == [
            kz_1.id,
            kz_2.id,
        ]
        assert list(curfews.active(session, countries=[])) == []


def test_reminder_times_are_those_of_subscribers_telegram_or_a_fallback_reaches(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        dana = _person(session, "Dana", "KZ", "GE")
        erlan = _person(session, "Erlan", "KZ")
        gone = _person(session, "Gone", "KZ")
        cut_off = _person(session, "Cut off", "KZ")
        cut_off.mobile = "+77011234567"
        staff.mark_unreachable(session, staff_id=cut_off.id or 0)
        _person(session, "Other", "AM")
        curfews.set_reminder_minutes(session, staff=erlan, minutes=None)
        curfews.set_reminder_minutes(session, staff=dana, minutes=15)
        staff.mark_unreachable(session, staff_id=gone.id or 0)
    with session_scope(engine) as session:
        assert curfews.subscribers_with_lead_times(
            session, countries=["KZ", "GE", "FR"], now=utcnow()
        ) == {
            "KZ": {dana.id: 15, erlan.id: None, cut_off.id: 60},
            "GE": {dana.id: 15},
        }
        assert curfews.subscribers_with_lead_times(session, countries=[], now=utcnow()) == {}
        stored = session.get(Staff, erlan.id)
        assert stored is not None and stored.curfew_reminder_minutes is None
