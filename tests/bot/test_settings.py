"""Settings as an operator meets them (`bot/settings.py`): defaults, the environment and
`.env`, lists of admin ids, bounds, webhook mode, one clear line for anything wrong, and
secrets that never show."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import (
    BotSettings,
    ConfigError,
    Settings,
    load_bot_settings,
    load_logging_settings,
    load_settings,
)

TOKEN = "123456789:AAE" + "x" * 32
SECRET = "s3cret-Webhook_value-0123456789"
FIX = ": fix it in the environment or in .env (see .env.example)."


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting from the machine running the tests, and no `.env` but the test's own."""
    for name in BotSettings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)


def _refusal(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as refused:
        load_bot_settings()
    message = str(refused.value)
    assert "\n" not in message
    return message


def test_every_setting_but_the_token_has_a_default() -> None:
    settings = BotSettings(_env_file=None, telegram_bot_token=TOKEN)
    assert settings.telegram_bot_token.get_secret_value() == TOKEN
    assert settings.model_dump(exclude={"telegram_bot_token"}) == {
        "log_format": "text",
        "database_url": "sqlite:///dutybot.sqlite3",
        "database_timeout_seconds": 5.0,
        "auto_migrate": True,
        "admin_telegram_ids": [],
        "invite_ttl_days": 7,
        "send_rate_per_second": 30.0,
        "send_rate_per_chat_per_second": 1.0,
        "send_max_attempts": 20,
        "send_max_in_flight": 16,
        "paid_broadcast": False,
        "fan_out_chunk": 500,
        "stranger_reply_seconds": 60.0,
        "stranger_replies_per_second": 1.0,
        "feeds_enabled": True,
        "feed_timeout_seconds": 20.0,
        "feed_max_bytes": 5_000_000,
        "feed_proxy": None,
        "auto_checkin_on_departure": True,
        "checkin_reminder_minutes": 30,
        "checkin_default_deadline_minutes": 120,
        "roll_update_seconds": 3.0,
        "retention_days": 90,
        "telegram_base_url": "https://api.telegram.org/bot",
        "telegram_webhook_url": None,
        "telegram_webhook_secret": None,
        "webhook_listen": "127.0.0.1",
        "webhook_port": 8443,
        "health_listen": "127.0.0.1",
        "health_port": 8080,
        "health_outbox_stuck_seconds": 300.0,
        "health_telegram_silence_seconds": 90.0,
        "telegram_retry_max_seconds": 10.0,
        "fallback_after_seconds": 300.0,
        "sms_api_url": "https://api.twilio.com",
        "sms_account_sid": None,
        "sms_auth_token": None,
        "sms_from": None,
        "sms_inbound_url": None,
        "smtp_url": None,
        "smtp_from": None,
    }
    assert not settings.fallback_enabled
    assert settings.webhook_path == "/"


def test_a_missing_token_is_one_line_naming_it() -> None:
    with pytest.raises(ConfigError) as refused:
        load_bot_settings()
    assert str(refused.value) == (
        "TELEGRAM_BOT_TOKEN is not set: put it in the environment or in .env (see .env.example)."
    )


def test_commands_without_telegram_run_without_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:///elsewhere.sqlite3")
    settings = load_settings()
    assert type(settings) is Settings
    assert settings.database_url == "sqlite:///elsewhere.sqlite3"


def test_the_token_is_read_from_dot_env_and_the_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from_file = "987654:" + "F" * 35
    (tmp_path / ".env").write_text(
        f"TELEGRAM_BOT_TOKEN={from_file}\nADMIN_TELEGRAM_IDS=5,6\nUNKNOWN_THING=1\n",
        encoding="utf-8",
    )
    settings = load_bot_settings()
    assert settings.telegram_bot_token.get_secret_value() == from_file
    assert settings.admin_telegram_ids == [5, 6]
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    assert load_bot_settings().telegram_bot_token.get_secret_value() == TOKEN


@pytest.mark.parametrize(
    "token",
    [
        f"  {TOKEN}\n",
        "123:" + "a" * 30,
        "1" * 20 + ":" + "Z_-9" * 16,
    ],
)
def test_a_botfather_token_is_accepted_without_surrounding_space(token: str) -> None:
    settings = BotSettings(_env_file=None, telegram_bot_token=token)
    assert settings.telegram_bot_token.get_secret_value() == token.strip()


@pytest.mark.parametrize(
    "token",
    [
        "",
        "12:" + "a" * 30,
        "123:" + "a" * 29,
        "1" * 21 + ":" + "a" * 35,
        "123:" + "a" * 65,
        "123:" + "a" * 34 + "+",
        "abc:" + "a" * 35,
        "123" + "a" * 35,
        "123:" + "a" * 35 + " and more",
    ],
)
def test_anything_else_is_refused_as_a_token_without_showing_it(
    monkeypatch: pytest.MonkeyPatch, token: str
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)
    with pytest.raises(ConfigError) as refused:
        load_bot_settings()
    assert str(refused.value) == (
        "TELEGRAM_BOT_TOKEN does not look like a token from BotFather (123456:ABC-DEF...)" + FIX
    )


def test_admin_ids_are_a_comma_separated_list_of_64_bit_ids(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ADMIN_TELEGRAM_IDS", " 12345, 4294967297 ,,9007199254740993, ")
    assert load_settings().admin_telegram_ids == [12345, 2**32 + 1, 2**53 + 1]
    monkeypatch.setenv("ADMIN_TELEGRAM_IDS", "42")
    assert load_settings().admin_telegram_ids == [42]
    monkeypatch.setenv("ADMIN_TELEGRAM_IDS", "")
    assert load_settings().admin_telegram_ids == []
    direct = Settings(_env_file=None, admin_telegram_ids=[7, 2**40])
    assert direct.admin_telegram_ids == [7, 2**40]


@pytest.mark.parametrize("value", ["12345,abc", "[1, 2]", "12345;67890", "@alice"])
def test_admin_ids_that_are_not_numbers_are_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("ADMIN_TELEGRAM_IDS", value)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert str(refused.value) == (
        "ADMIN_TELEGRAM_IDS must be Telegram user ids separated by commas, e.g. 12345,67890" + FIX
    )


@pytest.mark.parametrize(
    ("name", "lowest", "highest", "below", "above"),
    [
        ("INVITE_TTL_DAYS", "1", "365", "greater than or equal to 1", "less than or equal to 365"),
        ("SEND_RATE_PER_SECOND", "0.01", "1000", "greater than 0", "less than or equal to 1000"),
        (
            "SEND_RATE_PER_CHAT_PER_SECOND",
            "0.01",
            "30",
            "greater than 0",
            "less than or equal to 30",
        ),
        (
            "SEND_MAX_ATTEMPTS",
            "1",
            "1000",
            "greater than or equal to 1",
            "less than or equal to 1000",
        ),
        (
            "SEND_MAX_IN_FLIGHT",
            "1",
            "512",
            "greater than or equal to 1",
            "less than or equal to 512",
        ),
        ("FEED_TIMEOUT_SECONDS", "0.5", "300", "greater than 0", "less than or equal to 300"),
        (
            "FEED_MAX_BYTES",
            "10000",
            "100000000",
            "greater than or equal to 10000",
            "less than or equal to 100000000",
        ),
        (
            "CHECKIN_REMINDER_MINUTES",
            "1",
            "1440",
            "greater than or equal to 1",
            "less than or equal to 1440",
        ),
        (
            "CHECKIN_DEFAULT_DEADLINE_MINUTES",
            "5",
            "4320",
            "greater than or equal to 5",
            "less than or equal to 4320",
        ),
        (
            "ROLL_UPDATE_SECONDS",
            "0.1",
            "60",
            "greater than or equal to 0.1",
            "less than or equal to 60",
        ),
        (
            "RETENTION_DAYS",
            "1",
            "36500",
            "greater than or equal to 1",
            "less than or equal to 36500",
        ),
        ("WEBHOOK_PORT", "1", "65535", "greater than or equal to 1", "less than or equal to 65535"),
        ("HEALTH_PORT", "0", "65535", "greater than or equal to 0", "less than or equal to 65535"),
        (
            "HEALTH_OUTBOX_STUCK_SECONDS",
            "10",
            "86400",
            "greater than or equal to 10",
            "less than or equal to 86400",
        ),
    ],
)
def test_numbers_are_held_within_their_bounds(
    monkeypatch: pytest.MonkeyPatch, name: str, lowest: str, highest: str, below: str, above: str
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    for value in (lowest, highest):
        monkeypatch.setenv(name, value)
        assert getattr(load_bot_settings(), name.lower()) == float(value)
    too_low = str(float(lowest) - 0.01) if "." in lowest else str(int(lowest) - 1)
    if below == "greater than 0":
        too_low = "0"
    assert _refusal(monkeypatch, **{name: too_low}) == f"{name} Input should be {below}{FIX}"
    too_high = (
        str(float(highest) + 0.5) if "SECONDS" in name or "RATE" in name else str(int(highest) + 1)
    )
    assert _refusal(monkeypatch, **{name: too_high}) == f"{name} Input should be {above}{FIX}"


def test_a_word_where_a_number_belongs_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _refusal(monkeypatch, INVITE_TTL_DAYS="a week") == (
        "INVITE_TTL_DAYS Input should be a valid integer, unable to parse string as an integer"
        + FIX
    )


def test_the_log_format_is_text_or_json(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_logging_settings().log_format == "text"
    monkeypatch.setenv("LOG_FORMAT", "json")
    assert load_logging_settings().log_format == "json"
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(ConfigError) as refused:
        load_logging_settings()
    assert str(refused.value) == "LOG_FORMAT Input should be 'text' or 'json'" + FIX
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert str(refused.value) == "LOG_FORMAT Input should be 'text' or 'json'" + FIX


def test_webhook_mode_takes_an_https_url_and_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "  https://bot.example.org/telegram/hook ")
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", f" {SECRET} ")
    settings = load_bot_settings()
    assert settings.telegram_webhook_url == "https://bot.example.org/telegram/hook"
    assert settings.telegram_webhook_secret is not None
    assert settings.telegram_webhook_secret.get_secret_value() == SECRET
    assert settings.webhook_path == "/telegram/hook"
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "https://bot.example.org")
    assert load_bot_settings().webhook_path == "/"


def test_empty_webhook_settings_mean_long_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "  ")
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "")
    monkeypatch.setenv("HEALTH_PORT", " ")
    settings = load_bot_settings()
    assert (settings.telegram_webhook_url, settings.telegram_webhook_secret) == (None, None)
    assert settings.health_port == 0
    assert settings.webhook_path == "/"


