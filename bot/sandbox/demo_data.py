"""The sandbox's demo estate: its people, its group, the places on the map, and its cases.

Plain data: `bot/sandbox/seed.py` files it through the storage functions, and the emulator
learns the same people so the chat page can act as each of them.
"""

from __future__ import annotations

from dataclasses import dataclass

GROUP_ID = -1002026
GROUP_TITLE = "阳光花园居民群"
GROUP_BUILDINGS = ["1", "3", "5", "7", "8"]


@dataclass(frozen=True)
class Persona:
    key: str
    user_id: int
    first_name: str
    last_name: str
    language_code: str
    role: str  # resident, secretary, staff, mediator, inspector
    unit: str | None = None  # staff: their unit's code
    building: str | None = None
    phone: str = ""
    username: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def latin_name(self) -> str:
        """The name as an English page shows it (pinyin for Chinese names)."""
        return PINYIN.get(self.key, self.full_name)


PERSONAS = [
    Persona("wang", 20001, "王", "芳", "zh-hans", "resident", building="3", phone="13812340001"),
    Persona("li", 20002, "李", "强", "zh-hans", "resident", building="5", phone="13812340002"),
    Persona("alice", 20003, "Alice", "Smith", "en", "resident", building="7", phone="13812340003"),
    Persona("liu", 20004, "刘", "洋", "zh-hans", "resident", building="1", phone="13812340004"),
    Persona("sun", 20005, "孙", "丽", "zh-hans", "resident", building="8", phone="13812340005"),
    Persona("zhao", 20010, "赵", "敏", "zh-hans", "secretary", username="zhao_min"),
    Persona("chen", 20011, "陈", "刚", "zh-hans", "staff", unit="property", username="chen_gang"),
    Persona("tom", 20012, "Tom", "Baker", "en", "staff", unit="urban", username="tom_baker"),
    Persona("ma", 20013, "马", "超", "zh-hans", "staff", unit="safety", username="ma_chao"),
    Persona("wu", 20014, "吴", "静", "zh-hans", "mediator", username="wu_jing"),
    Persona("zheng", 20015, "郑", "伟", "zh-hans", "mediator", username="zheng_wei"),
    Persona("huang", 20016, "黄", "磊", "zh-hans", "inspector", username="huang_lei"),
]
BY_KEY = {p.key: p for p in PERSONAS}
PINYIN = {
    "wang": "Wang Fang", "li": "Li Qiang", "liu": "Liu Yang", "sun": "Sun Li", "zhao": "Zhao Min",
    "chen": "Chen Gang", "ma": "Ma Chao", "wu": "Wu Jing", "zheng": "Zheng Wei",
    "huang": "Huang Lei",
}  # fmt: skip

ROLE_LABELS = {
    "resident": ("居民", "resident"),
    "secretary": ("社区书记", "secretary"),
    "staff": ("工作人员", "staff"),
    "mediator": ("调解员", "mediator"),
    "inspector": ("巡查员", "inspector"),
}
UNIT_LABELS = {
    "property": ("物业服务公司", "property company"),
    "urban": ("街道城管科", "urban management"),
    "safety": ("街道平安办", "safety office"),
}

# Preset places the page offers for "share location" (around a made-up estate in Shanghai).
PLACES = [
    {"zh": "3号楼门口", "en": "Building 3 entrance", "latitude": 31.22051, "longitude": 121.46012},
    {"zh": "小区北门", "en": "North gate", "latitude": 31.22133, "longitude": 121.45947},
    {"zh": "地下车库B区", "en": "Car park, zone B", "latitude": 31.22011, "longitude": 121.45988},
    {"zh": "健身广场", "en": "Fitness square", "latitude": 31.22079, "longitude": 121.46101},
]


def label(persona: Persona, lang: str) -> str:
    """ "resident Wang Fang, building 3" in the page's words (zh or en)."""
    if lang == "zh":
        role = ROLE_LABELS[persona.role][0]
        unit = UNIT_LABELS[persona.unit][0] if persona.unit else ""
        where = f"（{persona.building}号楼）" if persona.building else ""
        name = (
            persona.full_name
            if persona.first_name.isascii()
            else persona.full_name.replace(" ", "")
        )
        return f"{unit}{role} {name}{where}"
    role = ROLE_LABELS[persona.role][1]
    unit = f" ({UNIT_LABELS[persona.unit][1]})" if persona.unit else ""
    where = f", building {persona.building}" if persona.building else ""
    return f"{role}{unit} {persona.latin_name}{where}"


def page_info() -> dict[str, object]:
    """What the chat page shows about each persona, in both languages."""
    return {
        "personas": [
            {
                "user_id": p.user_id,
                "key": p.key,
                "role": p.role,
                "unit": p.unit,
                "building": p.building,
                "phone": p.phone,
                "label": {"zh": label(p, "zh"), "en": label(p, "en")},
            }
            for p in PERSONAS
        ],
        "group_id": GROUP_ID,
        "places": PLACES,
        "tour": {"resident": "wang", "secretary": "zhao", "staff": "chen"},
    }


