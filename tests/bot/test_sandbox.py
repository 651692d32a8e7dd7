"""`yishi sandbox`: loopback by default, forced to the emulator, demo data through storage."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import func, select

from bot.cli import _parser
from bot.config import load_settings
from bot.sandbox import demo_data
from bot.sandbox import main as sandbox
from bot.sandbox.seed import seed_demo
from bot.telegram.emulator import Emulator, snapshot
from storage.cases import OPEN_STATUSES
from storage.db import create_engine, session_scope
from storage.deliberation.meeting_models import Proposal, Support
from storage.figures import stats
from storage.models import Case, DutySlot, Group, OutboxMessage, Resident, utcnow
from storage.periods import parse_period


def test_listens_on_loopback_unless_told_otherwise() -> None:
    args = _parser().parse_args(["sandbox"])
    assert args.listen == "127.0.0.1:8080" and not args.fresh
    chosen = sandbox.options(args.listen, args.database, args.fresh)
    assert (chosen.host, chosen.port) == ("127.0.0.1", 8080)
    assert chosen.database_url == "sqlite+aiosqlite:///./sandbox.db"
    assert chosen.chats_file == Path("sandbox.chats.json")
    assert sandbox.parse_listen("0.0.0.0:8080") == ("0.0.0.0", 8080)  # only when asked
    assert sandbox.parse_listen("[::1]:9000") == ("::1", 9000)
    assert sandbox.bot_base("http://0.0.0.0:8080", "0.0.0.0") == "http://127.0.0.1:8080"
    for bad in ("8080", "localhost:http", "1.2.3.4:70000"):
        with pytest.raises(sandbox.SandboxError):
            sandbox.parse_listen(bad)
    with pytest.raises(sandbox.SandboxError):
        sandbox.options("127.0.0.1:8080", "postgresql://x@h/db", fresh=True)


def test_the_bot_is_forced_to_the_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the environment says, the sandbox's bot has a fake token and a local API."""
    monkeypatch.setenv("YISHI_TELEGRAM_TOKEN", "123456789:a-real-looking-token")
    monkeypatch.setenv("YISHI_TELEGRAM_API_URL", "https://api.telegram.org/bot")
    monkeypatch.setenv("YISHI_ADMINS", "42")
    settings = sandbox.sandbox_settings("http://127.0.0.1:8080", "sqlite:///x.db")
    assert settings.telegram_api_url == "http://127.0.0.1:8080/bot"
    assert settings.require_token() == sandbox.TOKEN and settings.admins == frozenset()
    assert load_settings().telegram_api_url == "https://api.telegram.org/bot"  # untouched


def test_fresh_forgets_the_database_and_the_chats(tmp_path: Path) -> None:
    chosen = sandbox.options("127.0.0.1:0", f"sqlite:///{tmp_path}/s.db", fresh=True)
    assert chosen.chats_file == tmp_path / "s.chats.json"
    for name in ("s.db", "s.db-wal", "s.chats.json", "other.db"):
        (tmp_path / name).write_text("x")
    sandbox.forget(chosen)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]


def test_saved_chats_come_back_and_ids_keep_growing(tmp_path: Path) -> None:
    emu = sandbox.build_emulator()
    wang = demo_data.BY_KEY["wang"].user_id
    emu.send_text(wang, "/start")
    photo = emu.send_photo(wang, data=b"\x89PNG\r\n\x1a\n" + b"\0" * 16, caption="<b>hi</b>")
    snapshot.save(emu.world, tmp_path / "chats.json")

    again = Emulator(token=sandbox.TOKEN)
    assert snapshot.load(again.world, tmp_path / "chats.json")
    assert again.messages(wang) == emu.messages(wang)
    assert again.file_bytes(photo["photo"][-1]["file_id"]).startswith(b"\x89PNG")
    later = again.send_text(wang, "/help")
    assert later["message_id"] == 3
    assert again.updates()[-1]["update_id"] == emu.updates()[-1]["update_id"] + 1
    assert again.send_photo(wang)["photo"][0]["file_id"] not in {
        size["file_id"] for size in photo["photo"]
    }
    assert not snapshot.load(again.world, tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text('{"version": 99}')
    assert not snapshot.load(again.world, tmp_path / "bad.json")


async def test_demo_estate_has_every_state_and_figures(database_url: str) -> None:
    engine = create_engine(database_url)
    settings = load_settings(database_url=database_url)
    now = utcnow()
    try:
        async with session_scope(engine) as s:
            filed = await seed_demo(s, now=now, tz=settings.tz)
        async with session_scope(engine) as s:
            cases = list((await s.exec(select(Case))).all())
            statuses = Counter(c.status for c in cases)
            people = (await s.exec(select(func.count()).select_from(Resident))).one()
            group = (await s.exec(select(Group))).one()
            proposals = (await s.exec(select(func.count()).select_from(Proposal))).one()
            supports = (await s.exec(select(func.count()).select_from(Support))).one()
            on_duty = (
                await s.exec(select(func.count()).select_from(DutySlot))
            ).one() // sandbox_seed_days()
            outbox = (await s.exec(select(func.count()).select_from(OutboxMessage))).one()
            today = now.astimezone(settings.tz).date()
            days = f"{today - timedelta(days=95)}..{today}"
            period = parse_period(days, tz=settings.tz, today=today)
            figures = await stats.figures(s, period=period, now=now)
    finally:
        await engine.dispose()
    assert filed == len(cases) >= 40
    assert set(statuses) >= {
        "new", "accepted", "in_progress", "resolved", "closed", "rejected", "duplicate",
        "reopened",
    }  # fmt: skip
    overdue = [c for c in cases if c.status in OPEN_STATUSES and c.due_at and c.due_at < now]
    assert overdue, "some open cases are past their due time"
    assert min(c.created_at for c in cases) < now - timedelta(days=80)
    assert all(c.created_at <= c.updated_at <= now for c in cases)
    assert people == len(demo_data.PERSONAS)
    assert group.registered_at and group.buildings == demo_data.GROUP_BUILDINGS
    assert proposals == len(demo_data.PROPOSALS) and supports >= 11
    assert on_duty == 2
    assert outbox == 0, "the demo's past notices are not sent on first start"
    assert figures.overdue_now > 0 and figures.satisfaction.responses > 0
    assert all(month.accepted > 0 for month in figures.trend[-3:]), figures.trend[-4:]
    assert figures.hazards.found == len(demo_data.HAZARDS) and figures.hazards.rectified == 1
    assert figures.demand.accepted >= 30 and figures.demand.handled >= 15


def sandbox_seed_days() -> int:
    from bot.sandbox.seed import DUTY_DAYS

    return DUTY_DAYS
