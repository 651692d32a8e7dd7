"""Two `yishi run --webhook` processes on one PostgreSQL behind a round-robin balancer.

The emulator plays Telegram: it posts each update to the balancer, which hands them to the
instances in turn, so one resident's report is written step by step across both. Both run the
scheduler (their start-up catch-up of the digests fires at the same moment) and both senders
drain the one outbox. Exactly one case, one notice of each kind and one digest must come out.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from bot.serving import serving
from bot.telegram.emulator import Emulator, RoundRobin, serve_in_background
from bot.telegram.emulator.bot_process import BotProcess, bot_env
from storage import people
from storage.cases import routing
from storage.db import create_engine, session_scope
from storage.models import Case, OutboxMessage, utcnow
from storage.people.roles import Role, grant
from tests.harness import GROUP, LI, TOKEN, WANG, find_button, make_emulator

pytestmark = pytest.mark.slow

SECRET = "two-instances-secret"
STAFF = LI


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _seed(database_url: str) -> None:
    """Li works in the safety office; the residents' group is registered (digests go there)."""
    engine = create_engine(database_url)
    async with session_scope(engine) as s:
        for user, name in ((WANG, "王 芳"), (STAFF, "李 强")):
            await people.touch_resident(
                s, channel="telegram", external_id=str(user), name=name, username=None,
                language_code="zh", default_language="zh",
            )  # fmt: skip
        li = await people.find_resident(s, channel="telegram", external_id=str(STAFF))
        safety = await routing.unit_by_code(s, "safety")
        assert li is not None and safety is not None
        await grant(s, resident=li, role=Role.STAFF, unit_id=safety.id)
        group = await people.touch_group(s, channel="telegram", external_id=GROUP, title="居民群")
        group.registered_at = utcnow()
        s.add(group)
    await engine.dispose()


async def _report(emu: Emulator) -> None:
    """Wang's report, one step per update, each step once the bot has asked for it."""

    async def press(label: str) -> None:
        for _ in range(200):
            with contextlib.suppress(LookupError):
                message_id, data = find_button(emu, WANG, label)
                emu.press(WANG, message_id, data=data)
                return
            await asyncio.sleep(0.1)
        message_id, data = find_button(emu, WANG, label)  # fails, saying what the bot did ask

    async def say(text: str) -> None:
        answered = emu.bot_messages(WANG)
        emu.send_text(WANG, text)
        await emu.wait_for_bot_message(
            WANG, after=answered[-1]["message_id"] if answered else 0, timeout=20
        )

    await say("/report")
    await press("安全隐患")
    await say("3号楼楼道堆满了纸箱，消防通道不通")
    await press("跳过 ⏭")
    await say("3号楼二单元")
    await press("向处理人员显示姓名")
    await press("确认提交")
    await _wait(lambda: _texts(emu, WANG, r"已登记，编号"))


def _texts(emu: Emulator, chat: int, pattern: str) -> list[str]:
    found = (m.get("text") or m.get("caption") or "" for m in emu.bot_messages(chat))
    return [text for text in found if re.search(pattern, text)]


async def _wait(condition, timeout: float = 30.0) -> None:
    for _ in range(int(timeout / 0.1)):
        if condition():
            return
        await asyncio.sleep(0.1)
    raise TimeoutError


async def _handled_per_instance(url: str) -> float:
    async with httpx.AsyncClient(timeout=5) as http:
        page = (await http.get(f"{url}/metrics")).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in page.splitlines()
        if line.startswith("yishi_webhook_requests_total{") and 'result="handled"' in line
    )


async def test_two_instances_share_one_conversation_and_post_everything_once(
    database_url: str, tmp_path: Path
):
    if not database_url.startswith("postgresql"):
        pytest.skip("instances side by side share PostgreSQL (set YISHI_TEST_DATABASE_URL)")
    await _seed(database_url)
    emu = make_emulator()
    ports = [_free_port(), _free_port()]
    targets = [f"http://127.0.0.1:{port}" for port in ports]
    balancer = RoundRobin(targets)
    async with serve_in_background(emu) as emu_url, serving(balancer, "127.0.0.1", 0) as lb_url:
        env = bot_env(emu_url, database_url, TOKEN, webhook_secret=SECRET, catch_up_after="2")
        bots = [
            BotProcess(
                emu,
                tmp_path,
                env,
                name=f"bot{i}",
                health_url=f"{target}/healthz",
                args=["--webhook", "--url", f"{lb_url}/telegram", "--listen", target[7:]],
            )  # fmt: skip
            for i, target in enumerate(targets)
        ]
        try:
            await asyncio.gather(*(bot.start() for bot in bots))
            await _report(emu)
            await _wait(lambda: _texts(emu, STAFF, r"案件 #1"))
            await _wait(lambda: len(_texts(emu, GROUP, r"案件简报")) >= 2)
            await asyncio.sleep(2)  # anything sent twice would have arrived by now
            handled = [await _handled_per_instance(t) for t in targets]
            stopped = [await bot.stop() for bot in bots]
        finally:
            for bot in bots:
                await bot.kill_if_running()
        await balancer.aclose()

    assert all(count >= 3 for count in handled), handled  # the conversation was spread
    assert [(s["exit"], s["forced"]) for s in stopped] == [(0, False), (0, False)]
    assert len(_texts(emu, WANG, r"已登记，编号")) == 1
    assert len(_texts(emu, STAFF, r"案件 #1")) == 1
    digests = _texts(emu, GROUP, r"案件简报")
    assert len(digests) == 2, digests  # the weekly and the monthly one, once each
    engine = create_engine(database_url)
    async with session_scope(engine) as s:
        cases = (await s.exec(select(Case))).all()
        notices = (await s.exec(select(OutboxMessage))).all()
    await engine.dispose()
    assert [c.text for c in cases] == ["3号楼楼道堆满了纸箱，消防通道不通"]
    assert notices and {n.status for n in notices} == {"sent"}
    shown = [(int(n.address), n.sent_message_id) for n in notices]
    assert len(shown) == len(set(shown))
    sent_to = {(m["chat"]["id"], m["message_id"]) for c in (WANG, STAFF, GROUP)
               for m in emu.bot_messages(c)}  # fmt: skip
    assert set(shown) <= sent_to
