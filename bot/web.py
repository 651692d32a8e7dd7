"""The ASGI web app: one Starlette application for everything Yishi serves over HTTP.

Today it serves the Open311 GeoReport v2 API under /open311/v2/; the production issue adds
the Telegram webhook, /healthz and /metrics here. `yishi api` runs it with uvicorn.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.routing import Mount

from bot.config import Settings
from bot.open311_api import open311_app

logger = logging.getLogger(__name__)

OPEN311_PREFIX = "/open311/v2"


def build_web_app(settings: Settings, engine: AsyncEngine) -> Starlette:
    """Every HTTP route, on one app; the engine is the caller's (one per process)."""
    app = Starlette(routes=[Mount(OPEN311_PREFIX, app=open311_app(settings, engine))])
    app.state.settings, app.state.engine = settings, engine
    return app


def parse_listen(text: str) -> tuple[str, int]:
    """ "127.0.0.1:8080" -> ("127.0.0.1", 8080); "[::1]:8080" works too."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--listen {text!r}: use HOST:PORT, for example 127.0.0.1:8080")
    return host.strip("[]") or "127.0.0.1", int(port)


async def serve(settings: Settings, engine: AsyncEngine, *, host: str, port: int) -> None:
    import uvicorn

    config = uvicorn.Config(
        build_web_app(settings, engine), host=host, port=port, log_config=None, access_log=False
    )
    logger.info("serving the web app on http://%s:%d%s/", host, port, OPEN311_PREFIX)
    await uvicorn.Server(config).serve()
