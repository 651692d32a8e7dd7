"""微信客服 (WeCom customer service): the message store, `kf/sync_msg` and `kf/send_msg`.

读取消息 (developer.work.weixin.qq.com/document/path/94670): `POST /cgi-bin/kf/sync_msg` with
`cursor` ("上一次调用时返回的next_cursor，第一次拉取可以不填。若不填，从3天内最早的消息开始返回"),
`token` ("回调事件返回的token字段，10分钟内有效；可不填，如果不填接口有严格的频率限制"), `limit`
("默认值和最大值都为1000") and `open_kfid`; it answers `next_cursor`, `has_more` (0/1) and
`msg_list`, each with `msgid`, `open_kfid`, `external_userid`, `send_time`, `origin` ("3-微信客户
发送的消息 4-系统推送的事件消息 5-接待人员在企业微信客户端发送的消息") and `msgtype` with its
object: `text` {content, menu_id}, `image` {media_id}, `location` {latitude, longitude, name,
address}. "不支持读取通过发送消息接口发送的消息": what the office sends is not in the store.
A click on a `msgmenu` item comes back as text whose `menu_id` is the item's id.

发送消息 (document/path/94677): `POST /cgi-bin/kf/send_msg` with `touser`, `open_kfid`, optional
`msgid`, `msgtype` text / image / msgmenu / ...; answers `msgid`. "当微信客户处于…状态下…注意仅当
微信客户在主动发送消息给客服后的48小时内，企业可发送消息给客户，最多可发送5条消息；若用户继续发送
消息，企业可再次下发消息": the 6th message answers 95001 (发送客服消息次数限制), any after 48 hours
95002 (发送客服消息时间限制). text.content is at most 2048 bytes; msgmenu holds `head_content`,
`list` of {type: click, click: {id, content}} (or view / miniprogram / text) and `tail_content`.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from typing import Any

from . import errors
from .errors import ApiError
from .limits import Clock
from .media import MediaStore

WINDOW = 48 * 3600.0
WINDOW_MESSAGES = 5
KEEP = 3 * 24 * 3600.0  # sync_msg reads the last 3 days
SYNC_TOKEN_LIFETIME = 600.0
MAX_LIMIT = 1000
MAX_TEXT_BYTES = 2048
SEND_TYPES = frozenset(
    {"text", "image", "voice", "video", "file", "link", "miniprogram", "msgmenu", "location"}
)


@dataclass
class _Window:
    opened_at: float  # the customer's last message
    sent: int = 0


@dataclass
class KfAccount:
    open_kfid: str
    messages: list[dict[str, Any]] = field(default_factory=list)  # what customers wrote
    windows: dict[str, _Window] = field(default_factory=dict)  # external_userid -> window
    received: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # sent to them


class Kf:
    def __init__(self, clock: Clock, media: MediaStore) -> None:
        self.clock = clock
        self.media = media
        self.accounts: dict[str, KfAccount] = {}
        self._sync_tokens: dict[str, tuple[str, float]] = {}  # token -> (open_kfid, expiry)
        self.refused: list[dict[str, Any]] = []  # send_msg calls refused by the window

    def account(self, open_kfid: str | None) -> KfAccount:
        found = self.accounts.get(open_kfid or "")
        if found is None:
            raise ApiError(errors.INVALID_OPEN_KFID, f"{open_kfid!r}")
        return found

    # -- what customers do -----------------------------------------------------------------
    def customer_message(
        self, open_kfid: str, external_userid: str, msgtype: str, body: dict[str, Any]
    ) -> tuple[dict[str, Any], str]:
        """Store a customer's message, open a new window; the message and a sync token."""
        account = self.account(open_kfid)
        now = self.clock()
        message = {
            "msgid": secrets.token_hex(16),
            "open_kfid": open_kfid,
            "external_userid": external_userid,
            "send_time": int(now),
            "origin": 3,
            "msgtype": msgtype,
            msgtype: body,
        }
        account.messages.append(message)
        account.windows[external_userid] = _Window(opened_at=now)
        token = "ENC" + secrets.token_urlsafe(32)
        self._sync_tokens[token] = (open_kfid, now + SYNC_TOKEN_LIFETIME)
        return message, token

    # -- sync_msg --------------------------------------------------------------------------
    def sync(self, params: dict[str, Any]) -> dict[str, Any]:
        account = self.account(params.get("open_kfid"))
        token = params.get("token")
        if token:
            held = self._sync_tokens.get(str(token))
            if held is None or held[0] != account.open_kfid or held[1] <= self.clock():
                raise ApiError(errors.INVALID_PARAMETER, "token unknown or older than 10 minutes")
        limit = params.get("limit") or MAX_LIMIT
        if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise ApiError(errors.INVALID_PARAMETER, "limit is 1 to 1000")
        start = _cursor_position(params.get("cursor"), len(account.messages))
        oldest = self.clock() - KEEP
        while start < len(account.messages) and account.messages[start]["send_time"] < oldest:
            start += 1
        page = account.messages[start : start + limit]
        end = start + len(page)
        return errors.ok(
            next_cursor=_cursor(end),
            has_more=int(end < len(account.messages)),
            msg_list=[dict(m) for m in page],
        )

    # -- send_msg --------------------------------------------------------------------------
    def send(self, params: dict[str, Any]) -> dict[str, Any]:
        touser = params.get("touser")
        if not touser:
            raise ApiError(errors.INVALID_PARAMETER, "touser is required")
        account = self.account(params.get("open_kfid"))
        msgtype = params.get("msgtype")
        if msgtype not in SEND_TYPES or not isinstance(params.get(msgtype), dict):
            raise ApiError(errors.INVALID_MSGTYPE, f"{msgtype!r}")
        self._check_body(msgtype, params[msgtype])
        window = account.windows.get(touser)
        now = self.clock()
        if window is None or now - window.opened_at > WINDOW:
            self.refused.append({"touser": touser, "errcode": errors.KF_SEND_TIME_LIMIT})
            raise ApiError(errors.KF_SEND_TIME_LIMIT, "48 hours after the customer's message")
        if window.sent >= WINDOW_MESSAGES:
            self.refused.append({"touser": touser, "errcode": errors.KF_SEND_COUNT_LIMIT})
            raise ApiError(errors.KF_SEND_COUNT_LIMIT, "5 messages per customer message")
        window.sent += 1
        msgid = str(params.get("msgid") or secrets.token_hex(16))
        account.received.setdefault(touser, []).append(
            {"msgid": msgid, "send_time": int(now), "msgtype": msgtype, msgtype: params[msgtype]}
        )
        return errors.ok(msgid=msgid)

    def _check_body(self, msgtype: str, body: dict[str, Any]) -> None:
        if msgtype == "text":
            content = body.get("content")
            if not content:
                raise ApiError(errors.EMPTY_CONTENT)
            if len(str(content).encode()) > MAX_TEXT_BYTES:
                raise ApiError(errors.CONTENT_TOO_LONG, "text.content is at most 2048 bytes")
        elif msgtype in ("image", "voice", "video", "file"):
            self.media.get(body.get("media_id"))
        elif msgtype == "msgmenu":
            items = body.get("list") or []
            if not isinstance(items, list):
                raise ApiError(errors.INVALID_PARAMETER, "msgmenu.list is a list")
            for item in items:
                kind = item.get("type") if isinstance(item, dict) else None
                if kind not in ("click", "view", "miniprogram", "text"):
                    raise ApiError(errors.INVALID_PARAMETER, f"msgmenu item type {kind!r}")
                if kind == "click" and not str(item.get("click", {}).get("content") or ""):
                    raise ApiError(errors.INVALID_PARAMETER, "a click item has content")

    def window(self, open_kfid: str, external_userid: str) -> tuple[float, int] | None:
        """(seconds since the customer's last message, messages sent since), or None."""
        found = self.account(open_kfid).windows.get(external_userid)
        return None if found is None else (self.clock() - found.opened_at, found.sent)


def _cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"c{position}".encode()).decode().rstrip("=")


def _cursor_position(cursor: object, size: int) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(str(cursor) + "=" * (-len(str(cursor)) % 4)).decode()
        position = int(text.removeprefix("c"))
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(errors.INVALID_PARAMETER, "cursor") from error
    if not text.startswith("c") or not 0 <= position <= size:
        raise ApiError(errors.INVALID_PARAMETER, "cursor")
    return position
