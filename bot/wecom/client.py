"""A typed client of WeCom's server API (`https://qyapi.weixin.qq.com/cgi-bin/...`), on httpx.

Every call WeCom answers with HTTP 200 and `{"errcode": N, "errmsg": ...}`; a non-zero errcode
is a `WeComError` carrying both. A 5xx, a 429, a network error or a timeout is a
`WeComUnavailable`: nothing was done, try again later. Field names are WeCom's own (and the
emulator's, bot/wecom/emulator/, which quotes the documentation):

- 获取access_token `GET gettoken?corpid&corpsecret` (document/path/91039);
- 微信客服 `POST kf/sync_msg` (94670) and `POST kf/send_msg` text / image / msgmenu (94677);
- 应用消息 `POST message/send` text / markdown / template_card of card_type
  button_interaction (90236), and `POST message/update_template_card` (94888);
- 群机器人 `POST webhook/send?key=` text / markdown (91770): the key is its credential;
- 临时素材 `POST media/upload?type=` (multipart part `media`, 90253) and `GET media/get` (90254).

Every call but gettoken and the robots' carries an access_token from a `TokenSource`
(bot/wecom/token.py). When WeCom answers 40014 (invalid) or 42001 (expired), the client asks the
source for a new token and makes the call once more: WeCom refused the first one, so nothing is
done twice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

logger = logging.getLogger(__name__)

TOKEN_REFUSED = frozenset({40014, 42001})  # invalid access_token, expired access_token
TIMEOUT = httpx.Timeout(10.0)


class WeComFailure(Exception):
    """A WeCom call that did not succeed."""


class WeComError(WeComFailure):
    """WeCom answered the call with a non-zero errcode (or an HTTP status that is not WeCom's
    answer, e.g. 404 from a wrong YISHI_WECOM_API_URL: errcode is then that status)."""

    def __init__(self, api: str, errcode: int, errmsg: str) -> None:
        self.api = api
        self.errcode = errcode
        self.errmsg = errmsg
        super().__init__(f"{api}: {errcode} {errmsg}")


class WeComUnavailable(WeComFailure):
    """WeCom could not be asked or could not answer (5xx, 429, network, timeout, an unreadable
    body): retryable, nothing was done."""

    def __init__(self, api: str, reason: str, status: int | None = None) -> None:
        self.api = api
        self.reason = reason
        self.status = status
        super().__init__(f"{api}: {reason}")


class TokenSource(Protocol):
    async def get(self) -> str:
        """A valid access_token."""
        ...

    async def refresh(self, stale: str) -> str:
        """A token other than `stale`, which WeCom refused (40014 or 42001)."""
        ...


@dataclass(frozen=True)
class FetchedToken:
    access_token: str
    expires_in: int  # seconds


@dataclass(frozen=True)
class KfMessage:
    """One message of kf/sync_msg's msg_list: `body` is the object named by msgtype (text
    {content, menu_id}, image {media_id}, location {latitude, longitude, name, address}...)."""

    msgid: str
    open_kfid: str
    external_userid: str
    send_time: int
    origin: int  # 3 a customer, 4 a system event, 5 a receptionist in the WeCom client
    msgtype: str
    body: dict[str, Any]


@dataclass(frozen=True)
class SyncPage:
    next_cursor: str
    has_more: bool
    messages: list[KfMessage]


@dataclass(frozen=True)
class MenuClick:
    """A msgmenu line the resident can click: it comes back as text with this `menu_id`."""

    id: str  # 1-128 bytes
    content: str  # 1-128 bytes


@dataclass(frozen=True)
class MenuText:
    """A plain line of a msgmenu."""

    content: str


@dataclass(frozen=True)
class MenuLink:
    """A msgmenu line that opens a web page."""

    url: str
    content: str


MenuItem = MenuClick | MenuText | MenuLink


@dataclass(frozen=True)
class CardButton:
    text: str
    key: str  # comes back as the template_card_event's EventKey; at most 1024 bytes
    style: int = 1  # 1 blue, 2 grey, 3 red, 4 blue with a border


@dataclass(frozen=True)
class ButtonCard:
    """A template_card of card_type button_interaction."""

    task_id: str  # unique per app; digits, letters and _-@, at most 128 bytes
    title: str
    buttons: Sequence[CardButton]
    desc: str = ""
    sub_title_text: str = ""
    fields: Sequence[tuple[str, str]] = ()  # horizontal_content_list: (keyname, value)

    def body(self) -> dict[str, Any]:
        card: dict[str, Any] = {
            "card_type": "button_interaction",
            "main_title": {"title": self.title, **({"desc": self.desc} if self.desc else {})},
            "task_id": self.task_id,
            "button_list": [{"text": b.text, "style": b.style, "key": b.key} for b in self.buttons],
        }
        if self.sub_title_text:
            card["sub_title_text"] = self.sub_title_text
        if self.fields:
            card["horizontal_content_list"] = [
                {"keyname": name, "value": value} for name, value in self.fields
            ]
        return card


@dataclass(frozen=True)
class AppSent:
    """message/send's answer: who was not reached, and the card's response_code (for
    update_template_card, once, within 72 hours)."""

    msgid: str
    invaliduser: list[str] = field(default_factory=list)
    response_code: str | None = None


@dataclass(frozen=True)
class Media:
    content: bytes
    content_type: str | None


def _menu_item(item: MenuItem) -> dict[str, Any]:
    if isinstance(item, MenuClick):
        return {"type": "click", "click": {"id": item.id, "content": item.content}}
    if isinstance(item, MenuLink):
        return {"type": "view", "view": {"url": item.url, "content": item.content}}
    return {"type": "text", "text": {"content": item.content}}


class WeComClient:
    """One corp's app: its agent id, its customer-service account, and its tokens.

    Owns its httpx.AsyncClient (`aclose`, or `async with`). `tokens` may be set after
    construction, since the token source fetches with this client's `gettoken`.
    """

    def __init__(
        self,
        api_url: str,
        *,
        agent_id: str,
        open_kfid: str,
        tokens: TokenSource | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout = TIMEOUT,
    ) -> None:
        self.agent_id = int(agent_id)
        self.open_kfid = open_kfid
        self.tokens = tokens
        self.http = httpx.AsyncClient(
            base_url=api_url.rstrip("/") + "/cgi-bin/", transport=transport, timeout=timeout
        )

    async def __aenter__(self) -> WeComClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- the transport ---------------------------------------------------------------------
    async def _send(self, api: str, method: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self.http.request(method, api, **kwargs)
        except httpx.TimeoutException as error:
            raise WeComUnavailable(api, f"timed out ({type(error).__name__})") from None
        except httpx.TransportError as error:  # the message may hold the URL: not shown
            raise WeComUnavailable(api, f"cannot be reached ({type(error).__name__})") from None
        status = response.status_code
        if status >= 500 or status == 429:
            raise WeComUnavailable(api, f"HTTP {status}", status)
        if status != 200:
            raise WeComError(api, status, f"HTTP {status}: not WeCom's answer")
        return response

    @staticmethod
    def _answer(api: str, response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except (ValueError, UnicodeDecodeError):
            raise WeComUnavailable(api, "the answer is not JSON") from None
        if not isinstance(body, dict):
            raise WeComUnavailable(api, "the answer is not a JSON object")
        return body

    async def _call(
        self,
        api: str,
        *,
        method: str = "POST",
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        binary: bool = False,
    ) -> dict[str, Any] | httpx.Response:
        """Call `api` with an access_token; on 40014/42001 once more with a new token."""
        if self.tokens is None:
            raise RuntimeError("the WeCom client has no token source")
        token = await self.tokens.get()
        for last in (False, True):
            query = {**(params or {}), "access_token": token}
            content = None if body is None else json.dumps(body, ensure_ascii=False).encode()
            headers = {"Content-Type": "application/json"} if content is not None else None
            response = await self._send(
                api, method, params=query, content=content, headers=headers, files=files
            )
            if binary and not _is_json(response):
                return response
            answer = self._answer(api, response)
            errcode = int(answer.get("errcode") or 0)
            if errcode in TOKEN_REFUSED and not last:
                logger.info("WeCom refused the access token (%d): fetching a new one", errcode)
                token = await self.tokens.refresh(token)
                continue
            if errcode:
                raise WeComError(api, errcode, str(answer.get("errmsg") or ""))
            return response if binary else answer
        raise AssertionError("unreachable")

    async def _json(self, api: str, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        answer = await self._call(api, body=body, **kwargs)
        assert isinstance(answer, dict)
        return answer

    # -- gettoken --------------------------------------------------------------------------
    async def gettoken(self, corp_id: str, secret: str) -> FetchedToken:
        api = "gettoken"
        response = await self._send(api, "GET", params={"corpid": corp_id, "corpsecret": secret})
        answer = self._answer(api, response)
        if int(answer.get("errcode") or 0):
            raise WeComError(api, int(answer["errcode"]), str(answer.get("errmsg") or ""))
        return FetchedToken(str(answer["access_token"]), int(answer["expires_in"]))

    # -- 微信客服 ----------------------------------------------------------------------------
    async def kf_sync_msg(
        self, *, cursor: str | None = None, token: str | None = None, limit: int = 1000
    ) -> SyncPage:
        """The next page of what customers wrote, after `cursor`; `token` is the callback's."""
        body: dict[str, Any] = {"open_kfid": self.open_kfid, "limit": limit}
        if cursor:
            body["cursor"] = cursor
        if token:
            body["token"] = token
        answer = await self._json("kf/sync_msg", body)
        messages = [
            KfMessage(
                msgid=str(m["msgid"]),
                open_kfid=str(m.get("open_kfid") or ""),
                external_userid=str(m.get("external_userid") or ""),
                send_time=int(m.get("send_time") or 0),
                origin=int(m.get("origin") or 0),
                msgtype=str(m["msgtype"]),
                body=dict(m.get(m["msgtype"]) or {}),
            )
            for m in answer.get("msg_list") or []
        ]
        return SyncPage(
            str(answer.get("next_cursor") or ""), bool(answer.get("has_more")), messages
        )

    async def _kf_send(
        self, touser: str, msgtype: str, content: dict[str, Any], msgid: str | None
    ) -> str:
        body: dict[str, Any] = {
            "touser": touser,
            "open_kfid": self.open_kfid,
            "msgtype": msgtype,
            msgtype: content,
        }
        if msgid:
            body["msgid"] = msgid  # ours, so a send retried after a timeout can be recognised
        answer = await self._json("kf/send_msg", body)
        return str(answer.get("msgid") or "")

    async def kf_send_text(self, touser: str, content: str, *, msgid: str | None = None) -> str:
        """Text to a customer (at most 2048 bytes); WeCom's msgid."""
        return await self._kf_send(touser, "text", {"content": content}, msgid)

    async def kf_send_image(self, touser: str, media_id: str, *, msgid: str | None = None) -> str:
        return await self._kf_send(touser, "image", {"media_id": media_id}, msgid)

    async def kf_send_menu(
        self,
        touser: str,
        items: Sequence[MenuItem],
        *,
        head: str = "",
        tail: str = "",
        msgid: str | None = None,
    ) -> str:
        """A msgmenu: clickable lines (the stand-in for buttons) between a head and a tail."""
        menu: dict[str, Any] = {"list": [_menu_item(item) for item in items]}
        if head:
            menu["head_content"] = head
        if tail:
            menu["tail_content"] = tail
        return await self._kf_send(touser, "msgmenu", menu, msgid)

    # -- 应用消息 ----------------------------------------------------------------------------
    async def _app_send(
        self, touser: Sequence[str], msgtype: str, content: dict[str, Any]
    ) -> AppSent:
        body = {
            "touser": "|".join(touser),
            "msgtype": msgtype,
            "agentid": self.agent_id,
            msgtype: content,
        }
        answer = await self._json("message/send", body)
        invalid = [u for u in str(answer.get("invaliduser") or "").split("|") if u]
        code = answer.get("response_code")
        return AppSent(str(answer.get("msgid") or ""), invalid, str(code) if code else None)

    async def send_text(self, touser: Sequence[str], content: str) -> AppSent:
        """Text from the app to members (userids)."""
        return await self._app_send(touser, "text", {"content": content})

    async def send_markdown(self, touser: Sequence[str], content: str) -> AppSent:
        return await self._app_send(touser, "markdown", {"content": content})

    async def send_card(self, touser: Sequence[str], card: ButtonCard) -> AppSent:
        """A button card; a press comes back as a template_card_event with the button's key."""
        return await self._app_send(touser, "template_card", card.body())

    async def update_card(
        self,
        response_code: str,
        replace_name: str,
        *,
        userids: Sequence[str] = (),
        atall: bool = False,
    ) -> list[str]:
        """Turn a card's buttons into one greyed button reading `replace_name`, for `userids`
        (or everyone who got it); the userids WeCom did not find."""
        body: dict[str, Any] = {
            "agentid": self.agent_id,
            "response_code": response_code,
            "button": {"replace_name": replace_name},
        }
        if atall:
            body["atall"] = 1
        else:
            body["userids"] = list(userids)
        answer = await self._json("message/update_template_card", body)
        invalid = answer.get("invaliduser") or []
        return [str(u) for u in invalid] if isinstance(invalid, list) else [str(invalid)]

    # -- 群机器人 ----------------------------------------------------------------------------
    async def _webhook(self, key: str, msgtype: str, content: dict[str, Any]) -> None:
        api = "webhook/send"
        body = json.dumps({"msgtype": msgtype, msgtype: content}, ensure_ascii=False).encode()
        response = await self._send(
            api,
            "POST",
            params={"key": key},
            content=body,
            headers={"Content-Type": "application/json"},
        )
        answer = self._answer(api, response)
        if int(answer.get("errcode") or 0):
            raise WeComError(api, int(answer["errcode"]), str(answer.get("errmsg") or ""))

    async def robot_send_text(
        self, key: str, content: str, *, mentioned_list: Sequence[str] = ()
    ) -> None:
        """Text to a group by its robot's webhook key (at most 2048 bytes, 20 per minute)."""
        text: dict[str, Any] = {"content": content}
        if mentioned_list:
            text["mentioned_list"] = list(mentioned_list)
        await self._webhook(key, "text", text)

    async def robot_send_markdown(self, key: str, content: str) -> None:
        await self._webhook(key, "markdown", {"content": content})

    # -- 临时素材 ----------------------------------------------------------------------------
    async def upload_media(
        self,
        content: bytes,
        *,
        filename: str = "image.jpg",
        content_type: str = "image/jpeg",
        kind: str = "image",
    ) -> str:
        """Upload temporary media (valid 3 days); its media_id."""
        answer = await self._call(
            "media/upload",
            params={"type": kind},
            files={"media": (filename, content, content_type)},
        )
        assert isinstance(answer, dict)
        return str(answer["media_id"])

    async def get_media(self, media_id: str) -> Media:
        """The bytes of temporary media (a resident's photo); 40007 once it has expired."""
        response = await self._call(
            "media/get", method="GET", params={"media_id": media_id}, binary=True
        )
        assert isinstance(response, httpx.Response)
        return Media(response.content, response.headers.get("content-type"))


def _is_json(response: httpx.Response) -> bool:
    kind = response.headers.get("content-type", "")
    return "json" in kind or kind.startswith("text/plain")
