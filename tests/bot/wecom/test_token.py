"""The access_token: fetched once, shared by instances through the database, refreshed once
when WeCom refuses it (40014 invalidated, 42001 expired), the refused call made once more."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.wecom.client import WeComClient, WeComError
from bot.wecom.emulator import WeComEmulator
from storage.access_tokens import credential_of, read_token
from storage.db import create_engine, session_scope
from tests.bot.wecom.conftest import SETTINGS, ClientFactory, tokens_of, wall_clock


def gettokens(wecom: WeComEmulator) -> int:
    return len(wecom.calls_of("gettoken"))


async def stored(engine: AsyncEngine) -> str | None:
    async with session_scope(engine) as session:
        row = await read_token(
            session, corp_id=SETTINGS.corp_id, credential=credential_of(SETTINGS.secret)
        )
    return row.token if row else None


async def test_the_token_is_fetched_once_kept_and_reused(
    wecom: WeComEmulator, client: WeComClient, engine: AsyncEngine
) -> None:
    for n in range(3):
        await client.send_text(["zhangsan"], f"第{n}条")
    await asyncio.gather(*(client.send_text(["lisi"], f"并发{n}") for n in range(5)))
    assert gettokens(wecom) == 1
    assert await stored(engine) in wecom.tokens.valid()
    assert SETTINGS.secret not in str(await stored(engine))
    # An hour on, still the same token; 5 minutes before its expiry, a new one.
    wecom.advance(3600)
    await client.send_text(["zhangsan"], "一小时后")
    assert gettokens(wecom) == 1
    wecom.advance(7200 - 3600 - 299)
    await client.send_text(["zhangsan"], "快过期了")
    # Asked again, WeCom answers the same token with the 299 s it has left: used till it ends.
    assert gettokens(wecom) == 2 and wecom.tokens_issued == 1
    await client.send_text(["zhangsan"], "还没过期")
    assert gettokens(wecom) == 2


async def test_an_invalidated_token_is_refreshed_once_and_the_call_retried(
    wecom: WeComEmulator, client: WeComClient
) -> None:
    await client.send_text(["zhangsan"], "一")
    wecom.invalidate_tokens()
    sent = await client.send_text(["zhangsan"], "二")
    assert sent.msgid
    assert [c["errcode"] for c in wecom.calls_of("message/send")] == [0, 40014, 0]
    assert gettokens(wecom) == 2 and tokens_of(client).fetched == 2
    assert [m["text"]["content"] for m in wecom.member_received("zhangsan")] == ["一", "二"]


async def test_expiry_mid_run_is_refreshed_once_and_the_call_retried(
    wecom: WeComEmulator, make_client: ClientFactory, engine: AsyncEngine
) -> None:
    # The bot's clock (wall time) believes the token good; WeCom's has passed its 7,200 s.
    client = make_client(engine, now=wall_clock)
    await client.send_text(["zhangsan"], "一")
    wecom.advance(7201)
    await asyncio.gather(*(client.send_text(["zhangsan"], f"过期后{n}") for n in range(3)))
    errcodes = [c["errcode"] for c in wecom.calls_of("message/send")]
    assert errcodes.count(42001) == 3 and errcodes.count(0) == 4  # each refused once, then sent
    assert gettokens(wecom) == 2  # one refresh for the three
    assert len(wecom.member_received("zhangsan")) == 4


async def test_a_token_refused_twice_is_the_error(
    wecom: WeComEmulator, client: WeComClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await client.send_text(["zhangsan"], "一")
    tokens = tokens_of(client)

    async def refresh(stale: str) -> str:
        return stale  # a source that keeps handing out the refused token

    monkeypatch.setattr(tokens, "refresh", refresh)
    wecom.invalidate_tokens()
    with pytest.raises(WeComError) as refused:
        await client.send_text(["zhangsan"], "二")
    assert refused.value.errcode == 40014
    assert [c["errcode"] for c in wecom.calls_of("message/send")] == [0, 40014, 40014]


async def test_two_instances_share_one_token(
    wecom: WeComEmulator, make_client: ClientFactory, database_url: str
) -> None:
    engines = [create_engine(database_url), create_engine(database_url)]
    try:
        first, second = (make_client(engine) for engine in engines)
        await asyncio.gather(
            first.send_text(["zhangsan"], "甲"),
            second.send_text(["lisi"], "乙"),
            first.kf_sync_msg(),
            second.kf_sync_msg(),
        )
        assert gettokens(wecom) == 1
        assert tokens_of(first).fetched + tokens_of(second).fetched == 1
        # WeCom ends the token early: both instances find out at once, one fetches.
        wecom.invalidate_tokens()
        await asyncio.gather(first.send_text(["zhangsan"], "丙"), second.send_text(["lisi"], "丁"))
        assert gettokens(wecom) == 2
        token = await stored(engines[0])
        assert token is not None and token == await stored(engines[1])
        assert token in wecom.tokens.valid()
    finally:
        for engine in engines:
            await engine.dispose()


async def test_a_refused_secret_is_the_error_and_nothing_is_stored(
    wecom: WeComEmulator, client: WeComClient, engine: AsyncEngine
) -> None:
    wecom.tokens.secrets = {"another-secret"}
    with pytest.raises(WeComError) as refused:
        await client.send_text(["zhangsan"], "一")
    assert (refused.value.api, refused.value.errcode) == ("gettoken", 40001)
    assert await stored(engine) is None
