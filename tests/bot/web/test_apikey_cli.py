"""`yishi apikey create|list|revoke`: the key is printed once and only its hash is stored."""

from __future__ import annotations

import asyncio
import hashlib

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli import main
from bot.web import parse_listen
from storage.db import session_scope
from storage.open311 import apikeys
from tests.bot.web.conftest import report


async def _yishi(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, url: str, *args: str
) -> tuple[int, str, str]:
    monkeypatch.setenv("YISHI_DATABASE_URL", url)
    code = await asyncio.to_thread(main, ["--log-level", "WARNING", *args])
    out, err = capsys.readouterr()
    return code, out, err


async def test_create_list_revoke(
    database_url: str,
    engine: AsyncEngine,
    client: httpx.AsyncClient,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out, err = await _yishi(capsys, monkeypatch, database_url, "apikey", "create", "hotline")
    assert code == 0 and "shown only now" in err
    secret = out.strip()
    assert secret.startswith("y311_") and len(secret) > 30
    async with session_scope(engine) as session:
        [key] = await apikeys.all_keys(session)
    assert key.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr(key.model_dump())

    answer = await client.post("/requests.json", data={**report(), "api_key": secret})
    assert answer.status_code == 201

    code, out, _ = await _yishi(capsys, monkeypatch, database_url, "apikey", "list")
    assert code == 0 and "hotline\tactive\tfiled 1" in out and secret not in out
    code, _, err = await _yishi(capsys, monkeypatch, database_url, "apikey", "create", "hotline")
    assert code == 2 and "name_taken" in err

    code, out, _ = await _yishi(capsys, monkeypatch, database_url, "apikey", "revoke", "hotline")
    assert code == 0 and "revoked" in out
    answer = await client.post("/requests.json", data={**report(), "api_key": secret})
    assert answer.status_code == 403
    code, _, err = await _yishi(capsys, monkeypatch, database_url, "apikey", "revoke", str(key.id))
    assert code == 2 and "no active key" in err

    # the name is free again: a new key, a new reporter row
    code, out, _ = await _yishi(capsys, monkeypatch, database_url, "apikey", "create", "hotline")
    assert code == 0 and out.strip() != secret


def test_listen_addresses() -> None:
    assert parse_listen("127.0.0.1:8080") == ("127.0.0.1", 8080)
    assert parse_listen("[::1]:9000") == ("::1", 9000)
    assert parse_listen(":8080") == ("127.0.0.1", 8080)
    for bad in ("8080", "host:", "host:99999", "host:http"):
        with pytest.raises(ValueError):
            parse_listen(bad)
