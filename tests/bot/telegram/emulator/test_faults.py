"""Injected faults surface as the python-telegram-bot exceptions real Telegram errors cause."""

from __future__ import annotations

import datetime as dtm
import time

import httpx
import pytest
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot.telegram.emulator import Emulator

from .conftest import ALICE, BOB, GROUP


async def test_fail_next_429_is_retry_after(
    bot: Bot, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    emu.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(ALICE, "hi")
    assert caught.value.retry_after == dtm.timedelta(seconds=3)
    answer = emu.calls[-1]
    assert answer[0] == "sendMessage"
    assert (await bot.send_message(ALICE, "hi")).text == "hi"  # only the next call failed


async def test_fail_next_500_times_and_chat(bot: Bot, emu: Emulator) -> None:
    emu.fail_next("sendMessage", status=500, times=2, chat_id=GROUP)
    await bot.send_message(ALICE, "other chats are fine")
    for _ in range(2):
        with pytest.raises(NetworkError) as caught:
            await bot.send_message(GROUP, "hi")
        assert not isinstance(caught.value, BadRequest)
    await bot.send_message(GROUP, "recovered")
    emu.fail_next("getChat", status=400, description="Bad Request: custom trouble")
    with pytest.raises(BadRequest, match="(?i)custom trouble"):
        await bot.get_chat(ALICE)


async def test_block_is_forbidden(bot: Bot, emu: Emulator) -> None:
    emu.block(BOB)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(BOB, "通知")
    with pytest.raises(Forbidden):
        await bot.send_chat_action(BOB, "typing")
    await bot.send_message(ALICE, "others still get messages")
    emu.unblock(BOB)
    await bot.send_message(BOB, "通知")
    statuses = [u["my_chat_member"]["new_chat_member"]["status"] for u in emu.updates()]
    assert statuses == ["kicked", "member"]


async def test_rate_limit_answers_429(
    bot: Bot, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    emu.set_rate_limit(per_chat_per_second=1)
    await bot.send_message(ALICE, "one")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(ALICE, "two")
    assert caught.value.retry_after == dtm.timedelta(seconds=1)
    await bot.send_message(BOB, "another chat has its own budget")
    assert await bot.get_chat(ALICE)  # not a send method
    emu.set_rate_limit(overall_per_second=2)
    await bot.send_message(ALICE, "a")
    await bot.send_message(BOB, "b")
    with pytest.raises(RetryAfter):
        await bot.send_message(GROUP, "c")
    emu.set_rate_limit()
    await bot.send_message(GROUP, "unlimited again")


async def test_set_delay(bot: Bot, emu: Emulator) -> None:
    emu.set_delay("getChat", 0.2)
    started = time.monotonic()
    await bot.get_chat(ALICE)
    assert time.monotonic() - started >= 0.2


async def test_raw_429_body_is_telegrams(emu: Emulator) -> None:
    emu.fail_next("sendMessage", retry_after=3)
    transport = httpx.ASGITransport(app=emu.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
        response = await client.post(
            f"/bot{emu.token}/sendMessage", data={"chat_id": str(ALICE), "text": "hi"}
        )
    assert response.status_code == 429
    assert response.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }


async def test_calls_before_retry_after_are_recorded_as_violations(
    bot: Bot, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    emu.fail_next("sendMessage", status=429, retry_after=2)  # no chat: every send waits
    with pytest.raises(RetryAfter):
        await bot.send_message(ALICE, "refused")
    await bot.send_photo(GROUP, b"photo")
    assert [(v.method, v.chat_id) for v in emu.flood_violations] == [("sendPhoto", GROUP)]
    emu.clear_faults()
    emu.fail_next("sendMessage", status=429, retry_after=2, chat_id=ALICE)
    with pytest.raises(RetryAfter):
        await bot.send_message(ALICE, "refused")
    await bot.send_message(BOB, "another chat is not held back")
    assert emu.flood_violations == [] and emu.answered_429 == 1
    await bot.send_message(ALICE, "too soon")
    [early] = emu.flood_violations
    assert (early.method, early.chat_id) == ("sendMessage", ALICE) and 1 < early.early_by <= 2
    emu.clear_faults()
    emu.fail_next("answerCallbackQuery", status=429, retry_after=1)
    with pytest.raises(RetryAfter):
        await bot.answer_callback_query("1")
    await bot.send_message(GROUP, "a send is not held back by another method's 429")
    assert emu.flood_violations == []
