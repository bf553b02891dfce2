"""manage.py seed_demo: the demo province (customers.demo)."""

import io
import re
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db.models import Count, Max, Min, Q

from channels.models import Partner, Role, Team, User
from customers.demo import DEMO_LOGINS, DemoGenerator, tier_counts
from customers.identifiers import credit_code_problem
from customers.models import (
    AccountManagerAssignment,
    Contact,
    Customer,
    GroupMember,
    SpendRecord,
    Visit,
)
from customers.selectors import members_trend, month_starts

SMALL = 200


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **{"customers": SMALL, "seed": 7, **options})
    return out.getvalue()


@pytest.fixture
def seeded(db):
    """The generator's rows as generated: the evaluation that a real load runs afterwards is tested below."""
    return seed(no_evaluate=True)


def test_a_loaded_demo_has_published_values_and_shared_segments_and_loading_twice_adds_nothing(db):
    from customers.models import Segment, TierEvaluation

    output = seed()

    published = TierEvaluation.objects.get(kind=TierEvaluation.Kind.PUBLICATION)
    assert published.finished_at is not None and published.customers > 0
    active = Customer.objects.filter(status=Customer.Status.ACTIVE)
    assert not active.filter(value_score__isnull=True).exists()
    assert active.filter(avg_monthly_revenue__gt=0).count() > active.count() * 0.9
    assert Segment.objects.filter(is_shared=True).count() == 4
    assert "evaluated and published" in output
    assert "nothing to do" in seed() and Segment.objects.count() == 4


def test_seeding_creates_the_demo_logins_with_their_roles_channels_and_teams(seeded):
    expected = {
        "admin": (Role.ADMIN, None),
        "am_zhang": (Role.ACCOUNT_MANAGER, "account_manager"),
        "am_li": (Role.ACCOUNT_MANAGER, "account_manager"),
        "am_wu": (Role.ACCOUNT_MANAGER, "account_manager"),
        "sup_wang": (Role.SUPERVISOR, "account_manager"),
        "tam_zhou": (Role.PHONE_ACCOUNT_MANAGER, "phone_account_manager"),
        "agent_chen": (Role.AGENT, "group_hotline"),
        "ops_zhao": (Role.DISPATCHER, "operations_center"),
        "steward_liu": (Role.DATA_STEWARD, "operations_center"),
        "analyst_sun": (Role.ANALYST, None),
    }
    users = {u.username: u for u in User.objects.filter(username__in=expected).select_related("channel_type", "team")}
    for username, (role, channel) in expected.items():
        user = users[username]
        assert user.role == role, username
        assert (user.channel_type.code if user.channel_type else None) == channel, username
        assert user.check_password(settings.DEMO_PASSWORD), username
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,5}", user.display_name), username
    assert users["admin"].is_superuser and users["admin"].is_staff
    zhang, li, wu, wang = users["am_zhang"], users["am_li"], users["am_wu"], users["sup_wang"]
    assert zhang.team == li.team == wang.team
    assert zhang.team.supervisor == wang
    assert wu.team is not None and wu.team != zhang.team
    assert "am_zhang" in seeded and settings.DEMO_PASSWORD in seeded


def test_background_staff_cannot_log_in_and_every_team_has_a_supervisor(seeded):
    named = {username for username, *_rest in DEMO_LOGINS}
    background = User.objects.exclude(username__in=named)
    assert background.filter(role=Role.ACCOUNT_MANAGER).exists()
    assert not any(u.has_usable_password() for u in background)
    assert not Team.objects.filter(supervisor__isnull=True).exists()
    assert Partner.objects.count() >= 3


def test_seeded_customers_follow_the_tier_mix_and_are_all_demo_rows(seeded):
    customers = Customer.objects.all()
    assert customers.count() == SMALL
    assert not customers.filter(is_demo=False).exists()
    tiers = Counter(customers.values_list("tier", flat=True))
    wanted = tier_counts(SMALL)
    for tier in ("A1", "A2", "B1", "B2", "C"):
        assert tiers[tier] == wanted[tier], tier
    # A few deliberate near-duplicates take D slots: they were entered without a tier.
    assert tiers["D"] + tiers[""] == wanted["D"]
    assert not customers.filter(Q(code__isnull=True) | ~Q(code__regex=r"^KA\d{8}$")).exists()


def test_every_credit_code_conforms_and_carries_its_authority_and_city(seeded):
    rows = list(Customer.objects.exclude(credit_code=None).values_list("credit_code", "region_id"))
    assert len(rows) > SMALL * 0.9
    assert len({code for code, _region in rows}) == len(rows)
    for code, region in rows:
        assert credit_code_problem(code) is None, code
        assert code[:2] in ("91", "12", "11"), code
        assert code[2:6] == region[:4], (code, region)  # the city's (or Beijing's) division code


def test_hierarchies_follow_the_branch_naming_rule(seeded):
    head = Customer.objects.get(name="中国工商银行股份有限公司")
    province = Customer.objects.get(parent=head)
    assert province.name == "中国工商银行股份有限公司浙江省分行"
    cities = list(province.children.all())
    assert cities and all(c.name.startswith("中国工商银行股份有限公司") and c.name.endswith("分行") for c in cities)
    assert Customer.objects.get(name="中国工商银行股份有限公司杭州分行").parent == province
    # Private groups have branches named after the parent's full name.
    for child in Customer.objects.filter(parent__isnull=False).select_related("parent"):
        if child.parent.name.endswith("集团有限公司"):
            assert child.name.startswith(child.parent.name)


