"""Joint inspections through the emulator: an inspector logs hazards in a row, staff rectify."""

from collections.abc import AsyncIterator
from datetime import datetime

import pytest
from sqlmodel import col, select

from bot.telegram.emulator import Emulator
from handlers.words.i18n import translator
from storage import inspections, people
from storage.cases import routing
from storage.db import session_scope
from storage.models import Case, Category, Hazard, InspectionRound
from storage.people.roles import Role, grant
from tests.handlers.cases.test_case_life import notice, press_on
from tests.harness import ALICE, LI, WANG, ZHAO, BotUnderTest, buttons, texts

INSPECTOR, STAFF, SECRETARY, RESIDENT = ALICE, LI, ZHAO, WANG
OTHER_INSPECTOR = 1006
STAFF_ONLY = translator("zh")("This is for community office staff.")


@pytest.fixture
async def bot(emu: Emulator, database_url: str) -> AsyncIterator[BotUnderTest]:
    """Alice (English) and Bob inspect; Li is staff of the street safety office; Zhao is a
    secretary (YISHI_ADMINS); Wang is a resident."""
    emu.add_user(OTHER_INSPECTOR, "Bob", last_name="Brown", language_code="en")
    under_test = BotUnderTest(emu, database_url, admins=frozenset({SECRETARY}))
    await under_test.start()
    for user in (WANG, LI, ZHAO, ALICE, OTHER_INSPECTOR):
        await under_test.say(user, "/start")
    async with session_scope(under_test.engine) as s:
        find = people.find_resident
        safety = await routing.unit_by_code(s, "safety")
        li = await find(s, channel="telegram", external_id=str(STAFF))
        await grant(s, resident=li, role=Role.STAFF, unit_id=safety.id)
        for user in (INSPECTOR, OTHER_INSPECTOR):
            inspector = await find(s, channel="telegram", external_id=str(user))
            await grant(s, resident=inspector, role=Role.INSPECTOR)
    yield under_test
    await under_test.stop()


async def log(bot: BotUnderTest, user: int, kind: str, line: str, photo: bool = False) -> int:
    """Send a hazard line, press its kind; returns the case number."""
    if photo:
        question = await bot.send(user, "photo", caption=line, data=b"<hazard photo>")
    else:
        question = await bot.say(user, line)
    assert "What kind of hazard" in texts(question)[0], texts(question)
    data = next(b for b in _data(question[0]) if b.endswith(f":{kind}"))
    filed = texts(await bot.press(user, data=data, message=question[0]))[0]
    assert "logged" in filed, filed
    return int(filed.split("#")[1].split(" ")[0].rstrip(":"))


def _data(message: dict) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b["callback_data"] for row in rows for b in row]


async def test_an_inspector_logs_hazards_in_a_row_and_staff_rectify_one(bot: BotUnderTest):
    opened = (await bot.say(INSPECTOR, "/inspect"))[0]
    assert "Inspection round 1 has started" in opened["text"] and buttons(opened) == ["End round"]
    first = await log(bot, INSPECTOR, "underground_parking", "Car park B / Property company / 7")
    second = await log(bot, INSPECTOR, "group_rental", "Bldg 7 flat 302 / Landlord Zhang / 3", True)
    # a restart between the line and the press loses nothing: the line is the draft
    question = (await bot.say(INSPECTOR, "Bldg 5 fire door / Property company / 0"))[0]
    await bot.restart()
    filed = await bot.press(INSPECTOR, data="i1:1:fire_passage", message=question)
    assert "Hazard #3 logged" in texts(filed)[0] and "Street safety office" in texts(filed)[0]
    again = await bot.press(INSPECTOR, data="i1:1:fire_passage", message=question, forged=True)
    assert again == [] and bot.answers()[-1] == "Already filed as #3."

    today = datetime.now(bot.settings.tz).date()
    async with session_scope(bot.engine) as s:
        rows = (
            await s.exec(
                select(Case, Category, Hazard)
                .join(Category, col(Category.id) == Case.category_id)
                .join(Hazard, col(Hazard.case_id) == Case.id)
                .order_by(col(Case.id))
            )
        ).all()
    assert [c.id for c, _, _ in rows] == [first, second, 3]
    assert [(c.source, cat.code, h.kind) for c, cat, h in rows] == [
        ("inspection", "safety", "underground_parking"),
        ("inspection", "group_rental", "group_rental"),
        ("inspection", "safety", "fire_passage"),
    ]
    for (case, _, hazard), days in zip(rows, (7, 3, 0), strict=True):
        assert hazard.deadline == case.due_at
        assert case.due_at == inspections.rectification_deadline(today, days, bot.settings.tz)
        assert hazard.round_id == 1
    assert [len(c.photos) for c, _, _ in rows] == [0, 1, 0]
    assert rows[1][2].responsible_party == "Landlord Zhang" and rows[1][0].text == "Bldg 7 flat 302"

    # rectification is the case's resolution: the unit's staff press Resolved, with a photo
    assigned = await notice(bot, STAFF, f"案件 #{first}")
    assert "Car park B" in assigned["text"]
    await press_on(bot, STAFF, assigned, "已解决")
    await bot.send(STAFF, "photo", caption="车库杂物已清理", data=b"<after>")
    rectified = await notice(bot, INSPECTOR, "车库杂物已清理")
    assert rectified.get("photo"), "the inspector sees the rectification photo"
    assert bot.emu.file_bytes(rectified["photo"][-1]["file_id"]) == b"<after>"
    async with session_scope(bot.engine) as s:
        case = await s.get(Case, first)
    assert case.status == "resolved" and len(case.photos) == 1

    listing = texts(await bot.say(INSPECTOR, "/rounds"))[0]
    assert "Round 1" in listing and "found 3, rectified 1" in listing


