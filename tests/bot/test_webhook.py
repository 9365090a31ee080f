"""Webhook mode: the real `dutybot run` registers its webhook with a secret, serves it with
python-telegram-bot's own server, refuses posts without the secret, answers /healthz, and
logs JSON lines that hold neither the token nor what was said."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.settings import ConfigError, load_bot_settings
from bot.sim.telegram.server import FakeTelegram
from db.engine import session_scope
from db.models import Role, Staff
from tests.harness import ADMIN_ID, free_ports, until_listening

# Runs the dutybot process itself (left out of mutation runs: the mutants live in this one).
pytestmark = pytest.mark.process

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_URL = "https://dutybot.example.org/telegram/updates"
SECRET = "s3cret-Webhook_token-for-tests-0123456789"


@contextmanager
def webhook_bot(
    fake: FakeTelegram, database_url: str, workdir: Path, log: Path
) -> Iterator[tuple[str, str]]:
    """`python -m bot run` in webhook mode; yields (webhook URL, /healthz URL) on loopback."""
    webhook_port, health_port = free_ports(2)
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": FakeTelegram.TOKEN,
        "TELEGRAM_BASE_URL": fake.base_url,
        "DATABASE_URL": database_url,
        "ADMIN_TELEGRAM_IDS": str(ADMIN_ID),
        "FEEDS_ENABLED": "false",
        "TELEGRAM_WEBHOOK_URL": PUBLIC_URL,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "WEBHOOK_LISTEN": "127.0.0.1",
        "WEBHOOK_PORT": str(webhook_port),
        "HEALTH_LISTEN": "127.0.0.1",
        "HEALTH_PORT": str(health_port),
        "LOG_FORMAT": "json",
        "PYTHONPATH": str(ROOT),
    }
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            # PTB calls setWebhook just before its server starts listening.
            fake.wait_for(lambda f: f.webhook is not None, timeout=60)
            until_listening(webhook_port)
            yield (
                f"http://127.0.0.1:{webhook_port}/telegram/updates",
                f"http://127.0.0.1:{health_port}/healthz",
            )
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                returncode = process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                raise
    assert returncode == 0, log.read_text()


def post(url: str, update: dict[str, Any], secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return httpx.post(url, content=json.dumps(update), headers=headers, timeout=10).status_code


def test_webhook_mode_acts_only_on_updates_that_carry_the_secret(
    fake: FakeTelegram, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "bot.log"
    with webhook_bot(fake, database_url, tmp_path, log) as (webhook, healthz):
        assert fake.webhook == {
            "url": PUBLIC_URL,
            "secret_token": SECRET,
            "allowed_updates": ["message", "edited_message", "callback_query"],
        }
        health = httpx.get(healthz, timeout=10)
        assert health.status_code == 200
        assert health.json()["mode"] == "webhook"
        assert health.json()["database"] == {"reachable": True}

        # With a webhook set, Telegram (and the fake) push updates instead of queueing them.
        start = fake.inject_message(ADMIN_ID, "/start", first_name="Ada")
        assert post(webhook, start, secret=None) == 403
        assert post(webhook, start, secret="wrong-secret-0123456789") == 403
        assert post(webhook, start, secret=SECRET) == 200
        fake.wait_for(lambda f: len(f.messages_to(ADMIN_ID)) >= 1, timeout=30)
        # A second update, so that anything the refused posts had started would show by now.
        assert post(webhook, fake.inject_message(ADMIN_ID, "/help"), secret=SECRET) == 200
        fake.wait_for(lambda f: len(f.messages_to(ADMIN_ID)) >= 2, timeout=30)

        replies = [m.text for m in fake.messages_to(ADMIN_ID)]
        assert len(replies) == 2, replies  # the refused posts did nothing
        assert "/invite" in replies[1]  # an admin's /help
        with session_scope(engine) as session:
            admins = session.exec(select(Staff)).all()
        assert [(p.telegram_user_id, p.role) for p in admins] == [(ADMIN_ID, Role.ADMIN.value)]

    lines = [line for line in log.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    messages = [r["message"] for r in records]
    assert any(m.startswith("receiving updates by webhook at " + PUBLIC_URL) for m in messages)
    assert any(m.startswith("Dutybot is up") for m in messages)
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    text = log.read_text()
    for secret in (FakeTelegram.TOKEN, FakeTelegram.TOKEN.split(":")[1], SECRET):
        assert secret not in text
    for reply in replies:
        assert reply.splitlines()[0] not in text


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "TELEGRAM_WEBHOOK_SECRET is not set: webhook mode (TELEGRAM_WEBHOOK_URL) needs one"),
        (
            {"TELEGRAM_WEBHOOK_URL": "http://dutybot.example.org/telegram"},
            "TELEGRAM_WEBHOOK_URL must be the public https URL",
        ),
        ({"TELEGRAM_WEBHOOK_SECRET": "too-short"}, "TELEGRAM_WEBHOOK_SECRET must be 16-256"),
        ({"TELEGRAM_WEBHOOK_SECRET": "spaces are not allowed here"}, "must be 16-256"),
        (
            {"TELEGRAM_WEBHOOK_SECRET": SECRET, "HEALTH_PORT": "8443", "WEBHOOK_PORT": "8443"},
            "HEALTH_PORT and WEBHOOK_PORT are both 8443",
        ),
    ],
)
def test_webhook_settings_are_checked_before_anything_starts(
    env: dict[str, str], message: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", FakeTelegram.TOKEN)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", PUBLIC_URL)
    for name in ("TELEGRAM_WEBHOOK_SECRET", "HEALTH_PORT", "WEBHOOK_PORT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_bot_settings()


def test_polling_is_the_default_and_the_webhook_path_comes_from_the_url(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", FakeTelegram.TOKEN)
    for name in ("TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_SECRET", "HEALTH_PORT"):
        monkeypatch.delenv(name, raising=False)
    assert load_bot_settings().telegram_webhook_url is None
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", PUBLIC_URL)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", SECRET)
    settings = load_bot_settings()
    assert settings.webhook_path == "/telegram/updates"
    assert (settings.webhook_listen, settings.webhook_port) == ("127.0.0.1", 8443)
    assert settings.health_port == 8080


def test_an_update_that_cannot_be_read_is_logged_by_id_without_the_words_in_it(
    fake: FakeTelegram, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    words = "hiding in the basement of the Rixos with two colleagues"
    broken = {"update_id": 4711, "message": {"message_id": 1, "date": 0, "text": words, "chat": 7}}
    log = tmp_path / "bot.log"
    with webhook_bot(fake, database_url, tmp_path, log) as (webhook, _healthz):
        assert post(webhook, broken, secret=SECRET) == 400  # PTB refuses what it cannot read
        # The next update is read after the broken one: its reply means that one was handled.
        assert post(webhook, fake.inject_message(ADMIN_ID, "/start"), secret=SECRET) == 200
        fake.wait_for(lambda f: len(f.messages_to(ADMIN_ID)) >= 1, timeout=30)
    text = log.read_text()
    assert words not in text
    records = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert any("update 4711 (message)" in r["message"] for r in records), text
