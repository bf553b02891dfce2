"""Services: create/update with validation and duplicates, merge, handover, history, feeds."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from customers import services
from customers.models import (
    AccountManagerAssignment,
    Contact,
    Customer,
    CustomerAlias,
    GroupMember,
    MergeRecord,
    SpendRecord,
    Visit,
)
from customers.selectors import change_history
from tests.customers.factories import (
    ContactFactory,
    CustomerFactory,
    MemberFactory,
    SpendFactory,
    VisitFactory,
    credit_code,
)

pytestmark = pytest.mark.django_db


# --- visibility ---------------------------------------------------------------------------------------


def test_account_manager_sees_own_customers_and_their_subsidiaries_only(am, teammate, outsider):
    head = CustomerFactory(account_manager=am)
    branch = CustomerFactory(parent=head, account_manager=teammate)
    sub_branch = CustomerFactory(parent=branch)
    theirs = CustomerFactory(account_manager=teammate)
    foreign = CustomerFactory(account_manager=outsider)

    visible = set(Customer.objects.visible_to(am).values_list("pk", flat=True))

    assert visible == {head.pk, branch.pk, sub_branch.pk}
    assert theirs.pk not in visible and foreign.pk not in visible


def test_supervisor_sees_the_team_but_not_other_teams(supervisor, am, teammate, outsider):
    mine, mates = CustomerFactory(account_manager=am), CustomerFactory(account_manager=teammate)
    other = CustomerFactory(account_manager=outsider)

    visible = set(Customer.objects.visible_to(supervisor).values_list("pk", flat=True))

    assert {mine.pk, mates.pk} <= visible and other.pk not in visible


def test_agent_steward_and_analyst_see_everyone_but_only_steward_edits(agent, steward, analyst, outsider):
    customer = CustomerFactory(account_manager=outsider)
    for user in (agent, steward, analyst):
        assert Customer.objects.visible_to(user).filter(pk=customer.pk).exists()
    assert Customer.objects.editable_by(steward).filter(pk=customer.pk).exists()
    assert not Customer.objects.editable_by(agent).filter(pk=customer.pk).exists()
    assert not Customer.objects.editable_by(analyst).filter(pk=customer.pk).exists()


def test_inactive_user_sees_nothing(am):
    CustomerFactory(account_manager=am)
    am.is_active = False
    assert not Customer.objects.visible_to(am).exists()


# --- create and update ------------------------------------------------------------------------------


def test_account_manager_creates_prospect_with_only_a_name_into_own_portfolio(am):
    customer = services.customer_create(by=am, name="  浙江新锐  智能科技有限公司 ")

    assert customer.name == "浙江新锐 智能科技有限公司"
    assert customer.status == Customer.Status.PROSPECT
    assert customer.account_manager == am
    assert customer.code == f"KA{customer.pk:08d}"
    assert AccountManagerAssignment.objects.filter(customer=customer, account_manager=am, ended_at=None).exists()
    assert customer.history.first().history_user == am


def test_bad_credit_code_is_refused_with_the_field_named(am):
    with pytest.raises(ValidationError) as exc:
        services.customer_create(by=am, name="杭州某某有限公司", credit_code="91330100MA2CXY7Q1X")
    assert "credit_code" in exc.value.message_dict
    assert not Customer.objects.filter(name="杭州某某有限公司").exists()


def test_data_steward_may_keep_a_non_conforming_code_with_a_reason(steward, am):
    bad = "91350203M0001QAY9B"  # a published code that fails its own check character
    with pytest.raises(ValidationError):
        services.customer_create(by=am, name="厦门某某有限公司", credit_code=bad, credit_code_exception="营业执照原样")
    customer = services.customer_create(
        by=steward, name="厦门某某有限公司", credit_code=bad, credit_code_exception="营业执照原样"
    )
    assert customer.credit_code == bad


def test_credit_code_is_stored_upper_cased_and_unique_among_live_customers(am):
    code = credit_code(1)
    services.customer_create(by=am, name="宁波甲科技有限公司", credit_code=code.lower() + " ")
    with pytest.raises(ValidationError) as exc:
        services.customer_create(by=am, name="温州乙贸易有限公司", credit_code=code, confirm_not_duplicate=True)
    assert "credit_code" in exc.value.message_dict
    assert Customer.objects.get(credit_code=code).name == "宁波甲科技有限公司"


def test_duplicate_name_needs_confirmation(am):
    CustomerFactory(name="中国工商银行股份有限公司北京市分行", region_id="110000")

    with pytest.raises(services.DuplicateWarning) as exc:
        services.customer_create(by=am, name="北京工行")
    assert exc.value.candidates[0].customer.name == "中国工商银行股份有限公司北京市分行"
    assert not Customer.objects.filter(name="北京工行").exists()

    created = services.customer_create(by=am, name="北京工行", confirm_not_duplicate=True)
    assert created.pk


def test_rename_is_checked_for_duplicates_but_other_edits_are_not(am):
    CustomerFactory(name="杭州娃哈哈集团有限公司")
    mine = CustomerFactory(name="杭州新星电子有限公司", account_manager=am)

    services.customer_update(customer=mine, by=am, employees=120)  # no rename: no check
    with pytest.raises(services.DuplicateWarning):
        services.customer_update(customer=mine, by=am, name="杭州娃哈哈集团有限公司")
    mine.refresh_from_db()
    assert mine.name == "杭州新星电子有限公司"


def test_account_manager_cannot_change_a_teammates_customer(am, teammate):
    theirs = CustomerFactory(account_manager=teammate)
    with pytest.raises(PermissionDenied):
        services.customer_update(customer=theirs, by=am, employees=5)


def test_account_manager_cannot_reassign_but_supervisor_can(am, teammate, supervisor):
    mine = CustomerFactory(account_manager=am)
    with pytest.raises(ValidationError):
        services.customer_update(customer=mine, by=am, account_manager=teammate)

    services.customer_update(customer=mine, by=supervisor, account_manager=teammate, reason="调岗")

    mine.refresh_from_db()
    assert mine.account_manager == teammate
    assert mine.assignments.get(ended_at=None).account_manager == teammate


def test_hierarchy_refuses_cycles_and_depth_beyond_four_levels(steward):
    a = CustomerFactory()
    b = CustomerFactory(parent=a)
    c = CustomerFactory(parent=b)
    d = CustomerFactory(parent=c)
    with pytest.raises(ValidationError) as exc:
        services.customer_update(customer=a, by=steward, parent=d, confirm_not_duplicate=True)
    assert "parent" in exc.value.message_dict
    e = CustomerFactory()
    with pytest.raises(ValidationError) as exc:
        services.customer_update(customer=e, by=steward, parent=d, confirm_not_duplicate=True)
    assert "parent" in exc.value.message_dict


def test_history_shows_who_changed_what_from_old_to_new(am):
    customer = services.customer_create(by=am, name="湖州绿源环保有限公司", employees=50)
    services.customer_update(customer=customer, by=am, employees=80, reason="年报更新")
    contact = services.contact_create(customer=customer, by=am, name="王建国", mobile="13800001111")
    services.contact_update(contact=contact, by=am, title="总经理")

    entries = change_history(customer)

    employee_change = next(e for e in entries if any(c[1:] == (50, 80) for c in e.changes))
    assert employee_change.who == am and employee_change.reason == "年报更新"
    assert any(c[1:] == ("", "总经理") for e in entries for c in e.changes)


# --- contacts and visits ----------------------------------------------------------------------------


def test_contact_with_bad_mobile_is_refused(am):
    customer = CustomerFactory(account_manager=am)
    with pytest.raises(ValidationError) as exc:
        services.contact_create(customer=customer, by=am, name="李四", mobile="12345")
    assert "mobile" in exc.value.message_dict
    assert not Contact.objects.filter(customer=customer).exists()


def test_contact_phones_are_stored_as_digits_for_caller_lookup(am):
    customer = CustomerFactory(account_manager=am)
    contact = services.contact_create(
        customer=customer, by=am, name="李四", mobile="+86 138-0000-2222", office_phone="(0571) 8888-1234"
    )
    assert (contact.mobile_digits, contact.office_phone_digits) == ("13800002222", "057188881234")


def test_visit_in_the_future_or_with_foreign_contacts_is_refused(am):
    customer, other = CustomerFactory(account_manager=am), CustomerFactory(account_manager=am)
    stranger = ContactFactory(customer=other)
    with pytest.raises(ValidationError) as exc:
        services.visit_create(
            customer=customer,
            by=am,
            visited_on=datetime.date.today() + datetime.timedelta(days=3),
            purpose="拜访",
            contacts=[stranger],
        )
    assert set(exc.value.message_dict) == {"visited_on", "contacts"}
    assert not Visit.objects.exists()


# --- merge -------------------------------------------------------------------------------------------


def test_merge_moves_everything_and_keeps_the_duplicate_as_a_pointer(steward, am):
    survivor = CustomerFactory(name="中国工商银行股份有限公司北京市分行", account_manager=am)
    duplicate = CustomerFactory(name="北京工商银行", short_name="北京工行", phone="010-66106114", email="bj@icbc.test")
    ContactFactory.create_batch(2, customer=duplicate)
    VisitFactory(customer=duplicate)
    child = CustomerFactory(parent=duplicate, name="中国工商银行股份有限公司北京西城支行")
    SpendFactory(customer=duplicate, month=datetime.date(2026, 9, 1), amount=Decimal("100"))
    SpendFactory(customer=duplicate, month=datetime.date(2026, 10, 1), amount=Decimal("40"))
    SpendFactory(customer=survivor, month=datetime.date(2026, 10, 1), amount=Decimal("60"))
    MemberFactory(customer=duplicate, msisdn="13900000001")
    services.customer_update(customer=duplicate, by=steward, employees=300)

    record = services.customer_merge(survivor=survivor, duplicate=duplicate, by=steward, reason="重复录入")

    duplicate.refresh_from_db()
    survivor.refresh_from_db()
    assert duplicate.status == Customer.Status.MERGED and duplicate.merged_into == survivor
    assert Contact.objects.filter(customer=survivor).count() == 2
    assert Visit.objects.filter(customer=survivor).count() == 1
    assert Customer.objects.get(pk=child.pk).parent == survivor
    assert GroupMember.objects.get(msisdn="13900000001").customer == survivor
    assert survivor.members_count == 1
    spend = dict(SpendRecord.objects.filter(customer=survivor).values_list("month", "amount"))
    assert spend == {datetime.date(2026, 9, 1): Decimal("100"), datetime.date(2026, 10, 1): Decimal("100")}
    assert set(survivor.aliases.values_list("name", flat=True)) == {"北京工商银行", "北京工行"}
    assert survivor.phone == "010-66106114" and survivor.employees == 300  # gaps filled from the duplicate
    assert Customer.objects.filter(pk=duplicate.pk).exists()  # nothing hard-deleted
    assert record.moved["customers.contact.customer"] == 2
    assert any(e.subject.endswith("北京工商银行") for e in change_history(survivor))  # its history came along


def test_merge_moves_rows_of_any_model_that_points_at_a_customer(steward):
    """Later apps attach their own rows to customers; the merge finds every foreign key."""
    survivor, duplicate = CustomerFactory(), CustomerFactory()
    rival = CustomerFactory()
    from customers.models import CustomerRelation

    CustomerRelation.objects.create(from_customer=duplicate, to_customer=rival, kind="supplier")
    CustomerRelation.objects.create(from_customer=duplicate, to_customer=survivor, kind="partner")

    services.customer_merge(survivor=survivor, duplicate=duplicate, by=steward)

    assert CustomerRelation.objects.get(to_customer=rival).from_customer == survivor
    # the relation between the two would point at the survivor twice: it stays with the merged record
    assert CustomerRelation.objects.get(kind="partner").from_customer == duplicate


def test_only_data_stewards_merge_and_never_twice(am, steward):
    survivor, duplicate = CustomerFactory(account_manager=am), CustomerFactory(account_manager=am)
    with pytest.raises(PermissionDenied):
        services.customer_merge(survivor=survivor, duplicate=duplicate, by=am)
    services.customer_merge(survivor=survivor, duplicate=duplicate, by=steward)
    with pytest.raises(ValidationError):
        services.customer_merge(survivor=survivor, duplicate=duplicate, by=steward)
    assert MergeRecord.objects.count() == 1


def test_merged_alias_is_found_as_a_duplicate_later(steward, am):
    survivor = CustomerFactory(name="中国建设银行股份有限公司杭州分行")
    duplicate = CustomerFactory(name="杭州建行城站营业部")
    services.customer_merge(survivor=survivor, duplicate=duplicate, by=steward)
    assert CustomerAlias.objects.filter(customer=survivor, name="杭州建行城站营业部").exists()
    with pytest.raises(services.DuplicateWarning) as exc:
        services.customer_create(by=am, name="杭州建行城站营业部")
    assert exc.value.candidates[0].customer == survivor


def test_feed_rows_for_a_merged_customer_land_on_the_survivor(steward):
    survivor, duplicate = CustomerFactory(), CustomerFactory()
    services.customer_merge(survivor=survivor, duplicate=duplicate, by=steward)
    services.spend_upsert(rows=[services.SpendRow(duplicate.pk, datetime.date(2026, 10, 1), "voice", Decimal("5"))])
    assert SpendRecord.objects.get().customer == survivor


# --- handover ----------------------------------------------------------------------------------------


def test_supervisor_hands_over_a_whole_portfolio_in_one_transaction(supervisor, am, teammate):
    customers = CustomerFactory.create_batch(3, account_manager=am)
    for c in customers:
        AccountManagerAssignment.objects.create(customer=c, account_manager=am, started_at="2025-01-01T00:00:00Z")

    moved = services.customer_handover(from_user=am, to_user=teammate, by=supervisor, reason="离职交接")

    assert moved == 3
    assert set(Customer.objects.filter(account_manager=teammate)) == set(customers)
    for c in customers:
        served = list(c.assignments.order_by("started_at").values_list("account_manager__username", "ended_at"))
        assert served[0][0] == "am" and served[0][1] is not None
        assert served[1] == ("mate", None)
        assert c.history.first().history_change_reason == "离职交接"


def test_handover_of_chosen_customers_only(supervisor, am, teammate):
    keep, give = CustomerFactory(account_manager=am), CustomerFactory(account_manager=am)
    services.customer_handover(from_user=am, to_user=teammate, by=supervisor, reason="调整", customer_ids=[give.pk])
    assert Customer.objects.get(pk=keep.pk).account_manager == am
    assert Customer.objects.get(pk=give.pk).account_manager == teammate


def test_handover_refused_for_other_teams_supervisor_and_without_reason(supervisor, am, teammate, outsider):
    CustomerFactory(account_manager=outsider)
    with pytest.raises(PermissionDenied):
        services.customer_handover(from_user=outsider, to_user=am, by=supervisor, reason="x")
    with pytest.raises(ValidationError):
        services.customer_handover(from_user=am, to_user=teammate, by=supervisor, reason=" ")


def test_handover_with_a_foreign_customer_id_moves_nothing(supervisor, am, teammate, outsider):
    mine = CustomerFactory(account_manager=am)
    foreign = CustomerFactory(account_manager=outsider)
    with pytest.raises(ValidationError):
        services.customer_handover(
            from_user=am, to_user=teammate, by=supervisor, reason="x", customer_ids=[mine.pk, foreign.pk]
        )
    assert Customer.objects.get(pk=mine.pk).account_manager == am


# --- feeds -------------------------------------------------------------------------------------------


def test_spend_upsert_replaces_not_duplicates(am):
    customer = CustomerFactory()
    row = services.SpendRow(customer.pk, datetime.date(2026, 10, 1), "data", Decimal("10"))
    services.spend_upsert(rows=[row])
    services.spend_upsert(rows=[services.SpendRow(customer.pk, row.month, "data", Decimal("12.5"))])
    assert list(SpendRecord.objects.values_list("amount", flat=True)) == [Decimal("12.5")]


def test_member_upsert_refreshes_members_count_and_unknown_customer_writes_nothing():
    customer = CustomerFactory()
    services.members_upsert(
        rows=[
            services.MemberRow(customer.pk, "13900001111", "active", datetime.date(2025, 1, 1), None),
            services.MemberRow(
                customer.pk, "13900002222", "ported_out", datetime.date(2025, 1, 1), datetime.date(2026, 5, 1)
            ),
        ]
    )
    assert Customer.objects.get(pk=customer.pk).members_count == 1
    with pytest.raises(ValidationError):
        services.members_upsert(
            rows=[
                services.MemberRow(customer.pk, "13900003333", "active", datetime.date(2025, 1, 1), None),
                services.MemberRow(999999, "13900004444", "active", datetime.date(2025, 1, 1), None),
            ]
        )
    assert not GroupMember.objects.filter(msisdn="13900003333").exists()


def test_caller_lookup_recognises_a_group_members_mobile(agent):
    from customers.selectors import caller_lookup

    customer = CustomerFactory()
    MemberFactory(customer=customer, msisdn="13912345678")
    matches = caller_lookup(user=agent, phone="+86 139 1234 5678")
    assert [(m.customer, m.is_member) for m in matches] == [(customer, True)]


def test_agents_do_not_see_spend(agent, steward):
    from customers.policy import may_see_spend

    assert not may_see_spend(agent) and may_see_spend(steward)


def test_only_admins_and_the_integration_login_post_feeds(admin_user, am):
    from channels.models import Role
    from tests.channels.factories import UserFactory

    feed = UserFactory(username="billing", role=Role.INTEGRATION)
    assert feed.may_post_feeds and admin_user.may_post_feeds and not am.may_post_feeds


def test_a_new_abbreviation_reaches_the_stored_keys_of_existing_customers():
    from customers import naming
    from customers.models import NameAbbreviation

    customer = CustomerFactory(name="浙农信杭州分行")
    NameAbbreviation.objects.create(abbreviation="浙农信", full_name="浙江省农村信用社联合社")
    naming.clear_cache()

    changed = services.name_keys_refresh()

    customer.refresh_from_db()
    assert changed >= 1
    assert customer.name_core == naming.name_key("浙农信杭州分行").core
    assert services.name_keys_refresh() == 0  # idempotent


def test_saving_an_abbreviation_in_admin_enqueues_the_refresh_after_commit(
    client, admin_user, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    client.force_login(admin_user)
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(
            reverse("admin:customers_nameabbreviation_add"), {"abbreviation": "浙农信", "full_name": "浙江农信"}
        )
    assert len(callbacks) == 1


def test_supervisor_sees_unserved_customers_of_the_teams_industry_to_assign_them(supervisor, team, outsider):
    from customers.models import Industry

    team.industry = Industry.objects.get(code="J")
    team.save()
    orphan_bank = CustomerFactory(industry_id="J", account_manager=None)
    orphan_factory = CustomerFactory(industry_id="C", account_manager=None)
    served_bank = CustomerFactory(industry_id="J", account_manager=outsider)

    visible = set(Customer.objects.visible_to(supervisor).values_list("pk", flat=True))

    assert orphan_bank.pk in visible
    assert orphan_factory.pk not in visible and served_bank.pk not in visible


def test_a_tier_edited_by_hand_is_recorded_as_a_manual_tier_move(supervisor, am):
    from customers.models import TierChange

    customer = CustomerFactory(account_manager=am, tier="C")
    services.customer_update(customer=customer, by=supervisor, tier="B2", reason="新签专线")

    change = TierChange.objects.get(customer=customer)
    assert (change.from_tier, change.to_tier, change.source, change.is_upgrade) == ("C", "B2", "manual", True)
    assert "新签专线" in Customer.objects.get(pk=customer.pk).tier_reason


def test_an_edit_does_not_write_back_stale_computed_fields(am):
    customer = CustomerFactory(account_manager=am)
    stale = Customer.objects.get(pk=customer.pk)
    Customer.objects.filter(pk=customer.pk).update(value_score=77)  # an evaluation ran meanwhile

    services.customer_update(customer=stale, by=am, employees=12)

    assert Customer.objects.values_list("value_score", "employees").get(pk=customer.pk) == (77, 12)


def test_cached_charts_follow_a_new_billing_feed(django_capture_on_commit_callbacks):
    from customers.selectors import customer_charts

    customer = CustomerFactory()
    this_month = datetime.date.today().replace(day=1)
    assert customer_charts(customer)["spend"]["total"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        services.spend_upsert(rows=[services.SpendRow(customer.pk, this_month, "voice", Decimal("250"))])
    assert customer_charts(customer)["spend"]["total"] == 250


def test_history_names_related_records_and_links_customers_the_reader_may_open(am, teammate, supervisor):
    from customers.selectors import Ref

    group = CustomerFactory(name="温州瓯江控股集团有限公司", account_manager=am)
    customer = services.customer_create(by=am, name="宁波北仑冷链运输有限公司")
    services.customer_update(customer=customer, by=am, parent=group)
    services.customer_handover(from_user=am, to_user=teammate, by=supervisor, reason="调岗", customer_ids=[customer.pk])

    changes = {label: (old, new) for e in change_history(customer, user=am) for label, old, new in e.changes}

    assert changes["parent"] == (None, Ref(group.name, group.get_absolute_url()))
    assert changes["account manager"] == (Ref(str(am)), Ref(str(teammate)))
    outsider_view = {label: new for e in change_history(customer) for label, _old, new in e.changes}
    assert outsider_view["parent"] == Ref(group.name)  # named, but no link without a reader who may open it
