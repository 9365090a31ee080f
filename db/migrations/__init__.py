"""Schema migrations (Alembic): bring any database to the schema the models describe.

The revisions live in `versions/` next to this file and Alembic is configured here, from
the database URL, so an installed `dutybot` needs no alembic.ini. `upgrade` is what
`dutybot db upgrade` and `dutybot run` use. A database made before migrations existed
(the tables, no `alembic_version`) that holds exactly the first revision's tables is
adopted: stamped at that revision and upgraded from there, keeping its data.

Every upgrade runs in one transaction: PostgreSQL has transactional DDL, and on SQLite
the migration connection takes transactions out of pysqlite's hands so that DDL joins
them too. Either the whole upgrade is committed or nothing is.
"""

from __future__ import annotations

import importlib.util
import logging
import tempfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.operations.ops import MigrationScript
from alembic.runtime.migration import MigrationContext, MigrationInfo
from alembic.script import Script, ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

from db import sources
from db.engine import session_scope  # importing it registers every table on SQLModel.metadata
from db.types import UTCDateTime

log = logging.getLogger(__name__)
# At INFO Alembic describes its own set-up every time it looks at a database; what it
# applies is logged here instead (`_log_step`).
logging.getLogger("alembic").setLevel(logging.WARNING)

MIGRATIONS_DIR = Path(__file__).resolve().parent
# The schema as it was when migrations began; databases from before then are adopted at it.
INITIAL_REVISION = "0001"
# Any constant works; it only has to be the same for every dutybot process.
_POSTGRES_LOCK_KEY = 7_420_155_001


class SchemaError(Exception):
    """The database cannot be used or upgraded as it is; the message is one line."""


@dataclass(frozen=True)
class Upgrade:
    """What `upgrade` did."""

    before: str | None  # the revision found; None for a new database
    after: str
    adopted: bool = False  # tables from before migrations, stamped at the first revision

    @property
    def changed(self) -> bool:
        return self.before != self.after


def alembic_config(database_url: str) -> Config:
    """Alembic's configuration for a database, without an ini file."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.attributes["database_url"] = database_url
    return config


def context_options() -> dict[str, Any]:
    """How revisions are compared and written, shared by env.py and the schema checks."""
    return {
        "target_metadata": SQLModel.metadata,
        "compare_type": True,
        # SQLite alters most things by rebuilding the table; batch operations do that there
        # and plain ALTERs on PostgreSQL, so one revision serves both.
        "render_as_batch": True,
        "render_item": _render_item,
    }


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # Revisions are frozen DDL: write the plain SQLAlchemy types the custom ones stand for,
    # so a revision never breaks when application code changes. UTCDateTime only converts
    # values in Python; in the database it is a timezone-aware DateTime.
    if type_ != "type":
        return False
    if isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length is not None else "sa.String()"
    return False


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(""))


def head_revision() -> str:
    heads = _scripts().get_heads()
    if len(heads) != 1:
        raise SchemaError(
            f"the migrations have {len(heads)} heads ({', '.join(heads)}); merge them into one"
        )
    return heads[0]


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None when it has no migration history."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _require_known(current: str | None) -> None:
    if current is None:
        return
    try:
        _scripts().get_revision(current)
    except CommandError:
        raise SchemaError(
            f"the database is at revision {current}, which this version of dutybot does not "
            "know (a newer version upgraded it): run that version, or restore a backup"
        ) from None


def upgrade(engine: Engine) -> Upgrade:
    """Bring the database to the newest revision; a database at it is only looked at."""
    head = head_revision()
    current = current_revision(engine)
    if current == head:
        return Upgrade(before=head, after=head)
    _require_known(current)
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    adopted = False
    if current is None and _adopt_if_from_before_migrations(engine, config):
        adopted, current = True, INITIAL_REVISION
    command.upgrade(config, "head")
    done = Upgrade(before=current, after=head, adopted=adopted)
    if done.changed:
        log.info("Database schema upgraded from %s to %s", done.before or "nothing", done.after)
    return done


def require_current(engine: Engine) -> None:
    """Refuse a database that is not at the newest revision (when AUTO_MIGRATE is false)."""
    head = head_revision()
    current = current_revision(engine)
    if current == head:
        return
    _require_known(current)
    found = "has no migration history" if current is None else f"is at revision {current}"
    raise SchemaError(
        f"the database {found} and this version needs revision {head}; AUTO_MIGRATE is "
        "false, so run `dutybot db upgrade` first"
    )


def prepare(engine: Engine, *, auto_migrate: bool) -> None:
    """What every command that uses the database does first."""
    if auto_migrate:
        upgrade(engine)
    else:
        require_current(engine)


def stamp_head(connection: Connection) -> None:
    """Record the newest revision without running it: for a schema made by `create_all`."""
    MigrationContext.configure(connection).stamp(_scripts(), "head")


def schema_differences(engine: Engine) -> list[Any]:
    """What autogenerate would change to make the database match the models; [] if nothing."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=context_options())
        return list(compare_metadata(context, SQLModel.metadata))


