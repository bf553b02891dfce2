"""Demo leads and opportunities behind `manage.py seed_opportunities` (issue 4, DOMAIN.md §4).

About 600 leads and opportunities over the last six months for the demo province of `seed_demo`, as
the opportunity flow would have left them: captured by the hotline (agent_chen), account managers, the
web form (entered by the operations center), partner agents and phone account managers; routed by the
default rules (a customer's account manager; the core partner agent of the region with a phone account
manager as second cover; the phone pool); claimed on time or late (after an escalation), returned and
re-dispatched by the operations center; worked through the stages of DOMAIN.md §4.2 with their
history, activities, and closed won / lost (reason, competitor) / suspended. A handful still wait for a
claim, are overdue or escalated, returned or in the operations-center queue, so the dispatch board and
the pipeline have something to show.

Every row is consistent with what the services would have written: a `captured` and a `routed`/`queued`
transfer, a `claimed` transfer (and claimed_by, claimed_on_time) when claimed, stage-change rows with the
days spent in each stage, probabilities from StageSetting, codes OP######## from the same expression as
`services.opportunity_capture`, and time-stamps in order (captured < routed < claimed < stage changes < closed).

Rows are built in memory and written with bulk_create (a few thousand rows: well under a second);
a small sample goes through the real services (capture → route → claim) as a cross-check. All
randomness comes from one random.Random(seed).
"""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from channels.models import ChannelType, Partner, Role, User
from customers.models import Contact, Customer
from kam.db import numbered_code
from kam.demo import Summary, TimedSteps
from opportunities import services
from opportunities.models import (
    CLOSED_STAGES,
    OPEN_STAGES,
    STAGE_MOVES,
    WIN_FROM,
    Activity,
    ClaimTimer,
    CloseReason,
    Kind,
    NeedType,
    Opportunity,
    RoutingRule,
    RoutingStatus,
    Stage,
    StageChange,
    StageSetting,
    Transfer,
)

BATCH = 1000
WINDOW_DAYS = 180  # six months of history
S = Stage

# --- what is sold (DOMAIN.md §2.3 prices, RMB per month) ----------------------------------------------

SITES = ["总部", "新办公楼", "生产基地", "研发中心", "物流园区", "城西分部", "滨江园区", "数据中心"]
USES_IOT = ["冷链", "智能电表", "共享单车", "车载终端", "水务监测", "安防监控", "POS 机", "充电桩", "环境监测"]
USES_SMS = ["会员营销", "验证码", "缴费通知", "预约提醒", "物流通知"]
SYSTEMS = ["OA 系统", "ERP 系统", "业务中台", "政务服务平台", "官网与商城"]


def _r(rng: random.Random, low: float, high: float, step: int = 10) -> Decimal:
    """A price in [low, high] rounded to `step` yuan."""
    return Decimal(max(step, round(rng.uniform(low, high) / step) * step))


def _n(rng: random.Random, low: int, high: int, size: float) -> int:
    return max(1, round(rng.randint(low, high) * size))


def _inet(rng, size):
    if rng.random() < 0.55:
        a, b, low, high = rng.choice(
            [
                (20, "100M", 3000, 8000),
                (50, "200M", 5000, 12000),
                (100, "1G", 20000, 40000),
                (200, "1G", 20000, 50000),
                (500, "2G", 45000, 90000),
                (10, "50M", 1800, 4000),
            ]
        )
        return f"互联网专线扩容 {a}M→{b}", _r(rng, low, high, 100), NeedType.UPGRADE
    bw, low, high = rng.choice([("50M", 1500, 4000), ("100M", 3000, 8000), ("200M", 5000, 12000), ("1G", 20000, 60000)])
    return f"互联网专线新装 {bw}（{rng.choice(SITES)}）", _r(rng, low, high, 100), NeedType.NEW_BUSINESS


def _data(rng, size):
    n = _n(rng, 1, 5, size)
    if rng.random() < 0.5:
        return f"数据专线 {n} 条（总部—分支机构）", _r(rng, 3000 * n, 8000 * n, 100), NeedType.EXPANSION
    return f"2M 数据专线 {n * 4} 条（网点互联）", _r(rng, 500 * n * 4, 1500 * n * 4, 100), NeedType.NEW_BUSINESS


def _simple(
    title: str,
    low: int,
    high: int,
    per: tuple[float, float] = (0, 0),
    base: tuple[int, int] = (0, 0),
    need: str = NeedType.NEW_BUSINESS,
    extra: Callable[[random.Random], dict] | None = None,
):
    """A template: `title` with {n} (a count between low and high, scaled by the customer's size) and the
    fields of `extra`; value = base + n × per (RMB per month)."""

    def make(rng, size):
        n = _n(rng, low, high, size)
        fields = extra(rng) if extra else {}
        value = _r(rng, base[0] + n * per[0], base[1] + n * per[1]) if per[1] or base[1] else None
        return title.format(n=n, **fields), value, need

    return make


# code: (short label for lead titles, template)
PRODUCTS: dict[str, tuple[str, Callable]] = {
    "INET": ("互联网专线", _inet),
    "DATA": ("数据专线", _data),
    "MPLS": ("VPN 专线", _simple("VPN 专线组网 {n} 个站点", 3, 25, (1000, 3000), need=NeedType.EXPANSION)),
    "SDWAN": ("SD-WAN", _simple("SD-WAN 组网 {n} 家门店", 5, 50, (500, 1500), need=NeedType.SOLUTION)),
    "VCONF": ("云视讯", _simple("云视讯会议室改造（{n} 间）", 2, 12, (150, 250), (200, 600), NeedType.SOLUTION)),
    "IOT": (
        "物联网卡",
        _simple(
            "物联网卡 {n} 张（{use}）",
            5,
            100,
            (100, 300),
            need=NeedType.NEW_BUSINESS,
            extra=lambda r: {"use": r.choice(USES_IOT)},
        ),
    ),
    "SWBD": ("云总机", _simple("云总机 {n} 分机", 20, 200, (5, 10), (100, 500))),
    "N400": ("400 号码", _simple("移动 400 客服热线（{n} 坐席）", 2, 20, (60, 120), (100, 300))),
    "IMSFIX": ("IMS 固话", _simple("IMS 固话 {n} 线", 10, 150, (20, 60), need=NeedType.EXPANSION)),
    "QXT": (
        "企信通",
        _simple("企信通行业短信（{use}）", 1, 1, base=(100, 5000), extra=lambda r: {"use": r.choice(USES_SMS)}),
    ),
    "MAS": (
        "云 MAS",
        _simple(
            "云 MAS 短信网关接入（{system}）", 1, 1, base=(300, 10000), extra=lambda r: {"system": r.choice(SYSTEMS)}
        ),
    ),
    "GMMS": (
        "5G 消息",
        _simple("5G 消息{use}（月 {n} 万条）", 1, 10, (1000, 3000), extra=lambda r: {"use": r.choice(USES_SMS)}),
    ),
    "MAIL": ("企业邮箱", _simple("企业邮箱 {n} 个账号", 50, 800, (5, 20))),
    "ECARD": ("企业名片", _simple("企业名片 {n} 人", 30, 500, (1, 5))),
    "MOA": ("移动办公", _simple("移动办公平台 {n} 用户", 50, 800, (5, 30), need=NeedType.SOLUTION)),
    "IDC": (
        "IDC 机柜",
        _simple(
            "IDC 机柜 {n} 个（{use}）",
            1,
            6,
            (3000, 8000),
            extra=lambda r: {"use": r.choice(["同城灾备", "业务系统托管", "数据中心扩容"])},
        ),
    ),
    "CLOUD": (
        "移动云",
        _simple(
            "{system}上云迁移（{n} 台云主机）",
            3,
            40,
            (400, 1200),
            need=NeedType.SOLUTION,
            extra=lambda r: {"system": r.choice(SYSTEMS)},
        ),
    ),
    "EBB": (
        "企业宽带",
        _simple("企业宽带 {n} 条（{site}）", 1, 10, (100, 1000), extra=lambda r: {"site": r.choice(SITES)}),
    ),
    "GPLAN": ("集团 5G 套餐", _simple("集团成员 5G 套餐 {n} 人", 30, 600, (30, 80), need=NeedType.EXPANSION)),
    "VPMN": ("集团 V 网", _simple("集团 V 网新增成员 {n} 人", 30, 500, (2, 10), (0, 200), NeedType.EXPANSION)),
    "GCRBT": ("集团彩铃", _simple("集团彩铃 {n} 成员", 50, 800, (3, 5), need=NeedType.EXPANSION)),
    "APN": ("企业专网接入", _simple("5G 企业专网接入（APN）{n} 卡", 20, 400, (5, 20), (200, 2000))),
    "EDU": ("和教育", _simple("和教育校讯通 {n} 位家长用户", 300, 2000, (3, 10))),
    "FLEET": ("车务通", _simple("车务通 {n} 辆车", 20, 300, (20, 50))),
    "SEC": ("DDoS 防护", _simple("DDoS 防护（{n} 个公网 IP）", 2, 16, (800, 1500), need=NeedType.SOLUTION)),
}
RENEWALS = ["INET", "DATA", "MPLS", "IDC", "VCONF", "SWBD"]  # lines and platforms come up for renewal

