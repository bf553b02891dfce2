"""/api/v1/segments/: own and shared segments, strict definitions (400 naming the criterion), members by
cursor and scoped to the caller, freeze and export — probed by the owner, by readers of a shared segment
(403 on writes) and by people for whom a private segment does not exist (404)."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook
from rest_framework.test import APIClient

from customers.models import Segment, SegmentMember
from customers.segments import services
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

MEMBERS_QUERY_BUDGET = 8  # session, user, segment, count-free cursor page, and the definition's reference rows


@pytest.fixture
def api():
    def make(user) -> APIClient:
        client = APIClient()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def mine(am):
    return CustomerFactory(name="杭州西湖数码科技有限公司", tier="A1", account_manager=am, value_score=91)


@pytest.fixture
def theirs(outsider):
    return CustomerFactory(name="宁波北仑港务集团有限公司", tier="A1", account_manager=outsider)


@pytest.fixture
def shared(supervisor):
    return services.segment_create(owner=supervisor, name="A1 全部", definition={"tier": ["A1"]}, is_shared=True)


@pytest.fixture
def private(supervisor):
    return services.segment_create(owner=supervisor, name="私有", definition={})


def path(segment, action=""):
    return f"/api/v1/segments/{segment.pk}/" + (f"{action}/" if action else "")


# --- list, retrieve, create ------------------------------------------------------------------------------------


def test_the_list_holds_my_segments_and_shared_ones(api, am, shared, private):
    own = services.segment_create(owner=am, name="我的", definition={})

    body = api(am).get("/api/v1/segments/").json()

    assert {row["id"] for row in body["results"]} == {own.pk, shared.pk}
    assert {"next", "previous", "results"} == set(body)


def test_a_segment_is_created_with_its_definition_normalised(api, am):
    response = api(am).post(
        "/api/v1/segments/",
        {
            "name": "A 类逾期",
            "definition": {"tier": ["A1", "A2"], "visit_overdue": True, "spend_min": "5000", "industry": []},
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["definition"] == {"tier": ["A1", "A2"], "spend_min": 5000, "visit_overdue": True}
    assert body["owner"]["id"] == am.pk and body["is_frozen"] is False
    assert Segment.objects.get(pk=body["id"]).owner == am


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"name": "x", "definition": {"tier": ["Z"]}}, {"definition": {"tier"}}),
        ({"name": "x", "definition": {"colour": "red", "value_min": 300}}, {"definition": {"colour", "value_min"}}),
        ({"name": "x", "definition": {"spend_min": 10, "spend_max": 1}}, {"definition": {"spend_max"}}),
        ({"name": "x", "definition": ["tier"]}, {"definition": None}),
        ({"definition": {}}, {"name": None}),
        ({"name": "x", "is_shared": "yes"}, {"is_shared": None}),
        ({"name": "x", "is_shared": True}, {"is_shared": None}),  # an account manager may not share
    ],
)
def test_bad_input_is_a_400_naming_the_field_or_criterion(api, am, payload, errors):
    response = api(am).post("/api/v1/segments/", payload, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["detail"] and set(body["errors"]) == set(errors)
    for field, criteria in errors.items():
        if criteria:
            assert set(body["errors"][field]) == criteria
    assert not Segment.objects.exists()


def test_analysts_may_save_and_share_segments_although_read_only_on_customers(api, analyst):
    response = api(analyst).post("/api/v1/segments/", {"name": "行业", "is_shared": True}, format="json")

    assert response.status_code == 201 and response.json()["is_shared"] is True


def test_a_shared_segment_is_readable_by_everyone(api, outsider, shared):
    assert api(outsider).get(path(shared)).json()["name"] == shared.name


# --- update, delete ----------------------------------------------------------------------------------------------


def test_the_owner_changes_a_segment(api, supervisor, shared):
    response = api(supervisor).patch(path(shared), {"definition": {"tier": ["B1"]}}, format="json")

    assert response.status_code == 200 and response.json()["definition"] == {"tier": ["B1"]}
    assert response.json()["name"] == "A1 全部"


def test_a_bad_update_is_a_400_and_changes_nothing(api, supervisor, shared):
    response = api(supervisor).patch(path(shared), {"name": "新", "definition": {"region": "999999"}}, format="json")

    assert response.status_code == 400 and "region" in response.json()["errors"]["definition"]
    shared.refresh_from_db()
    assert shared.name == "A1 全部"


def test_readers_of_a_shared_segment_may_not_change_freeze_or_delete_it(api, am, shared):
    client = api(am)

    assert client.patch(path(shared), {"name": "改"}, format="json").status_code == 403
    assert client.put(path(shared), {"name": "改"}, format="json").status_code == 403
    assert client.post(path(shared, "freeze")).status_code == 403
    assert client.delete(path(shared)).status_code == 403
    shared.refresh_from_db()
    assert shared.name == "A1 全部" and not shared.is_frozen


@pytest.mark.parametrize("persona", ["am", "outsider", "agent", "analyst"])
def test_someone_elses_private_segment_is_a_404_on_every_endpoint(api, request, persona, private):
    client = api(request.getfixturevalue(persona))

    assert client.get(path(private)).status_code == 404
    assert client.get(path(private, "members")).status_code == 404
    assert client.get(path(private, "export"), {"format": "csv"}).status_code == 404
    assert client.patch(path(private), {"name": "x"}, format="json").status_code == 404
    assert client.post(path(private, "freeze")).status_code == 404
    assert client.delete(path(private)).status_code == 404
    assert Segment.objects.filter(pk=private.pk, frozen_at__isnull=True).exists()


def test_the_owner_deletes_a_live_segment_but_not_a_frozen_one(api, supervisor, shared, private):
    client = api(supervisor)
    services.segment_freeze(segment=shared, by=supervisor)

    assert client.delete(path(private)).status_code == 204
    response = client.delete(path(shared))
    assert response.status_code == 400 and "frozen" in response.json()["errors"]["non_field_errors"][0]
    assert Segment.objects.filter(pk=shared.pk).exists()


# --- members ----------------------------------------------------------------------------------------------------------


def test_members_of_a_shared_segment_are_only_the_callers_customers(api, am, outsider, mine, theirs, shared):
    assert [row["id"] for row in api(am).get(path(shared, "members")).json()["results"]] == [mine.pk]
    assert [row["id"] for row in api(outsider).get(path(shared, "members")).json()["results"]] == [theirs.pk]


def test_members_are_paged_by_cursor(api, am, shared):
    CustomerFactory.create_batch(3, tier="A1", account_manager=am)

    first = api(am).get(path(shared, "members"), {"page_size": 2}).json()
    rest = api(am).get(first["next"]).json()

    assert len(first["results"]) == 2 and len(rest["results"]) == 1 and rest["next"] is None


def test_call_center_agents_get_members_without_value_or_revenue(api, agent, mine, shared):
    row = api(agent).get(path(shared, "members")).json()["results"][0]

    assert row["id"] == mine.pk and "value_score" not in row and "avg_monthly_revenue" not in row


def test_members_query_count_does_not_grow_with_rows(api, admin_user, django_assert_max_num_queries):
    segment = services.segment_create(
        owner=admin_user, name="多条件",
        definition={"tier": ["A1"], "region": "330000", "visit_overdue": True, "members_min": 0},
    )  # fmt: skip
    client = api(admin_user)
    CustomerFactory.create_batch(3, tier="A1")
    with CaptureQueriesContext(connection) as few:
        assert len(client.get(path(segment, "members")).json()["results"]) == 3
    assert len(few) <= MEMBERS_QUERY_BUDGET
    CustomerFactory.create_batch(27, tier="A1")
    with django_assert_max_num_queries(len(few)):
        assert len(client.get(path(segment, "members")).json()["results"]) == 25


# --- freeze -----------------------------------------------------------------------------------------------------------


def test_the_owner_freezes_a_segment_once(api, supervisor, mine, theirs, shared):
    client = api(supervisor)

    response = client.post(path(shared, "freeze"))

    assert response.status_code == 200 and response.json()["is_frozen"] is True
    assert set(SegmentMember.objects.filter(segment=shared).values_list("customer_id", flat=True)) == {mine.pk}
    assert client.post(path(shared, "freeze")).status_code == 400
    assert client.patch(path(shared), {"name": "改"}, format="json").status_code == 400


# --- export -----------------------------------------------------------------------------------------------------------


def test_csv_export_is_utf8_with_bom_and_scoped_to_the_caller(api, am, mine, theirs, shared):
    response = api(am).get(path(shared, "export"), {"format": "csv"})

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert ".csv" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    assert [row[0] for row in list(csv.reader(io.StringIO(body[1:])))[1:]] == [mine.code]


def test_xlsx_is_the_default_export(api, outsider, mine, theirs, shared):
    response = api(outsider).get(path(shared, "export"))

    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.values)
    assert [row[0] for row in rows[1:]] == [theirs.code]


def test_an_unknown_export_format_is_a_400(api, am, shared):
    response = api(am).get(path(shared, "export"), {"format": "pdf"})

    assert response.status_code == 400 and "format" in response.json()["errors"]


def test_anonymous_callers_are_refused(shared):
    assert APIClient().get(path(shared)).status_code in (401, 403)
    assert APIClient().get("/api/v1/segments/").status_code in (401, 403)
