"""``WeComEmulator``: WeCom's server-side APIs in memory, for offline tests and the sandbox.

See README.md. Nothing starts at import time; the app is served in-process with
`httpx.ASGITransport(app=emu.app)` or over loopback with `serve_in_background`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette

from bot.serving import serving

from .api import api_routes
from .app_messages import AppMessages
from .callbacks import Callbacks, Delivery, inner
from .kf import Kf, KfAccount
from .limits import Clock
from .media import MediaStore
from .robots import Robot, Robots
from .tokens import Tokens

logger = logging.getLogger(__name__)

# WeCom's own sample values ("加解密方案说明"): any 43-character key will do for tests.
SAMPLE_AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"


class WeComEmulator:
    """One emulated corp with one self-built app, its customer-service accounts and robots."""

    def __init__(
        self,
        *,
        corp_id: str = "wwcorp0001",
        agent_id: str = "1000002",
        secret: str = "app-secret",
        kf_secret: str | None = None,
        token: str = "QDG6eK",
        encoding_aes_key: str = SAMPLE_AES_KEY,
        open_kfid: str = "wkOFFICE0001",
    ) -> None:
        self.clock = Clock()
        self.corp_id = corp_id
        self.agent_id = agent_id
        self.tokens = Tokens(self.clock, corp_id, {secret} | ({kf_secret} if kf_secret else set()))
        self.media = MediaStore(self.clock)
        self.kf = Kf(self.clock, self.media)
        self.app_messages = AppMessages(self.clock, agent_id)
        self.robots = Robots(self.clock)
        self.callbacks = Callbacks(
            self.clock, token=token, encoding_aes_key=encoding_aes_key, corp_id=corp_id
        )
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._faults: dict[str, list[int]] = {}
        self._msg_ids = 0
        self.faults_delay: dict[str, float] = {}
        self.add_kf_account(open_kfid)
        self.app = Starlette(routes=api_routes(self))

    # -- setting up ------------------------------------------------------------------------
    def add_kf_account(self, open_kfid: str) -> None:
        self.kf.accounts.setdefault(open_kfid, KfAccount(open_kfid))

    def add_member(self, userid: str) -> None:
        """A WeCom member in the app's visible range (staff, mediators, secretaries)."""
        self.app_messages.members.add(userid)

    def add_robot(self, key: str, name: str = "") -> Robot:
        return self.robots.robots.setdefault(key, Robot(key, name or key))

    def set_callback(self, url: str, transport: Any = None) -> None:
        """Where callbacks go; `transport` (e.g. httpx.ASGITransport) posts in-process."""
        self.callbacks.url = url
        self.callbacks.transport = transport

    # -- the clock and tokens --------------------------------------------------------------
    def now(self) -> float:
        return self.clock()

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def invalidate_tokens(self, token: str | None = None) -> None:
        self.tokens.invalidate(token)

    @property
    def tokens_issued(self) -> int:
        return self.tokens.issued

    # -- residents (微信客服) ----------------------------------------------------------------
    async def resident_writes(
        self,
        external_userid: str,
        text: str | None = None,
        *,
        image: bytes | None = None,
        location: tuple[float, float, str, str] | None = None,
        menu_id: str | None = None,
        open_kfid: str | None = None,
    ) -> Delivery:
        """A resident sends text, an image, a location (lat, lon, name, address) or clicks a
        msgmenu item (`menu_id` with the item's text); then the kf_msg_or_event callback."""
        kfid = open_kfid or next(iter(self.kf.accounts))
        body: dict[str, Any]
        if image is not None:
            media = self.media.add("image", image, "photo.jpg", "image/jpeg")
            msgtype, body = "image", {"media_id": media.media_id}
        elif location is not None:
            lat, lon, name, address = location
            msgtype = "location"
            body = {"latitude": lat, "longitude": lon, "name": name, "address": address}
        elif text is not None:
            msgtype, body = "text", {"content": text, **({"menu_id": menu_id} if menu_id else {})}
        else:
            raise ValueError("a resident writes text, an image or a location")
        _message, sync_token = self.kf.customer_message(kfid, external_userid, msgtype, body)
        event = inner(
            {
                "ToUserName": self.corp_id,
                "CreateTime": int(self.clock()),
                "MsgType": "event",
                "Event": "kf_msg_or_event",
                "Token": sync_token,
                "OpenKfId": kfid,
            }
        )
        return await self.callbacks.deliver("kf_msg_or_event", event, self.agent_id)

    def resident_received(self, external_userid: str, open_kfid: str | None = None) -> list[Any]:
        """What the office sent the resident by kf/send_msg, in order."""
        account = self.kf.account(open_kfid or next(iter(self.kf.accounts)))
        return list(account.received.get(external_userid, []))

    # -- members (应用消息) ------------------------------------------------------------------
    async def member_presses(self, userid: str, task_id: str, key: str) -> Delivery:
        response_code = self.app_messages.press(userid, task_id, key)
        card = self.app_messages.cards[task_id]
        event = inner(
            {
                "ToUserName": self.corp_id,
                "FromUserName": userid,
                "CreateTime": int(self.clock()),
                "MsgType": "event",
                "Event": "template_card_event",
                "EventKey": key,
                "TaskId": task_id,
                "CardType": card.card_type,
                "ResponseCode": response_code,
                "AgentID": int(self.agent_id),
            }
        )
        return await self.callbacks.deliver("template_card_event", event, self.agent_id)

    async def member_writes(self, userid: str, text: str) -> Delivery:
        if userid not in self.app_messages.members:
            raise LookupError(f"{userid} is not a member of the app")
        self._msg_ids += 1
        message = inner(
            {
                "ToUserName": self.corp_id,
                "FromUserName": userid,
                "CreateTime": int(self.clock()),
                "MsgType": "text",
                "Content": text,
                "MsgId": str(7_000_000_000_000_000 + self._msg_ids),
                "AgentID": int(self.agent_id),
            }
        )
        return await self.callbacks.deliver("text", message, self.agent_id)

    def member_received(self, userid: str) -> list[Any]:
        return list(self.app_messages.received.get(userid, []))

    def card_state(self, userid: str, task_id: str) -> str | None:
        """The replace_name a member's card shows after update_template_card, or None."""
        return self.app_messages.cards[task_id].replaced.get(userid)

    # -- groups (群机器人) -------------------------------------------------------------------
    def group_received(self, key: str) -> list[Any]:
        return list(self.robots.robots[key].received)

    # -- faults ----------------------------------------------------------------------------
    def fail_next(self, api: str, status: int = 500, times: int = 1) -> None:
        """The next `times` calls of `api` (e.g. "kf/send_msg") answer HTTP `status`."""
        self._faults.setdefault(api, []).extend([status] * times)

    def take_fault(self, api: str) -> int | None:
        pending = self._faults.get(api)
        return pending.pop(0) if pending else None

    def set_delay(self, api: str, seconds: float) -> None:
        """Answer `api` only after `seconds` (0 to stop)."""
        if seconds > 0:
            self.faults_delay[api] = seconds
        else:
            self.faults_delay.pop(api, None)

    def clear_faults(self) -> None:
        self._faults.clear()
        self.faults_delay.clear()

    def calls_of(self, api: str) -> list[dict[str, Any]]:
        return [answer for name, answer in self.calls if name == api]


@contextlib.asynccontextmanager
async def serve_in_background(
    emu: WeComEmulator, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[str]:
    """Serve `emu.app` over loopback in a task; yields the base URL (YISHI_WECOM_API_URL)."""
    async with serving(emu.app, host, port, lifespan="off", graceful=2) as url:
        logger.info("WeCom emulator listening on %s", url)
        yield url