# What each industry (GB/T 4754 section) typically buys, with weights.
INDUSTRY_PRODUCTS = {
    "J": {"INET": 4, "DATA": 4, "MPLS": 3, "SDWAN": 2, "VCONF": 2, "IDC": 2, "SEC": 2, "CLOUD": 1, "MAS": 1},
    "S": {"DATA": 3, "VCONF": 3, "MOA": 2, "CLOUD": 2, "SEC": 2, "INET": 2, "IMSFIX": 1, "MAS": 2, "QXT": 1},
    "P": {"EDU": 4, "INET": 3, "EBB": 2, "VCONF": 2, "CLOUD": 1},
    "Q": {"DATA": 3, "INET": 2, "VCONF": 2, "IMSFIX": 2, "CLOUD": 2, "IOT": 1},
    "C": {"IOT": 3, "INET": 3, "SDWAN": 2, "SWBD": 2, "GPLAN": 2, "APN": 1, "EBB": 2, "CLOUD": 1},
    "F": {"SDWAN": 3, "EBB": 3, "QXT": 2, "GMMS": 2, "IOT": 1, "SWBD": 2, "N400": 1},
    "G": {"FLEET": 4, "IOT": 3, "APN": 2, "DATA": 1, "GPLAN": 1},
    "H": {"EBB": 3, "SWBD": 2, "N400": 2, "INET": 2, "GPLAN": 1},
    "D": {"IOT": 4, "DATA": 2, "APN": 2},
    "I": {"INET": 3, "IDC": 2, "CLOUD": 3, "SEC": 1, "SDWAN": 1},
}
DEFAULT_PRODUCTS = {
    "INET": 2,
    "EBB": 3,
    "SWBD": 2,
    "GPLAN": 2,
    "VPMN": 2,
    "MAIL": 1,
    "QXT": 1,
    "ECARD": 1,
    "GCRBT": 1,
    "IMSFIX": 1,
    "CLOUD": 1,
    "MOA": 1,
}
BIG_ONLY = {"IDC", "MPLS", "DATA", "SEC", "MAS", "CLOUD", "SDWAN"}  # not offered to C/D customers
SIZE = {"A1": 3.0, "A2": 2.0, "B1": 1.5, "B2": 1.0, "C": 0.5, "D": 0.3, "": 0.3}

LEAD_TITLES = [
    "客户来电咨询{p}业务",
    "{p}需求待确认",
    "官网留言：了解{p}资费",
    "招标公告：{p}采购项目",
]
NETWORK_LEADS = ["员工反映网络卡顿，或需{p}", "分支机构联网需求：{p}"]  # for lines and broadband
NETWORKS = {"INET", "DATA", "MPLS", "SDWAN", "EBB"}
VAGUE_LEADS = [
    "新办公楼通信需求待了解",
    "分支机构搬迁，通信需求待确认",
    "客户有信息化改造意向",
    "个人客户转集团：单位统一办理套餐",
    "客户询问视频监控方案",
    "门店网络改造意向",
]
DESCRIPTIONS = {
    NeedType.UPGRADE: "现有带宽高峰期不足，客户计划提速，希望本月内给出方案与报价。",
    NeedType.NEW_BUSINESS: "客户有新增业务需求，已初步沟通，待确认规模与开通时间。",
    NeedType.EXPANSION: "在现有业务基础上扩容，需核实资源与成员清单。",
    NeedType.SOLUTION: "客户希望提供整体解决方案，需售前支撑参与方案制定。",
    NeedType.RENEWAL: "合同即将到期，客户要求续约并重新评估价格。",
    NeedType.TENDER: "客户发布采购公告，需按招标文件准备投标材料。",
    NeedType.OTHER: "需求尚不明确，需进一步沟通。",
}
INFORMATISATION = [
    "已有 OA 系统，分支机构通过互联网 VPN 互联",
    "使用其他运营商宽带，无专线",
    "自建机房，计划两年内上云",
    "业务系统托管在第三方云",
    "信息化程度较低，主要依赖电话与微信",
    "有专职信息科，网络由外包公司维护",
]

# --- how opportunities end (DOMAIN.md §4.2) ----------------------------------------------------------

