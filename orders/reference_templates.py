"""Order templates, lead times and accepting channels of the shipped catalogue, loaded by migration 0004 and
editable rows afterwards (admin: Product with its OrderField inline).

Templates (seed 003 订单: per-product electronic templates with required-field and accuracy checks) name what an
order line needs for provisioning. Lead times are DOMAIN.md §5.2's defaults per provisioning type, in working
days. Accepting channels follow seed 004: the hotline, halls and web take BOSS-direct products (simple, in
their system rights); platform products also go through the phone account managers and partner agents; work-
order products only through account managers and the operations center. The others send a pre-acceptance
form through an account manager's channel or create an opportunity."""

from dataclasses import dataclass, field

# Product.Provisioning values, spelled out: a migration must not import the live model.
BOSS_DIRECT, PLATFORM_REVIEW, WORK_ORDER = "boss_direct", "platform_review", "work_order"

# Working days from order to billing start, per provisioning type (DOMAIN.md §5.2): (lead time, with construction).
LEAD_TIMES = {BOSS_DIRECT: (1, None), PLATFORM_REVIEW: (3, None), WORK_ORDER: (10, 30)}

ACCEPTING_CHANNELS = {
    BOSS_DIRECT: [
        "account_manager", "phone_account_manager", "social_channel", "service_hall", "group_hotline", "web",
        "operations_center",
    ],
    PLATFORM_REVIEW: ["account_manager", "phone_account_manager", "social_channel", "operations_center"],
    WORK_ORDER: ["account_manager", "operations_center"],
}  # fmt: skip


@dataclass(frozen=True)
class F:
    """One template field: key, Chinese and English label, kind (OrderField.Kind value) and its bounds."""

    key: str
    name: str
    name_en: str
    kind: str = "text"
    required: bool = True
    min_value: int | str | None = None
    max_value: int | str | None = None
    max_length: int = 200
    choices: list = field(default_factory=list)
    help_text: str = ""


SLA = F("sla_class", "电路保障等级", "Circuit SLA class", "choice", choices=["AAA", "AA", "A"])
SLA_AA = F("sla_class", "电路保障等级", "Circuit SLA class", "choice", choices=["AA", "A"])
INSTALL_PHONE = F("install_phone", "装机联系电话", "Installation contact phone", "phone")
A_END = F("a_end", "A端地址", "A-end address", "address", max_length=200)
Z_END = F("z_end", "Z端地址", "Z-end address", "address", max_length=200)
SITE = F("a_end", "站点地址", "Site address", "address", max_length=200)
INSTALL_DATE = F("install_date", "期望开通日期", "Preferred activation date", "date", required=False)
SIGNATURE = F("signature", "短信签名", "SMS signature", "text", max_length=20, help_text="≤ 20")


def bandwidth(low: int, high: int, choices=()) -> F:
    return F("bandwidth", "带宽（Mbit/s）", "Bandwidth (Mbit/s)", "bandwidth", min_value=low, max_value=high,
             choices=list(choices))  # fmt: skip


def members(low: int = 1, high: int = 100000, name="成员数", name_en="Number of members", key="members") -> F:
    return F(key, name, name_en, "integer", min_value=low, max_value=high)


LINE = [bandwidth(2, 10000), A_END, Z_END, SLA, INSTALL_PHONE, INSTALL_DATE]

