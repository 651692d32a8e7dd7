"""Without a valid key nothing is filed; floods, huge and malformed bodies are refused cleanly."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from bot.open311.inputs import BODY_MAX
from storage.db import session_scope
from storage.models import Case, CaseEvent, OutboxMessage
from storage.open311 import apikeys
from tests.bot.web.conftest import report
from tests.bot.web.spec import check_response


async def _counts(engine: AsyncEngine) -> tuple[int, int, int]:
    async with session_scope(engine) as session:
        counts = []
        for table in (Case, CaseEvent, OutboxMessage):
            counts.append(int((await session.exec(select(func.count()).select_from(table))).one()))
    return counts[0], counts[1], counts[2]


@pytest.mark.parametrize("key", [None, "", "y311_wrong", "x" * 5000, "y311_' OR 1=1 --"])
async def test_a_request_without_a_valid_key_files_nothing(
    client: httpx.AsyncClient, engine: AsyncEngine, api_key: str, key: str | None
) -> None:
    form = report() if key is None else {**report(), "api_key": key}
    answer = await client.post("/requests.json", data=form)
    assert answer.status_code == 403
    check_response(answer.content, "json", item_kind="error")
    assert await _counts(engine) == (0, 0, 0)


async def test_a_revoked_key_files_nothing(
    client: httpx.AsyncClient, engine: AsyncEngine, api_key: str
) -> None:
    async with session_scope(engine) as session:
        await apikeys.revoke_key(session, name_or_id="district hotline")
    answer = await client.post("/requests.xml", data={**report(), "api_key": api_key})
    assert answer.status_code == 403
    check_response(answer.content, "xml")
    assert await _counts(engine) == (0, 0, 0)


async def test_a_flood_of_a_thousand_bad_posts_leaves_the_case_count_unchanged(
    client: httpx.AsyncClient, engine: AsyncEngine, api_key: str
) -> None:
    answer = await client.post("/requests.json", data={**report(), "api_key": api_key})
    assert answer.status_code == 201
    before = await _counts(engine)
    bad_forms = [
        {**report(), "api_key": "y311_guess"},  # a wrong key
        report(),  # no key
        {**report(service_code=""), "api_key": api_key},
        {**report(lat="91", long="0"), "api_key": api_key},
        {**report(lat="nan", long="nan"), "api_key": api_key},
        {**report(description=""), "api_key": api_key},
        {"service_code": "property", "description": "no place given", "api_key": api_key},
        {**report(service_code="no_such"), "api_key": api_key},
    ]
    statuses = set()
    for n in range(1000):
        answer = await client.post("/requests.json", data=bad_forms[n % len(bad_forms)])
        statuses.add(answer.status_code)
    assert statuses == {400, 403, 404}
    assert await _counts(engine) == before
    async with session_scope(engine) as session:
        [key] = await apikeys.all_keys(session)
    assert key.requests_filed == 1  # refused posts took no number


async def test_a_five_megabyte_body_is_refused_before_it_is_read(
    client: httpx.AsyncClient, engine: AsyncEngine, api_key: str
) -> None:
    big = {**report(description="x" * 5_000_000), "api_key": api_key}
    answer = await client.post("/requests.json", data=big)
    assert answer.status_code == 413
    check_response(answer.content, "json", item_kind="error")

    sent = 0

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while reading
        nonlocal sent
        yield f"api_key={api_key}&service_code=property&description=".encode()
        for _ in range(5 * 16):
            sent += 65536
            yield b"x" * 65536

    headers = {"content-type": "application/x-www-form-urlencoded"}
    answer = await client.post("/requests.xml", content=chunks(), headers=headers)
    assert answer.status_code == 413
    check_response(answer.content, "xml")
    assert sent <= 2 * BODY_MAX + 65536  # stopped soon after the limit, not at 5 MB
    assert await _counts(engine) == (0, 0, 0)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/xml", b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><r>&a;</r>'),
        ("application/xml", b"<service_request><service_code>property</service_code>"),
        ("application/json", b'{"service_code": "property"}'),
        ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data\r\n"),
        ("application/x-www-form-urlencoded", b"service_code=property&description=\xff\xfe"),
        ("application/x-www-form-urlencoded", b"service_code=a&service_code=b"),
        ("application/x-www-form-urlencoded", b"<request><api_key>1</api_key></request>"),
        ("application/x-www-form-urlencoded", b"description=%00%01&service_code=property"),
        ("", b"service_code=property"),
    ],
)
async def test_malformed_input_is_refused_cleanly(
    client: httpx.AsyncClient, engine: AsyncEngine, api_key: str, content_type: str, body: bytes
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    answer = await client.post(f"/requests.json?api_key={api_key}", content=body, headers=headers)
    assert answer.status_code in (400, 403)
    [error] = check_response(answer.content, "json", item_kind="error")
    assert "Traceback" not in error["description"]
    assert await _counts(engine) == (0, 0, 0)
