"""The demo province behind `manage.py seed_demo` (DOMAIN.md §6.3).

Zhejiang with its 11 cities; the staff of a provincial 政企 department (industry teams of account
managers under supervisors, phone account managers, partner agents, the demo logins); group customers
in the tier mix A1 40 / A2 60 / B1 200 / B2 400 / C 900 / D 1,400 per 3,000, with hierarchies (bank
head office → provincial branch → city branches → district sub-branches, tax bureaus, SOE groups,
private groups with branches), contacts, 24 months of spend, group members, visits, current
account-manager assignments and a handful of deliberate near-duplicates for the data steward.

Everything is written in bulk so that 100,000 customers seed in minutes: bulk_create in batches, and on
PostgreSQL COPY for the two big fact tables (spend, members). The only history written is one
"created" row per customer (bulk_create_with_history); contacts, spend and members have none.
All randomness comes from one random.Random(seed): the same seed on the same day gives the same data.
"""

from __future__ import annotations

import io
import math
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dt_time

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_create_with_history

from channels.models import ChannelType, Partner, Role, Team, User
from customers import identifiers
from customers.models import (
    AccountManagerAssignment,
    Contact,
    Customer,
    GroupMember,
    SpendRecord,
    Visit,
)
from customers.naming import name_key
from customers.reference import ZHEJIANG
from customers.selectors import month_starts
from customers.services import customer_codes_assign, member_counts_refresh, member_months_recompute
from kam.demo import Summary, TimedSteps

BATCH = 2000  # rows per INSERT / customers per generation chunk: bounded memory at 100k customers

# --- the province -------------------------------------------------------------------------------------

CITIES = [(code, name) for (code, name, _en) in ZHEJIANG]
CITY_NAMES = dict(CITIES)
DISTRICTS = {code: districts for (code, _name, _en), districts in ZHEJIANG.items()}
AREA_CODES = {
    "330100": "0571",
    "330200": "0574",
    "330300": "0577",
    "330400": "0573",
    "330500": "0572",
    "330600": "0575",
    "330700": "0579",
    "330800": "0570",
    "330900": "0580",
    "331000": "0576",
    "331100": "0578",
}
POSTAL_CODES = {
    "330100": "310000",
    "330200": "315000",
    "330300": "325000",
    "330400": "314000",
    "330500": "313000",
    "330600": "312000",
    "330700": "321000",
    "330800": "324000",
    "330900": "316000",
    "331000": "318000",
    "331100": "323000",
}
# Share of the province's group customers per city (the economy, roughly).
CITY_WEIGHTS = {
    "330100": 22,
    "330200": 16,
    "330300": 13,
    "330400": 8,
    "330500": 5,
    "330600": 9,
    "330700": 10,
    "330800": 3,
    "330900": 2,
    "331000": 8,
    "331100": 4,
}
BEIJING = "110000"  # national head offices are registered in Beijing
STREETS = [
    "文三路",
    "解放路",
    "人民路",
    "中山路",
    "建设路",
    "环城北路",
    "学院路",
    "新华路",
    "凤起路",
    "延安路",
    "江南大道",
    "科技园路",
    "世纪大道",
    "青年路",
    "胜利路",
    "东方路",
    "湖滨路",
    "工业园路",
    "滨江路",
    "金融街",
]

# --- tiers (DOMAIN.md §1.2 and §6.3) --------------------------------------------------------------------

TIER_COUNTS_PER_3000 = {"A1": 40, "A2": 60, "B1": 200, "B2": 400, "C": 900, "D": 1400}
TIER_ORDER = ["A1", "A2", "B1", "B2", "C", "D"]
# Average monthly revenue band (RMB) and member band per tier; values are log-normal inside the band.
REVENUE_BANDS = {
    "A1": (100_000, 1_500_000),
    "A2": (30_000, 600_000),
    "B1": (30_000, 99_999),
    "B2": (10_000, 29_999),
    "C": (2_000, 9_999),
    "D": (200, 1_999),
}
MEMBER_BANDS = {"A1": (1000, 8000), "A2": (150, 3000), "B1": (300, 999), "B2": (100, 299), "C": (20, 99), "D": (1, 19)}
CONTACT_COUNTS = {"A1": (5, 8), "A2": (4, 7), "B1": (3, 5), "B2": (3, 4), "C": (2, 3), "D": (1, 2)}
VISITS_PER_YEAR = {"A1": (10, 14), "A2": (9, 13), "B1": (3, 5), "B2": (3, 4), "C": (1, 2), "D": (0, 1)}
VISIT_CYCLE_DAYS = {"A1": 30, "A2": 30, "B1": 90, "B2": 90, "C": 180, "D": 365}
# Categories a tier typically buys, with base shares of the bill.
SPEND_MIX = {
    "A": {
        "voice": 20,
        "data": 20,
        "leased_line": 20,
        "internet": 10,
        "value_added": 8,
        "cloud_idc": 12,
        "iot": 6,
        "other": 4,
    },
    "B": {"voice": 30, "data": 25, "leased_line": 15, "internet": 12, "value_added": 8, "cloud_idc": 10},
    "C": {"voice": 40, "data": 35, "internet": 15, "value_added": 10},
    "D": {"voice": 55, "data": 35, "value_added": 10},
}
TRENDS = [("stable", 70), ("growing", 15), ("declining", 10), ("drop", 5)]
# Chinese New Year (month, day): that month bills less (DOMAIN.md §6.3 seasonality).
NEW_YEAR = {2023: 1, 2024: 2, 2025: 1, 2026: 2, 2027: 2, 2028: 1, 2029: 2, 2030: 2, 2031: 1, 2032: 2}


def tier_counts(total: int) -> dict[str, int]:
    """The §6.3 tier mix scaled to `total` customers (largest remainders, so the counts add up)."""
    exact = {t: total * n / 3000 for t, n in TIER_COUNTS_PER_3000.items()}
    counts = {t: int(v) for t, v in exact.items()}
    for t in sorted(exact, key=lambda t: exact[t] - counts[t], reverse=True)[: total - sum(counts.values())]:
        counts[t] += 1
    return counts


# --- industries and names -----------------------------------------------------------------------------

# (key, share of groups, team name) — DOMAIN.md §6.3 industry mix.
INDUSTRY_MIX = [
    ("gov", 10, "政务"),
    ("edu", 7, "教育"),
    ("finance", 3, "金融"),
    ("health", 4, "医疗卫生"),
    ("manufacturing", 24, "制造业"),
    ("retail", 18, "商贸流通"),
    ("transport", 6, "交通物流"),
    ("construction", 8, "建筑地产"),
    ("it", 5, "信息技术"),
    ("hospitality", 7, "住宿餐饮"),
    ("other", 8, "综合服务"),
]
TEAM_INDUSTRY = {
    "gov": "S",
    "edu": "P",
    "finance": "J",
    "health": "Q",
    "manufacturing": "C",
    "retail": "F",
    "transport": "G",
    "construction": "E",
    "it": "I",
    "hospitality": "H",
}
# Strategic (A2) customers are list-based: government, hospitals, universities, banks, SOEs.
A2_MIX = [("gov", 35), ("edu", 15), ("health", 20), ("finance", 10), ("transport", 10), ("manufacturing", 10)]

