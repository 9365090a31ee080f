"""Schema migrations: they build exactly the models' schema, keep every row through an
upgrade, adopt databases from before migrations, and refuse what they cannot handle.

Each test runs on the suite's database: SQLite by default, PostgreSQL with
TEST_DATABASE_URL (CI runs both).
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from db import migrations

SAMPLES = Path(__file__).resolve().parent / "migration_samples"

# A revision that drops a table or column on purpose names it here ("table" or
# "table.column"); anything else that disappears in an upgrade is data lost.
DROPPED_ON_PURPOSE: set[str] = set()


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _with_samples(engine: Engine) -> Config:
    """The real revisions and the test-only one on top of them."""
    config = migrations.alembic_config(_url(engine))
    locations = [str(migrations.MIGRATIONS_DIR / "versions"), str(SAMPLES)]
    config.set_main_option("version_locations", os.pathsep.join(locations))
    return config


def test_an_empty_database_upgraded_to_the_head_matches_the_models(empty_engine: Engine) -> None:
    done = migrations.upgrade(empty_engine)
    assert done == migrations.Upgrade(before=None, after=migrations.head_revision())
    assert migrations.current_revision(empty_engine) == migrations.head_revision()
    assert migrations.schema_differences(empty_engine) == []
    with empty_engine.connect() as connection:
        seeded = connection.exec_driver_sql("SELECT kind, url FROM source").all()
    assert [tuple(row) for row in seeded] == [
        ("us-state", "https://travel.state.gov/_res/rss/TAsTWs.xml")
    ]
    # A second upgrade finds nothing to do and changes nothing.
    assert not migrations.upgrade(empty_engine).changed

    # The comparison does see a difference: the outbox without its due index.
    with empty_engine.begin() as connection:
        connection.exec_driver_sql("DROP INDEX ix_delivery_due")
    differences = migrations.schema_differences(empty_engine)
    assert [(d[0], d[1].name) for d in differences] == [("add_index", "ix_delivery_due")]


def test_the_quick_schema_of_the_tests_is_the_migrated_one(engine: Engine) -> None:
    # The other tests start from create_schema; it must be what the migrations give.
    assert migrations.current_revision(engine) == migrations.head_revision()
    assert migrations.schema_differences(engine) == []


def test_the_one_open_round_per_country_index_stays_partial(empty_engine: Engine) -> None:
    migrations.upgrade(empty_engine)
    insert = (
        "INSERT INTO rollcall (country, message, status, started_at, deadline_at, "
        "remind_every_minutes, reminders_sent, report_done) VALUES "
        "('KZ', '', '{}', '2024-01-01 00:00:00', '2024-01-01 02:00:00', 30, 0, false)"
    )
    with empty_engine.begin() as connection:
        for status in ("closed", "closed", "open"):
            connection.exec_driver_sql(insert.format(status))
    with pytest.raises(IntegrityError), empty_engine.begin() as connection:
        connection.exec_driver_sql(insert.format("open"))


# Rows written at an old revision and read back at the head -----------------------------


def _value(table: Table, column: Any, row: int, written: dict[str, list[dict[str, Any]]]) -> Any:
    """A value for any column, distinct per row, at the edges of its type."""
    if column.primary_key:
        return row
    if column.foreign_keys:
        parent = next(iter(column.foreign_keys)).column.table.name
        return None if column.nullable and row == 2 else written[parent][row - 1]["id"]
    if column.nullable and row == 2:
        return None
    kind = column.type
    if isinstance(kind, Boolean):
        return row == 1
    if isinstance(kind, BigInteger):
        return 2**62 + row  # Telegram ids are 64-bit
    if isinstance(kind, Integer):
        return 1000 + row
    if isinstance(kind, Float):
        return 43.238949 + row
    if isinstance(kind, DateTime):
        return datetime(2024, 3, 31, 1, 30, 15, 123456 + row, tzinfo=UTC)
    if isinstance(kind, Date):
        return date(2024, 2, 27 + row)  # 29 February the second time
    if isinstance(kind, String):
        text = f'{row}·Алматы <b>"it\'s"</b> ✓ {table.name}.{column.name}\nsecond line'
        return text[: kind.length] if kind.length else text
    raise AssertionError(f"no sample value for {table.name}.{column.name} ({kind!r})")


def _fill(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Two rows in every table: one with every column set, one with every nullable null."""
    tables = MetaData()
    tables.reflect(engine)
    written: dict[str, list[dict[str, Any]]] = {}
    with engine.begin() as connection:
        for table in tables.sorted_tables:
            if table.name == "alembic_version":
                continue
            connection.execute(table.delete())  # the seeded source makes way for ours
            rows = [
                {column.name: _value(table, column, row, written) for column in table.columns}
                for row in (1, 2)
            ]
            connection.execute(table.insert(), rows)
            written[table.name] = rows
    return written


