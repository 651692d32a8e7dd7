"""`yishi api` (serve the web app, bot/web.py) and `yishi apikey create|revoke|list` (Open311
keys)."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings

EXIT_USAGE = 2


def add_commands(commands: Any) -> None:
    """Add the two commands to `yishi`'s subparsers."""
    api = commands.add_parser("api", help="serve the web app (the Open311 API) with uvicorn")
    api.add_argument("--listen", default="127.0.0.1:8080", help="HOST:PORT (127.0.0.1:8080)")
    apikey = commands.add_parser("apikey", help="issue, revoke and list Open311 API keys")
    actions = apikey.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="issue a key (printed once; only a hash is kept)")
    create.add_argument("name", help="who the key is for, e.g. 'district hotline'")
    revoke = actions.add_parser("revoke", help="revoke a key by its name or id")
    revoke.add_argument("key", help="the key's name or id")
    actions.add_parser("list", help="list the keys (never the keys themselves)")


async def prepare_database(settings: Settings) -> AsyncEngine:
    """As bot/telegram/runner.py does, without importing the Telegram application (a slow
    import)."""
    from storage.cases.categories import seed_categories
    from storage.cases.routing import seed_units_and_routes
    from storage.db import create_engine, prepare_schema, session_scope

    engine = create_engine(settings.database_url)
    await prepare_schema(engine)
    async with session_scope(engine) as session:
        await seed_categories(session)
        await seed_units_and_routes(session)
    return engine


async def run(settings: Settings, args: argparse.Namespace) -> int:
    """`yishi apikey …`; `yishi api` is served by bot/cli.py (the web app is above this package)."""
    engine = await prepare_database(settings)
    try:
        return await _apikey(engine, args)
    finally:
        await engine.dispose()


async def _apikey(engine: AsyncEngine, args: argparse.Namespace) -> int:
    from storage.db import session_scope
    from storage.errors import InvalidInput
    from storage.open311 import apikeys

    async with session_scope(engine) as session:
        if args.action == "create":
            try:
                key, secret = await apikeys.create_key(session, name=args.name, by=_operator())
            except InvalidInput as error:
                print(f"yishi: cannot create key {args.name!r} ({error.reason})", file=sys.stderr)
                return EXIT_USAGE
            print(secret)
            print(f"key {key.id} for {key.name!r}: shown only now, keep it safe", file=sys.stderr)
        elif args.action == "revoke":
            try:
                key = await apikeys.revoke_key(session, name_or_id=args.key)
            except LookupError:
                print(f"yishi: no active key {args.key!r}", file=sys.stderr)
                return EXIT_USAGE
            print(f"revoked key {key.id} ({key.name})")
        else:
            for key in await apikeys.all_keys(session):
                state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
                used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
                print(
                    f"{key.id}\t{key.name}\t{state}\tfiled {key.requests_filed}\t"
                    f"last used {used}\tcreated {key.created_at:%Y-%m-%d} by {key.created_by}"
                )
    return 0


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""
