"""Encrypted callbacks and their retries; template cards; media; sync_msg paging."""

from __future__ import annotations

import httpx
import pytest

from bot.wecom import messages
from bot.wecom.emulator import WeComEmulator
from tests.bot.wecom.emulator.conftest import Receiver, call, token

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def test_a_resident_message_comes_as_an_encrypted_kf_callback(
    emu: WeComEmulator, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    delivery = await emu.resident_writes("wmRES1", "楼道灯坏了")
    assert delivery.delivered and len(delivery.attempts) == 1
    event = messages.parse(receiver.messages[0])
    assert isinstance(event, messages.KfMsgOrEvent)
    assert event.open_kf_id == "wkOFFICE0001" and event.corp_id == emu.corp_id

    pulled = await call(api, "kf/sync_msg", {"token": event.token, "open_kfid": event.open_kf_id})
    assert pulled["errcode"] == 0 and pulled["has_more"] == 0
    (message,) = pulled["msg_list"]
    assert message["origin"] == 3 and message["external_userid"] == "wmRES1"
    assert message["msgtype"] == "text" and message["text"]["content"] == "楼道灯坏了"

    emu.advance(601)  # the event's token is good for 10 minutes
    stale = await call(api, "kf/sync_msg", {"token": event.token, "open_kfid": "wkOFFICE0001"})
    assert stale["errcode"] == 40058


async def test_a_callback_is_retried_until_answered_200(
    emu: WeComEmulator, receiver: Receiver
) -> None:
    receiver.statuses = [500, 502]
    delivery = await emu.resident_writes("wmRES1", "你好")
    assert [a.status for a in delivery.attempts] == [500, 502, 200]
    assert delivery.delivered
    assert len(receiver.messages) == 1 and receiver.repeats == 2  # the same request again


async def test_a_slow_receiver_gets_three_retries_then_nothing(
    emu: WeComEmulator, receiver: Receiver
) -> None:
    emu.callbacks.timeout = 0.05  # WeCom waits 5 s; the tests need not
    receiver.delay = 0.2
    delivery = await emu.resident_writes("wmRES1", "你好")
    assert len(delivery.attempts) == 4 and not delivery.delivered
    assert all(a.status is None and a.error == "TimeoutError" for a in delivery.attempts)


async def test_a_card_press_comes_back_and_updates_the_card(
    emu: WeComEmulator, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    card = {
        "touser": "zhangsan|lisi",
        "agentid": 1000002,
        "msgtype": "template_card",
        "template_card": {
            "card_type": "button_interaction",
            "main_title": {"title": "新反映 #12"},
            "task_id": "case-12-v1",
            "button_list": [
                {"text": "受理", "key": "accept:12"},
                {"text": "不归我们", "key": "x:12"},
            ],
        },
    }
    sent = await call(api, "message/send", card)
    assert sent["errcode"] == 0 and sent["response_code"]
    assert (await call(api, "message/send", card))["errcode"] == 42014  # task_id used

    await emu.member_presses("zhangsan", "case-12-v1", "accept:12")
    event = messages.parse(receiver.messages[-1])
    assert isinstance(event, messages.TemplateCardEvent)
    assert (event.from_user, event.event_key, event.task_id) == (
        "zhangsan",
        "accept:12",
        "case-12-v1",
    )
    update = {
        "userids": ["zhangsan", "lisi"],
        "agentid": 1000002,
        "response_code": event.response_code,
        "button": {"replace_name": "已由 张三 受理"},
    }
    assert (await call(api, "message/update_template_card", update))["errcode"] == 0
    assert emu.card_state("lisi", "case-12-v1") == "已由 张三 受理"
    assert (await call(api, "message/update_template_card", update))["errcode"] == 40058  # once
    with pytest.raises(ValueError, match="已由 张三 受理"):  # a greyed card cannot be pressed
        await emu.member_presses("lisi", "case-12-v1", "x:12")

    await emu.member_writes("lisi", "/todo")
    text = messages.parse(receiver.messages[-1])
    assert isinstance(text, messages.TextMessage) and text.content == "/todo"


async def test_media_upload_get_and_expiry(emu: WeComEmulator, api: httpx.AsyncClient) -> None:
    access = await token(api)
    upload = await api.post(
        "/cgi-bin/media/upload",
        params={"access_token": access, "type": "image"},
        files={"media": ("a.png", PNG, "image/png")},
    )
    media_id = upload.json()["media_id"]
    assert upload.json()["type"] == "image"
    got = await api.get("/cgi-bin/media/get", params={"access_token": access, "media_id": media_id})
    assert got.content == PNG and got.headers["content-type"] == "image/png"

    emu.advance(3 * 24 * 3600)
    access = await token(api)  # the old token expired too
    gone = await api.get(
        "/cgi-bin/media/get", params={"access_token": access, "media_id": media_id}
    )
    assert gone.json()["errcode"] == 40007
    bad = await api.post(
        "/cgi-bin/media/upload",
        params={"access_token": access, "type": "pdf"},
        files={"media": ("a.pdf", b"%PDF-1.4 ...", "application/pdf")},
    )
    assert bad.json()["errcode"] == 40005


async def test_sync_msg_pages_with_the_cursor(emu: WeComEmulator, api: httpx.AsyncClient) -> None:
    await emu.resident_writes("wmRES1", "一")
    await emu.resident_writes("wmRES2", image=PNG)
    await emu.resident_writes("wmRES1", location=(39.9, 116.4, "5号楼", "幸福路5号"))
    await emu.resident_writes("wmRES1", "修好了", menu_id="fixed:1")
    await emu.resident_writes("wmRES3", "五")

    pages, cursor = [], ""
    while True:
        page = await call(
            api, "kf/sync_msg", {"cursor": cursor, "limit": 2, "open_kfid": "wkOFFICE0001"}
        )
        pages.append(page["msg_list"])
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert [len(p) for p in pages] == [2, 2, 1]
    flat = [m for p in pages for m in p]
    assert [m["msgtype"] for m in flat] == ["text", "image", "location", "text", "text"]
    assert flat[2]["location"]["name"] == "5号楼"
    assert flat[3]["text"] == {"content": "修好了", "menu_id": "fixed:1"}
    assert len({m["msgid"] for m in flat}) == 5

    media_id = flat[1]["image"]["media_id"]
    access = await token(api)
    photo = await api.get(
        "/cgi-bin/media/get", params={"access_token": access, "media_id": media_id}
    )
    assert photo.content == PNG

    later = await call(api, "kf/sync_msg", {"cursor": cursor, "open_kfid": "wkOFFICE0001"})
    assert later["msg_list"] == [] and later["has_more"] == 0
    emu.advance(3 * 24 * 3600 + 1)  # sync_msg reads the last 3 days
    assert (await call(api, "kf/sync_msg", {"open_kfid": "wkOFFICE0001"}))["msg_list"] == []
