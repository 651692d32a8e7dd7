"""Bot API methods answered the way Telegram answers them, driven by the real PTB Bot."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from telegram import (
    Bot,
    ChatFullInfo,
    ChatMemberAdministrator,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaPhoto,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, EndPointNotFound, InvalidToken

from bot.telegram.emulator import Emulator

from .conftest import ALICE, BOB, GROUP, make_bot

PNG_256x128 = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x00\x80" + bytes(40)


async def test_get_me(bot: Bot, emu: Emulator) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.first_name, me.is_bot) == (123456, "yishi_bot", "Yishi", True)
    assert emu.bot_user["id"] == 123456
    assert emu.calls[0][0] == "getMe"


async def test_wrong_token_is_invalid_token(emu: Emulator) -> None:
    wrong = make_bot(emu, token="999:WRONG")
    with pytest.raises(InvalidToken):
        await wrong.initialize()
    await wrong.shutdown()


async def test_unknown_method(bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("makeCoffee", api_kwargs={"chat_id": ALICE})


async def test_send_message_errors(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(424242, "hello")
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(ALICE, "   ")
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(ALICE, "议" * 4097)
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="数据" * 11)]])
    with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(ALICE, "hi", reply_markup=too_long)
    with pytest.raises(BadRequest, match="(?i)message to be replied not found"):
        await bot.send_message(ALICE, "hi", reply_parameters=ReplyParameters(message_id=99))


async def test_size_limits_are_telegrams_counted_in_utf16_code_units(bot: Bot) -> None:
    """Text 4,096, caption 1,024 (an emoji outside the BMP counts 2), callback data 64 bytes:
    exactly at the limit is taken, one more is refused with Telegram's own words."""
    text = await bot.send_message(ALICE, "😀" * 2048)
    with pytest.raises(BadRequest, match="^Message is too long$"):
        await bot.send_message(ALICE, "😀" * 2048 + "a")
    with pytest.raises(BadRequest, match="^Message is too long$"):
        await bot.edit_message_text("议" * 4097, chat_id=ALICE, message_id=text.message_id)
    photo = await bot.send_photo(ALICE, PNG_256x128, caption="😀" * 512)
    with pytest.raises(BadRequest, match="^Message caption is too long$"):
        await bot.send_photo(ALICE, PNG_256x128, caption="议" * 1025)
    with pytest.raises(BadRequest, match="^Message caption is too long$"):
        await bot.edit_message_caption(
            chat_id=ALICE, message_id=photo.message_id, caption="😀" * 512 + "a"
        )
    fits = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="议" * 21 + "a")]])
    await bot.send_message(ALICE, "64 bytes", reply_markup=fits)
    over = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="议" * 21 + "ab")]])
    with pytest.raises(BadRequest, match="^Button_data_invalid$"):
        await bot.send_message(ALICE, "65 bytes", reply_markup=over)
    with pytest.raises(BadRequest, match="^Button_data_invalid$"):
        await bot.edit_message_reply_markup(ALICE, text.message_id, reply_markup=over)


async def test_message_ids_per_chat_and_reply(bot: Bot, emu: Emulator) -> None:
    asked = emu.send_text(ALICE, "我要反映问题")
    first = await bot.send_message(ALICE, "请描述", reply_to_message_id=asked["message_id"])
    in_group = await bot.send_message(GROUP, "公告")
    assert (asked["message_id"], first.message_id, in_group.message_id) == (1, 2, 1)
    assert first.reply_to_message is not None
    assert first.reply_to_message.text == "我要反映问题"
    assert [m["message_id"] for m in emu.messages(ALICE)] == [1, 2]
    assert emu.last_bot_message(ALICE)["text"] == "请描述"  # type: ignore[index]


async def test_parse_modes_become_entities(bot: Bot) -> None:
    html = await bot.send_message(ALICE, "<b>粗体</b> &lt;ok&gt; #反映", parse_mode=ParseMode.HTML)
    assert html.text == "粗体 <ok> #反映"
    assert [(e.type, e.offset, e.length) for e in html.entities] == [
        ("bold", 0, 2),
        ("hashtag", 8, 3),
    ]
    md = await bot.send_message(ALICE, "*hi* `x`\\.", parse_mode=ParseMode.MARKDOWN_V2)
    assert md.text == "hi x."
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(ALICE, "Hello.", parse_mode=ParseMode.MARKDOWN_V2)
    with pytest.raises(BadRequest, match='(?i)Unsupported start tag "foo"'):
        await bot.send_message(ALICE, "<foo>", parse_mode=ParseMode.HTML)


