"""Case-status digests: counts per category for a group's buildings, and notable resolutions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import session_scope
from storage.deliberation.digests import Digest, compile_digest, digest_params, excerpt
from storage.deliberation.meeting_models import Support
from storage.models import Case, Category, Resident
from tests.storage.factories import resident

START = datetime(2026, 11, 15, 16, tzinfo=UTC)  # Monday 16 November, 00:00 in Beijing
END = START + timedelta(days=7)
NOW = END + timedelta(hours=9)
_messages = count(1)


async def category(session: AsyncSession, code: str) -> Category:
    found = (await session.exec(select(Category).where(Category.code == code))).one()
    return found


async def add_case(
    session: AsyncSession,
    reporter: Resident,
    code: str,
    *,
    building: str | None = "3",
    filed: datetime = START + timedelta(days=1),
    status: str = "new",
    resolved: datetime | None = None,
    due: datetime | None = None,
    anonymous: bool = False,
    source: str = "private",
    text: str = "楼道的灯坏了",
) -> Case:
    assert reporter.id is not None
    case = Case(
        category_id=(await category(session, code)).id,
        text=text,
        building=building,
        reporter_id=reporter.id,
        anonymous=anonymous,
        source=source,
        source_chat_id=reporter.external_id,
        source_message_id=next(_messages),
        status=status,
        created_at=filed,
        updated_at=filed,
        resolved_at=resolved,
        due_at=due,
    )
    session.add(case)
    await session.flush()
    return case


async def support(session: AsyncSession, case: Case, people: list[Resident]) -> None:
    for person in people:
        assert case.id is not None and person.id is not None
        session.add(Support(subject="case", subject_id=case.id, resident_id=person.id))
    await session.flush()


def by_code(digest: Digest) -> dict[str, tuple[int, int, int]]:
    return {line.code: (line.new, line.handled, line.overdue) for line in digest.categories}


async def test_counts_new_handled_and_overdue_by_category_for_the_buildings(
    engine: AsyncEngine,
) -> None:
    inside = START + timedelta(days=2)
    async with session_scope(engine) as s:
        wang = await resident(s, 1001)
        await add_case(s, wang, "property")  # new this week
        await add_case(s, wang, "property", status="duplicate")  # counted under its original
        await add_case(s, wang, "property", building="5")  # another building
        await add_case(s, wang, "property", building=None)  # no building known
        await add_case(s, wang, "property", filed=START - timedelta(seconds=1))  # last week
        await add_case(s, wang, "property", filed=END)  # next week: END is exclusive
        early = START - timedelta(days=20)
        # handled this week, filed long before; and one resolved then reopened (not handled)
        await add_case(s, wang, "environment", filed=early, status="closed", resolved=inside)
        await add_case(s, wang, "environment", filed=early, status="reopened", resolved=inside)
        await add_case(s, wang, "environment", filed=early, status="resolved", resolved=END)
        # overdue now, whenever filed; a resolved case past its due time is not overdue
        await add_case(s, wang, "safety", filed=early, status="accepted", due=NOW - timedelta(1))
        await add_case(s, wang, "safety", filed=early, status="in_progress", due=NOW + timedelta(1))
        await add_case(s, wang, "safety", filed=early, status="closed", due=NOW - timedelta(1))
    async with session_scope(engine) as s:
        three = await compile_digest(s, buildings=["3"], start=START, end=END, now=NOW)
        everywhere = await compile_digest(s, buildings=None, start=START, end=END, now=NOW)
        also_everywhere = await compile_digest(s, buildings=[], start=START, end=END, now=NOW)
        three_five = await compile_digest(s, buildings=["3", "5"], start=START, end=END, now=NOW)
    assert by_code(three) == {
        "safety": (0, 0, 1),
        "property": (1, 0, 0),
        "environment": (0, 1, 0),
    }
    assert [line.code for line in three.categories] == ["safety", "property", "environment"]
    assert (three.new, three.handled, three.overdue) == (1, 1, 1)
    assert by_code(everywhere)["property"] == (3, 0, 0)
    assert by_code(also_everywhere) == by_code(everywhere) and also_everywhere.buildings is None
    assert by_code(three_five)["property"] == (2, 0, 0) and three_five.buildings == ["3", "5"]
    line = three.categories[1]
    assert (line.name_zh, line.name_en) == ("物业服务", "Property service")


async def test_notable_resolutions_never_name_anyone_nor_quote_private_words(
    engine: AsyncEngine,
) -> None:
    inside = START + timedelta(days=3)
    async with session_scope(engine) as s:
        wang = await resident(s, 1001)
        people = [await resident(s, 2000 + n) for n in range(5)]
        lift = await add_case(
            s,
            wang,
            "facilities",
            filed=START - timedelta(days=40),
            status="closed",
            resolved=inside,
            source="group",
            text="12号楼电梯经常停在半层，老人出行困难，请尽快维修，"
            "电话 138 1234 5678，谢谢物业的师傅们",
        )
        anonymous = await add_case(
            s, wang, "environment", status="resolved", resolved=inside, anonymous=True,
            text="东门垃圾桶满了没人清理",
        )  # fmt: skip
        quick = await add_case(
            s,
            wang,
            "property",
            status="resolved",
            resolved=inside,
            text="私信：502室的邻居每晚吵闹",
        )
        hazard = await add_case(
            s, wang, "safety", status="closed", resolved=inside, source="inspection",
            text="消防通道被电动车堵住",
        )  # fmt: skip
        other_building = await add_case(s, wang, "property", building="9", status="resolved",
                                        resolved=inside)  # fmt: skip
        await support(s, anonymous, people[:4])
        await support(s, quick, people[:1])
        await support(s, other_building, people)
    async with session_scope(engine) as s:
        digest = await compile_digest(s, buildings=["3"], start=START, end=END, now=NOW)
    reasons = [(n.reason, n.case_id, n.supporters) for n in digest.notable]
    assert reasons == [
        ("supported", None, 4),  # the anonymous case, by category only
        ("supported", quick.id, 1),
        ("long_open", lift.id, 0),
        ("hazard", hazard.id, 0),
    ]
    assert digest.hazards_rectified == 1
    hidden = digest.notable[0]
    assert hidden.excerpt is None and hidden.code == "environment"
    assert digest.notable[2].days_open == 43
    lift_excerpt = digest.notable[2].excerpt
    assert lift_excerpt is not None and len(lift_excerpt) <= 40 and lift_excerpt.endswith("…")
    params = str(digest_params(digest))
    assert "东门垃圾桶" not in params
    # A private report's words stay private; a group's or an inspector's are quoted.
    assert digest.notable[1].excerpt is None and "502" not in params
    assert digest.notable[3].excerpt == "消防通道被电动车堵住"
    assert "Resident 1001" not in params and "1234 5678" not in params
    assert other_building.id not in [n.case_id for n in digest.notable]


def test_excerpts_are_one_short_line_with_phone_numbers_masked() -> None:
    assert excerpt("电话 13812345678\n请联系") == "电话 138****5678 请联系"
    assert excerpt("x" * 50) == "x" * 39 + "…"
    long_number = "a" * 30 + " 13812345678"
    assert "1234" not in excerpt(long_number)


async def test_a_quiet_period_has_nothing_to_say(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        digest = await compile_digest(s, buildings=["3"], start=START, end=END, now=NOW)
    assert digest.categories == [] and digest.notable == [] and digest.hazards_rectified == 0
    assert digest_params(digest)["start"] == START.isoformat()
