"""A resident files a complete report in a private chat, then follows it."""

from sqlmodel import select

from storage.db import session_scope
from storage.models import Case, ReportDraft
from tests.harness import ALICE, WANG, BotUnderTest, buttons, texts


async def file_full_report(bot: BotUnderTest, user: int = WANG) -> list[dict]:
    await bot.say(user, "/report")
    await bot.press(user, "安全隐患")
    await bot.say(user, "3号楼2单元楼道的灭火器过期了，电话 13812345678")
    await bot.send(user, "photo", data=b"photo-one")
    await bot.send(user, "photo", data=b"photo-two")
    await bot.press(user, "完成 ✅")
    await bot.send(user, "location", latitude=31.2304, longitude=121.4737)
    await bot.press(user, "匿名反映")
    return await bot.press(user, "确认提交")


async def test_whole_private_report_in_chinese(bot: BotUnderTest) -> None:
    greeting = texts(await bot.say(WANG, "/start"))
    assert "您好" in greeting[0] and "/report" in greeting[0]

    asked = await bot.say(WANG, "/report")
    assert "请选择问题类别" in texts(asked)[0]
    assert {"安全隐患", "物业服务", "群租房", "劳资纠纷", "其他", "取消"} <= set(buttons(asked[0]))

    asked = await bot.press(WANG, "安全隐患")
    assert "请描述问题" in texts(asked)[0]
    asked = await bot.say(WANG, "3号楼2单元楼道的灭火器过期了，电话 13812345678")
    assert "照片" in texts(asked)[0] and buttons(asked[0]) == ["跳过 ⏭"]
    ack = await bot.send(WANG, "photo", data=b"photo-one")
    assert "第 1 张" in texts(ack)[0]
    ack = await bot.send(WANG, "photo", data=b"photo-two")
    assert "第 2 张" in texts(ack)[0]
    asked = await bot.press(WANG, "完成 ✅")
    assert "问题在哪里" in texts(asked)[0]
    keyboard = bot.emu.reply_keyboard(WANG)
    assert keyboard is not None
    assert [[b["text"] for b in row] for row in keyboard["keyboard"]] == [
        ["📍 发送我的位置"],
        ["跳过 ⏭"],
    ]
    assert keyboard["keyboard"][0][0]["request_location"] is True
    asked = await bot.send(WANG, "location", latitude=31.2304, longitude=121.4737)
    assert texts(asked)[0] == "已记录。"
    assert bot.emu.reply_keyboard(WANG) is None
    assert "姓名" in texts(asked)[1]
    summary = (await bot.press(WANG, "匿名反映"))[0]
    assert "类别：安全隐患" in summary["text"]
    assert "138****5678" in summary["text"] and "13812345678" not in summary["text"]
    assert "2 张照片" in summary["text"] and "31.23040, 121.47370" in summary["text"]
    assert "匿名：是" in summary["text"]

    filed = texts(await bot.press(WANG, "确认提交"))
    assert "#1" in filed[0]
    assert "已登记 #1" in bot.answers()[-1]
    # the summary's buttons are gone once used
    assert bot.emu.messages(WANG)[-2].get("reply_markup") in (None, {})

    async with session_scope(bot.engine) as s:
        case = (await s.exec(select(Case))).one()
        assert (case.id, case.status, case.source, case.anonymous) == (1, "new", "private", True)
        assert len(case.photos) == 2 and case.latitude == 31.2304
        assert "13812345678" in case.text  # kept for staff; masked whenever shown
        assert (await s.exec(select(ReportDraft))).first() is None

    listing = texts(await bot.say(WANG, "/mycases"))[0]
    assert "#1 · 安全隐患 · 新提交" in listing
    shown = texts(await bot.say(WANG, "/case 1"))[0]
    assert "案件 #1 · 安全隐患" in shown and "状态：新提交" in shown
    assert "已收到反映" in shown and "138****5678" in shown and "13812345678" not in shown
    assert texts(await bot.say(WANG, "/case #1"))[0] == shown


async def test_skipping_optional_steps_with_a_typed_address_in_english(bot: BotUnderTest) -> None:
    assert "Hello" in texts(await bot.say(ALICE, "/start"))[0]
    await bot.say(ALICE, "/report")
    await bot.press(ALICE, "Property service")
    await bot.say(ALICE, "The lift in building 5 stops between floors.")
    asked = await bot.press(ALICE, "Skip ⏭")
    assert "Where is it?" in texts(asked)[0]
    asked = await bot.say(ALICE, "Building 5, unit 1")
    assert "see your name" in texts(asked)[1]
    summary = texts(await bot.press(ALICE, "Show my name to staff"))[0]
    assert "Address: Building 5, unit 1" in summary and "Anonymous: no" in summary
    assert "photo" not in summary
    filed = texts(await bot.press(ALICE, "Confirm and submit"))[0]
    assert filed.startswith("Thank you. Your report is filed as #1.")
    shown = texts(await bot.say(ALICE, "/case 1"))[0]
    assert "Status: New" in shown and "Report received" in shown


async def test_location_step_can_be_skipped_with_its_text_button(bot: BotUnderTest) -> None:
    await bot.say(WANG, "/report")
    await bot.press(WANG, "环境卫生")
    await bot.say(WANG, "垃圾桶两天没人清理了")
    await bot.press(WANG, "跳过 ⏭")
    asked = await bot.say(WANG, "跳过 ⏭")
    assert "姓名" in texts(asked)[1]


async def test_cancel_drops_the_draft_and_files_nothing(bot: BotUnderTest) -> None:
    await bot.say(WANG, "/report")
    await bot.press(WANG, "安全隐患")
    assert "已取消" in texts(await bot.say(WANG, "/cancel"))[0]
    assert "没有可取消" in texts(await bot.say(WANG, "/cancel"))[0]
    hint = texts(await bot.say(WANG, "还在吗"))[0]
    assert "/report" in hint
    await bot.say(WANG, "/report")
    assert "已取消" in texts(await bot.press(WANG, "取消"))[0]
    async with session_scope(bot.engine) as s:
        assert (await s.exec(select(Case))).first() is None


async def test_language_switch(bot: BotUnderTest) -> None:
    asked = await bot.say(WANG, "/lang")
    assert buttons(asked[0]) == ["中文", "English"]
    assert texts(await bot.press(WANG, "English")) == ["I will answer in English from now on."]
    assert "What I can do" in texts(await bot.say(WANG, "/help"))[0]
    assert texts(await bot.say(WANG, "/lang zh")) == ["好的，以后我用中文回复您。"]
    assert "我能做的" in texts(await bot.say(WANG, "/help"))[0]


async def test_command_menu_published_in_both_languages(bot: BotUnderTest) -> None:
    menus = [params for method, params in bot.emu.calls if method == "setMyCommands"]
    assert len(menus) == 2
    assert any("反映问题" in str(p["commands"]) for p in menus)
    assert any("Report a problem" in str(p["commands"]) for p in menus)