async def test_residents_and_staff_are_refused_and_see_nothing(bot: BotUnderTest) -> None:
    for user in (RESIDENT, STAFF):
        for command in ("/inspect", "/rounds"):
            answer = await bot.say(user, command)
            assert texts(answer) == [STAFF_ONLY] and buttons(answer[0]) == []
        # no round was opened, so what they write next is not taken for a hazard
        hint = texts(await bot.say(user, "3号楼车库 / 物业 / 7"))[0]
        assert "/report" in hint
    forged = await bot.press(RESIDENT, data="i1:1:other", forged=True)
    assert forged == [] and "失效" in bot.answers()[-1]
    async with session_scope(bot.engine) as s:
        assert (await s.exec(select(InspectionRound))).all() == []
        assert (await s.exec(select(Case))).all() == []


async def test_a_bad_line_is_explained_and_nothing_is_filed(bot: BotUnderTest) -> None:
    await bot.say(INSPECTOR, "/inspect")
    for line, why in (
        ("There is a problem in the car park", "could not read that as a hazard line"),
        ("Car park / Property company / seven", "number of days to rectify, from 0 to 365"),
        ("Car park / Property company / 999", "number of days to rectify"),
        ("Car park /  / 7", "could not read that"),
    ):
        answer = (await bot.say(INSPECTOR, line))[0]
        assert why in answer["text"] and "place / responsible party / days" in answer["text"]
        assert buttons(answer) == ["End round"]
    bare = (await bot.send(INSPECTOR, "photo"))[0]
    assert "with the hazard line as its caption" in bare["text"]
    async with session_scope(bot.engine) as s:
        assert (await s.exec(select(Case))).all() == []
    # End round: what the inspector writes next is an ordinary message again
    ended = texts(await bot.press(INSPECTOR, "End round"))[0]
    assert "Inspection round 1 has ended" in ended
    assert "/report" in texts(await bot.say(INSPECTOR, "Car park / Property company / 7"))[0]


async def test_an_inspector_sees_only_their_own_rounds(bot: BotUnderTest) -> None:
    await bot.say(INSPECTOR, "/inspect")
    await log(bot, INSPECTOR, "utilities", "Bldg 2 basement / Tenant Li / 5")
    await bot.say(OTHER_INSPECTOR, "/inspect")
    question = (await bot.say(OTHER_INSPECTOR, "Shop 12 / Owner Chen / 2"))[0]
    # Alice cannot file into Bob's round nor end it, whatever her client sends
    own = (await bot.say(INSPECTOR, "Bldg 4 / Property company / 1"))[0]
    await bot.press(INSPECTOR, data="i1:2:small_venues", message=own, forged=True)
    await bot.press(INSPECTOR, data="i1:2:end", message=own, forged=True)
    assert bot.answers()[-2:] == ["This button has expired."] * 2
    await bot.press(OTHER_INSPECTOR, data="i1:2:small_venues", message=question)

    alice = texts(await bot.say(INSPECTOR, "/rounds"))[0]
    bob = texts(await bot.say(OTHER_INSPECTOR, "/rounds"))[0]
    assert "Round 1" in alice and "Round 2" not in alice and "found 1, rectified 0" in alice
    assert "Round 2" in bob and "Round 1" not in bob
    everyone = texts(await bot.say(SECRETARY, "/rounds"))[0]
    assert "Alice Smith" in everyone and "Bob Brown" in everyone
    # /inspect again continues the open round rather than starting another
    assert "still open" in texts(await bot.say(INSPECTOR, "/inspect"))[0]
