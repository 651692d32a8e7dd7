"""The emulator pushing updates to a webhook like Telegram: secret, retries, order, limits."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Bot, Update
from telegram.error import BadRequest, Conflict
from telegram.ext import CommandHandler, ContextTypes

from bot.telegram.emulator import Emulator
from bot.telegram.emulator.updates import chat_key

from .conftest import ALICE, BOB

HOOK = "https://bot.test/hook"


class Target:
    """A webhook endpoint that records what arrives and answers as told."""

    def __init__(self) -> None:
        self.received: list[tuple[float, dict[str, Any], dict[str, str], bytes]] = []
        self.answers: list[int] = []  # statuses to answer next, then 200
        self.failing_chats: set[int] = set()  # answer 500 for these
        self.gates: dict[int | None, asyncio.Event] = {}  # hold a chat's updates until set
        self.hold_all: asyncio.Event | None = None
        self.in_flight = 0
        self.max_in_flight = 0
        self.app = Starlette(routes=[Route("/hook", self.hook, methods=["POST"])])

    async def hook(self, request: Request) -> Response:
        body = await request.body()
        update = await request.json()
        self.received.append((time.monotonic(), update, dict(request.headers), body))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            gate = self.gates.get(chat_key(update)) or self.hold_all
            if gate is not None:
                await gate.wait()
        finally:
            self.in_flight -= 1
        if chat_key(update) in self.failing_chats:
            return Response(status_code=500)
        return Response(status_code=self.answers.pop(0) if self.answers else 200)

    def texts(self) -> list[str]:
        return [u["message"]["text"] for _, u, _, _ in self.received if "message" in u]


async def until(probe: Callable[[], Any], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


@pytest.fixture
async def target(emu: Emulator) -> AsyncIterator[Target]:
    found = Target()
    emu.webhook_transport = httpx.ASGITransport(app=found.app)
    emu.webhook_retry_delay = 0.02
    yield found
    await emu.close()


async def test_pushes_json_with_secret_header(bot: Bot, emu: Emulator, target: Target) -> None:
    emu.send_text(ALICE, "before the webhook")
    await bot.set_webhook(HOOK, secret_token="s3cret_-X")
    emu.send_text(BOB, "after")
    await until(lambda: emu.pending_updates() == 0)
    assert sorted(target.texts()) == ["after", "before the webhook"]
    history = {u["update_id"]: u for u in emu.updates()}
    for _, update, headers, _ in target.received:
        assert headers["x-telegram-bot-api-secret-token"] == "s3cret_-X"
        assert headers["content-type"] == "application/json"
        assert update == history[update["update_id"]]
    assert [(d["status"], d["error"]) for d in emu.webhook_deliveries] == [(200, None)] * 2
    info = await bot.get_webhook_info()
    assert info.url == HOOK and info.max_connections == 40 and info.pending_update_count == 0
    assert info.last_error_message is None


async def test_failed_delivery_is_retried_with_same_body(
    bot: Bot, emu: Emulator, target: Target
) -> None:
    target.answers = [403, 500]
    await bot.set_webhook(HOOK)
    emu.send_text(ALICE, "retry me")
    await until(lambda: emu.pending_updates() == 0)
    assert len(target.received) == 3
    assert len({body for _, _, _, body in target.received}) == 1
    assert [d["status"] for d in emu.webhook_deliveries] == [403, 500, 200]
    assert emu.webhook_deliveries[0]["error"] == "Wrong response from the webhook: 403 Forbidden"
    times = [at for at, _, _, _ in target.received]
    assert times[1] - times[0] >= 0.018 and times[2] - times[1] >= 0.036  # doubling backoff
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    assert info.last_error_date is not None


async def test_setting_the_webhook_again_ends_the_backoff(
    bot: Bot, emu: Emulator, target: Target
) -> None:
    emu.webhook_retry_delay = 30.0
    target.answers = [500]
    await bot.set_webhook(HOOK)
    emu.send_text(ALICE, "after a restart")
    await until(lambda: emu.webhook_deliveries)
    await asyncio.sleep(0.05)
    assert emu.pending_updates() == 1  # waiting out its 30 s
    await bot.set_webhook(HOOK)  # what a restarted bot does
    await until(lambda: emu.pending_updates() == 0, timeout=1)


async def test_failing_chat_blocks_only_itself(bot: Bot, emu: Emulator, target: Target) -> None:
    target.failing_chats = {ALICE}
    await bot.set_webhook(HOOK)
    emu.send_text(ALICE, "a1")
    emu.send_text(ALICE, "a2")
    emu.send_text(BOB, "b1")
    await until(lambda: "b1" in target.texts() and target.texts().count("a1") >= 3)
    assert "a2" not in target.texts()
    assert emu.pending_updates() == 2
    target.failing_chats.clear()
    await until(lambda: emu.pending_updates() == 0)
    texts = target.texts()
    assert texts.index("a2") > max(i for i, text in enumerate(texts) if text == "a1")


async def test_chat_order_kept_while_other_chats_proceed(
    bot: Bot, emu: Emulator, target: Target
) -> None:
    target.gates[ALICE] = asyncio.Event()
    await bot.set_webhook(HOOK)
    emu.send_text(ALICE, "a1")
    emu.send_text(ALICE, "a2")
    emu.send_text(BOB, "b1")
    await until(lambda: "b1" in target.texts())
    await asyncio.sleep(0.05)
    assert target.texts() == ["a1", "b1"] and target.in_flight == 1
    target.gates[ALICE].set()
    await until(lambda: emu.pending_updates() == 0)
    assert target.texts() == ["a1", "b1", "a2"]


async def test_max_connections_respected(bot: Bot, emu: Emulator, target: Target) -> None:
    for user_id in range(2001, 2011):
        emu.add_user(user_id, f"U{user_id}")
        emu.send_text(user_id, "hello")
    target.hold_all = asyncio.Event()
    await bot.set_webhook(HOOK, max_connections=3)
    await until(lambda: target.in_flight == 3)
    await asyncio.sleep(0.05)
    assert target.max_in_flight == 3 and len(target.received) == 3
    target.hold_all.set()
    await until(lambda: emu.pending_updates() == 0)
    assert target.max_in_flight == 3 and len(target.received) == 10
    # in update_id order
    assert [u["update_id"] for _, u, _, _ in target.received] == sorted(
        u["update_id"] for _, u, _, _ in target.received
    )


async def test_delete_webhook_stops_pushing(bot: Bot, emu: Emulator, target: Target) -> None:
    target.failing_chats = {ALICE}
    await bot.set_webhook(HOOK)
    emu.send_text(ALICE, "stuck")
    await until(lambda: len(target.received) >= 2)
    with pytest.raises(Conflict):
        await bot.get_updates()
    await bot.delete_webhook()
    seen = len(target.received)
    emu.send_text(BOB, "polled")
    await asyncio.sleep(0.15)  # several retry periods
    assert len(target.received) == seen
    updates = await bot.get_updates()
    assert [u.message.text for u in updates if u.message] == ["stuck", "polled"]


async def test_allowed_updates_and_redeliver(bot: Bot, emu: Emulator, target: Target) -> None:
    await bot.set_webhook(HOOK, allowed_updates=["my_chat_member"])
    assert (await bot.get_webhook_info()).allowed_updates == ("my_chat_member",)
    emu.send_text(ALICE, "not wanted")
    emu.block(BOB)
    await until(lambda: emu.pending_updates() == 0 and len(target.received) == 1)
    first = target.received[0]
    assert "my_chat_member" in first[1]
    emu.redeliver(first[1]["update_id"])
    await until(lambda: len(target.received) == 2)
    assert target.received[1][3] == first[3]
    await until(lambda: emu.pending_updates() == 0)


async def test_timeout_counts_as_failure(bot: Bot, emu: Emulator, target: Target) -> None:
    emu.webhook_timeout = 0.05
    target.gates[ALICE] = asyncio.Event()
    await bot.set_webhook(HOOK)
    emu.send_text(ALICE, "slow")
    await until(lambda: emu.webhook_deliveries)
    assert emu.webhook_deliveries[0]["error"] == "Read timeout expired"
    assert emu.webhook_deliveries[0]["status"] is None
    target.gates[ALICE].set()
    await until(lambda: emu.pending_updates() == 0)
    assert (await bot.get_webhook_info()).last_error_message == "Read timeout expired"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"url": "http://example.org/hook"}, "https url must be provided"),
        ({"url": "http://10.0.0.1:8080/hook"}, "https url must be provided"),
        ({"url": "https://example.org:8080/hook"}, "only on ports 80, 88, 443 or 8443"),
        ({"url": HOOK, "secret_token": "has space"}, "secret token contains unallowed"),
        ({"url": HOOK, "secret_token": "x" * 257}, "secret token contains unallowed"),
        ({"url": HOOK, "max_connections": 0}, "max_connections"),
        ({"url": HOOK, "max_connections": 101}, "max_connections"),
    ],
)
async def test_bad_webhooks_refused(
    bot: Bot, emu: Emulator, target: Target, kwargs: dict[str, Any], error: str
) -> None:
    with pytest.raises(BadRequest, match=f"(?i){error}"):
        await bot.set_webhook(**kwargs)
    assert (await bot.get_webhook_info()).url == ""


async def test_loopback_http_accepted_and_empty_url_deletes(
    bot: Bot, emu: Emulator, target: Target
) -> None:
    for url in ("http://127.0.0.1:8441/hook", "http://localhost/hook", "http://[::1]:9/hook"):
        assert await bot.set_webhook(url, secret_token="x" * 256, max_connections=100)
        assert (await bot.get_webhook_info()).url == url
    await bot.set_webhook("")
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.get_updates() == ()


async def test_other_hosts_are_never_contacted(bot: Bot, emu: Emulator) -> None:
    await bot.set_webhook("https://example.org/hook")
    emu.send_text(ALICE, "stays")
    await asyncio.sleep(0.05)
    assert emu.webhook_deliveries == [] and emu.pending_updates() == 1


async def test_connection_refused_over_loopback(bot: Bot, emu: Emulator) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    emu.webhook_retry_delay = 0.02
    try:
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook")
        emu.send_text(ALICE, "nobody home")
        await until(lambda: len(emu.webhook_deliveries) >= 2)
    finally:
        await emu.close()
    assert emu.webhook_deliveries[0]["error"] == "Connection refused"
    assert (await bot.get_webhook_info()).last_error_message == "Connection refused"
    assert emu.pending_updates() == 1


async def test_ptb_application_behind_the_webhook(emu: Emulator) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("你好")

    application = emu.application_builder().updater(None).build()
    application.add_handler(CommandHandler("start", start))

    async def hook(request: Request) -> Response:
        if request.headers.get("x-telegram-bot-api-secret-token") != "tok":
            return Response(status_code=403)
        await application.update_queue.put(Update.de_json(await request.json(), application.bot))
        return Response()

    emu.webhook_transport = httpx.ASGITransport(
        app=Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    )
    async with application:
        await application.start()
        try:
            await application.bot.set_webhook(HOOK, secret_token="tok")
            sent = emu.send_text(ALICE, "/start")
            reply = await emu.wait_for_bot_message(ALICE, after=sent["message_id"])
            assert reply["text"] == "你好"
        finally:
            await emu.close()
            await application.stop()