COMPETITORS = [("中国电信", 5), ("中国联通", 4), ("中国广电", 1)]
LOST_REASONS = [
    ("price", 25),
    ("competitor", 30),
    ("budget", 15),
    ("no_decision", 10),
    ("technical", 12),
    ("not_real", 8),
]
SUSPEND_REASONS = [("customer_delay", 50), ("budget", 25), ("no_decision", 25)]
WIN_REASONS = [("relationship", 40), ("solution_fit", 35), ("price_win", 25)]
CLOSE_NOTES = {
    "price": ["对手报价低约 20%", "客户坚持降价 30%，超出审批权限"],
    "competitor": ["客户选择了对手的一体化方案", "对手承诺免费提速一年", "对手已有光缆到楼"],
    "budget": ["预算冻结至明年", "上级单位统一采购，本级预算取消"],
    "no_decision": ["决策层变动，项目暂停", "客户内部意见不一，迟迟未决"],
    "technical": ["光缆资源不具备，无法按期交付", "机房空间不足"],
    "not_real": ["核实后客户无实际需求", "联系人离职，需求不成立"],
    "customer_delay": ["客户项目推迟到下半年", "等待新办公楼交付"],
    "relationship": ["已签约，等待开通", "合同已归档，工单已派发"],
    "solution_fit": ["方案通过客户评审，已签约", "技术方案获客户认可"],
    "price_win": ["价格方案获批，客户已签约", "综合报价优于对手"],
}
RETURN_REASONS = [
    "客户实际归属其他区县，非本人服务范围",
    "客户需求为个人业务，不属于集团业务",
    "代理商无该区域施工资源，请运营中心改派",
    "需求涉及跨省专线，需省级团队支撑",
    "联系人电话无法接通，信息不完整",
]
DISPATCH_REASONS = ["改派至属地客户经理", "转电话客户经理跟进", "按行业改派至行业组", "运营中心人工分派"]
ACTIVITIES = {
    Activity.Kind.CALL: ["电话确认需求与联系人", "电话跟进方案反馈", "电话沟通报价"],
    Activity.Kind.VISIT: ["上门拜访信息中心负责人", "拜访分管领导，介绍方案", "现场沟通合同条款"],
    Activity.Kind.MEETING: ["与客户技术团队开方案交流会", "商务谈判会议"],
    Activity.Kind.SURVEY: ["会同网络部现场勘察线路资源", "机房与楼宇覆盖勘察"],
    Activity.Kind.EMAIL: ["邮件发送方案与报价单", "邮件确认合同文本"],
}
NEXT_ACTIONS = ["提交方案与报价", "安排现场勘察", "跟进合同审批", "安排技术交流", "确认开通时间", "补充资质材料"]

# Days spent in a stage before the next move (DOMAIN.md §4.2 stale limits as a guide).
STAGE_DAYS = {
    S.IDENTIFIED: (2, 12),
    S.CLARIFYING: (4, 20),
    S.SOLUTION: (5, 24),
    S.BIDDING: (4, 18),
    S.NEGOTIATING: (5, 25),
    S.SIGNED: (3, 12),
}
# Final stages of worked opportunities: most early, about half of those that reach a bid are won.
FINAL_STAGES = [
    (S.IDENTIFIED, 14),
    (S.CLARIFYING, 15),
    (S.SOLUTION, 12),
    (S.BIDDING, 8),
    (S.NEGOTIATING, 5),
    (S.SIGNED, 3),
    (S.WON, 19),
    (S.LOST, 17),
    (S.SUSPENDED, 7),
]
FORWARD = list(OPEN_STAGES)


def _pick(rng: random.Random, weighted):
    items = list(weighted.items()) if isinstance(weighted, dict) else list(weighted)
    return rng.choices([k for k, _w in items], weights=[w for _k, w in items])[0]


# --- plan ---------------------------------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class Cust:
    pk: int
    tier: str
    status: str
    manager_id: int | None
    manager_role: str | None
    region: str
    industry: str

    @property
    def unserved(self) -> bool:
        return self.manager_id is None or self.status == Customer.Status.PROSPECT


@dataclass(slots=True, eq=False)
class Spec:
    """One lead/opportunity to write: who captured it, where it went, how far it got."""

    customer: Cust
    by: User
    channel: ChannelType | None
    kind: str
    fate: str  # claimed, late, redispatched, waiting, overdue, escalated, returned, queued, auto_returned
    final: str = ""  # claimed ones: the stage it ends in ("" = still a lead)
    claimer: User | None = None  # who claims it (default: the receiver)
    partner_staff: bool = False  # a partner placement claimed by the partner's staff (else: the second cover)


@dataclass(slots=True, eq=False)
class Draft:
    opp: Opportunity
    products: list[int] = field(default_factory=list)
    transfers: list[Transfer] = field(default_factory=list)
    stages: list[StageChange] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)


