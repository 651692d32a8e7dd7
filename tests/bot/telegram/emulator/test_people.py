"""Acting as people: entities like Telegram's, presses, edits, and the control API."""

from __future__ import annotations

import base64

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot.telegram.emulator import Emulator

from .conftest import ALICE, BOB, GROUP


def test_entities_use_utf16_offsets(emu: Emulator) -> None:
    text = "😀 /report@yishi_bot #反映 楼道漏水 @alice_w"
    message = emu.send_text(ALICE, text, chat_id=GROUP)
    assert message["entities"] == [
        {"offset": 3, "length": 17, "type": "bot_command"},  # 😀 is two UTF-16 code units
        {"offset": 21, "length": 3, "type": "hashtag"},
        {"offset": 30, "length": 8, "type": "mention"},
    ]
    update = Update.de_json(emu.updates()[-1], None)
    assert update.message is not None
    assert list(update.message.parse_entities().values()) == [
        "/report@yishi_bot",
        "#反映",
        "@alice_w",
    ]
    assert emu.messages(GROUP)[0]["chat"]["type"] == "supergroup"


def test_leading_command_entity(emu: Emulator) -> None:
    assert emu.send_text(BOB, "/start")["entities"] == [
        {"offset": 0, "length": 6, "type": "bot_command"}
    ]
    assert "entities" not in emu.send_text(BOB, "你好")


def test_other_message_kinds_deserialize(emu: Emulator) -> None:
    messages = [
        emu.send_location(ALICE, 31.2, 121.5),
        emu.send_sticker(ALICE),
        emu.send_voice(ALICE, duration=7),
        emu.send_contact(ALICE, "+8613800000000"),
        emu.send_document(ALICE, filename="证明.pdf", data=b"%PDF"),
    ]
    for update in emu.updates():
        assert Update.de_json(update, None).message is not None
    assert messages[2]["voice"]["duration"] == 7
    assert messages[3]["contact"]["user_id"] == ALICE
    assert messages[4]["document"]["file_name"] == "证明.pdf"
    assert emu.file_bytes(messages[4]["document"]["file_id"]) == b"%PDF"


async def test_press_by_data_text_forged_and_missing(bot: Bot, emu: Emulator) -> None:
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("是", callback_data="y"),
                InlineKeyboardButton("网站", url="https://x.org"),
            ]
        ]
    )
    sent = await bot.send_message(ALICE, "确认?", reply_markup=markup)
    assert emu.press(ALICE, sent.message_id, data="y")["data"] == "y"
    assert emu.press(ALICE, sent.message_id, text="是")["data"] == "y"
    with pytest.raises(LookupError, match="no button"):
        emu.press(ALICE, sent.message_id, data="n")
    with pytest.raises(LookupError, match="no callback_data"):
        emu.press(ALICE, sent.message_id, text="网站")
    forged = emu.press(ALICE, sent.message_id, data="admin:delete_all", forged=True)
    assert forged["data"] == "admin:delete_all"
    update = Update.de_json(emu.updates()[-1], bot)
    assert update.callback_query is not None
    assert update.callback_query.message is not None
    assert await update.callback_query.answer()
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await update.callback_query.answer()


def test_user_edit_enqueues_edited_message(emu: Emulator) -> None:
    message = emu.send_text(ALICE, "原文")
    emu.edit_text(ALICE, message["message_id"], "改后 #反映")
    edited = emu.updates()[-1]["edited_message"]
    assert edited["text"] == "改后 #反映" and "edit_date" in edited
    assert emu.messages(ALICE)[0]["text"] == "改后 #反映"


def test_unknown_people_and_chats(emu: Emulator) -> None:
    with pytest.raises(LookupError):
        emu.send_text(999, "hi")
    with pytest.raises(LookupError):
        emu.send_text(ALICE, "hi", chat_id=-100999)
    with pytest.raises(ValueError):
        emu.send_text(ALICE, "hi", chat_id=BOB)
    with pytest.raises(ValueError):
        emu.add_group(5, "not negative")


async def test_control_api(emu: Emulator, bot: Bot) -> None:
    transport = httpx.ASGITransport(app=emu.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
        user = await client.post("/control/users", json={"user_id": 2001, "first_name": "Carol"})
        assert user.json()["id"] == 2001
        sent = await client.post(
            "/control/send_text", json={"user_id": 2001, "text": "#反映 路灯坏了"}
        )
        assert sent.json()["entities"][0]["type"] == "hashtag"
        photo = await client.post(
            "/control/send_photo",
            json={"user_id": 2001, "data_base64": base64.b64encode(b"img").decode()},
        )
        assert emu.file_bytes(photo.json()["photo"][-1]["file_id"]) == b"img"
        upload = await client.post(
            "/control/send_photo", data={"user_id": "2001"}, files={"photo": ("p.jpg", b"up")}
        )
        assert emu.file_bytes(upload.json()["photo"][-1]["file_id"]) == b"up"
        location = await client.post(
            "/control/send_location", json={"user_id": 2001, "latitude": 1.5, "longitude": 2}
        )
        assert location.json()["location"] == {"latitude": 1.5, "longitude": 2.0}

        markup = InlineKeyboardMarkup([[InlineKeyboardButton("好", callback_data="ok")]])
        reply = await bot.send_message(2001, "收到", reply_markup=markup)
        waited = await client.get(
            "/control/wait", params={"chat_id": 2001, "after": 4, "timeout": 1}
        )
        assert [m["text"] for m in waited.json()["messages"]] == ["收到"]
        revision = waited.json()["revision"]
        pressed = await client.post(
            "/control/press", json={"user_id": 2001, "message_id": reply.message_id, "data": "ok"}
        )
        assert pressed.json()["data"] == "ok"
        await bot.edit_message_text("已处理", chat_id=2001, message_id=reply.message_id)
        changed = await client.get(
            "/control/wait", params={"chat_id": 2001, "after": 5, "since": revision}
        )
        assert [m["text"] for m in changed.json()["messages"]] == ["已处理"]
        listing = await client.get("/control/messages", params={"chat_id": 2001})
        assert len(listing.json()["messages"]) == 5
        chats = (await client.get("/control/chats")).json()["chats"]
        assert {c["id"] for c in chats} == {ALICE, BOB, GROUP, 2001}

        missing = await client.post("/control/press", json={"user_id": 2001, "message_id": 99})
        assert missing.status_code == 404
        bad = await client.post("/control/send_text", json={"text": "no user"})
        assert bad.status_code == 400
        no_text = await client.post("/control/send_text", json={"user_id": 2001})
        assert no_text.status_code == 400 and "text" in no_text.json()["error"]

        await client.post("/control/faults", json={"method": "sendMessage", "status": 502})
        await client.post("/control/block", json={"user_id": BOB})
        assert emu.faults.blocked == {BOB}
