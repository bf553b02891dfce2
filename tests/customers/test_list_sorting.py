"""The customer list at scale: every sort link (page and API) in a stable (key, id) order served by an index,
revenue sorting, a supervisor's portfolio, counts without a sort, filters without DISTINCT."""

import re
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.filters import SORT_KEYS, sort_order
from customers.models import Contact, Customer, visible_ids_among
from tests.customers.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db
API = "/api/v1/customers/"


@pytest.fixture
def ranked(am):
    """Five customers of one manager: revenue with a tie and one not evaluated yet."""
    rows = [("甲", Decimal("900.00"), 80), ("乙", Decimal("500.00"), 60), ("丙", Decimal("500.00"), 60),
            ("丁", None, None), ("戊", Decimal("2000.00"), 95)]  # fmt: skip
    return [
        CustomerFactory(name=f"{name}测试有限公司", account_manager=am, avg_monthly_revenue=revenue, value_score=score)
        for name, revenue, score in rows
    ]


def names(rows) -> list[str]:
    return [row["name"][0] if isinstance(row, dict) else row.name[0] for row in rows]


def api_pages(client, query: str, page_size: int = 2) -> list[dict]:
    rows, url = [], f"{API}?{query}&page_size={page_size}"
    while url:
        body = client.get(url).json()
        rows += body["results"]
        url = body["next"]
    return rows


def test_revenue_sort_on_the_page_highest_first_unevaluated_last(client, am, ranked):
    client.force_login(am)
    page = client.get(reverse("customers:list"), {"ordering": "-revenue"})

    assert page.status_code == 200
    assert names(page.context["page"].object_list) == ["戊", "甲", "丙", "乙", "丁"]  # ties: newest first
    assert "ordering=revenue" in page.content.decode()  # the header link flips the direction


def test_api_sorted_keyset_pages_follow_the_sort_across_ties_both_ways(client, am, ranked):
    client.force_login(am)

    assert names(api_pages(client, "ordering=-revenue")) == ["戊", "甲", "丙", "乙", "丁"]
    assert names(api_pages(client, "ordering=revenue")) == ["丁", "乙", "丙", "甲", "戊"]
    assert names(api_pages(client, "ordering=-value_score", page_size=1)) == ["戊", "甲", "丙", "乙", "丁"]
    by_name = api_pages(client, "ordering=name", page_size=3)
    assert [r["name"] for r in by_name] == sorted(c.name for c in ranked)


def test_every_api_sort_pages_through_every_row_once(client, am, ranked):
    client.force_login(am)
    for key in ("name", "tier", "members_count", "value_score", "revenue"):
        for direction in ("", "-"):
            ids = [r["id"] for r in api_pages(client, f"ordering={direction}{key}", page_size=2)]
            assert sorted(ids) == sorted(c.pk for c in ranked), key


def test_forged_sorted_cursor_is_a_404_not_a_500(client, am, ranked):
    client.force_login(am)
    for cursor in ("abc", "WyJ4IiwgImEiXQ==", "WyJ4Il0="):  # junk, ["x", "a"] (id not a number), ["x"]
        assert client.get(API, {"ordering": "name", "cursor": cursor}).status_code == 404


def test_agents_may_not_sort_by_finance_data(client, agent, ranked):
    client.force_login(agent)

    assert client.get(API, {"ordering": "-revenue"}).status_code == 400
    assert client.get(API, {"ordering": "value_score"}).status_code == 400
    page = client.get(reverse("customers:list"))
    assert "ordering=-revenue" not in page.content.decode() and "revenue" not in page.context["sort_links"]


def test_supervisor_sees_team_own_and_unassigned_in_the_teams_industry(client, supervisor, am, outsider, team):
    from customers.models import Industry

    industry = Industry.objects.first()
    team.industry = industry
    team.save()
    mine = CustomerFactory(account_manager=am)
    child = CustomerFactory(account_manager=outsider, parent=mine)
    own = CustomerFactory(account_manager=supervisor)
    gap = CustomerFactory(account_manager=None, industry_id=industry.pk)
    other_gap = CustomerFactory(account_manager=None, industry_id=Industry.objects.exclude(pk=industry.pk).first().pk)
    foreign = CustomerFactory(account_manager=outsider)

    gap_child = CustomerFactory(account_manager=outsider, parent=gap)  # a subsidiary of the unassigned pool
    everyone = {mine.pk, child.pk, own.pk, gap.pk, gap_child.pk, other_gap.pk, foreign.pk}

    visible = set(Customer.objects.visible_to(supervisor).values_list("pk", flat=True))

    assert {mine.pk, child.pk, own.pk, gap.pk, gap_child.pk} == visible & everyone
    # the same rule for links (the per-request portfolio) and for rows that belong to customers
    assert visible_ids_among(supervisor, everyone) == visible & everyone
    contacts = {ContactFactory(customer_id=pk).customer_id for pk in everyone}
    assert set(Contact.objects.visible_to(supervisor).values_list("customer_id", flat=True)) == contacts & visible


def test_list_count_is_not_sorted_and_tier_filter_adds_no_distinct(client, steward, ranked):
    client.force_login(steward)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("customers:list"), {"ordering": "-revenue", "tier": ["C", "D"]})
    customer_queries = [q["sql"] for q in queries.captured_queries if 'FROM "customers_customer"' in q["sql"]]
    count = next(sql for sql in customer_queries if sql.startswith("SELECT COUNT(*)"))

    assert "ORDER BY" not in count
    assert not any("DISTINCT" in sql for sql in customer_queries)


@pytest.mark.postgres
def test_every_sort_is_read_from_an_index_without_a_sort_step(steward, ranked):
    """A page of a sorted list is the first rows of an index, whatever the table's size: no Sort step."""
    base = Customer.objects.visible_to(steward).live()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for key in SORT_KEYS:
            for direction in ("", "-"):
                sql, params = base.order_by(*sort_order(direction + key))[:25].query.sql_with_params()
                cursor.execute("EXPLAIN " + sql, params)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                # (an Incremental Sort on the unique code's index only orders rows with equal codes: none)
                sort_step = re.search(r"(?<!Incremental )Sort  \(cost", plan)
                assert not sort_step and "Index" in plan, (direction + key, plan)


def test_a_chosen_sort_wins_over_search_ranking_in_the_api(client, am, ranked):
    client.force_login(am)

    query = f"q={quote('测试')}&ordering=-revenue"  # percent-encoded, as a browser sends it

    assert names(api_pages(client, query)) == ["戊", "甲", "丙", "乙", "丁"]
