"""Tier pages: the evaluation page and its runs (who may do what), one run's moves, the tier-change list,
the manual override form and its revoke, the 360 page's tier and value panel, the list's tier and value
columns, and the admin's rule editing."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from channels.models import Role
from customers.models import Customer, TierChange, TierEvaluation, TierOverride, TierPolicy
from customers.tiering import engine, services
from customers.views import tiers as tier_views
from tests.channels.factories import TeamFactory, UserFactory
from tests.customers.factories import CustomerFactory, SpendFactory
from tests.customers.panels_support import page_with_panels

pytestmark = pytest.mark.django_db

LAST_MONTH = datetime.date(2026, 10, 1)


def page_text(response) -> str:
    return response.content.decode()


def as_user(client, user):
    client.force_login(user)
    return client


def bill(customer, monthly: int, months: int = 6):
    """`monthly` RMB of spend in each of the `months` billed months up to LAST_MONTH."""
    day = LAST_MONTH
    for _ in range(months):
        SpendFactory(customer=customer, month=day, amount=Decimal(monthly))
        day = (day - datetime.timedelta(days=1)).replace(day=1)


@pytest.fixture
def mine(am):
    customer = CustomerFactory(name="杭州西湖数码科技有限公司", account_manager=am, tier="C")
    bill(customer, 150_000)  # A1 by revenue
    return customer


@pytest.fixture
def foreign(outsider):
    customer = CustomerFactory(name="宁波北仑港务集团有限公司", account_manager=outsider, tier="D")
    bill(customer, 3_000)  # C by revenue
    return customer


@pytest.fixture
def other_supervisor(other_team):
    user = UserFactory(username="sup2", role=Role.SUPERVISOR, team=other_team)
    other_team.supervisor = user
    other_team.save()
    return user


# --- the evaluation page -----------------------------------------------------------------------------


def test_admin_sees_rules_bands_factors_and_every_run_button(client, admin_user):
    response = as_user(client, admin_user).get(reverse("customers:tier-evaluations"))
    assert response.status_code == 200
    text = page_text(response)
    assert "Rules, version 1" in text and "100,000" in text and "strategic list only" in text
    assert [kind for kind, _label in response.context["run_kinds"]] == ["dry_run", "evaluation", "publication"]
    assert reverse("customers:tier-evaluation-run") in text


def test_supervisor_may_run_dry_runs_and_evaluations_but_not_publish(client, supervisor):
    response = as_user(client, supervisor).get(reverse("customers:tier-evaluations"))
    assert [kind for kind, _label in response.context["run_kinds"]] == ["dry_run", "evaluation"]


def test_analyst_reads_the_page_without_run_buttons(client, analyst):
    response = as_user(client, analyst).get(reverse("customers:tier-evaluations"))
    assert response.status_code == 200
    assert response.context["run_kinds"] == []
    assert reverse("customers:tier-evaluation-run") not in page_text(response)


@pytest.mark.parametrize("persona", ["am", "agent", "steward", "dispatcher"])
def test_evaluation_pages_are_not_found_for_other_roles(client, request, admin_user, persona):
    run = engine.evaluate_tiers(kind="dry_run", period=LAST_MONTH, by=admin_user)
    client = as_user(client, request.getfixturevalue(persona))
    assert client.get(reverse("customers:tier-evaluations")).status_code == 404
    assert client.get(reverse("customers:tier-evaluation", args=[run.pk])).status_code == 404


@pytest.mark.parametrize(
    "persona, kind",
    [("am", "dry_run"), ("analyst", "dry_run"), ("agent", "evaluation"), ("supervisor", "publication"),
     ("admin_user", "bogus")],
)  # fmt: skip
def test_runs_refused_by_role_are_not_found_and_run_nothing(client, request, mine, persona, kind):
    response = as_user(client, request.getfixturevalue(persona)).post(
        reverse("customers:tier-evaluation-run"), {"kind": kind}
    )
    assert response.status_code == 404
    assert not TierEvaluation.objects.exists()


def test_admin_dry_run_lists_the_moves_and_changes_nothing(client, admin_user, mine, foreign):
    client = as_user(client, admin_user)
    response = client.post(reverse("customers:tier-evaluation-run"), {"kind": "dry_run", "period": "2026-10"})
    run = TierEvaluation.objects.get()
    assert response.status_code == 302 and response.url == reverse("customers:tier-evaluation", args=[run.pk])
    assert run.kind == "dry_run" and run.finished_at is not None
    text = page_text(client.get(response.url))
    assert mine.name in text and foreign.name in text
    assert not TierChange.objects.exists()
    mine.refresh_from_db()
    assert mine.tier == "C"


def test_supervisor_sees_only_their_teams_moves_of_a_dry_run(client, admin_user, supervisor, mine, foreign):
    run = engine.evaluate_tiers(kind="dry_run", period=LAST_MONTH, by=admin_user)
    assert {move["customer"] for move in run.moves} == {mine.pk, foreign.pk}
    response = as_user(client, supervisor).get(reverse("customers:tier-evaluation", args=[run.pk]))
    assert [move["customer"] for move in response.context["moves"].object_list] == [mine.pk]
    assert foreign.name not in page_text(response)


def test_admin_publication_moves_tiers_and_the_run_lists_the_changes(client, admin_user, mine, foreign):
    client = as_user(client, admin_user)
    response = client.post(reverse("customers:tier-evaluation-run"), {"kind": "publication", "period": "2026-10"})
    run = TierEvaluation.objects.get()
    assert run.kind == "publication"
    changes = {(c.customer_id, c.from_tier, c.to_tier) for c in TierChange.objects.filter(evaluation=run)}
    assert (mine.pk, "C", "A1") in changes
    mine.refresh_from_db()
    assert mine.tier == "A1" and mine.tier_reason
    detail = client.get(response.url)
    assert [c.customer_id for c in detail.context["changes"].object_list if c.customer_id == mine.pk] == [mine.pk]
    # the run says how many customer rows it changed: both customers' tiers and values
    assert run.customers_written == 2 and "<dt>Customers updated</dt><dd>2</dd>" in page_text(detail)


def test_a_big_database_hands_the_run_to_the_worker_after_commit(
    client, admin_user, mine, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(tier_views, "INLINE_EVALUATION_LIMIT", 0)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = as_user(client, admin_user).post(reverse("customers:tier-evaluation-run"), {"kind": "evaluation"})
    run = TierEvaluation.objects.get()
    assert response.status_code == 302
    assert run.finished_at is None and len(callbacks) == 1
    assert "started" in " ".join(str(m) for m in client.get(response.url).context["messages"])


def test_a_bad_month_is_a_message_not_a_run(client, admin_user):
    response = as_user(client, admin_user).post(
        reverse("customers:tier-evaluation-run"), {"kind": "dry_run", "period": "2026-13"}, follow=True
    )
    assert response.status_code == 200
    assert "Give the month as" in page_text(response)
    assert not TierEvaluation.objects.exists()


# --- the tier-change list ----------------------------------------------------------------------------


def change(customer, from_tier, to_tier, *, when=None, up=None):
    return TierChange.objects.create(
        customer=customer, from_tier=from_tier, to_tier=to_tier,
        is_upgrade=up if up is not None else (from_tier or "Z") > to_tier,
        source=TierChange.Source.MANUAL, reason="test", changed_at=when or timezone.now(),
    )  # fmt: skip


def test_tier_change_list_is_scoped_and_filters_by_month_direction_customer_and_tiers(client, am, mine, foreign):
    november = timezone.make_aware(datetime.datetime(2026, 11, 5, 12))
    october = timezone.make_aware(datetime.datetime(2026, 10, 5, 12))
    up = change(mine, "C", "B1", when=november)
    down = change(mine, "B1", "B2", when=november, up=False)
    old = change(mine, "", "C", when=october, up=True)
    change(foreign, "B1", "A1", when=november)
    client = as_user(client, am)

    def listed(**params):
        response = client.get(reverse("customers:tier-changes"), params)
        assert response.status_code == 200
        return {c.pk for c in response.context["page"].object_list}

    assert listed() == {up.pk, down.pk, old.pk}  # not the outsider's customer
    assert listed(month="2026-11") == {up.pk, down.pk}
    assert listed(month="2026-11", direction="up") == {up.pk}
    assert listed(direction="down") == {down.pk}
    assert listed(from_tier="none") == {old.pk}
    assert listed(from_tier="C", to_tier="B1") == {up.pk}
    assert listed(customer=foreign.pk) == set()


@pytest.mark.parametrize(
    "params",
    [
        {"month": "2026-13"},
        {"month": "x"},
        {"direction": "sideways"},
        {"from_tier": "ZZ"},
        {"customer": "abc"},
        {"page": "-1"},
    ],
)
def test_tier_change_list_answers_bad_filters_with_form_errors(client, am, mine, params):
    change(mine, "C", "B1")
    response = as_user(client, am).get(reverse("customers:tier-changes"), params)
    assert response.status_code == 200
    if "page" not in params:
        assert response.context["form"].errors and response.context["page"] is None


def test_tier_change_list_is_not_found_for_call_center_agents(client, agent):
    assert as_user(client, agent).get(reverse("customers:tier-changes")).status_code == 404


@pytest.mark.parametrize("rows", [3, 30])
def test_tier_change_list_query_count_does_not_grow_with_rows(client, am, rows):
    for _ in range(rows):
        change(CustomerFactory(account_manager=am), "C", "B1")
    client = as_user(client, am)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("customers:tier-changes"), {"direction": "up"})
    assert len(response.context["page"].object_list) == rows
    assert len(queries) <= 8


# --- manual override ------------------------------------------------------------------------------------


def override_post(client, customer, **data):
    payload = {"tier": "A2", "reason": "省级重点工程", **data}
    return client.post(reverse("customers:tier-override", args=[customer.pk]), payload)


def test_supervisor_overrides_a_tier_with_an_approver_and_the_move_is_recorded(client, supervisor, admin_user, mine):
    response = override_post(as_user(client, supervisor), mine, approved_by=admin_user.pk, expires_on="2099-01-31")
    assert response.status_code == 302 and response.url == mine.get_absolute_url()
    override = TierOverride.objects.get(customer=mine)
    assert (override.tier, override.requested_by, override.approved_by) == ("A2", supervisor, admin_user)
    assert override.expires_on == datetime.date(2099, 1, 31)
    mine.refresh_from_db()
    assert mine.tier == "A2"
    assert TierChange.objects.get(customer=mine).source == TierChange.Source.OVERRIDE


def test_empty_expiry_takes_the_policys_months(client, supervisor, admin_user, mine):
    override_post(as_user(client, supervisor), mine, approved_by=admin_user.pk)
    months = TierPolicy.objects.get().override_months
    assert TierOverride.objects.get(customer=mine).expires_on > timezone.localdate() + datetime.timedelta(
        days=28 * months
    )


@pytest.mark.parametrize(
    "case, field, message",
    [
        ("account manager as approver", "approved_by", "Select a valid choice"),
        ("self approval", "approved_by", "Someone other than the requester must approve"),
        ("approver of another team", "approved_by", "The approver does not look after this customer."),
        ("past expiry", "expires_on", "The expiry date must be after today."),
        ("no reason", "reason", "This field is required."),
        ("bad tier", "tier", "Select a valid choice"),
    ],
)
def test_bad_override_input_is_shown_as_form_errors_and_saves_nothing(
    client, supervisor, other_supervisor, admin_user, am, mine, case, field, message
):
    data = {"approved_by": admin_user.pk, "expires_on": "2099-01-31"}
    if case == "account manager as approver":
        data["approved_by"] = am.pk
    elif case == "self approval":
        data["approved_by"] = supervisor.pk
    elif case == "approver of another team":
        data["approved_by"] = other_supervisor.pk
    elif case == "past expiry":
        data["expires_on"] = "2020-01-01"
    elif case == "no reason":
        data["reason"] = ""
    elif case == "bad tier":
        data["tier"] = "Z9"
    response = override_post(as_user(client, supervisor), mine, **data)
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    assert not TierOverride.objects.exists()
    mine.refresh_from_db()
    assert mine.tier == "C"


@pytest.mark.parametrize("persona", ["am", "analyst", "agent", "steward"])
def test_override_form_is_not_found_for_roles_that_may_not_approve(client, request, admin_user, mine, persona):
    client = as_user(client, request.getfixturevalue(persona))
    assert client.get(reverse("customers:tier-override", args=[mine.pk])).status_code == 404
    assert override_post(client, mine, approved_by=admin_user.pk).status_code == 404
    assert not TierOverride.objects.exists()


def test_override_of_another_teams_customer_is_not_found(client, other_supervisor, admin_user, mine):
    client = as_user(client, other_supervisor)
    assert client.get(reverse("customers:tier-override", args=[mine.pk])).status_code == 404
    assert override_post(client, mine, approved_by=admin_user.pk).status_code == 404


def test_supervisor_revokes_an_override_and_others_get_not_found(client, supervisor, admin_user, am, mine, foreign):
    override = services.tier_override_create(customer=mine, tier="A2", reason="test", requested_by=supervisor,
                                            approved_by=admin_user)  # fmt: skip
    url = reverse("customers:tier-override-revoke", args=[mine.pk, override.pk])
    assert as_user(client, am).post(url).status_code == 404
    assert client.post(reverse("customers:tier-override-revoke", args=[foreign.pk, override.pk])).status_code == 404
    override.refresh_from_db()
    assert override.revoked_at is None
    response = as_user(client, supervisor).post(url)
    assert response.status_code == 302
    override.refresh_from_db()
    assert override.revoked_at is not None
    # a second revoke is a message, not an error
    response = client.post(url, follow=True)
    assert "already ended" in page_text(response)


# --- the 360 page and the list ---------------------------------------------------------------------------


@pytest.fixture
def published(admin_user, mine, foreign):
    engine.evaluate_tiers(kind="publication", period=LAST_MONTH, by=admin_user)
    mine.refresh_from_db()
    return mine


def test_360_page_shows_tier_last_move_why_value_explanation_and_lifetime_value(client, am, published):
    text = page_with_panels(as_user(client, am), published)
    assert 'id="panel-tier"' in text
    assert published.tier_reason and published.tier_reason in text
    assert published.tier_changed_at.astimezone(timezone.get_current_timezone()).strftime("%Y-%m-%d") in text
    assert "Revenue" in text and "Lifetime value estimate" in text
    assert f"{published.lifetime_value:,.0f}" in text
    assert "Tier history" in text


def test_360_page_hides_lifetime_value_reasons_and_explanation_from_call_center_agents(client, agent, published):
    text = page_with_panels(as_user(client, agent), published)
    assert 'id="panel-tier"' in text and "Tier and value" in text
    assert "Lifetime value estimate" not in text
    assert published.tier_reason not in text
    assert "Tier history" not in text


def test_360_page_shows_the_inherited_service_tier_and_the_open_override(client, supervisor, admin_user, am, published):
    child = CustomerFactory(name="杭州西湖数码滨江分公司", account_manager=am, tier="D", parent=published)
    engine.refresh_service_tiers(customer_ids=[child.pk])
    services.tier_override_create(customer=child, tier="C", reason="集团统一服务", requested_by=supervisor,
                                 approved_by=admin_user, expires_on=datetime.date(2099, 1, 1))  # fmt: skip
    text = page_with_panels(as_user(client, supervisor), child)
    assert "served as A2" in text  # A1 parent, one rank lower
    assert "Manual override to C until 2099-01-01" in text and "集团统一服务" in text
    assert reverse("customers:tier-override-revoke", args=[child.pk, child.tier_overrides.get().pk]) in text
    # the account manager sees the override but may not revoke it
    text = page_with_panels(as_user(client, am), child)
    assert "Manual override to C" in text and "tier-override-revoke" not in text


def test_list_shows_value_score_and_the_last_move_and_sorts_by_value(client, am, published):
    other = CustomerFactory(account_manager=am, tier="C")
    Customer.objects.filter(pk=other.pk).update(value_score=1)
    response = as_user(client, am).get(reverse("customers:list"), {"ordering": "-value_score"})
    text = page_text(response)
    assert [c.pk for c in response.context["page"].object_list][:2] == [published.pk, other.pk]
    assert published.tier_reason in text  # in the tier badge's title
    assert "Value score" in text


# --- admin -----------------------------------------------------------------------------------------------


def test_admin_rule_edit_bumps_the_version_and_bad_values_are_form_errors(client, admin_user):
    client = as_user(client, admin_user)
    tier_policy = TierPolicy.objects.get()
    url = reverse("admin:customers_tierpolicy_change", args=[tier_policy.pk])
    data = {"months_window": 3, "publication": "monthly", "downgrade_after": 2, "override_months": 12,
            "ltv_margin": "0.350", "ltv_discount_rate": "0.080", "ltv_years": 5}  # fmt: skip
    response = client.post(url, {**data, "ltv_margin": "2"})
    assert response.status_code == 200 and "The margin is a fraction between 0 and 1." in page_text(response)
    tier_policy.refresh_from_db()
    assert tier_policy.version == 1
    assert client.post(url, data).status_code == 302
    tier_policy.refresh_from_db()
    assert (tier_policy.version, tier_policy.months_window) == (2, 3)
    assert tier_policy.history.latest().history_user == admin_user


def test_admin_band_edit_refuses_floors_out_of_order(client, admin_user):
    from customers.models import TierBand

    band = TierBand.objects.get(tier="B2")
    url = reverse("admin:customers_tierband_change", args=[band.pk])
    data = {"min_revenue": "50000", "annual_retention": "0.900"}
    response = as_user(client, admin_user).post(url, data)
    assert response.status_code == 200 and "must not be below" in page_text(response)
    band.refresh_from_db()
    assert band.min_revenue == Decimal("10000")


def test_tier_changes_are_read_only_in_admin(client, admin_user, mine):
    row = change(mine, "C", "B1")
    client = as_user(client, admin_user)
    assert client.get(reverse("admin:customers_tierchange_change", args=[row.pk])).status_code == 200
    assert client.get(reverse("admin:customers_tierchange_add")).status_code == 403


def test_supervisor_without_customers_sees_no_moves_of_a_dry_run(client, admin_user, mine):
    # Given a supervisor whose team serves nobody
    lonely = UserFactory(role=Role.SUPERVISOR, team=TeamFactory())
    run = engine.evaluate_tiers(kind="dry_run", period=LAST_MONTH, by=admin_user)
    url = reverse("customers:tier-evaluation", args=[run.pk])
    # Then the admin sees the move and the supervisor none
    assert len(as_user(client, admin_user).get(url).context["moves"].object_list) == 1
    assert as_user(client, lonely).get(url).context["moves"].object_list == []


def test_360_page_opens_when_the_tier_rules_are_missing(client, am, mine):
    TierPolicy.objects.all().delete()
    response = as_user(client, am).get(mine.get_absolute_url())
    assert response.status_code == 200
    assert 'id="panel-tier"' in page_text(response)
    panel = client.get(reverse("customers:panel", args=[mine.pk, "tier"]), headers={"HX-Request": "true"})
    assert panel.status_code == 200
