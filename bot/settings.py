"""Settings, read from the environment and `.env` (every one is listed in `.env.example`).

`Settings` holds what every command needs (the database, the first admins, the
dispatcher's limits). `BotSettings` adds the Telegram token, which only `dutybot run`
needs, so `dutybot init-db` works on a machine that has no token yet.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# BotFather tokens look like 123456789:AAE... (a numeric bot id, a colon, 35 url-safe chars).
_TOKEN_PATTERN = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{30,64}$")
# Telegram accepts 1-256 of these characters as a webhook secret; 16 or more resist guessing.
_SECRET_MIN = 16
_SECRET_PATTERN = re.compile(rf"^[A-Za-z0-9_-]{{{_SECRET_MIN},256}}$")


class ConfigError(Exception):
    """A setting is missing or wrong; the message is one line for the operator."""


class LoggingSettings(BaseSettings):
    """What logging needs; read before anything else, so even a bad setting is logged well."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # text: one readable line per event; json: one JSON object per line, for collectors.
    log_format: Literal["text", "json"] = "text"


class Settings(LoggingSettings):
    # A refused value is never repeated in the error: it may be the token or a secret.
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", hide_input_in_errors=True
    )

    # Kept out of repr: a database URL or a proxy URL may carry a password.
    database_url: str = Field(default="sqlite:///dutybot.sqlite3", repr=False)
    # PostgreSQL: how long connecting or one statement may take before the bot counts the
    # database as unavailable (a host that stops answering must not freeze the bot).
    database_timeout_seconds: float = Field(default=5.0, ge=2, le=300)
    # Upgrade the schema at start-up; false: refuse to start unless `dutybot db upgrade` ran.
    auto_migrate: bool = True
    admin_telegram_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    invite_ttl_days: int = Field(default=7, ge=1, le=365)
    # Telegram allows about 30 messages a second in total and 1 a second to one chat.
    send_rate_per_second: float = Field(default=30.0, gt=0, le=1000)
    send_rate_per_chat_per_second: float = Field(default=1.0, gt=0, le=30)
    send_max_attempts: int = Field(default=20, ge=1, le=1000)
    send_max_in_flight: int = Field(default=16, ge=1, le=512)
    # Paid broadcasts: the most urgent deliveries (roll calls, calls for help, departure
    # advisories) may go at up to 1,000 a second, each charged to the bot's Telegram
    # Stars; everything else keeps to the free rate above.
    paid_broadcast: bool = False
    # An alert, or a roll call's question, is queued for this many people at a time: the
    # first message goes out while the rest of a large audience is still being queued.
    fan_out_chunk: int = Field(default=500, ge=1, le=10_000)
    # Strangers (people not enrolled) are answered at most once in this many seconds each,
    # and at most this many a second in all; past either, they get no answer at all.
    stranger_reply_seconds: float = Field(default=60.0, ge=1, le=86400)
    stranger_replies_per_second: float = Field(default=1.0, gt=0, le=30)
    # Official feeds: polled on each source's own interval.
    feeds_enabled: bool = True
    feed_timeout_seconds: float = Field(default=20.0, gt=0, le=300)
    feed_max_bytes: int = Field(default=5_000_000, ge=10_000, le=100_000_000)
    feed_proxy: str | None = Field(default=None, repr=False)
    # Safety roll calls.
    auto_checkin_on_departure: bool = True
    checkin_reminder_minutes: int = Field(default=30, ge=1, le=1440)
    checkin_default_deadline_minutes: int = Field(default=120, ge=5, le=4320)
    # The lead's live roll is edited at most this often.
    roll_update_seconds: float = Field(default=3.0, ge=0.1, le=60)
    # Check-in notes and locations older than this many days are deleted by a daily job.
    retention_days: int = Field(default=90, ge=1, le=36500)

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

    # Webhook mode: set the public URL and Telegram pushes updates to it; unset, the bot
    # long-polls. Telegram sends the secret with every update; requests without it are refused.
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    # Where the webhook server listens; a reverse proxy forwards the webhook path here.
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    # GET /healthz, in both modes; 0 turns it off.
    health_listen: str = "127.0.0.1"
    health_port: int = Field(default=8080, ge=0, le=65535)
    # The outbox counts as stuck when a message has been due this long and is not sent.
    health_outbox_stuck_seconds: float = Field(default=300.0, ge=10, le=86400)
    # /healthz answers 503 when the bot has not heard from Telegram for this long: no
    # successful getUpdates (polling), no update and no getWebhookInfo (webhook mode).
    health_telegram_silence_seconds: float = Field(default=90.0, ge=1, le=86400)
    # While Telegram does not answer getUpdates (or getMe, or the webhook calls at start-up),
    # the bot asks again after 1 s, then 1.5 times longer each time, up to this.
    telegram_retry_max_seconds: float = Field(default=10.0, gt=0, le=600)

    # Fallback: critical messages (roll-call questions and reminders, departure advisories,
    # a lead's reply to a call for help, curfew reminders) that Telegram has not confirmed
    # within this many seconds, or that go to someone Telegram cannot reach, go by SMS when
    # the person gave a mobile number, else by e-mail. Off unless SMS or SMTP is set.
    fallback_after_seconds: float = Field(default=300.0, gt=0, le=86400)
    # SMS through a provider with Twilio's API; all three of SID, token and sender, or none.
    sms_api_url: str = "https://api.twilio.com"
    sms_account_sid: str | None = None
    sms_auth_token: SecretStr | None = None
    sms_from: str | None = None
    # The public URL the provider posts answers to (POST /sms/inbound on the health
    # server, behind the proxy): its signature is made over this URL. Unset: the URL the
    # request arrived at.
    sms_inbound_url: str | None = None
    # E-mail: smtp://user:password@host:587 (STARTTLS when the server offers it; required
    # when a password is given) or smtps://user:password@host:465 (TLS from the start).
    smtp_url: SecretStr | None = None
    smtp_from: str | None = None

    @field_validator(
        "sms_account_sid",
        "sms_auth_token",
        "sms_from",
        "sms_inbound_url",
        "smtp_url",
        "smtp_from",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("sms_from")
    @classmethod
    def _check_sms_from(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\+[1-9]\d{6,14}|[A-Za-z0-9 ]{1,11}", value):
            raise ValueError(
                "must be the provider's number in E.164 (+14155550100) or an alphanumeric "
                "sender id of at most 11 characters"
            )
        return value

    @field_validator("sms_api_url", "sms_inbound_url")
    @classmethod
    def _check_http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        url = urlsplit(value.strip())
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError("must be an http(s) URL, e.g. https://api.twilio.com")
        return value.strip().rstrip("/") if url.path in ("", "/") else value.strip()

    @field_validator("smtp_url")
    @classmethod
    def _check_smtp_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        try:
            url = urlsplit(value.get_secret_value().strip())
            url.port  # noqa: B018 - raises on a bad port
        except ValueError:
            url = None
        if url is None or url.scheme not in ("smtp", "smtps") or not url.hostname:
            raise ValueError(
                "must look like smtp://user:password@host:587 or smtps://user:password@host:465"
            )
        return SecretStr(value.get_secret_value().strip())

    @property
    def sms_enabled(self) -> bool:
        return bool(self.sms_account_sid and self.sms_auth_token and self.sms_from)

    @property
    def email_enabled(self) -> bool:
        return self.smtp_url is not None and self.smtp_from is not None

    @property
    def fallback_enabled(self) -> bool:
        return self.sms_enabled or self.email_enabled

    @property
    def fallback_secrets(self) -> list[str]:
        """What the log must never show: the SMS auth token, the SMTP URL and its password."""
        found = []
        if self.sms_auth_token is not None:
            found.append(self.sms_auth_token.get_secret_value())
        if self.smtp_url is not None:
            url = self.smtp_url.get_secret_value()
            found.append(url)
            password = urlsplit(url).password
            if password:
                found += [password, unquote(password)]
        return found

    @field_validator("telegram_webhook_url", "telegram_webhook_secret", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("health_port", mode="before")
    @classmethod
    def _empty_port_is_off(cls, value: object) -> object:
        return 0 if isinstance(value, str) and not value.strip() else value

    @field_validator("telegram_webhook_url")
    @classmethod
    def _check_webhook_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        url = urlsplit(value.strip())
        if url.scheme != "https" or not url.hostname or url.query or url.fragment:
            raise ValueError(
                "must be the public https URL Telegram posts updates to, "
                "e.g. https://bot.example.org/telegram (no query string)"
            )
        return value.strip()

    @field_validator("telegram_webhook_secret", mode="after")
    @classmethod
    def _check_webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _SECRET_PATTERN.match(value.get_secret_value().strip()):
            raise ValueError(
                f"must be {_SECRET_MIN}-256 characters of A-Z, a-z, 0-9, _ and -; make one with "
                '`python -c "import secrets; print(secrets.token_urlsafe(32))"`'
            )
        return None if value is None else SecretStr(value.get_secret_value().strip())

    @model_validator(mode="after")
    def _check_fallback(self) -> BotSettings:
        sms = {
            "SMS_ACCOUNT_SID": self.sms_account_sid,
            "SMS_AUTH_TOKEN": self.sms_auth_token,
            "SMS_FROM": self.sms_from,
        }
        missing = [name for name, value in sms.items() if value is None]
        if missing and len(missing) < len(sms):
            raise PydanticCustomError(
                "sms_incomplete",
                "{missing} not set: SMS needs SMS_ACCOUNT_SID, SMS_AUTH_TOKEN and SMS_FROM "
                "(or none of them, for no SMS)",
                {"missing": " and ".join(missing) + (" is" if len(missing) == 1 else " are")},
            )
        if (self.smtp_url is None) != (self.smtp_from is None):
            raise PydanticCustomError(
                "smtp_incomplete",
                "SMTP_URL and SMTP_FROM go together: set both for e-mail, or neither",
            )
        if self.sms_enabled and not self.health_port:
            raise PydanticCustomError(
                "sms_needs_server",
                "HEALTH_PORT is 0 but SMS is set: answers by SMS arrive at POST /sms/inbound "
                "on the health server, so give it a port",
            )
        return self

    @model_validator(mode="after")
    def _check_webhook_mode(self) -> BotSettings:
        if self.telegram_webhook_url is None:
            return self
        if self.telegram_webhook_secret is None:
            raise PydanticCustomError(
                "webhook_secret_missing",
                "TELEGRAM_WEBHOOK_SECRET is not set: webhook mode (TELEGRAM_WEBHOOK_URL) needs "
                "one, so that only Telegram can post updates",
            )
        if self.health_port == self.webhook_port:
            raise PydanticCustomError(
                "ports_clash",
                "HEALTH_PORT and WEBHOOK_PORT are both {port}: give them different ports",
                {"port": self.webhook_port},
            )
        return self

    @property
    def webhook_path(self) -> str:
        """The path of the webhook URL: the proxy forwards it unchanged to the bot."""
        return urlsplit(self.telegram_webhook_url or "").path or "/"


def _explain(error: ValidationError) -> str:
    first = error.errors()[0]
    if not first["loc"]:  # a rule across settings: the message names them itself
        return f"{first['msg']}; fix it in the environment or in .env (see .env.example)."
    name = str(first["loc"][0]).upper() if first["loc"] else "a setting"
    if first["type"] == "missing":
        return f"{name} is not set: put it in the environment or in .env (see .env.example)."
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{name} {message}: fix it in the environment or in .env (see .env.example)."


def load_logging_settings() -> LoggingSettings:
    try:
        return LoggingSettings()
    except ValidationError as error:
        raise ConfigError(_explain(error)) from None


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
