"""Duplicate detection: the same customer entered twice is caught, family and branches are not (seed 002)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from customers import naming
from customers.duplicates import find_duplicates, name_similarity, probable_duplicate_groups
from customers.models import Customer, CustomerAlias
from customers.naming import name_key
from tests.customers.factories import CustomerFactory, credit_code

pytestmark = pytest.mark.django_db

SAME_NAME = "Same name once legal form, region spelling and abbreviations are ignored"


@pytest.fixture(autouse=True)
def english_and_fresh_dictionary():
    # Reasons are msgids translated at call time: read them in English here. The dictionary cache is
    # cleared because rows a test adds are rolled back without a signal.
    naming.clear_cache()
    with translation.override("en"):
        yield
    naming.clear_cache()


def found(candidates) -> dict[str, tuple[int, list[str]]]:
    return {c.customer.name: (c.score, c.reasons) for c in candidates}


def alias(customer: Customer, name: str, source=CustomerAlias.Source.FORMER) -> CustomerAlias:
    key = name_key(name)
    return CustomerAlias.objects.create(
        customer=customer, name=name, source=source, name_core=key.core, name_region=key.region
    )


# --- the same customer written differently ------------------------------------------------------


@pytest.mark.parametrize("spelling", ["北京工行", "北京工商银行", "中國工商銀行北京分行"])
def test_icbc_beijing_entered_again_under_another_spelling_is_caught(spelling):
    existing = CustomerFactory(name="中国工商银行股份有限公司北京市分行", region_id="110000")

    candidates = find_duplicates(name=spelling)

    assert [c.customer for c in candidates] == [existing]
    assert candidates[0].score == 95 and candidates[0].reasons == [SAME_NAME]


def test_same_credit_code_is_a_duplicate_whatever_the_name():
    code = credit_code(1)
    existing = CustomerFactory(name="杭州甲乙科技有限公司", credit_code=code)

    candidates = find_duplicates(name="宁波丙丁贸易有限公司", credit_code=code.lower())

    assert found(candidates) == {existing.name: (100, ["Same unified social credit code"])}


def test_same_main_phone_in_another_format_is_reported():
    existing = CustomerFactory(name="杭州甲乙科技有限公司", phone="0571-8888 1234")

    candidates = find_duplicates(name="宁波丙丁贸易有限公司", phone="+86 571 88881234")

    assert found(candidates) == {existing.name: (90, ["Same main phone"])}


def test_a_bare_area_code_is_no_phone_evidence():
    CustomerFactory(name="杭州甲乙科技有限公司", phone="0571")

    assert find_duplicates(name="宁波丙丁贸易有限公司", phone="0571") == []


def test_every_reason_of_a_candidate_is_listed_once_with_the_best_score():
    code = credit_code(2)
    existing = CustomerFactory(name="北京工商银行", credit_code=code, phone="010-66106114")

    (candidate,) = find_duplicates(name="北京工行", credit_code=code, phone="01066106114")

    assert candidate.customer == existing and candidate.score == 100
    assert candidate.reasons == ["Same unified social credit code", SAME_NAME, "Same main phone"]


# --- similar names --------------------------------------------------------------------------------


def test_similar_name_in_the_same_region_is_a_warning_with_its_similarity():
    existing = CustomerFactory(name="杭州海康威视数字技术股份有限公司")

    candidates = find_duplicates(name="杭州海康威视数字科技有限公司")

    assert found(candidates) == {existing.name: (88, ["Name similarity 88"])}


def test_similar_name_in_another_region_is_not_reported():
    CustomerFactory(name="杭州海康威视数字技术股份有限公司")

    assert find_duplicates(name="宁波海康威视数字科技有限公司") == []


def test_group_and_its_subsidiary_are_flagged_so_they_get_linked():
    existing = CustomerFactory(name="杭州娃哈哈集团有限公司")

    candidates = find_duplicates(name="杭州娃哈哈食品有限公司")

    assert [c.customer for c in candidates] == [existing]
    assert 75 <= candidates[0].score < 95


@pytest.mark.parametrize(
    ("existing", "new"),
    [
        ("杭州市人民政府", "宁波市人民政府"),
        ("浙江大学", "浙江工业大学"),
        ("北京银行股份有限公司", "北京农商银行股份有限公司"),
        ("杭州市第一人民医院", "杭州市第二人民医院"),
        ("中铁一局集团有限公司", "中铁二局集团有限公司"),
        ("中国农业银行股份有限公司杭州分行", "中国农业发展银行杭州市分行"),
        ("中国工商银行股份有限公司杭州分行", "中国建设银行股份有限公司杭州分行"),
        ("杭州市公安局", "杭州市教育局"),
    ],
)
def test_look_alike_names_of_different_organisations_are_not_reported(existing, new):
    CustomerFactory(name=existing)

    assert find_duplicates(name=new) == []


def test_similarity_ignores_a_region_word_both_names_start_with():
    assert name_similarity("浙江大学", "浙江工业大学") == 67


def test_homophone_typo_scores_below_an_exact_spelling():
    assert name_similarity("娃哈哈", "哇哈哈") == 85


# --- branches and family --------------------------------------------------------------------------


def test_branch_of_other_city_is_not_a_duplicate():
    CustomerFactory(name="中国工商银行股份有限公司浙江省分行")

    assert find_duplicates(name="中国工商银行股份有限公司杭州市分行") == []


def test_head_office_is_not_a_duplicate_of_its_branch():
    CustomerFactory(name="中国工商银行股份有限公司", region_id="110000")

    assert find_duplicates(name="中国工商银行股份有限公司北京市分行") == []


def test_city_branch_is_not_a_duplicate_of_a_district_sub_branch():
    CustomerFactory(name="中国工商银行股份有限公司杭州分行")

    assert find_duplicates(name="中国工商银行股份有限公司杭州西湖支行") == []


def test_sibling_sub_branches_are_not_duplicates():
    CustomerFactory(name="中国工商银行股份有限公司杭州西湖支行")

    assert find_duplicates(name="中国工商银行股份有限公司杭州滨江支行") == []


def test_parent_its_parent_and_its_other_children_are_family_not_duplicates():
    # Given a group that shares one switchboard and names alike, and a stranger with the same phone
    phone = "0571-86032866"
    group = CustomerFactory(name="杭州娃哈哈集团有限公司", phone=phone)
    company = CustomerFactory(name="杭州娃哈哈食品有限公司", parent=group, phone=phone)
    sibling = CustomerFactory(name="杭州娃哈哈食品销售有限公司", parent=company, phone=phone)
    stranger = CustomerFactory(name="宁波甲乙贸易有限公司", phone=phone)
    new_name = "杭州娃哈哈食品饮料有限公司"
    assert {c.customer for c in find_duplicates(name=new_name, phone=phone)} == {group, company, sibling, stranger}

    # When the new customer is placed under the company
    candidates = find_duplicates(name=new_name, phone=phone, parent=company)

    # Then only the stranger is reported
    assert [c.customer for c in candidates] == [stranger]


def test_family_member_with_the_same_credit_code_is_still_a_duplicate():
    code = credit_code(3)
    group = CustomerFactory(name="杭州娃哈哈集团有限公司")
    company = CustomerFactory(name="杭州娃哈哈食品有限公司", parent=group, credit_code=code)

    candidates = find_duplicates(name="杭州娃哈哈食品有限公司", credit_code=code, parent=group)

    assert found(candidates)[company.name][0] == 100
    assert "Same unified social credit code" in found(candidates)[company.name][1]


def test_customer_being_renamed_is_not_its_own_duplicate():
    customer = CustomerFactory(name="北京工商银行", region_id="110000")

    assert find_duplicates(name="北京工行", exclude=customer) == []


def test_merged_customer_is_never_reported():
    survivor = CustomerFactory(name="中国工商银行股份有限公司北京市分行")
    CustomerFactory(name="宁波甲乙贸易有限公司", status=Customer.Status.MERGED, merged_into=survivor)

    assert find_duplicates(name="宁波甲乙贸易有限公司") == []


# --- aliases --------------------------------------------------------------------------------------


def test_alias_hit_reports_the_customer_it_belongs_to():
    # Given a renamed customer that keeps its former name as an alias
    renamed = CustomerFactory(name="杭州数智未来科技有限公司")
    alias(renamed, "杭州老字号信息技术有限公司")

    # When someone enters the former name again, spelt differently
    candidates = find_duplicates(name="老字号信息技术(杭州)有限公司")

    # Then the renamed customer is reported, naming the alias
    assert found(candidates) == {renamed.name: (95, ["Alias: 杭州老字号信息技术有限公司", SAME_NAME])}


def test_merged_duplicates_name_points_to_the_survivor():
    survivor = CustomerFactory(name="中国工商银行股份有限公司北京市分行")
    CustomerFactory(name="北京工行", status=Customer.Status.MERGED, merged_into=survivor)
    alias(survivor, "北京工行", CustomerAlias.Source.MERGE)

    candidates = find_duplicates(name="北京工行")

    assert found(candidates) == {survivor.name: (95, [SAME_NAME, "Alias: 北京工行"])}


def test_former_name_similar_to_the_new_name_is_reported_with_the_alias():
    renamed = CustomerFactory(name="杭州数智未来科技有限公司")
    alias(renamed, "杭州海康威视数字技术股份有限公司")

    candidates = find_duplicates(name="杭州海康威视数字科技有限公司")

    assert found(candidates) == {renamed.name: (88, ["Alias: 杭州海康威视数字技术股份有限公司", "Name similarity 88"])}


def test_alias_of_the_customer_being_renamed_is_not_reported():
    customer = CustomerFactory(name="杭州数智未来科技有限公司")
    alias(customer, "杭州老字号信息技术有限公司")

    assert find_duplicates(name="杭州老字号信息技术有限公司", exclude=customer) == []


# --- ranking, limits and cost ---------------------------------------------------------------------


def test_candidates_are_ranked_by_score_then_id():
    code = credit_code(4)
    by_phone = CustomerFactory(name="宁波甲乙贸易有限公司", phone="0571-88881234")
    similar = CustomerFactory(name="杭州海康威视数字技术股份有限公司")
    same_name_entered_first = CustomerFactory(name="杭州海康威视数字科技有限公司")
    same_name_entered_next = CustomerFactory(name="海康威视数字科技(杭州)有限公司")
    by_code = CustomerFactory(name="温州丙丁贸易有限公司", credit_code=code)

    candidates = find_duplicates(name="杭州海康威视数字科技有限公司", credit_code=code, phone="057188881234")

    assert [(c.customer, c.score) for c in candidates] == [
        (by_code, 100),
        (same_name_entered_first, 95),
        (same_name_entered_next, 95),
        (by_phone, 90),
        (similar, 88),
    ]


def test_limit_caps_the_candidates():
    for district in ("杭州分行", "杭州市分行", "杭州营业部"):
        CustomerFactory(name=f"中国工商银行股份有限公司{district}")

    assert len(find_duplicates(name="工行杭州分行")) == 3
    assert len(find_duplicates(name="工行杭州分行", limit=2)) == 2


def test_query_count_is_bounded_and_does_not_grow_with_rows(django_assert_max_num_queries):
    # Given a few customers and aliases that match by name and phone
    CustomerFactory(name="杭州海康威视数字技术股份有限公司", phone="0571-88881234")
    alias(CustomerFactory(name="杭州数智未来科技有限公司"), "杭州海康威视系统技术有限公司")
    query = {"name": "杭州海康威视数字科技有限公司", "credit_code": credit_code(5), "phone": "0571-88881234"}
    with CaptureQueriesContext(connection) as with_few_rows:
        find_duplicates(**query)

    # When a hundred more match the same way
    for n in range(100):
        customer = CustomerFactory(name=f"杭州海康威视数字{n}号科技有限公司", phone="0571-88881234")
        alias(customer, f"杭州海康威视数字{n}号技术有限公司")

    # Then the search costs the same few queries
    with django_assert_max_num_queries(4):
        with CaptureQueriesContext(connection) as with_many_rows:
            find_duplicates(**query)
    assert len(with_many_rows.captured_queries) == len(with_few_rows.captured_queries) <= 4


# --- PostgreSQL trigram blocking ------------------------------------------------------------------


@pytest.mark.postgres
def test_trigram_blocking_finds_a_typo_in_the_first_characters():
    # 康海 / 海康: no shared prefix, so only pg_trgm's similarity finds it.
    existing = CustomerFactory(name="杭州海康威视数字技术股份有限公司")

    candidates = find_duplicates(name="杭州康海威视数字技术有限公司")

    assert [c.customer for c in candidates] == [existing]
    assert candidates[0].reasons == ["Name similarity 88"]


@pytest.mark.postgres
def test_trigram_blocking_uses_the_percent_operator_with_a_lowered_threshold():
    CustomerFactory(name="杭州海康威视数字技术股份有限公司")

    with CaptureQueriesContext(connection) as queries:
        find_duplicates(name="杭州海康威视数字科技有限公司")

    sql = [q["sql"] for q in queries.captured_queries]
    assert "set_config('pg_trgm.similarity_threshold'" in sql[0]
    assert any('"customers_customer"."name_core" %' in s for s in sql)
    assert any('"customers_customeralias"."name_core" %' in s for s in sql)


# --- the data steward's list ----------------------------------------------------------------------


def test_probable_duplicate_groups_gather_customers_sharing_a_name_key(django_assert_max_num_queries):
    registered = CustomerFactory(name="中国工商银行股份有限公司北京市分行")
    short = CustomerFactory(name="北京工行")
    twice = [CustomerFactory(name="杭州娃哈哈集团有限公司"), CustomerFactory(name="娃哈哈集团(杭州)")]
    traditional = CustomerFactory(name="中國工商銀行北京分行")
    CustomerFactory(name="中国工商银行股份有限公司杭州分行")  # another branch: alone
    CustomerFactory(name="北京工商银行", status=Customer.Status.MERGED, merged_into=registered)

    with django_assert_max_num_queries(2):
        groups = probable_duplicate_groups()

    assert groups == [[registered, short, traditional], twice]


def test_probable_duplicate_groups_are_limited_to_the_largest():
    for name in ("杭州娃哈哈集团有限公司", "娃哈哈集团(杭州)"):
        CustomerFactory(name=name)
    icbc = [CustomerFactory(name=name) for name in ("北京工行", "北京工商银行", "中国工商银行北京市分行")]

    assert probable_duplicate_groups(limit=1) == [icbc]


def test_no_probable_duplicates_is_an_empty_list():
    CustomerFactory(name="杭州娃哈哈集团有限公司")

    assert probable_duplicate_groups() == []


def test_the_same_branch_entered_twice_under_one_parent_is_a_duplicate():
    head = CustomerFactory(name="中国农业银行股份有限公司浙江省分行", region_id="330000")
    CustomerFactory(name="中国农业银行股份有限公司杭州分行", region_id="330100", parent=head)

    found = find_duplicates(name="农行杭州分行", parent=head)

    assert [c.customer.name for c in found] == ["中国农业银行股份有限公司杭州分行"]


def test_the_most_used_and_complete_record_is_proposed_as_survivor_not_the_oldest(client, steward, am):
    informal = CustomerFactory(name="杭州工行", credit_code=None, account_manager=None)
    registered = CustomerFactory(
        name="中国工商银行股份有限公司杭州分行", credit_code=credit_code(77), account_manager=am, tier="B1",
        members_count=812,
    )  # fmt: skip

    [group] = probable_duplicate_groups()
    client.force_login(steward)
    page = client.get(reverse("customers:duplicates")).content.decode()

    assert group == [registered, informal]
    assert "Proposed survivor: 中国工商银行股份有限公司杭州分行" in page
    assert "it has the registered credit code" in page and "it has the most group members (812)" in page
    merge_link = f"{reverse('customers:merge')}?survivor={registered.pk}&amp;duplicate={informal.pk}"
    assert merge_link in page
