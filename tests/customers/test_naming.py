"""Name keys: the normaliser that makes 北京工行 and 中国工商银行股份有限公司北京市分行 one customer (seed 002)."""

import pytest

from customers import naming, reference
from customers.models import NameAbbreviation, Region
from customers.naming import NameKey, name_key, normalize, region_stem
from customers.naming_data import ABBREVIATIONS

SHIPPED = {abbreviation: full_name for abbreviation, full_name, _note in ABBREVIATIONS}
REGIONS = [name for _code, name, _en in reference.PROVINCES] + [
    name
    for (_code, city, _en), districts in reference.ZHEJIANG.items()
    for name in (city, *(district for _code, district in districts))
]


def key(name: str, abbreviations: dict[str, str] = SHIPPED) -> NameKey:
    return normalize(name, abbreviations=abbreviations, region_words=REGIONS)


@pytest.fixture(autouse=True)
def fresh_dictionary_cache():
    # Rows added by a test are rolled back without a signal: never let a compiled dictionary outlive it.
    naming.clear_cache()
    yield
    naming.clear_cache()


# --- the seed's case ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    ["北京工商银行", "北京工行", "中國工商銀行北京分行", "中国工商银行北京分行", "工行北京市分行", "北京市工行"],
)
def test_spellings_of_icbc_beijing_share_the_registered_names_key(spelling):
    registered = key("中国工商银行股份有限公司北京市分行")

    assert key(spelling) == registered == NameKey(core="工商银行", region="北京")


# --- cleaning -------------------------------------------------------------------------------------


def test_full_width_case_spaces_and_punctuation_are_ignored():
    expected = key("IBM（中国）有限公司")

    assert key("ＩＢＭ（中国）有限公司") == key("ibm (中国) 有限公司") == key("I.B.M 中国 有限公司") == expected
    assert expected.core == "ibm"


@pytest.mark.parametrize("brackets", ["（杭州）", "(杭州)", "【杭州】", "[杭州]", "〔杭州〕", "「杭州」"])
def test_bracket_variants_around_a_region_mean_the_same_region(brackets):
    assert key(f"娃哈哈{brackets}食品有限公司") == key("杭州娃哈哈食品有限公司") == NameKey("娃哈哈食品", "杭州")


def test_traditional_characters_are_read_as_simplified():
    assert key("中國農業銀行股份有限公司廣東省分行") == key("中国农业银行股份有限公司广东省分行")


# --- region words ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "region"),
    [
        ("浙江省", "浙江"),
        ("浙江", "浙江"),
        ("杭州市", "杭州"),
        ("杭州", "杭州"),
        ("杭州市西湖区", "杭州|西湖"),
        ("杭州西湖", "杭州|西湖"),
        ("广西壮族自治区", "广西"),
        ("广西", "广西"),
    ],
)
def test_region_words_are_recognised_with_or_without_their_suffix(written, region):
    assert key(f"中国建设银行{written}分行") == NameKey(core="建设银行", region=region)


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("浙江省", "浙江"),
        ("西湖区", "西湖"),
        ("广西壮族自治区", "广西"),
        ("新疆维吾尔自治区", "新疆"),
        ("内蒙古自治区", "内蒙古"),
        ("景宁畲族自治县", "景宁"),
        ("香港特别行政区", "香港"),
        ("赵县", "赵县"),  # one character would be left: the suffix stays
    ],
)
def test_region_stem_keeps_at_least_two_characters(name, stem):
    assert region_stem(name) == stem


def test_province_is_dropped_when_a_city_is_also_named():
    assert key("浙江省杭州市工行") == key("杭州工行") == NameKey("工商银行", "杭州")


def test_region_between_two_parts_of_a_trade_name_stays_in_the_core():
    assert key("新世纪杭州大酒店有限公司") == NameKey(core="新世纪杭州大酒店", region="")


