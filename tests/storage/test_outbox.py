"""The outbox's storage side: claiming heads of chat queues, leases, outcomes, the backlog."""

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import outbox, people
from storage.db import create_engine, session_scope
from storage.models import Group, OutboxMessage, Resident, utcnow
from storage.outbox import Status
from tests.storage.factories import resident

LEASE = timedelta(seconds=60)


async def _queue(engine: AsyncEngine, *plan: tuple[int, str]) -> None:
    """Queue ("text") notices in this order: (chat id, text); negative ids are groups."""
    async with session_scope(engine) as s:
        for chat, text in plan:
            # a group needs no row (its address is its own); a person is found by identity
            to = Group(external_id=chat) if chat < 0 else await resident(s, chat)
            await outbox.enqueue(s, to=to, kind="text", params={"text": text}, dedup_key=text)


async def _person(session: AsyncSession, channel: str, external_id: str) -> Resident:
    return await people.touch_resident(
        session, channel=channel, external_id=external_id, name="someone", username=None,
        language_code=None, default_language="zh",
    )  # fmt: skip


async def _claim(engine: AsyncEngine, **kw) -> list[str]:
    kw = {"now": utcnow(), "limit": 100, "lease": LEASE, **kw}
    async with session_scope(engine) as s:
        return [m.params["text"] for m in await outbox.claim_due(s, **kw)]


async def _row(engine: AsyncEngine, text: str) -> OutboxMessage:
    async with session_scope(engine) as s:
        return (await s.exec(select(OutboxMessage).where(OutboxMessage.dedup_key == text))).one()


async def _id(engine: AsyncEngine, text: str) -> int:
    message_id = (await _row(engine, text)).id
    assert message_id is not None
    return message_id


async def test_claim_takes_only_the_head_of_each_chat_oldest_first(engine: AsyncEngine) -> None:
    await _queue(engine, (1, "a1"), (-5, "g1"), (2, "b1"), (1, "a2"), (2, "b2"))
    assert await _claim(engine) == ["a1", "g1", "b1"]
    assert await _claim(engine) == []  # heads leased: nothing behind them may overtake
    a1 = await _row(engine, "a1")
    assert a1.id is not None and a1.leased_until is not None and a1.leased_until > utcnow()
    async with session_scope(engine) as s:
        await outbox.mark_sent(s, message_id=a1.id, sent_message_id=77)
    assert await _claim(engine) == ["a2"]
    sent = await _row(engine, "a1")
    assert (sent.status, sent.sent_message_id, sent.leased_until) == (Status.SENT, 77, None)