def test_named_account_managers_have_a_portfolio_with_a_hierarchy(seeded):
    for username in ("am_zhang", "am_li", "am_wu"):
        user = User.objects.get(username=username)
        visible = Customer.objects.visible_to(user)
        assert 15 <= visible.count() <= 80, username
        assert visible.filter(tier__in=["A1", "A2", "B1", "B2"]).exists(), username
        assert visible.filter(parent__in=visible).exists(), username
        current = AccountManagerAssignment.objects.filter(account_manager=user, ended_at__isnull=True)
        assert current.count() == Customer.objects.filter(account_manager=user).count()


def test_class_d_customers_are_mostly_without_an_account_manager_and_phone_managers_serve_c_and_d(seeded):
    d = Customer.objects.filter(tier="D", parent__isnull=True)
    assert d.filter(account_manager__isnull=True).count() > d.count() * 0.7
    phone_served = Customer.objects.filter(account_manager__role=Role.PHONE_ACCOUNT_MANAGER)
    assert phone_served.filter(tier="C", account_manager__username="tam_zhou").exists()
    assert set(phone_served.values_list("tier", flat=True)) <= {"C", "D"}
    ab = Customer.objects.filter(tier__in=["A1", "A2", "B1", "B2"], account_manager__isnull=False)
    assert not ab.exclude(account_manager__role=Role.ACCOUNT_MANAGER).exists()


def test_billed_customers_have_24_months_of_spend_ending_this_month(seeded):
    months = month_starts(24)
    spans = (
        SpendRecord.objects.values("customer")
        .annotate(n=Count("month", distinct=True), first=Min("month"), last=Max("month"))
        .order_by()
    )
    billed = Customer.objects.exclude(status=Customer.Status.PROSPECT).count()
    assert len(spans) == billed
    assert all(s["n"] == 24 and s["first"] == months[0] and s["last"] == months[-1] for s in spans)
    assert not SpendRecord.objects.filter(amount__lt=0).exists()


def test_contacts_members_and_visits_look_like_a_real_province(seeded):
    per_customer = Counter(Contact.objects.values_list("customer_id", flat=True))
    assert set(per_customer) == set(Customer.objects.values_list("pk", flat=True))
    assert all(1 <= n <= 8 for n in per_customer.values())
    assert Contact.objects.filter(is_key_person=True).values("customer").distinct().count() == SMALL
    assert all(re.fullmatch(r"138\d{8}", m) for m in Contact.objects.values_list("mobile", flat=True))
    assert all(re.fullmatch(r"0\d{2,3}-8\d{7}", p) for p in Customer.objects.values_list("phone", flat=True))
    largest = Customer.objects.order_by("-members_count").first()
    active = GroupMember.objects.filter(customer=largest, status=GroupMember.Status.ACTIVE).count()
    assert largest.tier == "A1" and largest.members_count == active >= 1000
    assert Visit.objects.filter(customer__tier__in=["A1", "A2"]).exists()
    assert not Visit.objects.exclude(visited_by__role__in=[Role.ACCOUNT_MANAGER, Role.PHONE_ACCOUNT_MANAGER]).exists()


def test_the_data_steward_finds_deliberate_near_duplicates(seeded):
    informal = Customer.objects.filter(name__in=["杭州工行", "杭州工商银行", "中移动杭州分公司"])
    assert informal.count() == 3
    assert not informal.exclude(credit_code=None).exists()
    assert Customer.objects.filter(name="中国移动通信集团浙江有限公司杭州分公司").exists()
    assert Customer.objects.filter(name__endswith="有限责任公司", tier="").exists()


def test_a_second_run_adds_nothing_and_says_so(seeded):
    before = (Customer.objects.count(), User.objects.count(), SpendRecord.objects.count(), Contact.objects.count())
    output = seed(customers=50)
    after = (Customer.objects.count(), User.objects.count(), SpendRecord.objects.count(), Contact.objects.count())
    assert after == before
    assert "nothing to do" in output


@pytest.mark.django_db
def test_benchmark_profile_gives_exact_row_counts():
    seed(customers=60, contacts_per_customer=4, members_per_customer=10, months=24, monthly_totals=True)
    assert Customer.objects.count() == 60
    assert Contact.objects.count() == 240
    assert GroupMember.objects.count() == 600
    # The 360 chart's monthly member counts are filled: they say what the member rows say.
    ends = [(m + timedelta(days=32)).replace(day=1) - timedelta(days=1) for m in month_starts(12)]
    members = defaultdict(list)
    for customer_id, joined, left in GroupMember.objects.values_list("customer_id", "joined_on", "left_on"):
        members[customer_id].append((joined, left))
    for customer in Customer.objects.all():
        expected = [sum(j <= end and (left is None or left > end) for j, left in members[customer.pk]) for end in ends]
        assert members_trend(customer)["values"] == expected
    per_customer = Counter(SpendRecord.objects.values_list("customer_id", flat=True))
    assert len(per_customer) == 60 and set(per_customer.values()) == {24}


def test_the_same_seed_plans_the_same_province():
    def names(seed_value):
        generator = DemoGenerator(customers=300, seed=seed_value)
        generator._plan_customers()
        return [(p.name, p.tier) for p in generator.plans]

    assert names(5) == names(5)
    assert names(5) != names(6)


@pytest.mark.django_db
def test_bad_sizes_are_refused_with_a_clear_error():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="at least 1"):
        seed(customers=0)
    assert not Customer.objects.exists()
