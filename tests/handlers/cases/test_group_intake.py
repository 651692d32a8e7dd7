"""Reports in the community group: tagged or addressed messages become cases."""

from sqlmodel import select

from storage.db import session_scope
from storage.models import Case, Group
from storage.text import DESCRIPTION_MAX
from tests.harness import ALICE, GROUP, LI, WANG, BotUnderTest, texts


async def test_tagged_message_files_a_case_and_replies_with_the_number(bot: BotUnderTest) -> None:
    replies = await bot.say(WANG, "#反映 5号楼门口的下水道堵了，我电话13912345678", chat=GROUP)
    assert texts(replies) == ["已登记，编号 #1。私聊我发送 /case 1 可查看进度。"]
    assert replies[0]["reply_to_message"]["message_id"] == bot.last["message_id"]
    async with session_scope(bot.engine) as s:
        case = (await s.exec(select(Case))).one()
        group = (await s.exec(select(Group))).one()
    assert (case.source, case.source_chat_id) == ("group", GROUP)
    assert case.text == "5号楼门口的下水道堵了，我电话13912345678"
    assert group.title == "阳光花园居民群"
    shown = texts(await bot.say(WANG, "/case 1"))[0]
    assert "其他" in shown and "139****5678" in shown


async def test_english_tag_mention_and_unattached_chat(bot: BotUnderTest) -> None:
    replies = await bot.say(ALICE, "#report Broken bench near the gym", chat=GROUP)
    assert texts(replies) == ["Recorded as #1. Follow it in a private chat with me: /case 1"]
    replies = await bot.say(LI, "@yishi_bot 楼下的垃圾没人收", chat=GROUP)
    assert "#2" in texts(replies)[0]
    assert await bot.say(LI, "大家晚上好，今晚广场有电影", chat=GROUP) == []
    assert await bot.say(LI, "#reporter 这不是反映标签", chat=GROUP) == []
    async with session_scope(bot.engine) as s:
        assert [c.text for c in (await s.exec(select(Case).order_by(Case.id))).all()] == [
            "Broken bench near the gym",
            "楼下的垃圾没人收",
        ]


async def test_empty_tag_is_answered_politely(bot: BotUnderTest) -> None:
    assert "请在标签后写明问题" in texts(await bot.say(WANG, "#反映", chat=GROUP))[0]
    assert "describe the problem" in texts(await bot.say(ALICE, "#report 👍", chat=GROUP))[0]


async def test_an_overlong_report_names_the_limit(bot: BotUnderTest) -> None:
    replies = await bot.say(WANG, "#反映 " + "长" * (DESCRIPTION_MAX + 1), chat=GROUP)
    assert texts(replies) == [
        "这段文字有 2001 个字，请控制在 2000 字以内。请发送最重要的部分，其余可以用照片说明。"
    ]
    async with session_scope(bot.engine) as s:
        assert (await s.exec(select(Case))).first() is None


async def test_private_commands_stay_private_in_the_group(bot: BotUnderTest) -> None:
    await bot.say(WANG, "#反映 电梯坏了三天了", chat=GROUP)
    answer = texts(await bot.say(LI, "/case 1", chat=GROUP))[0]
    assert "私聊" in answer and "电梯" not in answer
    assert "私聊" in texts(await bot.say(LI, "/mycases", chat=GROUP))[0]
    link = texts(await bot.say(LI, "/report", chat=GROUP))[0]
    assert "https://t.me/yishi_bot?start=report" in link


async def test_deep_link_from_the_group_opens_a_report(bot: BotUnderTest) -> None:
    assert "请选择问题类别" in texts(await bot.say(LI, "/start report"))[0]


async def test_a_group_message_delivered_twice_files_one_case(bot: BotUnderTest) -> None:
    await bot.say(WANG, "#反映 电梯坏了三天了", chat=GROUP)
    update_id = bot.emu.updates()[-1]["update_id"]
    await bot.redeliver(update_id, GROUP)
    async with session_scope(bot.engine) as s:
        assert len((await s.exec(select(Case))).all()) == 1
