"""WeCom's access_token, shared by every instance through the database.

`gettoken` gives a token valid for 7,200 s; WeCom asks that it be cached, and may end one early
(40014) or see it expire (42001). `AccessTokens` keeps the token in memory while it is more than
MARGIN from its expiry, else reads the `access_tokens` row (storage/access_tokens.py), and only
when that one is stale too fetches a new one, under the row's lock, so that two instances
needing a token at once fetch it once: the second waits for the first's commit and reads it.
A token WeCom refused (`refresh(stale)`) is replaced the same way, unless another coroutine or
instance has already replaced it.

Time is read from one `now()` (seconds since the epoch), so tests move it with the emulator's.
The database is touched only when the token is renewed; the caller must not be holding a
transaction on the same SQLite engine then (the writer lock is not re-entrant), which the
senders never do: they send between transactions.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import WeComSettings
from bot.wecom.client import FetchedToken, WeComClient
from storage.access_tokens import credential_of, keep_token, lock_token
from storage.db import session_scope

logger = logging.getLogger(__name__)

MARGIN = 300.0  # a token this close to its expiry is renewed before use


def _usable_until(expires_at: float, fetched_at: float) -> float:
    # A token handed out late in its life (WeCom answers the same token while it is valid, with
    # the seconds left) would be stale at once and fetched again on every call: keep using it
    # for half of what is left.
    return expires_at - min(MARGIN, (expires_at - fetched_at) / 2)


class AccessTokens:
    """The access_token of one corp and secret (the `TokenSource` of `WeComClient`)."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        corp_id: str,
        secret: str,
        fetch: Callable[[], Awaitable[FetchedToken]],
        now: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.corp_id = corp_id
        self._credential = credential_of(secret)
        self._fetch = fetch
        self.now = now
        self._lock = asyncio.Lock()
        self._token: str | None = None
        self._until = 0.0  # when the token in memory stops being used
        self.fetched = 0  # gettoken calls this instance made

    def _fresh(self) -> str | None:
        return self._token if self._token is not None and self.now() < self._until else None

    async def get(self) -> str:
        """A valid token: from memory, else the database, else WeCom."""
        token = self._fresh()
        if token is not None:
            return token
        async with self._lock:
            return self._fresh() or await self._renew(stale=None)

    async def refresh(self, stale: str) -> str:
        """A token other than `stale`, which WeCom refused (40014 or 42001)."""
        async with self._lock:
            token = self._fresh()
            if token is not None and token != stale:
                return token  # another coroutine has replaced it
            return await self._renew(stale=stale)

    async def _renew(self, *, stale: str | None) -> str:
        async with session_scope(self.engine) as session:
            row = await lock_token(session, corp_id=self.corp_id, credential=self._credential)
            now = self.now()
            if row is not None and row.token != stale:
                until = _usable_until(row.expires_at.timestamp(), row.fetched_at.timestamp())
                if now < until:
                    self._token, self._until = row.token, until
                    return row.token
            fetched = await self._fetch()
            self.fetched += 1
            now = self.now()
            expires_at = now + fetched.expires_in
            await keep_token(
                session,
                corp_id=self.corp_id,
                credential=self._credential,
                token=fetched.access_token,
                expires_at=datetime.fromtimestamp(expires_at, UTC),
                fetched_at=datetime.fromtimestamp(now, UTC),
            )
        logger.info("fetched a WeCom access token, valid %d s", fetched.expires_in)
        self._token, self._until = fetched.access_token, _usable_until(expires_at, now)
        return fetched.access_token


def open_client(
    settings: WeComSettings,
    engine: AsyncEngine,
    *,
    now: Callable[[], float] = time.time,
    transport: httpx.AsyncBaseTransport | None = None,
) -> WeComClient:
    """The WeCom client of these settings, its token shared through `engine`'s database."""
    client = WeComClient(
        settings.api_url,
        agent_id=settings.agent_id,
        open_kfid=settings.open_kfid,
        transport=transport,
    )
    client.tokens = AccessTokens(
        engine,
        corp_id=settings.corp_id,
        secret=settings.secret,
        fetch=lambda: client.gettoken(settings.corp_id, settings.secret),
        now=now,
    )
    return client
