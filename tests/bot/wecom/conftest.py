"""The WeCom client against the emulator, served in-process, on the test's database."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import WeComSettings
from bot.wecom.client import WeComClient
from bot.wecom.emulator import WeComEmulator
from bot.wecom.emulator.emulator import SAMPLE_AES_KEY
from bot.wecom.token import AccessTokens, open_client

SETTINGS = WeComSettings(
    corp_id="wwcorp0001",
    agent_id="1000002",
    secret="app-secret",
    token="QDG6eK",
    aes_key=SAMPLE_AES_KEY,
    open_kfid="wkOFFICE0001",
    api_url="http://wecom",
    admins=frozenset({"zhangsan"}),
)


@pytest.fixture
def wecom() -> WeComEmulator:
    emulator = WeComEmulator(
        corp_id=SETTINGS.corp_id,
        agent_id=SETTINGS.agent_id,
        secret=SETTINGS.secret,
        token=SETTINGS.token,
        encoding_aes_key=SETTINGS.aes_key,
        open_kfid=SETTINGS.open_kfid,
    )
    emulator.add_member("zhangsan")
    emulator.add_member("lisi")
    emulator.add_robot("KEY-5", "5号楼")
    return emulator


ClientFactory = Callable[..., WeComClient]


@pytest.fixture
async def make_client(wecom: WeComEmulator) -> AsyncIterator[ClientFactory]:
    """Clients of the emulator, each an instance of the bot with its own token cache; the
    clock is the emulator's unless `now` is given."""
    made: list[WeComClient] = []

    def make(engine: AsyncEngine, now: Callable[[], float] | None = None) -> WeComClient:
        client = open_client(
            SETTINGS,
            engine,
            now=now or wecom.now,
            transport=httpx.ASGITransport(app=wecom.app),
        )
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


@pytest.fixture
async def client(make_client: ClientFactory, engine: AsyncEngine) -> WeComClient:
    return make_client(engine)


def tokens_of(client: WeComClient) -> AccessTokens:
    assert isinstance(client.tokens, AccessTokens)
    return client.tokens


def wall_clock() -> float:
    return time.time()