# (days ago, reporter, category code, text, outcome). Outcomes: see sandbox_seed.OUTCOMES.
CASES: list[tuple[int, str, str, str, str]] = [
    (88, "wang", "property", "3号楼电梯经常停在8楼不动，老人上下楼很困难", "closed"),
    (85, "li", "environment", "5号楼后面的垃圾桶三天没人清运，气味很大", "closed"),
    (83, "alice", "facilities", "The swings in the playground have a broken chain", "closed"),
    (80, "liu", "safety", "1号楼楼道里堆满了纸箱，挡住了消防通道", "closed"),
    (78, "sun", "construction", "8号楼有人装修晚上十点还在打电钻", "closed"),
    (75, "wang", "property", "3号楼单元门的门禁坏了，谁都能进", "closed"),
    (72, "li", "group_rental", "5号楼602好像住了十几个人，进出很杂", "rejected"),
    (70, "alice", "environment", "Dog waste all over the lawn near building 7", "closed"),
    (66, "liu", "property", "地下车库B区的灯坏了一大片，晚上很黑", "closed"),
    (63, "sun", "labour", "我在小区超市打工，老板拖欠了两个月工资", "dispute_closed"),
    (60, "wang", "other", "希望社区组织一次免费体检", "rejected"),
    (57, "li", "property", "地下车库B区的灯还是不亮", "duplicate:8"),
    (54, "alice", "facilities", "The treadmill at the fitness square is broken", "closed"),
    (50, "liu", "environment", "小区北门外的共享单车堆成山，挡路", "closed"),
    (47, "sun", "safety", "8号楼有人在楼道里给电动车充电，很危险", "closed"),
    (44, "wang", "construction", "3号楼旁边的工地早上六点就开工，太吵了", "closed"),
    (41, "li", "property", "5号楼的水压很低，楼上几乎没水", "reopened"),
    (38, "alice", "other", "Could the notice board also be in English?", "rejected"),
    (35, "liu", "facilities", "健身广场的乒乓球台网子破了", "closed"),
    (32, "sun", "environment", "8号楼门口的树枝快碰到电线了", "overdue_progress"),
    (29, "wang", "property", "3号楼外墙瓷砖有松动，怕掉下来砸人", "overdue_accepted"),
    (26, "li", "labour", "装修队干完活不给钱，我们五个人被欠了八千块", "dispute_open"),
    (24, "alice", "property", "The lift in building 7 makes a loud grinding noise", "closed"),
    (21, "liu", "safety", "1号楼天台门没锁，有小孩上去玩", "closed"),
    (19, "sun", "construction", "8号楼旁边的道路施工把人行道全挖开了", "overdue_new"),
    (17, "wang", "environment", "3号楼前的草坪很久没修剪了", "closed"),
    (15, "li", "property", "5号楼水压还是很低", "duplicate:16"),
    (13, "alice", "facilities", "A bench near building 7 has a loose plank", "closed"),
    (11, "liu", "property", "1号楼的快递柜经常坏", "in_progress"),
    (9, "sun", "environment", "8号楼楼道灯一直亮着，白天也不关", "resolved"),
    (8, "wang", "safety", "3号楼一层有人私拉电线到楼外", "accepted"),
    (7, "li", "other", "小区里流浪猫越来越多，有人被抓伤", "queue"),
    (6, "alice", "construction", "Drilling next door starts at 7 am on Sundays", "resolved"),
    (5, "liu", "facilities", "儿童滑梯有一块塑料裂开了，有尖角", "accepted"),
    (4, "sun", "property", "8号楼电梯按钮失灵", "resolved"),
    (3, "wang", "environment", "3号楼门口的下水道堵了，一下雨就积水", "in_progress"),
    (2, "li", "other", "建议在5号楼和7号楼之间装一个自动售货机", "queue"),
    (1, "alice", "property", "The entrance door of building 7 does not close", "new"),
    (1, "liu", "safety", "地下车库有积水，可能漏电", "new"),
    (0, "sun", "other", "8号楼有人高空抛物，昨天差点砸到人", "queue"),
]

# Hazards an inspection round found: (days ago, place / responsible / days, rectified?)
HAZARDS = [
    (20, "地下车库B区 / 物业公司 / 7", True),
    (20, "5号楼楼道 / 物业公司 / 3", False),
]

# Proposals for the monthly meeting: (proposer, category code, text, supporters)
PROPOSALS = [
    (
        "wang",
        "facilities",
        "在3号楼和5号楼之间加装电动车充电桩",
        ["li", "liu", "sun", "alice", "zhao"],
    ),
    ("li", "facilities", "更新健身广场的老旧器材", ["wang", "sun", "liu"]),
    ("alice", "facilities", "Add covered bicycle parking next to building 7", ["li", "wang"]),
    ("sun", "other", "周末开放社区活动室给老人下棋", ["liu"]),
]
