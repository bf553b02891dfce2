"""The group product catalogue shipped with KAM (DOMAIN.md §2.3), loaded by a migration; editable rows afterwards.

Prices are the table's [P] monthly ranges in RMB per billing unit. Where the table gives several ranges, the
main one is stored and the others are kept in the billing-unit text. Lines default to the lowest circuit level
the table lists (AAA/AA/A -> A): a circuit is raised per subscription. Lines need a contract of at least 12
months (DOMAIN.md: 12-36).
"""

from dataclasses import dataclass
from decimal import Decimal

# Product.Provisioning and Product.Scope values, spelled out: a migration must not import the live model.
BOSS_DIRECT, PLATFORM_REVIEW, WORK_ORDER = "boss_direct", "platform_review", "work_order"
LOCAL, PROVINCE, NATIONAL = "local", "province", "national"

# Category (stored in Chinese, as in DOMAIN.md) -> English name, shown when the page is in English.
CATEGORY_NAMES_EN = {
    "语音·集团网": "Voice · group network",
    "语音增值": "Voice value-added",
    "语音": "Voice",
    "短彩信": "Messaging",
    "信息化": "Business applications",
    "云·信息化": "Cloud · business applications",
    "专线": "Leased lines",
    "专线·云网": "Leased lines · cloud networking",
    "移动数据": "Mobile data",
    "物联网": "Internet of things",
    "IDC": "IDC",
    "云": "Cloud",
    "宽带": "Broadband",
    "成员套餐": "Member plans",
    "行业应用": "Industry applications",
    "安全": "Security",
}


@dataclass(frozen=True)
class Spec:
    code: str
    name: str
    name_en: str
    category: str
    provisioning_type: str
    billing_unit: str
    list_price_min: Decimal | None
    list_price_max: Decimal | None
    sla_class_default: str
    scope: str = PROVINCE
    is_member_level: bool = False
    needs_contract: bool = False
    min_contract_months: int | None = None
    legacy: bool = False


def _line(**fields) -> Spec:
    """A leased line: work order, contract of at least 12 months."""
    return Spec(provisioning_type=WORK_ORDER, needs_contract=True, min_contract_months=12, **fields)


def _legacy_line(code: str, name: str, name_en: str) -> Spec:
    return _line(code=code, name=name, name_en=name_en, category="专线", billing_unit="按电路",
                 list_price_min=None, list_price_max=None, sla_class_default="A", scope=LOCAL, legacy=True)  # fmt: skip


D = Decimal