# A layout is each table's columns and named indexes: what tells our tables apart.
Layout = dict[str, tuple[frozenset[str], frozenset[str]]]


def _layout(engine: Engine, tables: set[str] | None = None) -> Layout:
    inspector = inspect(engine)
    names = set(inspector.get_table_names()) - {"alembic_version"}
    result: Layout = {}
    for table in sorted(names if tables is None else names & tables):
        columns = frozenset(column["name"] for column in inspector.get_columns(table))
        indexes = frozenset(
            str(index["name"])
            for index in inspector.get_indexes(table)
            # PostgreSQL lists the index behind each unique constraint too; SQLite does not.
            if index["name"] and "duplicates_constraint" not in index
        )
        result[table] = (columns, indexes)
    return result


@cache
def _initial_layout() -> Layout:
    """The first revision's tables, read back from a scratch SQLite database."""
    with tempfile.TemporaryDirectory() as folder:
        config = alembic_config(f"sqlite:///{Path(folder) / 'initial.sqlite3'}")
        config.attributes["scratch"] = True
        command.upgrade(config, INITIAL_REVISION)
        url = config.attributes["database_url"]
        scratch = create_engine(url, poolclass=NullPool)
        try:
            return _layout(scratch)
        finally:
            scratch.dispose()


def _adopt_if_from_before_migrations(engine: Engine, config: Config) -> bool:
    """Stamp a database made by `create_all` before migrations; False for a new one."""
    if not set(inspect(engine).get_table_names()) - {"alembic_version"}:
        return False  # nothing there at all: a new database
    expected = _initial_layout()
    found = _layout(engine, set(expected))
    if not found:
        return False
    problems = []
    for table, (columns, indexes) in expected.items():
        if table not in found:
            problems.append(f"table {table} is missing")
            continue
        have_columns, have_indexes = found[table]
        problems += [f"{table}.{c} is missing" for c in sorted(columns - have_columns)]
        problems += [f"{table} has an extra column {c}" for c in sorted(have_columns - columns)]
        problems += [f"index {i} is missing" for i in sorted(indexes - have_indexes)]
    if problems:
        shown = "; ".join(problems[:3]) + (f" and {len(problems) - 3} more" if problems[3:] else "")
        raise SchemaError(
            "the database has dutybot tables but no migration history, and they differ from "
            f"the first revision ({shown}); fix them by hand or restore a backup, then run "
            "`dutybot db upgrade` again"
        )
    command.stamp(config, INITIAL_REVISION)
    log.info("Tables from before migrations adopted as revision %s", INITIAL_REVISION)
    return True


