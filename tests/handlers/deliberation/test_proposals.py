"""Proposals through the emulator: propose, similar first, "me too" once, withdraw, /hot."""

from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from bot.telegram.emulator import Emulator
from storage import cases, people
from storage.cases import categories
from storage.db import session_scope
from storage.deliberation.meeting_models import Proposal, Support
from tests.handlers.cases.test_case_life import press_on
from tests.harness import ALICE, GROUP, LI, WANG, ZHAO, BotUnderTest, buttons, texts

SECRETARY = ZHAO
LIFT = "12号楼电梯经常停在半层，老人出行困难"


@pytest.fixture
async def bot(emu: Emulator, database_url: str) -> AsyncIterator[BotUnderTest]:
    """Zhao is a secretary (YISHI_ADMINS); everyone reads English (msgids stay stable)."""
    under_test = BotUnderTest(emu, database_url, admins=frozenset({SECRETARY}))
    await under_test.start()
    for user in (WANG, LI, ZHAO, ALICE):
        await under_test.say(user, "/lang en")
    yield under_test
    await under_test.stop()


async def _case(bot: BotUnderTest, user: int, text: str, message_id: int = 1) -> int:
    async with session_scope(bot.engine) as s:
        reporter = await people.find_resident(s, channel="telegram", external_id=str(user))
        category = await categories.category_by_code(s, "property")
        case, _ = await cases.open_case(
            s, reporter=reporter, category=category, text=text, source="private",
            source_chat_id=user, source_message_id=message_id,
        )  # fmt: skip
        assert case.id is not None
        return case.id


async def _rows(bot: BotUnderTest, model: type) -> list:
    async with session_scope(bot.engine) as s:
        return list((await s.exec(select(model))).all())


async def test_similar_shown_then_support_instead_and_me_too_once(bot: BotUnderTest) -> None:
    filed = await bot.say(WANG, f"/propose {LIFT}")
    assert "Your proposal #1 is filed" in texts(filed)[0]
    assert buttons(filed[0]) == ["Withdraw my proposal"]
    asked = await bot.say(LI, "/propose")
    assert "What topic would you like" in texts(asked)[0]
    shown = await bot.say(LI, "12号楼的电梯经常停在半层了")
    assert "look like yours" in texts(shown)[0] and "12号楼电梯经常停在半层" in texts(shown)[0]
    assert buttons(shown[0]) == ["Me too: Proposal #1", "File mine anyway"]
    dropped = await bot.press(LI, "Me too: Proposal #1")
    assert bot.answers()[-1] == "Thank you: your support is counted."
    assert "Your draft is dropped" in texts(dropped)[0]
    assert [(p.id, p.status) for p in await _rows(bot, Proposal)] == [(1, "open")]
    listed = await bot.say(LI, "/proposals")
    assert "#1 · 12号楼电梯" in texts(listed)[0] and "1 supporter" in texts(listed)[0]
    await bot.press(LI, "Me too: #1")
    assert bot.answers()[-1] == "You support this already; it counts once."
    mine = await bot.say(WANG, "/proposals")
    assert buttons(mine[0]) == ["Withdraw #1"]  # no "me too" on one's own
    await bot.press(WANG, data="p1:sp:1", forged=True)
    assert bot.answers()[-1].startswith("This one is yours")
    assert [(s.subject, s.subject_id) for s in await _rows(bot, Support)] == [("proposal", 1)]


async def test_file_mine_anyway_survives_a_restart_and_works_once(bot: BotUnderTest) -> None:
    case_id = await _case(bot, ALICE, "12号楼电梯又停在半层了 13812345678")
    shown = await bot.say(WANG, f"/propose {LIFT}")
    assert f"Case #{case_id}" in texts(shown)[0] and "138****5678" in texts(shown)[0]
    assert "Alice" not in texts(shown)[0]  # never the reporter
    assert buttons(shown[0]) == [f"Me too: Case #{case_id}", "File mine anyway"]
    await bot.restart()  # the draft is a row, not process memory
    filed = await bot.press(WANG, "File mine anyway", message=shown[0])
    assert "Your proposal #1 is filed" in texts(filed)[0]
    again = await press_on(bot, WANG, shown[0], "File mine anyway")
    assert again == [] and bot.answers()[-1] == "This button has expired."
    # Li supports Alice's case from the similar list instead of filing
    shown = await bot.say(LI, f"/propose {LIFT}")
    await bot.press(LI, f"Me too: Case #{case_id}", message=shown[0])
    assert bot.answers()[-1] == "Thank you: your support is counted."
    supports = [(s.subject, s.subject_id) for s in await _rows(bot, Support)]
    assert supports == [("case", case_id)]
    assert [p.status for p in await _rows(bot, Proposal)] == ["open"]


