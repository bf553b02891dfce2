"""manage.py seed_opportunities: demo leads and opportunities on the demo province (opportunities.demo)."""

import io
import re
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from channels.models import User
from opportunities.models import (
    CLOSED_STAGES,
    OPEN_STAGES,
    STAGE_MOVES,
    WIN_FROM,
    Kind,
    Opportunity,
    RoutingRule,
    RoutingStatus,
    Stage,
    StageChange,
    StageSetting,
    Transfer,
)

COUNT = 150
A = Transfer.Action


def run(command: str, **options) -> str:
    out = io.StringIO()
    call_command(command, stdout=out, **options)
    return out.getvalue()


@pytest.mark.django_db
def test_without_the_demo_province_it_refuses():
    with pytest.raises(CommandError, match="seed_demo"):
        run("seed_opportunities")
    assert not Opportunity.objects.exists()


@pytest.fixture(scope="module")
def seeded_once(django_db_setup, django_db_blocker):
    """One small demo province with its opportunities for the whole module (seeding takes seconds), rolled
    back at the end so other modules never see it; each test still runs in its own savepoint."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            run("seed_demo", customers=150, seed=7, contacts_per_customer=2, members_per_customer=0, months=1)
            yield run("seed_opportunities", count=COUNT, seed=7)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def seeded(seeded_once, db):
    return seeded_once


def test_the_board_and_the_pipeline_have_rows_in_every_bucket(seeded):
    rows = Opportunity.objects.all()
    assert COUNT <= rows.count() <= COUNT + 10
    routing = Counter(rows.values_list("routing_status", flat=True))
    for status in (RoutingStatus.QUEUED, RoutingStatus.DISPATCHED, RoutingStatus.ESCALATED, RoutingStatus.RETURNED):
        assert 1 <= routing[status] <= 20, status
    assert routing[RoutingStatus.CLAIMED] > COUNT * 0.6
    assert routing[RoutingStatus.PENDING] == 0
    # overdue: sent, claim deadline passed, not yet escalated by the beat
    assert rows.filter(routing_status=RoutingStatus.DISPATCHED, claim_due_at__lt=timezone.now()).exists()
    stages = Counter(rows.values_list("stage", flat=True))
    for stage in [*OPEN_STAGES, *CLOSED_STAGES]:
        assert stages[stage] > 0, stage
    assert stages[""] > 0  # open leads
    early = sum(stages[s] for s in (Stage.IDENTIFIED, Stage.CLARIFYING, Stage.SOLUTION))
    late = sum(stages[s] for s in (Stage.BIDDING, Stage.NEGOTIATING, Stage.SIGNED))
    assert early > late
    actions = Counter(Transfer.objects.values_list("action", flat=True))
    for action in (A.DISPATCHED, A.RETURNED, A.ESCALATED, A.AUTO_RETURNED):
        assert actions[action] > 0, action
    lost = rows.filter(stage=Stage.LOST)
    assert set(lost.exclude(competitor="").values_list("competitor", flat=True)) <= {"中国电信", "中国联通", "中国广电"}
    assert lost.filter(close_reason__code="competitor").exclude(competitor="").exists()
    assert rows.filter(kind=Kind.OPPORTUNITY, products__isnull=False).exists()
    assert rows.filter(claimed_on_time=False).exists() and rows.filter(claimed_on_time=True).exists()
    assert re.search(r"\d+", seeded)


def test_every_row_is_consistent_with_the_flow(seeded):
    now = timezone.now()
    probability = {s.stage: s.probability for s in StageSetting.objects.all()}
    transfers = defaultdict(list)
    for t in Transfer.objects.order_by("at", "pk"):
        transfers[t.opportunity_id].append(t)
    changes = defaultdict(list)
    for c in StageChange.objects.order_by("at", "pk"):
        changes[c.opportunity_id].append(c)
    for opp in Opportunity.objects.all():
        log, history = transfers[opp.pk], changes[opp.pk]
        assert opp.code == f"OP{opp.pk:08d}"
        assert log[0].action == A.CAPTURED and log[0].by_id == opp.captured_by_id
        assert abs(log[0].at - opp.created_at) < timedelta(seconds=2)  # services.opportunity_capture: a moment apart
        placed = [t for t in log if t.action in (A.ROUTED, A.QUEUED)]
        assert len(placed) == 1 and opp.created_at < placed[0].at == opp.routed_at, opp
        assert all(t.at <= now for t in log) and [t.at for t in log] == sorted(t.at for t in log)
        if opp.routing_status == RoutingStatus.CLAIMED:
            assert opp.claimed_by_id and opp.assigned_to_id == opp.claimed_by_id, opp
            assert opp.claimed_on_time is not None
            claim = [t for t in log if t.action == A.CLAIMED]
            assert claim and claim[-1].by_id == opp.claimed_by_id and claim[-1].at == opp.claimed_at
            assert opp.routed_at < opp.claimed_at <= now
            assert opp.claimed_on_time == (opp.claimed_at <= opp.claim_due_at)
        else:
            assert opp.claimed_by_id is None and not opp.is_closed, opp
        if opp.routing_status in (RoutingStatus.QUEUED, RoutingStatus.RETURNED):
            assert opp.assigned_to_id is None and opp.assigned_partner_id is None
            assert opp.assigned_channel.code == "operations_center"
        if opp.routing_status in (RoutingStatus.DISPATCHED, RoutingStatus.ESCALATED):
            assert opp.assigned_to_id or opp.assigned_partner_id
            assert opp.claim_due_at and opp.return_due_at > now
        if opp.routing_status == RoutingStatus.ESCALATED:
            assert opp.claim_due_at < opp.escalated_at <= now
        # stages
        if opp.kind == Kind.LEAD:
            assert opp.stage in ("", Stage.LOST, Stage.SUSPENDED) and opp.expected_value is None
        if opp.stage:
            assert opp.probability == probability[opp.stage]
            assert history and history[-1].to_stage == opp.stage and history[-1].at == opp.stage_changed_at
        else:
            assert not history and opp.probability is None
        if opp.is_closed:
            assert opp.closed_at == opp.stage_changed_at and opp.close_reason is not None
            assert opp.close_reason.applies_to_won == (opp.stage == Stage.WON)
        else:
            assert opp.closed_at is None
        for before, after in zip(history, history[1:], strict=False):
            assert after.from_stage == before.to_stage and before.at < after.at
            assert abs(float(after.days_in_stage) - (after.at - before.at).total_seconds() / 86400) <= 0.006
            allowed = STAGE_MOVES.get(before.to_stage, set())
            assert after.to_stage in allowed or (
                after.to_stage in (Stage.LOST, Stage.SUSPENDED) or after.from_stage in WIN_FROM
            ), (before.to_stage, after.to_stage)
        for change in history:
            if change.from_stage == "" and change.at < opp.routed_at:
                assert change.to_stage == Stage.IDENTIFIED and change.by_id == opp.captured_by_id  # at capture
            else:  # worked by its owner after the claim
                assert change.at > opp.claimed_at and change.by_id == opp.claimed_by_id
        if opp.qualified_at:
            assert history[0].from_stage == "" and history[0].to_stage == Stage.IDENTIFIED
            assert history[0].at == opp.qualified_at


def test_a_second_run_adds_nothing_and_says_so(seeded):
    before = (Opportunity.objects.count(), Transfer.objects.count(), StageChange.objects.count())
    output = run("seed_opportunities", count=50)
    assert (Opportunity.objects.count(), Transfer.objects.count(), StageChange.objects.count()) == before
    assert "nothing to do" in output


def test_the_named_people_see_their_own_work(seeded):
    users = {u.username: u for u in User.objects.filter(username__in=["am_zhang", "am_li", "am_wu", "tam_zhou",
                                                                     "partner_qian", "ops_zhao"])}  # fmt: skip
    for username in ("am_zhang", "am_li", "am_wu"):
        mine = Opportunity.objects.visible_to(users[username])
        claimed = mine.filter(claimed_by=users[username])
        assert 10 <= claimed.count() <= 25, username
        assert len(set(claimed.values_list("stage", flat=True))) >= 5, username
        assert mine.filter(routing_status=RoutingStatus.DISPATCHED, assigned_to=users[username]).exists(), username
    zhang = set(Opportunity.objects.visible_to(users["am_zhang"]).filter(claimed_by=users["am_zhang"]))
    assert not zhang & set(Opportunity.objects.visible_to(users["am_wu"]))
    tam = Opportunity.objects.visible_to(users["tam_zhou"])
    assert tam.filter(routed_by_rule__target=RoutingRule.Target.PHONE_POOL, claimed_by=users["tam_zhou"]).exists()
    assert tam.filter(second_cover=users["tam_zhou"]).exists()
    qian = users["partner_qian"]
    assert qian.partner is not None and qian.partner.is_core
    theirs = Opportunity.objects.visible_to(qian)
    assert theirs.filter(claimed_by=qian, assigned_partner=qian.partner).count() >= 5
    assert theirs.filter(routing_status=RoutingStatus.DISPATCHED, assigned_partner=qian.partner).exists()
    assert Opportunity.objects.visible_to(users["ops_zhao"]).count() == Opportunity.objects.count()


def test_partner_staff_have_their_partner_and_cannot_log_in(seeded):
    staff = User.objects.filter(role="partner").select_related("partner")
    assert staff.filter(username="partner_qian", display_name="钱芳").exists()
    assert all(u.partner_id for u in staff)
    per_partner = Counter(u.partner_id for u in staff)
    assert all(1 <= n <= 2 for n in per_partner.values())
    assert not any(u.has_usable_password() for u in staff.exclude(username="partner_qian"))
