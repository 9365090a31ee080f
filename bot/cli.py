"""The `dutybot` command: run the bot, create the schema, add an admin."""

from __future__ import annotations

import argparse
import logging
import sys

from bot.settings import ConfigError, load_bot_settings, load_settings
from db import audit, staff
from db.engine import create_schema, make_engine, session_scope
from db.models import Role


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dutybot", description="Duty-of-care alerts on Telegram.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the bot (long polling)")
    commands.add_parser("init-db", help="create the database tables")
    add_admin = commands.add_parser(
        "add-admin", help="make a Telegram user an admin (they become one on first contact)"
    )
    add_admin.add_argument("telegram_user_id", type=int)
    return parser


def _configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx logs every request URL at INFO, and the URL holds the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def cmd_run() -> int:
    from bot.app import build_application

    settings = load_bot_settings()
    application = build_application(settings)
    application.run_polling(allowed_updates=["message", "callback_query"])
    return 0


def cmd_init_db() -> int:
    settings = load_settings()
    create_schema(make_engine(settings.database_url))
    print("Database ready.")
    return 0


def cmd_add_admin(telegram_user_id: int) -> int:
    settings = load_settings()
    engine = make_engine(settings.database_url)
    create_schema(engine)
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


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _configure_logging()
    try:
        if args.command == "run":
            return cmd_run()
        if args.command == "init-db":
            return cmd_init_db()
        if args.command == "add-admin":
            return cmd_add_admin(args.telegram_user_id)
    except ConfigError as error:
        print(f"dutybot: {error}", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":
    sys.exit(main())
