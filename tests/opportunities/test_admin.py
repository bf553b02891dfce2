"""The admin as an operations console: routing data editable, opportunities and their log read-mostly."""

import pytest
from django.urls import reverse

from channels.notifications import notify
from opportunities import services
from opportunities.models import Kind, Opportunity, RoutingRule, Transfer
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def opp(agent, am):
    customer = CustomerFactory(account_manager=am, name="温州瓯海港务有限公司")
    opp = services.opportunity_capture(by=agent, kind=Kind.LEAD, title="园区宽带", customer=customer)
    services.opportunity_route(opp.pk)
    return opp


def test_routing_rules_list_offers_priority_and_active_for_inline_editing(client, admin_user):
    client.force_login(admin_user)

    html = client.get(reverse("admin:opportunities_routingrule_changelist")).content.decode()

    assert 'name="form-0-priority"' in html and 'name="form-0-is_active"' in html
    assert RoutingRule.objects.get(priority=10).name in html


def test_routing_rule_form_picks_products_from_a_two_sided_list(client, admin_user):
    client.force_login(admin_user)
    rule = RoutingRule.objects.get(priority=10)

    html = client.get(reverse("admin:opportunities_routingrule_change", args=[rule.pk])).content.decode()

    assert "selectfilter" in html.lower() and 'name="products"' in html


@pytest.mark.parametrize("model", ["stagesetting", "claimtimer", "closereason"])
def test_reference_data_lists_open(client, admin_user, model):
    client.force_login(admin_user)

    assert client.get(reverse(f"admin:opportunities_{model}_changelist")).status_code == 200


def test_opportunity_search_finds_it_by_customer_name_in_bounded_queries(
    client, admin_user, opp, django_assert_max_num_queries
):
    client.force_login(admin_user)

    with django_assert_max_num_queries(15):
        html = client.get(reverse("admin:opportunities_opportunity_changelist"), {"q": "瓯海港务"}).content.decode()

    assert opp.code in html


def test_opportunity_page_shows_its_transfer_log_read_only_and_cannot_be_deleted(client, admin_user, opp):
    client.force_login(admin_user)

    page = client.get(reverse("admin:opportunities_opportunity_change", args=[opp.pk])).content.decode()
    delete = client.post(reverse("admin:opportunities_opportunity_delete", args=[opp.pk]), {"post": "yes"})

    assert "Routed by rule" in page and 'name="routing_status"' not in page and 'name="title"' in page
    assert delete.status_code == 403 and Opportunity.objects.filter(pk=opp.pk).exists()
    assert client.get(reverse("admin:opportunities_opportunity_add")).status_code == 403


def test_transfer_log_cannot_be_changed_in_the_admin(client, admin_user, opp):
    client.force_login(admin_user)
    entry = Transfer.objects.filter(opportunity=opp).first()

    listed = client.get(reverse("admin:opportunities_transfer_changelist"))
    changed = client.post(reverse("admin:opportunities_transfer_change", args=[entry.pk]), {"reason": "改写"})

    assert listed.status_code == 200 and opp.code in listed.content.decode()
    assert changed.status_code == 403
    assert Transfer.objects.get(pk=entry.pk).reason != "改写"


def test_notifications_are_listed_read_only(client, admin_user, am):
    notify([am], kind="opportunity", title="新商机待认领")
    client.force_login(admin_user)

    listed = client.get(reverse("admin:channels_notification_changelist"))

    assert listed.status_code == 200 and "新商机待认领" in listed.content.decode()
    assert client.get(reverse("admin:channels_notification_add")).status_code == 403
