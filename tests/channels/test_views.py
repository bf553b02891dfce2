"""The organisation page: the channel responsibility matrix and the teams, read-only for everyone."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from channels.models import ChannelResponsibility
from tests.channels.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

MATRIX_QUERY_BUDGET = 7


def test_anonymous_visitor_is_sent_to_the_login_page(client):
    response = client.get(reverse("channels:matrix"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["am", "supervisor", "agent", "steward", "analyst", "dispatcher", "admin_user"])
def test_every_role_reads_the_matrix(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("channels:matrix")).status_code == 200


@pytest.mark.chinese
def test_matrix_shows_each_channel_with_its_classes_and_functions(client, am):
    client.force_login(am)
    response = client.get(reverse("channels:matrix"))
    rows = {row["channel"].code: row for row in response.context["rows"]}
    # Seed 004: the account manager is the main channel for classes A and B, not for C.
    levels = [cell.level if cell else None for cell in rows["account_manager"]["cells"]]
    assert levels == ["primary", "primary", None, None, None]
    social = [cell.level if cell else None for cell in rows["social_channel"]["cells"]]
    assert social == ["auxiliary", "auxiliary", "primary", "primary", "primary"]
    text = response.content.decode()
    assert "客户经理" in text and "level-primary" in text and "level-auxiliary" in text
    assert ChannelResponsibility.objects.count() == text.count('class="level-')


def test_matrix_lists_teams_with_supervisor_and_members(client, am, teammate, supervisor, team):
    client.force_login(am)
    text = client.get(reverse("channels:matrix")).content.decode()
    assert team.name in text and str(supervisor) in text and str(teammate) in text


def test_matrix_query_count_does_not_grow_with_teams_and_members(client, am, django_assert_max_num_queries):
    client.force_login(am)
    for _i in range(3):
        UserFactory(team=TeamFactory())
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("channels:matrix"))
    assert len(few) <= MATRIX_QUERY_BUDGET
    for _i in range(10):
        UserFactory.create_batch(3, team=TeamFactory())
    with django_assert_max_num_queries(len(few)):
        response = client.get(reverse("channels:matrix"))
    assert len(response.context["teams"]) >= 13


def test_the_inbox_labels_each_notification_by_its_registered_kind(client, am, teammate):
    from channels.notifications import notify

    notify([am], kind="opportunity", title="商机待认领")
    notify([am], kind="unregistered-kind", title="其他提醒")
    notify([teammate], kind="opportunity", title="同事的提醒")
    client.force_login(am)

    page = client.get(reverse("channels:notifications")).content.decode()

    assert "商机待认领" in page and "其他提醒" in page and "同事的提醒" not in page
    assert "<td>Opportunity</td>" in page and "<td>unregistered-kind</td>" in page