def new_revision(message: str) -> Path | None:
    """Write a revision with what the models changed since the newest one; None if nothing.

    Autogenerate compares the models with a scratch SQLite database upgraded to the head,
    so writing a revision needs no database of one's own. Read the file before using it:
    autogenerate cannot see renames, and data may need moving by hand.
    """
    with tempfile.TemporaryDirectory() as folder:
        config = alembic_config(f"sqlite:///{Path(folder) / 'head.sqlite3'}")
        config.attributes["scratch"] = True
        if importlib.util.find_spec("ruff") is not None:  # installed with the dev extras
            config.set_section_option("post_write_hooks", "hooks", "ruff")
            config.set_section_option("post_write_hooks", "ruff.type", "module")
            config.set_section_option("post_write_hooks", "ruff.module", "ruff")
            config.set_section_option(
                "post_write_hooks", "ruff.options", "format REVISION_SCRIPT_FILENAME"
            )
        command.upgrade(config, "head")
        number = sum(1 for _ in _scripts().walk_revisions()) + 1
        script = command.revision(
            config, message=message, autogenerate=True, rev_id=f"{number:04d}"
        )
    if script is None or isinstance(script, list):
        return None
    return Path(script.path)


def run_environment(config: Config) -> None:
    """The body of env.py: run what Alembic asks for against `config`'s database."""
    from alembic import context

    engine = _migration_engine(config.attributes["database_url"])
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                # True on SQLite too: the migration engine below makes DDL transactional there.
                transactional_ddl=True,
                process_revision_directives=_skip_empty_revision,
                on_version_apply=None if config.attributes.get("scratch") else _log_step,
                **context_options(),
            )
            with context.begin_transaction():
                if connection.dialect.name == "postgresql":
                    # Two processes starting at once: the second waits, then finds the head.
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _POSTGRES_LOCK_KEY}
                    )
                context.run_migrations()
                _check_foreign_keys(connection)
    finally:
        engine.dispose()


def _log_step(
    ctx: MigrationContext, step: MigrationInfo, heads: Collection[Any], run_args: Mapping[str, Any]
) -> None:
    script = step.up_revision
    if step.is_upgrade and not step.is_stamp and isinstance(script, Script):
        log.info("Schema revision %s: %s", script.revision, script.doc)


def _skip_empty_revision(context: MigrationContext, revision: Any, directives: list[Any]) -> None:
    # Autogenerate found nothing to change: write no file rather than an empty revision.
    script = directives[0] if directives else None
    if isinstance(script, MigrationScript) and all(
        ops.is_empty() for ops in script.upgrade_ops_list
    ):
        directives.clear()


def _migration_engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, poolclass=NullPool)
    engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite would commit around DDL on its own; with this, BEGIN below covers it all.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # Rebuilding a table (batch mode) drops the old one, and with foreign keys on, that
        # drop would delete every row pointing at it. References are checked at the end.
        cursor.execute("PRAGMA foreign_keys=OFF")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _check_foreign_keys(connection: Connection) -> None:
    if connection.dialect.name != "sqlite":
        return  # PostgreSQL checks every reference as the revision runs
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = sorted({str(row[0]) for row in broken})
        raise SchemaError(
            f"the upgrade would leave {len(broken)} rows pointing at missing rows (in "
            f"{', '.join(tables)}); nothing was changed"
        )


def create_schema(engine: Engine) -> None:
    """The newest schema in one step, for a new throw-away database (tests, benchmarks).

    The models' tables, the default source, and the newest revision stamped, which is what
    running every migration gives (tests/db/test_migrations.py checks that). A database
    that already has tables is upgraded by the migrations instead. Deployments always go
    through `db.migrations.upgrade` (`dutybot db upgrade`, `dutybot run`).
    """
    if sources.schema_has_sources(engine):
        upgrade(engine)
        return
    with engine.begin() as connection:
        SQLModel.metadata.create_all(connection)
        stamp_head(connection)
    with session_scope(engine) as session:
        sources.seed_defaults(session)
