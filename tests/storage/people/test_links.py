"""Linking identities: a one-time code attaches another channel's id, merging its resident."""

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from storage import cases, outbox, people
from storage.cases import categories, drafts
from storage.db import session_scope
from storage.models import Case, Identity, LinkCode, PendingInput, ReportDraft, Resident, RoleGrant
from storage.people import identities, links, profiles, roles
from storage.people.roles import Role
from tests.storage.factories import resident

NOW = people.residents.utcnow()


async def _wecom(session, userid: str = "zhangsan") -> Resident:
    return await people.touch_resident(
        session, channel="wecom", external_id=userid, name="张三", username=None,
        language_code=None, default_language="zh",
    )  # fmt: skip


async def _open(session, reporter: Resident, message_id: int):
    category = await categories.category_by_code(session, "safety")
    case, _ = await cases.open_case(
        session, reporter=reporter, category=category, text="电梯坏了", source="private",
        source_chat_id=1001, source_message_id=message_id,
    )  # fmt: skip
    return case


async def test_a_code_attaches_a_new_identity_and_is_used_once(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        wang = await resident(s, 1001)
        code = await links.link_code(s, resident=wang, now=NOW)
        assert len(code) == 8 and code.isalnum()
        stored = (await s.exec(select(LinkCode))).one()
        assert stored.code_hash != code and stored.expires_at == NOW + timedelta(minutes=15)
        done = await links.link(s, code=code.lower(), channel="wecom", external_id="wm1", now=NOW)
        assert done.resident.id == wang.id and done.merged_id is None
        found = await people.find_resident(s, channel="wecom", external_id="wm1")
        assert found is not None and found.id == wang.id
        assert [(i.channel, i.external_id) for i in await identities.of_resident(
            s, resident_id=wang.id)] == [("telegram", "1001"), ("wecom", "wm1")]  # fmt: skip
        # Notices still go to the first identity.
        assert (await outbox.addresses(s, resident_ids=[wang.id]))[wang.id].channel == "telegram"
        with pytest.raises(links.LinkCodeUsed):
            await links.link(s, code=code, channel="wecom", external_id="wm2", now=NOW)


async def test_expired_unknown_and_replaced_codes_are_refused(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        wang = await resident(s, 1001)
        old = await links.link_code(s, resident=wang, now=NOW)
        with pytest.raises(links.LinkCodeExpired):
            later = NOW + timedelta(minutes=15)
            await links.link(s, code=old, channel="wecom", external_id="wm1", now=later)
        first = await links.link_code(s, resident=wang, now=NOW)
        await links.link_code(s, resident=wang, now=NOW)  # a newer code replaces it
        with pytest.raises(links.LinkCodeUsed):
            await links.link(s, code=first, channel="wecom", external_id="wm1", now=NOW)
        with pytest.raises(links.LinkCodeUnknown):
            await links.link(s, code="ZZZZ2222", channel="wecom", external_id="wm1", now=NOW)
        assert await people.find_resident(s, channel="wecom", external_id="wm1") is None


async def test_linking_an_identity_that_is_someone_merges_them(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        wang = await resident(s, 1001)  # Telegram: the code's resident, who stays
        zhang = await _wecom(s)  # the same person on WeCom, with their own history
        await profiles.set_home(s, resident=zhang, building="5", entrance="2")
        assert wang.id is not None and zhang.id is not None
        mine = await _open(s, wang, 1)
        theirs = await _open(s, zhang, 2)
        await roles.grant(s, resident=zhang, role=Role.INSPECTOR)
        await drafts.start_draft(s, resident=wang, chat_id=1001)
        await drafts.start_draft(s, resident=zhang, chat_id=7)  # dropped: one draft a person
        s.add(PendingInput(resident_id=zhang.id, kind="note", case_id=theirs.id))
        await s.flush()

        code = await links.link_code(s, resident=wang, now=NOW)
        done = await links.link(s, code=code, channel="wecom", external_id="zhangsan", now=NOW)

        assert done.resident.id == wang.id and done.merged_id == zhang.id
        assert done.moved["cases.reporter_id"] == 1
        assert done.moved["identities.resident_id"] == 1
        assert done.moved["role_grants.resident_id"] == 1
        assert done.moved["pending_inputs.resident_id"] == 1
        assert done.moved["case_events.actor_id"] == 1
        assert done.dropped == {"report_drafts": 1}
        assert await s.get(Resident, zhang.id) is None
        for channel, external_id in (("telegram", "1001"), ("wecom", "zhangsan")):
            found = await people.find_resident(s, channel=channel, external_id=external_id)
            assert found is not None and found.id == wang.id
        reported = (await s.exec(select(Case.id).where(Case.reporter_id == wang.id))).all()
        assert sorted(reported) == sorted([mine.id, theirs.id])
        auth = await roles.authority(s, resident=wang, admin_ids=frozenset())
        assert Role.INSPECTOR in auth.roles
        draft = (await s.exec(select(ReportDraft))).one()
        assert (draft.resident_id, draft.chat_id) == (wang.id, 1001)
        pending = (await s.exec(select(PendingInput))).one()
        assert pending.resident_id == wang.id
        assert (wang.building, wang.entrance) == ("5", "2")  # taken where wang had none
        grants = (await s.exec(select(RoleGrant.resident_id))).all()
        assert set(grants) == {wang.id}
        assert {i.resident_id for i in (await s.exec(select(Identity))).all()} == {wang.id}


async def test_linking_ones_own_identity_again_changes_nothing(engine: AsyncEngine) -> None:
    async with session_scope(engine) as s:
        wang = await resident(s, 1001)
        code = await links.link_code(s, resident=wang, now=NOW)
        done = await links.link(s, code=code, channel="telegram", external_id="1001", now=NOW)
        assert done.resident.id == wang.id and done.merged_id is None and done.moved == {}
