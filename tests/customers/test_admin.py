"""Admin is an operations console: every model opens, searches, and obeys the visibility rules."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse

from customers.models import Customer
from tests.customers.factories import ContactFactory, CustomerFactory, SpendFactory, VisitFactory, credit_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(am, outsider):
    mine = CustomerFactory(name="杭州海康测试有限公司", account_manager=am)
    theirs = CustomerFactory(name="宁波舟山港测试有限公司", account_manager=outsider)
    ContactFactory(customer=mine)
    SpendFactory(customer=mine)
    VisitFactory(customer=mine, visited_by=am)
    return mine, theirs


def test_every_registered_model_has_a_working_changelist_search_and_change_page(client, admin_user, seeded):
    client.force_login(admin_user)
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert client.get(changelist).status_code == 200, changelist
        if model_admin.search_fields:
            assert client.get(changelist, {"q": "杭州"}).status_code == 200, changelist
        obj = model._default_manager.first()
        if obj is not None:
            change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
            assert client.get(change).status_code == 200, change


def test_customer_history_page_lists_changes(client, admin_user, seeded):
    mine, _ = seeded
    client.force_login(admin_user)
    response = client.get(reverse("admin:customers_customer_history", args=[mine.pk]))
    assert response.status_code == 200


def test_bad_credit_code_in_admin_is_a_form_error_and_saves_nothing(client, admin_user, seeded):
    mine, _ = seeded
    client.force_login(admin_user)
    url = reverse("admin:customers_customer_change", args=[mine.pk])
    response = client.post(
        url,
        {
            "name": mine.name,
            "credit_code": "91330100MA2CXY7Q1X",
            "status": "active",
            "members_count": 0,
            "contacts-TOTAL_FORMS": 0,
            "contacts-INITIAL_FORMS": 0,
            "aliases-TOTAL_FORMS": 0,
            "aliases-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert "credit_code" in response.context["adminform"].form.errors
    mine.refresh_from_db()
    assert mine.credit_code is None


def test_admin_edit_goes_through_services_and_leaves_history(client, admin_user, seeded):
    mine, _ = seeded
    client.force_login(admin_user)
    url = reverse("admin:customers_customer_change", args=[mine.pk])
    response = client.post(
        url,
        {
            "name": mine.name,
            "credit_code": credit_code(7),
            "status": "active",
            "tier": "B1",
            "members_count": 0,
            "contacts-TOTAL_FORMS": 0,
            "contacts-INITIAL_FORMS": 0,
            "aliases-TOTAL_FORMS": 0,
            "aliases-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302
    mine.refresh_from_db()
    assert (mine.credit_code, mine.tier) == (credit_code(7), "B1")
    assert mine.history.first().history_user == admin_user


def test_staff_account_manager_sees_only_own_customers_in_admin(client, am, seeded):
    mine, theirs = seeded
    am.is_staff = True
    am.save()
    am.user_permissions.add(*Permission.objects.filter(codename__in=["view_customer", "change_customer"]))
    client.force_login(am)

    listing = client.get(reverse("admin:customers_customer_changelist"))
    foreign = client.get(reverse("admin:customers_customer_change", args=[theirs.pk]))

    assert list(listing.context["cl"].result_list) == [mine]
    assert foreign.status_code == 302  # the admin redirects "does not exist" to the index, not a 403
    assert Customer.objects.filter(pk=theirs.pk).exists()


def test_nothing_can_be_deleted_from_admin(client, admin_user, seeded):
    mine, _ = seeded
    client.force_login(admin_user)
    response = client.get(reverse("admin:customers_customer_delete", args=[mine.pk]))
    assert response.status_code == 403


def test_every_admin_form_and_inline_refuses_control_characters(rf, admin_user):
    """The admin is a way in for text like the pages and the API: no form of it may store a bell character."""
    from kam.form_helpers import RefuseControlCharacters

    request = rf.get("/")
    request.user = admin_user
    for model, model_admin in admin.site._registry.items():
        assert issubclass(model_admin.get_form(request), RefuseControlCharacters), model
        for inline in model_admin.get_inline_instances(request):
            assert issubclass(inline.get_formset(request).form, RefuseControlCharacters), (model, inline)


def test_control_character_in_an_admin_form_is_a_field_error(client, admin_user):
    from customers.models import Industry

    client.force_login(admin_user)
    response = client.post(
        reverse("admin:customers_industry_add"), {"code": "X1", "name": "银\x07行", "name_en": "Bank"}
    )

    assert response.status_code == 200 and response.context["adminform"].form.has_error("name")
    assert not Industry.objects.filter(code="X1").exists()