async def test_edit_message_text_applied(bot: Bot, emu: Emulator) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("确认", callback_data="ok")]])
    sent = await bot.send_message(ALICE, "草稿", reply_markup=keyboard)
    edited = await bot.edit_message_text("定稿", chat_id=ALICE, message_id=sent.message_id)
    assert isinstance(edited, Message)
    assert edited.text == "定稿" and edited.edit_date is not None
    stored = emu.messages(ALICE)[-1]
    assert stored["text"] == "定稿"
    assert "reply_markup" not in stored  # like Telegram: no markup passed, keyboard removed
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("定稿", chat_id=ALICE, message_id=sent.message_id)
    await bot.edit_message_reply_markup(ALICE, sent.message_id, reply_markup=keyboard)
    assert emu.messages(ALICE)[-1]["reply_markup"]["inline_keyboard"][0][0]["text"] == "确认"
    user_message = emu.send_text(ALICE, "hi")
    with pytest.raises(BadRequest, match="(?i)can't be edited"):
        await bot.edit_message_text("x", chat_id=ALICE, message_id=user_message["message_id"])
    assert await bot.delete_message(ALICE, sent.message_id)
    assert [m["message_id"] for m in emu.messages(ALICE)] == [user_message["message_id"]]
    with pytest.raises(BadRequest, match="(?i)message to delete not found"):
        await bot.delete_message(ALICE, sent.message_id)


async def test_reply_keyboards_are_tracked(bot: Bot, emu: Emulator) -> None:
    await bot.send_message(ALICE, "选择", reply_markup=ReplyKeyboardMarkup([["是", "否"]]))
    assert emu.reply_keyboard(ALICE)["keyboard"] == [[{"text": "是"}, {"text": "否"}]]  # type: ignore[index]
    assert "reply_markup" not in emu.last_bot_message(ALICE)  # type: ignore[operator]
    await bot.send_message(ALICE, "好", reply_markup=ReplyKeyboardRemove())
    assert emu.reply_keyboard(ALICE) is None


async def test_send_photo_upload_then_get_file_download(bot: Bot, emu: Emulator) -> None:
    sent = await bot.send_photo(ALICE, photo=PNG_256x128, caption="<i>现场</i>", parse_mode="HTML")
    assert sent.caption == "现场" and sent.caption_entities[0].type == "italic"
    largest = sent.photo[-1]
    assert (largest.width, largest.height, largest.file_size) == (256, 128, len(PNG_256x128))
    telegram_file = await bot.get_file(largest.file_id)
    assert telegram_file.file_path is not None and telegram_file.file_path.endswith(".jpg")
    assert bytes(await telegram_file.download_as_bytearray()) == PNG_256x128
    again = await bot.send_photo(BOB, photo=largest.file_id)
    assert emu.file_bytes(again.photo[-1].file_id) == PNG_256x128
    with pytest.raises(BadRequest, match="(?i)wrong file identifier"):
        await bot.send_photo(ALICE, photo="no-such-file-id")


async def test_send_document_bytes_readable(bot: Bot, emu: Emulator) -> None:
    data = b"%PDF-1.4 case report"
    sent = await bot.send_document(GROUP, document=InputFile(data, filename="report.pdf"))
    document = emu.last_bot_message(GROUP)["document"]  # type: ignore[index]
    assert document["file_name"] == "report.pdf"
    assert document["mime_type"] == "application/pdf"
    assert document["file_size"] == len(data)
    assert sent.document is not None and emu.file_bytes(sent.document.file_id) == data


async def test_user_photo_downloadable_by_bot(bot: Bot, emu: Emulator) -> None:
    message = emu.send_photo(ALICE, caption="#反映 漏水", data=b"jpeg bytes")
    assert message["caption_entities"] == [{"offset": 0, "length": 3, "type": "hashtag"}]
    photo = message["photo"][-1]
    assert set(photo) == {"file_id", "file_unique_id", "width", "height", "file_size"}
    telegram_file = await bot.get_file(photo["file_id"])
    assert bytes(await telegram_file.download_as_bytearray()) == b"jpeg bytes"


