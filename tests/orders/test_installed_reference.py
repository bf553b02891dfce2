"""Provisioning reference data loaded by the migrations: workstations, step templates per product, the working
calendar of 2026 (official) and 2027 (fixed-date holidays only), and what each product's resource check needs."""

import datetime as dt

import pytest

from channels import calendar
from channels.models import CalendarDay, Workstation
from orders.models import StepTemplate

pytestmark = pytest.mark.django_db


def test_workstations_with_it_support():
    codes = list(Workstation.objects.values_list("code", flat=True))
    assert codes[:7] == ["resource_check", "survey", "design", "construction", "data_build", "test", "acceptance"]
    assert list(Workstation.objects.filter(is_it_support=True).values_list("name", flat=True)) == ["IT支撑"]


def test_a_leased_line_has_the_seven_steps_with_hours_as_data():
    steps = list(StepTemplate.objects.filter(product__code="INET").select_related("workstation"))
    assert [(s.sequence, s.workstation.code, s.duration_hours) for s in steps] == [
        (1, "resource_check", 8), (2, "survey", 16), (3, "design", 16), (4, "construction", 120),
        (5, "data_build", 8), (6, "test", 8), (7, "acceptance", 8),
    ]  # fmt: skip
    assert (steps[0].action, steps[-1].action) == ("resource_check", "acceptance")
    assert [s.workstation.code for s in steps if s.only_with_construction] == ["construction"]


def test_platform_review_products_have_one_to_three_review_steps_and_boss_direct_none():
    counts = {
        code: StepTemplate.objects.filter(product__code=code).count() for code in ("N400", "GMMS", "APN", "EDU", "VPMN")
    }
    assert counts == {"N400": 2, "GMMS": 1, "APN": 3, "EDU": 1, "VPMN": 0}
    first = StepTemplate.objects.filter(product__code="N400").first()
    assert (first.workstation.code, first.action) == ("platform_review", "resource_check")
    hours = StepTemplate.objects.filter(workstation__code="platform_review").values_list("duration_hours", flat=True)
    assert all(8 <= h <= 24 for h in hours)


def test_calendar_2026_holidays_and_worked_weekends_2027_fixed_dates():
    assert CalendarDay.objects.get(date="2026-02-14").is_working_day  # Saturday worked before the Spring Festival
    assert not CalendarDay.objects.get(date="2026-10-05").is_working_day
    assert not CalendarDay.objects.get(date="2027-01-01").is_working_day
    assert CalendarDay.objects.filter(date__year=2026, is_working_day=True).count() == 6
    # 30 Sep 2026 (Wed) + 1 working day skips the national holiday to Thu 8 Oct
    assert calendar.add_working_days(dt.date(2026, 9, 30), 1) == dt.date(2026, 10, 8)
    assert calendar.is_working_day(dt.date(2026, 10, 10))  # a Saturday worked


def test_admin_pages_of_the_installed_base_and_reference_data(client, admin_user):
    from django.urls import reverse

    from orders.models import Product
    from tests.orders.factories import ResourceFactory, SubscriptionFactory

    ResourceFactory(identifier="HZ-ADMIN-1")
    ResourceFactory(identifier="NB-ADMIN-2", region_code="330200")
    SubscriptionFactory(service_id="SV-ADMIN-1")
    client.force_login(admin_user)
    html = client.get(reverse("admin:orders_resource_changelist"), {"q": "HZ-ADMIN"}).content.decode()
    assert "HZ-ADMIN-1" in html and "NB-ADMIN-2" not in html
    inet = Product.objects.get(code="INET")
    html = client.get(reverse("admin:orders_product_change", args=[inet.pk])).content.decode()
    assert "工程施工" in html and "Circuit id" in html
    assert "SV-ADMIN-1" in client.get(reverse("admin:orders_subscription_changelist")).content.decode()
    assert "IT支撑" in client.get(reverse("admin:channels_workstation_changelist")).content.decode()
    assert "春节" in client.get(reverse("admin:channels_calendarday_changelist")).content.decode()


def test_demo_pool_of_free_resources_per_region_is_idempotent():
    from orders.demo_installed import seed_resource_pool
    from orders.models import Resource

    created = seed_resource_pool(["330100", "330200"], scale=0.1)
    assert created == 2 * (4 + 2 + 1 + 1)
    assert seed_resource_pool(["330100", "330200"], scale=0.1) == 0
    assert Resource.objects.filter(region_code="330200", kind="ip_block", status="free").count() == 2
