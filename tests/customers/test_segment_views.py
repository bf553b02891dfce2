"""The segment pages: list, form (with the htmx preview), detail with the member table, export, freeze,
copy, delete and the movement report — for the owner and for people who must not see or change them, with
query budgets that do not grow with the members."""

import csv
import datetime
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from customers.models import Customer, Segment, SegmentMember
from customers.segments import criteria, services
from tests.customers.factories import CustomerFactory, VisitFactory

pytestmark = pytest.mark.django_db

# session, user, unread-notifications badge, segment, the criteria's reference rows, count, a page, the movement chart
DETAIL_QUERY_BUDGET = 18


def as_user(client, user):
    client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def mine(am):
    return CustomerFactory(name="杭州西湖数码科技有限公司", tier="A1", account_manager=am, value_score=91)


@pytest.fixture
def theirs(outsider):
    return CustomerFactory(name="宁波北仑港务集团有限公司", tier="A1", account_manager=outsider, value_score=66)


@pytest.fixture
def shared(supervisor):
    return services.segment_create(owner=supervisor, name="A1 全部", definition={"tier": ["A1"]}, is_shared=True)


@pytest.fixture
def private(supervisor):
    return services.segment_create(owner=supervisor, name="行业经理私有", definition={})


def url(name, segment, *args):
    return reverse(f"customers:segment-{name}", args=[segment.pk, *args])


# --- list -------------------------------------------------------------------------------------------------------


def test_the_list_shows_my_segments_and_shared_ones_but_not_others_private_ones(client, am, shared, private):
    own = services.segment_create(owner=am, name="我的重点客户", definition={})

    page = text(as_user(client, am).get(reverse("customers:segment-list")))

    assert own.name in page and shared.name in page and private.name not in page
    assert url("count", own) in page  # each row loads its count on its own


def test_the_count_fragment_is_capped_and_scoped(client, am, mine, theirs, shared, private, settings):
    client = as_user(client, am)

    assert text(client.get(url("count", shared))).strip() == "1"
    assert client.get(url("count", private)).status_code == 404
    settings.KAM_LIST_COUNT_CAP = 0
    assert text(client.get(url("count", shared))).strip() == "0+"


def test_anonymous_visitors_are_sent_to_log_in(client, shared):
    response = client.get(url("detail", shared))

    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_the_navigation_offers_segments(client, am):
    assert reverse("customers:segment-list") in text(as_user(client, am).get(reverse("home")))


# --- create, edit and the preview -------------------------------------------------------------------------------


def test_an_account_manager_saves_a_private_segment_from_the_form(client, am, mine):
    client = as_user(client, am)
    assert "is_shared" not in client.get(reverse("customers:segment-create")).context["form"].fields

    response = client.post(
        reverse("customers:segment-create"),
        {"name": "A1 客户", "tier": ["A1"], "visit_overdue": "true", "spend_min": "1000", "is_shared": "on"},
    )

    segment = Segment.objects.get(owner=am)
    assert response.status_code == 302 and response.url == url("detail", segment)
    assert segment.definition == {"tier": ["A1"], "spend_min": 1000, "visit_overdue": True}
    assert not segment.is_shared  # the field is not offered to account managers


def test_a_supervisor_may_share_from_the_form(client, supervisor):
    as_user(client, supervisor).post(reverse("customers:segment-create"), {"name": "共享", "is_shared": "on"})

    assert Segment.objects.get(owner=supervisor).is_shared


