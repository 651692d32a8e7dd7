"""Every case command and button, for every role: the server checks, every time."""

from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from bot.telegram.emulator import Emulator
from storage import people
from storage.cases import routing
from storage.db import session_scope
from storage.models import Case, PendingInput
from storage.people.roles import Role, grant
from tests.handlers.cases.test_case_life import file_report
from tests.harness import ALICE, LI, WANG, ZHAO, BotUnderTest, texts

OTHER_STAFF = 1005
REFUSALS = (
    "仅供社区工作人员",
    "无权",
    "找不到",
    "失效",
    "有权限的社区工作人员",
    "不能进行",
    "案件 #1 新提交",  # a press that case #1's status does not allow names the status
    "for community office staff",
    "may not do that",
    "cannot find",
    "expired",
    "not possible",
)

# what each actor may do with case #1 (Wang's safety report, routed to the safety office)
ACTORS = {
    "reporter": WANG,
    "other resident": ALICE,
    "staff of another unit": OTHER_STAFF,
    "staff of the unit": LI,
    "secretary": ZHAO,
}
COMMANDS = {
    "/queue": {"secretary"},
    "/assign 1 property": {"secretary"},
    "/recategorise 1 property": {"secretary"},
    "/todo": {"staff of another unit", "staff of the unit", "secretary"},
    "/overdue": {"staff of another unit", "staff of the unit", "secretary"},
    "/note 1 内部备注": {"staff of the unit", "secretary"},
    "/case 1": {"reporter", "staff of the unit", "secretary"},
    "/duplicate 2 1": {"secretary"},
    "/reject 1 不属实": {"secretary"},
}
BUTTONS = {
    "s1:acc:1": {"staff of the unit", "secretary"},
    "s1:prog:1": {"staff of the unit", "secretary"},
    "s1:res:1": {"staff of the unit", "secretary"},
    "s1:not:1": {"staff of the unit", "secretary"},
    "c1:view:1": {"reporter", "staff of the unit", "secretary"},
    "f1:1": {"reporter"},
    "r1:yes:1": set(),  # nobody: the case is not resolved, and only the reporter could
    "r1:no:1": set(),
    "r1:rate:5:1": set(),
}


@pytest.fixture
async def bot(emu: Emulator, database_url: str) -> AsyncIterator[BotUnderTest]:
    emu.add_user(OTHER_STAFF, "周", last_name="杰", language_code="zh-hans")
    under_test = BotUnderTest(emu, database_url, admins=frozenset({ZHAO}))
    await under_test.start()
    for user in (*ACTORS.values(),):
        await under_test.say(user, "/start")
    async with session_scope(under_test.engine) as s:
        for user, unit_code in ((LI, "safety"), (OTHER_STAFF, "property")):
            person = await people.find_resident(s, channel="telegram", external_id=str(user))
            unit = await routing.unit_by_code(s, unit_code)
            await grant(s, resident=person, role=Role.STAFF, unit_id=unit.id)
    await file_report(under_test)
    await file_report(under_test)
    yield under_test
    await under_test.stop()


async def _snapshot(bot: BotUnderTest) -> list:
    async with session_scope(bot.engine) as s:
        cases = (await s.exec(select(Case).order_by(Case.id))).all()
        pending = (await s.exec(select(PendingInput))).all()
        return [
            (c.status, c.unit_id, c.category_id, c.assignee_id, c.duplicate_of_id) for c in cases
        ] + [(p.resident_id, p.kind) for p in pending]


def _refused(replies: list[str]) -> bool:
    return any(phrase in text for text in replies for phrase in REFUSALS)


@pytest.mark.parametrize("actor", list(ACTORS))
async def test_matrix(bot: BotUnderTest, actor: str) -> None:
    user = ACTORS[actor]
    await bot.say(user, "/start")  # a message of their own to press buttons on
    wrong = []
    for data, allowed in BUTTONS.items():
        before = await _snapshot(bot)
        replies = texts(await bot.press(user, data=data, forged=True))
        replies += [a.get("text") or "" for a in bot.emu.callback_answers[-1:]]
        if actor in allowed:
            if _refused(replies):
                wrong.append(f"{data} refused: {replies}")
        elif not _refused(replies) or await _snapshot(bot) != before:
            wrong.append(f"{data} allowed: {replies}")
        async with session_scope(bot.engine) as s:  # forget any awaited input between presses
            for pending in (await s.exec(select(PendingInput))).all():
                await s.delete(pending)
    for command, allowed in COMMANDS.items():
        before = await _snapshot(bot)
        replies = texts(await bot.say(user, command))
        if actor in allowed:
            if _refused(replies):
                wrong.append(f"{command} refused: {replies}")
        elif not _refused(replies) or await _snapshot(bot) != before:
            wrong.append(f"{command} allowed: {replies}")
    assert wrong == []
