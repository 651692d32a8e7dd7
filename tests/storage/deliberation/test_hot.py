"""Hot issues: clusters of open cases and open proposals, scored by the documented formula."""

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from storage import cases
from storage.cases import categories
from storage.db import session_scope
from storage.deliberation import proposals
from storage.deliberation.hot import CATEGORY_WEIGHTS, hot_issues, score
from storage.deliberation.meeting_models import AgendaItem, Meeting, Proposal
from tests.storage.factories import resident

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


async def _case(s, reporter, text, *, n, code="property", days_ago=3, status="new", due=None):
    category = await categories.category_by_code(s, code)
    case, _ = await cases.open_case(
        s,
        reporter=reporter,
        category=category,
        text=text,
        source="private",
        source_chat_id=reporter.external_id,
        source_message_id=n,
    )
    case.created_at = NOW - timedelta(days=days_ago)
    case.status, case.due_at = status, due
    s.add(case)
    await s.flush()
    return case


def test_formula_rewards_residents_freshness_age_deferral_overdue_and_weight() -> None:
    base = dict(weight=1.0, residents=2, last_activity=NOW, first_raised=NOW, deferred=0,
                overdue=False, now=NOW)  # fmt: skip
    plain = score(**base)
    assert plain == 4.0  # 2 residents x (1 + freshness 1), no age
    assert score(**{**base, "residents": 3}) > plain
    assert score(**{**base, "last_activity": NOW - timedelta(days=14)}) == 3.0  # half as fresh
    assert score(**{**base, "first_raised": NOW - timedelta(days=7)}) == 5.0  # log2(2) = 1
    assert score(**{**base, "deferred": 1}) == 6.0
    assert score(**{**base, "overdue": True}) == 7.0
    assert score(**{**base, "weight": CATEGORY_WEIGHTS["safety"]}) == 6.0
    assert CATEGORY_WEIGHTS["safety"] > CATEGORY_WEIGHTS["property"] > CATEGORY_WEIGHTS["other"]


