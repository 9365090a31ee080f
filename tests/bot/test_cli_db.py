"""`dutybot db upgrade|current`, `init-db`, and `dutybot run` with AUTO_MIGRATE=false."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from bot.sim.telegram.server import FakeTelegram
from db import migrations
from tests.bot.test_cli import _dutybot

# Runs the dutybot process itself (left out of mutation runs: the mutants live in this one).
pytestmark = pytest.mark.process


def test_db_upgrade_then_current_then_init_db(tmp_path: Path, empty_engine: Engine) -> None:
    url = empty_engine.url.render_as_string(hide_password=False)
    head = migrations.head_revision()

    upgraded = _dutybot("db", "upgrade", cwd=tmp_path, DATABASE_URL=url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.strip() == f"Database upgraded from empty to {head}."
    assert migrations.schema_differences(empty_engine) == []

    current = _dutybot("db", "current", cwd=tmp_path, DATABASE_URL=url)
    assert current.returncode == 0
    assert current.stdout.strip() == f"Database at revision {head}, the newest."

    again = _dutybot("init-db", cwd=tmp_path, DATABASE_URL=url)
    assert again.returncode == 0
    assert again.stdout.strip() == f"Database already at revision {head}, the newest."


def test_run_without_auto_migrate_refuses_an_unmigrated_database(
    tmp_path: Path, empty_engine: Engine
) -> None:
    url = empty_engine.url.render_as_string(hide_password=False)
    result = _dutybot(
        "run",
        cwd=tmp_path,
        DATABASE_URL=url,
        AUTO_MIGRATE="false",
        TELEGRAM_BOT_TOKEN=FakeTelegram.TOKEN,
        TELEGRAM_BASE_URL="http://127.0.0.1:9/bot",  # never reached
    )
    assert result.returncode == 2
    refusals = [line for line in result.stderr.splitlines() if line.startswith("dutybot:")]
    assert refusals == [
        f"dutybot: the database has no migration history and this version needs revision "
        f"{migrations.head_revision()}; AUTO_MIGRATE is false, so run `dutybot db upgrade` first"
    ]
    assert "Traceback" not in result.stderr
    assert inspect(empty_engine).get_table_names() == []  # nothing was created


def test_db_upgrade_on_an_unreachable_database_says_so(tmp_path: Path) -> None:
    result = _dutybot(
        "db", "upgrade", cwd=tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/missing/dutybot.sqlite3"
    )
    assert result.returncode == 1
    assert result.stderr.startswith("dutybot: cannot use the database: ")
    assert "Traceback" not in result.stderr
