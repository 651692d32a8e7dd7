"""The `yishi` command: run, sandbox, migrate, seed, invite, report, schedule, api, apikey."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from bot.config import Settings, SettingsError, load_settings
from bot.log_format import configure_logging
from storage.db import SchemaOutOfDate

EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    from storage.people.roles import GRANTABLE

    parser = argparse.ArgumentParser(prog="yishi", description="Yishi community bot")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING, ...")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the bot (long polling, or --webhook)")
    run.add_argument(
        "--webhook", action="store_true", help="take updates at --url (needs YISHI_WEBHOOK_SECRET)"
    )
    run.add_argument("--url", help="the webhook's public https:// URL (Telegram posts there)")
    run.add_argument(
        "--listen",
        help="HOST:PORT for the webhook, /healthz and /metrics (webhook default 127.0.0.1:8443; "
        "without --webhook nothing is served unless given)",
    )
    migrate = commands.add_parser("migrate", help="upgrade the database schema")
    migrate.add_argument("revision", nargs="?", default="head")
    commands.add_parser("seed", help="add the default categories that are missing")
    invite = commands.add_parser("invite", help="print a one-time link that grants a role")
    invite.add_argument("role", choices=[role.value for role in GRANTABLE])
    invite.add_argument("--unit", help="unit code (staff need one; mediators join mediation)")
    report = commands.add_parser("report", help="write a period's cases and figures to a file")
    report.add_argument("--period", default="", help="2026-11, 2026 or 2026-11-01..2026-11-15")
    report.add_argument("--format", choices=["xlsx", "csv", "md"], default="xlsx")
    report.add_argument("--out", help="file to write (default: yishi-PERIOD.FORMAT)")
    commands.add_parser("schedule", help="list the scheduled jobs and their next runs")
    sandbox = commands.add_parser("sandbox", help="try the bot offline: emulator + chat page")
    sandbox.add_argument("--listen", default="127.0.0.1:8080", help="HOST:PORT (loopback)")
    sandbox.add_argument("--database", help="default sqlite:///./sandbox.db")
    sandbox.add_argument("--fresh", action="store_true", help="start from an empty database")
    from bot.open311.cli import add_commands as add_web_commands

    add_web_commands(commands)  # api, apikey
    return parser


async def _migrate(settings: Settings, revision: str) -> None:
    from storage.db import create_engine, migrate

    engine = create_engine(settings.database_url)
    try:
        await migrate(engine, revision)
    finally:
        await engine.dispose()


async def _seed(settings: Settings) -> int:
    from bot.telegram.runner import prepare_database

    engine = await prepare_database(settings)
    await engine.dispose()
    return 0


async def _invite(settings: Settings, role: str, unit_code: str | None) -> int:
    """Print the link for a first secretary (or anyone) before anyone can use /invite."""
    from bot.telegram.runner import prepare_database
    from handlers.words.render import local_time
    from storage.cases.routing import all_units, unit_by_code
    from storage.db import session_scope
    from storage.errors import InvalidInput
    from storage.people.invitations import create_invitation
    from storage.people.roles import Role
    from storage.people.units import get_unit

    engine = await prepare_database(settings)
    try:
        async with session_scope(engine) as session:
            unit = await unit_by_code(session, unit_code) if unit_code else None
            if unit_code and unit is None:
                codes = ", ".join(u.code for u in await all_units(session))
                print(f"yishi: no unit {unit_code!r}; units: {codes}", file=sys.stderr)
                return EXIT_CONFIG
            try:
                invitation = await create_invitation(session, role=Role(role), unit=unit, by=None)
            except InvalidInput as error:
                print(f"yishi: cannot invite {role} like that ({error.reason})", file=sys.stderr)
                return EXIT_CONFIG
            unit = await get_unit(session, unit_id=invitation.unit_id)
    finally:
        await engine.dispose()
    payload = f"?start=inv_{invitation.code}"
    if settings.bot_username:
        print(f"https://t.me/{settings.bot_username.lstrip('@')}{payload}")
    else:
        print(payload)
        print("note: set YISHI_BOT_USERNAME to print the whole t.me link", file=sys.stderr)
    until = local_time(invitation.expires_at, settings.tz)
    print(f"grants {role}{f' of {unit.code}' if unit else ''} once, until {until}")
    return 0


async def _report(settings: Settings, period_text: str, fmt: str, out: str | None) -> int:
    """`yishi report`: the same files as /export, without Telegram's size limit."""
    from datetime import datetime

    from handlers.office import export_files as report_files
    from storage.db import create_engine, prepare_schema
    from storage.errors import InvalidInput
    from storage.models import utcnow
    from storage.periods import parse_period

    today = datetime.now(settings.tz).date()
    try:
        period = parse_period(period_text, tz=settings.tz, today=today)
    except InvalidInput:
        print(
            f"yishi: bad period {period_text!r}: use 2026-11, 2026 or 2026-11-01..2026-11-15",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    path = out or report_files.file_name(period, fmt)
    engine = create_engine(settings.database_url)
    try:
        await prepare_schema(engine)
        if fmt == "xlsx":
            written = await report_files.write_xlsx(path, engine, period=period, now=utcnow())
        elif fmt == "csv":
            written = await report_files.write_csv(path, engine, period=period)
        else:
            written = await report_files.write_md(path, engine, period=period, now=utcnow())
    finally:
        await engine.dispose()
    print(f"{path}: {written.cases} cases filed in {period.label}")
    return 0


async def _schedule(settings: Settings) -> int:
    """`yishi schedule`: every job the bot would schedule, with its next run in local time."""
    from datetime import datetime

    from scheduler.core import JobContext
    from scheduler.cron import describe_jobs, format_jobs
    from scheduler.plan import build_scheduler
    from storage.db import create_engine

    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # "adding job tentatively"
    engine = create_engine(settings.database_url)  # not connected: no job runs here
    try:
        scheduler = build_scheduler(JobContext(engine=engine, settings=settings))
        jobs = describe_jobs(scheduler, now=datetime.now(settings.tz), tz=settings.tz)
    finally:
        await engine.dispose()
    print(format_jobs(jobs, settings.tz))
    return 0


def _run(settings: Settings, args: argparse.Namespace) -> int:
    # The settings first, before the imports below build anything (matplotlib's font cache).
    settings.wecom()  # a WeCom setting missing once the corp id is set stops start-up too
    settings.require_token()
    from bot.telegram.runner import run_bot, webhook_path
    from bot.web import parse_listen

    if args.webhook:
        if not args.url:
            raise SettingsError("--webhook needs --url, the public https:// URL of the webhook")
        settings.require_webhook_secret()
        webhook_path(args.url)
    elif args.url:
        raise SettingsError("--url is for --webhook; without it the bot polls")
    listen_text = args.listen or ("127.0.0.1:8443" if args.webhook else None)
    try:
        listen = parse_listen(listen_text) if listen_text else None
    except ValueError as error:
        raise SettingsError(str(error)) from None
    asyncio.run(run_bot(settings, webhook_url=args.url if args.webhook else None, listen=listen))
    return 0


async def _api(settings: Settings, listen: str) -> int:
    """`yishi api`: the web app (Open311, health, metrics) without the bot."""
    from bot.open311.cli import prepare_database
    from bot.web import parse_listen, serve

    try:
        host, port = parse_listen(listen)
    except ValueError as error:
        print(f"yishi: {error}", file=sys.stderr)
        return EXIT_CONFIG  # a usage error: 2, as argparse's own
    engine = await prepare_database(settings)
    try:
        await serve(settings, engine, host=host, port=port)
    finally:
        await engine.dispose()
    return 0


def main(argv: list[str] | None = None) -> int:
    # python-telegram-bot 22 warns on every 429 unless time spans are timedeltas; our sender
    # reads both forms (bot/telegram/flood.py), so opt in to the future behaviour.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
        configure_logging(args.log_level, settings.log_format, settings.secrets())
        if args.command == "run":
            return _run(settings, args)
        elif args.command == "migrate":
            asyncio.run(_migrate(settings, args.revision))
            print("database schema is up to date")
        elif args.command == "seed":
            asyncio.run(_seed(settings))
            print("default categories are in place")
        elif args.command == "invite":
            return asyncio.run(_invite(settings, args.role, args.unit))
        elif args.command == "report":
            return asyncio.run(_report(settings, args.period, args.format, args.out))
        elif args.command == "schedule":
            return asyncio.run(_schedule(settings))
        elif args.command == "sandbox":
            from bot.sandbox import main as sandbox

            return sandbox.main(args.listen, args.database, args.fresh)
        elif args.command == "api":
            return asyncio.run(_api(settings, args.listen))
        elif args.command == "apikey":
            from bot.open311 import cli as open311_cli

            return asyncio.run(open311_cli.run(settings, args))
    except (SettingsError, SchemaOutOfDate) as error:
        print(f"yishi: {error}", file=sys.stderr)
        return EXIT_CONFIG
    return 0


if __name__ == "__main__":
    sys.exit(main())