TRADE_CHARS = (
    "恒达华信瑞丰鑫源盛泰宏远嘉禾金海天润博创和兴永安通汇新明东方正德银峰立科宇晟卓越顺聚佳星辰光耀鸿昌"
    "富康隆祥凯伟中联合众诚弘毅精工浩航腾飞巨森洲际广益合盈"
)
# Industry phrases (行业/经营特点) by GB/T 4754 section.
PHRASES = {
    "C": [
        "机械制造",
        "电子科技",
        "纺织",
        "服饰",
        "化工",
        "汽车零部件",
        "五金制品",
        "新材料",
        "电器",
        "塑业",
        "食品",
        "医疗器械",
        "印染",
        "轴承",
        "阀门",
        "泵业",
        "光电",
        "包装",
        "家具",
        "卫浴",
        "制药",
        "模具",
        "电机",
        "线缆",
    ],
    "F": [
        "贸易",
        "商贸",
        "百货",
        "超市",
        "医药连锁",
        "电器销售",
        "建材",
        "进出口",
        "供应链管理",
        "粮油",
        "汽车销售服务",
    ],
    "G": ["物流", "运输", "快递", "港务", "公共交通", "货运代理", "仓储", "航运", "客运"],
    "E": ["建设", "建筑工程", "装饰工程", "市政工程", "园林绿化工程", "安装工程"],
    "K": ["房地产开发", "物业管理", "置业"],
    "I": ["信息技术", "网络科技", "软件", "数据科技", "智能科技", "通信技术", "云计算科技"],
    "H": ["酒店管理", "餐饮管理", "大酒店", "宾馆", "度假村"],
    "A": ["农业开发", "生态农业", "茶业"],
    "B": ["矿业"],
    "D": ["水务", "燃气", "热电"],
    "L": ["商务咨询", "人力资源", "广告", "会展服务"],
    "M": ["检测技术", "工程设计", "环境科技"],
    "N": ["环保科技", "园林管理"],
    "O": ["家政服务", "汽车维修"],
    "R": ["文化传媒", "体育发展", "影视"],
    "J": ["小额贷款", "融资担保", "投资管理", "保险代理"],
    "Q": ["医院", "口腔门诊部", "医疗管理", "健康管理"],
    "P": ["教育科技", "培训学校"],
}
OTHER_SECTIONS = ["A", "B", "D", "L", "L", "M", "M", "N", "O", "O", "R", "R"]
PLACE_WORDS = [
    "文澜",
    "求是",
    "育才",
    "崇文",
    "启明",
    "春晖",
    "明德",
    "博文",
    "树人",
    "行知",
    "东方",
    "星洲",
    "天长",
    "胜利",
    "青蓝",
    "钱塘",
    "湖滨",
    "采荷",
    "景华",
    "紫阳",
    "新安",
    "云栖",
    "翠苑",
    "文晖",
    "凤凰",
    "绿城",
    "丰潭",
    "金沙",
    "长河",
    "嘉禾",
    "南苑",
    "北山",
    "中河",
    "朝晖",
    "白鹭",
    "桃源",
    "书香",
    "金桥",
    "江滨",
    "双溪",
]
BUREAUS = [
    "财政局",
    "公安局",
    "教育局",
    "卫生健康委员会",
    "自然资源和规划局",
    "生态环境局",
    "住房和城乡建设局",
    "交通运输局",
    "农业农村局",
    "商务局",
    "文化广电旅游局",
    "市场监督管理局",
    "人力资源和社会保障局",
    "应急管理局",
    "统计局",
    "医疗保障局",
    "民政局",
    "司法局",
    "审计局",
    "水利局",
    "体育局",
    "人民政府办公室",
    "发展和改革委员会",
    "城市管理局",
]
CENTRES = [
    "公共资源交易中心",
    "疾病预防控制中心",
    "大数据发展中心",
    "政务服务中心",
    "住房公积金管理中心",
    "急救中心",
    "社会保险服务中心",
    "图书馆",
    "档案馆",
    "博物馆",
]
CN_NUMBERS = "一二三四五六七八九十"
LEGAL_FORMS = [("有限公司", 70), ("股份有限公司", 12), ("有限责任公司", 18)]

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭"
    "陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔汤"
)
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红鹏辉建文斌宇浩凯晨婷雪琳峰欣怡佳俊杰志鑫海燕慧颖倩晓"
    "国庆立新春梅振宏丹蕾晶琪嘉诚"
)

# --- hierarchies ----------------------------------------------------------------------------------------

# Big groups present in every city: (key, industry section, authority, ownership, names by level).
# Level names follow the branch rule: a branch carries the full name of the legal entity it belongs to
# ({top}: the head office, {prov}: the provincial company), e.g. 中国工商银行股份有限公司杭州分行.
GROUPS = [
    (
        "icbc",
        "J",
        "91",
        "state",
        "中国工商银行股份有限公司",
        "{top}浙江省分行",
        "{top}{city}分行",
        "{top}{city}{district}支行",
    ),
    (
        "ccb",
        "J",
        "91",
        "state",
        "中国建设银行股份有限公司",
        "{top}浙江省分行",
        "{top}{city}分行",
        "{top}{city}{district}支行",
    ),
    (
        "tax",
        "S",
        "11",
        "government",
        "国家税务总局",
        "{top}浙江省税务局",
        "{top}{city}市税务局",
        "{top}{city}市{district_full}税务局",
    ),
    (
        "abc",
        "J",
        "91",
        "state",
        "中国农业银行股份有限公司",
        "{top}浙江省分行",
        "{top}{city}分行",
        "{top}{city}{district}支行",
    ),
    (
        "boc",
        "J",
        "91",
        "state",
        "中国银行股份有限公司",
        "{top}浙江省分行",
        "{top}{city}分行",
        "{top}{city}{district}支行",
    ),
    (
        "life",
        "J",
        "91",
        "state",
        "中国人寿保险股份有限公司",
        "{top}浙江省分公司",
        "{top}{city}分公司",
        "{top}{city}{district}支公司",
    ),
    # The provincial company is a legal entity of its own here; its branches carry its name.
    (
        "grid",
        "D",
        "91",
        "state",
        "国家电网有限公司",
        "国网浙江省电力有限公司",
        "{prov}{city}供电公司",
        "{prov}{city}市{district_full}供电公司",
    ),
    (
        "post",
        "G",
        "91",
        "state",
        "中国邮政集团有限公司",
        "{top}浙江省分公司",
        "{top}{city}市分公司",
        "{top}{city}市{district_full}分公司",
    ),
    (
        "sinopec",
        "B",
        "91",
        "state",
        "中国石油化工股份有限公司",
        "{top}浙江石油分公司",
        "{top}浙江{city}石油分公司",
        None,
    ),
    (
        "picc",
        "J",
        "91",
        "state",
        "中国人民财产保险股份有限公司",
        "{top}浙江省分公司",
        "{top}{city}市分公司",
        "{top}{city}市{district_full}支公司",
    ),
]
# Short names (简称) of the group's units: the long legal prefix replaced by the common abbreviation.
GROUP_SHORT = {
    "icbc": ("中国工商银行股份有限公司", "工行"),
    "ccb": ("中国建设银行股份有限公司", "建行"),
    "tax": ("国家税务总局", ""),
    "abc": ("中国农业银行股份有限公司", "农行"),
    "boc": ("中国银行股份有限公司", "中行"),
    "life": ("中国人寿保险股份有限公司", "国寿"),
    "grid": ("国网浙江省电力有限公司", "国网浙江电力"),
    "post": ("中国邮政集团有限公司", "邮政"),
    "sinopec": ("中国石油化工股份有限公司", "中石化"),
    "picc": ("中国人民财产保险股份有限公司", "人保财险"),
}
# The named account managers' hierarchies stay small enough for a 30-80 customer portfolio.
NAMED_GROUPS = {"icbc": "am_zhang", "ccb": "am_li", "tax": "am_wu"}

# --- staff -------------------------------------------------------------------------------------------

