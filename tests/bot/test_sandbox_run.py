"""The whole sandbox in-process: loopback, the bot on the emulator, state kept across runs."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.config import Settings
from bot.sandbox import demo_data
from bot.sandbox import main as sandbox

pytestmark = pytest.mark.slow
WANG = demo_data.BY_KEY["wang"].user_id


async def _run(chosen: sandbox.Options, act: Any) -> Any:
    """Start the sandbox, call `act(url, settings)` once it is ready, then stop it."""
    stop = asyncio.Event()
    ready: asyncio.Future[tuple[str, Settings]] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        sandbox.run_sandbox(
            chosen,
            stop=stop,
            on_ready=lambda url, settings: ready.set_result((url, settings)),
            handle_signals=False,
        )
    )
    try:
        url, settings = await asyncio.wait_for(asyncio.shield(ready), 120)
        return await act(url, settings)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


def _outside_address() -> str | None:
    """This machine's address on its network (no packet is sent), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            address = str(probe.getsockname()[0])
        except OSError:
            return None
    return None if address.startswith("127.") else address


async def _say(client: httpx.AsyncClient, text: str) -> dict[str, Any]:
    """Wang says `text` in his private chat; the bot's first answer."""
    sent = (await client.post("/control/send_text", json={"user_id": WANG, "text": text})).json()
    for _ in range(3):
        params = {"chat_id": WANG, "after": sent["message_id"], "timeout": 10}
        found = (await client.get("/control/wait", params=params)).json()
        bot = [m for m in found["messages"] if m["from"]["is_bot"]]
        if bot:
            return bot[0]
    raise AssertionError(f"no answer to {text!r}")


async def test_sandbox_serves_on_loopback_and_keeps_its_state(tmp_path: Path) -> None:
    chosen = sandbox.options("127.0.0.1:0", f"sqlite:///{tmp_path}/sandbox.db", fresh=True)

    async def first(url: str, settings: Settings) -> tuple[int, int]:
        assert url.startswith("http://127.0.0.1:")
        outside = _outside_address()
        if outside is not None:  # bound to loopback: the machine's own address is refused
            port = int(url.rsplit(":", 1)[1])
            with pytest.raises(OSError):
                socket.create_connection((outside, port), timeout=2).close()
        assert settings.telegram_api_url == f"{url}/bot"  # the bot polls this emulator
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            page = await client.get("/")
            assert page.status_code == 200 and "sandbox.js" in page.text
            assert "connect-src 'self'" in page.headers["content-security-policy"]
            info = (await client.get("/control/page")).json()
            assert info["ready"] and len(info["personas"]) == len(demo_data.PERSONAS)
            answer = await _say(client, "/mycases")
            assert "#" in answer["text"], "Wang sees his demo cases"
            return answer["message_id"], len(answer["text"])

    answered, _ = await _run(chosen, first)
    assert chosen.chats_file.is_file()

    async def second(url: str, settings: Settings) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            kept = (await client.get("/control/messages", params={"chat_id": WANG})).json()
            assert answered in [m["message_id"] for m in kept["messages"]]
            answer = await _say(client, "/mycases")
            assert answer["message_id"] > answered  # ids keep growing: nothing looks repeated

    await _run(sandbox.options("127.0.0.1:0", chosen.database_url, fresh=False), second)
