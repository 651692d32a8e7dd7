"""The round-robin balancer over loopback: forwarding, alternation, 502 for a dead target."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Bot

from bot.telegram.emulator import Emulator, RoundRobin, serve_app_in_background

from .conftest import ALICE, BOB


def echo_app(name: str, seen: list[dict[str, Any]]) -> Starlette:
    """A bot instance stand-in: records each request and echoes it back."""

    async def echo(request: Request) -> Response:
        got = {
            "name": name,
            "method": request.method,
            "path": request.url.path,
            "query": request.url.query,
            "header": request.headers.get("x-test"),
            "secret": request.headers.get("x-telegram-bot-api-secret-token"),
            "body": (await request.body()).decode(),
        }
        seen.append(got)
        if request.url.path == "/teapot":
            return Response("short and stout", status_code=418, media_type="text/x-tea")
        return JSONResponse(got)

    return Starlette(routes=[Route("/{path:path}", echo, methods=["GET", "POST"])])


def dead_url() -> str:
    with socket.socket() as probe:  # bound then closed: connecting is refused
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@pytest.fixture
async def stack() -> AsyncIterator[tuple[AsyncExitStack, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []
    async with AsyncExitStack() as exits:
        yield exits, seen


async def serve_targets(exits: AsyncExitStack, seen: list[dict[str, Any]]) -> list[str]:
    return [
        await exits.enter_async_context(serve_app_in_background(echo_app(name, seen)))
        for name in ("one", "two")
    ]


@pytest.mark.slow
async def test_forwards_requests_round_robin(
    stack: tuple[AsyncExitStack, list[dict[str, Any]]],
) -> None:
    exits, seen = stack
    targets = await serve_targets(exits, seen)
    balancer = RoundRobin(targets)
    url = await exits.enter_async_context(serve_app_in_background(balancer))
    async with httpx.AsyncClient(base_url=url) as client:
        first = await client.post("/hook/x?a=1&b=2", content=b"payload", headers={"X-Test": "t"})
        second = await client.get("/teapot")
        third = await client.get("/again")
    assert first.status_code == 200 and first.headers["content-type"] == "application/json"
    assert first.json() == {
        "name": "one",
        "method": "POST",
        "path": "/hook/x",
        "query": "a=1&b=2",
        "header": "t",
        "secret": None,
        "body": "payload",
    }
    assert (second.status_code, second.text) == (418, "short and stout")
    assert second.headers["content-type"].startswith("text/x-tea")
    assert third.json()["name"] == "one"
    assert [s["name"] for s in seen] == ["one", "two", "one"]
    assert balancer.forwarded == {targets[0]: 2, targets[1]: 1}
    assert balancer.failed == {targets[0]: 0, targets[1]: 0}


@pytest.mark.slow
async def test_emulator_pushes_through_balancer_to_two_instances(
    bot: Bot, emu: Emulator, stack: tuple[AsyncExitStack, list[dict[str, Any]]]
) -> None:
    exits, seen = stack
    targets = await serve_targets(exits, seen)
    balancer = RoundRobin(targets)
    url = await exits.enter_async_context(serve_app_in_background(balancer))
    exits.push_async_callback(emu.close)
    await bot.set_webhook(f"{url}/hook", secret_token="sec")
    for user_id in (ALICE, BOB):
        emu.send_text(user_id, "hi")
        emu.send_text(user_id, "again")
    deadline = time.monotonic() + 3
    while emu.pending_updates() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert emu.pending_updates() == 0
    assert balancer.forwarded == {targets[0]: 2, targets[1]: 2}
    assert {s["secret"] for s in seen} == {"sec"}
    assert sorted(s["name"] for s in seen) == ["one", "one", "two", "two"]


@pytest.mark.slow
async def test_dead_target_answers_502_and_retry_lands_on_live_one(
    bot: Bot, emu: Emulator, stack: tuple[AsyncExitStack, list[dict[str, Any]]]
) -> None:
    exits, seen = stack
    live = await exits.enter_async_context(serve_app_in_background(echo_app("live", seen)))
    dead = dead_url()
    balancer = RoundRobin([dead, live])
    url = await exits.enter_async_context(serve_app_in_background(balancer))
    exits.push_async_callback(emu.close)
    emu.webhook_retry_delay = 0.02
    await bot.set_webhook(f"{url}/hook")
    emu.send_text(ALICE, "first goes to the dead one")
    deadline = time.monotonic() + 3
    while emu.pending_updates() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert emu.pending_updates() == 0
    assert [d["status"] for d in emu.webhook_deliveries] == [502, 200]
    assert balancer.failed == {dead: 1, live: 0}
    assert balancer.forwarded == {dead: 0, live: 1}
    assert [s["name"] for s in seen] == ["live"]
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Wrong response from the webhook: 502 Bad Gateway"


async def test_in_process_balancer_closes_its_client() -> None:
    seen: list[dict[str, Any]] = []
    async with RoundRobin([dead_url()]) as balancer:
        transport = httpx.ASGITransport(app=balancer)
        async with httpx.AsyncClient(transport=transport, base_url="http://lb") as client:
            answer = await client.get("/x")
    assert answer.status_code == 502 and seen == []
    assert balancer._clients == {}
    with pytest.raises(ValueError):
        RoundRobin([])