@pytest.mark.parametrize(
    "url",
    [
        "http://bot.example.org/telegram",
        "https:///telegram",
        "https://bot.example.org/telegram?key=1",
        "https://bot.example.org/telegram#top",
        "bot.example.org/telegram",
    ],
)
def test_a_webhook_url_that_is_not_public_https_is_refused(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    assert _refusal(monkeypatch, TELEGRAM_WEBHOOK_URL=url, TELEGRAM_WEBHOOK_SECRET=SECRET) == (
        "TELEGRAM_WEBHOOK_URL must be the public https URL Telegram posts updates to, "
        "e.g. https://bot.example.org/telegram (no query string)" + FIX
    )


def test_webhook_mode_without_a_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    for secret in (None, "   "):
        if secret is not None:
            monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", secret)
        assert _refusal(monkeypatch, TELEGRAM_WEBHOOK_URL="https://bot.example.org/t") == (
            "TELEGRAM_WEBHOOK_SECRET is not set: webhook mode (TELEGRAM_WEBHOOK_URL) needs one, "
            "so that only Telegram can post updates; fix it in the environment or in .env "
            "(see .env.example)."
        )


@pytest.mark.parametrize("secret", ["a" * 16, "Z-_9" * 64])
def test_a_webhook_secret_of_16_to_256_safe_characters_is_accepted(secret: str) -> None:
    settings = BotSettings(
        _env_file=None,
        telegram_bot_token=TOKEN,
        telegram_webhook_url="https://bot.example.org/t",
        telegram_webhook_secret=secret,
    )
    assert settings.telegram_webhook_secret is not None
    assert settings.telegram_webhook_secret.get_secret_value() == secret


@pytest.mark.parametrize("secret", ["a" * 15, "a" * 257, "a" * 20 + "!", "a" * 10 + " " + "a" * 10])
def test_a_weak_or_unusable_webhook_secret_is_refused_without_showing_it(
    monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    message = _refusal(monkeypatch, TELEGRAM_WEBHOOK_SECRET=secret)
    assert message == (
        "TELEGRAM_WEBHOOK_SECRET must be 16-256 characters of A-Z, a-z, 0-9, _ and -; make one "
        'with `python -c "import secrets; print(secrets.token_urlsafe(32))"`' + FIX
    )


def test_webhook_and_health_on_one_port_are_refused_in_webhook_mode_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("HEALTH_PORT", "9000")
    monkeypatch.setenv("WEBHOOK_PORT", "9000")
    assert load_bot_settings().health_port == 9000  # long polling: no webhook server
    assert _refusal(
        monkeypatch,
        TELEGRAM_WEBHOOK_URL="https://bot.example.org/t",
        TELEGRAM_WEBHOOK_SECRET=SECRET,
    ) == (
        "HEALTH_PORT and WEBHOOK_PORT are both 9000: give them different ports; fix it in the "
        "environment or in .env (see .env.example)."
    )
    monkeypatch.setenv("HEALTH_PORT", "9001")
    assert load_bot_settings().webhook_port == 9000


def test_secrets_never_show_in_the_settings_or_their_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    database_password = "db-Pa55word"
    proxy_password = "proxy-Pa55word"
    settings = BotSettings(
        _env_file=None,
        telegram_bot_token=TOKEN,
        telegram_webhook_url="https://bot.example.org/t",
        telegram_webhook_secret=SECRET,
        database_url=f"postgresql://dutybot:{database_password}@db/dutybot",
        feed_proxy=f"http://feeds:{proxy_password}@proxy:3128",
    )
    for shown in (repr(settings), str(settings)):
        for secret in (TOKEN, SECRET, database_password, proxy_password):
            assert secret not in shown
    assert str(settings.telegram_bot_token) == "**********"
    assert settings.database_url == f"postgresql://dutybot:{database_password}@db/dutybot"
    weak = "short-" + TOKEN[-8:]
    message = _refusal(monkeypatch, TELEGRAM_WEBHOOK_SECRET=weak)
    assert weak not in message and TOKEN not in message
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET")
    with pytest.raises(ValidationError) as raw:
        BotSettings(_env_file=None, telegram_bot_token=TOKEN + "!")
    assert TOKEN not in str(raw.value)


def test_sms_needs_all_three_settings_and_smtp_both(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _refusal(monkeypatch, SMS_ACCOUNT_SID="AC1", SMS_FROM="+14155550100") == (
        "SMS_AUTH_TOKEN is not set: SMS needs SMS_ACCOUNT_SID, SMS_AUTH_TOKEN and SMS_FROM "
        "(or none of them, for no SMS); fix it in the environment or in .env (see .env.example)."
    )
    monkeypatch.delenv("SMS_ACCOUNT_SID")
    monkeypatch.delenv("SMS_FROM")
    assert "SMTP_URL and SMTP_FROM go together" in _refusal(
        monkeypatch, SMTP_URL="smtp://mail.example.org:587"
    )
    monkeypatch.setenv("SMTP_FROM", "dutybot@example.org")
    assert "SMTP_URL must look like smtp://user:password@host:587" in _refusal(
        monkeypatch, SMTP_URL="https://mail.example.org"
    )


def test_fallback_secrets_never_show(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = BotSettings(
        _env_file=None,
        telegram_bot_token=TOKEN,
        sms_account_sid="AC123",
        sms_auth_token="sms-token-value",
        sms_from="+14155550100",
        smtp_url="smtp://me:mail-password@mail.example.org:587",
        smtp_from="dutybot@example.org",
    )
    assert settings.sms_enabled and settings.email_enabled
    shown = repr(settings) + str(settings.model_dump())
    assert "sms-token-value" not in shown and "mail-password" not in shown
    # What `dutybot run` has the log mask.
    assert {"sms-token-value", "mail-password"} <= set(settings.fallback_secrets)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SMS_ACCOUNT_SID", "AC123")
    monkeypatch.setenv("SMS_AUTH_TOKEN", "sms-token-value")
    monkeypatch.setenv("SMS_FROM", "+14155550100")
    monkeypatch.setenv("HEALTH_PORT", "0")
    refused = _refusal(monkeypatch)
    assert refused.startswith("HEALTH_PORT is 0 but SMS is set") and "sms-token" not in refused
