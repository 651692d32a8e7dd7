"""POSTing encrypted callbacks to the bot's callback URL, the way WeCom does.

接收消息与事件 (developer.work.weixin.qq.com/document/path/90238 and 90930): WeCom POSTs to
`URL?msg_signature=...&timestamp=...&nonce=...` a body
`<xml><ToUserName>corp</ToUserName><Encrypt>...</Encrypt><AgentID>...</AgentID></xml>`, sealed
with the app's Token and EncodingAESKey (bot/wecom/crypto.py does the sealing: this module only
unwraps the Encrypt and MsgSignature it produces). "企业微信服务器在五秒内收不到响应会断掉连接，
并且重新发起请求，总共重试三次": an answer that is not 200 within `timeout` seconds is retried,
at most `retries` more times, and every attempt is recorded. A retry repeats the same request
(query and body), so a receiver's replay guard sees it as a repeat.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass, field

import httpx

from bot.wecom.crypto import MemoryReplayGuard, WeComCrypto, parse_xml

from .limits import Clock

logger = logging.getLogger(__name__)

TIMEOUT = 5.0
RETRIES = 3


@dataclass
class Attempt:
    status: int | None  # None: no HTTP answer (timeout, refused)
    error: str
    seconds: float


@dataclass
class Delivery:
    """One callback and its attempts; `delivered` once an attempt got 200 in time."""

    kind: str
    inner_xml: str
    attempts: list[Attempt] = field(default_factory=list)
    delivered: bool = False


def element(tag: str, value: object) -> str:
    """`<Tag><![CDATA[value]]></Tag>` for text, `<Tag>n</Tag>` for a number."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"<{tag}>{value}</{tag}>"
    text = str(value).replace("]]>", "]]]]><![CDATA[>")
    return f"<{tag}><![CDATA[{text}]]></{tag}>"


def inner(fields: dict[str, object]) -> str:
    return "<xml>" + "".join(element(k, v) for k, v in fields.items()) + "</xml>"


class Callbacks:
    def __init__(self, clock: Clock, *, token: str, encoding_aes_key: str, corp_id: str) -> None:
        self.clock = clock
        self.corp_id = corp_id
        self.crypto = WeComCrypto(
            token=token,
            encoding_aes_key=encoding_aes_key,
            receive_id=corp_id,
            replay_guard=MemoryReplayGuard(),
            clock=clock,
        )
        self.url: str | None = None
        self.transport: httpx.AsyncBaseTransport | None = None
        self.timeout = TIMEOUT
        self.retries = RETRIES
        self.retry_delay = 0.0
        self.deliveries: list[Delivery] = []

    def seal(self, inner_xml: str, agent_id: str) -> tuple[dict[str, str], str]:
        """The query (msg_signature, timestamp, nonce) and the body WeCom would POST."""
        timestamp = str(int(self.clock()))
        nonce = secrets.token_hex(8)
        outer = parse_xml(self.crypto.encrypt(inner_xml, nonce, timestamp))
        query = {
            "msg_signature": outer.findtext("MsgSignature", ""),
            "timestamp": timestamp,
            "nonce": nonce,
        }
        body = (
            f"<xml>{element('ToUserName', self.corp_id)}"
            f"{element('Encrypt', outer.findtext('Encrypt', ''))}"
            f"{element('AgentID', agent_id)}</xml>"
        )
        return query, body

    async def deliver(self, kind: str, inner_xml: str, agent_id: str) -> Delivery:
        delivery = Delivery(kind, inner_xml)
        self.deliveries.append(delivery)
        if not self.url:
            logger.info("no callback URL set: %s callback kept, not sent", kind)
            return delivery
        async with httpx.AsyncClient(transport=self.transport) as client:
            # A retry is the same request again (same signature, timestamp and nonce): the
            # receiver must treat a repeat as already seen and still answer it.
            query, body = self.seal(inner_xml, agent_id)
            for attempt in range(1 + self.retries):
                if attempt and self.retry_delay:
                    await asyncio.sleep(self.retry_delay)
                started = time.monotonic()
                post = client.post(
                    self.url,
                    params=query,
                    content=body.encode(),
                    headers={"Content-Type": "text/xml"},
                    timeout=self.timeout,
                )
                try:
                    # wait_for as well: an in-process transport has no network timeouts.
                    answer = await asyncio.wait_for(post, self.timeout)
                except (httpx.HTTPError, TimeoutError) as error:
                    seconds = time.monotonic() - started
                    delivery.attempts.append(Attempt(None, type(error).__name__, seconds))
                    continue
                seconds = time.monotonic() - started
                if answer.status_code == 200:
                    delivery.attempts.append(Attempt(200, "", seconds))
                    delivery.delivered = True
                    break
                delivery.attempts.append(Attempt(answer.status_code, answer.text[:200], seconds))
        if not delivery.delivered:
            logger.warning("%s callback not answered after %d attempts", kind, 1 + self.retries)
        return delivery