def test_bad_criteria_come_back_as_form_errors_and_save_nothing(client, am):
    response = as_user(client, am).post(
        reverse("customers:segment-create"),
        {"name": "错误", "tier": ["Z"], "spend_min": "5000", "spend_max": "100", "region": "999999"},
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert {"tier", "spend_max", "region"} <= set(form.errors)
    assert not Segment.objects.exists()


def test_a_duplicate_name_is_a_form_error(client, am):
    services.segment_create(owner=am, name="重复", definition={})

    response = as_user(client, am).post(reverse("customers:segment-create"), {"name": "重复"})

    assert response.status_code == 200 and "name" in response.context["form"].errors


def test_the_preview_counts_the_customers_the_user_may_see(client, am, mine, theirs):
    client = as_user(client, am)

    ok = text(client.get(reverse("customers:segment-preview"), {"tier": ["A1"]}, HTTP_HX_REQUEST="true"))
    bad = text(client.get(reverse("customers:segment-preview"), {"tier": ["Z"]}, HTTP_HX_REQUEST="true"))

    assert "1 customer you may see matches" in ok and "<html" not in ok
    assert "Correct the criteria" in bad


def test_the_owner_edits_a_segment(client, supervisor, shared):
    client = as_user(client, supervisor)
    assert client.get(url("edit", shared)).context["form"]["tier"].value() == ["A1"]

    response = client.post(url("edit", shared), {"name": "A1 与 A2", "tier": ["A1", "A2"], "is_shared": "on"})

    shared.refresh_from_db()
    assert response.status_code == 302
    assert (shared.name, shared.definition, shared.is_shared) == ("A1 与 A2", {"tier": ["A1", "A2"]}, True)


@pytest.mark.parametrize("persona", ["am", "outsider"])
def test_others_cannot_edit_freeze_or_delete_a_shared_segment(client, request, persona, shared):
    client = as_user(client, request.getfixturevalue(persona))

    assert client.get(url("edit", shared)).status_code == 404
    assert client.post(url("freeze", shared)).status_code == 404
    assert client.post(url("delete", shared)).status_code == 404
    shared.refresh_from_db()
    assert not shared.is_frozen


# --- detail --------------------------------------------------------------------------------------------------------


def test_the_detail_shows_each_reader_only_the_members_they_may_see(client, am, mine, theirs, shared):
    page = text(as_user(client, am).get(url("detail", shared)))

    assert mine.name in page and theirs.name not in page
    assert "Value score" in page


@pytest.mark.parametrize("persona", ["am", "outsider", "agent"])
def test_someone_elses_private_segment_is_not_found_on_every_page(client, request, persona, private):
    client = as_user(client, request.getfixturevalue(persona))

    for name in ("detail", "count", "export", "movements", "edit"):
        assert client.get(url(name, private)).status_code == 404, name
    assert client.get(url("movement-list", private, "2026-05", "entered")).status_code == 404
    for name in ("freeze", "copy", "delete"):
        assert client.post(url(name, private)).status_code == 404, name


def test_call_center_agents_see_members_without_finance_columns(client, agent, mine, shared):
    page = text(as_user(client, agent).get(url("detail", shared)))

    # (the score as a table cell: a bare "91" could be part of a random script nonce)
    assert mine.name in page and "Value score" not in page and not re.search(r">\s*91\s*<", page)


def test_an_htmx_page_request_gets_only_the_member_table(client, supervisor, mine, shared):
    fragment = text(as_user(client, supervisor).get(url("detail", shared), HTTP_HX_REQUEST="true"))

    assert 'id="member-table"' in fragment and "<html" not in fragment and mine.name in fragment


def test_detail_query_count_does_not_grow_with_members(client, admin_user, django_assert_max_num_queries):
    segment = services.segment_create(
        owner=admin_user, name="多条件", is_shared=True,
        definition={"tier": ["A1", "B1"], "region": "330000", "industry": ["I"], "visit_overdue": False,
                    "spend_trend": "growing", "account_manager": [], "members_min": 0},
    )  # fmt: skip

    def add(n):
        for customer in CustomerFactory.create_batch(n, tier="A1"):
            VisitFactory(customer=customer, visited_on=datetime.date.today())
            customer.spend.create(month=criteria.billing_month(), category="voice", amount=100)

    client = as_user(client, admin_user)
    add(3)
    services.segment_snapshot(segment=segment, month=datetime.date(2026, 5, 1))
    with CaptureQueriesContext(connection) as few:
        response = client.get(url("detail", segment))
    assert response.context["paginator"].count == 3
    assert len(few) <= DETAIL_QUERY_BUDGET, [q["sql"][:120] for q in few.captured_queries]
    add(27)
    services.segment_snapshot(segment=segment, month=datetime.date(2026, 6, 1))
    with django_assert_max_num_queries(len(few)):
        response = client.get(url("detail", segment))
    assert response.context["chart"]["size"] == [3, 30]
    assert response.context["paginator"].count == 30 and len(response.context["page"].object_list) == 25


def test_a_page_past_the_cap_explains_itself(client, admin_user, settings):
    settings.KAM_LIST_COUNT_CAP = 2
    CustomerFactory.create_batch(3)
    segment = services.segment_create(owner=admin_user, name="全部", definition={})

    response = as_user(client, admin_user).get(url("detail", segment), {"page": 5})

    assert response.status_code == 200 and "Only the first 2 results" in text(response)


# --- export ----------------------------------------------------------------------------------------------------------


def test_csv_export_from_the_page_holds_only_the_readers_customers(client, am, mine, theirs, shared):
    response = as_user(client, am).get(url("export", shared), {"format": "csv"})

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"] and "filename*=utf-8''A1" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    assert {row[0] for row in list(csv.reader(io.StringIO(body[1:])))[1:]} == {mine.code}


def test_xlsx_export_from_the_page_opens_with_openpyxl(client, am, mine, theirs, shared):
    response = as_user(client, am).get(url("export", shared), {"format": "xlsx"})

    assert response["Content-Disposition"].endswith(".xlsx")
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.values)
    assert [row[0] for row in rows[1:]] == [mine.code]


