"""Every WeComClient call round-trips against the emulator; WeCom's refusals are WeComError,
5xx and network failures WeComUnavailable."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.wecom import messages
from bot.wecom.client import (
    ButtonCard,
    CardButton,
    MenuClick,
    MenuLink,
    MenuText,
    WeComClient,
    WeComError,
    WeComUnavailable,
)
from bot.wecom.emulator import WeComEmulator
from tests.bot.wecom.conftest import SETTINGS

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def test_a_resident_writes_and_the_office_answers_within_the_window(
    wecom: WeComEmulator, client: WeComClient
) -> None:
    delivery = await wecom.resident_writes("wmRES001", "楼道灯坏了")
    await wecom.resident_writes("wmRES001", location=(39.9, 116.4, "5号楼", "幸福里5号楼"))
    event = messages.parse(delivery.inner_xml)
    assert isinstance(event, messages.KfMsgOrEvent)

    page = await client.kf_sync_msg(token=event.token, limit=1)
    assert page.has_more and len(page.messages) == 1
    first = page.messages[0]
    assert (first.external_userid, first.msgtype, first.origin) == ("wmRES001", "text", 3)
    assert first.body == {"content": "楼道灯坏了"} and first.open_kfid == SETTINGS.open_kfid
    rest = await client.kf_sync_msg(cursor=page.next_cursor)
    assert not rest.has_more and [m.msgtype for m in rest.messages] == ["location"]
    assert rest.messages[0].body["name"] == "5号楼"

    await client.kf_send_text("wmRES001", "收到，我们会尽快处理")
    menu_msgid = await client.kf_send_menu(
        "wmRES001",
        [
            MenuClick("d1:7:yes", "是，已修好"),
            MenuClick("d1:7:no", "还没有"),
            MenuText("或直接回复"),
        ],
        head="灯修好了吗？",
        tail="谢谢",
        msgid="ours-1",
    )
    assert menu_msgid == "ours-1"
    media_id = await client.upload_media(PNG, filename="map.png", content_type="image/png")
    await client.kf_send_image("wmRES001", media_id)
    await client.kf_send_menu("wmRES001", [MenuLink("https://example.org/case/7", "查看案件")])

    received = wecom.resident_received("wmRES001")
    assert [m["msgtype"] for m in received] == ["text", "msgmenu", "image", "msgmenu"]
    menu = received[1]["msgmenu"]
    assert menu["head_content"] == "灯修好了吗？" and menu["tail_content"] == "谢谢"
    assert menu["list"][0] == {
        "type": "click",
        "click": {"id": "d1:7:yes", "content": "是，已修好"},
    }
    assert menu["list"][2] == {"type": "text", "text": {"content": "或直接回复"}}
    assert received[2]["image"] == {"media_id": media_id}
    assert received[3]["msgmenu"]["list"][0]["type"] == "view"

    # A click comes back as text with the item's menu_id.
    await wecom.resident_writes("wmRES001", "是，已修好", menu_id="d1:7:yes")
    clicked = (await client.kf_sync_msg(cursor=rest.next_cursor)).messages
    assert clicked[0].body == {"content": "是，已修好", "menu_id": "d1:7:yes"}


async def test_the_sixth_message_and_one_without_a_window_are_refused(
    wecom: WeComEmulator, client: WeComClient
) -> None:
    await wecom.resident_writes("wmRES001", "你好")
    for n in range(5):
        await client.kf_send_text("wmRES001", f"通知{n}")
    with pytest.raises(WeComError) as refused:
        await client.kf_send_text("wmRES001", "第六条")
    assert (refused.value.api, refused.value.errcode) == ("kf/send_msg", 95001)
    with pytest.raises(WeComError) as refused:
        await client.kf_send_text("wmNEVER", "没写过")
    assert refused.value.errcode == 95002
    await wecom.resident_writes("wmRES001", "又写了")  # a new window
    await client.kf_send_text("wmRES001", "好的")
    assert len(wecom.resident_received("wmRES001")) == 6


async def test_a_card_is_sent_pressed_and_updated_for_everyone(
    wecom: WeComEmulator, client: WeComClient
) -> None:
    card = ButtonCard(
        task_id="case-7-1",
        title="新案件 #7",
        desc="楼道灯坏了",
        sub_title_text="5号楼2单元",
        fields=[("类别", "公共设施")],
        buttons=[CardButton("受理", "c1:7:accept"), CardButton("不归我们", "c1:7:nots", style=2)],
    )
    sent = await client.send_card(["zhangsan", "lisi", "ghost"], card)
    assert sent.response_code and sent.invaliduser == ["ghost"]
    got = wecom.member_received("zhangsan")[0]["template_card"]
    assert got["card_type"] == "button_interaction" and got["task_id"] == "case-7-1"
    assert got["main_title"] == {"title": "新案件 #7", "desc": "楼道灯坏了"}
    assert got["horizontal_content_list"] == [{"keyname": "类别", "value": "公共设施"}]
    assert [b["key"] for b in got["button_list"]] == ["c1:7:accept", "c1:7:nots"]

    press = messages.parse(
        (await wecom.member_presses("zhangsan", "case-7-1", "c1:7:accept")).inner_xml
    )
    assert isinstance(press, messages.TemplateCardEvent) and press.event_key == "c1:7:accept"
    invalid = await client.update_card(press.response_code, "已由 张三 受理", atall=True)
    assert invalid == []
    assert wecom.card_state("zhangsan", "case-7-1") == wecom.card_state("lisi", "case-7-1")
    assert wecom.card_state("lisi", "case-7-1") == "已由 张三 受理"
    with pytest.raises(WeComError) as refused:  # a response_code serves once
        await client.update_card(press.response_code, "again", userids=["lisi"])
    assert refused.value.errcode == 40058
    with pytest.raises(WeComError) as refused:  # task ids are unique per app
        await client.send_card(["zhangsan"], card)
    assert refused.value.errcode == 42014


async def test_text_and_markdown_to_members(wecom: WeComEmulator, client: WeComClient) -> None:
    sent = await client.send_text(["zhangsan", "lisi"], "今晚7点议事会")
    assert sent.msgid and sent.invaliduser == [] and sent.response_code is None
    await client.send_markdown(["zhangsan"], "**待办** 3 件")
    assert [m["msgtype"] for m in wecom.member_received("zhangsan")] == ["text", "markdown"]
    with pytest.raises(WeComError) as refused:
        await client.send_text(["ghost"], "nobody")
    assert refused.value.errcode == 81013


async def test_robots_post_to_their_groups(wecom: WeComEmulator, client: WeComClient) -> None:
    await client.robot_send_text("KEY-5", "停水通知", mentioned_list=["@all"])
    await client.robot_send_markdown("KEY-5", "## 吹哨\n请回复意见")
    got = wecom.group_received("KEY-5")
    assert got[0]["text"] == {"content": "停水通知", "mentioned_list": ["@all"]}
    assert got[1]["markdown"] == {"content": "## 吹哨\n请回复意见"}
    with pytest.raises(WeComError) as refused:
        await client.robot_send_text("KEY-GONE", "x")
    assert refused.value.errcode == 93000
    assert wecom.calls_of("gettoken") == []  # the key is the robot's credential


async def test_media_uploaded_then_got_until_it_expires(
    wecom: WeComEmulator, client: WeComClient
) -> None:
    media_id = await client.upload_media(PNG, filename="photo.png", content_type="image/png")
    got = await client.get_media(media_id)
    assert got.content == PNG and got.content_type == "image/png"
    # A resident's photo, as sync_msg names it.
    await wecom.resident_writes("wmRES001", image=b"\xff\xd8\xff" + b"jpeg" * 10)
    photo = (await client.kf_sync_msg()).messages[-1]
    assert (await client.get_media(photo.body["media_id"])).content.startswith(b"\xff\xd8\xff")
    wecom.invalidate_tokens()  # media/get refreshes the token like every other call
    assert (await client.get_media(media_id)).content == PNG
    wecom.advance(3 * 24 * 3600)
    with pytest.raises(WeComError) as refused:
        await client.get_media(media_id)
    assert (refused.value.api, refused.value.errcode) == ("media/get", 40007)
    with pytest.raises(WeComError) as refused:
        await client.upload_media(b"GIF89a-not-allowed")
    assert refused.value.errcode == 40004


async def test_5xx_and_network_failures_are_unavailable(
    wecom: WeComEmulator, client: WeComClient, engine: AsyncEngine
) -> None:
    await wecom.resident_writes("wmRES001", "你好")
    wecom.fail_next("kf/send_msg", status=503)
    with pytest.raises(WeComUnavailable) as failed:
        await client.kf_send_text("wmRES001", "一")
    assert (failed.value.api, failed.value.status) == ("kf/send_msg", 503)
    await client.kf_send_text("wmRES001", "一")  # nothing was sent the first time
    assert len(wecom.resident_received("wmRES001")) == 1

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    down = WeComClient(
        "http://wecom",
        agent_id=SETTINGS.agent_id,
        open_kfid=SETTINGS.open_kfid,
        tokens=client.tokens,
        transport=httpx.MockTransport(refuse),
    )
    async with down:
        with pytest.raises(WeComUnavailable) as failed:
            await down.send_text(["zhangsan"], "x")
        assert failed.value.status is None and "ConnectError" in failed.value.reason
        with pytest.raises(WeComUnavailable):
            await down.robot_send_text("KEY-5", "x")
