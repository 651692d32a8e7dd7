"""The ASGI web app: one Starlette application for everything Yishi serves over HTTP.

`/open311/v2/` (the Open311 GeoReport v2 API), `/healthz` and `/metrics` always; Telegram's
webhook at the path of `--url` when the bot runs in webhook mode. `yishi api` serves it without
the bot, `yishi run --listen` with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Generator
from dataclasses import dataclass

import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from bot import health, metrics
from bot.config import Settings
from bot.open311_api import open311_app
from bot.outbox import Sender
from bot.webhook import Intake, WebhookEndpoint

logger = logging.getLogger(__name__)

OPEN311_PREFIX = "/open311/v2"


@dataclass
class BotLink:
    """What the web app needs of a running bot: its sender, its intake, its webhook (if any)."""

    sender: Sender | None
    intake: Intake
    webhook: tuple[str, WebhookEndpoint] | None = None  # (path, endpoint)


def build_web_app(settings: Settings, engine: AsyncEngine, bot: BotLink | None = None) -> Starlette:
    """Every HTTP route, on one app; the engine is the caller's (one per process)."""

    async def healthz(request: Request) -> Response:
        state = bot.intake.state if bot else "running"
        found = await health.check(engine, bot.sender if bot else None, state=state)
        return JSONResponse(found.as_json(), status_code=200 if found.ok else 503)

    async def metrics_page(request: Request) -> Response:
        _, backlog = await health.read_backlog(engine)
        body, content_type = metrics.exposition(backlog)
        return Response(body, media_type=content_type)

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics_page, methods=["GET"]),
        Mount(OPEN311_PREFIX, app=open311_app(settings, engine)),
    ]
    if bot is not None and bot.webhook is not None:
        path, endpoint = bot.webhook
        routes.insert(0, Route(path, endpoint.handle, methods=["POST"]))
    app = Starlette(routes=routes)
    app.state.settings, app.state.engine = settings, engine
    return app


def parse_listen(text: str) -> tuple[str, int]:
    """ "127.0.0.1:8080" -> ("127.0.0.1", 8080); "[::1]:8080" works too."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--listen {text!r}: use HOST:PORT, for example 127.0.0.1:8080")
    return host.strip("[]") or "127.0.0.1", int(port)


class _OwnSignals(uvicorn.Server):
    """uvicorn, leaving SIGTERM and SIGINT to the caller (the bot's graceful stop)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def bind(host: str, port: int) -> socket.socket:
    """Bind here (an OSError if the port is taken) rather than let uvicorn `sys.exit`."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio only sets TCP_NODELAY on accepted sockets whose proto is
    # IPPROTO_TCP, and without it every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


@contextlib.asynccontextmanager
async def serving(
    app: Starlette, host: str, port: int, *, log_level: str = "warning"
) -> AsyncIterator[str]:
    """Serve `app` with uvicorn in a task of the running loop; yields its base URL. On exit it
    stops taking connections and lets the requests in flight finish (up to 5 s)."""
    config = uvicorn.Config(
        app,
        log_config=None,
        log_level=log_level,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=5,
    )
    sock = bind(host, port)
    bound = sock.getsockname()[1]
    server = _OwnSignals(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name=f"uvicorn:{bound}")
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("the web server stopped before it started")
            await asyncio.sleep(0.01)
        url = f"http://[{host}]:{bound}" if ":" in host else f"http://{host}:{bound}"
        yield url
    finally:
        server.should_exit = True
        try:
            await task
        finally:
            sock.close()


async def serve(settings: Settings, engine: AsyncEngine, *, host: str, port: int) -> None:
    """`yishi api`: the web app alone until Ctrl-C or SIGTERM."""
    config = uvicorn.Config(
        build_web_app(settings, engine), host=host, port=port, log_config=None, access_log=False
    )
    logger.info("serving the web app on http://%s:%d%s/", host, port, OPEN311_PREFIX)
    await uvicorn.Server(config).serve()