# --- organisation form, branch words, national prefix -------------------------------------------


@pytest.mark.parametrize(
    "form",
    [
        "有限公司",
        "有限责任公司",
        "股份有限公司",
        "集团有限公司",
        "集团股份有限公司",
        "股份公司",
        "公司",
        "集团",
        "（有限合伙）",
    ],
)
def test_organisation_forms_are_ignored(form):
    assert key(f"杭州娃哈哈{form}") == NameKey(core="娃哈哈", region="杭州")


@pytest.mark.parametrize(
    "branch", ["分公司", "分行", "支行", "分理处", "营业部", "办事处", "分院", "分局", "分中心", "中心支行"]
)
def test_branch_words_are_ignored_but_the_branch_region_is_kept(branch):
    assert key(f"浙江测试服务有限公司杭州{branch}") == NameKey(core="测试服务", region="杭州")


def test_leading_china_is_dropped():
    assert key("中国工商银行") == key("工商银行股份有限公司") == NameKey("工商银行", "")
    assert key("中华联合财产保险股份有限公司").core == "联合财产保险"


def test_china_stays_when_only_an_industry_word_would_be_left():
    assert key("中国银行股份有限公司").core == "中国银行"
    assert key("中国银行股份有限公司").core != key("中国工商银行").core


def test_city_named_bank_is_not_a_branch_of_bank_of_china():
    # 北京银行 (Bank of Beijing) and 中国银行北京分行 are different banks.
    bank_of_beijing = key("北京银行股份有限公司")

    assert bank_of_beijing == NameKey(core="北京银行", region="")
    assert bank_of_beijing != key("中国银行北京分行") == key("中行北京分行") == NameKey("中国银行", "北京")


def test_branches_of_two_city_banks_in_each_others_city_differ():
    assert key("北京银行杭州分行") == NameKey("北京银行", "杭州")
    assert key("杭州银行北京分行") == NameKey("杭州银行", "北京")


def test_name_of_only_form_words_keeps_a_core():
    assert key("有限公司").core == "有限公司"


# --- branches that are different customers --------------------------------------------------------


def test_province_branch_and_city_branch_differ():
    assert key("中国工商银行股份有限公司浙江省分行") != key("中国工商银行股份有限公司杭州市分行")


def test_head_office_and_branch_differ():
    assert key("中国工商银行股份有限公司") != key("中国工商银行股份有限公司北京市分行")


def test_city_branch_and_district_sub_branch_differ():
    city, district = key("中国工商银行股份有限公司杭州分行"), key("中国工商银行股份有限公司杭州西湖支行")

    assert (city.region, district.region) == ("杭州", "杭州|西湖")


def test_sibling_sub_branches_differ():
    assert key("中国工商银行杭州西湖支行") != key("中国工商银行杭州滨江支行")


def test_sub_branch_written_under_its_branch_is_the_same_sub_branch():
    assert key("中国工商银行杭州分行西湖支行") == key("中国工商银行股份有限公司杭州西湖支行")


# --- abbreviations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("short", "registered"),
    [
        ("工行杭州分行", "中国工商银行股份有限公司杭州市分行"),
        ("杭州建行", "中国建设银行股份有限公司杭州分行"),
        ("农行浙江省分行", "中国农业银行股份有限公司浙江省分行"),
        ("交行杭州分行", "交通银行股份有限公司杭州分行"),
        ("招行杭州分行", "招商银行股份有限公司杭州分行"),
        ("邮储银行杭州分行", "中国邮政储蓄银行股份有限公司杭州市分行"),
        ("浦发杭州分行", "上海浦东发展银行股份有限公司杭州分行"),
        ("民生银行杭州分行", "中国民生银行股份有限公司杭州分行"),
        ("国开行浙江分行", "国家开发银行浙江省分行"),
        ("中石化浙江石油分公司", "中国石油化工股份有限公司浙江石油分公司"),
        ("国网浙江省电力有限公司", "国家电网浙江省电力公司"),
        ("浙江移动", "中国移动通信集团浙江有限公司"),
        ("中移动杭州分公司", "中国移动通信集团浙江有限公司杭州分公司"),
        ("浙江电信", "中国电信股份有限公司浙江分公司"),
        ("联通杭州分公司", "中国联合网络通信有限公司杭州市分公司"),
        ("国寿杭州分公司", "中国人寿保险股份有限公司杭州分公司"),
    ],
)
def test_shipped_abbreviation_written_as_a_whole_token_is_expanded(short, registered):
    assert key(short) == key(registered)