async def test_location_poll_and_chat_action(bot: Bot, emu: Emulator) -> None:
    location = await bot.send_location(ALICE, latitude=31.23, longitude=121.47)
    assert location.location is not None and location.location.latitude == pytest.approx(31.23)
    poll_message = await bot.send_poll(GROUP, "周六开会?", ["去", "不去"], is_anonymous=False)
    assert poll_message.poll is not None
    emu.vote(BOB, GROUP, poll_message.message_id, [0])
    stopped = await bot.stop_poll(GROUP, poll_message.message_id)
    assert stopped.is_closed and stopped.options[0].voter_count == 1
    assert [next(k for k in u if k != "update_id") for u in emu.updates()] == [
        "poll",
        "poll_answer",
    ]
    assert await bot.send_chat_action(ALICE, "typing")
    with pytest.raises(BadRequest):
        await bot.send_chat_action(ALICE, "dancing")


async def test_chat_info_and_members(bot: Bot) -> None:
    chat = await bot.get_chat(GROUP)
    assert isinstance(chat, ChatFullInfo) and chat.title == "Block 7 residents"
    owner = await bot.get_chat_member(GROUP, ALICE)
    assert isinstance(owner, ChatMemberOwner)
    assert (await bot.get_chat_member(GROUP, BOB)).status == "member"
    admins = await bot.get_chat_administrators(GROUP)
    assert [a.user.id for a in admins] == [ALICE, 123456]
    assert isinstance(admins[1], ChatMemberAdministrator)


async def test_commands_and_webhook(bot: Bot, emu: Emulator) -> None:
    await bot.set_my_commands([("report", "反映问题"), ("help", "帮助")])
    assert [c.command for c in await bot.get_my_commands()] == ["report", "help"]
    assert await bot.get_my_commands(language_code="en") == ()
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    emu.send_text(ALICE, "hi")
    await bot.set_webhook("https://example.org/hook")
    info = await bot.get_webhook_info()
    assert info.url == "https://example.org/hook" and info.pending_update_count == 1
    await bot.delete_webhook(drop_pending_updates=True)
    assert emu.pending_updates() == 0


async def test_raw_http_parameter_styles(emu: Emulator) -> None:
    transport = httpx.ASGITransport(app=emu.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
        as_json = await client.post(
            f"/bot{emu.token}/sendMessage", json={"chat_id": ALICE, "text": "123"}
        )
        as_query = await client.get(
            f"/bot{emu.token}/sendMessage", params={"chat_id": str(BOB), "text": "true"}
        )
        as_form = await client.post(
            f"/bot{emu.token}/sendMessage",
            data={"chat_id": str(GROUP), "text": "[1]", "disable_notification": "true"},
        )
        unknown = await client.post(f"/bot{emu.token}/noSuchMethod")
        missing = await client.post(f"/bot{emu.token}/sendMessage", json={"chat_id": ALICE})
    assert [r.json()["result"]["text"] for r in (as_json, as_query, as_form)] == [
        "123",
        "true",
        "[1]",
    ]
    assert unknown.status_code == 404
    assert unknown.json() == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found: method not found",
    }
    assert missing.status_code == 400
    assert missing.json()["description"] == "Bad Request: message text is empty"
    assert emu.calls[2] == (
        "sendMessage",
        {"chat_id": GROUP, "text": "[1]", "disable_notification": True},
    )


async def test_second_poller_conflicts(bot: Bot, emu: Emulator) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    async with make_bot(emu) as other:
        assert await other.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates"):
        await first


async def test_media_group_forward_copy_with_helper_bot(emu: Emulator) -> None:
    async with emu.bot() as helper_bot:
        album = await helper_bot.send_media_group(
            GROUP, [InputMediaPhoto(b"one"), InputMediaPhoto(b"two", caption="第二张")]
        )
        assert len(album) == 2 and album[0].media_group_id == album[1].media_group_id
        assert album[1].caption == "第二张"
        assert emu.file_bytes(album[1].photo[-1].file_id) == b"two"
        report = emu.send_text(ALICE, "#反映 电梯坏了")
        forwarded = await helper_bot.forward_message(GROUP, ALICE, report["message_id"])
        assert forwarded.forward_origin is not None and forwarded.text == "#反映 电梯坏了"
        copied = await helper_bot.copy_message(BOB, ALICE, report["message_id"])
        assert emu.messages(BOB)[-1]["message_id"] == copied.message_id
        assert "forward_origin" not in emu.messages(BOB)[-1]
