"""Decrypted WeCom callbacks become small records; what we do not handle becomes Unknown."""

from __future__ import annotations

import dataclasses

import pytest
from defusedxml import DefusedXmlException

from bot.wecom.crypto import Malformed, MemoryReplayGuard, WeComCrypto
from bot.wecom.messages import (
    ImageMessage,
    KfMsgOrEvent,
    LocationMessage,
    TemplateCardEvent,
    TextMessage,
    Unknown,
    parse,
)
from tests.bot.wecom.vectors import (
    BILLION_LAUGHS,
    DOC_AES_KEY,
    DOC_BODY,
    DOC_CORP_ID,
    DOC_NONCE,
    DOC_SIGNATURE,
    DOC_TIMESTAMP,
    DOC_TOKEN,
)

KF_EVENT = """<xml>
<ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName>
<CreateTime>1700000000</CreateTime>
<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[kf_msg_or_event]]></Event>
<Token><![CDATA[ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR]]></Token>
<OpenKfId><![CDATA[wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw]]></OpenKfId>
</xml>"""

CARD_EVENT = """<xml>
<ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName>
<FromUserName><![CDATA[ZhangSan]]></FromUserName>
<CreateTime>1700000001</CreateTime>
<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[template_card_event]]></Event>
<EventKey><![CDATA[c1:accept:42]]></EventKey>
<TaskId><![CDATA[case-42-7]]></TaskId>
<CardType><![CDATA[button_interaction]]></CardType>
<ResponseCode><![CDATA[allow-update-once]]></ResponseCode>
<AgentID>1000002</AgentID>
</xml>"""

IMAGE = """<xml>
<ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName>
<FromUserName><![CDATA[LiSi]]></FromUserName>
<CreateTime>1700000002</CreateTime>
<MsgType><![CDATA[image]]></MsgType>
<PicUrl><![CDATA[https://wework.qpic.cn/example.jpg]]></PicUrl>
<MediaId><![CDATA[media-1]]></MediaId>
<MsgId>1234567890123456</MsgId>
<AgentID>1000002</AgentID>
</xml>"""

LOCATION = """<xml>
<ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName>
<FromUserName><![CDATA[LiSi]]></FromUserName>
<CreateTime>1700000003</CreateTime>
<MsgType><![CDATA[location]]></MsgType>
<Location_X>31.2304</Location_X>
<Location_Y>121.4737</Location_Y>
<Scale>15</Scale>
<Label><![CDATA[5号楼东门]]></Label>
<MsgId>1234567890123457</MsgId>
<AgentID>1000002</AgentID>
</xml>"""


def test_kf_msg_or_event() -> None:
    assert parse(KF_EVENT) == KfMsgOrEvent(
        corp_id="ww1436e0e65a779aee",
        create_time=1700000000,
        token="ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR",
        open_kf_id="wkAJ2GCAAAZSfhHCt7IFSvLKtMPxyJTw",
    )


def test_template_card_event() -> None:
    assert parse(CARD_EVENT) == TemplateCardEvent(
        from_user="ZhangSan",
        create_time=1700000001,
        agent_id="1000002",
        event_key="c1:accept:42",
        task_id="case-42-7",
        response_code="allow-update-once",
        card_type="button_interaction",
    )


async def test_text_message_from_the_documented_callback() -> None:
    crypto = WeComCrypto(
        token=DOC_TOKEN,
        encoding_aes_key=DOC_AES_KEY,
        receive_id=DOC_CORP_ID,
        replay_guard=MemoryReplayGuard(),
        clock=lambda: float(DOC_TIMESTAMP),
    )
    inner = await crypto.decrypt(DOC_SIGNATURE, DOC_TIMESTAMP, DOC_NONCE, DOC_BODY)
    assert parse(inner) == TextMessage(
        from_user="mycreate",
        create_time=1409659813,
        agent_id="218",
        msg_id="4561255354251345929",
        content="hello",
    )


def test_text_keeps_its_content_as_written() -> None:
    xml = (
        "<xml><FromUserName>u</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>"
        "<Content><![CDATA[  我的反映 <b>&amp; ]]></Content><MsgId>9</MsgId><AgentID>2</AgentID>"
        "</xml>"
    )
    message = parse(xml)
    assert isinstance(message, TextMessage)
    assert message.content == "  我的反映 <b>&amp; "


def test_image_message() -> None:
    assert parse(IMAGE) == ImageMessage(
        from_user="LiSi",
        create_time=1700000002,
        agent_id="1000002",
        msg_id="1234567890123456",
        pic_url="https://wework.qpic.cn/example.jpg",
        media_id="media-1",
    )


def test_location_message() -> None:
    assert parse(LOCATION) == LocationMessage(
        from_user="LiSi",
        create_time=1700000003,
        agent_id="1000002",
        msg_id="1234567890123457",
        latitude=31.2304,
        longitude=121.4737,
        scale=15,
        label="5号楼东门",
    )


def test_records_are_frozen() -> None:
    message = parse(IMAGE)
    assert isinstance(message, ImageMessage)
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.from_user = "someone else"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("xml", "msg_type", "event", "reason"),
    [
        (
            "<xml><FromUserName>u</FromUserName><MsgType>event</MsgType>"
            "<Event>enter_agent</Event></xml>",
            "event",
            "enter_agent",
            "no handler for event/enter_agent",
        ),
        (
            "<xml><FromUserName>u</FromUserName><MsgType>voice</MsgType></xml>",
            "voice",
            "",
            "no handler for voice",
        ),
        ("<xml/>", "", "", "no handler for nothing"),
        ("<whatever><a>1</a></whatever>", "", "", "no handler for nothing"),
    ],
)
def test_an_unknown_kind_is_an_unknown_record(
    xml: str, msg_type: str, event: str, reason: str
) -> None:
    from_user = "u" if "FromUserName" in xml else ""
    assert parse(xml) == Unknown(msg_type, event, from_user, reason)


@pytest.mark.parametrize(
    ("xml", "reason"),
    [
        (CARD_EVENT.replace("<TaskId><![CDATA[case-42-7]]></TaskId>", ""), "no TaskId"),
        (IMAGE.replace("<MediaId><![CDATA[media-1]]></MediaId>", ""), "no MediaId"),
        (KF_EVENT.replace("1700000000", "soon"), "CreateTime is not a whole number"),
        (LOCATION.replace("31.2304", "north"), "Location_X is not a number"),
        (LOCATION.replace("31.2304", "nan"), "Location_X is not a finite number"),
        (LOCATION.replace("<Scale>15</Scale>", "<Scale>1.5</Scale>"), "Scale is not a whole"),
    ],
)
def test_a_known_kind_missing_what_we_need_is_an_unknown_record(xml: str, reason: str) -> None:
    record = parse(xml)
    assert isinstance(record, Unknown)
    assert record.reason.startswith(reason)


@pytest.mark.parametrize("text", ["", "hello", "<xml><Content>"])
def test_text_that_is_not_xml_is_malformed(text: str) -> None:
    with pytest.raises(Malformed):
        parse(text)


def test_an_xml_bomb_is_refused_by_defusedxml() -> None:
    with pytest.raises(Malformed) as refused:
        parse(BILLION_LAUGHS)
    assert isinstance(refused.value.__cause__, DefusedXmlException)


def test_an_external_entity_is_refused_by_defusedxml() -> None:
    xxe = (
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
        "<xml><MsgType>text</MsgType><Content>&secret;</Content></xml>"
    )
    with pytest.raises(Malformed) as refused:
        parse(xxe)
    assert isinstance(refused.value.__cause__, DefusedXmlException)
