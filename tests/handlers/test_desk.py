"""The mediation desk records disputes; secretaries edit the routing table."""

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from storage import people, routing
from storage.db import session_scope
from storage.disputes import dispute_figures
from storage.models import Case, Dispute
from storage.roles import Role, grant
from tests.handlers.test_case_life import bot, file_report, notice, press_on  # noqa: F401
from tests.harness import ALICE, GROUP, WANG, ZHAO, BotUnderTest, texts

MEDIATOR = ALICE


async def test_a_mediator_records_a_dispute_and_the_figures_count_it(bot: BotUnderTest):  # noqa: F811
    async with session_scope(bot.engine) as s:
        alice = await people.find_resident(s, channel="telegram", external_id=MEDIATOR)
        mediation = await routing.unit_by_code(s, "mediation")
        await grant(s, resident=alice, role=Role.MEDIATOR, unit_id=mediation.id)
    number = await file_report(bot, category="劳资纠纷")
    assigned = await notice(bot, MEDIATOR, f"#{number}")  # nobody on duty: every mediator
    refused = texts(await bot.say(WANG, f"/dispute {number} 12 85000 装修公司"))[0]
    assert "无权" in refused
    recorded = texts(await bot.say(MEDIATOR, f"/dispute {number} 12 85000 5号楼工人 / 装修公司"))
    assert recorded == [f"Dispute recorded on case #{number}: 12 people, 85,000 yuan."]
    assert "Send it like this" in texts(await bot.say(MEDIATOR, f"/dispute {number} x y z"))[0]
    await press_on(bot, MEDIATOR, assigned, "Resolved")
    await bot.say(MEDIATOR, "Wages paid in full after mediation")
    async with session_scope(bot.engine) as s:
        dispute = (await s.exec(select(Dispute))).one()
        start = datetime.now(UTC) - timedelta(days=1)
        figures = await dispute_figures(s, start=start, end=start + timedelta(days=2))
    assert (dispute.people_count, dispute.amount_yuan) == (12, 85000)
    assert (figures.resolved, figures.people, figures.amount_yuan) == (1, 12, 85000)


async def test_secretaries_edit_the_routing_table(bot: BotUnderTest):  # noqa: F811
    table = texts(await bot.say(ZHAO, "/routes"))[0]
    assert "safety · 安全隐患 → 街道平安办, 48 h" in table
    assert "other · 其他 → 等待书记分派" in table
    assert "仅供社区工作人员" in texts(await bot.say(WANG, "/routes other committee 96"))[0]
    changed = texts(await bot.say(ZHAO, "/routes other committee 96"))[0]
    assert "other · 其他 → 社区居委会, 96 h" in changed
    assert "请这样发送" in texts(await bot.say(ZHAO, "/routes nosuch committee 5"))[0]
    await bot.say(WANG, "#反映 小区门口路灯不亮", chat=GROUP)
    async with session_scope(bot.engine) as s:
        case = (await s.exec(select(Case))).one()
        committee = await routing.unit_by_code(s, "committee")
    assert case.unit_id == committee.id