class DemoOpportunities(TimedSteps):
    def __init__(
        self,
        *,
        count: int = 600,
        seed: int = 2026,
        now: datetime | None = None,
        progress: Callable[[str], None] = lambda message: None,
    ):
        if count < 1:
            raise ValueError("count must be at least 1")
        self.count = count
        self.rng = random.Random(seed)
        self.now = now or timezone.now()
        self.progress = progress
        self.summary = Summary()
        self.drafts: list[Draft] = []

    # --- entry point ----------------------------------------------------------------------------------

    def run(self) -> Summary:
        started = time.monotonic()
        # Texts the services would have written (transfer reasons, notes) in the site's language.
        with translation.override(settings.LANGUAGE_CODE), transaction.atomic():
            self._timed("load", self._load)
            specs: list[Spec] = []
            self._timed("plan", lambda: specs.extend(self._plan()))
            self._timed("contacts", lambda: self._load_contacts({spec.customer.pk for spec in specs}))
            self._timed("build", lambda: self.drafts.extend(self._draft(spec) for spec in specs))
            self._timed("write", self._write)
            self._timed("services", self._through_services)
        self.summary.timings["total"] = time.monotonic() - started
        return self.summary

    # --- reference data and people ----------------------------------------------------------------------

    def _load(self) -> None:
        self.channels = {c.code: c for c in ChannelType.objects.all()}
        self.ops_channel = self.channels.get("operations_center")
        self.settings = {s.stage: s.probability for s in StageSetting.objects.all()}
        self.reasons = {r.code: r for r in CloseReason.objects.filter(is_active=True)}
        self.timers = {t.tier: t for t in ClaimTimer.objects.all()}
        rules = list(RoutingRule.objects.filter(is_active=True).order_by("priority", "pk"))
        self.rules = {target: next((r for r in rules if r.target == target), None) for target in RoutingRule.Target}
        from orders.models import Product  # layer 3: opportunities may use it

        self.products = dict(Product.objects.filter(is_active=True).values_list("code", "pk"))
        users = list(User.objects.filter(is_active=True).select_related("channel_type"))
        self.users = {u.pk: u for u in users}
        self.by_name = {u.username: u for u in users}
        by_role: dict[str, list[User]] = defaultdict(list)
        for user in sorted(users, key=lambda u: u.pk):
            by_role[user.role].append(user)
        self.agent = self.by_name.get("agent_chen") or next(iter(by_role[Role.AGENT]), None)
        self.ops = self.by_name.get("ops_zhao") or next(iter(by_role[Role.DISPATCHER]), None)
        self.admin = next((u for u in users if u.is_superuser), None)
        self.ops = self.ops or self.admin
        tam = self.by_name.get("tam_zhou")
        phone = by_role[Role.PHONE_ACCOUNT_MANAGER]
        self.phone_pool = ([tam] if tam in phone else []) + [u for u in phone if u is not tam]
        self.account_managers = by_role[Role.ACCOUNT_MANAGER]
        self.partner_staff: dict[int, list[User]] = defaultdict(list)
        for user in sorted(by_role[Role.PARTNER], key=lambda u: u.username != "partner_qian"):
            if user.partner_id:
                self.partner_staff[user.partner_id].append(user)
        self.core_partners = list(Partner.objects.filter(is_core=True, is_active=True).order_by("pk"))
        self.partners = {p.pk: p for p in self.core_partners}
        rows = (
            Customer.objects.filter(is_demo=True)
            .exclude(status__in=[Customer.Status.MERGED, Customer.Status.CHURNED])
            .values_list(
                "pk", "tier", "status", "account_manager_id", "account_manager__role", "region_id", "industry_id"
            )
            .order_by("pk")
        )
        self.customers = [Cust(pk, t or "", s, m, r, reg or "", ind or "") for pk, t, s, m, r, reg, ind in rows]
        self.contacts: dict[int, tuple] = {}
        self.rr: Counter = Counter()  # round-robin counters
        self.unshown: dict[str, list[str]] = {}  # per result: close reasons not given yet (_close)

    def _timer(self, tier: str) -> ClaimTimer:
        timer = self.timers.get(tier) or self.timers.get("")
        return timer or ClaimTimer(
            tier="", claim_hours=48, return_hours=72, first_contact_hours=48, qualify_days=14, idle_days=30
        )

    def _partner_for(self, c: Cust) -> Partner | None:
        """The core partner agent covering the customer (routing.core_partners_for, in memory), round robin."""
        prefixes = {c.region[:n] for n in (2, 4, 6) if len(c.region) >= n}
        prefixes |= {p.ljust(6, "0") for p in prefixes}
        covering = [
            p
            for p in self.core_partners
            if p.region_code in prefixes and (not p.industries or c.industry in p.industries)
        ]
        return self._round_robin("partner", covering)

    def _round_robin(self, key: str, items: list):
        if not items:
            return None
        self.rr[key] += 1
        return items[(self.rr[key] - 1) % len(items)]

    # --- what to seed -----------------------------------------------------------------------------------

    def _plan(self) -> list[Spec]:
        rng = self.rng
        if not self.customers or self.agent is None or not self.channels:
            return []
        named = {n: self.by_name[n] for n in ("am_zhang", "am_li", "am_wu") if n in self.by_name}
        tam = self.by_name.get("tam_zhou")
        # The named people's numbers stay readable: background rows go to everyone else.
        named_ids = {u.pk for u in (*named.values(), tam) if u is not None}
        managed = [c for c in self.customers if not c.unserved and c.manager_id not in named_ids]
        by_am = [c for c in managed if c.manager_role in (Role.ACCOUNT_MANAGER, Role.SUPERVISOR)]
        by_phone = [c for c in managed if c.manager_role == Role.PHONE_ACCOUNT_MANAGER]
        unserved = [c for c in self.customers if c.unserved] or self.customers
        with_partner = [c for c in unserved if self._covered(c)]
        without_partner = [c for c in unserved if not self._covered(c)] or unserved
        specs: list[Spec] = []

        # The named account managers: a pipeline across the stages, two to claim, one awaiting too long.
        spread = [
            S.IDENTIFIED,
            S.IDENTIFIED,
            S.IDENTIFIED,
            S.CLARIFYING,
            S.CLARIFYING,
            S.CLARIFYING,
            S.SOLUTION,
            S.SOLUTION,
            S.BIDDING,
            S.BIDDING,
            S.NEGOTIATING,
            S.SIGNED,
            S.WON,
            S.WON,
            S.LOST,
            "",
        ]
        for i, am in enumerate(named.values()):
            own = [c for c in self.customers if c.manager_id == am.pk and not c.unserved]
            if not own:
                continue
            for j, final in enumerate(spread):
                by, channel = (am, am.channel_type) if j % 3 == 0 else (self.agent, None)
                kind = Kind.LEAD if final == "" or (j % 5 == 1 and final in OPEN_STAGES) else Kind.OPPORTUNITY
                specs.append(Spec(rng.choice(own), by, channel, kind, "late" if j == 4 else "claimed", final))
            specs.append(Spec(rng.choice(own), self.agent, None, Kind.OPPORTUNITY, "waiting"))
            specs.append(Spec(rng.choice(own), self._web_user(), self.channels.get("web"), Kind.LEAD, "waiting"))
            specs.append(
                Spec(rng.choice(own), self.agent, None, Kind.OPPORTUNITY, ["overdue", "escalated", "returned"][i % 3])
            )

        # tam_zhou: the phone pool's uncovered customers, own C customers, second cover on partner ones.
        if tam is not None:
            own = [c for c in self.customers if c.manager_id == tam.pk and not c.unserved]
            for final in [S.IDENTIFIED, S.CLARIFYING, S.SOLUTION, S.WON, "", S.LOST]:
                specs.append(
                    Spec(
                        rng.choice(without_partner),
                        self.agent,
                        None,
                        Kind.LEAD if final == "" else Kind.OPPORTUNITY,
                        "claimed",
                        final,
                        claimer=tam,
                    )
                )
            for final in [S.IDENTIFIED, S.CLARIFYING, S.BIDDING, S.WON]:
                if own:
                    specs.append(Spec(rng.choice(own), tam, tam.channel_type, Kind.OPPORTUNITY, "claimed", final))
            specs.append(Spec(rng.choice(without_partner), self.agent, None, Kind.LEAD, "waiting", claimer=tam))

        # partner_qian: her partner's leads and opportunities, some waiting for the partner's claim.
        qian = self.by_name.get("partner_qian")
        if qian is not None and qian.partner_id in self.partners:
            area = [c for c in with_partner if self._covered(c, qian.partner_id)]
            if area:
                for final in [S.IDENTIFIED, S.IDENTIFIED, S.CLARIFYING, S.SOLUTION, S.WON, S.LOST, ""]:
                    kind = Kind.LEAD if final == "" else Kind.OPPORTUNITY
                    specs.append(
                        Spec(
                            rng.choice(area), self.agent, None, kind, "claimed", final, claimer=qian, partner_staff=True
                        )
                    )
                specs.append(
                    Spec(
                        rng.choice(area),
                        qian,
                        qian.channel_type,
                        Kind.OPPORTUNITY,
                        "claimed",
                        S.CLARIFYING,
                        claimer=qian,
                        partner_staff=True,
                    )
                )
                for fate in ("waiting", "waiting", "escalated"):
                    specs.append(Spec(rng.choice(area), self.agent, None, Kind.LEAD, fate, claimer=qian))

        # The operations center's board: a few rows per bucket.
        board = [("queued", 5), ("auto_returned", 3), ("returned", 6), ("escalated", 3), ("overdue", 2)]
        for fate, n in board:
            for _i in range(n):
                c = rng.choice(unserved if fate in ("queued", "auto_returned") else (by_am or unserved))
                by, channel = self._capturer(c, allow_partner=False)
                specs.append(Spec(c, by, channel, _pick(rng, {Kind.LEAD: 6, Kind.OPPORTUNITY: 4}), fate))

        # Everything else: background work of the province.
        first = len(specs)
        for _i in range(max(0, self.count - len(specs))):
            roll = rng.random()
            if roll < 0.55 and by_am:
                c = rng.choice(by_am)
            elif roll < 0.67 and by_phone:
                c = rng.choice(by_phone)
            else:
                c = rng.choice(with_partner if with_partner and rng.random() < 0.45 else unserved)
            by, channel = self._capturer(c)
            kind = Kind.LEAD if rng.random() < (0.3 if by.role == Role.ACCOUNT_MANAGER else 0.55) else Kind.OPPORTUNITY
            fate = _pick(rng, {"claimed": 86, "late": 7, "redispatched": 5, "waiting": 2})
            specs.append(Spec(c, by, channel, kind, fate, self._final(kind) if fate != "waiting" else ""))
        # The weights above leave a bucket empty now and then on a small province (a re-dispatch on the
        # board, a suspended one in the pipeline): then a background row that was simply claimed takes it.
        plain = [s for s in specs[first:] if s.fate == "claimed"]
        if plain and not any(s.fate == "redispatched" for s in specs):
            spec = rng.choice(plain)
            plain.remove(spec)
            spec.fate = "redispatched"
        if plain and not any(s.final in (S.SUSPENDED, "lead-" + S.SUSPENDED) for s in specs):
            spec = rng.choice(plain)
            spec.final = "lead-" + S.SUSPENDED if spec.kind == Kind.LEAD else S.SUSPENDED
        return specs

    def _covered(self, c: Cust, partner_id: int | None = None) -> bool:
        prefixes = {c.region[:n] for n in (2, 4, 6) if len(c.region) >= n}
        prefixes |= {p.ljust(6, "0") for p in prefixes}
        return any(
            p.region_code in prefixes and (not p.industries or c.industry in p.industries)
            for p in self.core_partners
            if partner_id is None or p.pk == partner_id
        )

    def _web_user(self) -> User:
        """Web-form leads are entered by the operations center (there is no portal login in the demo)."""
        return self.ops

    def _capturer(self, c: Cust, *, allow_partner: bool = True) -> tuple[User, ChannelType | None]:
        """Who captured it: the hotline, the customer's own manager, the web form, a partner, a colleague."""
        rng = self.rng
        options = {"agent": 40, "web": 12}
        if not c.unserved:
            options["manager"] = 38 if c.manager_role != Role.PHONE_ACCOUNT_MANAGER else 25
        else:
            options["colleague"] = 8
            if allow_partner and self.partner_staff:
                options["partner"] = 25
        who = _pick(rng, options)
        if who == "manager" and c.manager_id in self.users:
            user = self.users[c.manager_id]
            return user, user.channel_type
        if who == "web":
            return self._web_user(), self.channels.get("web")
        if who == "partner":
            local = [u for p in self.core_partners if self._covered(c, p.pk) for u in self.partner_staff.get(p.pk, [])]
            staff = local or [u for users in self.partner_staff.values() for u in users]
            user = self._round_robin("partner-capture", staff)
            return user, user.channel_type
        if who == "colleague" and self.account_managers:
            user = rng.choice(self.account_managers)  # cross-sell: a manager heard of it at another customer
            return user, user.channel_type
        return self.agent, self.agent.channel_type

    def _final(self, kind: str) -> str:
        if kind == Kind.LEAD:
            # Leads: about half qualified into opportunities, a third still leads, the rest closed.
            fate = _pick(self.rng, {"qualified": 50, "open": 30, S.LOST: 14, S.SUSPENDED: 6})
            if fate == "open":
                return ""
            if fate in (S.LOST, S.SUSPENDED):
                return "lead-" + fate
            return _pick(self.rng, FINAL_STAGES)
        return _pick(self.rng, FINAL_STAGES)

    # --- one row --------------------------------------------------------------------------------------

    def _placement(self, spec: Spec) -> dict:
        """Where the router sends it (the default rules, seed 004 六(二)), as Opportunity fields."""
        c = spec.customer
        rule_am, rule_partner, rule_phone = (
            self.rules.get(t) for t in ("account_manager", "core_partner", "phone_pool")
        )
        if not c.unserved and c.manager_id in self.users and spec.claimer is None:
            user = self.users[c.manager_id]
            return {
                "assigned_to": user,
                "assigned_channel": user.channel_type or self.channels.get("account_manager"),
                "routed_by_rule": rule_am,
            }
        to_partner = spec.claimer is not None and spec.claimer.partner_id in self.partners
        if c.unserved and (spec.claimer is None or to_partner) and self._covered(c):
            partner = self.partners[spec.claimer.partner_id] if to_partner else self._partner_for(c)
            return {
                "assigned_partner": partner,
                "assigned_channel": partner.channel_type,
                "second_cover": self._round_robin("phone", self.phone_pool),
                "routed_by_rule": rule_partner,
            }
        pool = [u for u in self.phone_pool if u.username != "tam_zhou"] or self.phone_pool
        user = spec.claimer if spec.claimer is not None else self._round_robin("phone-pool", pool)
        if user is None:
            return {}
        if not c.unserved and c.manager_id == user.pk:
            rule = rule_am
        else:
            rule = rule_phone
        return {"assigned_to": user, "assigned_channel": user.channel_type, "routed_by_rule": rule}

    def _template(self, c: Cust) -> tuple[str, str, Decimal | None, str]:
        """(product code, title, expected monthly value, need type) fitting the customer's industry and size."""
        rng = self.rng
        weights = dict(INDUSTRY_PRODUCTS.get(c.industry, DEFAULT_PRODUCTS))
        if c.tier not in ("A1", "A2", "B1", "B2"):
            weights = {k: w for k, w in weights.items() if k not in BIG_ONLY} or DEFAULT_PRODUCTS
        code = _pick(rng, weights)
        title, value, need = PRODUCTS[code][1](rng, SIZE.get(c.tier, 0.3))
        if code in RENEWALS and rng.random() < 0.12:
            title, need = f"{PRODUCTS[code][0]}到期续约", NeedType.RENEWAL
        return code, title, value, need

    def _draft(self, spec: Spec) -> Draft:
        rng = self.rng
        c = spec.customer
        code, title, value, need = self._template(c)
        kind = spec.kind
        if kind == Kind.LEAD:
            if rng.random() < 0.25:
                title = rng.choice(VAGUE_LEADS)
            else:
                titles = LEAD_TITLES + (NETWORK_LEADS if code in NETWORKS else [])
                titles += ["{p}续约意向待确认"] if code in RENEWALS else []
                title = rng.choice(titles).format(p=PRODUCTS[code][0])
                need = NeedType.TENDER if title.startswith("招标") else need
        placement = self._placement(spec)
        if not placement:  # nobody to send it to (no phone account managers): the queue
            spec.fate, spec.final = "queued", ""
        timer = self._timer(c.tier)
        contact_channel = spec.channel or spec.by.channel_type
        opp = Opportunity(
            kind=kind,
            title=title,
            customer_id=c.pk,
            captured_by=spec.by,
            contact_channel=contact_channel,
            description=DESCRIPTIONS.get(need, ""),
            need_type=need if kind == Kind.OPPORTUNITY else "",
            informatisation=rng.choice(INFORMATISATION) if rng.random() < 0.6 else "",
            routing_status=RoutingStatus.PENDING,
        )
        self._contact(opp, c)
        d = Draft(opp=opp)
        if kind == Kind.OPPORTUNITY or rng.random() < 0.5:
            d.products = [self.products[code]] if code in self.products else []
        if kind == Kind.OPPORTUNITY:
            opp.expected_value = value

        # The timeline: claimed rows are laid out backwards from now, the others forwards to now.
        if spec.fate in ("claimed", "late", "redispatched"):
            self._worked(d, spec, placement, timer, value, need, code)
        else:
            self._unclaimed(d, spec, placement, timer)
        return d

    def _contact(self, opp: Opportunity, c: Cust) -> None:
        contact = self.contacts.get(c.pk)
        if contact:
            pk, name, mobile, title = contact
            opp.contact_id, opp.contact_name, opp.contact_phone = pk, name, mobile
            opp.key_person = f"{name}（{title}）" if title else name

    # --- time lines ---------------------------------------------------------------------------------------

    def _created_at(self, moment: datetime) -> datetime:
        """Captures happen in office hours: move `moment` back to 08:30-18:30 local time (never forward).
        The minute is drawn whether it is needed or not: the draws that follow (stages, close reasons...)
        must not depend on the time of day the demo is seeded at."""
        minute = self.rng.randint(17 * 60, 18 * 60 + 20)
        local = timezone.localtime(moment)
        if 8 <= local.hour < 18:
            return moment
        day = local.date() if local.hour >= 18 else local.date() - timedelta(days=1)
        snapped = timezone.make_aware(datetime.combine(day, datetime.min.time())) + timedelta(minutes=minute)
        return min(snapped, moment)

    def _capture(self, d: Draft, spec: Spec, created: datetime) -> None:
        opp = d.opp
        opp.created_at = opp.routing_requested_at = created
        d.transfers.append(
            Transfer(
                action=Transfer.Action.CAPTURED,
                by=spec.by,
                from_user=spec.by,
                from_channel=opp.contact_channel,
                at=created,
            )
        )
        if opp.kind == Kind.OPPORTUNITY:
            opp.stage, opp.stage_changed_at, opp.qualified_at = S.IDENTIFIED, created, created
            opp.probability = self.settings.get(S.IDENTIFIED)
            d.stages.append(StageChange(from_stage="", to_stage=S.IDENTIFIED, by=spec.by, at=created))

    def _route(self, d: Draft, spec: Spec, placement: dict, at: datetime, timer: ClaimTimer) -> None:
        opp = d.opp
        opp.routed_at = at
        if not placement or spec.fate == "queued":
            opp.routing_status = RoutingStatus.QUEUED
            opp.assigned_channel = self.ops_channel
            d.transfers.append(
                Transfer(
                    action=Transfer.Action.QUEUED,
                    from_user=opp.captured_by,
                    from_channel=opp.contact_channel,
                    to_channel=self.ops_channel,
                    at=at,
                    reason=gettext("No rule could place it: operations-center queue."),
                )
            )
            return
        for name, value in placement.items():
            setattr(opp, name, value)
        rule = placement.get("routed_by_rule")
        self._send(opp, at, timer)
        d.transfers.append(
            Transfer(
                action=Transfer.Action.ROUTED,
                from_user=opp.captured_by,
                from_channel=opp.contact_channel,
                to_user=opp.assigned_to,
                to_channel=opp.assigned_channel,
                to_partner=opp.assigned_partner,
                reason=rule.name if rule else "",
                rule=rule,
                rule_name=rule.name if rule else "",
                at=at,
            )
        )

    @staticmethod
    def _send(opp: Opportunity, at: datetime, timer: ClaimTimer) -> None:
        opp.routing_status = RoutingStatus.DISPATCHED
        opp.dispatched_at = at
        opp.claim_due_at = at + timedelta(hours=timer.claim_hours)
        opp.return_due_at = at + timedelta(hours=timer.return_hours)
        opp.escalated_at = None

    def _escalate(self, d: Draft, at: datetime) -> None:
        opp = d.opp
        opp.routing_status, opp.escalated_at = RoutingStatus.ESCALATED, at
        d.transfers.append(
            Transfer(
                action=Transfer.Action.ESCALATED,
                at=at,
                from_user=opp.assigned_to,
                to_user=opp.assigned_to,
                to_channel=opp.assigned_channel,
                reason=gettext("Not claimed by %(due)s.") % {"due": services._when(opp.claim_due_at)},
            )
        )

    def _return(self, d: Draft, by: User, at: datetime) -> None:
        opp = d.opp
        d.transfers.append(
            Transfer(
                action=Transfer.Action.RETURNED,
                by=by,
                from_user=by,
                from_channel=opp.assigned_channel,
                to_channel=self.ops_channel,
                reason=self.rng.choice(RETURN_REASONS),
                at=at,
            )
        )
        self._to_operations(opp, RoutingStatus.RETURNED)

    def _to_operations(self, opp: Opportunity, status: str) -> None:
        opp.routing_status = status
        opp.assigned_to = opp.assigned_partner = opp.second_cover = opp.claimed_by = None
        opp.assigned_channel = self.ops_channel
        opp.claimed_at = opp.claim_due_at = opp.return_due_at = None
        if status == RoutingStatus.RETURNED:
            opp.escalated_at = None

    def _claim(self, d: Draft, user: User, at: datetime) -> None:
        opp = d.opp
        opp.routing_status, opp.claimed_by, opp.claimed_at, opp.assigned_to = RoutingStatus.CLAIMED, user, at, user
        opp.claimed_on_time = opp.claim_due_at is not None and opp.claim_due_at >= at
        d.transfers.append(
            Transfer(
                action=Transfer.Action.CLAIMED,
                by=user,
                from_user=user,
                to_user=user,
                to_channel=opp.assigned_channel,
                at=at,
            )
        )

    def _receiver(self, opp: Opportunity, spec: Spec) -> User | None:
        """Who claims it: the named receiver, a partner's staff member, or the second cover."""
        if spec.claimer is not None and opp.assigned_to is None and opp.assigned_partner is None:
            return spec.claimer
        if opp.assigned_to is not None:
            return opp.assigned_to
        staff = self.partner_staff.get(opp.assigned_partner_id, []) if opp.assigned_partner_id else []
        if spec.claimer is not None and spec.claimer in staff:
            return spec.claimer
        if staff and (spec.partner_staff or self.rng.random() < 0.8):
            return self.rng.choice(staff)
        return opp.second_cover or (staff[0] if staff else None)

    def _unclaimed(self, d: Draft, spec: Spec, placement: dict, timer: ClaimTimer) -> None:
        rng, now = self.rng, self.now
        ch, rh = timer.claim_hours, timer.return_hours
        minutes = timedelta(minutes=1)
        if spec.fate == "queued":
            routed = now - timedelta(hours=rng.uniform(0.5, 96))
        elif spec.fate == "waiting":
            routed = now - timedelta(hours=rng.uniform(0.2, ch * 0.8))
        elif spec.fate == "overdue":  # past the claim deadline; the beat escalates it at its next run
            routed = now - timedelta(hours=ch, minutes=rng.uniform(2, 30))
        elif spec.fate == "escalated":
            routed = now - timedelta(hours=ch + rng.uniform(0.3, (rh - ch) * 0.85))
        elif spec.fate == "auto_returned":
            routed = now - timedelta(hours=rh + rng.uniform(1, 120))
        else:  # returned
            routed = now - timedelta(hours=rng.uniform(3, 120))
        created = routed - timedelta(seconds=rng.uniform(3, 40))
        if spec.fate in ("queued", "returned", "auto_returned"):  # the others' deadlines depend on the minute
            created = self._created_at(created)
            routed = created + timedelta(seconds=rng.uniform(3, 40))
        self._capture(d, spec, created)
        self._route(d, spec, placement, routed, timer)
        opp = d.opp
        if spec.fate in ("escalated", "auto_returned"):
            self._escalate(d, opp.claim_due_at + minutes * rng.randint(1, 2))
        if spec.fate == "auto_returned":
            at = opp.return_due_at + minutes * rng.randint(1, 2)
            d.transfers.append(
                Transfer(
                    action=Transfer.Action.AUTO_RETURNED,
                    at=at,
                    from_user=opp.assigned_to,
                    from_channel=opp.assigned_channel,
                    to_channel=self.ops_channel,
                    reason=gettext("Not claimed in time: back to the operations-center queue."),
                )
            )
            escalated_at = opp.escalated_at
            self._to_operations(opp, RoutingStatus.QUEUED)
            opp.escalated_at = escalated_at
        if spec.fate == "returned":
            user = self._receiver(opp, spec)
            at = routed + timedelta(hours=rng.uniform(0.2, min(ch, (now - routed).total_seconds() / 3600) * 0.9))
            if user is not None and rng.random() < 0.3:  # claimed first, then found it could not serve it
                self._claim(d, user, routed + (at - routed) / 2)
            if user is not None:
                self._return(d, user, at)

    def _worked(self, d: Draft, spec: Spec, placement: dict, timer: ClaimTimer, value, need, code) -> None:
        """Captured, routed, claimed (perhaps late, or after a return and a re-dispatch), then worked."""
        rng, now = self.rng, self.now
        opp = d.opp
        ch, rh = timer.claim_hours, timer.return_hours
        late = spec.fate == "late" or (spec.fate == "claimed" and rng.random() < 0.04)
        claim_h = ch + (rh - ch) * rng.uniform(0.05, 0.85) if late else ch * rng.random() ** 2 * 0.9 + 0.05
        detour_h = 0.0
        if spec.fate == "redispatched":
            detour_h = rng.uniform(0.3, ch * 0.8) + rng.uniform(0.3, 8)  # held, returned; then re-dispatched
        final = spec.final
        lead_closed = final.startswith("lead-")
        qualify_d = rng.uniform(0.5, 10) if opp.kind == Kind.LEAD and final and not lead_closed else 0.0
        path, spans = self._path(final) if final and not lead_closed else ([], [])
        if final == "" or lead_closed:
            tail_d = rng.uniform(0.3, 40) if final == "" else rng.uniform(2, 25)
        else:
            tail_d = 0.0
        closed = bool(path) and path[-1] in CLOSED_STAGES or lead_closed
        work_d = qualify_d + sum(spans) + tail_d
        pre_d = (claim_h + detour_h) / 24 + 0.001
        budget = WINDOW_DAYS - 1.5
        if pre_d + work_d > budget:
            factor = (budget - pre_d) / work_d * rng.uniform(0.7, 0.98)
            qualify_d, tail_d, spans = qualify_d * factor, tail_d * factor, [s * factor for s in spans]
            work_d *= factor
        gap_d = rng.uniform(0, budget - pre_d - work_d) if closed else 0.0
        created = self._created_at(now - timedelta(days=pre_d + work_d + gap_d + 0.02))
        self._capture(d, spec, created)
        routed = created + timedelta(seconds=rng.uniform(3, 40))
        self._route(d, spec, placement, routed, timer)
        if spec.fate == "redispatched" and opp.routing_status == RoutingStatus.DISPATCHED:
            holder = self._receiver(opp, spec)
            back = routed + timedelta(hours=detour_h * rng.uniform(0.3, 0.7))
            if holder is not None:
                self._return(d, holder, back)
                to = self._redispatch_target(spec.customer, holder)
                at = routed + timedelta(hours=detour_h)
                d.transfers.append(
                    Transfer(
                        action=Transfer.Action.DISPATCHED,
                        by=self.ops,
                        from_user=None,
                        from_channel=self.ops_channel,
                        to_user=to,
                        to_channel=to.channel_type,
                        reason=rng.choice(DISPATCH_REASONS),
                        at=at,
                    )
                )
                opp.assigned_to, opp.assigned_channel, opp.claimed_on_time = to, to.channel_type, None
                self._send(opp, at, timer)
        if opp.routing_status == RoutingStatus.QUEUED:
            return
        sent = opp.dispatched_at
        if late:
            self._escalate(d, opp.claim_due_at + timedelta(minutes=rng.randint(1, 2)))
        user = self._receiver(opp, spec)
        if user is None:
            return
        claimed = sent + timedelta(hours=claim_h)
        if late and claimed <= opp.escalated_at:
            claimed = opp.escalated_at + timedelta(minutes=rng.randint(5, 90))
        self._claim(d, user, claimed)

        # Working it.
        t = claimed
        if opp.kind == Kind.LEAD and qualify_d:
            t += timedelta(days=qualify_d)
            opp.kind, opp.stage, opp.stage_changed_at, opp.qualified_at = Kind.OPPORTUNITY, S.IDENTIFIED, t, t
            opp.probability, opp.need_type = self.settings.get(S.IDENTIFIED), need
            opp.expected_value = value
            if code in self.products:
                d.products = [self.products[code]]
            d.stages.append(
                StageChange(from_stage="", to_stage=S.IDENTIFIED, by=user, at=t, note=gettext("Qualified from a lead"))
            )
        stage_start = opp.stage_changed_at or t
        for to, span in zip(path[1:], spans, strict=False):
            t = max(t, stage_start) + timedelta(days=span)
            self._move(d, user, to, t, stage_start)
            stage_start = t
        if lead_closed:
            t += timedelta(days=tail_d)
            self._move(d, user, final.removeprefix("lead-"), t, None)
        end = opp.closed_at or now
        self._activities(d, user, claimed, end)
        if not opp.is_closed:
            opp.next_action = rng.choice(NEXT_ACTIONS)
            opp.next_action_due = (now + timedelta(days=rng.randint(-6, 21))).date()
            opp.expected_close = (
                (now + timedelta(days=rng.randint(15, 150))).date() if opp.kind == Kind.OPPORTUNITY else None
            )
        elif opp.stage == S.WON:
            opp.expected_close = (opp.closed_at - timedelta(days=rng.randint(-10, 15))).date()
        elif opp.kind == Kind.OPPORTUNITY:
            opp.expected_close = (opp.closed_at + timedelta(days=rng.randint(5, 60))).date()

    def _redispatch_target(self, c: Cust, holder: User) -> User:
        if not c.unserved and c.manager_id in self.users and self.users[c.manager_id] != holder:
            return self.users[c.manager_id]
        others = [u for u in self.phone_pool if u != holder] or self.phone_pool or self.account_managers
        return self.rng.choice(others)

    def _path(self, final: str) -> tuple[list[str], list[float]]:
        """Stages from identified to `final` by allowed moves (STAGE_MOVES), and the days spent in each
        stage before the next move (the last open stage: the days since it was reached)."""
        rng = self.rng
        if final in OPEN_STAGES:
            target = final
        elif final == S.WON:
            target = _pick(rng, {S.SIGNED: 55, S.NEGOTIATING: 30, S.BIDDING: 15})
        elif final == S.LOST:
            target = _pick(rng, {S.IDENTIFIED: 15, S.CLARIFYING: 25, S.SOLUTION: 25, S.BIDDING: 20, S.NEGOTIATING: 15})
        else:
            target = _pick(rng, {S.IDENTIFIED: 30, S.CLARIFYING: 40, S.SOLUTION: 30})
        goal = FORWARD.index(target)
        path, stepped_back = [S.IDENTIFIED], False
        while path[-1] != target:
            here = FORWARD.index(path[-1])
            if not stepped_back and here > 0 and rng.random() < 0.05:
                path.append(FORWARD[here - 1])  # one step back (e.g. the solution needs another survey)
                stepped_back = True
                continue
            step = 2 if here + 2 <= goal and FORWARD[here + 2] in STAGE_MOVES[path[-1]] and rng.random() < 0.15 else 1
            path.append(FORWARD[here + step])
        if final in CLOSED_STAGES:
            path.append(final)
        spans = [rng.uniform(*STAGE_DAYS[stage]) for stage in path[:-1]]
        if final in OPEN_STAGES:  # time in the current stage so far (some beyond the stale limit)
            low, high = STAGE_DAYS[final]
            spans.append(rng.uniform(0.2, high) * (2.5 if rng.random() < 0.08 else 1))
        for a, b in zip(path, path[1:], strict=False):
            assert b in STAGE_MOVES.get(a, set()) or (b in CLOSED_STAGES and (b != S.WON or a in WIN_FROM)), (a, b)
        return path, spans

    def _move(self, d: Draft, user: User, to: str, at: datetime, since: datetime | None) -> None:
        opp = d.opp
        days = None
        if opp.stage and since is not None:
            days = Decimal((at - since).total_seconds() / 86400).quantize(Decimal("0.01"))
        note = ""
        if to in CLOSED_STAGES:
            self._close(opp, to, at)
            note = opp.close_note
        d.stages.append(StageChange(from_stage=opp.stage, to_stage=to, days_in_stage=days, by=user, at=at, note=note))
        opp.stage, opp.stage_changed_at = to, at
        opp.probability = self.settings.get(to, opp.probability)

    def _close(self, opp: Opportunity, result: str, at: datetime) -> None:
        rng = self.rng
        table = {S.WON: WIN_REASONS, S.LOST: LOST_REASONS, S.SUSPENDED: SUSPEND_REASONS}[result]
        weights = table
        if opp.kind == Kind.LEAD:
            weights = [(code, w) for code, w in weights if code not in ("technical", "competitor")] or weights
        # The first closes of each result go through its reasons once, the most frequent first, so that
        # the pipeline's reason and competitor tables have every row however few rows close; then the
        # weights decide.
        unshown = self.unshown.setdefault(
            result, [code for code, _w in sorted(table, key=lambda cw: -cw[1]) if code in self.reasons]
        )
        allowed = {code for code, _w in weights}
        code = next((c for c in unshown if c in allowed), None) or _pick(rng, weights)
        if code in unshown:
            unshown.remove(code)
        reason = self.reasons.get(code)
        opp.closed_at, opp.close_reason = at, reason
        opp.close_note = rng.choice(CLOSE_NOTES.get(code, [""]))
        if code == "competitor" or (code == "price" and rng.random() < 0.6):
            opp.competitor = _pick(rng, COMPETITORS)

    def _activities(self, d: Draft, user: User, start: datetime, end: datetime) -> None:
        rng = self.rng
        n = rng.choices([0, 1, 2, 3, 4], weights=[15, 30, 30, 15, 10])[0] + (1 if d.opp.stage == S.WON else 0)
        span = (end - start).total_seconds()
        if span <= 3600 or n == 0:
            return
        moments = sorted(start + timedelta(seconds=rng.uniform(600, span - 60)) for _i in range(n))
        for at in moments:
            kind = _pick(
                rng,
                {
                    Activity.Kind.CALL: 40,
                    Activity.Kind.VISIT: 30,
                    Activity.Kind.MEETING: 10,
                    Activity.Kind.SURVEY: 10,
                    Activity.Kind.EMAIL: 10,
                },
            )
            d.activities.append(Activity(kind=kind, at=at, by=user, notes=rng.choice(ACTIVITIES[kind])))
        d.opp.last_activity_at = moments[-1]

    # --- writing ------------------------------------------------------------------------------------------

    def _write(self) -> None:
        if not self.drafts:
            return
        drafts = sorted(self.drafts, key=lambda d: d.opp.created_at)  # numbers follow the capture order
        opps = [d.opp for d in drafts]
        captured = [o.created_at for o in opps]
        Opportunity.objects.bulk_create(opps, batch_size=BATCH)
        # Put the capture times on the rows (kept apart while the drafts were built).
        for opp, at in zip(opps, captured, strict=True):
            opp.created_at = at
        Opportunity.objects.bulk_update(opps, ["created_at"], batch_size=BATCH)
        Opportunity.objects.filter(pk__in=[o.pk for o in opps], code__isnull=True).update(
            code=numbered_code(services.CODE_PREFIX)
        )
        transfers, stages, activities, products = [], [], [], []
        through = Opportunity.products.through
        for d in drafts:
            for row in (*d.transfers, *d.stages, *d.activities):
                row.opportunity = d.opp
            transfers += d.transfers
            stages += d.stages
            activities += d.activities
            products += [through(opportunity_id=d.opp.pk, product_id=pk) for pk in d.products]
        Transfer.objects.bulk_create(transfers, batch_size=BATCH)
        StageChange.objects.bulk_create(stages, batch_size=BATCH)
        Activity.objects.bulk_create(activities, batch_size=BATCH)
        through.objects.bulk_create(products, batch_size=BATCH)
        counts = self.summary.counts
        counts[Opportunity._meta.verbose_name_plural] = len(opps)
        counts[Transfer._meta.verbose_name_plural] = len(transfers)
        counts[StageChange._meta.verbose_name_plural] = len(stages)
        counts[Activity._meta.verbose_name_plural] = len(activities)

    def _through_services(self) -> None:
        """A small sample through the real services: the hotline captures an opportunity for each named
        account manager's customer, the router places it, the manager claims it (notifications included)."""
        if self.agent is None:
            return
        for username in ("am_zhang", "am_li", "am_wu"):
            am = self.by_name.get(username)
            own = [c for c in self.customers if am is not None and c.manager_id == am.pk and not c.unserved]
            if not own:
                continue
            c = self.rng.choice(own)
            code, title, value, need = self._template(c)
            products = [self.products[code]] if code in self.products else []
            opp = services.opportunity_capture(
                by=self.agent,
                kind=Kind.OPPORTUNITY,
                title=title,
                customer=Customer.objects.get(pk=c.pk),
                products=products,
                description=DESCRIPTIONS[need],
                need_type=need,
                expected_value=value,
                expected_close=(self.now + timedelta(days=self.rng.randint(30, 90))).date(),
            )
            services.opportunity_route(opp.pk)
            opp.refresh_from_db()
            if opp.assigned_to_id == am.pk:
                services.opportunity_claim(pk=opp.pk, by=am)
            self.summary.counts[_("through the services")] += 1

    def _load_contacts(self, customer_ids: set[int]) -> None:
        """The current key person of each customer, for the contact fields of its rows."""
        ids = sorted(customer_ids)
        for start in range(0, len(ids), 500):
            rows = (
                Contact.objects.filter(
                    customer_id__in=ids[start : start + 500], is_key_person=True, active_to__isnull=True
                )
                .order_by("customer_id", "pk")
                .values_list("customer_id", "pk", "name", "mobile", "title")
            )
            for customer_id, pk, name, mobile, title in rows:
                self.contacts.setdefault(customer_id, (pk, name, mobile, title))


def already_seeded() -> int:
    """How many opportunities exist (0: not seeded yet)."""
    return Opportunity.objects.count()


def seed(**options) -> Summary:
    return DemoOpportunities(**options).run()