PRODUCTS = [
    Spec("VPMN", "集团V网（短号集群网）", "Group VPMN (short-number network)", "语音·集团网", BOSS_DIRECT,
         "集团功能费（成员另计 0–10 元/人）", D("0"), D("200"), "standard", is_member_level=True),
    Spec("GCRBT", "集团彩铃", "Group ring-back tone", "语音增值", BOSS_DIRECT,
         "按成员（集团功能费 0–100 元）", D("3"), D("5"), "standard", is_member_level=True),
    # DOMAIN: member-level "partly" (extensions are members); the field is a yes/no.
    Spec("SWBD", "移动总机（云总机）", "Mobile switchboard (cloud PBX)", "语音", PLATFORM_REVIEW,
         "基本费（分机另计 5–10 元/个）", D("100"), D("500"), "standard", is_member_level=True),
    Spec("N400", "移动400", "400 service number", "语音", PLATFORM_REVIEW,
         "通话分钟包", D("100"), D("3000"), "standard", scope=NATIONAL),
    Spec("IMSFIX", "IMS固话（融合通信固话）", "IMS fixed line", "语音", WORK_ORDER,
         "按线路", D("20"), D("60"), "standard", scope=LOCAL),
    Spec("QXT", "企信通（行业短信）", "Enterprise SMS (ADC)", "短彩信", BOSS_DIRECT,
         "月套餐（或按条 0.04–0.10 元）", D("100"), D("5000"), "standard"),
    # Long-flow service [S16]; the scanned agreement is uploaded with the order.
    Spec("MAS", "云MAS（短信网关接入）", "Cloud MAS (SMS gateway access)", "短彩信", WORK_ORDER,
         "端口 + 用量", D("300"), D("10000"), "A", needs_contract=True),
    Spec("GMMS", "集团彩信 / 5G消息", "Group MMS / 5G messaging", "短彩信", PLATFORM_REVIEW,
         "按条", D("0.10"), D("0.30"), "standard"),
    Spec("MAIL", "企业邮箱", "Enterprise mailbox", "信息化", BOSS_DIRECT,
         "按邮箱账号", D("5"), D("20"), "standard", is_member_level=True),
    Spec("ECARD", "企业名片（商务名片）", "Business card", "信息化", BOSS_DIRECT,
         "按成员", D("1"), D("5"), "standard", is_member_level=True),
    Spec("MOA", "移动办公（云工作台）", "Mobile office (cloud workspace)", "信息化", BOSS_DIRECT,
         "按用户", D("5"), D("30"), "standard", is_member_level=True),
    Spec("VCONF", "云视讯", "Cloud video conferencing", "云·信息化", BOSS_DIRECT,
         "按并发方数套餐", D("200"), D("3000"), "A"),
    _line(code="INET", name="互联网专线", name_en="Dedicated internet access", category="专线",
          billing_unit="按电路带宽（100M；10M 800–2,000，1G 20,000–60,000）", list_price_min=D("3000"),
          list_price_max=D("8000"), sla_class_default="A", scope=LOCAL),
    _line(code="DATA", name="数据专线（MSTP/OTN）", name_en="Data leased line (MSTP/OTN)", category="专线",
          billing_unit="按电路（100M 同城；2M 500–1,500，跨省 ×2–5）", list_price_min=D("3000"),
          list_price_max=D("10000"), sla_class_default="A", scope=LOCAL),
    _line(code="MPLS", name="VPN专线（MPLS L3VPN）", name_en="MPLS VPN line (L3VPN)", category="专线",
          billing_unit="按站点", list_price_min=D("1000"), list_price_max=D("5000"), sla_class_default="A"),
    _line(code="SDWAN", name="SD-WAN组网", name_en="SD-WAN networking", category="专线·云网",
          billing_unit="按站点", list_price_min=D("500"), list_price_max=D("3000"), sla_class_default="A"),
    # DOMAIN: member-level "partly" (the cards); the field is a yes/no.
    Spec("APN", "GPRS/5G企业接入（APN/VPDN）", "Enterprise mobile data access (APN/VPDN)", "移动数据",
         PLATFORM_REVIEW, "APN功能费 + 按卡", D("200"), D("2000"), "A", is_member_level=True),
    Spec("IOT", "物联网卡", "IoT SIM cards", "物联网", BOSS_DIRECT,
         "按卡（批量开通）", D("1"), D("30"), "standard", scope=NATIONAL),
    Spec("IDC", "IDC机柜/带宽", "IDC racks and bandwidth", "IDC", WORK_ORDER,
         "按机柜（带宽另计）", D("3000"), D("8000"), "AA", scope=LOCAL, needs_contract=True, min_contract_months=12),
    # Public cloud opens in BOSS; a dedicated cloud is a work order on the order itself.
    Spec("CLOUD", "移动云 / 天翼云 云主机与存储", "Cloud hosts and storage", "云", BOSS_DIRECT,
         "按资源用量", D("200"), D("50000"), "AA", scope=NATIONAL),
    Spec("EBB", "企业宽带", "Business broadband", "宽带", WORK_ORDER,
         "按线路（上门安装）", D("100"), D("1000"), "A", scope=LOCAL),
    Spec("GPLAN", "集团成员套餐 / 集团统付流量包（5G）", "Group member plans / group-paid data (5G)", "成员套餐",
         BOSS_DIRECT, "按成员", D("30"), D("300"), "standard", is_member_level=True),
    Spec("EDU", "校讯通 / 和教育", "School messaging (education)", "行业应用", PLATFORM_REVIEW,
         "按用户", D("3"), D("10"), "standard", is_member_level=True),
    Spec("FLEET", "车务通", "Fleet management", "行业应用", PLATFORM_REVIEW,
         "按车辆", D("20"), D("50"), "standard", is_member_level=True),
    Spec("SEC", "安全：DDoS防护 / 云安全", "Security: DDoS protection / cloud security", "安全", WORK_ORDER,
         "按防护IP或带宽", D("1000"), D("20000"), "AA"),
    # Legacy fixed-line data products [K]: kept for existing subscriptions, not offered.
    _legacy_line("DDN", "数字数据网（DDN）", "Digital data network (DDN)"),
    _legacy_line("FR", "帧中继", "Frame relay"),
    _legacy_line("ATM", "ATM专线", "ATM line"),
    _legacy_line("DC", "数字电路出租（2M/155M）", "Leased digital circuit (2M/155M)"),
    Spec("CHINANET", "163/ChinaNet 拨号与ADSL", "ChinaNet 163 dial-up and ADSL", "宽带", BOSS_DIRECT,
         "按账号", None, None, "standard", scope=LOCAL, legacy=True),
]  # fmt: skip


def load(apps, schema_editor):
    Product = apps.get_model("orders", "Product")
    for position, spec in enumerate(PRODUCTS, start=1):
        fields = {name: value for name, value in vars(spec).items() if name != "code"}
        Product.objects.update_or_create(code=spec.code, defaults={**fields, "sort_order": position * 10})
