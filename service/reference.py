"""Reference data of the service desk shipped with KAM (DOMAIN.md §5.2), loaded by a data migration and edited
by admins afterwards: the SLA policies in their order. Targets in minutes; working hours are office hours
(08:30–17:30: 9 a working day) on working days, 7×24 runs round the clock (AAA/AA faults)."""

H = 60  # minutes in an hour
DAY = 9 * H  # a working day of office hours

# (sequence, name, kinds, tiers, SLA classes, priority, working hours?, first response, next reply, update,
#  resolution, hard cap, follow-up hours)
URGENT, HIGH, NORMAL, LOW = 1, 2, 3, 4
SLA_POLICIES = [
    (10, "故障 · AAA 电路", ["fault"], [], ["AAA"], URGENT, False, 15, 60, 1 * H, 4 * H, 48 * H, 24),
    (20, "故障 · AA 电路", ["fault"], [], ["AA"], URGENT, False, 30, 2 * H, 2 * H, 6 * H, 48 * H, 24),
    (30, "故障 · A 电路", ["fault"], [], ["A"], HIGH, True, 30, 4 * H, 4 * H, 8 * H, 3 * DAY, 48),
    (40, "故障 · A 类客户", ["fault"], ["A1", "A2"], [], HIGH, True, 30, 4 * H, 4 * H, 8 * H, 3 * DAY, 48),
    (50, "故障 · 标准", ["fault"], [], [], NORMAL, True, 1 * H, 4 * H, None, 24 * H, 48 * H, 48),
    (60, "投诉 · A1/A2", ["complaint"], ["A1", "A2"], [], HIGH, True, 2 * H, 4 * H, None, 2 * DAY, 5 * DAY, 24),
    (70, "投诉 · B1/B2", ["complaint"], ["B1", "B2"], [], NORMAL, True, 4 * H, 4 * H, None, 3 * DAY, 7 * DAY, 48),
    (80, "投诉 · C/D 及其他", ["complaint"], [], [], NORMAL, True, 1 * DAY, 1 * DAY, None, 5 * DAY, 11 * DAY, 48),
    (90, "服务请求 · A 类客户", ["service_request"], ["A1", "A2"], [], HIGH, True, 1 * H, 4 * H, None, 1 * DAY,
     3 * DAY, 30 * 24),
    (100, "服务请求", ["service_request"], [], [], NORMAL, True, 4 * H, 1 * DAY, None, 1 * DAY, 3 * DAY, 30 * 24),
    (110, "咨询与建议", ["consultation", "suggestion"], [], [], LOW, True, 1 * DAY, 1 * DAY, None, 3 * DAY, 10 * DAY,
     None),
]  # fmt: skip


def load(apps, schema_editor) -> int:
    """Create the shipped policies that are missing (by name; an admin's edits stay)."""
    SlaPolicy = apps.get_model("service", "SlaPolicy")
    have = set(SlaPolicy.objects.values_list("name", flat=True))
    rows = [
        SlaPolicy(
            sequence=sequence,
            name=name,
            kinds=kinds,
            service_tiers=tiers,
            sla_classes=classes,
            priority=priority,
            working_hours=working,
            first_response_minutes=first,
            next_reply_minutes=reply,
            update_minutes=update,
            resolution_minutes=resolution,
            hard_cap_minutes=cap,
            follow_up_hours=follow_up,
        )  # fmt: skip
        for (
            sequence,
            name,
            kinds,
            tiers,
            classes,
            priority,
            working,
            first,
            reply,
            update,
            resolution,
            cap,
            follow_up,
        ) in SLA_POLICIES  # fmt: skip
        if name not in have
    ]
    SlaPolicy.objects.bulk_create(rows)
    return len(rows)
