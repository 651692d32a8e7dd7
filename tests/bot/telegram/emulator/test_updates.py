"""getUpdates semantics (long poll, offsets, duplicates) and a full Application round trip."""

from __future__ import annotations

import asyncio
import datetime as dtm
import time

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import Conflict
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.telegram.emulator import Emulator

from .conftest import ALICE, BASE_FILE_URL, BASE_URL, BOB, GROUP, in_process_request


async def test_long_poll_returns_promptly_when_update_arrives(bot: Bot, emu: Emulator) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    assert not poll.done()
    emu.send_text(ALICE, "在吗")
    updates = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 1.5
    assert [u.message.text for u in updates if u.message] == ["在吗"]


async def test_long_poll_times_out_empty(bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=dtm.timedelta(seconds=0.2)) == ()
    assert 0.15 < time.monotonic() - started < 1.5


async def test_offset_confirms_and_negative_offset(bot: Bot, emu: Emulator) -> None:
    for text in ("一", "二", "三"):
        emu.send_text(ALICE, text)
    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [1, 2, 3]
    assert emu.pending_updates() == 3  # fetched but not yet confirmed
    assert await bot.get_updates(offset=updates[-1].update_id + 1) == ()
    assert emu.pending_updates() == 0
    for text in ("四", "五", "六"):
        emu.send_text(BOB, text)
    last = await bot.get_updates(offset=-1)
    assert [u.message.text for u in last if u.message] == ["六"]
    assert len(await bot.get_updates(limit=1)) == 1


async def test_an_unparseable_update_through_the_control_api(bot: Bot, emu: Emulator) -> None:
    """Queued in order like any update, not kept in the chat; python-telegram-bot cannot read
    it (its date is not a number), so a plain Bot fails the whole batch."""
    emu.send_text(ALICE, "一")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=emu.app)) as http:
        answer = await http.post(
            "http://emulator/control/send_unparseable", json={"user_id": BOB, "text": "二"}
        )
    assert answer.status_code == 200 and answer.json()["message"]["date"] == "yesterday"
    assert [u["update_id"] for u in emu.updates()] == [1, 2]
    assert [m.get("text") for m in emu.messages(ALICE)] == ["一"] and emu.messages(BOB) == []
    with pytest.raises(TypeError):
        await bot.get_updates()


async def test_redeliver_gives_the_same_update_id_twice(bot: Bot, emu: Emulator) -> None:
    emu.send_text(ALICE, "/report")
    first = await bot.get_updates()
    emu.redeliver(first[0].update_id)
    again = await bot.get_updates(offset=first[0].update_id + 1)
    assert [u.update_id for u in again] == [first[0].update_id]
    assert again[0].message is not None and again[0].message.text == "/report"
    assert await bot.get_updates(offset=again[0].update_id + 1) == ()


async def test_allowed_updates_and_webhook_conflict(bot: Bot, emu: Emulator) -> None:
    emu.send_text(ALICE, "text")
    emu.block(BOB)  # my_chat_member update
    updates = await bot.get_updates(allowed_updates=["my_chat_member"])
    assert [u.my_chat_member.new_chat_member.status for u in updates if u.my_chat_member] == [
        "kicked"
    ]
    await bot.set_webhook("https://example.org/hook")
    with pytest.raises(Conflict):
        await bot.get_updates()


async def test_application_polling_command_keyboard_and_press(emu: Emulator) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("同意", callback_data="vote:yes")]])
        await update.effective_message.reply_text("请表决", reply_markup=keyboard)

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("已记录")
        await query.edit_message_text(f"你选了 {query.data}")

    app = (
        Application.builder()
        .token(emu.token)
        .base_url(BASE_URL)
        .base_file_url(BASE_FILE_URL)
        .request(in_process_request(emu))
        .get_updates_request(in_process_request(emu))
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=5)
        try:
            command = emu.send_text(ALICE, "/start@yishi_bot", chat_id=GROUP)
            question = await emu.wait_for_bot_message(GROUP, after=command["message_id"])
            assert question["text"] == "请表决"
            query = emu.press(ALICE, question["message_id"], chat_id=GROUP, text="同意")
            assert query["data"] == "vote:yes"
            await emu.wait_for_bot_message(
                GROUP, predicate=lambda m: m["text"].startswith("你选了"), timeout=3
            )
            assert emu.callback_answers[0]["text"] == "已记录"
            assert emu.callback_answers[0]["callback_query_id"] == query["id"]
            assert emu.messages(GROUP)[-1]["text"] == "你选了 vote:yes"
        finally:
            await app.updater.stop()
            await app.stop()
    assert emu.pending_updates() == 0


async def test_wait_for_bot_message_timeout_lists_the_chat(emu: Emulator) -> None:
    emu.send_text(ALICE, "有人吗")
    with pytest.raises(TimeoutError, match="#1 Alice: '有人吗'"):
        await emu.wait_for_bot_message(ALICE, timeout=0.05)