# username, display name, role, channel type code, team key (None: no team), superuser
DEMO_LOGINS = [
    ("admin", "系统管理员", Role.ADMIN, None, None, True),
    ("am_zhang", "张伟", Role.ACCOUNT_MANAGER, "account_manager", "finance", False),
    ("am_li", "李娜", Role.ACCOUNT_MANAGER, "account_manager", "finance", False),
    ("am_wu", "吴强", Role.ACCOUNT_MANAGER, "account_manager", "gov", False),
    ("sup_wang", "王芳", Role.SUPERVISOR, "account_manager", "finance", False),
    ("tam_zhou", "周敏", Role.PHONE_ACCOUNT_MANAGER, "phone_account_manager", "phone", False),
    ("agent_chen", "陈静", Role.AGENT, "group_hotline", None, False),
    ("ops_zhao", "赵磊", Role.DISPATCHER, "operations_center", None, False),
    ("steward_liu", "刘洋", Role.DATA_STEWARD, "operations_center", None, False),
    ("analyst_sun", "孙丽", Role.ANALYST, None, None, False),
    # Staff of the first core partner agent (the partner is linked once the partners exist).
    ("partner_qian", "钱芳", Role.PARTNER, "social_channel", None, False),
]
PARTNER_STAFF = (1, 2)  # background staff per partner agent (partner_qian counts for the first core one)
AM_PER_TEAM = 6
NAMED_PORTFOLIO = 40  # customers assigned directly to each named account manager (plus subsidiaries)


# --- plan ---------------------------------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class Plan:
    """One customer to create; `pk` is filled once it is inserted."""

    name: str
    short_name: str
    tier: str
    kind: str  # industry-mix key (team)
    section: str  # GB/T 4754 section
    city: str
    district: str | None
    authority: str  # credit-code registration authority + type: 91, 12, 11
    ownership: str
    parent: Plan | None = None
    depth: int = 0
    group: str = ""  # hierarchy key, for pre-assigning the named account managers' groups
    account_manager: str | None = None  # username
    strategic: bool = False
    status: str = Customer.Status.ACTIVE
    duplicate_of: Plan | None = None
    phone_like: Plan | None = None  # a near-duplicate entered with the same main phone
    credit_code: str | None = ""  # "" = generate one; None = none (an informal record)
    pk: int | None = None
    # generated facts
    revenue: float = 0.0
    trend: str = "stable"
    members: int = 0
    since: date | None = None
    phone: str = ""
    children: list[Plan] = field(default_factory=list)


