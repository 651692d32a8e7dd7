"""Proposals: filing, similar ones first, "me too" once, withdrawing one's own."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from storage import cases
from storage.cases import categories
from storage.db import session_scope
from storage.deliberation import proposals
from storage.deliberation.meeting_models import Proposal, Support
from storage.deliberation.proposals import Backing, ProposalNotFound
from storage.errors import CaseNotFound, InvalidInput, NotAllowed, StaleAction
from tests.storage.factories import resident

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


async def _case(session, reporter, text, message_id=1, code="property"):
    category = await categories.category_by_code(session, code)
    case, _ = await cases.open_case(
        session,
        reporter=reporter,
        category=category,
        text=text,
        source="private",
        source_chat_id=reporter.external_id,
        source_message_id=message_id,
    )
    case.created_at = NOW - timedelta(days=3)
    session.add(case)
    return case


async def test_nothing_alike_files_at_once(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        wang = await resident(s, 1)
        started = await proposals.start_proposal(
            s, proposer=wang, text="小区需要增加充电桩", now=NOW
        )
    assert started.similar == [] and started.proposal.status == "open"
    async with session_scope(engine) as s:
        listed = await proposals.open_proposals(s)
    assert [(p.text, n) for p, n in listed] == [("小区需要增加充电桩", 0)]


async def test_alike_proposal_and_case_are_shown_and_the_draft_waits(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        wang, li, zhao = await resident(s, 1), await resident(s, 2), await resident(s, 3)
        await proposals.start_proposal(s, proposer=wang, text="12号楼电梯经常停在半层", now=NOW)
        case = await _case(s, li, "12号楼电梯经常停在半层，请维修 13812345678")
        await _case(s, li, "东门垃圾桶满了", message_id=2, code="environment")
        started = await proposals.start_proposal(
            s, proposer=zhao, text="12号楼的电梯经常停在半层", now=NOW
        )
    assert started.proposal.status == "draft"
    assert {(a.subject, a.subject_id) for a in started.similar} == {
        ("proposal", 1),
        ("case", case.id),
    }
    shown_case = next(a for a in started.similar if a.subject == "case")
    assert "13812345678" not in shown_case.text and "138****5678" in shown_case.text
    async with session_scope(engine) as s:  # the draft is a row: it survives a restart
        listed = await proposals.open_proposals(s)
        draft = await s.get(Proposal, started.proposal.id)
        assert draft is not None and draft.status == "draft"
    assert [p.id for p, _ in listed] == [1]


async def test_file_anyway_and_support_instead(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        wang, zhao = await resident(s, 1), await resident(s, 3)
        first = (
            await proposals.start_proposal(s, proposer=wang, text="电梯经常停在半层", now=NOW)
        ).proposal
        draft = (
            await proposals.start_proposal(s, proposer=zhao, text="电梯经常停在半层了", now=NOW)
        ).proposal
        filed = await proposals.file_draft(s, proposer=zhao, draft_id=draft.id, now=NOW)
        assert filed.status == "open"
        with pytest.raises(StaleAction):  # pressed twice
            await proposals.file_draft(s, proposer=zhao, draft_id=draft.id, now=NOW)
        # a second draft, dropped in favour of supporting the first proposal
        again = (
            await proposals.start_proposal(s, proposer=zhao, text="电梯停在半层", now=NOW)
        ).proposal
        assert again.status == "draft"
        assert (
            await proposals.support(
                s, resident=zhao, subject="proposal", subject_id=first.id, now=NOW
            )
            is Backing.ADDED
        )
        await proposals.drop_draft(s, proposer=zhao)
    async with session_scope(engine) as s:
        assert await s.get(Proposal, again.id) is None
        with pytest.raises(StaleAction):
            await proposals.file_draft(s, proposer=zhao, draft_id=again.id, now=NOW)
        listed = await proposals.open_proposals(s)
    assert [(p.id, n) for p, n in listed] == [(first.id, 1), (filed.id, 0)]


async def test_me_too_once_and_never_on_ones_own(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        wang, li = await resident(s, 1), await resident(s, 2)
        p = (await proposals.start_proposal(s, proposer=wang, text="增加充电桩", now=NOW)).proposal
        case = await _case(s, wang, "路灯坏了好几天")
        back = proposals.support
        assert (
            await back(s, resident=li, subject="proposal", subject_id=p.id, now=NOW)
            is Backing.ADDED
        )
        assert (
            await back(s, resident=li, subject="proposal", subject_id=p.id, now=NOW)
            is Backing.ALREADY
        )
        assert (
            await back(s, resident=wang, subject="proposal", subject_id=p.id, now=NOW)
            is Backing.OWN
        )
        assert (
            await back(s, resident=li, subject="case", subject_id=case.id, now=NOW) is Backing.ADDED
        )
        assert (
            await back(s, resident=li, subject="case", subject_id=case.id, now=NOW)
            is Backing.ALREADY
        )
        assert (
            await back(s, resident=wang, subject="case", subject_id=case.id, now=NOW) is Backing.OWN
        )
        with pytest.raises(ProposalNotFound):
            await back(s, resident=li, subject="proposal", subject_id=999, now=NOW)
        with pytest.raises(CaseNotFound):
            await back(s, resident=li, subject="case", subject_id=999, now=NOW)
        with pytest.raises(StaleAction):
            await back(s, resident=li, subject="meeting", subject_id=1, now=NOW)
        assert await proposals.backers(s, proposal=p) == [wang.id, li.id]
    async with session_scope(engine) as s:
        rows = (await s.exec(select(Support))).all()
    assert sorted((r.subject, r.resident_id) for r in rows) == [
        ("case", li.id),
        ("proposal", li.id),
    ]


async def test_withdraw_own_only(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        wang, li = await resident(s, 1), await resident(s, 2)
        p = (await proposals.start_proposal(s, proposer=wang, text="增加充电桩", now=NOW)).proposal
        with pytest.raises(NotAllowed):
            await proposals.withdraw(s, resident=li, proposal_id=p.id, now=NOW)
        done = await proposals.withdraw(s, resident=wang, proposal_id=p.id, now=NOW)
        assert done.status == "withdrawn" and done.withdrawn_at == NOW
        with pytest.raises(ProposalNotFound):
            await proposals.withdraw(s, resident=wang, proposal_id=p.id, now=NOW)
        with pytest.raises(ProposalNotFound):  # no "me too" on a withdrawn proposal
            await proposals.support(s, resident=li, subject="proposal", subject_id=p.id, now=NOW)
        assert await proposals.open_proposals(s) == []


async def test_from_own_case_only_and_bad_text_refused(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        wang, li = await resident(s, 1), await resident(s, 2)
        case = await _case(s, wang, "地下车库漏水 13812345678")
        with pytest.raises(CaseNotFound):
            await proposals.start_proposal(s, proposer=li, text=None, case_id=case.id, now=NOW)
        started = await proposals.start_proposal(
            s, proposer=wang, text=None, case_id=case.id, now=NOW
        )
        p = started.proposal
        assert (p.status, p.case_id, p.category_id) == ("open", case.id, case.category_id)
        assert p.text == "地下车库漏水 138****5678"  # its own case is not "similar"
        for bad in ("", "   ", "!!", "a" * 2001):
            with pytest.raises(InvalidInput):
                await proposals.start_proposal(s, proposer=li, text=bad, now=NOW)
