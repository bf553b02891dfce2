"""Search: every branch answers from an index, short terms included."""

import pytest
from django.db import connection

from customers.models import Customer
from customers.selectors import customer_search
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _names(term):
    return set(customer_search(Customer.objects.all(), term).values_list("name", flat=True))


def test_two_character_search_matches_the_start_of_name_short_name_or_trade_name():
    CustomerFactory(name="中国工商银行股份有限公司杭州分行")
    CustomerFactory(name="杭州娃哈哈集团有限公司", short_name="娃哈哈")
    CustomerFactory(name="宁波舟山港股份有限公司")

    assert _names("工商") == {"中国工商银行股份有限公司杭州分行"}  # trade name 工商银行…
    assert _names("杭州") == {"杭州娃哈哈集团有限公司"}  # start of the legal name
    assert _names("娃哈") == {"杭州娃哈哈集团有限公司"}  # start of the short name / trade name


def test_longer_terms_match_anywhere_in_the_name():
    CustomerFactory(name="中国工商银行股份有限公司杭州分行")
    assert _names("杭州分行") == {"中国工商银行股份有限公司杭州分行"}


@pytest.mark.postgres
def test_short_and_long_searches_use_indexes_not_a_table_scan():
    CustomerFactory.create_batch(5)
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # tiny table: make the planner show what it can use
        for term in ("工商", "工商银行"):
            sql, params = customer_search(Customer.objects.order_by(), term).query.sql_with_params()
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "Seq Scan on customers_customer" not in plan, plan
        cursor.execute("SET enable_seqscan = on")
