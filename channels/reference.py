"""Channel types and the responsibility matrix of seed 004 (一、渠道定位), shipped as editable rows."""

# code, name, English name, functions, {customer class: level}, description
CHANNEL_TYPES = [
    (
        "account_manager",
        "客户经理",
        "Account manager",
        ["service", "sales"],
        {"A": "primary", "B": "primary"},
        "AB类客户的主渠道：以客户为维度进行维系和服务，深挖需求，复杂产品可引入核心代理协助。",
    ),
    (
        "social_channel",
        "社会渠道",
        "Social channel / partner agent",
        ["service", "sales"],
        {"C": "primary", "D": "primary", "prospect": "primary", "A": "auxiliary", "B": "auxiliary"},
        "CD类和潜在客户的主渠道；AB类客户部分产品的辅助渠道。",
    ),
    (
        "phone_account_manager",
        "电话客户经理",
        "Phone account manager",
        ["service", "sales", "lead_capture"],
        {"C": "primary"},
        "C类集团关键人的服务主渠道和营销调度者：商机收集和转移、营销过程监控。",
    ),
    (
        "web",
        "网站",
        "Web portal",
        ["lead_capture", "handling"],
        {"C": "primary", "D": "primary", "prospect": "primary", "A": "auxiliary", "B": "auxiliary"},
        "集团业务宣传、体验、信息发布、商机收集和转移、在线办理。",
    ),
    (
        "service_hall",
        "服营厅",
        "Service hall",
        ["lead_capture", "handling"],
        {"C": "primary", "D": "primary", "prospect": "primary"},
        "被动服务营销、区域服务，商机收集和转移以及部分业务受理。",
    ),
    (
        "group_hotline",
        "集团热线",
        "Group hotline",
        ["complaint", "lead_capture", "handling"],
        {"A": "primary", "B": "primary", "C": "primary", "D": "primary", "prospect": "primary"},
        "集团客户咨询投诉的主渠道，承接简单集团业务的办理需求。",
    ),
    (
        "experience_hall",
        "体验厅",
        "Experience hall",
        ["experience"],
        {"A": "primary", "B": "primary", "prospect": "primary"},
        "行业应用和集团信息化解决方案的体验与展示，推动购买决策的辅助渠道。",
    ),
    (
        "operations_center",
        "运营中心",
        "Operations center",
        ["dispatch", "handling", "complaint"],
        {},
        "面向各渠道的一站式支撑后台：资源确认、业务办理、投诉咨询处理、渠道协调调度、方案集中支撑。",
    ),
]


def load(apps, schema_editor):
    ChannelType = apps.get_model("channels", "ChannelType")
    ChannelResponsibility = apps.get_model("channels", "ChannelResponsibility")
    for order, (code, name, name_en, functions, matrix, description) in enumerate(CHANNEL_TYPES):
        channel, _created = ChannelType.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "functions": functions,
                "description": description,
                "sort_order": order,
            },
        )
        for customer_class, level in matrix.items():
            ChannelResponsibility.objects.update_or_create(
                channel_type=channel, customer_class=customer_class, defaults={"level": level}
            )


# --- provisioning workstations (工位) and the working calendar ----------------------------------------------------

# (code, name, English name, IT support?) in the order a work order passes them (DOMAIN.md §2.2).
WORKSTATIONS = [
    ("resource_check", "资源核查", "Resource check", False),
    ("survey", "现场勘察", "Site survey", False),
    ("design", "方案设计", "Design", False),
    ("construction", "工程施工", "Construction", False),
    ("data_build", "数据制作", "Data build", False),
    ("test", "测试", "Test", False),
    ("acceptance", "客户验收/交维", "Customer acceptance / handover", False),
    ("platform_review", "平台审核", "Platform review", False),
    ("it_support", "IT支撑", "IT support", True),
]


def load_workstations(apps, schema_editor):
    """Create the missing workstations (an admin's renames and managers stay)."""
    Workstation = apps.get_model("channels", "Workstation")
    for order, (code, name, name_en, it_support) in enumerate(WORKSTATIONS):
        Workstation.objects.get_or_create(
            code=code,
            defaults={"name": name, "name_en": name_en, "is_it_support": it_support, "sort_order": order * 10},
        )


# Public holidays and worked weekend days (调休) of mainland China. 2026: the State Council General Office's
# notice on the 2026 holidays (国务院办公厅关于2026年部分节假日安排的通知, 4 November 2025). 2027: its notice
# was not available when this was written, so only the fixed-date statutory holidays are loaded (元旦 1 Jan,
# 劳动节 1–2 May, 国庆节 1–3 Oct); the lunar holidays (春节, 清明, 端午, 中秋) and every worked weekend of 2027
# are to be entered by an admin from the notice.
# (first day, last day, name) of each holiday span, and (worked weekend day, name).
HOLIDAYS = [
    ("2026-01-01", "2026-01-03", "元旦"),
    ("2026-02-15", "2026-02-23", "春节"),
    ("2026-04-04", "2026-04-06", "清明节"),
    ("2026-05-01", "2026-05-05", "劳动节"),
    ("2026-06-19", "2026-06-21", "端午节"),
    ("2026-09-25", "2026-09-27", "中秋节"),
    ("2026-10-01", "2026-10-07", "国庆节"),
    ("2027-01-01", "2027-01-01", "元旦"),
    ("2027-05-01", "2027-05-02", "劳动节"),
    ("2027-10-01", "2027-10-03", "国庆节"),
]
WORKED_WEEKEND_DAYS = [
    ("2026-01-04", "元旦调休"),
    ("2026-02-14", "春节调休"),
    ("2026-02-28", "春节调休"),
    ("2026-05-09", "劳动节调休"),
    ("2026-09-20", "国庆节调休"),
    ("2026-10-10", "国庆节调休"),
]


def calendar_days() -> list[tuple[str, bool, str]]:
    """(ISO date, working day?, name) of every exception above."""
    import datetime as dt

    days = []
    for first, last, name in HOLIDAYS:
        day, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
        while day <= end:
            days.append((day.isoformat(), False, name))
            day += dt.timedelta(days=1)
    days += [(day, True, name) for day, name in WORKED_WEEKEND_DAYS]
    return days


def load_calendar(apps, schema_editor):
    """Create the missing calendar days (a day an admin already entered stays as it is)."""
    CalendarDay = apps.get_model("channels", "CalendarDay")
    for day, working, name in calendar_days():
        CalendarDay.objects.get_or_create(date=day, defaults={"is_working_day": working, "name": name})
