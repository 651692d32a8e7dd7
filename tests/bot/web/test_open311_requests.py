"""Filing through Open311 enters the same workflow; reading serves nothing personal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from storage.cases import Status, change_status, get_case, open_case, routing
from storage.cases.categories import category_by_code
from storage.cases.workflow import record_event
from storage.db import session_scope
from storage.models import Case, CaseEvent, OutboxMessage, Resident, Unit
from storage.people.roles import Role, grant
from tests.bot.web.conftest import report
from tests.storage.factories import resident


async def _file(client: httpx.AsyncClient, key: str, **extra: str) -> int:
    answer = await client.post("/requests.json", data={**report(**extra), "api_key": key})
    assert answer.status_code == 201, answer.text
    return int(answer.json()[0]["service_request_id"])


async def test_a_filed_request_is_routed_and_announced_like_any_case(
    client: httpx.AsyncClient, engine: AsyncEngine, api_key: str
) -> None:
    async with session_scope(engine) as session:
        route = await routing.route_for(
            session, category_id=(await category_by_code(session, "property")).id or 0
        )
        assert route is not None
        staff = await resident(session, external_id=2001)
        await grant(session, resident=staff, role=Role.STAFF, unit_id=route.unit.id)

    number = await _file(
        client,
        api_key,
        **{"attribute[building]": "3", "attribute[anonymous]": "true", "phone": "13812345678"},
    )
    async with session_scope(engine) as session:
        case = await get_case(session, number=number)
        reporter = await session.get(Resident, case.reporter_id)
        notices = (await session.exec(select(OutboxMessage))).all()
    assert case.source == "open311" and case.status == Status.NEW
    assert reporter is not None and reporter.channel == "open311"
    assert reporter.name == "district hotline"
    assert case.unit_id == route.unit.id and case.due_at is not None
    assert case.building == "3" and case.anonymous
    assert case.latitude == 31.2304 and case.longitude == 121.4737
    assert [(int(n.address), n.kind) for n in notices] == [(2001, "assigned")]

    answer = await client.get(f"/requests/{number}.json")
    [served] = answer.json()
    assert served["agency_responsible"] == route.unit.name_zh
    assert served["requested_datetime"].endswith("+08:00")
    assert "13812345678" not in answer.text and "district hotline" not in answer.text


async def test_each_post_files_a_new_case_numbered_per_key(
    client: httpx.AsyncClient, engine: AsyncEngine, api_key: str
) -> None:
    first = await _file(client, api_key)
    second = await _file(client, api_key)
    async with session_scope(engine) as session:
        cases = [await get_case(session, number=n) for n in (first, second)]
    assert first != second
    assert [c.source_message_id for c in cases] == [1, 2]


async def test_the_mapping_public_events_only_and_nothing_personal(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    async with session_scope(engine) as session:
        person = await resident(session, external_id=3001)
        person.name, person.phone = "王秀英", "13900001111"
        category = await category_by_code(session, "environment")
        case, _ = await open_case(
            session,
            reporter=person,
            category=category,
            text="垃圾桶满了，电话 139 0000 1111",
            source="private",
            source_chat_id=3001,
            source_message_id=1,
            address="5号楼东侧",
            anonymous=True,
            today=datetime.now(UTC).date(),
        )
        await change_status(session, case=case, to=Status.ACCEPTED, actor=None)
        public_at = datetime.now(UTC) - timedelta(seconds=1)
        await session.flush()
        await record_event(
            session, case=case, actor=None, kind="note", note="内部：住户很难缠", public=False
        )
        events = (await session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id))).all()
        unit = await session.get(Unit, case.unit_id)
        last_public = max(e.at for e in events if e.public)
        assert max(e.at for e in events) > last_public >= public_at
    answer = await client.get(f"/requests/{case.id}.json?lang=en")
    [served] = answer.json()
    assert served["status"] == "open" and served["status_notes"] == "accepted"
    assert served["service_name"] == "Environment and sanitation"
    assert unit is not None and served["agency_responsible"] == unit.name_en
    local = last_public.astimezone(ZoneInfo("Asia/Shanghai"))
    assert served["updated_datetime"] == local.isoformat(timespec="seconds")
    assert served["expected_datetime"] is not None
    text = answer.text
    for secret in ("王秀英", "13900001111", "0000 1111", "内部", "难缠"):
        assert secret not in text
    assert "139****1111" in served["description"]

    async with session_scope(engine) as session:
        stored = await get_case(session, number=case.id or 0)
        await change_status(session, case=stored, to=Status.RESOLVED, actor=None)
    [served] = (await client.get(f"/requests/{case.id}.json")).json()
    assert served["status"] == "closed" and served["status_notes"] == "resolved"


async def test_filters_window_and_pages(
    client: httpx.AsyncClient, engine: AsyncEngine, api_key: str
) -> None:
    numbers = [await _file(client, api_key) for _ in range(5)]
    numbers.append(await _file(client, api_key, service_code="safety"))
    async with session_scope(engine) as session:
        old = await get_case(session, number=numbers[0])
        old.created_at = datetime.now(UTC) - timedelta(days=120)  # outside the default window
        session.add(old)
        closed = await get_case(session, number=numbers[1])
        await change_status(session, case=closed, to=Status.REJECTED, actor=None)

    async def ids(query: str) -> list[int]:
        answer = await client.get(f"/requests.json?{query}")
        assert answer.status_code == 200, answer.text
        return [int(r["service_request_id"]) for r in answer.json()]

    newest_first = list(reversed(numbers[1:]))
    assert await ids("") == newest_first
    assert await ids("page_size=2") == newest_first[:2]
    assert await ids("page_size=2&page=3") == newest_first[4:]
    assert await ids("page_size=2&page=9") == []
    assert await ids("service_code=safety") == [numbers[5]]
    assert await ids("service_code=safety,property") == newest_first
    assert await ids("service_code=no_such_code") == []
    assert await ids("status=closed") == [numbers[1]]
    assert await ids("status=open") == newest_first[:-1]
    assert await ids("status=open,closed") == newest_first
    # service_request_id overrides every other filter, the window included
    assert await ids(f"service_request_id={numbers[0]},{numbers[5]}&status=closed") == [
        numbers[5],
        numbers[0],
    ]
    start = (datetime.now(UTC) - timedelta(days=130)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert await ids(f"start_date={start}") == [numbers[0]]
    end = (datetime.now(UTC) - timedelta(days=100)).isoformat()
    assert await ids(f"start_date={start}&end_date={end}") == [numbers[0]]


async def test_no_case_count_needed_for_a_page(engine: AsyncEngine) -> None:
    """Pages are offset/limit on filing time: nothing counts all cases (see bench/open311.py)."""
    from storage.open311 import Query, find_requests

    now = datetime.now(UTC)
    async with session_scope(engine) as session:
        assert await find_requests(session, Query(start=now - timedelta(days=90), end=now)) == []
        assert (await session.exec(select(Case))).all() == []
