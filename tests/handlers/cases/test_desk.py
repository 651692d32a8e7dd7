"""The mediation desk records disputes; secretaries edit the routing table."""

from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from handlers.words.i18n import translator
from storage import people
from storage.cases import routing
from storage.cases.disputes import dispute_figures
from storage.db import session_scope
from storage.models import Case, CaseEvent, Dispute, OutboxMessage
from storage.people.roles import Role, grant
from tests.handlers.cases.test_case_life import bot, file_report, notice, press_on  # noqa: F401
from tests.harness import ALICE, GROUP, LI, WANG, ZHAO, BotUnderTest, texts

MEDIATOR = ALICE


async def test_a_mediator_records_a_dispute_and_the_figures_count_it(bot: BotUnderTest):  # noqa: F811
    async with session_scope(bot.engine) as s:
        alice = await people.find_resident(s, channel="telegram", external_id=str(MEDIATOR))
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


async def test_a_mediator_who_leaves_hands_their_open_disputes_back_to_the_desk(
    bot: BotUnderTest,  # noqa: F811
):
    """Li (staff and mediator) holds two labour disputes and a safety case named to him; Alice
    is on the desk today. Zhao revokes Li's mediator role: the two disputes go back to the
    desk (Alice is told of each, a case event records it), the safety case stays with Li, and
    the other secretary, Sun, gets one notice listing the disputes."""
    sun = 1006
    bot.emu.add_user(sun, "孙", last_name="丽", language_code="zh-hans")
    await bot.say(sun, "/start")
    async with session_scope(bot.engine) as s:
        mediation = await routing.unit_by_code(s, "mediation")
        for user, role in ((ALICE, Role.MEDIATOR), (LI, Role.MEDIATOR), (sun, Role.SECRETARY)):
            person = await people.find_resident(s, channel="telegram", external_id=str(user))
            unit_id = mediation.id if role == Role.MEDIATOR else None
            await grant(s, resident=person, role=role, unit_id=unit_id)
    today = datetime.now(bot.settings.tz).date().isoformat()
    await bot.say(ZHAO, f"/duty {today} {ALICE}")
    first, second, at_desk = [await file_report(bot, category="劳资纠纷") for _ in range(3)]
    safety = await file_report(bot)
    for number in (first, second, safety):
        await bot.say(ZHAO, f"/assign {number} {LI}")
    zh = translator("zh")
    reply = texts(await bot.say(ZHAO, f"/revoke {LI} mediator"))[0]
    assert reply == "\n".join(
        [
            zh("{name} is no longer {role}.").format(name="李 强", role=zh("Mediator")),
            zh("Their open disputes went back to the mediation desk: {cases}.").format(
                cases=f"#{first}, #{second}"
            ),
        ]
    )
    told = await notice(bot, sun, f"#{first}, #{second}")
    assert told["text"] == zh(
        "Mediator {name} no longer holds the role; their open disputes went back to the "
        "mediation desk: {cases}."
    ).format(name="李 强", cases=f"#{first}, #{second}")
    for number in (first, second):
        await notice(bot, ALICE, f"Case #{number} ·")
    async with session_scope(bot.engine) as s:
        li = await people.find_resident(s, channel="telegram", external_id=str(LI))
        zhao = await people.find_resident(s, channel="telegram", external_id=str(ZHAO))
        held = {c.id: (c.unit_id, c.assignee_id) for c in (await s.exec(select(Case))).all()}
        last = {}
        for event in (await s.exec(select(CaseEvent).order_by(col(CaseEvent.id)))).all():
            last[event.case_id] = (event.kind, event.actor_id, event.note)
        queued = (await s.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
    assert held[first] == held[second] == held[at_desk] == (mediation.id, None)
    assert held[safety] == (None, li.id)
    assert last[first] == last[second] == ("assigned", zhao.id, "mediation")
    assert last[at_desk] == ("assigned", None, "mediation")  # routed when filed, untouched
    returned = [int(m.address) for m in queued if m.kind == "disputes_returned"]
    assert returned == [sun]  # Zhao, who revoked, read it in the reply
    to_alice = [
        m.params["case"] for m in queued if int(m.address) == ALICE and m.kind == "assigned"
    ]
    assert to_alice == [first, second, at_desk, first, second]  # filed, then returned
