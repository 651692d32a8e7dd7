"""Serving an emulator over real loopback HTTP with uvicorn, inside the running event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Generator
from typing import TYPE_CHECKING

import uvicorn

if TYPE_CHECKING:
    from .emulator import Emulator

logger = logging.getLogger(__name__)


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves the process's signal handlers alone."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _bind(host: str, port: int) -> socket.socket:
    """Bind here (an OSError if the port is taken) rather than let uvicorn ``sys.exit``."""
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
async def serve_in_background(
    emu: Emulator, host: str = "127.0.0.1", port: int = 0, *, log_level: str = "warning"
) -> AsyncIterator[str]:
    """Run uvicorn for ``emu.app`` in a task; yields ``http://host:port``; stops on exit.

    Bot API base URL: ``f"{url}/bot"``; file base URL: ``f"{url}/file/bot"``.
    """
    config = uvicorn.Config(
        emu.app,
        log_level=log_level,
        lifespan="off",
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    sock = _bind(host, port)
    bound_port = sock.getsockname()[1]
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name="emulator-uvicorn")
    try:
        while not server.started:
            if task.done():
                task.result()  # raises what stopped the server
                raise RuntimeError("the emulator server stopped before it started")
            await asyncio.sleep(0.01)
        url = f"http://[{host}]:{bound_port}" if ":" in host else f"http://{host}:{bound_port}"
        logger.info("Telegram emulator listening on %s", url)
        yield url
    finally:
        emu.world.closing = True  # long polls answer at once so connections can close
        emu.world.changed()
        server.should_exit = True
        try:
            await task
        finally:
            emu.world.closing = False
            sock.close()