def _same(value: Any) -> Any:
    # SQLite gives instants back naive (they are stored in UTC); PostgreSQL in its zone.
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    return value


def _assert_every_row_kept(engine: Engine, written: dict[str, list[dict[str, Any]]]) -> None:
    tables = MetaData()
    tables.reflect(engine)
    checked = 0
    for name, rows in written.items():
        if name in DROPPED_ON_PURPOSE:
            continue
        assert name in tables.tables, f"table {name} was lost"
        table = tables.tables[name]
        columns = [c for c in rows[0] if f"{name}.{c}" not in DROPPED_ON_PURPOSE]
        for column in columns:
            assert column in table.columns, f"column {name}.{column} was lost"
        with engine.connect() as connection:
            found = connection.execute(
                select(*(table.c[c] for c in columns)).order_by(table.c.id)
            ).all()
        expected = [[_same(row[c]) for c in columns] for row in rows]
        assert [[_same(v) for v in row] for row in found] == expected, f"rows of {name} changed"
        checked += len(found)
    assert checked == 2 * len(written) and len(written) >= 15


def _upgrade_to_the_head(engine: Engine) -> None:
    migrations.upgrade(engine)
    assert migrations.current_revision(engine) == migrations.head_revision()


def _upgrade_through_a_rebuild_of_every_table(engine: Engine) -> None:
    command.upgrade(_with_samples(engine), "heads")
    assert migrations.current_revision(engine) == "t001"


@pytest.mark.parametrize(
    "upgrade_to",
    [_upgrade_to_the_head, _upgrade_through_a_rebuild_of_every_table],
    ids=["head", "head-then-rebuild-every-table"],
)
def test_an_upgrade_from_the_first_revision_keeps_every_row(
    empty_engine: Engine, upgrade_to: Any
) -> None:
    command.upgrade(migrations.alembic_config(_url(empty_engine)), migrations.INITIAL_REVISION)
    written = _fill(empty_engine)
    upgrade_to(empty_engine)
    _assert_every_row_kept(empty_engine, written)


def test_a_database_from_before_migrations_is_adopted_with_its_data(empty_engine: Engine) -> None:
    # What `create_all` made before migrations: the first revision's tables, no history.
    command.upgrade(migrations.alembic_config(_url(empty_engine)), migrations.INITIAL_REVISION)
    written = _fill(empty_engine)
    with empty_engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE alembic_version")

    done = migrations.upgrade(empty_engine)

    assert done.adopted and done.before == migrations.INITIAL_REVISION
    assert migrations.current_revision(empty_engine) == migrations.head_revision()
    _assert_every_row_kept(
        empty_engine, written
    )  # nothing re-created, the default source not re-added


def test_tables_that_differ_from_the_first_revision_are_refused_and_left_alone(
    empty_engine: Engine,
) -> None:
    command.upgrade(migrations.alembic_config(_url(empty_engine)), migrations.INITIAL_REVISION)
    written = _fill(empty_engine)
    with empty_engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE alembic_version")
        connection.exec_driver_sql("DROP INDEX ix_delivery_due")

    with pytest.raises(migrations.SchemaError, match="index ix_delivery_due is missing"):
        migrations.upgrade(empty_engine)

    assert migrations.current_revision(empty_engine) is None
    _assert_every_row_kept(empty_engine, written)


def test_a_database_from_a_newer_version_is_refused(empty_engine: Engine) -> None:
    migrations.upgrade(empty_engine)
    with empty_engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'ffff9999'")
    for attempt in (
        migrations.upgrade,
        lambda engine: migrations.prepare(engine, auto_migrate=False),
    ):
        with pytest.raises(migrations.SchemaError, match="revision ffff9999, which this version"):
            attempt(empty_engine)
    assert migrations.current_revision(empty_engine) == "ffff9999"


