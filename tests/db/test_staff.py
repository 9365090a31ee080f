"""People on the real database: finding them, keeping them current, reachability and the
role ladder with its guards (`db/staff.py`)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from db import staff
from db.engine import session_scope
from db.models import Role, Staff

# Telegram ids are 64-bit: every person here has one above 2**32.
_ids = itertools.count(2**32 + 1_000)


def _person(
    session: Session, name: str, role: Role = Role.STAFF, username: str | None = None
) -> Staff:
    user_id = next(_ids)
    return staff.enrol(
        session,
        telegram_user_id=user_id,
        chat_id=user_id + 1,
        display_name=name,
        username=username,
        role=role,
    )


def _role_of(engine: Engine, staff_id: int) -> str:
    with session_scope(engine) as session:
        person = session.get(Staff, staff_id)
        assert person is not None
        return person.role


def test_an_enrolled_person_is_found_by_their_64_bit_telegram_id(engine: Engine) -> None:
    big = 2**40 + 7
    with session_scope(engine) as session:
        staff.enrol(
            session,
            telegram_user_id=big,
            chat_id=-(2**40) - 9,
            display_name="Nurlan",
            username="nurlan_k",
            role=Role.LEAD,
        )
    with session_scope(engine) as session:
        found = staff.by_telegram_id(session, telegram_user_id=big)
        assert found is not None
        assert (found.telegram_user_id, found.chat_id) == (big, -(2**40) - 9)
        assert (found.display_name, found.username, found.role) == ("Nurlan", "nurlan_k", "lead")
        assert found.reachable is True
        assert found.curfew_reminder_minutes == 60
        assert found.created_at.tzinfo is not None
        assert found.created_at.utcoffset() == UTC.utcoffset(None)
        assert staff.by_telegram_id(session, telegram_user_id=big + 1) is None


def test_a_display_name_is_kept_to_200_characters(engine: Engine) -> None:
    with session_scope(engine) as session:
        person = _person(session, "A" * 250)
        assert person.display_name == "A" * 200
        staff.touch(
            session, person=person, chat_id=person.chat_id, display_name="B" * 201, username=None
        )
    with session_scope(engine) as session:
        stored = session.get(Staff, person.id)
        assert stored is not None and stored.display_name == "B" * 200


def test_a_person_is_found_by_username_with_or_without_at_in_any_case(engine: Engine) -> None:
    with session_scope(engine) as session:
        aigerim = _person(session, "Aigerim", username="Aigerim_S")
        _person(session, "Nobody")  # no username: never matched by a name
        _person(session, "Blank", username="")  # nor an empty one by an empty reference
        for reference in ("@Aigerim_S", "aigerim_s", "  @AIGERIM_S  ", "AiGeRiM_s"):
            found = staff.find(session, reference=reference)
            assert found is not None and found.id == aigerim.id, reference
        assert staff.find(session, reference="@aigerim") is None
        assert staff.find(session, reference="@") is None
        assert staff.find(session, reference="   ") is None
        assert staff.find(session, reference="") is None


def test_a_person_is_found_by_numeric_id_and_a_too_large_number_finds_nobody(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        big = _person(session, "Big")
        near_limit = staff.enrol(
            session,
            telegram_user_id=2**63 - 1,
            chat_id=1,
            display_name="Edge",
            username=None,
            role=Role.STAFF,
        )
        negative = staff.enrol(
            session,
            telegram_user_id=-(2**33),
            chat_id=2,
            display_name="Negative",
            username=None,
            role=Role.STAFF,
        )
        found = staff.find(session, reference=f" {big.telegram_user_id} ")
        assert found is not None and found.id == big.id
        edge = staff.find(session, reference=str(2**63 - 1))
        assert edge is not None and edge.id == near_limit.id
        neg = staff.find(session, reference=str(-(2**33)))
        assert neg is not None and neg.id == negative.id
        assert staff.find(session, reference=str(2**63)) is None
        assert staff.find(session, reference=str(10**30)) is None
        assert staff.find(session, reference=str(-(2**63))) is None


def test_a_username_made_of_digits_is_read_as_an_id_and_a_non_ascii_digit_as_a_name(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        person = _person(session, "Digits", username="١٢٣")  # Arabic-Indic digits
        found = staff.find(session, reference="@١٢٣")
        assert found is not None and found.id == person.id
        found = staff.find(session, reference="١٢٣")
        assert found is not None and found.id == person.id
        assert staff.find(session, reference="123") is None


def test_touch_keeps_name_username_and_chat_current_and_makes_them_reachable(
    engine: Engine,
) -> None:
    with session_scope(engine) as session:
        person = _person(session, "Olga", username="olga")
        assert staff.mark_unreachable(session, staff_id=person.id or 0)
        session.refresh(person)
        assert person.reachable is False
        staff.touch(session, person=person, chat_id=555, display_name="Olga K", username=None)
    with session_scope(engine) as session:
        stored = session.get(Staff, person.id)
        assert stored is not None
        assert (stored.chat_id, stored.display_name, stored.username, stored.reachable) == (
            555,
            "Olga K",
            None,
            True,
        )


def test_a_person_marked_unreachable_who_writes_again_is_reachable(engine: Engine) -> None:
    with session_scope(engine) as session:
        person = _person(session, "Gulnara", username="gulnara")
        staff.mark_unreachable(session, staff_id=person.id or 0)
    with session_scope(engine) as session:
        fresh = session.get(Staff, person.id)
        assert fresh is not None and fresh.reachable is False
        staff.touch(
            session,
            person=fresh,
            chat_id=fresh.chat_id,
            display_name=fresh.display_name,
            username=fresh.username,
        )
    with session_scope(engine) as session:
        stored = session.get(Staff, person.id)
        assert stored is not None and stored.reachable is True
    with session_scope(engine) as session:
        assert staff.mark_unreachable(session, staff_id=person.id or 0) is True


@pytest.mark.parametrize(
    "change",
    [
        {"chat_id": 999},
        {"display_name": "Renamed"},
        {"username": "renamed"},
    ],
)
def test_touch_writes_when_any_one_thing_changed(engine: Engine, change: dict[str, object]) -> None:
    with session_scope(engine) as session:
        person = _person(session, "Timur", username="timur")
        stamp = datetime(2020, 1, 1, tzinfo=UTC)
        person.updated_at = stamp
        session.add(person)
    with session_scope(engine) as session:
        fresh = session.get(Staff, person.id)
        assert fresh is not None
        current: dict[str, object] = {
            "chat_id": fresh.chat_id,
            "display_name": fresh.display_name,
            "username": fresh.username,
        } | change
        staff.touch(session, person=fresh, **current)  # type: ignore[arg-type]
    with session_scope(engine) as session:
        stored = session.get(Staff, person.id)
        assert stored is not None
        assert stored.updated_at > stamp
        for key, value in change.items():
            assert getattr(stored, key) == value


def test_touch_with_nothing_new_leaves_the_person_untouched(engine: Engine) -> None:
    stamp = datetime(2020, 1, 1, tzinfo=UTC)
    with session_scope(engine) as session:
        person = _person(session, "C" * 220, username="same")
        person.updated_at = stamp
        session.add(person)
    with session_scope(engine) as session:
        fresh = session.get(Staff, person.id)
        assert fresh is not None
        # The same long name as first given: its first 200 characters are what is stored.
        staff.touch(
            session, person=fresh, chat_id=fresh.chat_id, display_name="C" * 220, username="same"
        )
    with session_scope(engine) as session:
        stored = session.get(Staff, person.id)
        assert stored is not None and stored.updated_at == stamp


def test_unreachable_is_reported_once_to_the_call_that_changed_it(engine: Engine) -> None:
    with session_scope(engine) as session:
        person = _person(session, "Dana")
        other = _person(session, "Erlan")
    with session_scope(engine) as session:
        assert staff.mark_unreachable(session, staff_id=person.id or 0) is True
    with session_scope(engine) as session:
        assert staff.mark_unreachable(session, staff_id=person.id or 0) is False
        assert staff.mark_unreachable(session, staff_id=10**6) is False
        stored, untouched = session.get(Staff, person.id), session.get(Staff, other.id)
        assert stored is not None and stored.reachable is False
        assert untouched is not None and untouched.reachable is True


def test_everyone_is_listed_by_name_then_by_enrolment(engine: Engine) -> None:
    with session_scope(engine) as session:
        _person(session, "Zarina")
        first_bolat = _person(session, "Bolat")
        _person(session, "Aliya")
        second_bolat = _person(session, "Bolat")
        listed = [(p.display_name, p.id) for p in staff.everyone(session)]
        assert listed == [
            ("Aliya", listed[0][1]),
            ("Bolat", first_bolat.id),
            ("Bolat", second_bolat.id),
            ("Zarina", listed[3][1]),
        ]


def test_count_admins_counts_admins_only(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert staff.count_admins(session) == 0
        _person(session, "Ada", Role.ADMIN)
        _person(session, "Lena", Role.LEAD)
        _person(session, "Sam")
        _person(session, "Abe", Role.ADMIN)
        assert staff.count_admins(session) == 2


def test_set_role_stores_the_role_and_stamps_the_change(engine: Engine) -> None:
    stamp = datetime(2020, 1, 1, tzinfo=UTC)
    with session_scope(engine) as session:
        person = _person(session, "Sam")
        person.updated_at = stamp
        session.add(person)
    with session_scope(engine) as session:
        fresh = session.get(Staff, person.id)
        assert fresh is not None
        staff.set_role(session, person=fresh, role=Role.ADMIN)
    with session_scope(engine) as session:
        stored = session.get(Staff, person.id)
        assert stored is not None
        assert stored.role == "admin"
        assert stored.updated_at > stamp


def test_promotion_climbs_one_step_at_a_time_and_stops_at_admin(engine: Engine) -> None:
    with session_scope(engine) as session:
        sam = _person(session, "Sam")
        assert staff.change_role(session, person=sam, up=True) == staff.RoleChange(
            Role.STAFF, Role.LEAD
        )
        assert staff.change_role(session, person=sam, up=True) == staff.RoleChange(
            Role.LEAD, Role.ADMIN
        )
        assert staff.change_role(session, person=sam, up=True) == staff.RoleChange(
            Role.ADMIN, None, "Sam is already an admin."
        )
    assert _role_of(engine, sam.id or 0) == "admin"


def test_promotion_to_a_named_role_skips_steps_but_never_goes_down(engine: Engine) -> None:
    with session_scope(engine) as session:
        sam = _person(session, "Sam")
        lena = _person(session, "Lena", Role.LEAD)
        assert staff.change_role(session, person=sam, up=True, to=Role.ADMIN) == (
            staff.RoleChange(Role.STAFF, Role.ADMIN)
        )
        assert staff.change_role(session, person=lena, up=True, to=Role.LEAD) == (
            staff.RoleChange(Role.LEAD, None, "Lena is already a security lead.")
        )
        assert staff.change_role(session, person=sam, up=True, to=Role.LEAD) == (
            staff.RoleChange(Role.ADMIN, None, "Sam is already an admin.")
        )
    assert _role_of(engine, sam.id or 0) == "admin"
    assert _role_of(engine, lena.id or 0) == "lead"


def test_demotion_steps_down_one_at_a_time_and_refuses_below_staff(engine: Engine) -> None:
    with session_scope(engine) as session:
        _person(session, "Ada", Role.ADMIN)
        abe = _person(session, "Abe", Role.ADMIN)
        assert staff.change_role(session, person=abe, up=False) == staff.RoleChange(
            Role.ADMIN, Role.LEAD
        )
        assert staff.change_role(session, person=abe, up=False) == staff.RoleChange(
            Role.LEAD, Role.STAFF
        )
        assert staff.change_role(session, person=abe, up=False) == staff.RoleChange(
            Role.STAFF, None, "Abe is already staff."
        )
    assert _role_of(engine, abe.id or 0) == "staff"


def test_the_last_admin_cannot_be_demoted(engine: Engine) -> None:
    with session_scope(engine) as session:
        ada = _person(session, "Ada", Role.ADMIN)
        _person(session, "Lena", Role.LEAD)
        assert staff.change_role(session, person=ada, up=False) == staff.RoleChange(
            Role.ADMIN, None, "That is the last admin; promote someone else first."
        )
    assert _role_of(engine, ada.id or 0) == "admin"
    with session_scope(engine) as session:
        _person(session, "Abe", Role.ADMIN)
        fresh = session.get(Staff, ada.id)
        assert fresh is not None
        assert staff.change_role(session, person=fresh, up=False).new is Role.LEAD
    assert _role_of(engine, ada.id or 0) == "lead"


def test_an_admin_from_admin_telegram_ids_cannot_be_demoted_here(engine: Engine) -> None:
    with session_scope(engine) as session:
        ada = _person(session, "Ada", Role.ADMIN)
        _person(session, "Abe", Role.ADMIN)
        configured = [1, ada.telegram_user_id]
        assert staff.change_role(
            session, person=ada, up=False, configured_admin_ids=configured
        ) == staff.RoleChange(
            Role.ADMIN,
            None,
            "Ada is an admin through ADMIN_TELEGRAM_IDS; remove them there first.",
        )
        # Someone else in the list is no shield.
        assert staff.change_role(session, person=ada, up=False, configured_admin_ids=[1]).new is (
            Role.LEAD
        )
    assert _role_of(engine, ada.id or 0) == "lead"


def test_roles_are_named_for_people(engine: Engine) -> None:
    assert staff.role_words(Role.STAFF) == "staff"
    assert staff.role_words(Role.LEAD) == "a security lead"
    assert staff.role_words(Role.ADMIN) == "an admin"
    assert staff.role_words("lead") == "a security lead"
    with pytest.raises(ValueError):
        staff.role_words("boss")
