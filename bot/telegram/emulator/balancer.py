"""A tiny round-robin HTTP load balancer (ASGI) to put between the emulator and bot instances.

Each request goes to the next target in turn; a target that cannot be reached answers 502, so
the emulator (like Telegram) retries the update and the retry lands on the next target.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

logger = logging.getLogger(__name__)

# Hop-by-hop headers describe one connection; httpx sets its own for the next hop.
_NOT_FORWARDED = frozenset(
    {b"host", b"content-length", b"transfer-encoding", b"connection", b"keep-alive"}
)
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class RoundRobin(Starlette):
    """``RoundRobin(["http://127.0.0.1:8441", "http://127.0.0.1:8442"])``: an ASGI app.

    ``forwarded`` / ``failed`` count answered and unreachable attempts per target. Close the
    pooled client with ``await balancer.aclose()`` or ``async with balancer:``; serving it with
    lifespan on (``serve_app_in_background``'s default) closes it at shutdown.
    """

    def __init__(self, targets: list[str], *, timeout: float = 60.0) -> None:
        if not targets:
            raise ValueError("RoundRobin needs at least one target")
        self.targets = [target.rstrip("/") for target in targets]
        self.forwarded: dict[str, int] = dict.fromkeys(self.targets, 0)
        self.failed: dict[str, int] = dict.fromkeys(self.targets, 0)
        self.timeout = timeout
        self._turn = 0
        self._clients: dict[str, httpx.AsyncClient] = {}
        super().__init__(
            routes=[Route("/{path:path}", self._forward, methods=_METHODS)],
            lifespan=self._lifespan,
        )

    @asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        yield
        await self.aclose()

    async def aclose(self) -> None:
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.aclose()

    def _client(self, target: str) -> httpx.AsyncClient:
        # One pool per target: httpcore matches each waiting request against every pooled
        # connection, so one shared pool costs the square of the requests in flight.
        if target not in self._clients:
            # A short connect timeout: a dead target should fail fast so the retry moves on.
            timeout = httpx.Timeout(self.timeout, connect=min(self.timeout, 5.0))
            limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
            self._clients[target] = httpx.AsyncClient(timeout=timeout, limits=limits)
        return self._clients[target]

    async def __aenter__(self) -> RoundRobin:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _next_target(self) -> str:
        target = self.targets[self._turn % len(self.targets)]
        self._turn += 1
        return target

    async def _forward(self, request: Request) -> Response:
        target = self._next_target()
        url = target + request.url.path
        if request.url.query:
            url += "?" + request.url.query
        headers = [
            (name, value)
            for name, value in request.headers.raw
            if name.lower() not in _NOT_FORWARDED
        ]
        body = await request.body()
        client = self._client(target)
        try:
            answer = await client.request(request.method, url, headers=headers, content=body)
        except httpx.TransportError as error:
            self.failed[target] += 1
            logger.warning("balancer: %s %s to %s failed: %r", request.method, url, target, error)
            return PlainTextResponse(f"Bad Gateway: {target} unreachable", status_code=502)
        self.forwarded[target] += 1
        content_type = answer.headers.get("content-type")
        return Response(
            answer.content,
            status_code=answer.status_code,
            headers={"content-type": content_type} if content_type else None,
        )
