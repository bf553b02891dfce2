"""opportunities.policy: each rule written once, and where a rule exists twice (as a query and for a loaded
row) both answers agree; pages offer exactly what the services accept."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from channels.models import Role
from opportunities import policy, services
from opportunities.models import Kind, Opportunity, RoutingStatus, Stage
from tests.channels.factories import PartnerFactory, TeamFactory, UserFactory
from tests.customers.factories import CustomerFactory
from tests.opportunities.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


def test_receiver_query_and_loaded_row_rule_agree_for_every_person_and_placement(am, teammate, outsider, team):
    partner = PartnerFactory()
    partner_staff = UserFactory(role=Role.PARTNER, partner=partner)
    customer = CustomerFactory(account_manager=am)
    placements = [
        {"assigned_to": am},
        {"assigned_to": teammate, "second_cover": am},
        {"assigned_team": team},  # the team's pool: am and teammate
        {"assigned_team": team, "assigned_to": outsider},  # a named receiver takes it out of the pool
        {"assigned_partner": partner},
        {"assigned_partner": partner, "assigned_to": outsider},
        {"assigned_to": outsider},
        {},
    ]
    rows = [
        OpportunityFactory(customer=customer, routing_status=RoutingStatus.DISPATCHED, **placement)
        for placement in placements
    ]
    for user in (am, teammate, outsider, partner_staff):
        by_query = set(Opportunity.objects.filter(policy.receiver_q(user)).values_list("pk", flat=True))
        by_row = {o.pk for o in Opportunity.objects.filter(pk__in=[r.pk for r in rows]) if policy.is_receiver(user, o)}
        assert by_query == by_row, user.username
    assert {o.pk for o in rows if policy.is_receiver(partner_staff, o)} == {rows[4].pk}


@pytest.fixture
def worked(am, agent):
    """An opportunity claimed by am; a supervisor of another team captured it (so that supervisor sees it)."""
    other_supervisor = UserFactory(username="other_sup", role=Role.SUPERVISOR)
    TeamFactory(name="制造行业组", supervisor=other_supervisor)
    customer = CustomerFactory(account_manager=am)
    opp = services.opportunity_capture(
        by=agent, kind=Kind.OPPORTUNITY, title="园区专线", customer=customer, description="100M 专线"
    )
    services.opportunity_route(opp.pk)
    services.opportunity_claim(pk=opp.pk, by=am)
    Opportunity.objects.filter(pk=opp.pk).update(captured_by=other_supervisor)
    return Opportunity.objects.select_related("claimed_by").get(pk=opp.pk), other_supervisor


def test_only_the_owner_their_supervisor_and_admins_may_move_the_stage(worked, am, supervisor, admin_user):
    opp, other_supervisor = worked

    assert [policy.may_move_stage(u, opp) for u in (am, supervisor, admin_user, other_supervisor)] == [
        True, True, True, False,
    ]  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.opportunity_move_stage(pk=opp.pk, by=other_supervisor, stage=Stage.CLARIFYING)
    moved = services.opportunity_move_stage(pk=opp.pk, by=supervisor, stage=Stage.CLARIFYING)
    assert moved.stage == Stage.CLARIFYING


def test_a_supervisor_of_another_team_sees_what_they_captured_but_is_offered_no_move(client, worked, supervisor):
    opp, other_supervisor = worked

    client.force_login(other_supervisor)
    theirs = client.get(reverse("opportunities:detail", args=[opp.pk])).content.decode()
    client.force_login(supervisor)
    owners = client.get(reverse("opportunities:detail", args=[opp.pk])).content.decode()

    assert opp.title in theirs and 'id="stage-form"' not in theirs
    assert 'id="stage-form"' in owners
