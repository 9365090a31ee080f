"""The `dutybot` command: a clear line instead of a traceback, init-db and add-admin."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import select

from db import staff
from db.engine import session_scope
from db.models import AuditEntry, Role

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
