"""/export through the emulator: the secretary gets a workbook; nobody else gets anything."""

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl

from handlers.office import export
from handlers.office.export import CAPTION, TOO_MANY, USAGE
from handlers.words.i18n import translator
from tests.handlers.cases.test_case_life import bot, file_report  # noqa: F401  (the fixture)
from tests.harness import ALICE, GROUP, LI, WANG, ZHAO, BotUnderTest, texts

STAFF, SECRETARY = LI, ZHAO
zh = translator("zh")  # the new messages' Chinese arrives with the next catalog merge


def _documents(bot: BotUnderTest, chat: int) -> list[dict]:
    return [m for m in bot.emu.bot_messages(chat) if m.get("document")]


async def test_the_secretary_receives_this_months_workbook(bot: BotUnderTest) -> None:
    number = await file_report(bot)
    month = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    sent = await bot.say(SECRETARY, "/export")
    document = [m for m in sent if m.get("document")]
    assert len(document) == 1
    assert document[0]["document"]["file_name"] == f"yishi-{month}.xlsx"
    assert document[0]["caption"] == zh(CAPTION).format(period=month, count=1)

    data = bot.emu.file_bytes(document[0]["document"]["file_id"])
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["案件", "处理记录", "隐患", "纠纷", "统计"]
    rows = list(book["案件"].iter_rows(values_only=True))
    assert rows[0][0] == "案件编号" and [r[0] for r in rows[1:]] == [number]
    assert rows[1][10] == "5号楼消防通道被电动车堵住了"
    cells = [v for ws in book.worksheets for r in ws.iter_rows(values_only=True) for v in r]
    assert not any(isinstance(v, str) and "王" in v for v in cells)  # no reporter's name


async def test_a_named_period_and_a_bad_one(bot: BotUnderTest) -> None:
    sent = await bot.say(SECRETARY, "/export 2026-11")
    assert sent[-1]["document"]["file_name"] == "yishi-2026-11.xlsx"
    assert sent[-1]["caption"] == zh(CAPTION).format(period="2026-11", count=0)
    ranged = await bot.say(SECRETARY, "/export 2026-11-01..2026-11-15")
    assert ranged[-1]["document"]["file_name"] == "yishi-2026-11-01_2026-11-15.xlsx"
    before = len(_documents(bot, SECRETARY))
    usage = texts(await bot.say(SECRETARY, "/export November"))
    assert usage == [zh(USAGE)]
    assert len(_documents(bot, SECRETARY)) == before


async def test_residents_and_staff_are_refused_and_get_no_file(bot: BotUnderTest) -> None:
    await file_report(bot)
    for user in (WANG, STAFF, ALICE):
        replies = await bot.say(user, "/export")
        assert [m for m in replies if m.get("document")] == []
        assert _documents(bot, user) == []
    assert texts(await bot.say(WANG, "/export 2026-11")) == ["这个功能仅供社区工作人员使用。"]
    assert texts(await bot.say(ALICE, "/export"))[0] == "This is for community office staff."


async def test_never_into_a_group(bot: BotUnderTest) -> None:
    replies = await bot.say(SECRETARY, "/export", chat=GROUP)
    assert [m for m in replies if m.get("document")] == []
    assert "私聊" in texts(replies)[0]
    assert _documents(bot, GROUP) == []


async def test_too_many_cases_for_a_chat_file(bot: BotUnderTest, monkeypatch) -> None:
    monkeypatch.setattr(export, "MAX_CASES", 0)
    await file_report(bot)
    month = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    replies = await bot.say(SECRETARY, "/export")
    assert texts(replies) == [zh(TOO_MANY).format(period=month, count=1)]
    assert _documents(bot, SECRETARY) == []
