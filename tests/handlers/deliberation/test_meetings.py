"""Meeting commands and buttons: secretaries only, checked on the server every time; one vote
per resident and item; bad input gets a polite answer. Alice (English) is the secretary."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from bot.telegram.emulator import Emulator
from storage import people
from storage.db import session_scope
from storage.deliberation.meeting_models import AgendaItem, AgendaVote, Decision, Meeting
from storage.models import utcnow
from tests.harness import ALICE, GROUP, LI, WANG, BotUnderTest, texts

SECRETARY = ALICE
ONLY = "Only the community office's secretaries"


@pytest.fixture
async def bot(emu: Emulator, database_url: str) -> AsyncIterator[BotUnderTest]:
    under_test = BotUnderTest(emu, database_url, admins=frozenset({SECRETARY}))
    await under_test.start()
    for user in (WANG, LI, ALICE):
        await under_test.say(user, "/start")
    await under_test.say(WANG, "/lang en")
    async with session_scope(under_test.engine) as s:
        group = await people.touch_group(s, channel="telegram", external_id=GROUP, title="阳光花园")
        group.registered_at = utcnow()
        s.add(group)
    yield under_test
    await under_test.stop()


async def _one(bot: BotUnderTest, user: int, text: str) -> str:
    return texts(await bot.say(user, text))[0]


async def _state(bot: BotUnderTest) -> tuple[str, list[str], int]:
    async with session_scope(bot.engine) as s:
        meeting = (await s.exec(select(Meeting))).one()
        items = (await s.exec(select(AgendaItem).where(AgendaItem.meeting_id == meeting.id))).all()
        decided = len((await s.exec(select(Decision))).all())
    return meeting.status, sorted(i.title for i in items if not i.dropped), decided


async def test_a_resident_cannot_edit_approve_run_or_record(bot: BotUnderTest) -> None:
    await bot.say(SECRETARY, "/agenda add 门禁维修")
    before = await _state(bot)
    for command in (
        "/agenda add 我的话题",
        "/agenda drop 1",
        "/agenda move 1 1",
        "/agenda approve",
        "/meeting start",
        "/meeting next",
        "/meeting end",
        "/decide 修门禁 / property / 30",
    ):
        assert ONLY in await _one(bot, WANG, command), command
    for data in ("m1:ok:1", "m1:ed:1", "m1:go:1", "m1:end:1", "m1:nx:1", "m1:def:1"):
        await bot.press(WANG, data=data, forged=True)
        assert ONLY in bot.answers()[-1], data
    assert await _state(bot) == before == ("planned", ["门禁维修"], 0)
    # the secretary may do all of it
    edit = texts(await bot.press(SECRETARY, data="m1:ed:1", forged=True))[0]
    assert "门禁维修" in edit and "/agenda move" in edit
    assert "Agenda approved" in await _one(bot, SECRETARY, "/agenda approve")
    assert "Item 1 is on the floor" in await _one(bot, SECRETARY, "/meeting start")
    assert "Decision #1 recorded" in await _one(bot, SECRETARY, "/decide 修门禁 / property / 30")
    assert await _state(bot) == ("in_progress", ["门禁维修"], 1)


async def test_a_resident_may_change_their_vote_until_the_item_closes(bot: BotUnderTest) -> None:
    await bot.say(SECRETARY, "/agenda add 门禁维修")
    await bot.say(SECRETARY, "/meeting start")
    bot.sender.wake()
    item = await bot.emu.wait_for_bot_message(
        GROUP, predicate=lambda m: "门禁维修" in (m.get("text") or ""), timeout=5
    )
    # The group's post is in the group's language (Chinese): For, Against, Abstain.
    await bot.press(WANG, "赞成", message=item, chat=GROUP)
    assert bot.answers()[-1] == "Your vote is counted. For 1 · against 0 · abstain 0"
    await bot.press(WANG, "反对", message=item, chat=GROUP)
    assert bot.answers()[-1] == "Your vote is changed to Against. For 0 · against 1 · abstain 0"
    await bot.press(LI, "弃权", message=item, chat=GROUP)
    async with session_scope(bot.engine) as s:
        votes = (await s.exec(select(AgendaVote))).all()
    assert sorted(v.choice for v in votes) == ["abstain", "against"]
    await bot.press(WANG, data="m1:v:1:x", chat=GROUP, forged=True)
    await bot.press(WANG, data="m1:v:99:f", chat=GROUP, forged=True)
    assert "not possible at this stage" in bot.answers()[-1]
    # the item leaves the floor: its voting is closed, and its buttons go
    await bot.say(SECRETARY, "/meeting next")
    await bot.press(WANG, "赞成", message=item, chat=GROUP)
    assert bot.answers()[-1] == "Voting on this item has closed."
    async with session_scope(bot.engine) as s:
        votes = (await s.exec(select(AgendaVote))).all()
    assert sorted(v.choice for v in votes) == ["abstain", "against"]
    shown = next(m for m in bot.emu.bot_messages(GROUP) if m["message_id"] == item["message_id"])
    assert "reply_markup" not in shown


async def test_decisions_notes_and_done_are_for_owner_or_secretary(bot: BotUnderTest) -> None:
    await bot.say(SECRETARY, "/agenda add 路灯")
    await bot.say(SECRETARY, "/meeting start")
    await bot.say(SECRETARY, "/decide 修路灯 / property / 2027-01-31")
    assert "修路灯" in await _one(bot, WANG, "/decisions")
    owner_or_secretary = (
        "Only the decision's owner (Property service company) or a secretary may do that."
    )
    assert await _one(bot, WANG, "/decision 1 note 我看到还没修") == owner_or_secretary
    assert await _one(bot, WANG, "/decision 1 done") == owner_or_secretary
    await bot.say(SECRETARY, "/decision 1 note 已报修")
    view = await _one(bot, WANG, "/decision 1")
    assert "已报修" in view and "open" in view
    assert "Decision #1 is done" in await _one(bot, SECRETARY, "/decision 1 done")
    assert "No open decisions." in await _one(bot, WANG, "/decisions")


async def test_a_person_owning_a_decision_is_named_and_may_mark_it_done(bot: BotUnderTest):
    await bot.say(SECRETARY, "/agenda add 路灯")
    await bot.say(SECRETARY, "/meeting start")
    await bot.say(SECRETARY, f"/decide 修路灯 / {LI} / 30")
    await bot.say(LI, "/lang en")
    assert await _one(bot, WANG, "/decision 1 done") == (
        "Only the decision's owner (李 强) or a secretary may do that."
    )
    assert "Decision #1 is done" in await _one(bot, LI, "/decision 1 done")


async def test_bad_input_gets_a_polite_answer(bot: BotUnderTest) -> None:
    await bot.say(SECRETARY, "/agenda add 路灯")
    assert "Edit the agenda" in await _one(bot, SECRETARY, "/agenda drop two")
    assert "has 1 items" in await _one(bot, SECRETARY, "/agenda drop 7")
    assert "Record the decision like this" in await _one(bot, SECRETARY, "/decide 修路灯")
    await bot.say(SECRETARY, "/meeting start")
    assert "unit code" in await _one(bot, SECRETARY, "/decide 修路灯 / nobody / 30")
    assert "due date" in await _one(bot, SECRETARY, "/decide 修路灯 / property / someday")
    assert "cannot find that decision" in await _one(bot, SECRETARY, "/decision 42")
    assert "Send it like this" in await _one(bot, SECRETARY, "/decision")
    assert "not possible" in await _one(bot, SECRETARY, "/agenda add 太晚了")
    await bot.press(SECRETARY, data="m1:zz:1", forged=True)
    assert "not possible" in bot.answers()[-1]
