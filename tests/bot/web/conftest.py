"""Fixtures for the web app: the app on a fresh database, an HTTP client, an Open311 key."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from bot.config import Settings
from bot.web import build_web_app
from storage.db import session_scope
from storage.open311 import apikeys

BASE = "http://yishi.test/open311/v2"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, timezone="Asia/Shanghai", default_language="zh")


@pytest.fixture
def app(settings: Settings, engine: AsyncEngine) -> Starlette:
    return build_web_app(settings, engine)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        yield http


@pytest.fixture
async def api_key(engine: AsyncEngine) -> str:
    async with session_scope(engine) as session:
        _key, secret = await apikeys.create_key(session, name="district hotline", by="test")
    return secret


def report(**extra: str) -> dict[str, str]:
    """A valid POST form (without the key)."""
    form = {
        "service_code": "property",
        "description": "The lift in building 3 stops between floors.",
        "lat": "31.2304",
        "long": "121.4737",
    }
    form.update(extra)
    return form
