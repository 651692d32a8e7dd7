"""gettoken and token expiry; the kf window; the per-member and per-robot rate limits."""

from __future__ import annotations

import httpx

from bot.wecom.emulator import WeComEmulator
from tests.bot.wecom.emulator.conftest import call, token

HOUR = 3600.0


async def test_a_token_lasts_7200_s_then_answers_42001(
    emu: WeComEmulator, api: httpx.AsyncClient
) -> None:
    query = {"corpid": "wwcorp0001", "corpsecret": "app-secret"}
    first = (await api.get("/cgi-bin/gettoken", params=query)).json()
    assert first["errcode"] == 0 and first["expires_in"] == 7200
    again = (await api.get("/cgi-bin/gettoken", params=query)).json()
    assert again["access_token"] == first["access_token"]  # same token while it is valid
    assert emu.tokens_issued == 1

    body = {"touser": "zhangsan", "agentid": 1000002, "msgtype": "text", "text": {"content": "hi"}}
    sent = await call(api, "message/send", body, access_token=first["access_token"])
    assert sent["errcode"] == 0

    emu.advance(7200)
    expired = await call(api, "message/send", body, access_token=first["access_token"])
    assert expired["errcode"] == 42001
    assert (await call(api, "message/send", body, access_token="forged"))["errcode"] == 40014
    missing = (await api.post("/cgi-bin/message/send", json=body)).json()
    assert missing["errcode"] == 41001

    fresh = await token(api)
    assert fresh != first["access_token"] and emu.tokens_issued == 2
    emu.invalidate_tokens()
    assert (await call(api, "message/send", body, access_token=fresh))["errcode"] == 40014


async def test_gettoken_refuses_a_wrong_corp_or_secret(api: httpx.AsyncClient) -> None:
    wrong_secret = {"corpid": "wwcorp0001", "corpsecret": "guess"}
    assert (await api.get("/cgi-bin/gettoken", params=wrong_secret)).json()["errcode"] == 40001
    wrong_corp = {"corpid": "other", "corpsecret": "app-secret"}
    assert (await api.get("/cgi-bin/gettoken", params=wrong_corp)).json()["errcode"] == 40013


def _text(to: str, content: str = "好") -> dict[str, object]:
    return {
        "touser": to,
        "open_kfid": "wkOFFICE0001",
        "msgtype": "text",
        "text": {"content": content},
    }


async def test_the_kf_window_is_5_messages_within_48_hours(
    emu: WeComEmulator, api: httpx.AsyncClient
) -> None:
    assert (await call(api, "kf/send_msg", _text("wmRES1")))["errcode"] == 95002  # never wrote
    await emu.resident_writes("wmRES1", "楼道灯坏了")
    for _ in range(5):
        emu.advance(9 * HOUR)  # the 5th at 45 h
        assert (await call(api, "kf/send_msg", _text("wmRES1")))["errcode"] == 0
    emu.advance(2 * HOUR)  # 47 h
    assert (await call(api, "kf/send_msg", _text("wmRES1")))["errcode"] == 95001
    assert len(emu.resident_received("wmRES1")) == 5

    await emu.resident_writes("wmRES1", "还没修")  # a new message opens a new window
    emu.advance(47 * HOUR)
    assert (await call(api, "kf/send_msg", _text("wmRES1")))["errcode"] == 0
    emu.advance(2 * HOUR)  # 49 h
    assert (await call(api, "kf/send_msg", _text("wmRES1")))["errcode"] == 95002
    assert len(emu.resident_received("wmRES1")) == 6


async def test_kf_send_msg_checks_the_account_and_the_body(
    emu: WeComEmulator, api: httpx.AsyncClient
) -> None:
    await emu.resident_writes("wmRES1", "你好")
    assert (await call(api, "kf/send_msg", {**_text("wmRES1"), "open_kfid": "wkX"}))[
        "errcode"
    ] == 95000
    assert (await call(api, "kf/send_msg", _text("wmRES1", "字" * 683)))["errcode"] == 45002
    menu = {
        "touser": "wmRES1",
        "open_kfid": "wkOFFICE0001",
        "msgtype": "msgmenu",
        "msgmenu": {
            "head_content": "修好了吗？",
            "list": [
                {"type": "click", "click": {"id": "fixed:1", "content": "修好了"}},
                {"type": "click", "click": {"id": "notfixed:1", "content": "没修好"}},
            ],
        },
    }
    assert (await call(api, "kf/send_msg", menu))["errcode"] == 0
    image = {**_text("wmRES1"), "msgtype": "image", "image": {"media_id": "nope"}}
    assert (await call(api, "kf/send_msg", image))["errcode"] == 40007


async def test_30_messages_a_minute_per_member(emu: WeComEmulator, api: httpx.AsyncClient) -> None:
    access = await token(api)
    body = {"touser": "zhangsan", "agentid": 1000002, "msgtype": "text", "text": {"content": "x"}}
    for _ in range(30):
        assert (await call(api, "message/send", body, access_token=access))["errcode"] == 0
    assert (await call(api, "message/send", body, access_token=access))["errcode"] == 45009
    other = {**body, "touser": "lisi"}
    assert (await call(api, "message/send", other, access_token=access))["errcode"] == 0
    emu.advance(60)
    assert (await call(api, "message/send", body, access_token=access))["errcode"] == 0
    assert len(emu.member_received("zhangsan")) == 31
    nobody = {**body, "touser": "ghost"}
    assert (await call(api, "message/send", nobody, access_token=access))["errcode"] == 81013
    wrong_agent = {**body, "agentid": 1}
    assert (await call(api, "message/send", wrong_agent, access_token=access))["errcode"] == 40056


async def test_20_messages_a_minute_per_robot(emu: WeComEmulator, api: httpx.AsyncClient) -> None:
    body = {"msgtype": "markdown", "markdown": {"content": "**停水通知**"}}
    for _ in range(20):
        answer = await api.post("/cgi-bin/webhook/send", params={"key": "KEY-5"}, json=body)
        assert answer.json()["errcode"] == 0
    over = await api.post("/cgi-bin/webhook/send", params={"key": "KEY-5"}, json=body)
    assert over.json()["errcode"] == 45009
    other = await api.post("/cgi-bin/webhook/send", params={"key": "KEY-6"}, json=body)
    assert other.json()["errcode"] == 0
    unknown = await api.post("/cgi-bin/webhook/send", params={"key": "NOPE"}, json=body)
    assert unknown.json()["errcode"] == 93000
    emu.advance(60)
    again = await api.post("/cgi-bin/webhook/send", params={"key": "KEY-5"}, json=body)
    assert again.json()["errcode"] == 0
    assert len(emu.group_received("KEY-5")) == 21


async def test_an_injected_fault_answers_once(emu: WeComEmulator, api: httpx.AsyncClient) -> None:
    emu.fail_next("webhook/send", status=503)
    body = {"msgtype": "text", "text": {"content": "hi"}}
    first = await api.post("/cgi-bin/webhook/send", params={"key": "KEY-5"}, json=body)
    assert first.status_code == 503
    second = await api.post("/cgi-bin/webhook/send", params={"key": "KEY-5"}, json=body)
    assert second.status_code == 200 and second.json()["errcode"] == 0