def test_an_unknown_export_format_is_not_found(client, am, shared):
    assert as_user(client, am).get(url("export", shared), {"format": "pdf"}).status_code == 404


# --- freeze, copy, delete ---------------------------------------------------------------------------------------------


def test_the_owner_freezes_then_can_no_longer_edit_or_delete(client, supervisor, mine, shared):
    client = as_user(client, supervisor)

    assert client.post(url("freeze", shared)).status_code == 302

    shared.refresh_from_db()
    assert shared.is_frozen and SegmentMember.objects.filter(segment=shared, customer=mine).exists()
    assert client.get(url("edit", shared)).status_code == 302
    response = client.post(url("delete", shared), follow=True)
    assert Segment.objects.filter(pk=shared.pk).exists()
    assert "A frozen segment is kept" in text(response)
    page = text(client.get(url("detail", shared)))
    assert url("edit", shared) not in page and url("freeze", shared) not in page


def test_anyone_who_sees_a_shared_segment_may_copy_it_into_their_own(client, am, shared):
    response = as_user(client, am).post(url("copy", shared))

    copy = Segment.objects.get(owner=am)
    assert response.status_code == 302 and response.url == url("edit", copy)
    assert copy.definition == shared.definition and not copy.is_shared


def test_the_owner_deletes_a_live_segment(client, am):
    segment = services.segment_create(owner=am, name="临时", definition={})

    response = as_user(client, am).post(url("delete", segment))

    assert response.status_code == 302 and not Segment.objects.filter(pk=segment.pk).exists()


def test_writes_need_post(client, supervisor, shared):
    client = as_user(client, supervisor)

    for name in ("freeze", "copy", "delete"):
        assert client.get(url(name, shared)).status_code == 405


# --- movement report ---------------------------------------------------------------------------------------------


@pytest.fixture
def moved(admin_user, mine, theirs, shared):
    may, june = datetime.date(2026, 5, 1), datetime.date(2026, 6, 1)
    Customer.objects.filter(pk=theirs.pk).update(tier="C")
    services.segment_snapshot(segment=shared, month=may)
    Customer.objects.filter(pk=theirs.pk).update(tier="A1")
    services.segment_snapshot(segment=shared, month=june)
    return shared


def test_the_movement_page_draws_its_chart_from_json_without_inline_script(client, admin_user, moved, theirs):
    response = as_user(client, admin_user).get(url("movements", moved))

    page = text(response)
    assert response.status_code == 200
    assert '<script id="movement-data" type="application/json">' in page
    assert re.findall(r"<script(?![^>]*(?:src=|type=\"application/json\"))[^>]*>", page) == []
    assert "js/segment_chart.js" in page and "vendor/chart.umd.min.js" in page
    assert url("movement-list", moved, "2026-06", "entered") in page
    # newest first; the months before the first record are left out
    assert [(m.size, m.entered, m.left) for m in response.context["movements"]] == [(2, 1, 0), (1, None, None)]


def test_the_list_behind_a_number_names_the_customers(client, admin_user, moved, theirs, mine):
    page = text(as_user(client, admin_user).get(url("movement-list", moved, "2026-06", "entered")))

    assert theirs.name in page and mine.name not in page


def test_an_account_manager_sees_only_their_customers_behind_the_numbers(client, am, moved, theirs, mine):
    client = as_user(client, am)

    movements = client.get(url("movements", moved)).context["movements"]
    listed = text(client.get(url("movement-list", moved, "2026-06", "entered")))

    assert [(m.size, m.entered) for m in movements] == [(1, 0), (1, None)]
    assert theirs.name not in listed


def test_a_bad_month_or_kind_is_not_found(client, admin_user, moved):
    client = as_user(client, admin_user)

    assert client.get(url("movement-list", moved, "2026-13", "entered")).status_code == 404
    assert client.get(url("movement-list", moved, "soon", "entered")).status_code == 404
    assert client.get(url("movement-list", moved, "2026-06", "everyone")).status_code == 404


def test_a_segment_without_records_says_so(client, supervisor, shared):
    page = text(as_user(client, supervisor).get(url("movements", shared)))

    assert "No monthly record yet" in page and "movement-data" not in page


def test_the_detail_of_a_recorded_shared_segment_draws_the_movement_chart(client, admin_user, moved):
    page = text(as_user(client, admin_user).get(url("detail", moved)))

    assert '<script id="movement-data" type="application/json">' in page and "js/segment_chart.js" in page
    assert url("movements", moved) in page


def test_the_preview_does_not_put_the_csrf_token_into_the_url(client, am):
    page = text(as_user(client, am).get(reverse("customers:segment-create")))

    assert 'hx-params="not csrfmiddlewaretoken"' in page
