"""The ASGI web app: one Starlette application for everything Yishi serves over HTTP.

`/open311/v2/` (the Open311 GeoReport v2 API), `/healthz` and `/metrics` always; Telegram's
webhook at the path of `--url` when the bot runs in webhook mode. `yishi api` serves it without
the bot, `yishi run --listen` with it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from bot import health, metrics
from bot.config import Settings
from bot.open311.api import open311_app
from bot.serving import Intake

logger = logging.getLogger(__name__)

OPEN311_PREFIX = "/open311/v2"


@dataclass
class BotLink:
    """What the web app needs of a running bot: its sender, its intake, its webhook (if any)."""

    sender: health.Running | None
    intake: Intake
    # (path, endpoint): a channel's webhook, e.g. bot/telegram/webhook.py: WebhookEndpoint.handle
    webhook: tuple[str, Callable[[Request], Awaitable[Response]]] | None = None


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
        routes.insert(0, Route(path, endpoint, methods=["POST"]))
    app = Starlette(routes=routes)
    app.state.settings, app.state.engine = settings, engine
    return app


def parse_listen(text: str) -> tuple[str, int]:
    """ "127.0.0.1:8080" -> ("127.0.0.1", 8080); "[::1]:8080" works too."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--listen {text!r}: use HOST:PORT, for example 127.0.0.1:8080")
    return host.strip("[]") or "127.0.0.1", int(port)


async def serve(settings: Settings, engine: AsyncEngine, *, host: str, port: int) -> None:
    """`yishi api`: the web app alone until Ctrl-C or SIGTERM."""
    config = uvicorn.Config(
        build_web_app(settings, engine), host=host, port=port, log_config=None, access_log=False
    )
    logger.info("serving the web app on http://%s:%d%s/", host, port, OPEN311_PREFIX)
    await uvicorn.Server(config).serve()
