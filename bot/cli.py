"""The `dutybot` command: run the bot, create the schema, add an admin.

`dutybot run` exits 0 when stopped (SIGTERM, SIGINT), 78 (EX_CONFIG) when Telegram
rejects the token, 2 for a setting that is missing or wrong, and 1 for anything else
that stops it; each failure is one line on stderr (a JSON object with LOG_FORMAT=json)
that never shows the token.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from datetime import date
from typing import Any

from sqlalchemy.exc import OperationalError

from bot.logs import configure_logging, explained_elsewhere, log_loop_exception, mask, redact
from bot.settings import (
    BotSettings,
    ConfigError,
    load_bot_settings,
    load_logging_settings,
    load_settings,
)
from db import audit, migrations, sources, staff
from db.engine import make_engine, session_scope
from db.models import Role
from db.refusal import Refusal
from schedules.countries import resolve_country
from schedules.curfew_text import parse_report
from schedules.sources.base import FeedError, SourceKind
from schedules.sources.check import check_source, item_to_json, items_table

log = logging.getLogger("bot")

# sysexits' EX_CONFIG: the bot cannot run with this configuration. A supervisor that
# restarts on failure tries again (a token fixed in .env is picked up then).
EXIT_TOKEN_REJECTED = 78
EXIT_CONFIG = 2
EXIT_FAILED = 1

_log_format = "text"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dutybot", description="Duty-of-care alerts on Telegram.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the bot (long polling, or a webhook when one is set)")
    commands.add_parser("init-db", help="the same as `db upgrade`")
    commands.add_parser(
        "demo", help="replay Kazakhstan, January 2022, on simulated Telegram (no token, no network)"
    )
    database = commands.add_parser("db", help="the database schema")
    db_commands = database.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="create the tables, or upgrade them to this version")
    db_commands.add_parser("current", help="the schema revision the database is at")
    revision = db_commands.add_parser(
        "revision", help="write a migration for what changed in the models (for developers)"
    )
    revision.add_argument("-m", "--message", required=True, help="what the migration does")
    add_admin = commands.add_parser(
        "add-admin", help="make a Telegram user an admin (they become one on first contact)"
    )
    add_admin.add_argument("telegram_user_id", type=int)

    feeds = commands.add_parser("sources", help="the official feeds polled for alerts")
    feed_commands = feeds.add_subparsers(dest="sources_command", required=True)
    feed_commands.add_parser("list", help="every source, with its health")
    add = feed_commands.add_parser("add", help="poll another feed")
    add.add_argument("kind", choices=[k.value for k in SourceKind])
    add.add_argument("url")
    add.add_argument("country", nargs="?")
    remove = feed_commands.add_parser("remove", help="stop polling a feed")
    remove.add_argument("source_id", type=int)
    check = feed_commands.add_parser(
        "check", help="fetch (or read) and parse a feed once; changes nothing"
    )
    check.add_argument("target", help="a URL, file:// URL or a path")
    check.add_argument("--kind", required=True, choices=[k.value for k in SourceKind])
    check.add_argument("--country")
    check.add_argument("--json", action="store_true", help="print a JSON array")

    curfew = commands.add_parser("curfew", help="curfew tools")
    curfew_commands = curfew.add_subparsers(dest="curfew_command", required=True)
    parse = curfew_commands.add_parser(
        "parse", help="print every curfew window found in a text, in local time and UTC"
    )
    parse.add_argument("--country", required=True)
    parse.add_argument("--date", required=True, help="YYYY-MM-DD: the date UTC is computed for")
    parse.add_argument("--zone", help="IANA zone, when the text and country don't decide it")
    parse.add_argument("--json", action="store_true", help="print a JSON array")
    parse.add_argument("text", nargs="+")
    return parser


def _configure_logging() -> None:
    global _log_format
    _log_format = load_logging_settings().log_format
    configure_logging(_log_format)


def fail(message: str) -> None:
    """Say why the command stops, in one line on stderr: `dutybot: ...`, or with
    LOG_FORMAT=json one JSON object, so a log collector reads it like any other."""
    if _log_format == "json":
        log.critical(message)
    else:
        print(f"dutybot: {mask(message)}", file=sys.stderr, flush=True)


def _one_line(error: BaseException) -> str:
    """An unexpected error as one line: its type, its first line and where it was raised."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    where = ""
    traceback = error.__traceback__
    while traceback is not None and traceback.tb_next is not None:
        traceback = traceback.tb_next
    if traceback is not None:
        code = traceback.tb_frame.f_code
        where = f" (in {code.co_name}, {code.co_filename.rsplit('/', 1)[-1]}:{traceback.tb_lineno})"
    return f"stopped by {type(error).__name__}: {text}{where}"


