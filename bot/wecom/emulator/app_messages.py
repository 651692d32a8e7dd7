"""应用消息 (the self-built app): `message/send`, `message/update_template_card`, the cards.

发送应用消息 (developer.work.weixin.qq.com/document/path/90236): `touser` ("成员ID列表（消息接收者，
多个接收者用'|'分隔，最多支持1000个）"), `agentid`, `msgtype` text / markdown / template_card ...;
"如果部分接收人无权限或不存在，发送仍然执行，但会返回无效的部分（即invaliduser…）…如果全部接收人
无权限或不存在，则本次调用返回失败，errcode为81013"; the answer has `invaliduser`, `msgid` and
`response_code` ("仅消息类型为'按钮交互型'…的模板卡片消息返回…72小时内有效，且只能使用一次").
A template_card of card_type `button_interaction` carries `task_id` ("同一个应用任务id不能重复，
只能由数字、字母和'_-@'组成，最长128字节"; a repeated one answers 42014) and `button_list` of
{text, style, key}. 频率限制 (document/path/90312): "每应用对同一个成员不可超过30次/分，1000次/
小时", over it 45009.

更新模版卡片消息 (document/path/94888): `userids`, `agentid`, `response_code`, and
`button.replace_name` to turn the buttons into one greyed button with that text ("可以将按钮更新为
不可点击状态，并且自定义文案"); "一个code只能调用一次该接口，且只能在72小时内调用". A press comes as
the `template_card_event` callback with its own ResponseCode.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from . import errors
from .errors import ApiError
from .limits import Clock, Windows

PER_MINUTE = 30
PER_HOUR = 1000
RESPONSE_CODE_LIFETIME = 72 * 3600.0
SEND_TYPES = frozenset({"text", "markdown", "template_card", "image", "textcard", "news"})
_TASK_ID = re.compile(r"[0-9A-Za-z_\-@]{1,128}")


@dataclass
class Card:
    task_id: str
    card_type: str
    recipients: set[str]
    keys: list[str]
    replaced: dict[str, str] = field(default_factory=dict)  # userid -> replace_name


class AppMessages:
    def __init__(self, clock: Clock, agent_id: str) -> None:
        self.clock = clock
        self.agent_id = agent_id
        self.members: set[str] = set()
        self.received: dict[str, list[dict[str, Any]]] = {}
        self.cards: dict[str, Card] = {}
        self._codes: dict[str, tuple[str, float]] = {}  # response_code -> (task_id, expiry)
        self.per_minute = Windows(clock, PER_MINUTE, 60.0)
        self.per_hour = Windows(clock, PER_HOUR, 3600.0)

    def _agent(self, params: dict[str, Any]) -> None:
        if str(params.get("agentid", "")) != self.agent_id:
            raise ApiError(errors.INVALID_AGENTID, f"{params.get('agentid')!r}")

    def response_code(self, task_id: str) -> str:
        code = secrets.token_urlsafe(24)
        self._codes[code] = (task_id, self.clock() + RESPONSE_CODE_LIFETIME)
        return code

    def send(self, params: dict[str, Any]) -> dict[str, Any]:
        self._agent(params)
        msgtype = params.get("msgtype")
        body = params.get(str(msgtype))
        if msgtype not in SEND_TYPES or not isinstance(body, dict):
            raise ApiError(errors.INVALID_MSGTYPE, f"{msgtype!r}")
        wanted = [u for u in str(params.get("touser") or "").split("|") if u]
        if len(wanted) > 1000:
            raise ApiError(errors.INVALID_PARAMETER, "at most 1000 recipients")
        valid = [u for u in wanted if u in self.members]
        invalid = [u.lower() for u in wanted if u not in self.members]
        if not valid:
            raise ApiError(errors.ALL_RECIPIENTS_INVALID)
        if msgtype in ("text", "markdown") and not body.get("content"):
            raise ApiError(errors.EMPTY_CONTENT)
        card = self._card(body, valid) if msgtype == "template_card" else None
        for member in valid:
            if self.per_minute.full(member) or self.per_hour.full(member):
                raise ApiError(errors.FREQ_LIMIT, f"30/min, 1000/hour to member {member}")
        msgid = secrets.token_urlsafe(16)
        for member in valid:
            self.per_minute.take(member)
            self.per_hour.take(member)
            self.received.setdefault(member, []).append(
                {"msgid": msgid, "send_time": int(self.clock()), "msgtype": msgtype, msgtype: body}
            )
        answer = errors.ok(invaliduser="|".join(invalid), msgid=msgid)
        if card is not None:
            self.cards[card.task_id] = card
            answer["response_code"] = self.response_code(card.task_id)
        return answer

    def _card(self, body: dict[str, Any], recipients: list[str]) -> Card:
        card_type = str(body.get("card_type") or "")
        task_id = str(body.get("task_id") or "")
        keys: list[str] = []
        if card_type == "button_interaction":
            if not _TASK_ID.fullmatch(task_id) or task_id in self.cards:
                raise ApiError(errors.TASKID_INVALID, f"{task_id!r}")
            buttons = body.get("button_list")
            if not isinstance(buttons, list) or not 1 <= len(buttons) <= 6:
                raise ApiError(errors.INVALID_PARAMETER, "button_list holds 1 to 6 buttons")
            for button in buttons:
                key = button.get("key") if isinstance(button, dict) else None
                if not key or not button.get("text") or len(str(key).encode()) > 1024:
                    raise ApiError(errors.INVALID_PARAMETER, "a button has text and a key")
                keys.append(str(key))
        return Card(task_id, card_type, set(recipients), keys)

    def update(self, params: dict[str, Any]) -> dict[str, Any]:
        self._agent(params)
        code = str(params.get("response_code") or "")
        held = self._codes.pop(code, None)
        if held is None or held[1] <= self.clock():
            raise ApiError(errors.INVALID_PARAMETER, "response_code unknown, used or expired")
        card = self.cards[held[0]]
        replace_name = (params.get("button") or {}).get("replace_name")
        if not replace_name:
            raise ApiError(errors.INVALID_PARAMETER, "button.replace_name")
        userids = card.recipients if params.get("atall") else set(params.get("userids") or [])
        invalid = sorted(u for u in userids if u not in card.recipients)
        for member in userids & card.recipients:
            card.replaced[member] = str(replace_name)
        return errors.ok(invaliduser=invalid)

    def press(self, userid: str, task_id: str, key: str) -> str:
        """Check a press is possible; its ResponseCode for the callback."""
        card = self.cards.get(task_id)
        if card is None or userid not in card.recipients:
            raise LookupError(f"{userid} has no card {task_id!r}")
        if key not in card.keys:
            raise ValueError(f"card {task_id!r} has no button {key!r}")
        if userid in card.replaced:
            raise ValueError(f"the buttons of {task_id!r} read {card.replaced[userid]!r} now")
        return self.response_code(task_id)
