"""An emulated WeCom served in-process, a client for it, and a callback receiver."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.wecom.crypto import MemoryReplayGuard, Replayed, WeComCrypto
from bot.wecom.emulator import WeComEmulator
from bot.wecom.emulator.emulator import SAMPLE_AES_KEY


@dataclass
class Receiver:
    """The bot's side of the callback: decrypts every POST, answers as scripted."""

    crypto: WeComCrypto
    statuses: list[int] = field(default_factory=list)  # answers to give, then 200
    delay: float = 0.0
    messages: list[str] = field(default_factory=list)  # decrypted inner XML, once each
    repeats: int = 0

    async def handle(self, request: Request) -> Response:
        query = request.query_params
        try:
            self.messages.append(
                await self.crypto.decrypt(
                    query["msg_signature"], query["timestamp"], query["nonce"], await request.body()
                )
            )
        except Replayed:
            self.repeats += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        return PlainTextResponse("", status_code=self.statuses.pop(0) if self.statuses else 200)


@pytest.fixture
def emu() -> WeComEmulator:
    emulator = WeComEmulator()
    emulator.add_member("zhangsan")
    emulator.add_member("lisi")
    emulator.add_robot("KEY-5", "5号楼")
    emulator.add_robot("KEY-6", "6号楼")
    return emulator


@pytest.fixture
async def api(emu: WeComEmulator) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=emu.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://wecom") as client:
        yield client


@pytest.fixture
def receiver(emu: WeComEmulator) -> Receiver:
    crypto = WeComCrypto(
        token="QDG6eK",
        encoding_aes_key=SAMPLE_AES_KEY,
        receive_id=emu.corp_id,
        replay_guard=MemoryReplayGuard(clock=emu.now),
        clock=emu.now,
    )
    found = Receiver(crypto)
    app = Starlette(routes=[Route("/wecom/callback", found.handle, methods=["POST"])])
    emu.set_callback("http://bot/wecom/callback", httpx.ASGITransport(app=app))
    return found


async def token(api: httpx.AsyncClient) -> str:
    answer = await api.get(
        "/cgi-bin/gettoken", params={"corpid": "wwcorp0001", "corpsecret": "app-secret"}
    )
    return str(answer.json()["access_token"])


async def call(api: httpx.AsyncClient, path: str, body: dict[str, Any], **query: str) -> Any:
    if "access_token" not in query:
        query["access_token"] = await token(api)
    answer = await api.post(f"/cgi-bin/{path}", params=query, json=body)
    assert answer.status_code == 200
    return answer.json()
