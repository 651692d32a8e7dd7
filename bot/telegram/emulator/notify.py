"""A change counter that coroutines can wait on, from any event loop, without busy-waiting."""

from __future__ import annotations

import asyncio
import logging
import threading

logger = logging.getLogger(__name__)


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class Notifier:
    """Counts changes of the emulated world and wakes everyone waiting for the next one.

    Waiters remember the event loop they wait in, so the emulator may be driven from one loop
    (a test) and served from another (a thread running uvicorn) and nobody misses a wake-up.
    """

    def __init__(self) -> None:
        self.version = 0
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def notify(self) -> None:
        """Record a change and wake every waiter."""
        with self._lock:
            self.version += 1
            waiters, self._waiters = self._waiters, []
        for loop, fut in waiters:
            try:
                loop.call_soon_threadsafe(_wake, fut)
            except RuntimeError:  # that loop is closed; nobody is waiting there any more
                continue

    async def wait(self, since: int, timeout: float) -> bool:
        """Wait until the version differs from ``since``; False when ``timeout`` ran out."""
        if timeout <= 0:
            return self.version != since
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        entry = (loop, fut)
        with self._lock:
            if self.version != since:
                return True
            self._waiters.append(entry)
        try:
            async with asyncio.timeout(timeout):
                await fut
            return True
        except TimeoutError:
            return False
        finally:
            with self._lock:
                if entry in self._waiters:
                    self._waiters.remove(entry)
