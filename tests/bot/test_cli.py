"""The `dutybot` command: a clear line instead of a traceback, init-db and add-admin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from db import staff
from db.engine import session_scope
from db.models import AuditEntry, Role
from tests.schedules.sources.samples import StateItem, state_feed

# Runs the dutybot process itself (left out of mutation runs: the mutants live in this one).
pytestmark = pytest.mark.process

ROOT = Path(__file__).resolve().parents[2]


def _dutybot(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_run_without_a_token_says_what_to_set(tmp_path: Path) -> None:
    result = _dutybot("run", cwd=tmp_path)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "dutybot: TELEGRAM_BOT_TOKEN is not set: put it in the environment or in .env "
        "(see .env.example)."
    ]
    assert "Traceback" not in result.stderr


def test_run_with_a_malformed_token_says_so(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TELEGRAM_BOT_TOKEN=not-a-token\n")
    result = _dutybot("run", cwd=tmp_path)
    assert result.returncode != 0
    assert "TELEGRAM_BOT_TOKEN does not look like a token from BotFather" in result.stderr
    assert "Traceback" not in result.stderr and "not-a-token" not in result.stderr


def test_bad_admin_ids_are_explained(tmp_path: Path) -> None:
    result = _dutybot("init-db", cwd=tmp_path, ADMIN_TELEGRAM_IDS="12,abc")
    assert result.returncode != 0
    assert "ADMIN_TELEGRAM_IDS must be Telegram user ids separated by commas" in result.stderr


def test_init_db_and_add_admin(tmp_path: Path, database_url: str, engine: Engine) -> None:
    assert _dutybot("init-db", cwd=tmp_path, DATABASE_URL=database_url).returncode == 0
    missing = _dutybot("add-admin", "424242", cwd=tmp_path, DATABASE_URL=database_url)
    assert missing.returncode == 1 and "not enrolled yet" in missing.stdout
    with session_scope(engine) as session:
        staff.enrol(
            session,
            telegram_user_id=424242,
            chat_id=424242,
            display_name="Ada",
            username=None,
            role=Role.STAFF,
        )
    added = _dutybot("add-admin", "424242", cwd=tmp_path, DATABASE_URL=database_url)
    assert added.returncode == 0, added.stderr
    with session_scope(engine) as session:
        person = staff.by_telegram_id(session, telegram_user_id=424242)
        assert person is not None and person.role == Role.ADMIN.value
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "promote")).first()


def test_sources_check_prints_json_and_changes_nothing(tmp_path: Path) -> None:
    feed = tmp_path / "ta.xml"
    feed.write_bytes(
        state_feed(
            StateItem(
                title="Kazakhstan - Level 4: Do Not Travel",
                description="<p>The Department ordered the departure of U.S. government "
                "employees. A curfew is in place from 2300 to 0700.</p>",
                tag="KZ",
                slug="kazakhstan",
            )
        )
    )
    result = _dutybot("sources", "check", str(feed), "--kind", "us-state", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (item,) = json.loads(result.stdout)
    assert item["country"] == "KZ" and item["kind"] == "departure" and item["level"] == 4
    assert item["departure"] is True and "curfew" in item["curfew_text"]
    assert item["published"] is None and len(item["fingerprint"]) == 64
    assert not (tmp_path / "dutybot.sqlite3").exists()
    table = _dutybot("sources", "check", str(feed), "--kind", "us-state", cwd=tmp_path)
    assert "Kazakhstan" in table.stdout


def test_sources_check_on_something_that_is_not_a_feed(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<!doctype html><html><body>Sign in</body></html>")
    result = _dutybot(
        "sources", "check", str(page), "--kind", "rss", "--country", "KZ", cwd=tmp_path
    )
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_sources_add_list_remove(tmp_path: Path, database_url: str, engine: Engine) -> None:
    added = _dutybot(
        "sources",
        "add",
        "rss",
        "https://x.example/feed",
        "KZ",
        cwd=tmp_path,
        DATABASE_URL=database_url,
    )
    assert added.returncode == 0, added.stderr
    listing = _dutybot("sources", "list", cwd=tmp_path, DATABASE_URL=database_url).stdout
    assert "rss https://x.example/feed [KZ]" in listing and "us-state" in listing
    source_id = added.stdout.split("#")[1].split(";")[0]
    removed = _dutybot("sources", "remove", source_id, cwd=tmp_path, DATABASE_URL=database_url)
    assert removed.returncode == 0
    bad = _dutybot(
        "sources", "add", "rss", "https://y.example/feed", cwd=tmp_path, DATABASE_URL=database_url
    )
    assert bad.returncode == 2 and "needs a country" in bad.stderr


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_run_stopped_by_anything_else_says_it_in_one_line(log_format: str, tmp_path: Path) -> None:
    token = "123456789:AAE" + "x" * 32
    result = _dutybot(
        "run",
        cwd=tmp_path,
        TELEGRAM_BOT_TOKEN=token,
        DATABASE_URL=f"sqlite:///{tmp_path / 'missing-folder' / 'dutybot.sqlite3'}",
        HEALTH_PORT="0",
        LOG_FORMAT=log_format,
    )
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    said = json.loads(line)["message"] if log_format == "json" else line.removeprefix("dutybot: ")
    assert said.startswith("stopped by OperationalError: (sqlite3.OperationalError) unable to open")
    assert token.partition(":")[2] not in result.stdout + result.stderr
