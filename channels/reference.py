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
