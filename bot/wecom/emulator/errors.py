"""The errcodes the emulated WeCom answers with, as WeCom documents them.

WeCom answers every API call with HTTP 200 and a JSON body `{"errcode": N, "errmsg": "..."}`;
errcode 0 is success. Sources (全局错误码, developer.work.weixin.qq.com/document/path/90313 and
its copies, e.g. WxJava's WxCpErrorMsgEnum "企业微信全局错误码"):

- 40001 不合法的secret参数; 40013 不合法的CorpID; 41001 缺少access_token参数;
  41002 缺少corpid参数; 41004 缺少secret参数;
- 40014 不合法的access_token; 42001 "access_token已过期；access_token有时效性，需要重新获取一次";
- 40004 不合法的媒体文件类型; 40005 不合法的type参数; 40007 不合法的media_id参数;
  40008 不合法的msgtype参数; 40009 上传图片大小不是有效值; 44001 多媒体文件为空;
  44004 文本消息content参数为空; 45002 消息内容大小超过限制; 40056 不合法的agentid;
  40058 不合法的参数; 81013 UserID、部门ID、标签ID全部非法或无权限 (message/send: "如果全部接收人
  无权限或不存在，则本次调用返回失败，errcode为81013");
- 45009 接口调用超过限制 (a WeCom operator, asked about message/send: "45009是发送消息超限了，
  是否一分钟内对同一个成员发送消息超过30条了"; also the robots' 20 per minute);
- 42014 "taskid has existed or empty or exceed max len" (message/send of a template card);
- 93000 机器人webhookurl不合法或者机器人已经被移除出群;
- 微信客服: 95000 不合法的open_kfid; 95001 发送客服消息次数限制 ("当用户主动发送消息给微信客服时，
  企业最多可发送5条消息给用户；若用户继续发送消息，企业可再次下发消息"); 95002 发送客服消息时间限制
  (48 hours after the customer's last message).
"""

from __future__ import annotations

from typing import Any

INVALID_SECRET = 40001
INVALID_MEDIA_TYPE = 40004
INVALID_TYPE = 40005
INVALID_MEDIA_ID = 40007
INVALID_MSGTYPE = 40008
INVALID_IMAGE_SIZE = 40009
INVALID_CORPID = 40013
INVALID_TOKEN = 40014
INVALID_AGENTID = 40056
INVALID_PARAMETER = 40058
MISSING_TOKEN = 41001
MISSING_CORPID = 41002
MISSING_SECRET = 41004
TOKEN_EXPIRED = 42001
TASKID_INVALID = 42014
EMPTY_MEDIA = 44001
EMPTY_CONTENT = 44004
CONTENT_TOO_LONG = 45002
FREQ_LIMIT = 45009
ALL_RECIPIENTS_INVALID = 81013
INVALID_WEBHOOK_KEY = 93000
INVALID_OPEN_KFID = 95000
KF_SEND_COUNT_LIMIT = 95001
KF_SEND_TIME_LIMIT = 95002

_MESSAGES = {
    INVALID_SECRET: "invalid credential",
    INVALID_MEDIA_TYPE: "invalid media type",
    INVALID_TYPE: "invalid type",
    INVALID_MEDIA_ID: "invalid media_id",
    INVALID_MSGTYPE: "invalid message type",
    INVALID_IMAGE_SIZE: "invalid image size",
    INVALID_CORPID: "invalid corpid",
    INVALID_TOKEN: "invalid access_token",
    INVALID_AGENTID: "invalid agentid",
    INVALID_PARAMETER: "invalid parameter",
    MISSING_TOKEN: "access_token missing",
    MISSING_CORPID: "corpid missing",
    MISSING_SECRET: "corpsecret missing",
    TOKEN_EXPIRED: "access_token expired",
    TASKID_INVALID: "taskid has existed or empty or exceed max len",
    EMPTY_MEDIA: "empty media data",
    EMPTY_CONTENT: "empty content",
    CONTENT_TOO_LONG: "content size out of limit",
    FREQ_LIMIT: "api freq out of limit",
    ALL_RECIPIENTS_INVALID: "all to user|party|tag invalid",
    INVALID_WEBHOOK_KEY: "invalid webhook url",
    INVALID_OPEN_KFID: "invalid open_kfid",
    KF_SEND_COUNT_LIMIT: "send msg count limit",
    KF_SEND_TIME_LIMIT: "send msg time limit",
}


class ApiError(Exception):
    """A WeCom error answer: HTTP 200 with `{"errcode": N, "errmsg": ...}`."""

    def __init__(self, errcode: int, detail: str = "") -> None:
        self.errcode = errcode
        self.errmsg = _MESSAGES.get(errcode, "error") + (f": {detail}" if detail else "")
        super().__init__(f"{errcode} {self.errmsg}")

    def body(self) -> dict[str, Any]:
        return {"errcode": self.errcode, "errmsg": self.errmsg}


def ok(**fields: Any) -> dict[str, Any]:
    """A success body: errcode 0, errmsg "ok", and the call's own fields."""
    return {"errcode": 0, "errmsg": "ok", **fields}