def cmd_run() -> int:
    from bot.app import ALLOWED_UPDATES, build_application
    from bot.context import SERVICES_KEY, Services
    from bot.listening import TokenRejected, rejection_message

    settings = load_bot_settings()
    token = settings.telegram_bot_token.get_secret_value()
    secret = settings.telegram_webhook_secret
    redact([token, token.partition(":")[2], *([secret.get_secret_value()] if secret else [])])
    redact(settings.fallback_secrets)
    explained_elsewhere(TokenRejected)
    application = build_application(settings)
    services: Services = application.bot_data[SERVICES_KEY]
    link = services.link
    assert link is not None
    # A rejected token stops the bot, which then exits with one line (below).
    link.on_rejected = application.stop_running
    # PTB runs on the loop set here; what the loop catches goes through the masking log.
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(log_loop_exception)
    asyncio.set_event_loop(loop)
    try:
        _serve(application, settings, ALLOWED_UPDATES)
    except Exception:
        if not link.rejected:
            raise
    if link.rejected:
        fail(rejection_message())
        return EXIT_TOKEN_REJECTED
    return 0


def _serve(
    application: Any,
    settings: BotSettings,
    allowed_updates: list[str],
) -> None:
    """Long polling, or the webhook; returns when the bot has stopped."""
    if settings.telegram_webhook_url is None:
        log.info("receiving updates by long polling")
        application.run_polling(allowed_updates=allowed_updates)
        return
    secret = settings.telegram_webhook_secret
    assert secret is not None  # the settings refuse webhook mode without one
    log.info(
        "receiving updates by webhook at %s, served on %s:%d",
        settings.telegram_webhook_url,
        settings.webhook_listen,
        settings.webhook_port,
    )
    # PTB's own server (tornado) registers the webhook with the secret, then refuses
    # every request that does not carry it with 403.
    application.run_webhook(
        listen=settings.webhook_listen,
        port=settings.webhook_port,
        url_path=settings.webhook_path,
        webhook_url=settings.telegram_webhook_url,
        secret_token=secret.get_secret_value(),
        allowed_updates=allowed_updates,
    )