@pytest.mark.parametrize(
    ("name", "core"),
    [
        ("福建行政学院", "行政学院"),  # 建行 straddles 福建|行政
        ("杭州电信器材有限公司", "电信器材"),  # 电信 is the start of a longer trade name
        ("中国石油大学", "中国石油大学"),
        ("杭州东方建行装饰有限公司", "东方建行装饰"),
        ("杭州民生药业股份有限公司", "民生药业"),  # bare 民生 is not shipped (民生证券, 民生药业 ...)
    ],
)
def test_abbreviation_inside_another_word_is_not_expanded(name, core):
    assert key(name).core == core


def test_longest_abbreviation_wins():
    # 邮政 (中国邮政) is inside 邮政储蓄银行 (中国邮政储蓄银行).
    assert key("杭州邮政储蓄银行") == key("中国邮政储蓄银行股份有限公司杭州市分行") == NameKey("邮政储蓄银行", "杭州")
    assert key("杭州邮政") == key("中国邮政集团有限公司杭州市分公司") != key("杭州邮政储蓄银行")


def test_full_name_in_the_dictionary_keeps_its_region_word():
    assert key("上海浦东发展银行股份有限公司") == NameKey("上海浦东发展银行", "")


def test_the_dictionary_is_whatever_the_caller_passes():
    assert key("浙大") != key("浙江大学")
    assert key("浙大", {"浙大": "浙江大学"}) == key("浙江大学", {"浙大": "浙江大学"})


# --- name_key: the database dictionary ----------------------------------------------------------


@pytest.mark.django_db
def test_name_key_reads_the_shipped_dictionary_and_regions_from_the_database():
    assert NameAbbreviation.objects.filter(abbreviation="工行", full_name="中国工商银行").exists()

    assert name_key("北京工行") == name_key("中国工商银行股份有限公司北京市分行") == NameKey("工商银行", "北京")
    assert name_key("工行杭州西湖支行").region == "杭州|西湖"


@pytest.mark.django_db
def test_abbreviation_added_by_a_steward_takes_effect_at_once_and_goes_away_when_deleted():
    assert name_key("杭州浙大") != name_key("浙江大学")

    row = NameAbbreviation.objects.create(abbreviation="浙大", full_name="浙江大学")
    assert name_key("浙大") == name_key("浙江大学")

    row.delete()
    assert name_key("浙大") != name_key("浙江大学")


@pytest.mark.django_db
def test_edited_abbreviation_takes_effect_at_once():
    row = NameAbbreviation.objects.create(abbreviation="浙大", full_name="浙江工业大学")
    assert name_key("浙大") == name_key("浙江工业大学")

    row.full_name = "浙江大学"
    row.save()

    assert name_key("浙大") == name_key("浙江大学")


@pytest.mark.django_db
def test_region_added_to_the_table_becomes_a_region_word():
    beijing = Region.objects.get(code="110000")
    assert name_key("北京海淀工行").region == "北京"  # 海淀 unknown: part of the text

    Region.objects.create(code="110108", name="海淀区", level=Region.Level.DISTRICT, parent=beijing)

    assert (
        name_key("北京海淀工行") == name_key("中国工商银行股份有限公司北京海淀支行") == NameKey("工商银行", "北京|海淀")
    )
