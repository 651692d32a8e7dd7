"""群机器人: `POST /cgi-bin/webhook/send?key=KEY`.

群机器人配置说明 (developer.work.weixin.qq.com/document/path/91770): the key in the webhook URL
is the only credential; text (`text.content`, "最长不超过2048个字节，必须是utf8编码", optional
`mentioned_list`, `mentioned_mobile_list`) and markdown (`markdown.content`, "最长不超过4096个字节")
among others; "消息发送频率限制: 每个机器人发送的消息不能超过20条/分钟", over it 45009; an unknown
key 93000.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import errors
from .errors import ApiError
from .limits import Clock, Windows

PER_MINUTE = 20
MAX_BYTES = {"text": 2048, "markdown": 4096}


@dataclass
class Robot:
    key: str
    name: str
    received: list[dict[str, Any]] = field(default_factory=list)


class Robots:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.robots: dict[str, Robot] = {}
        self.per_minute = Windows(clock, PER_MINUTE, 60.0)

    def send(self, key: str | None, params: dict[str, Any]) -> dict[str, Any]:
        robot = self.robots.get(key or "")
        if robot is None:
            raise ApiError(errors.INVALID_WEBHOOK_KEY)
        msgtype = params.get("msgtype")
        body = params.get(str(msgtype))
        if msgtype not in MAX_BYTES or not isinstance(body, dict):
            raise ApiError(errors.INVALID_MSGTYPE, f"{msgtype!r}")
        content = str(body.get("content") or "")
        if not content:
            raise ApiError(errors.EMPTY_CONTENT)
        if len(content.encode()) > MAX_BYTES[msgtype]:
            raise ApiError(errors.CONTENT_TOO_LONG, f"{msgtype} is at most {MAX_BYTES[msgtype]}")
        if self.per_minute.full(robot.key):
            raise ApiError(errors.FREQ_LIMIT, "20 messages per minute per robot")
        self.per_minute.take(robot.key)
        robot.received.append({"send_time": int(self.clock()), "msgtype": msgtype, msgtype: body})
        return errors.ok()