async def test_claim_honours_due_time_lease_skip_list_and_channel(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        await outbox.enqueue(
            s,
            to=await resident(s, 3),
            kind="text",
            params={"text": "later"},
            dedup_key="later",
            not_before=utcnow() + timedelta(seconds=30),
        )
        wecom = await _person(s, "wecom", "zhangsan")
        await outbox.enqueue(s, to=wecom, kind="text", params={"text": "w"}, dedup_key="w")
    await _queue(engine, (1, "a1"), (2, "b1"))
    assert await _claim(engine, skip_chats=["2"], limit=1) == ["a1"]
    assert await _claim(engine) == ["b1"]
    after_lease = utcnow() + LEASE + timedelta(seconds=1)
    assert await _claim(engine, now=after_lease) == ["later", "a1", "b1"]
    assert await _claim(engine, channel="wecom") == ["w"]


async def test_release_gives_back_unattempted_notices(engine: AsyncEngine) -> None:
    await _queue(engine, (1, "a1"), (2, "b1"))
    assert await _claim(engine) == ["a1", "b1"]
    b1 = await _id(engine, "b1")
    async with session_scope(engine) as s:
        await outbox.release(s, message_ids=[b1])
    assert await _claim(engine) == ["b1"]


async def test_retry_counts_attempts_and_gives_up_at_the_limit(engine: AsyncEngine) -> None:
    await _queue(engine, (1, "a1"), (1, "a2"))
    a1 = await _id(engine, "a1")
    soon = utcnow() + timedelta(seconds=30)
    async with session_scope(engine) as s:
        status = await outbox.mark_retry(
            s, message_id=a1, next_attempt_at=soon, error="429", counts=False
        )
    assert status == Status.PENDING and (await _row(engine, "a1")).attempts == 0
    assert await _claim(engine) == []  # the head waits, and a2 waits behind it
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        async with session_scope(engine) as s:
            status = await outbox.mark_retry(s, message_id=a1, next_attempt_at=soon, error="5xx")
        assert status == (Status.FAILED if attempt == outbox.MAX_ATTEMPTS else Status.PENDING)
    failed = await _row(engine, "a1")
    assert (failed.attempts, failed.last_error) == (outbox.MAX_ATTEMPTS, "5xx")
    assert await _claim(engine) == ["a2"]


async def test_unreachable_closes_every_pending_notice_to_that_person(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        await resident(s, 1)
    await _queue(engine, (1, "a1"), (1, "a2"), (1, "a3"), (2, "b1"))
    a1 = await _id(engine, "a1")
    async with session_scope(engine) as s:
        closed = await outbox.mark_unreachable(s, message_id=a1, error="Forbidden: blocked")
        counts = await outbox.backlog(s)
        person = (await s.exec(select(Resident).where(Resident.external_id == 1))).one()
    assert closed == 3 and person.unreachable_at is not None
    assert counts == {Status.PENDING: 1, Status.SENT: 0, Status.FAILED: 0, Status.UNREACHABLE: 3}
    # Queued after the block became known: closed at claim time, never sent.
    await _queue(engine, (1, "a4"))
    async with session_scope(engine) as s:
        claimed = await outbox.claim_due(s, now=utcnow(), limit=10, lease=LEASE)
        due = await outbox.skip_unreachable(s, messages=claimed)
    assert [m.params["text"] for m in due] == ["b1"]
    assert (await _row(engine, "a4")).status == Status.UNREACHABLE


async def test_failed_notice_stops_and_the_next_one_goes(engine: AsyncEngine) -> None:
    await _queue(engine, (1, "a1"), (1, "a2"))
    a1 = await _id(engine, "a1")
    async with session_scope(engine) as s:
        await outbox.mark_failed(s, message_id=a1, error="Bad Request: chat not found" * 20)
    failed = await _row(engine, "a1")
    assert failed.status == Status.FAILED and len(failed.last_error or "") == 300
    assert await _claim(engine) == ["a2"]


async def test_concurrent_claims_skip_each_others_rows(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("FOR UPDATE SKIP LOCKED is PostgreSQL's; SQLite serialises writers")
    first, second = create_engine(database_url), create_engine(database_url)
    try:
        await _queue(first, *((chat, f"n{chat}") for chat in range(1, 11)))
        async with session_scope(first) as one:
            mine = await outbox.claim_due(one, now=utcnow(), limit=4, lease=LEASE)
            # `one` has not committed its leases yet: its rows are locked, not yet leased.
            async with session_scope(second) as two:
                theirs = await outbox.claim_due(two, now=utcnow(), limit=100, lease=LEASE)
        assert len(mine) == 4 and len(theirs) == 6
        assert not {m.id for m in mine} & {m.id for m in theirs}
    finally:
        await first.dispose()
        await second.dispose()


async def test_nothing_is_queued_for_a_channel_no_sender_serves(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        hotline = await _person(s, "open311", "1")
        queued = await outbox.enqueue(
            s, to=hotline, kind="text", params={"text": "resolved"}, dedup_key="hotline"
        )
        rows = (await s.exec(select(OutboxMessage))).all()
    assert queued is False and rows == []


async def test_enqueue_each_keys_people_and_groups_apart_and_counts_new_rows(
    engine: AsyncEngine,
) -> None:
    async with session_scope(engine) as s:
        person = await resident(s, 7)
        group = Group(external_id=-100)
        s.add(group)
        await s.flush()
        same_id = person.id == group.id
        first = await outbox.enqueue_each(
            s, to=[person, group], kind="text", params={"text": "x"}, key="2026-11"
        )
        again = await outbox.enqueue_each(
            s, to=[person, group], kind="text", params={"text": "x"}, key="2026-11"
        )
        keys = sorted((await s.exec(select(OutboxMessage.dedup_key))).all())
    assert same_id and (first, again) == (2, 0)
    assert keys == [f"text:2026-11:{person.id}", f"text:2026-11:g{group.id}"]


async def test_a_reply_is_left_to_its_handler_until_its_lease_runs_out(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        to = await resident(s, 1)
        params = {"text": "filed"}
        row = await outbox.enqueue_reply(
            s, to=to, kind="text", params=params, dedup_key="filed", lang="zh", lease=LEASE
        )
        again = await outbox.enqueue_reply(
            s, to=to, kind="text", params=params, dedup_key="filed", lang="zh", lease=LEASE
        )
    assert row is not None and row.leased_until is not None and again is None
    await _queue(engine, (1, "after"))
    assert await _claim(engine) == []  # the reply is leased, and the chat's next waits for it
    assert await _claim(engine, now=utcnow() + LEASE + timedelta(seconds=1)) == ["filed"]
