"""Default reference rows (DOMAIN.md §4.2–§4.3, seed 004 六(二)), loaded by a data migration and
editable afterwards: stage probabilities and stale limits, claim timers per tier, close reasons and
the default routing rules."""

# stage, probability %, stale after days
STAGES = [
    ("identified", 10, 14),
    ("clarifying", 25, 30),
    ("solution", 40, 30),
    ("bidding", 60, 30),
    ("negotiating", 75, 45),
    ("signed", 90, 15),
    ("won", 100, None),
    ("lost", 0, None),
    ("suspended", 0, None),
]

# tier ("" = prospect / no tier): claim h, return to queue h, first contact h, qualify days, idle days
CLAIM_TIMERS = [
    ("A1", 24, 48, 24, 7, 30),
    ("A2", 24, 48, 24, 7, 30),
    ("B1", 24, 48, 48, 14, 30),
    ("B2", 24, 48, 48, 14, 30),
    ("C", 48, 72, 48, 14, 30),
    ("D", 48, 72, 48, 14, 30),
    ("", 48, 72, 48, 14, 30),
]

# code, Chinese, English, reason for a win
CLOSE_REASONS = [
    ("price", "价格因素", "Price", False),
    ("competitor", "竞争对手", "Competitor", False),
    ("budget", "预算削减", "Budget cut", False),
    ("no_decision", "客户未决策", "No decision", False),
    ("technical", "技术/资源不满足", "Technical / no resources", False),
    ("not_real", "需求不真实", "Need not real", False),
    ("customer_delay", "客户推迟", "Customer postponed", False),
    ("relationship", "客户关系", "Customer relationship", True),
    ("solution_fit", "方案契合", "Solution fit", True),
    ("price_win", "价格优势", "Price advantage", True),
    ("other", "其他", "Other", False),
]

# name, priority, customer condition, target, second cover, capacity
ROUTING_RULES = [
    ("有客户经理的客户 → 客户经理", 10, "has_manager", "account_manager", False, None),
    ("无客户经理或潜在客户 → 核心代理商（电话客户经理双重覆盖）", 20, "unserved", "core_partner", True, 200),
    ("无核心代理商 → 电话客户经理（轮询，容量上限）", 30, "unserved", "phone_pool", False, 50),
]


def load(apps, schema_editor):
    StageSetting = apps.get_model("opportunities", "StageSetting")
    ClaimTimer = apps.get_model("opportunities", "ClaimTimer")
    CloseReason = apps.get_model("opportunities", "CloseReason")
    RoutingRule = apps.get_model("opportunities", "RoutingRule")
    for order, (stage, probability, stale) in enumerate(STAGES):
        StageSetting.objects.update_or_create(
            stage=stage, defaults={"probability": probability, "stale_days": stale, "sort_order": order}
        )
    for tier, claim, back, contact, qualify, idle in CLAIM_TIMERS:
        ClaimTimer.objects.update_or_create(
            tier=tier,
            defaults={
                "claim_hours": claim, "return_hours": back, "first_contact_hours": contact,
                "qualify_days": qualify, "idle_days": idle,
            },
        )  # fmt: skip
    for order, (code, name, name_en, won) in enumerate(CLOSE_REASONS):
        CloseReason.objects.update_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "applies_to_won": won, "sort_order": order}
        )
    if not RoutingRule.objects.exists():
        for name, priority, condition, target, second, capacity in ROUTING_RULES:
            RoutingRule.objects.create(
                name=name, priority=priority, customer_condition=condition, target=target,
                second_cover=second, capacity=capacity,
            )  # fmt: skip