TEMPLATES: dict[str, list[F]] = {
    "VPMN": [
        members(2, 10000),
        F("short_prefix", "短号首位", "Short-number prefix", "choice", choices=[str(n) for n in range(61, 70)]),
        F("short_digits", "短号位数", "Short-number length (digits)", "integer", min_value=3, max_value=6),
    ],
    "GCRBT": [
        members(1, 100000),
        F("ring_tone", "彩铃名称", "Ring-back tone name", "text", required=False, max_length=40),
    ],  # fmt: skip
    "SWBD": [
        F("extensions", "分机数", "Number of extensions", "integer", min_value=1, max_value=1000),
        F("main_number", "总机号码", "Main number", "phone", required=False),
    ],
    "N400": [
        F("preferred_number", "意向400号码", "Preferred 400 number", "phone"),
        F("destination", "落地号码", "Destination number", "phone"),
    ],
    "IMSFIX": [F("lines", "线路数", "Number of lines", "integer", min_value=1, max_value=1000), SITE, INSTALL_PHONE],
    "QXT": [
        SIGNATURE,
        F(
            "monthly_messages",
            "月发送量（条）",
            "Messages per month",
            "integer",
            required=False,
            min_value=1,
            max_value=10000000,
        ),
    ],  # fmt: skip
    "MAS": [SIGNATURE, F("ports", "端口数", "Number of ports", "integer", min_value=1, max_value=64), INSTALL_PHONE],
    "GMMS": [SIGNATURE],
    "MAIL": [
        members(1, 100000, "邮箱数", "Number of mailboxes"),
        F("domain", "邮箱域名", "Mail domain", "text", required=False, max_length=100),
    ],  # fmt: skip
    "ECARD": [members()],
    "MOA": [members(1, 100000, "用户数", "Number of users")],
    "VCONF": [F("parties", "并发方数", "Concurrent parties", "choice", choices=["10", "25", "50", "100", "300"])],
    "INET": [
        bandwidth(2, 10000),
        A_END,
        F("ip_block", "IP地址段（前缀长度）", "IP block size (prefix length)", "ip_block", min_value=24, max_value=30),
        SLA,
        INSTALL_PHONE,
        INSTALL_DATE,
    ],
    "DATA": LINE,
    "MPLS": [
        bandwidth(2, 10000),
        SITE,
        F("vpn_name", "VPN名称", "VPN name", "text", required=False, max_length=40),
        SLA,
        INSTALL_PHONE,
    ],  # fmt: skip
    "SDWAN": [bandwidth(10, 1000, ["10", "20", "50", "100", "200", "500", "1000"]), SITE, SLA_AA, INSTALL_PHONE],
    "APN": [
        F("apn_name", "APN名称", "APN name", "apn", max_length=62),
        members(1, 1000000, "卡数", "Number of cards", key="cards"),
    ],
    "IOT": [members(1, 1000000, "卡数", "Number of cards", key="cards")],
    "IDC": [
        F("racks", "机柜数", "Number of racks", "integer", min_value=1, max_value=200),
        bandwidth(10, 100000),
        INSTALL_PHONE,
    ],  # fmt: skip
    "CLOUD": [
        F("vcpus", "vCPU数", "vCPUs", "integer", min_value=1, max_value=4096),
        F("storage_tb", "存储（TB）", "Storage (TB)", "decimal", min_value="0.1", max_value="1000"),
    ],
    "EBB": [bandwidth(100, 1000, ["100", "200", "500", "1000"]), SITE, INSTALL_PHONE, INSTALL_DATE],
    "GPLAN": [members()],
    "EDU": [members(1, 100000, "用户数", "Number of users")],
    "FLEET": [members(1, 100000, "车辆数", "Number of vehicles", key="vehicles")],
    "SEC": [
        F("protected_ips", "防护IP数", "Protected IP addresses", "integer", min_value=1, max_value=1024),
        bandwidth(10, 100000),
        INSTALL_PHONE,
    ],  # fmt: skip
    "DDN": LINE,
    "FR": LINE,
    "ATM": LINE,
    "DC": LINE,
    "CHINANET": [members(1, 10000, "账号数", "Number of accounts", key="accounts")],
}


def load(apps, schema_editor):
    Product = apps.get_model("orders", "Product")
    OrderField = apps.get_model("orders", "OrderField")
    ChannelType = apps.get_model("channels", "ChannelType")
    channels = {c.code: c for c in ChannelType.objects.all()}
    for product in Product.objects.all():
        lead, construction = LEAD_TIMES.get(product.provisioning_type, (1, None))
        product.lead_time_days, product.construction_lead_time_days = lead, construction
        product.save(update_fields=["lead_time_days", "construction_lead_time_days"])
        accepting = [channels[c] for c in ACCEPTING_CHANNELS.get(product.provisioning_type, []) if c in channels]
        product.accepting_channels.set(accepting)
        for position, spec in enumerate(TEMPLATES.get(product.code, []), start=1):
            values = {name: getattr(spec, name) for name in spec.__dataclass_fields__ if name != "key"}
            OrderField.objects.update_or_create(
                product=product, key=spec.key, defaults={**values, "sort_order": position * 10}
            )


def unload(apps, schema_editor):
    apps.get_model("orders", "OrderField").objects.filter(
        key__in={f.key for t in TEMPLATES.values() for f in t}
    ).delete()
