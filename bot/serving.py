"""Serving an ASGI app with uvicorn inside the running event loop (the bot's web app, the
emulator, a test's balancer), leaving the process's signals to its owner."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Generator, Iterator
from contextlib import contextmanager
from typing import Any, Literal

import uvicorn

logger = logging.getLogger(__name__)

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})  # what only this machine reaches


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
    app: Any,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    log_level: str = "warning",
    lifespan: Literal["auto", "on", "off"] = "off",
    graceful: float = 5.0,
) -> AsyncIterator[str]:
    """Serve `app` in a task; yields its base URL (`http://host:port`, port 0 = any free one).
    On exit it stops taking connections and lets requests in flight finish (up to `graceful`
    seconds)."""
    config = uvicorn.Config(
        app,
        log_config=None,
        log_level=log_level,
        access_log=False,
        lifespan=lifespan,
        timeout_graceful_shutdown=int(graceful),
    )
    sock = bind(host, port)
    bound = sock.getsockname()[1]
    server = _OwnSignals(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name=f"uvicorn-{bound}")
    try:
        while not server.started:
            if task.done():
                task.result()  # raises what stopped the server
                raise RuntimeError("the server stopped before it started")
            await asyncio.sleep(0.01)
        yield f"http://[{host}]:{bound}" if ":" in host else f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        try:
            await task
        finally:
            sock.close()


class Intake:
    """Whether this process takes updates ("starting", "running", "stopping") and how many it
    is handling now: a graceful stop closes it, then waits for it to drain."""

    def __init__(self) -> None:
        self.state = "starting"
        self._busy = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def accepting(self) -> bool:
        return self.state == "running"

    def open(self) -> None:
        self.state = "running"

    def close(self) -> None:
        self.state = "stopping"

    @contextmanager
    def handling(self) -> Iterator[bool]:
        """Yields False when updates are not taken now; counts the update as in flight."""
        if not self.accepting:
            yield False
            return
        self._busy += 1
        self._idle.clear()
        try:
            yield True
        finally:
            self._busy -= 1
            if not self._busy:
                self._idle.set()

    async def drained(self) -> None:
        await self._idle.wait()
