"""The emulator over real loopback HTTP under uvicorn."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from telegram import Bot

from bot.telegram.emulator import Emulator, serve_in_background

from .conftest import ALICE


@pytest.mark.slow
async def test_serve_in_background(emu: Emulator) -> None:
    async with serve_in_background(emu, host="127.0.0.1", port=0) as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        bot = Bot(emu.token, base_url=f"{base_url}/bot", base_file_url=f"{base_url}/file/bot")
        await bot.initialize()
        assert bot.username == "yishi_bot"
        async with httpx.AsyncClient(base_url=base_url) as client:
            response = await client.post(
                "/control/send_text", json={"user_id": ALICE, "text": "over loopback"}
            )
            assert response.status_code == 200
            wrong = await client.post("/bot1:WRONG/getMe")
            assert wrong.status_code == 401
            assert wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        updates = await bot.get_updates(timeout=2)
        assert [u.message.text for u in updates if u.message] == ["over loopback"]
        sent = await bot.send_document(ALICE, document=b"bytes", filename="a.txt")
        assert sent.document is not None
        downloaded = await (await bot.get_file(sent.document.file_id)).download_as_bytearray()
        assert bytes(downloaded) == b"bytes"
        in_flight = asyncio.create_task(
            bot.get_updates(offset=updates[-1].update_id + 1, timeout=30)
        )
        await asyncio.sleep(0.05)
        stopping = time.monotonic()
    # leaving the block stops uvicorn promptly even with a long poll in flight
    assert time.monotonic() - stopping < 2
    assert await in_flight == ()
    await bot.shutdown()
