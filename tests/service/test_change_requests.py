"""Member and group-information change requests: checked when taken (all errors at once), applied once through
the customers services by who may change the customer — members join or leave with the derived counts, the
group's data changes with its history."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from customers.models import Customer, GroupMember
from service.services import requests
from service.services import tickets as svc
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(am):
    return CustomerFactory(account_manager=am, phone="0574-11112222")


def test_members_join_once_and_leave(client, agent, am, customer):
    asked = {"msisdns": ["139 5710 0001", "13957100002"]}
    ticket = svc.ticket_create(by=agent, customer=customer, kind="service_request", request_type="member_add",
                               subject="新增成员", request_data=asked)  # fmt: skip
    assert ticket.request_data == {"msisdns": ["13957100001", "13957100002"]}
    with pytest.raises(PermissionDenied):
        requests.apply(ticket, by=agent)  # the agent takes it; the account manager applies it
    client.force_login(am)
    assert client.post(reverse("service:ticket-apply", args=[ticket.pk])).status_code == 302
    assert set(GroupMember.objects.filter(customer=customer, status="active").values_list("msisdn", flat=True)) == {
        "13957100001", "13957100002"}  # fmt: skip
    assert Customer.objects.get(pk=customer.pk).members_count == 2
    assert client.post(reverse("service:ticket-apply", args=[ticket.pk])).status_code == 400  # once
    leave = svc.ticket_create(by=agent, customer=customer, kind="service_request", request_type="member_remove",
                              subject="删除成员", request_data={"msisdns": ["13957100002"]})  # fmt: skip
    requests.apply(leave, by=am)
    assert GroupMember.objects.get(customer=customer, msisdn="13957100002").status == "left"
    assert Customer.objects.get(pk=customer.pk).members_count == 1


def test_group_information_changes_with_its_history(agent, am, customer):
    ticket = svc.ticket_create(by=agent, customer=customer, kind="service_request", request_type="group_info",
                               subject="变更总机", request_data={"phone": "0574-33334444"})  # fmt: skip
    requests.apply(ticket, by=am)
    customer.refresh_from_db()
    assert customer.phone == "0574-33334444"
    assert customer.history.latest().history_change_reason == ticket.number


def test_bad_requests_are_refused_at_the_desk_all_at_once(client, agent, customer):
    with pytest.raises(ValidationError) as refused:
        svc.ticket_create(by=agent, customer=customer, kind="service_request", request_type="member_add",
                          subject="", request_data={"msisdns": ["12345"]})  # fmt: skip
    assert set(refused.value.message_dict) == {"subject", "request_data"}
    client.force_login(agent)
    response = client.post(reverse("service:desk-ticket"), {
        "customer": customer.pk, "kind": "service_request", "request_type": "group_info", "channel": "hotline",
        "subject": "变更信息",
    })  # fmt: skip
    assert response.status_code == 400 and "new_phone" in response.context["ticket_form"].errors