def cmd_db(command: str, message: str | None = None) -> int:
    if command == "revision":
        path = migrations.new_revision(message or "")
        if path is None:
            print("The models match the newest revision; no migration written.")
            return 0
        print(f"Wrote {path}: read it, then `dutybot db upgrade` applies it.")
        return 0
    engine = make_engine(load_settings().database_url)
    try:
        if command == "upgrade":
            done = migrations.upgrade(engine)
            if done.adopted:
                print(f"Tables from before migrations kept, marked as revision {done.before}.")
            if done.changed:
                print(f"Database upgraded from {done.before or 'empty'} to {done.after}.")
            elif not done.adopted:
                print(f"Database already at revision {done.after}, the newest.")
            return 0
        current, head = migrations.current_revision(engine), migrations.head_revision()
        if current != head:
            at = "has no schema revision" if current is None else f"is at revision {current}"
            print(f"Database {at}; this version needs {head}: run `dutybot db upgrade`.")
            return 1
        differences = migrations.schema_differences(engine)
        print(f"Database at revision {head}, the newest.")
        for difference in differences:
            print(f"  differs from the models: {difference}")
        return 1 if differences else 0
    except OperationalError as error:
        reason = str(error.orig or error).strip().splitlines()[0]
        print(f"dutybot: cannot use the database: {reason}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()


def cmd_add_admin(telegram_user_id: int) -> int:
    settings = load_settings()
    engine = make_engine(settings.database_url)
    migrations.prepare(engine, auto_migrate=settings.auto_migrate)
    with session_scope(engine) as session:
        person = staff.by_telegram_id(session, telegram_user_id=telegram_user_id)
        if person is None:
            print(
                f"{telegram_user_id} is not enrolled yet. Add it to ADMIN_TELEGRAM_IDS, "
                "or send them an invite and run this again."
            )
            return 1
        staff.set_role(session, person=person, role=Role.ADMIN)
        audit.record(
            session,
            action="promote",
            actor_telegram_id=None,
            target_staff_id=person.id,
            new_role=Role.ADMIN.value,
            via="command line",
        )
    print(f"{person.display_name} ({telegram_user_id}) is now an admin.")
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    if args.sources_command == "check":
        return _check_source(args)
    from bot.feeds import describe_source, parse_source_args

    settings = load_settings()
    engine = make_engine(settings.database_url)
    migrations.prepare(engine, auto_migrate=settings.auto_migrate)
    with session_scope(engine) as session:
        if args.sources_command == "list":
            for source in sources.every(session):
                print(describe_source(source))
            return 0
        if args.sources_command == "add":
            try:
                kind, url, country = parse_source_args(
                    [args.kind, args.url, *([args.country] if args.country else [])]
                )
            except Refusal as refusal:
                print(refusal.text, file=sys.stderr)
                return 2
            added = sources.add(session, kind=kind.value, url=url, country=country)
            if added is None:
                print("That source is already there.", file=sys.stderr)
                return 1
            audit.record(
                session, action="source_add", actor_telegram_id=None, source_id=added.id, url=url
            )
            print(f"Added source #{added.id}; a running bot picks it up when restarted.")
            return 0
        removed = sources.remove(session, source_id=args.source_id)
        if removed is None:
            print(f"There is no source #{args.source_id}.", file=sys.stderr)
            return 1
        audit.record(
            session, action="source_remove", actor_telegram_id=None, source_id=args.source_id
        )
        print(f"Removed source #{args.source_id}.")
        return 0


def _check_source(args: argparse.Namespace) -> int:
    country = None
    if args.country:
        found = resolve_country(args.country)
        if found is None:
            print(f"dutybot: unknown country {args.country!r}", file=sys.stderr)
            return 2
        country = found.code
    try:
        items = asyncio.run(check_source(args.target, kind=SourceKind(args.kind), country=country))
    except FeedError as error:
        print(f"dutybot: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([item_to_json(item) for item in items], indent=2, ensure_ascii=False))
    else:
        print(items_table(items))
    return 0


def cmd_curfew_parse(args: argparse.Namespace) -> int:
    try:
        day = date.fromisoformat(args.date)
    except ValueError:
        print(f"dutybot: --date must be YYYY-MM-DD, not {args.date!r}", file=sys.stderr)
        return 2
    try:
        windows = parse_report(" ".join(args.text), country=args.country, day=day, zone=args.zone)
    except ValueError as error:
        print(f"dutybot: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(windows, indent=2))
        return 0
    if not windows:
        print("No curfew found.")
    for w in windows:
        until = f" until {w['until']}" if w["until"] else ""
        place = f" in {w['place']}" if w["place"] else ""
        days = f" on {', '.join(w['days'])}" if isinstance(w["days"], list) else ""
        print(
            f"{w['start']}-{w['end']} {w['zone']}{place}{days} = "
            f"{w['start_utc']}-{w['end_utc']} UTC on {day}{until}"
        )
        if w["utc_matches"] is False:
            print("  warning: the text states a different UTC window")
    return 0


def cmd_demo() -> int:
    from bot.demo.script import run_demo

    # The transcript is the output; the bot's own log says only what went wrong. The
    # replay updates live rolls several times a second, and a tick skipped because the
    # last one is still running is not worth a warning.
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    return run_demo()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        _configure_logging()
        if args.command == "run":
            try:
                return cmd_run()
            except (ConfigError, migrations.SchemaError) as error:
                fail(str(error))
                return EXIT_CONFIG
            except Exception as error:
                # One line, never a traceback that could show the token; the details that
                # matter (type, message, where) are in it.
                fail(_one_line(error))
                return EXIT_FAILED
        if args.command == "init-db":
            return cmd_db("upgrade")
        if args.command == "demo":
            return cmd_demo()
        if args.command == "db":
            return cmd_db(args.db_command, getattr(args, "message", None))
        if args.command == "add-admin":
            return cmd_add_admin(args.telegram_user_id)
        if args.command == "sources":
            return cmd_sources(args)
        if args.command == "curfew":
            return cmd_curfew_parse(args)
    except (ConfigError, migrations.SchemaError) as error:
        print(f"dutybot: {error}", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":
    sys.exit(main())