async def test_withdraw_own_and_refused_for_others(bot: BotUnderTest) -> None:
    filed = await bot.say(WANG, "/propose 小区需要增加电动车充电桩")
    assert "Withdraw my proposal" in buttons(filed[0])
    assert await bot.press(LI, data="p1:wd:1", forged=True) == []  # a tampered client
    assert bot.answers()[-1] == "Only the proposer can withdraw a proposal."
    assert (await _rows(bot, Proposal))[0].status == "open"
    gone = await bot.press(WANG, "Withdraw my proposal")
    assert "Your proposal #1 is withdrawn." in texts(gone)[0]
    assert (await _rows(bot, Proposal))[0].status == "withdrawn"
    await bot.press(LI, data="p1:sp:1", forged=True)
    assert bot.answers()[-1] == "That proposal or case is no longer open."
    assert "No proposal is open" in texts(await bot.say(LI, "/proposals"))[0]


async def test_propose_from_ones_own_case_only(bot: BotUnderTest) -> None:
    case_id = await _case(bot, ALICE, "地下车库入口积水很深")
    asked = await bot.say(ALICE, "/propose")
    assert f"From my case #{case_id}" in buttons(asked[0])
    filed = await bot.press(ALICE, f"From my case #{case_id}")
    assert "Your proposal #1 is filed" in texts(filed)[0] and "积水" in texts(filed)[0]
    assert (await _rows(bot, Proposal))[0].case_id == case_id
    refused = await bot.say(WANG, f"/propose #{case_id}")
    assert texts(refused) == ["I cannot find that case among yours."]
    await bot.press(WANG, data=f"p1:fc:{case_id}", forged=True)
    assert len(await _rows(bot, Proposal)) == 1


async def test_an_open_case_offers_to_propose_it_from_its_view(bot: BotUnderTest) -> None:
    case_id = await _case(bot, ALICE, "地下车库入口积水很深")
    view = await bot.say(ALICE, f"/case {case_id}")
    assert "🗳 Propose for the meeting" in buttons(view[0])
    filed = await bot.press(ALICE, "🗳 Propose for the meeting")
    assert "Your proposal #1 is filed" in texts(filed)[0]
    assert (await _rows(bot, Proposal))[0].case_id == case_id


async def test_hot_is_for_secretaries_in_private(bot: BotUnderTest) -> None:
    await _case(bot, ALICE, LIFT)
    await bot.say(WANG, "/propose 小区需要增加电动车充电桩")
    refused = await bot.say(WANG, "/hot")
    assert texts(refused) == ["Sorry, the hot issues are for the community secretaries."]
    ranked = texts(await bot.say(ZHAO, "/hot"))[0]
    assert ranked.startswith("Hot issues, hottest first:")
    assert "充电桩" in ranked and "12号楼电梯" in ranked and "1 resident" in ranked
    assert "Alice" not in ranked and "王" not in ranked
    in_group = await bot.say(ZHAO, "/hot", chat=GROUP)
    assert texts(in_group) == ["I answer this only in a private chat with you."]


async def test_bad_input_gets_a_polite_answer(bot: BotUnderTest) -> None:
    assert "in words" in texts(await bot.say(WANG, "/propose !!"))[0]
    await bot.say(WANG, "/propose")
    again = await bot.say(WANG, "??")
    assert "in words" in texts(again)[0] and "What topic" in texts(again)[0]
    filed = await bot.say(WANG, "小区需要增加电动车充电桩")
    assert "Your proposal #1 is filed" in " ".join(texts(filed))
    assert texts(await bot.say(WANG, "/propose 充电桩", chat=GROUP)) == [
        "I answer this only in a private chat with you."
    ]
    for forged in ("p1:zz:1", "p1:sp:99999999999", "p1:file:1", "p1:sc:77"):
        assert await bot.press(LI, data=forged, forged=True) == []
    assert bot.answers()[-4:] == [
        "This button has expired.",
        "That proposal or case is no longer open.",  # no proposal can have that id (issue 15)
        "This button has expired.",
        "That proposal or case is no longer open.",
    ]
