"""A decrypted WeCom callback (inner XML) as a small frozen record, one per kind we act on.

- `KfMsgOrEvent`: 微信客服 has new messages for an account; pull them with kf/sync_msg, passing
  this event's token.
- `TemplateCardEvent`: a staff member pressed a button of a template card the app sent.
- `TextMessage`, `ImageMessage`, `LocationMessage`: a staff member wrote to the app.

Anything else, or a known kind missing a field we need, is an `Unknown` record, never an
exception: WeCom sends more kinds than we handle (entering the app, reporting a location...), and
an authenticated callback we cannot read is logged and answered, not retried. Only text that is
not XML raises `Malformed` (parsed with defusedxml, as everything WeCom sends).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from bot.wecom.crypto import parse_xml


@dataclass(frozen=True)
class KfMsgOrEvent:
    corp_id: str  # ToUserName
    create_time: int
    token: str  # Token: for kf/sync_msg, valid 10 minutes
    open_kf_id: str  # OpenKfId: the customer-service account that has news


@dataclass(frozen=True)
class TemplateCardEvent:
    from_user: str  # FromUserName: the member's userid
    create_time: int
    agent_id: str
    event_key: str  # EventKey: the pressed button's key
    task_id: str  # TaskId: the card's task id, as we sent it
    response_code: str  # ResponseCode: for update_template_card, once, within 72 hours
    card_type: str  # CardType, e.g. button_interaction


@dataclass(frozen=True)
class TextMessage:
    from_user: str
    create_time: int
    agent_id: str
    msg_id: str
    content: str


@dataclass(frozen=True)
class ImageMessage:
    from_user: str
    create_time: int
    agent_id: str
    msg_id: str
    pic_url: str
    media_id: str  # for media/get, valid 3 days


@dataclass(frozen=True)
class LocationMessage:
    from_user: str
    create_time: int
    agent_id: str
    msg_id: str
    latitude: float  # Location_X
    longitude: float  # Location_Y
    scale: int
    label: str


@dataclass(frozen=True)
class Unknown:
    msg_type: str
    event: str
    from_user: str
    reason: str  # e.g. "no handler for event/enter_agent", "no Content"


Callback = KfMsgOrEvent | TemplateCardEvent | TextMessage | ImageMessage | LocationMessage | Unknown


class _Unreadable(Exception):
    """A field we need is missing or not a number."""


def parse(xml: str) -> Callback:
    """The record for a decrypted callback; Malformed if `xml` is not XML."""
    root = parse_xml(xml)
    msg_type = root.findtext("MsgType", "")
    event = root.findtext("Event", "") if msg_type == "event" else ""
    from_user = root.findtext("FromUserName", "")
    read = _READERS.get((msg_type, event))
    if read is None:
        kind = f"{msg_type}/{event}" if event else msg_type
        return Unknown(msg_type, event, from_user, reason=f"no handler for {kind or 'nothing'}")
    try:
        return read(root)
    except _Unreadable as error:
        return Unknown(msg_type, event, from_user, reason=str(error))


def _text(root: Element, tag: str) -> str:
    found = root.find(tag)
    if found is None:
        raise _Unreadable(f"no {tag}")
    return found.text or ""


def _int(root: Element, tag: str) -> int:
    try:
        return int(_text(root, tag))
    except ValueError as error:
        raise _Unreadable(f"{tag} is not a whole number") from error


def _float(root: Element, tag: str) -> float:
    try:
        number = float(_text(root, tag))
    except ValueError as error:
        raise _Unreadable(f"{tag} is not a number") from error
    if not math.isfinite(number):
        raise _Unreadable(f"{tag} is not a finite number")
    return number


def _kf_msg_or_event(root: Element) -> KfMsgOrEvent:
    return KfMsgOrEvent(
        corp_id=_text(root, "ToUserName"),
        create_time=_int(root, "CreateTime"),
        token=_text(root, "Token"),
        open_kf_id=_text(root, "OpenKfId"),
    )


def _template_card_event(root: Element) -> TemplateCardEvent:
    return TemplateCardEvent(
        from_user=_text(root, "FromUserName"),
        create_time=_int(root, "CreateTime"),
        agent_id=_text(root, "AgentID"),
        event_key=_text(root, "EventKey"),
        task_id=_text(root, "TaskId"),
        response_code=_text(root, "ResponseCode"),
        card_type=_text(root, "CardType"),
    )


def _text_message(root: Element) -> TextMessage:
    return TextMessage(
        from_user=_text(root, "FromUserName"),
        create_time=_int(root, "CreateTime"),
        agent_id=_text(root, "AgentID"),
        msg_id=_text(root, "MsgId"),
        content=_text(root, "Content"),
    )


def _image_message(root: Element) -> ImageMessage:
    return ImageMessage(
        from_user=_text(root, "FromUserName"),
        create_time=_int(root, "CreateTime"),
        agent_id=_text(root, "AgentID"),
        msg_id=_text(root, "MsgId"),
        pic_url=_text(root, "PicUrl"),
        media_id=_text(root, "MediaId"),
    )


def _location_message(root: Element) -> LocationMessage:
    return LocationMessage(
        from_user=_text(root, "FromUserName"),
        create_time=_int(root, "CreateTime"),
        agent_id=_text(root, "AgentID"),
        msg_id=_text(root, "MsgId"),
        latitude=_float(root, "Location_X"),
        longitude=_float(root, "Location_Y"),
        scale=_int(root, "Scale"),
        label=_text(root, "Label"),
    )


_READERS: dict[tuple[str, str], Callable[[Element], Callback]] = {
    ("event", "kf_msg_or_event"): _kf_msg_or_event,
    ("event", "template_card_event"): _template_card_event,
    ("text", ""): _text_message,
    ("image", ""): _image_message,
    ("location", ""): _location_message,
}