class DemoGenerator(TimedSteps):
    def __init__(
        self,
        *,
        customers: int,
        seed: int = 2026,
        contacts_per_customer: int | None = None,
        members_per_customer: int | None = None,
        months: int = 24,
        monthly_totals: bool = False,
        today: date | None = None,
        progress: Callable[[str], None] = lambda message: None,
    ):
        if customers < 1:
            raise ValueError("customers must be at least 1")
        self.total = customers
        self.rng = random.Random(seed)
        self.contacts_per_customer = contacts_per_customer
        self.members_per_customer = members_per_customer
        self.today = today or timezone.localdate()
        self.months = month_starts(months, until=self.today)
        self.monthly_totals = monthly_totals
        self.progress = progress
        self.summary = Summary()
        self.scale = customers / 3000
        self.names: set[str] = set()
        self.serial = self.rng.randrange(31**5)  # credit-code bodies: unique per customer
        self.fixed_line = 0
        self.mobile = 0
        self.msisdn = 0
        self.now = timezone.now()

    # --- entry point ----------------------------------------------------------------------------------

    def run(self) -> Summary:
        started = time.monotonic()
        with transaction.atomic():
            self._timed("staff", self._create_staff)
            self._timed("plan", self._plan_customers)
            self._timed("assign", self._assign_account_managers)
            self._timed("customers", self._create_customers)
            self._timed("facts", self._create_facts)
            self._timed("codes", lambda: customer_codes_assign(Customer.objects.filter(is_demo=True)))
            self._timed("member counts", lambda: member_counts_refresh(customer_ids=None))
            self._timed("member months", lambda: member_months_recompute(customer_ids=None))
        self.summary.timings["total"] = time.monotonic() - started
        return self.summary

    # --- staff ----------------------------------------------------------------------------------------

    def _person_name(self) -> str:
        given = self.rng.choice(GIVEN_CHARS)
        if self.rng.random() < 0.7:
            given += self.rng.choice(GIVEN_CHARS)
        return self.rng.choice(SURNAMES) + given

    def _create_staff(self) -> None:
        channels = {c.code: c for c in ChannelType.objects.all()}
        kinds = [k for k, _share, _team in INDUSTRY_MIX]
        shares = {k: s for k, s, _team in INDUSTRY_MIX}
        team_labels = {k: t for k, _s, t in INDUSTRY_MIX}
        # 60 account managers per 3,000 customers (DOMAIN.md §6.3): the ratios stay as the province grows.
        n_am = max(len(kinds) + 3, round(60 * self.scale))
        per_kind = {k: max(1, round(n_am * shares[k] / 100)) for k in kinds}
        per_kind["finance"] += 2  # the named hierarchies are banks
        per_kind["gov"] += 1
        n_phone = max(2, round(4 * self.scale))

        teams: dict[str, list[Team]] = {}
        for kind in [*kinds, "phone"]:
            size = n_phone if kind == "phone" else per_kind[kind]
            label = "电话客户经理" if kind == "phone" else f"{team_labels[kind]}行业"
            teams[kind] = [
                Team(name=f"{label}组" if i == 0 else f"{label}{i + 1}组", industry_id=TEAM_INDUSTRY.get(kind))
                for i in range(math.ceil(size / AM_PER_TEAM))
            ]
        Team.objects.bulk_create([t for group in teams.values() for t in group], batch_size=BATCH)

        password = make_password(settings.DEMO_PASSWORD)  # one hash for all demo logins
        users: list[User] = []
        named: dict[str, User] = {}
        for username, display, role, channel, team_key, superuser in DEMO_LOGINS:
            user = User(
                username=username,
                display_name=display,
                role=role,
                password=password,
                channel_type=channels.get(channel),
                team=teams[team_key][0] if team_key else None,
                is_staff=superuser,
                is_superuser=superuser,
                mobile=self._next_mobile(),
            )
            named[username] = user
            users.append(user)
        self.pools: dict[str, list[User]] = defaultdict(list)
        supervisors: dict[int, User] = {}
        serial = 0

        def background(role: str, channel: str, team: Team) -> User:
            nonlocal serial
            serial += 1
            prefix = {Role.SUPERVISOR: "sup", Role.PHONE_ACCOUNT_MANAGER: "tam"}.get(role, "am")
            user = User(
                username=f"{prefix}_{serial:05d}",
                display_name=self._person_name(),
                role=role,
                team=team,
                channel_type=channels.get(channel),
                password=make_password(None),
                mobile=self._next_mobile(),
            )
            users.append(user)
            return user

        for kind, group in teams.items():
            role = Role.PHONE_ACCOUNT_MANAGER if kind == "phone" else Role.ACCOUNT_MANAGER
            channel = "phone_account_manager" if kind == "phone" else "account_manager"
            wanted = n_phone if kind == "phone" else per_kind[kind]
            members = [
                u for u in named.values() if u.team is not None and u.team.name == group[0].name and u.role == role
            ]
            self.pools[kind].extend(u for u in members if u.username not in NAMED_GROUPS.values())
            for i in range(wanted - len(members)):
                self.pools[kind].append(
                    background(role, channel, group[(i + len(members)) // AM_PER_TEAM % len(group)])
                )
            for team in group:
                supervisors[id(team)] = (
                    named["sup_wang"]
                    if team.name == "金融行业组"
                    else background(Role.SUPERVISOR, "account_manager", team)
                )
        User.objects.bulk_create(users, batch_size=BATCH)
        for group in teams.values():
            for team in group:
                team.supervisor = supervisors[id(team)]
        Team.objects.bulk_update([t for group in teams.values() for t in group], ["supervisor"], batch_size=BATCH)
        self.users = {u.username: u for u in users}
        self.admin = named["admin"]

        social = channels.get("social_channel")
        partners = []
        n_partners = max(3, round(3 * self.scale))
        for i in range(n_partners):
            city, city_name = CITIES[i % len(CITIES)]
            partners.append(
                Partner(
                    name=self._unique(lambda c=city_name: f"{c[:-1]}{self._trade()}通信服务有限公司"),
                    channel_type=social,
                    is_core=i < n_partners // 2 + 1,
                    region_code=city,
                    industries=["C", "F", "H"],
                    contact_phone=self._next_fixed_line(city),
                )
            )
        staff: list[User] = []
        if social is not None:
            Partner.objects.bulk_create(partners, batch_size=BATCH)
            staff = self._create_partner_staff(partners, named["partner_qian"], social)
        self.summary.counts[Team._meta.verbose_name_plural] = sum(len(g) for g in teams.values())
        self.summary.counts[User._meta.verbose_name_plural] = len(users) + len(staff)
        self.summary.counts[Partner._meta.verbose_name_plural] = len(partners) if social is not None else 0

    def _create_partner_staff(self, partners: list[Partner], qian: User, social: ChannelType) -> list[User]:
        """1-2 staff logins (role partner) per partner agent; partner_qian works for the first core one."""
        first_core = next(p for p in partners if p.is_core)
        qian.partner = first_core
        qian.save(update_fields=["partner"])
        staff = []
        for partner in partners:
            wanted = self.rng.randint(*PARTNER_STAFF) - (partner is first_core)
            for _i in range(max(0, wanted)):
                staff.append(
                    User(
                        username=f"ptn_{len(staff) + 1:05d}",
                        display_name=self._person_name(),
                        role=Role.PARTNER,
                        channel_type=social,
                        partner=partner,
                        password=make_password(None),
                        mobile=self._next_mobile(),
                    )
                )
        User.objects.bulk_create(staff, batch_size=BATCH)
        self.users.update((u.username, u) for u in staff)
        return staff

    # --- customers: plan --------------------------------------------------------------------------------

    def _plan_customers(self) -> None:
        budget = tier_counts(self.total)
        plans: list[Plan] = []

        def take(tier: str) -> str | None:
            for t in TIER_ORDER[TIER_ORDER.index(tier) :]:
                if budget[t] > 0:
                    budget[t] -= 1
                    return t
            return None

        # 1. Nationwide groups present in the province. Small provinces get fewer groups and cities.
        n_groups = min(len(GROUPS), max(3, round(len(GROUPS) * self.scale)))
        if self.total < 40:
            n_groups = 0
        n_cities = min(len(CITIES), max(2, round(11 * self.scale)))
        for key, section, authority, ownership, top, province, city_fmt, district_fmt in GROUPS[:n_groups]:
            named = key in NAMED_GROUPS
            districts_per_city = min(2, round(2 * self.scale)) if named else round(2 * self.scale)
            kind = {"J": "finance", "S": "gov", "G": "transport", "D": "other", "B": "other"}[section]
            hq_tier = take("A1")
            if hq_tier is None:
                break
            hq = Plan(top, "", hq_tier, kind, section, BEIJING, None, authority, ownership, group=key)
            prov = Plan(
                province.format(top=top),
                "",
                take("A2") or "D",
                kind,
                section,
                "330100",
                "330106",
                authority,
                ownership,
                parent=hq,
                depth=1,
                group=key,
                strategic=True,
            )
            plans += [hq, prov]
            cities = CITIES if named and n_cities == len(CITIES) else CITIES[:n_cities]
            for city_code, city_name in cities:
                tier = take("A2" if section == "S" else "B1")
                if tier is None:
                    break
                city = Plan(
                    city_fmt.format(top=top, prov=prov.name, city=city_name[:-1]),
                    "",
                    tier,
                    kind,
                    section,
                    city_code,
                    DISTRICTS[city_code][0][0],
                    authority,
                    ownership,
                    parent=prov,
                    depth=2,
                    group=key,
                    strategic=tier == "A2",
                )
                plans.append(city)
                if district_fmt is None or (named and city_code not in ("330100", "330200")):
                    continue
                for district_code, district_name in DISTRICTS[city_code][1 : 1 + districts_per_city]:
                    tier = take("B2")
                    if tier is None:
                        break
                    plans.append(
                        Plan(
                            district_fmt.format(
                                top=top,
                                prov=prov.name,
                                city=city_name[:-1],
                                district=_stem(district_name),
                                district_full=district_name,
                            ),
                            "",
                            tier,
                            kind,
                            section,
                            city_code,
                            district_code,
                            authority,
                            ownership,
                            parent=city,
                            depth=3,
                            group=key,
                        )
                    )

        # 2. Standalone customers in the remaining tier mix; some larger private groups get branches.
        tiers = [t for t in TIER_ORDER for _i in range(budget[t])]
        self.rng.shuffle(tiers)
        standalone: list[Plan] = []
        for tier in tiers:
            standalone.append(self._standalone(tier))
        # Branches re-use lower-tier slots: a group's city branches are customers of their own city.
        lower = [p for p in standalone if p.tier in ("B2", "C", "D") and p.authority == "91"]
        self.rng.shuffle(lower)
        for parent in [
            p for p in standalone if p.tier in ("A1", "B1") and p.authority == "91" and p.name.endswith("集团有限公司")
        ]:
            if self.rng.random() > 0.4:
                continue
            for city_code, city_name in self.rng.sample(CITIES, self.rng.randint(1, 3)):
                if not lower:
                    break
                branch = lower.pop()
                branch.name = self._unique(lambda p=parent, c=city_name: f"{p.name}{c[:-1]}分公司")
                branch.short_name = f"{parent.short_name}{city_name[:-1]}分公司"
                branch.kind, branch.section, branch.city = parent.kind, parent.section, city_code
                branch.ownership = parent.ownership
                branch.district = self.rng.choice(DISTRICTS[city_code])[0]
                branch.parent, branch.depth = parent, 1
        plans += standalone

        # 3. A handful of near-duplicates for the data steward (seed 002: 北京工行 vs 北京工商银行).
        if self.total >= 100:
            self._plan_duplicates(plans)
        for plan in plans:
            if plan.group and not plan.short_name:
                long, short = GROUP_SHORT[plan.group]
                plan.short_name = plan.name.replace(long, short, 1) if plan.name != long else ""
            self.names.add(plan.name)
        self.plans = plans
        self.summary.counts[Customer._meta.verbose_name_plural] = len(plans)

    def _plan_duplicates(self, plans: list[Plan]) -> None:
        """Replace a few D-tier standalone slots (the total stays exact) with informal re-entries."""
        by_name = {p.name: p for p in plans}
        spare = [p for p in plans if p.tier == "D" and p.parent is None and not p.duplicate_of]
        pairs: list[tuple[str, Plan | None, dict]] = []
        hz_icbc = by_name.get("中国工商银行股份有限公司杭州分行")
        if hz_icbc:
            pairs.append(("杭州工行", hz_icbc, {}))
            pairs.append(("杭州工商银行", hz_icbc, {}))
        nb_ccb = by_name.get("中国建设银行股份有限公司宁波分行")
        if nb_ccb:
            pairs.append(("宁波建行", nb_ccb, {}))
        # The operator's own provincial company as a customer, and a sales person's shorthand for it.
        mobile = Plan(
            "中国移动通信集团浙江有限公司杭州分公司",
            "浙江移动杭州分公司",
            "B2",
            "it",
            "I",
            "330100",
            "330106",
            "91",
            "state",
        )
        pairs.append(("中移动杭州分公司", mobile, {}))
        companies = [
            p
            for p in plans
            if p.tier in ("B1", "B2", "C")
            and p.parent is None
            and p.authority == "91"
            and p.name.endswith("有限公司")
            and not p.name.endswith("股份有限公司")
        ]
        for original in self.rng.sample(companies, min(3, len(companies))):
            variant = original.name.replace("有限公司", "有限责任公司", 1)
            if variant.startswith(original.name[:2]) and self.rng.random() < 0.5:
                variant = variant[2:]  # the city left out: 恒达科技有限责任公司
            pairs.append((variant, original, {"same_phone": True}))
        # The formal 中国移动 record takes a B2 slot, the informal entries D slots: the tier mix holds.
        b2 = [p for p in plans if p.tier == "B2" and p.parent is None and not p.group and not p.children]
        b2 = [p for p in b2 if not any(c.parent is p for c in plans)][:1]
        if len(spare) < len(pairs) or not b2:
            return
        self._replace(plans, b2[0], mobile)
        slots = spare[-len(pairs) :]
        for (name, original, options), slot in zip(pairs, slots, strict=True):
            duplicate = Plan(
                name,
                "",
                "",
                original.kind,
                original.section,
                original.city,
                original.district,
                original.authority,
                original.ownership,
                credit_code=None,
                duplicate_of=original,
                status=Customer.Status.PROSPECT,
                phone_like=original if options.get("same_phone") else None,
            )
            self.names.add(name)
            self._replace(plans, slot, duplicate)
        self.summary.counts[_("deliberate near-duplicates")] = len(pairs)

    @staticmethod
    def _replace(plans: list[Plan], old: Plan, new: Plan) -> None:
        plans[plans.index(old)] = new

    def _city(self) -> tuple[str, str]:
        code = self.rng.choices(list(CITY_WEIGHTS), weights=list(CITY_WEIGHTS.values()))[0]
        return code, CITY_NAMES[code]

    def _unique(self, make: Callable[[], str], section: str = "C") -> str:
        for _attempt in range(30):
            name = make()
            if name not in self.names:
                self.names.add(name)
                return name
        # Crowded name space (very large provinces): a three-character trade name always fits.
        while True:
            name = self._company_name(section, self._city()[0], None, tier="D", trade_length=3)[0]
            if name not in self.names:
                self.names.add(name)
                return name

    def _trade(self, length: int = 2) -> str:
        return "".join(self.rng.sample(TRADE_CHARS, length))

    def _company_name(
        self, section: str, city: str, district: str | None, *, tier: str, trade_length: int = 2
    ) -> tuple[str, str]:
        """区划 + 字号 + 行业 + 组织形式, e.g. 杭州恒达机械制造有限公司; larger groups register as 浙江... 集团."""
        trade = self._trade(trade_length)
        phrase = self.rng.choice(PHRASES[section])
        city_short = CITY_NAMES[city][:-1]
        if tier in ("A1", "B1") and self.rng.random() < 0.6:
            return f"浙江{trade}{phrase}集团有限公司", f"{trade}集团"
        region = city_short
        if district and tier in ("C", "D") and self.rng.random() < 0.4:
            region += _stem(dict(DISTRICTS[city])[district])
        form = self.rng.choices([f for f, _w in LEGAL_FORMS], weights=[w for _f, w in LEGAL_FORMS])[0]
        return f"{region}{trade}{phrase}{form}", f"{trade}{phrase}"

    def _standalone(self, tier: str) -> Plan:
        rng = self.rng
        mix = A2_MIX if tier == "A2" else [(k, s) for k, s, _t in INDUSTRY_MIX]
        kind = rng.choices([k for k, _s in mix], weights=[s for _k, s in mix])[0]
        city, city_name = self._city()
        district, district_name = rng.choice(DISTRICTS[city])
        c = city_name[:-1]
        # A county-level city is named on its own (余姚市, not 宁波市余姚市).
        local = district_name if district_name.endswith("市") else city_name + district_name
        ownership = Customer.Ownership.PRIVATE
        authority = "91"
        short = ""
        if kind == "gov":
            section, authority, ownership = "S", "11", Customer.Ownership.GOVERNMENT
            city_level = tier in ("A1", "A2", "B1")
            options = [
                lambda: f"{city_name}{rng.choice(BUREAUS)}" if city_level else f"{local}{rng.choice(BUREAUS)}",
                lambda: f"{local}{rng.choice(PLACE_WORDS)}街道办事处",
                lambda: f"{city_name}{rng.choice(CENTRES)}" if city_level else f"{local}{rng.choice(CENTRES)}",
            ]
            pick = rng.choices(options, weights=[6, 0 if city_level else 3, 2])[0]
            if pick is options[2]:
                authority = "12"
            name = self._unique(pick, "L")
        elif kind == "edu" and rng.random() < 0.8:
            section, authority, ownership = "P", "12", Customer.Ownership.GOVERNMENT
            if tier in ("A1", "A2", "B1"):
                name = self._unique(
                    lambda: rng.choice(
                        [
                            f"{c}{rng.choice(PLACE_WORDS)}职业技术学院",
                            f"浙江{rng.choice(PLACE_WORDS)}学院",
                            f"{city_name}第{rng.choice(CN_NUMBERS)}中学",
                            f"{city_name}{rng.choice(PLACE_WORDS)}高级中学",
                        ]
                    ),
                    "P",
                )
            else:
                name = self._unique(
                    lambda: (
                        f"{local}{rng.choice(PLACE_WORDS)}"
                        f"{rng.choice(['小学', '中学', '初级中学', '幼儿园', '实验学校'])}"
                    ),
                    "P",
                )
        elif kind == "health" and rng.random() < 0.6:
            section, authority, ownership = "Q", "12", Customer.Ownership.GOVERNMENT
            if tier in ("A1", "A2", "B1"):
                name = self._unique(
                    lambda: rng.choice(
                        [
                            f"{city_name}第{rng.choice(CN_NUMBERS)}人民医院",
                            f"{city_name}中医院",
                            f"{city_name}妇幼保健院",
                            f"{city_name}中心医院",
                            f"{local}人民医院",
                        ]
                    ),
                    "Q",
                )
            else:
                name = self._unique(lambda: f"{local}{rng.choice(PLACE_WORDS)}社区卫生服务中心", "Q")
        elif kind == "finance" and tier in ("A1", "A2", "B1"):
            # Local banks: 农村商业银行 of a county, 村镇银行 of a town.
            section, ownership = "J", Customer.Ownership.MIXED
            stem = _stem(district_name)
            name = self._unique(
                lambda: rng.choice(
                    [
                        f"浙江{stem}农村商业银行股份有限公司",
                        f"{c}{stem}{rng.choice(PLACE_WORDS)}村镇银行股份有限公司",
                    ]
                ),
                "J",
            )
            short = f"{stem}农商行" if "农村商业银行" in name else ""
        else:
            section = {
                "edu": "P",
                "health": "Q",
                "finance": "J",
                "manufacturing": "C",
                "retail": "F",
                "transport": "G",
                "construction": rng.choice("EEK"),
                "it": "I",
                "hospitality": "H",
                "other": rng.choice(OTHER_SECTIONS),
            }[kind]
            ownership = rng.choices(
                [
                    Customer.Ownership.PRIVATE,
                    Customer.Ownership.STATE,
                    Customer.Ownership.MIXED,
                    Customer.Ownership.FOREIGN,
                    Customer.Ownership.HMT,
                    Customer.Ownership.COLLECTIVE,
                ],
                weights=[70, 8, 8, 6, 5, 3],
            )[0]
            names: list[str] = []
            name = self._unique(
                lambda: names.append(self._company_name(section, city, district, tier=tier)) or names[-1][0], section
            )
            short = next((s for n, s in reversed(names) if n == name), "")
        return Plan(name, short, tier, kind, section, city, district, authority, ownership, strategic=tier == "A2")

    # --- account managers ------------------------------------------------------------------------------

    def _assign_account_managers(self) -> None:
        """A/B to the industry team's account managers, C to phone account managers, D mostly to nobody.
        A group in the province is served as a whole by one account manager (the top node is assigned;
        its branches are assigned to the same person). The named demo managers get their bank or bureau
        group plus a portfolio of their industry topped up to NAMED_PORTFOLIO."""
        rng = self.rng
        for plan in self.plans:
            if plan.parent is not None:
                plan.parent.children.append(plan)
        groups = sum(1 for p in self.plans if p.parent is None and p.children)
        self.summary.counts[_("groups with subsidiaries")] = groups
        named_count: Counter = Counter()
        for plan in self.plans:
            owner = NAMED_GROUPS.get(plan.group)
            if owner and plan.depth >= 1 and plan.tier != "D":
                plan.account_manager = owner
                named_count[owner] += 1
        for owner, kind in (("am_zhang", "finance"), ("am_li", "finance"), ("am_wu", "gov")):
            # Their own industry first; small provinces have few banks, so other industries fill up.
            candidates = sorted(
                (
                    p
                    for p in self.plans
                    if p.parent is None
                    and not p.group
                    and p.tier in ("A2", "B1", "B2", "C")
                    and p.account_manager is None
                    and not p.duplicate_of
                ),
                key=lambda p, kind=kind: p.kind != kind,
            )
            # Small provinces: a smaller portfolio, so the other managers keep customers too.
            room = min(NAMED_PORTFOLIO, max(15, self.total // 8)) - named_count[owner]
            top_up = [p for p in candidates if p.tier != "C"][: max(0, room - 8)]
            top_up += [p for p in candidates if p.tier == "C"][: max(0, room - len(top_up))]
            for plan in top_up:
                self._assign_tree(plan, owner)
        phone_pool = self.pools["phone"]
        counters: Counter = Counter()
        for plan in sorted(self.plans, key=lambda p: p.depth):  # a group's top node first
            if plan.account_manager is not None or plan.duplicate_of is not None:
                continue
            if plan.parent is not None and plan.parent.account_manager is not None:
                plan.account_manager = plan.parent.account_manager
                continue
            if plan.depth == 0 and plan.city == BEIJING:
                continue  # national head offices are served by the operator's headquarters
            if plan.tier in ("A1", "A2", "B1", "B2"):
                pool = self.pools[plan.kind] or self.pools["other"]
            elif plan.tier == "C" or (plan.tier == "D" and rng.random() < 0.1):
                pool = phone_pool
            else:
                continue
            owner = pool[counters[plan.kind if pool is not phone_pool else "phone"] % len(pool)].username
            counters[plan.kind if pool is not phone_pool else "phone"] += 1
            self._assign_tree(plan, owner)
        # Near-duplicates were entered by a different manager than the original's (撞单, seed 002).
        for plan in self.plans:
            if plan.duplicate_of is not None:
                other = [u.username for u in self.pools[plan.kind] if u.username != plan.duplicate_of.account_manager]
                plan.account_manager = rng.choice(other) if other and rng.random() < 0.5 else None

    def _assign_tree(self, plan: Plan, owner: str) -> None:
        plan.account_manager = owner
        for child in plan.children:
            if child.account_manager is None:
                self._assign_tree(child, owner)

    # --- customers: rows ---------------------------------------------------------------------------------

    def _credit_code(self, plan: Plan) -> str | None:
        if plan.credit_code is None:
            return None
        self.serial += 1
        body, n = [], self.serial
        for _i in range(6):
            n, digit = divmod(n, 31)
            body.append(identifiers.USCC_CHARSET[digit])
        head = (
            "MA" if plan.authority == "91" and self.rng.random() < 0.7 else "".join(self.rng.choices("0123456789", k=2))
        )
        region = plan.city if plan.city != BEIJING else BEIJING
        return identifiers.make_credit_code(
            authority=plan.authority, region_code=region, body8=head + "".join(reversed(body))
        )

    def _next_fixed_line(self, city: str) -> str:
        self.fixed_line += 1
        return f"{AREA_CODES.get(city, '010')}-8{self.fixed_line % 10_000_000:07d}"

    def _next_mobile(self) -> str:
        self.mobile += 1
        return f"138{self.mobile:08d}"

    def _facts_for(self, plan: Plan) -> None:
        """Revenue level, trend class, member count and relationship start of one customer."""
        rng = self.rng
        tier = plan.tier or "D"
        plan.revenue = _log_normal_in(rng, *REVENUE_BANDS[tier])
        plan.trend = rng.choices([t for t, _w in TRENDS], weights=[w for _t, w in TRENDS])[0]
        plan.members = (
            self.members_per_customer
            if self.members_per_customer is not None
            else round(_log_normal_in(rng, *MEMBER_BANDS[tier]))
        )
        if plan.trend == "drop" and plan.status == Customer.Status.ACTIVE:
            plan.status = Customer.Status.AT_RISK
        if plan.tier == "D" and plan.status == Customer.Status.ACTIVE and rng.random() < 0.05:
            plan.status = Customer.Status.PROSPECT
        if plan.status != Customer.Status.PROSPECT:
            plan.since = self.today - timedelta(days=rng.randint(400, 15 * 365))

    def _customer_row(self, plan: Plan) -> Customer:
        rng = self.rng
        self._facts_for(plan)
        source = plan.phone_like
        plan.phone = source.phone if source is not None and source.phone else self._next_fixed_line(plan.city)
        key = name_key(plan.name)
        tier_ab = plan.tier in ("A1", "A2", "B1", "B2")
        members = (
            plan.members
            if self.members_per_customer is None
            else round(_log_normal_in(rng, *MEMBER_BANDS[plan.tier or "D"]))
        )
        employees = max(members, 3) + rng.randint(0, max(3, members // 2))
        district = plan.district or plan.city
        city_name = CITY_NAMES.get(plan.city, "北京市")
        district_name = dict(DISTRICTS.get(plan.city, [])).get(plan.district, "")
        sensitive = {}
        if tier_ab:
            sensitive = {
                "main_business": f"{plan.short_name or plan.name}主营{PHRASES.get(plan.section, ['综合'])[0]}等业务。",
                "business_needs": rng.choice(
                    [
                        "分支机构组网专线扩容",
                        "办公楼宇5G室内覆盖",
                        "云视频会议与移动办公",
                        "数据中心灾备与上云",
                        "物联网设备连接管理",
                        "统一通信与云总机",
                    ]
                ),
                "key_purchase_factors": rng.choice(["网络质量与服务响应", "价格与合同期限", "一体化解决方案能力"]),
                "purchase_decision_process": "信息中心提出需求，分管领导审批，采购部门招标。",
                "annual_revenue": round(plan.revenue * 12 * rng.uniform(40, 400) / 10_000, 2),
                "telecom_budget": round(plan.revenue * 12 * rng.uniform(1.0, 1.5) / 10_000, 2),
                "attitude": rng.choice(list(Customer.Attitude.values)[:4]),
                "competitor_products": rng.choice(
                    ["", "部分分支使用其他运营商宽带", "互联网专线由其他运营商提供", "云服务使用第三方公有云"]
                ),
            }
        return Customer(
            name=plan.name,
            short_name=plan.short_name,
            credit_code=self._credit_code(plan),
            address=f"{'浙江省' if plan.city != BEIJING else ''}{city_name}{district_name}{rng.choice(STREETS)}"
            f"{rng.randint(1, 999)}号",
            postal_code=POSTAL_CODES.get(plan.city, "100000"),
            region_id=district if plan.city != BEIJING else BEIJING,
            industry_id=plan.section,
            ownership=plan.ownership,
            phone=plan.phone,
            employees=employees,
            relationship_since=plan.since,
            status=plan.status,
            tier=plan.tier,
            is_strategic=plan.strategic,
            account_manager_id=self.users[plan.account_manager].pk if plan.account_manager else None,
            parent_id=plan.parent.pk if plan.parent else None,
            name_core=key.core,
            name_region=key.region,
            phone_digits=identifiers.phone_digits(plan.phone),
            is_demo=True,
            created_by=self.admin,
            **sensitive,
        )

    def _create_customers(self) -> None:
        for depth in range(4):
            level = [p for p in self.plans if p.depth == depth]
            for chunk in _chunks(level, BATCH):
                rows = [self._customer_row(p) for p in chunk]
                bulk_create_with_history(
                    rows,
                    Customer,
                    batch_size=BATCH,
                    default_user=self.admin,
                    default_change_reason="演示数据",
                    default_date=self.now,
                )
                for plan, row in zip(chunk, rows, strict=True):
                    plan.pk = row.pk
        assignments = [
            AccountManagerAssignment(
                customer_id=p.pk,
                account_manager_id=self.users[p.account_manager].pk,
                started_at=timezone.make_aware(
                    datetime.combine(max(p.since or self.today, self.today - timedelta(days=3 * 365)), dt_time(9))
                ),
                reason="年度客户经理配置",
                assigned_by=self.admin,
            )
            for p in self.plans
            if p.account_manager
        ]
        AccountManagerAssignment.objects.bulk_create(assignments, batch_size=BATCH)
        self.summary.counts[AccountManagerAssignment._meta.verbose_name_plural] = len(assignments)

    # --- contacts, spend, members, visits ----------------------------------------------------------------

    def _create_facts(self) -> None:
        for chunk in _chunks(self.plans, BATCH):
            contacts = [c for p in chunk for c in self._contacts(p)]
            Contact.objects.bulk_create(contacts, batch_size=BATCH)
            by_customer: dict[int, list[Contact]] = defaultdict(list)
            for contact in contacts:
                by_customer[contact.customer_id].append(contact)
            self.summary.counts[Contact._meta.verbose_name_plural] += len(contacts)
            self.summary.counts[SpendRecord._meta.verbose_name_plural] += _load(
                SpendRecord,
                ["customer_id", "month", "category", "amount", "updated_at"],
                (row for p in chunk for row in self._spend(p)),
                self.now,
            )
            self.summary.counts[GroupMember._meta.verbose_name_plural] += _load(
                GroupMember,
                ["customer_id", "msisdn", "status", "joined_on", "left_on", "updated_at"],
                (row for p in chunk for row in self._members(p)),
                self.now,
            )
            visits: list[tuple[Visit, list[Contact]]] = [v for p in chunk for v in self._visits(p, by_customer[p.pk])]
            Visit.objects.bulk_create([v for v, _c in visits], batch_size=BATCH)
            Visit.contacts.through.objects.bulk_create(
                [Visit.contacts.through(visit_id=v.pk, contact_id=c.pk) for v, met in visits for c in met],
                batch_size=BATCH,
            )
            self.summary.counts[Visit._meta.verbose_name_plural] += len(visits)

    def _contacts(self, plan: Plan) -> list[Contact]:
        rng = self.rng
        tier = plan.tier or "D"
        n = self.contacts_per_customer if self.contacts_per_customer is not None else rng.randint(*CONTACT_COUNTS[tier])
        if plan.kind == "gov":
            titles = [
                ("局长", "领导班子", "decision_maker"),
                ("办公室主任", "办公室", "influencer"),
                ("信息中心主任", "信息中心", "technical"),
                ("财务科科长", "财务科", "finance"),
                ("综合科科员", "综合科", "user"),
                ("副局长", "领导班子", "decision_maker"),
            ]
        elif plan.section == "J":
            titles = [
                ("行长", "行领导", "decision_maker"),
                ("科技部总经理", "金融科技部", "technical"),
                ("办公室主任", "办公室", "influencer"),
                ("财务会计部经理", "财务会计部", "finance"),
                ("运营管理部经理", "运营管理部", "user"),
                ("副行长", "行领导", "decision_maker"),
            ]
        else:
            titles = [
                ("总经理", "总经理办公室", "decision_maker"),
                ("信息部经理", "信息部", "technical"),
                ("行政经理", "行政部", "influencer"),
                ("财务总监", "财务部", "finance"),
                ("采购经理", "采购部", "gatekeeper"),
                ("副总经理", "总经理办公室", "decision_maker"),
                ("IT工程师", "信息部", "user"),
                ("前台主管", "行政部", "user"),
            ]
        contacts = []
        for i in range(n):
            title, department, role = titles[i % len(titles)]
            mobile = self._next_mobile()
            contacts.append(
                Contact(
                    customer_id=plan.pk,
                    name=self._person_name(),
                    gender=rng.choice("MF"),
                    title=title,
                    department=department,
                    decision_role=role,
                    is_key_person=i < 2 or role == "decision_maker",
                    influence="high" if role == "decision_maker" else rng.choice(["medium", "low"]),
                    attitude=rng.choice(["supportive", "friendly", "neutral", "neutral", "cool"]),
                    education=rng.choice(["bachelor", "bachelor", "master", "college"]),
                    mobile=mobile,
                    mobile_digits=mobile,
                    office_phone=plan.phone if i == 0 else "",
                    office_phone_digits=identifiers.phone_digits(plan.phone) if i == 0 else "",
                    active_from=plan.since,
                )
            )
        # Key persons change (seed 000): a few left in the past year; their successor holds the title.
        if n >= 2 and plan.since and rng.random() < 0.08:
            left = self.today - timedelta(days=rng.randint(20, 330))
            gone, successor = contacts[0], contacts[1]
            gone.active_to = max(left, gone.active_from or left)
            successor.title, successor.department, successor.decision_role = (
                gone.title,
                gone.department,
                gone.decision_role,
            )
            successor.is_key_person, successor.active_from = True, gone.active_to + timedelta(days=rng.randint(1, 20))
        return contacts

    def _spend(self, plan: Plan) -> Iterator[tuple]:
        if plan.status == Customer.Status.PROSPECT and not self.monthly_totals:
            return  # a prospect has no bill yet (the benchmark wants exactly one row per month everywhere)
        rng = self.rng
        m = len(self.months)
        trend = plan.trend
        slope = {
            "stable": rng.uniform(-0.05, 0.08),
            "growing": rng.uniform(0.25, 0.8),
            "declining": rng.uniform(-0.45, -0.2),
            "drop": rng.uniform(-0.05, 0.05),
        }[trend]
        drop_from = m - rng.randint(1, 3)
        drop_to = rng.uniform(0.2, 0.5)
        mix = SPEND_MIX[(plan.tier or "D")[0]]
        weights = {c: w * rng.uniform(0.5, 1.5) for c, w in mix.items()}
        total_weight = sum(weights.values())
        main = max(weights, key=weights.get)
        levels = []
        for i, month in enumerate(self.months):
            factor = 1 + slope * (i - (m - 1)) / max(1, m - 1)  # the band holds for the latest months
            if trend == "drop" and i >= drop_from:
                factor *= drop_to
            if NEW_YEAR.get(month.year) == month.month:
                factor *= 0.82
            levels.append(max(0.0, plan.revenue * factor * rng.gauss(1, 0.04)))
        for month, level in zip(self.months, levels, strict=True):
            if self.monthly_totals:
                yield plan.pk, month, main, f"{level:.2f}"
                continue
            for category, weight in weights.items():
                yield plan.pk, month, category, f"{level * weight / total_weight * rng.uniform(0.9, 1.1):.2f}"

    def _members(self, plan: Plan) -> Iterator[tuple]:
        rng = self.rng
        if plan.status == Customer.Status.PROSPECT and self.members_per_customer is None:
            return
        left_share = {"stable": 0.05, "growing": 0.03, "declining": 0.15, "drop": 0.3}[plan.trend]
        start = plan.since or self.today - timedelta(days=400)
        span = max(1, (self.today - start).days)
        recent = max(1, min(span, 90))
        for _i in range(plan.members):
            self.msisdn += 1
            joined = start + timedelta(days=int(span * rng.random() ** (0.6 if plan.trend == "growing" else 1.2)))
            if rng.random() < left_share:
                window = recent if plan.trend == "drop" else max(1, (self.today - joined).days)
                left = max(joined, self.today - timedelta(days=rng.randint(0, window)))
                status = GroupMember.Status.PORTED_OUT if rng.random() < 0.3 else GroupMember.Status.LEFT
                yield plan.pk, f"139{self.msisdn:08d}", status, joined, left
            else:
                yield plan.pk, f"139{self.msisdn:08d}", GroupMember.Status.ACTIVE, joined, None

    def _visits(self, plan: Plan, contacts: list[Contact]) -> Iterator[tuple[Visit, list[Contact]]]:
        if not plan.account_manager or plan.status == Customer.Status.PROSPECT:
            return
        rng = self.rng
        tier = plan.tier or "D"
        user = self.users[plan.account_manager]
        n = rng.randint(*VISITS_PER_YEAR[tier])
        days = sorted(rng.sample(range(1, 366), n), reverse=True)
        active = [c for c in contacts if c.active_to is None] or contacts
        for i, ago in enumerate(days):
            visited_on = self.today - timedelta(days=ago)
            if user.role == Role.PHONE_ACCOUNT_MANAGER:
                kind = Visit.Kind.PHONE
            else:
                kind = rng.choices([Visit.Kind.ON_SITE, Visit.Kind.PHONE, Visit.Kind.SENIOR], weights=[6, 3, 1])[0]
            purpose = rng.choice(VISIT_PURPOSES)
            next_on = None
            if i == 0:  # the latest visit plans the next one; some of those are already overdue
                next_on = visited_on + timedelta(days=VISIT_CYCLE_DAYS[tier] + rng.randint(-10, 10))
            visit = Visit(
                customer_id=plan.pk,
                visited_on=visited_on,
                kind=kind,
                purpose=purpose,
                outcome=rng.choice(VISIT_OUTCOMES),
                next_step=rng.choice(NEXT_STEPS),
                next_visit_on=next_on,
                visited_by=user,
            )
            yield visit, rng.sample(active, min(len(active), rng.randint(1, 2))) if active else []


VISIT_PURPOSES = [
    "季度例行拜访",
    "专线扩容需求沟通",
    "合同续约洽谈",
    "5G专网方案交流",
    "满意度回访",
    "云总机新业务推介",
    "故障处理回访",
    "高层互访",
    "账单核对与费用说明",
    "年度合作框架沟通",
    "集团V网成员发展",
    "物联网卡需求调研",
]
VISIT_OUTCOMES = [
    "客户认可现有服务，提出部分分支网络质量问题。",
    "客户有扩容意向，需提供报价方案。",
    "客户对价格较敏感，竞争对手在接触。",
    "已确认需求，下周提交方案。",
    "客户信息中心负责人更换，需重新建立关系。",
    "满意度较高，愿意推荐同行业客户。",
]
NEXT_STEPS = ["提交方案与报价", "安排技术交流", "跟进合同审批", "邀请参观体验厅", "协调网络优化", "下季度回访"]


def _stem(district: str) -> str:
    """西湖区 → 西湖, 景宁畲族自治县 → 景宁 (district names inside company names drop their suffix)."""
    for suffix in ("畲族自治县", "区", "县", "市"):
        if district.endswith(suffix) and len(district) - len(suffix) >= 2:
            return district[: -len(suffix)]
    return district


def _log_normal_in(rng: random.Random, low: float, high: float) -> float:
    """A log-normal draw centred on the band's geometric middle, kept inside [low, high]."""
    mu = (math.log(low) + math.log(high)) / 2
    sigma = (math.log(high) - math.log(low)) / 4
    return min(high, max(low, math.exp(rng.gauss(mu, sigma))))


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _load(model, columns: list[str], rows: Iterable[tuple], now: datetime) -> int:
    """Insert plain rows (values in `columns` order, the last column, updated_at, added) into a fact
    table; returns how many.

    PostgreSQL: COPY, several times faster than INSERT for millions of rows. Elsewhere (SQLite, the
    zero-setup default): executemany of one prepared INSERT. Either way no model instances are built."""
    table = model._meta.db_table
    count = 0
    if connection.vendor == "postgresql":
        stamp = now.isoformat()
        buffer = io.StringIO()
        for row in rows:
            buffer.write("\t".join("\\N" if v is None else str(v) for v in row))
            buffer.write(f"\t{stamp}\n")
            count += 1
        buffer.seek(0)
        with connection.cursor() as cursor:
            cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)
    else:
        stamp = connection.ops.adapt_datetimefield_value(now)
        placeholders = ", ".join(["%s"] * len(columns))
        values = [(*[v.isoformat() if isinstance(v, date) else v for v in row], stamp) for row in rows]
        count = len(values)
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", values)
    return count


def already_seeded() -> int:
    """How many demo customers exist (0: the database has not been seeded)."""
    return Customer.objects.filter(is_demo=True).count()


def seed(**options) -> Summary:
    return DemoGenerator(**options).run()


# Shared segments of the demo: (owner, name, description, definition). Seed 003 asks for segments and the
# moves between them; a fresh demo shows a few that a supervisor and an analyst would keep.
DEMO_SEGMENTS = (
    ("sup_wang", _("A-class key accounts"), _("Tiers A1 and A2: the accounts served by the whole team."),
     {"tier": ["A1", "A2"]}),
    ("sup_wang", _("Visits overdue"), _("Tiered customers whose visit cycle has run out."), {"visit_overdue": True}),
    ("analyst_sun", _("Spend declining"),
     _("The last three billed months against the three before, down by more than a tenth: candidates for a retention "
       "call."), {"spend_trend": "declining"}),
    ("analyst_sun", _("Large groups without an account manager"), _("100 group members or more, nobody serving."),
     {"members_min": 100, "no_account_manager": True}),
)  # fmt: skip


def finish(*, segments: bool = True) -> dict[str, int]:
    """What a fresh demo needs to look alive: the tiers, values and lifetime values of the latest billed month
    evaluated and published (as the monthly run would), and the shared demo segments. Safe to run twice."""
    from customers.models import Segment, TierEvaluation
    from customers.segments.services import segment_create
    from customers.tiering.engine import evaluate_tiers

    evaluation = evaluate_tiers(kind=TierEvaluation.Kind.PUBLICATION)
    created = 0
    if segments:
        owners = {u.username: u for u in User.objects.filter(username__in={row[0] for row in DEMO_SEGMENTS})}
        for username, name, description, definition in DEMO_SEGMENTS:
            owner = owners.get(username)
            if owner is None or Segment.objects.filter(owner=owner, name=str(name)).exists():
                continue
            segment_create(owner=owner, name=str(name), description=str(description), definition=definition,
                           is_shared=True)  # fmt: skip
            created += 1
    return {"evaluated": evaluation.customers, "segments": created}
