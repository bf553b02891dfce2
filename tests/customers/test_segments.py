"""Saved segments (customers.segments): every criterion against hand-counted customers, the spend trend and
visit-overdue rules, the criteria registry, strict validation, who sees which segment and which members,
freezing, exports and the monthly snapshots behind the movement report."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from openpyxl import load_workbook

from channels.exports import writers
from customers import tasks
from customers.models import Customer, Segment, SegmentMember, SegmentSnapshot, TierEvaluation
from customers.segments import criteria, exports, selectors, services
from tests.channels.factories import UserFactory
from tests.customers.factories import CustomerFactory, SpendFactory, VisitFactory

pytestmark = pytest.mark.django_db

MAY, JUNE, JULY = datetime.date(2026, 5, 1), datetime.date(2026, 6, 1), datetime.date(2026, 7, 1)


def customer(**fields) -> Customer:
    return CustomerFactory(**fields)


@pytest.fixture
def book(am, teammate, outsider):
    """Eleven customers with known attributes (ten live, one merged away)."""
    c = {
        "a1_bank": customer(tier="A1", industry_id="J", region_id="330106", avg_monthly_revenue=Decimal("150000"),
                            members_count=1500, value_score=92, account_manager=am),
        "a2_gov": customer(tier="A2", industry_id="S", region_id="330100", avg_monthly_revenue=Decimal("40000"),
                           members_count=200, value_score=80, account_manager=am, is_strategic=True),
        "b1_school": customer(tier="B1", industry_id="P", region_id="330200", avg_monthly_revenue=Decimal("50000"),
                              members_count=500, value_score=70, account_manager=teammate),
        "b1_hospital": customer(tier="B1", industry_id="Q", region_id="330102", avg_monthly_revenue=Decimal("60000"),
                                members_count=800, value_score=75, account_manager=am, is_strategic=True),
        "b2_factory": customer(tier="B2", industry_id="C", region_id="330203", status=Customer.Status.AT_RISK,
                               avg_monthly_revenue=Decimal("15000"), members_count=150, value_score=55,
                               account_manager=teammate),
        "c_shop": customer(tier="C", industry_id="F", region_id="330300", avg_monthly_revenue=Decimal("5000"),
                           members_count=50, value_score=40, account_manager=outsider),
        "c_hotel": customer(tier="C", industry_id="H", region_id="320000", status=Customer.Status.CHURNED,
                            avg_monthly_revenue=Decimal("3000"), members_count=30, value_score=30),
        "d_farm": customer(tier="D", industry_id="A", region_id="330100", avg_monthly_revenue=Decimal("800"),
                           members_count=5, value_score=10),
        "d_cafe": customer(tier="D", industry_id="H", region_id="330205", avg_monthly_revenue=Decimal("1500"),
                           members_count=12, value_score=15, account_manager=outsider),
        "prospect": customer(tier="", industry_id="I", region_id="330108", status=Customer.Status.PROSPECT,
                             members_count=0, account_manager=am),
    }  # fmt: skip
    c["merged"] = customer(tier="C", industry_id="J", region_id="330106", status=Customer.Status.MERGED,
                           merged_into=c["c_shop"], avg_monthly_revenue=Decimal("9000"), members_count=40)  # fmt: skip
    return c


def names(book, queryset) -> set[str]:
    by_pk = {c.pk: label for label, c in book.items()}
    return {by_pk[pk] for pk in queryset.values_list("pk", flat=True)}


def match(book, user, definition) -> set[str]:
    return names(book, selectors.preview_members(criteria.clean_definition(definition), user=user))


# --- each criterion against the hand-counted book --------------------------------------------------------

LIVE = {"a1_bank", "a2_gov", "b1_school", "b1_hospital", "b2_factory", "c_shop", "c_hotel", "d_farm", "d_cafe",
        "prospect"}  # fmt: skip


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        ({}, LIVE),
        ({"tier": ["B1"]}, {"b1_school", "b1_hospital"}),
        ({"tier": ["none"]}, {"prospect"}),
        ({"tier": ["C", "none"]}, {"c_shop", "c_hotel", "prospect"}),
        ({"industry": ["H"]}, {"c_hotel", "d_cafe"}),
        ({"industry": ["J", "S"]}, {"a1_bank", "a2_gov"}),
        ({"region": "330000"}, LIVE - {"c_hotel"}),
        ({"region": "330100"}, {"a1_bank", "a2_gov", "b1_hospital", "d_farm", "prospect"}),
        ({"region": "330200"}, {"b1_school", "b2_factory", "d_cafe"}),
        ({"region": "330106"}, {"a1_bank"}),
        ({"status": ["at_risk", "churned"]}, {"b2_factory", "c_hotel"}),
        ({"spend_min": 40000}, {"a1_bank", "a2_gov", "b1_school", "b1_hospital"}),
        ({"spend_max": "1500"}, {"d_farm", "d_cafe"}),
        ({"spend_min": 3000, "spend_max": 15000}, {"b2_factory", "c_shop", "c_hotel"}),
        ({"members_min": 500}, {"a1_bank", "b1_school", "b1_hospital"}),
        ({"members_max": 12}, {"d_farm", "d_cafe", "prospect"}),
        ({"value_min": 75}, {"a1_bank", "a2_gov", "b1_hospital"}),
        ({"value_max": 15}, {"d_farm", "d_cafe"}),
        ({"no_account_manager": True}, {"c_hotel", "d_farm"}),
        ({"no_account_manager": False}, LIVE - {"c_hotel", "d_farm"}),
        ({"is_strategic": True}, {"a2_gov", "b1_hospital"}),
        ({"is_strategic": False, "tier": ["A1", "A2", "B1"]}, {"a1_bank", "b1_school"}),
        ({"tier": ["A1", "A2", "B1"], "region": "330100", "industry": ["J", "S", "Q"]},
         {"a1_bank", "a2_gov", "b1_hospital"}),
    ],
)  # fmt: skip
def test_each_criterion_selects_exactly_the_hand_counted_customers(book, admin_user, definition, expected):
    assert match(book, admin_user, definition) == expected


def test_account_manager_criterion_takes_a_list_of_managers(book, admin_user, am, teammate):
    assert match(book, admin_user, {"account_manager": [am.pk]}) == {"a1_bank", "a2_gov", "b1_hospital", "prospect"}
    assert match(book, admin_user, {"account_manager": [am.pk, teammate.pk]}) == {
        "a1_bank", "a2_gov", "b1_hospital", "prospect", "b1_school", "b2_factory"
    }  # fmt: skip


def test_merged_records_are_never_members(book, admin_user):
    assert "merged" not in match(book, admin_user, {"industry": ["J"]})


# --- spend trend -------------------------------------------------------------------------------------------


def spend(customer, amounts: dict[datetime.date, str], category="voice"):
    for month, amount in amounts.items():
        SpendFactory(customer=customer, month=month, category=category, amount=Decimal(amount))


def months(year, first, last):
    return [datetime.date(year, m, 1) for m in range(first, last + 1)]


@pytest.fixture
def trend_book(admin_user):
    """The latest evaluation read the June 2026 bills: the windows are Jan–Mar against Apr–Jun 2026."""
    TierEvaluation.objects.create(period=JUNE, kind=TierEvaluation.Kind.EVALUATION, rule_version=1)
    TierEvaluation.objects.create(period=JULY, kind=TierEvaluation.Kind.DRY_RUN, rule_version=1)  # ignored
    before, recent = months(2026, 1, 3), months(2026, 4, 6)
    c = {label: customer() for label in ("grow", "flat", "drop", "new", "gone", "silent", "old_only", "mixed",
                                         "edge", "late_spike")}  # fmt: skip
    spend(c["grow"], {**dict.fromkeys(before, "1000"), **dict.fromkeys(recent, "1200")})
    spend(c["flat"], {**dict.fromkeys(before, "1000"), **dict.fromkeys(recent, "1050")})
    spend(c["drop"], {**dict.fromkeys(before, "1000"), **dict.fromkeys(recent, "800")})
    spend(c["new"], dict.fromkeys(recent, "500"))
    spend(c["gone"], dict.fromkeys(before, "1000"))
    spend(c["old_only"], dict.fromkeys(months(2025, 1, 12), "9000"))
    # categories add up: 6000 before, 6900 after (+15%)
    spend(c["mixed"], {**dict.fromkeys(before, "1000"), **dict.fromkeys(recent, "2000")}, category="voice")
    spend(c["mixed"], {**dict.fromkeys(before, "1000"), **dict.fromkeys(recent, "300")}, category="data")
    spend(c["edge"], {**dict.fromkeys(before, "1000"), **dict.fromkeys(recent, "1100")})  # exactly +10%: stable
    # a big bill after the evaluated month does not count yet
    spend(c["late_spike"], {**dict.fromkeys(before, "1000"), **dict.fromkeys(recent, "1000"), JULY: "50000"})
    return c


def test_spend_trend_compares_the_last_three_billed_months_with_the_three_before(trend_book, admin_user):
    assert match(trend_book, admin_user, {"spend_trend": "growing"}) == {"grow", "new", "mixed"}
    assert match(trend_book, admin_user, {"spend_trend": "declining"}) == {"drop", "gone"}
    assert match(trend_book, admin_user, {"spend_trend": "stable"}) == {"flat", "edge", "late_spike"}


def test_spend_trend_combines_with_other_criteria(trend_book, admin_user):
    Customer.objects.filter(pk=trend_book["grow"].pk).update(tier="A1")

    assert match(trend_book, admin_user, {"spend_trend": "growing", "tier": ["A1"]}) == {"grow"}


def test_before_any_evaluation_the_billing_month_is_the_latest_month_billed():
    SpendFactory(month=datetime.date(2026, 2, 1))
    SpendFactory(month=datetime.date(2025, 12, 1))

    assert criteria.billing_month() == datetime.date(2026, 2, 1)


# --- visit overdue ------------------------------------------------------------------------------------------


@time_machine.travel(datetime.datetime(2026, 6, 15, 4, tzinfo=datetime.UTC), tick=False)
def test_visit_overdue_uses_each_tiers_visit_cycle_and_counts_never_visited(admin_user):
    c = {
        "a1_recent": customer(tier="A1"), "a1_late": customer(tier="A1"), "a1_never": customer(tier="A1"),
        "a1_twice": customer(tier="A1"), "c_recent": customer(tier="C"), "c_late": customer(tier="C"),
        "untiered": customer(tier=""),
    }  # fmt: skip
    VisitFactory(customer=c["a1_recent"], visited_on=datetime.date(2026, 6, 1))  # 14 days, cycle 30
    VisitFactory(customer=c["a1_late"], visited_on=datetime.date(2026, 5, 1))  # 45 days
    VisitFactory(customer=c["a1_twice"], visited_on=datetime.date(2026, 3, 1))
    VisitFactory(customer=c["a1_twice"], visited_on=datetime.date(2026, 6, 10))  # the latest counts
    VisitFactory(customer=c["c_recent"], visited_on=datetime.date(2026, 1, 1))  # 165 days, cycle 180
    VisitFactory(customer=c["c_late"], visited_on=datetime.date(2025, 11, 1))

    assert match(c, admin_user, {"visit_overdue": True}) == {"a1_late", "a1_never", "c_late"}
    assert match(c, admin_user, {"visit_overdue": False}) == {"a1_recent", "a1_twice", "c_recent", "untiered"}


# --- the registry ---------------------------------------------------------------------------------------------


@pytest.fixture
def employees_criterion():
    criteria.register_criterion(
        "employees_min", label="Employees at least", order=200,
        field_factory=lambda: forms.IntegerField(min_value=0),
        apply=lambda qs, value: qs.filter(employees__gte=value),
    )  # fmt: skip
    yield
    criteria.unregister_criterion("employees_min")


def test_a_criterion_registered_by_another_app_validates_and_filters(employees_criterion, admin_user):
    small, big = customer(employees=50), customer(employees=5000)

    definition = criteria.clean_definition({"employees_min": "1000"})

    assert definition == {"employees_min": 1000}
    members = set(selectors.preview_members(definition, user=admin_user).values_list("pk", flat=True))
    assert big.pk in members and small.pk not in members
    with pytest.raises(ValidationError) as error:
        criteria.clean_definition({"employees_min": -1})
    assert "employees_min" in error.value.message_dict


def test_a_registered_criterion_appears_on_the_segment_form(employees_criterion, am):
    from customers.forms.segments import SegmentForm

    assert "employees_min" in SegmentForm(user=am).fields


def test_registering_a_reserved_or_malformed_key_is_refused():
    for key in ("name", "is_shared", "Bad-Key", ""):
        with pytest.raises(ValueError):
            criteria.register_criterion(key, label="x", field_factory=forms.CharField, apply=lambda qs, v: qs)


def test_a_stored_definition_whose_criterion_was_removed_is_an_error_not_a_wider_segment(supervisor, book):
    segment = Segment.objects.create(owner=supervisor, name="旧条件", is_shared=True, definition={"products": [1]})

    with pytest.raises(ValidationError) as error:
        selectors.segment_members(segment, user=supervisor)
    assert "products" in error.value.message_dict
    assert services.segment_snapshot_all(month=MAY) == {"segments": 0, "rows": 0, "skipped": 1}


# --- strict validation ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("definition", "key"),
    [
        ({"colour": "red"}, "colour"),
        ({"tier": ["Z"]}, "tier"),
        ({"tier": "A1"}, "tier"),
        ({"industry": ["ZZ"]}, "industry"),
        ({"region": "999999"}, "region"),
        ({"status": ["merged"]}, "status"),
        ({"spend_min": -5}, "spend_min"),
        ({"spend_min": "lots"}, "spend_min"),
        ({"spend_trend": "sideways"}, "spend_trend"),
        ({"members_max": 2.5}, "members_max"),
        ({"value_min": 101}, "value_min"),
        ({"account_manager": [999999]}, "account_manager"),
        ({"visit_overdue": "maybe"}, "visit_overdue"),
        ({"is_strategic": 1}, "is_strategic"),
        ({"spend_min": 5000, "spend_max": 1000}, "spend_max"),
        ({"members_min": 10, "members_max": 5}, "members_max"),
        ({"__class__": 1}, "__class__"),
    ],
)
def test_a_bad_definition_is_refused_naming_the_criterion(am, definition, key):
    with pytest.raises(ValidationError) as error:
        criteria.clean_definition(definition)

    assert key in error.value.message_dict


def test_choosing_managers_and_without_manager_together_is_refused(am):
    with pytest.raises(ValidationError) as error:
        criteria.clean_definition({"account_manager": [am.pk], "no_account_manager": True})

    assert "no_account_manager" in error.value.message_dict


def test_a_definition_must_be_an_object():
    with pytest.raises(ValidationError) as error:
        criteria.clean_definition(["tier", "A1"])

    assert "definition" in error.value.message_dict


def test_clean_definition_drops_empty_criteria_and_stores_plain_json(am):
    definition = criteria.clean_definition(
        {"tier": ["A1", "A1", "B1"], "industry": [], "spend_min": "1500.50", "members_min": None, "region": "",
         "visit_overdue": "true", "account_manager": [str(am.pk)]}
    )  # fmt: skip

    assert definition == {"tier": ["A1", "B1"], "spend_min": 1500.5, "account_manager": [am.pk], "visit_overdue": True}


def test_people_who_may_not_see_spend_may_not_filter_on_finance(agent):
    for key, value in (("spend_min", 1), ("spend_trend", "growing"), ("value_min", 1)):
        with pytest.raises(ValidationError) as error:
            criteria.clean_definition({key: value}, user=agent)
        assert key in error.value.message_dict
    assert criteria.clean_definition({"tier": ["A1"]}, user=agent) == {"tier": ["A1"]}


# --- who sees which segments and which members ----------------------------------------------------------------


def test_a_shared_segment_shows_each_reader_only_the_customers_they_may_see(book, supervisor, am, outsider):
    segment = services.segment_create(owner=supervisor, name="全部", definition={}, is_shared=True)

    assert names(book, selectors.segment_members(segment, user=am)) == {"a1_bank", "a2_gov", "b1_hospital", "prospect"}
    assert names(book, selectors.segment_members(segment, user=outsider)) == {"c_shop", "d_cafe"}
    assert names(book, selectors.segment_members(segment, user=supervisor)) == {
        "a1_bank", "a2_gov", "b1_hospital", "prospect", "b1_school", "b2_factory"
    }  # fmt: skip


def test_someone_elses_private_segment_is_not_found_and_has_no_members(book, supervisor, am):
    private = services.segment_create(owner=supervisor, name="我的", definition={})

    with pytest.raises(Segment.DoesNotExist):
        selectors.segment_detail(user=am, pk=private.pk)
    assert not selectors.segment_members(private, user=am).exists()
    assert selectors.segment_detail(user=supervisor, pk=private.pk) == private


def test_segment_list_holds_own_and_shared_segments(supervisor, am, analyst):
    own = services.segment_create(owner=am, name="我的客户", definition={})
    shared = services.segment_create(owner=supervisor, name="共享", definition={}, is_shared=True)
    services.segment_create(owner=analyst, name="分析师私有", definition={})

    assert set(selectors.segment_list(user=am)) == {own, shared}


def test_a_shared_segment_on_finance_criteria_is_hidden_from_call_center_agents(supervisor, agent):
    rich = services.segment_create(owner=supervisor, name="高收入", definition={"spend_min": 1}, is_shared=True)
    plain = services.segment_create(owner=supervisor, name="A类", definition={"tier": ["A1"]}, is_shared=True)

    assert set(selectors.segment_list(user=agent)) == {plain}
    assert rich in set(selectors.segment_list(user=supervisor))


# --- create, update, delete --------------------------------------------------------------------------------------


def test_account_managers_keep_private_segments_and_supervisors_and_analysts_share(am, supervisor, analyst):
    with pytest.raises(ValidationError) as error:
        services.segment_create(owner=am, name="分享", definition={}, is_shared=True)
    assert "is_shared" in error.value.message_dict

    assert services.segment_create(owner=supervisor, name="分享", definition={}, is_shared=True).is_shared
    assert services.segment_create(owner=analyst, name="分享", definition={}, is_shared=True).is_shared


def test_segment_names_are_required_and_unique_per_owner(am, teammate):
    services.segment_create(owner=am, name="大客户", definition={})

    for name in ("", "   "):
        with pytest.raises(ValidationError) as error:
            services.segment_create(owner=am, name=name, definition={})
        assert "name" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.segment_create(owner=am, name=" 大客户 ", definition={})
    assert "name" in error.value.message_dict
    assert services.segment_create(owner=teammate, name="大客户", definition={}).name == "大客户"


def test_only_the_owner_changes_or_deletes_a_segment(supervisor, am):
    segment = services.segment_create(owner=supervisor, name="共享", definition={}, is_shared=True)

    with pytest.raises(PermissionDenied):
        services.segment_update(segment=segment, by=am, name="改名")
    with pytest.raises(PermissionDenied):
        services.segment_delete(segment=segment, by=am)

    services.segment_update(segment=segment, by=supervisor, name="改名", definition={"tier": ["A1"]})
    segment.refresh_from_db()
    assert (segment.name, segment.definition) == ("改名", {"tier": ["A1"]})
    services.segment_delete(segment=segment, by=supervisor)
    assert not Segment.objects.filter(pk=segment.pk).exists()


def test_an_invalid_update_changes_nothing(am):
    segment = services.segment_create(owner=am, name="A类", definition={"tier": ["A1"]})

    with pytest.raises(ValidationError):
        services.segment_update(segment=segment, by=am, name="新名字", definition={"tier": ["Z"]})

    segment.refresh_from_db()
    assert (segment.name, segment.definition) == ("A类", {"tier": ["A1"]})


# --- freeze -------------------------------------------------------------------------------------------------------


def test_freeze_copies_the_owners_current_members_and_the_list_no_longer_follows_the_criteria(book, am):
    segment = services.segment_create(owner=am, name="B1", definition={"tier": ["B1", "A2"]})

    frozen = services.segment_freeze(segment=segment, by=am)

    assert frozen.frozen_at is not None
    # b1_school is a teammate's: the owner does not see it
    assert set(SegmentMember.objects.filter(segment=segment).values_list("customer_id", flat=True)) == {
        book["a2_gov"].pk,
        book["b1_hospital"].pk,
    }
    Customer.objects.filter(pk=book["a1_bank"].pk).update(tier="B1")
    Customer.objects.filter(pk=book["a2_gov"].pk).update(tier="C")
    assert names(book, selectors.segment_members(frozen, user=am)) == {"a2_gov", "b1_hospital"}


def test_a_frozen_segment_cannot_be_edited_deleted_or_frozen_again_only_copied(book, am):
    segment = services.segment_freeze(
        segment=services.segment_create(owner=am, name="冻结", definition={"tier": ["A1"]}), by=am
    )

    with pytest.raises(ValidationError):
        services.segment_update(segment=segment, by=am, name="改名")
    with pytest.raises(ValidationError):
        services.segment_delete(segment=segment, by=am)
    with pytest.raises(ValidationError):
        services.segment_freeze(segment=segment, by=am)
    copy = services.segment_copy(segment=segment, by=am)
    assert copy.definition == {"tier": ["A1"]} and not copy.is_frozen and not copy.is_shared
    assert copy.name == "冻结 (copy)"
    assert services.segment_copy(segment=segment, by=am).name == "冻结 (copy) 2"


def test_a_frozen_shared_list_is_still_read_through_the_readers_visibility(book, supervisor, am):
    segment = services.segment_create(owner=supervisor, name="团队", definition={}, is_shared=True)
    services.segment_freeze(segment=segment, by=supervisor)

    assert names(book, selectors.segment_members(segment, user=am)) == {"a1_bank", "a2_gov", "b1_hospital", "prospect"}


# --- export -------------------------------------------------------------------------------------------------------


@pytest.fixture
def tricky(am):
    return customer(name="=HYPERLINK(\"http://evil\",\"点我\")", short_name="+86 热线", tier="A1", account_manager=am,
                    avg_monthly_revenue=Decimal("123456.78"), value_score=88)  # fmt: skip


def read_csv(segment, user) -> list[list[str]]:
    text = "".join(writers.csv_chunks(exports.segment_export_source(segment, user=user)))
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_csv_export_has_a_bom_the_visible_members_and_escaped_formulas(book, tricky, supervisor, am):
    segment = services.segment_create(owner=supervisor, name="A类", definition={"tier": ["A1", "C"]}, is_shared=True)

    rows = read_csv(segment, am)

    assert rows[0] == ["Customer code", "Name", "Short name", "Tier", "Status", "Industry", "Region",
                       "Account manager", "Members", "Value score", "Average monthly revenue (RMB)"]  # fmt: skip
    assert {row[0] for row in rows[1:]} == {book["a1_bank"].code, tricky.code}
    escaped = next(row for row in rows[1:] if row[0] == tricky.code)
    assert escaped[1] == '\'=HYPERLINK("http://evil","点我")'
    assert escaped[2] == "'+86 热线"
    assert escaped[-1] == "123456.78"


def test_an_account_managers_export_of_a_shared_segment_holds_only_their_customers(book, supervisor, outsider):
    segment = services.segment_create(owner=supervisor, name="全部", definition={}, is_shared=True)

    codes = {row[0] for row in read_csv(segment, outsider)[1:]}

    assert codes == {book["c_shop"].code, book["d_cafe"].code}


def test_xlsx_export_opens_with_openpyxl_and_keeps_formulas_as_text(book, tricky, am):
    segment = services.segment_create(owner=am, name="A1", definition={"tier": ["A1"]})

    buffer = io.BytesIO()
    writers.write_xlsx(exports.segment_export_source(segment, user=am), buffer)
    workbook = load_workbook(buffer)

    rows = list(workbook.active.iter_rows())
    assert rows[0][0].value == "Customer code"
    assert {r[0].value for r in rows[1:]} == {book["a1_bank"].code, tricky.code}
    cell = next(r[1] for r in rows[1:] if r[0].value == tricky.code)
    assert cell.data_type == "s" and cell.value.startswith("'=")
    assert next(r[10].value for r in rows[1:] if r[0].value == tricky.code) == pytest.approx(123456.78)


def test_call_center_agents_export_without_finance_columns(book, supervisor, agent):
    segment = services.segment_create(owner=supervisor, name="A类", definition={"tier": ["A1"]}, is_shared=True)

    rows = read_csv(segment, agent)

    assert "Value score" not in rows[0] and "Average monthly revenue (RMB)" not in rows[0]
    assert len(rows[0]) == len(rows[1]) == 9


def test_export_filename_has_the_segment_name_and_the_date(am):
    segment = services.segment_create(owner=am, name="杭州 A/B 类", definition={})

    with time_machine.travel(datetime.datetime(2026, 6, 15, 4, tzinfo=datetime.UTC), tick=False):
        assert exports.segment_export_source(segment, user=am).file_stem == "杭州_A_B_类-20260615"


# --- monthly snapshots and movements --------------------------------------------------------------------------------


@pytest.fixture
def tracked(supervisor, am, outsider):
    """A shared B1 segment; a..f move in and out over May, June and July (a, b, e are am's; the others outsider's)."""
    people = {label: customer(tier="C", account_manager=am if label in "abe" else outsider) for label in "abcdef"}
    segment = services.segment_create(owner=supervisor, name="B1 跟踪", definition={"tier": ["B1"]}, is_shared=True)

    def month_with(month, members):
        Customer.objects.update(tier="C")
        Customer.objects.filter(pk__in=[people[m].pk for m in members]).update(tier="B1")
        services.segment_snapshot(segment=segment, month=month)

    month_with(MAY, "abc")
    month_with(JUNE, "bcd")
    month_with(JULY, "cdef")
    return segment, people


def test_snapshots_are_idempotent_and_a_rerun_replaces_the_month(tracked):
    segment, people = tracked

    assert services.segment_snapshot(segment=segment, month=JULY) == 4
    assert SegmentSnapshot.objects.filter(segment=segment, month=JULY).count() == 4
    Customer.objects.filter(pk=people["f"].pk).update(tier="C")
    assert services.segment_snapshot(segment=segment, month=JULY) == 3
    assert SegmentSnapshot.objects.filter(segment=segment).count() == 3 + 3 + 3


def test_movements_count_members_entries_and_departures_per_month(tracked, admin_user):
    segment, _people = tracked

    movements = selectors.segment_movements(segment, user=admin_user, months=3)

    assert [(m.month, m.size, m.entered, m.left) for m in movements] == [
        (MAY, 3, None, None),  # no April record: no baseline
        (JUNE, 3, 1, 1),  # d in, a out
        (JULY, 4, 2, 1),  # e, f in, b out
    ]


def test_the_lists_behind_the_numbers_name_the_customers(tracked, admin_user):
    segment, people = tracked
    pk = {c.pk: label for label, c in people.items()}

    def listed(month, kind):
        customers = selectors.movement_customers(segment, user=admin_user, month=month, kind=kind)
        return {pk[c] for c in customers.values_list("pk", flat=True)}

    assert listed(JULY, "entered") == {"e", "f"}
    assert listed(JULY, "left") == {"b"}
    assert listed(JUNE, "members") == {"b", "c", "d"}


def test_an_account_manager_counts_only_movements_of_customers_they_see(tracked, am):
    segment, _people = tracked

    movements = selectors.segment_movements(segment, user=am, months=3)

    assert [(m.size, m.entered, m.left) for m in movements] == [(2, None, None), (1, 0, 1), (1, 1, 1)]


def test_a_missing_month_leaves_the_next_month_without_a_baseline(supervisor, admin_user):
    segment = services.segment_create(owner=supervisor, name="稀疏", definition={}, is_shared=True)
    customer()
    services.segment_snapshot(segment=segment, month=MAY)
    services.segment_snapshot(segment=segment, month=JULY)

    movements = selectors.segment_movements(segment, user=admin_user, months=6)

    # the report starts at the first record (May); June has none, so June and July have no baseline
    assert [(m.month, m.size, m.entered) for m in movements] == [(MAY, 1, None), (JUNE, 0, None), (JULY, 1, None)]


def test_snapshot_all_records_shared_live_segments_for_the_month_that_just_ended(book, supervisor, am):
    shared = services.segment_create(owner=supervisor, name="共享", definition={"tier": ["A1"]}, is_shared=True)
    services.segment_create(owner=am, name="私有", definition={})
    frozen = services.segment_create(owner=supervisor, name="冻结", definition={}, is_shared=True)
    services.segment_freeze(segment=frozen, by=supervisor)

    with time_machine.travel(datetime.datetime(2026, 7, 1, 1, tzinfo=datetime.UTC), tick=False):
        result = tasks.snapshot_segments()

    assert result == {"segments": 1, "rows": 1, "skipped": 0}
    assert list(SegmentSnapshot.objects.values_list("segment_id", "month", "customer_id")) == [
        (shared.pk, JUNE, book["a1_bank"].pk)
    ]
    assert tasks.snapshot_segments("2026-06-01") == result  # re-run: same rows, no duplicates
    assert SegmentSnapshot.objects.count() == 1


def test_the_beat_schedule_snapshots_segments_on_the_first_of_every_month():
    entry = settings.CELERY_BEAT_SCHEDULE["snapshot-segments"]

    assert entry["task"] == "customers.tasks.snapshot_segments"
    assert entry["schedule"].day_of_month == {1}
    assert tasks.snapshot_segments.name == entry["task"]


def test_a_snapshot_copies_the_whole_membership_not_one_readers_view(book, supervisor):
    segment = services.segment_create(owner=supervisor, name="全部", definition={}, is_shared=True)

    assert services.segment_snapshot(segment=segment, month=MAY) == len(LIVE)


def test_freezing_as_someone_who_sees_nobody_freezes_an_empty_list(book):
    nobody = UserFactory(role="account_manager")
    segment = services.segment_create(owner=nobody, name="空", definition={})

    assert services.segment_freeze(segment=segment, by=nobody).is_frozen
    assert not SegmentMember.objects.filter(segment=segment).exists()