def test_without_auto_migrate_an_old_database_is_refused_not_upgraded(empty_engine: Engine) -> None:
    with pytest.raises(migrations.SchemaError, match="has no migration history") as refused:
        migrations.prepare(empty_engine, auto_migrate=False)
    assert "run `dutybot db upgrade` first" in str(refused.value)
    assert "\n" not in str(refused.value)
    assert migrations.current_revision(empty_engine) is None

    migrations.prepare(empty_engine, auto_migrate=True)
    migrations.prepare(empty_engine, auto_migrate=False)  # at the head: accepted
    assert migrations.current_revision(empty_engine) == migrations.head_revision()


def test_outbox_rows_from_the_first_revision_are_told_what_they_are(empty_engine: Engine) -> None:
    # Rows as the first revision's code keyed them; every row is classified by 0002.
    command.upgrade(migrations.alembic_config(_url(empty_engine)), migrations.INITIAL_REVISION)
    written = _fill(empty_engine)
    sam, lena = (row["id"] for row in written["staff"])
    checkin = written["checkin"][0]
    answer = written["rollcallanswer"][0]
    round_id = answer["round_id"]
    broadcast, feed_alert = (row["id"] for row in written["alert"])
    expected = {
        f"alert:{broadcast}": ("broadcast", None, None),
        f"alert:{feed_alert}": ("feed alert", None, None),
        f"help:{checkin['id']}": ("call for help", checkin["staff_id"], None),
        f"safe:{checkin['id']}": ("safe again", checkin["staff_id"], None),
        f"location:{checkin['id']}": ("location passed on", checkin["staff_id"], None),
        f"rollcall:{round_id}": ("roll call question", None, round_id),
        f"rollcall:{round_id}:remind:1": ("roll call reminder", None, round_id),
        f"rollcall:{round_id}:deadline": ("roll call deadline report", None, round_id),
        f"rollcall:{round_id}:live": ("live roll", None, round_id),
        f"rollcall:{round_id}:help:{answer['id']}": ("call for help", answer["staff_id"], round_id),
        f"rollcall:{round_id}:safe:{answer['id']}": ("safe again", answer["staff_id"], round_id),
        f"unreachable:{sam}:7": ("unreachable notice", sam, None),
        "curfew:3:2025-03-10": ("curfew reminder", None, None),
        "curfew:3:set": ("curfew notice", None, None),
        "curfew:3:ended": ("curfew notice", None, None),
        "curfew-proposal:3": ("curfew proposal", None, None),
        "source-failing:1:2025-03-10 09:00 UTC": ("feed failure notice", None, None),
        f"lead-change:{lena}:2025-03-10T09:00:00+00:00": ("lead change", lena, None),
        # References to rows that are not there, and keys nobody writes, name no one.
        "help:9999": ("call for help", None, None),
        "unreachable:9999:1": ("unreachable notice", None, None),
        "rollcall:9999": ("roll call question", None, None),
        "rollcall:x": ("message", None, None),
        "alert:9999": ("message", None, None),
        "welcome": ("message", None, None),
    }
    tables = MetaData()
    tables.reflect(empty_engine)
    delivery = tables.tables["delivery"]
    at = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
    with empty_engine.begin() as connection:
        connection.execute(
            tables.tables["alert"].update().where(tables.tables["alert"].c.id == broadcast),
            {"kind": "broadcast"},
        )
        connection.execute(
            delivery.insert(),
            [
                {
                    # Ids given, as _fill gives them (PostgreSQL's sequence has not moved).
                    "id": 100 + n,
                    "dedupe_key": key,
                    "staff_id": lena,
                    "chat_id": 100,
                    "part": 0,
                    "priority": 0,
                    "text": "x",
                    "status": "sent",
                    "attempts": 1,
                    "next_attempt_at": at,
                    "created_at": at,
                }
                for n, key in enumerate(expected)
            ],
        )

    _upgrade_to_the_head(empty_engine)

    tables = MetaData()
    tables.reflect(empty_engine)
    delivery = tables.tables["delivery"]
    with empty_engine.connect() as connection:
        found = connection.execute(
            select(
                delivery.c.dedupe_key,
                delivery.c.kind,
                delivery.c.about_staff_id,
                delivery.c.round_id,
            )
        ).all()
    classified = {key: (kind, about, round_) for key, kind, about, round_ in found}
    assert {key: classified[key] for key in expected} == expected
    # The rows _fill wrote with keys of no meaning are plain messages.
    assert {classified[row["dedupe_key"]] for row in written["delivery"]} == {
        ("message", None, None)
    }
