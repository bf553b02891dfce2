"""Search: every branch answers from an index, short terms included; the best matches come first."""

import pytest
from django.db import connection
from django.db.models import F

from customers.models import Customer, CustomerAlias
from customers.selectors import customer_search, customer_search_ranked
from kam.db import BigramContains
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _names(term):
    return set(customer_search(Customer.objects.all(), term).values_list("name", flat=True))


def test_two_character_word_is_found_anywhere_in_the_name_short_name_or_an_alias():
    CustomerFactory(name="中国工商银行股份有限公司杭州分行")  # 银行 in the middle
    CustomerFactory(name="浙江新华人寿")  # 人寿 at the end
    CustomerFactory(name="宁波甬通科技有限公司", short_name="甬通电力")  # 电力 only in the short name
    CustomerAlias.objects.create(customer=CustomerFactory(name="温州瓯江港务集团有限公司"), name="瓯江口岸")
    CustomerFactory(name="IBM中国有限公司")
    CustomerFactory(name="宁波舟山港股份有限公司")

    assert _names("银行") == {"中国工商银行股份有限公司杭州分行"}
    assert _names("人寿") == {"浙江新华人寿"}
    assert _names("电力") == {"宁波甬通科技有限公司"}
    assert _names("口岸") == {"温州瓯江港务集团有限公司"}  # through the alias
    assert _names("bm") == {"IBM中国有限公司"}  # letters in any case
    assert _names("北仑") == _names("%_") == set()  # LIKE wildcards are plain characters


def test_single_character_matches_only_the_start_of_name_short_name_or_trade_name():
    CustomerFactory(name="银河证券股份有限公司")
    CustomerFactory(name="中国银行股份有限公司")  # 银 inside: not found by one character
    CustomerFactory(name="杭州娃哈哈集团有限公司", short_name="娃哈哈")
    CustomerFactory(name="中国工商银行股份有限公司杭州分行")  # trade name 工商银行…

    assert _names("银") == {"银河证券股份有限公司"}
    assert _names("娃") == {"杭州娃哈哈集团有限公司"}
    assert _names("工") == {"中国工商银行股份有限公司杭州分行"}


def test_longer_terms_match_anywhere_in_the_name():
    CustomerFactory(name="中国工商银行股份有限公司杭州分行")
    assert _names("杭州分行") == {"中国工商银行股份有限公司杭州分行"}


def test_exact_matches_come_first_then_prefixes_then_the_rest_newest_first(django_assert_max_num_queries):
    by_short_name = CustomerFactory(name="宁波市北仑区人民政府", short_name="北仑")
    by_alias = CustomerFactory(name="国网浙江电力北仑供电公司")
    CustomerAlias.objects.create(customer=by_alias, name="北仑")
    prefix = CustomerFactory(name="北仑港集装箱码头有限公司")
    older = CustomerFactory(name="宁波北仑第三集装箱码头有限公司")
    newer = CustomerFactory(name="浙江北仑电厂")

    ranked = customer_search_ranked(Customer.objects.all(), "北仑")

    with django_assert_max_num_queries(4):  # ids from each group, then the rows
        assert ranked[:10] == [by_alias, by_short_name, prefix, newer, older]
    assert ranked[2:4] == [prefix, newer]  # a page further on starts inside the right group
    assert ranked[4:10] == [older]
    assert ranked[5:10] == []


def test_longer_terms_are_ranked_the_same_way():
    CustomerFactory(name="杭州银行股份有限公司")
    later = CustomerFactory(name="中国工商银行杭州银行部")
    exact = CustomerFactory(name="X", short_name="杭州银行")

    ranked = customer_search_ranked(Customer.objects.all(), "杭州银行")

    assert [c.name for c in ranked[:5]] == [exact.name, "杭州银行股份有限公司", later.name]


@pytest.mark.postgres
def test_short_and_long_searches_use_indexes_not_a_table_scan():
    CustomerFactory.create_batch(5)
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # tiny table: make the planner show what it can use
        try:
            for term, index in (("工", "cust_name_prefix_idx"), ("工商", "cust_name_bigram"), ("工商银行", "trgm")):
                sql, params = customer_search(Customer.objects.order_by(), term).query.sql_with_params()
                cursor.execute("EXPLAIN " + sql, params)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                assert "Seq Scan on customers_customer" not in plan and index in plan, plan
            aliases = CustomerAlias.objects.filter(BigramContains(F("name"), "工商")).order_by()
            sql, params = aliases.query.sql_with_params()
            cursor.execute("EXPLAIN " + sql, params)
            assert "alias_name_bigram" in "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("SET enable_seqscan = on")
