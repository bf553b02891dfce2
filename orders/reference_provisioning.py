"""Provisioning reference data shipped with KAM, loaded by data migrations and editable afterwards: what the
resource check reserves per product, and the work-order steps per product (DOMAIN.md §2.2, §5.2).

Plain data: a migration must not import the live models, so the loaders take the historical model classes."""

CIRCUIT, NUMBER_BLOCK, IP_BLOCK, PORT = "circuit", "number_block", "ip_block", "port"

# product code -> ((resource kind, taken from the customer's region?), ...)
# Leased lines are built from the local network (region matters); an internet line also needs a public IP block
# from the regional pool. Fixed-line numbers (IMS, switchboard) are local numbers; a 400 number is national.
# SMS gateway ports sit on the provincial gateway: any free port will do.
RESOURCE_NEEDS: dict[str, tuple[tuple[str, bool], ...]] = {
    "INET": ((CIRCUIT, True), (IP_BLOCK, True)),
    "DATA": ((CIRCUIT, True),),
    "MPLS": ((CIRCUIT, True),),
    "SDWAN": ((CIRCUIT, True),),
    "IDC": ((CIRCUIT, True),),
    "EBB": ((CIRCUIT, True),),
    "N400": ((NUMBER_BLOCK, False),),
    "SWBD": ((NUMBER_BLOCK, True),),
    "IMSFIX": ((NUMBER_BLOCK, True),),
    "MAS": ((PORT, False),),
    "QXT": ((PORT, False),),
}


def load_resource_needs(Product, ProductResourceNeed) -> int:
    """Create the missing rows (an admin's edits of existing rows stay)."""
    products = dict(Product.objects.filter(code__in=RESOURCE_NEEDS).values_list("code", "pk"))
    created = 0
    for code, needs in RESOURCE_NEEDS.items():
        if code not in products:
            continue
        for kind, region_matters in needs:
            _, made = ProductResourceNeed.objects.get_or_create(
                product_id=products[code], kind=kind, defaults={"region_matters": region_matters}
            )
            created += made
    return created


# --- work-order step templates (DOMAIN.md §2.2; time limits in working hours, §5.2) -----------------------------

WORK, RESOURCE_CHECK, ACCEPTANCE = "work", "resource_check", "acceptance"

# (workstation code, name, English name, action, hours, only with construction?)
# Without construction: 64 h = 8 working days, inside the 10-day limit for lines when resources exist;
# with construction: 184 h = 23 working days, inside the 30-day limit.
WORK_ORDER_STEPS = [
    ("resource_check", "资源核查", "Resource check", RESOURCE_CHECK, 8, False),
    ("survey", "现场勘察", "Site survey", WORK, 16, False),
    ("design", "方案设计", "Design", WORK, 16, False),
    ("construction", "工程施工", "Construction", WORK, 120, True),
    ("data_build", "数据制作", "Data build", WORK, 8, False),
    ("test", "测试", "Test", WORK, 8, False),
    ("acceptance", "客户验收/交维", "Customer acceptance / handover", ACCEPTANCE, 8, False),
]

# A change order on a line that exists (more bandwidth, another IP block) skips the site survey and the design:
# the resource check, the data build, the test and the acceptance remain, and construction when it is needed.
NOT_ON_CHANGE = ("survey", "design")  # workstation codes of WORK_ORDER_STEPS

# Platform-review products: one to three review steps at the platform-review workstation, inside the 3-working-day
# limit. Where the product needs a resource (a 400 number, switchboard numbers) the first step reserves it.
PLATFORM_REVIEW_STEPS = {
    "N400": [
        ("400号码资源核查与实名审核", "400 number check and real-name review", RESOURCE_CHECK, 16),
        ("平台开通配置", "Platform configuration", WORK, 8),
    ],
    "SWBD": [
        ("号码资源核查与总机审核", "Number check and switchboard review", RESOURCE_CHECK, 16),
        ("总机平台配置", "Switchboard configuration", WORK, 8),
    ],
    "GMMS": [("短信签名报备审核", "Message signature filing review", WORK, 24)],
    "APN": [
        ("APN方案审核", "APN design review", WORK, 8),
        ("APN数据配置", "APN configuration", WORK, 8),
        ("联调测试", "Joint test", WORK, 8),
    ],
}
DEFAULT_REVIEW_STEPS = [("平台审核", "Platform review", WORK, 16)]


def step_templates_for(code: str, provisioning_type: str) -> list[dict]:
    """The step rows of one product (BOSS-direct products have none)."""
    if provisioning_type == "work_order":
        return [
            {
                "workstation": ws,
                "name": name,
                "name_en": name_en,
                "action": action,
                "duration_hours": hours,
                "only_with_construction": construction,
            }  # fmt: skip
            for ws, name, name_en, action, hours, construction in WORK_ORDER_STEPS
        ]
    if provisioning_type == "platform_review":
        return [
            {
                "workstation": "platform_review",
                "name": name,
                "name_en": name_en,
                "action": action,
                "duration_hours": hours,
                "only_with_construction": False,
            }  # fmt: skip
            for name, name_en, action, hours in PLATFORM_REVIEW_STEPS.get(code, DEFAULT_REVIEW_STEPS)
        ]
    return []


def load_step_templates(Product, StepTemplate, Workstation) -> int:
    """Steps for every product that has none yet (an admin's steps stay as they are)."""
    workstations = dict(Workstation.objects.values_list("code", "pk"))
    knows_change = any(field.name == "on_change" for field in StepTemplate._meta.get_fields())
    have = set(StepTemplate.objects.values_list("product_id", flat=True).distinct())
    rows = []
    for pk, code, provisioning_type in Product.objects.values_list("pk", "code", "provisioning_type"):
        if pk in have:
            continue
        for sequence, step in enumerate(step_templates_for(code, provisioning_type), start=1):
            ws = step.pop("workstation")
            if knows_change:  # the field came after the first load (migration 0009)
                step["on_change"] = not (provisioning_type == "work_order" and ws in NOT_ON_CHANGE)
            rows.append(StepTemplate(product_id=pk, sequence=sequence, workstation_id=workstations[ws], **step))
    StepTemplate.objects.bulk_create(rows)
    return len(rows)


def mark_steps_not_on_change(Product, StepTemplate, Workstation) -> int:
    """The shipped survey and design steps of work-order products are skipped by change orders."""
    return StepTemplate.objects.filter(
        product__provisioning_type="work_order", workstation__code__in=NOT_ON_CHANGE
    ).update(on_change=False)
