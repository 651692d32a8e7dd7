"""The emulator's side of the chat page: static files, file downloads, live reads, votes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.telegram.emulator import Emulator

ALICE, GROUP = 1001, -1005


@pytest.fixture
async def emu_client() -> AsyncIterator[tuple[Emulator, httpx.AsyncClient]]:
    emu = Emulator(token="123:T")
    emu.add_user(ALICE, "Alice", language_code="en")
    emu.add_group(GROUP, "Block 7", member_ids=[ALICE])
    transport = httpx.ASGITransport(app=emu.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://page") as client:
        yield emu, client


async def test_the_page_and_its_files_carry_a_same_origin_policy(emu_client) -> None:
    _, client = emu_client
    page = await client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    script = await client.get("/static/sandbox.js")
    assert script.status_code == 200 and "text/javascript" in script.headers["content-type"]
    for sneaky in ("/static/..%2Fpage.py", "/static/../page.py", "/static/nothing.js"):
        assert (await client.get(sneaky)).status_code == 404


async def test_files_by_id_and_documents_download_with_their_name(emu_client) -> None:
    emu, client = emu_client
    sent = emu.send_document(ALICE, filename="报表 2026-11.xlsx", data=b"PK\x03\x04")
    response = await client.get(f"/control/file/{sent['document']['file_id']}")
    assert response.content == b"PK\x03\x04"
    assert "attachment" in response.headers["content-disposition"]
    assert "%E6%8A%A5%E8%A1%A8" in response.headers["content-disposition"]
    assert (await client.get("/control/file/nope")).status_code == 404


async def test_activity_wakes_on_a_change_and_answers_say_what_the_bot_said(emu_client) -> None:
    emu, client = emu_client
    revision = emu.world.revision
    waiting = asyncio.create_task(
        client.get("/control/activity", params={"since": revision, "timeout": 5})
    )
    await asyncio.sleep(0.05)
    emu.send_text(ALICE, "hello", chat_id=GROUP)
    found = (await waiting).json()
    assert found["chats"] == [GROUP] and found["revision"] > revision
    empty = await client.get("/control/activity", params={"since": found["revision"], "timeout": 0})
    assert empty.json()["chats"] == []
    nothing = await client.get("/control/answer", params={"query_id": "1", "timeout": 0})
    assert nothing.json() == {"answer": None}


async def test_voting_in_a_poll(emu_client) -> None:
    emu, client = emu_client
    bot = emu.bot()
    async with bot:
        poll = await bot.send_poll(GROUP, "Paint the gate?", ["green", "blue"], is_anonymous=False)
    body = {"user_id": ALICE, "chat_id": GROUP, "message_id": poll.message_id, "option_ids": [1]}
    voted = (await client.post("/control/vote", json=body)).json()
    assert [o["voter_count"] for o in voted["options"]] == [0, 1]
    bad = await client.post("/control/vote", json={**body, "message_id": 999})
    assert bad.status_code == 404
    info = (await client.get("/control/page")).json()
    assert info["bot"]["id"] == 123 and [u["id"] for u in info["users"]] == [ALICE]
