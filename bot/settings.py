"""Settings, read from the environment and `.env` (every one is listed in `.env.example`).

`Settings` holds what every command needs (the database, the first admins, the
dispatcher's limits). `BotSettings` adds the Telegram token, which only `dutybot run`
needs, so `dutybot init-db` works on a machine that has no token yet.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# BotFather tokens look like 123456789:AAE... (a numeric bot id, a colon, 35 url-safe chars).
_TOKEN_PATTERN = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{30,64}$")


class ConfigError(Exception):
    """A setting is missing or wrong; the message is one line for the operator."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = "sqlite:///dutybot.sqlite3"
    admin_telegram_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    invite_ttl_days: int = Field(default=7, ge=1, le=365)
    # Telegram allows about 30 messages a second in total and 1 a second to one chat.
    send_rate_per_second: float = Field(default=30.0, gt=0, le=1000)
    send_rate_per_chat_per_second: float = Field(default=1.0, gt=0, le=30)
    send_max_attempts: int = Field(default=20, ge=1, le=1000)
    send_max_in_flight: int = Field(default=16, ge=1, le=512)
    # Official feeds: polled on each source's own interval.
    feeds_enabled: bool = True
    feed_timeout_seconds: float = Field(default=20.0, gt=0, le=300)
    feed_max_bytes: int = Field(default=5_000_000, ge=10_000, le=100_000_000)
    feed_proxy: str | None = None
    # Safety roll calls.
    auto_checkin_on_departure: bool = True
    checkin_reminder_minutes: int = Field(default=30, ge=1, le=1440)
    checkin_default_deadline_minutes: int = Field(default=120, ge=5, le=4320)
    # The lead's live roll is edited at most this often.
    roll_update_seconds: float = Field(default=3.0, ge=0.1, le=60)

    @field_validator("admin_telegram_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            try:
                return [int(part) for part in parts]
            except ValueError:
                raise ValueError(
                    "must be Telegram user ids separated by commas, e.g. 12345,67890"
                ) from None
        return value


class BotSettings(Settings):
    telegram_bot_token: SecretStr
    telegram_base_url: str = "https://api.telegram.org/bot"

    @field_validator("telegram_bot_token")
    @classmethod
    def _check_token(cls, value: SecretStr) -> SecretStr:
        if not _TOKEN_PATTERN.match(value.get_secret_value().strip()):
            raise ValueError("does not look like a token from BotFather (123456:ABC-DEF...)")
        return SecretStr(value.get_secret_value().strip())


def _explain(error: ValidationError) -> str:
    first = error.errors()[0]
    name = str(first["loc"][0]).upper() if first["loc"] else "a setting"
    if first["type"] == "missing":
        return f"{name} is not set: put it in the environment or in .env (see .env.example)."
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{name} {message}: fix it in the environment or in .env (see .env.example)."


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        raise ConfigError(_explain(error)) from None


def load_bot_settings() -> BotSettings:
    try:
        return BotSettings()  # the token comes from the environment
    except ValidationError as error:
        raise ConfigError(_explain(error)) from None