async def test_alike_open_cases_of_one_category_are_one_issue(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        wang, li, zhao = await resident(s, 1), await resident(s, 2), await resident(s, 3)
        a = await _case(s, wang, "12号楼电梯经常停在半层", n=1, days_ago=10)
        b = await _case(s, li, "12号楼电梯又停在半层了", n=2, days_ago=2)
        c = await _case(s, li, "12号楼的电梯经常停在半层", n=3, days_ago=1)
        # alike text but another category: another issue; closed and duplicate cases: none
        await _case(s, zhao, "12号楼电梯经常停在半层", n=4, code="safety", days_ago=1)
        await _case(s, zhao, "12号楼电梯经常停在半层", n=5, status="closed")
        await _case(s, zhao, "12号楼电梯经常停在半层", n=6, status="duplicate")
        await _case(s, zhao, "东门垃圾桶满了没人清理", n=7, code="environment", days_ago=1)
        # "me too" on the cluster's case from zhao: a third distinct resident
        await proposals.support(s, resident=zhao, subject="case", subject_id=b.id, now=NOW)
        hot = await hot_issues(s, now=NOW)
    lift = next(h for h in hot if h.case_ids == [a.id, b.id, c.id])
    assert lift.kind == "cases" and lift.title == "12号楼电梯经常停在半层"
    assert lift.residents == 3 and lift.proposal_id is None
    assert lift.first_raised_at == a.created_at and not lift.overdue and lift.deferred == 0
    assert len(hot) == 3 and all(h.kind == "cases" for h in hot)
    assert hot[0] is lift  # three residents beat one
    assert "Resident" not in " ".join(h.title for h in hot)


async def test_overdue_deferred_and_safety_climb(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        wang, li = await resident(s, 1), await resident(s, 2)
        fresh = await _case(s, wang, "小区南门的路灯不亮", n=1, days_ago=1)
        late = await _case(
            s, li, "地下车库入口积水严重", n=2, days_ago=1, due=NOW - timedelta(hours=1)
        )
        meeting = Meeting(period="2026-10", starts_at=NOW - timedelta(days=25))
        s.add(meeting)
        await s.flush()
        put_off = await _case(s, li, "健身器材螺丝松动", n=3, code="facilities", days_ago=1)
        for _ in range(2):
            s.add(AgendaItem(meeting_id=meeting.id, kind="cases", title="x",
                             case_ids=[put_off.id], outcome="deferred"))  # fmt: skip
        s.add(AgendaItem(meeting_id=meeting.id, kind="cases", title="y", case_ids=[fresh.id],
                         outcome="decided"))  # fmt: skip
        hazard = await _case(s, wang, "消防通道被电动车堵住", n=4, code="safety", days_ago=1)
        hot = await hot_issues(s, now=NOW)
    by_case = {h.case_ids[0]: h for h in hot}
    assert by_case[late.id].overdue and not by_case[fresh.id].overdue
    assert by_case[put_off.id].deferred == 2 and by_case[fresh.id].deferred == 0
    order = [h.case_ids[0] for h in hot]
    assert set(order[:2]) == {put_off.id, late.id}  # overdue, deferred twice: the top
    assert order[2:] == [hazard.id, fresh.id]  # a safety hazard outweighs a street light


async def test_proposals_with_supporters_and_their_case_cluster(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        wang, li, zhao, alice = (await resident(s, 1), await resident(s, 2),
                                 await resident(s, 3), await resident(s, 4))  # fmt: skip
        lift = await _case(s, wang, "12号楼电梯经常停在半层", n=1, days_ago=20)
        await _case(s, li, "12号楼电梯又停在半层了", n=2, days_ago=5)
        from_case = (await proposals.start_proposal(
            s, proposer=wang, text=None, case_id=lift.id, now=NOW - timedelta(days=2)
        )).proposal  # fmt: skip
        assert from_case.status == "draft"  # li's case is alike: filed anyway
        await proposals.file_draft(
            s, proposer=wang, draft_id=from_case.id, now=NOW - timedelta(days=2)
        )
        charging = (await proposals.start_proposal(
            s, proposer=zhao, text="小区需要增加电动车充电桩", now=NOW - timedelta(days=1)
        )).proposal  # fmt: skip
        for who in (li, alice):
            await proposals.support(s, resident=who, subject="proposal",
                                    subject_id=charging.id, now=NOW)  # fmt: skip
        gone = (await proposals.start_proposal(s, proposer=alice, text="篮球场需要翻新",
                                               now=NOW)).proposal  # fmt: skip
        await proposals.withdraw(s, resident=alice, proposal_id=gone.id, now=NOW)
        old = Proposal(proposer_id=li.id, text="老提案", status="decided", created_at=NOW)
        s.add(old)
        await s.flush()
        hot = await hot_issues(s, now=NOW)
        top_one = await hot_issues(s, now=NOW, limit=1)
    assert {h.proposal_id for h in hot} == {from_case.id, charging.id}  # the cluster folded in
    merged = next(h for h in hot if h.proposal_id == from_case.id)
    assert merged.kind == "proposal" and len(merged.case_ids) == 2 and merged.residents == 2
    assert merged.first_raised_at == lift.created_at and merged.category_id == lift.category_id
    backed = next(h for h in hot if h.proposal_id == charging.id)
    assert backed.residents == 3 and backed.case_ids == [] and backed.title == charging.text
    assert len(top_one) == 1 and top_one[0] == hot[0]


async def test_nothing_open_is_an_empty_list(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        assert await hot_issues(s, now=NOW) == []


async def test_older_cases_pruned_in_sql_rank_as_if_all_were_read(
    engine: AsyncEngine, monkeypatch
) -> None:
    """Only the newest CLUSTERED open cases are read in full; the older ones are pruned in SQL
    to those that can still make the list. With distinct texts, the ranking must not change."""
    import storage.deliberation.hot as hot_module

    texts = ["路灯不亮", "井盖松动", "水管爆裂", "油烟太大", "门禁坏了", "楼道堆物",
             "外墙脱落", "噪音扰民", "积水很深", "电梯困人", "宠物粪便", "车位被占"]  # fmt: skip
    codes = ["property", "safety", "environment", "other"]
    async with session_scope(engine) as s:
        people_ = [await resident(s, i) for i in range(1, 6)]
        made = []
        for n, text in enumerate(texts):
            due = NOW - timedelta(days=1) if n % 3 == 0 else None
            made.append(await _case(s, people_[n % 5], text, n=n + 1, code=codes[n % 4],
                                    days_ago=40 - 3 * n, due=due))  # fmt: skip
        await proposals.support(s, resident=people_[4], subject="case", subject_id=made[2].id,
                                now=NOW)  # fmt: skip
        meeting = Meeting(period="2026-10", starts_at=NOW - timedelta(days=25))
        s.add(meeting)
        await s.flush()
        s.add(AgendaItem(meeting_id=meeting.id, kind="cases", title="x",
                         case_ids=[made[5].id], outcome="deferred"))  # fmt: skip
        await s.flush()
        everything = await hot_issues(s, now=NOW, limit=4)
        monkeypatch.setattr(hot_module, "CLUSTERED", 2)
        pruned = await hot_issues(s, now=NOW, limit=4)
        monkeypatch.setattr(hot_module, "CLUSTERED", 1)
        fewer = await hot_issues(s, now=NOW, limit=4)
    assert pruned == everything and fewer == everything
    assert {made[2].id, made[5].id} <= {i.case_ids[0] for i in everything}
