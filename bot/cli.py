"""The `yishi` command: run | migrate | seed."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.config import Settings, SettingsError, load_settings
from storage.db import SchemaOutOfDate

EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="yishi", description="Yishi community bot")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING, ...")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the bot with long polling")
    migrate = commands.add_parser("migrate", help="upgrade the database schema")
    migrate.add_argument("revision", nargs="?", default="head")
    commands.add_parser("seed", help="add the default categories that are missing")
    return parser


async def _migrate(settings: Settings, revision: str) -> None:
    from storage.db import create_engine, migrate

    engine = create_engine(settings.database_url)
    try:
        await migrate(engine, revision)
    finally:
        await engine.dispose()


async def _seed(settings: Settings) -> int:
    from bot.runner import prepare_database

    engine = await prepare_database(settings)
    await engine.dispose()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    try:
        settings = load_settings()
        if args.command == "run":
            settings.require_token()
            from bot.runner import run_polling

            asyncio.run(run_polling(settings))
        elif args.command == "migrate":
            asyncio.run(_migrate(settings, args.revision))
            print("database schema is up to date")
        elif args.command == "seed":
            asyncio.run(_seed(settings))
            print("default categories are in place")
    except (SettingsError, SchemaOutOfDate) as error:
        print(f"yishi: {error}", file=sys.stderr)
        return EXIT_CONFIG
    return 0


if __name__ == "__main__":
    sys.exit(main())
