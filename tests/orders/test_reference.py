"""The group product catalogue (DOMAIN.md §2.3) is in every database once the migrations have run."""

from decimal import Decimal

import pytest
from django.apps import apps

from orders import reference
from orders.models import Product

pytestmark = pytest.mark.django_db

LEGACY_CODES = {"DDN", "FR", "ATM", "DC", "CHINANET"}


def test_migration_loads_the_whole_catalogue_with_legacy_entries_apart():
    offered = set(Product.objects.offered().values_list("code", flat=True))
    legacy = set(Product.objects.filter(legacy=True).values_list("code", flat=True))

    assert len(offered) >= 24
    assert {"VPMN", "INET", "DATA", "EDU", "FLEET", "SEC"} <= offered
    assert legacy == LEGACY_CODES


def test_dedicated_internet_access_is_a_contracted_work_order_line():
    inet = Product.objects.get(code="INET")

    assert (inet.name, inet.name_en, inet.category) == ("互联网专线", "Dedicated internet access", "专线")
    assert inet.provisioning_type == Product.Provisioning.WORK_ORDER
    assert (inet.list_price_min, inet.list_price_max) == (Decimal("3000"), Decimal("8000"))
    assert inet.sla_class_default == "A"
    assert inet.needs_contract and inet.min_contract_months == 12
    assert not inet.is_member_level and not inet.legacy and inet.is_active


def test_member_level_products_open_in_boss_and_keep_sub_unit_prices():
    vpmn, gmms = Product.objects.get(code="VPMN"), Product.objects.get(code="GMMS")

    assert vpmn.is_member_level and vpmn.provisioning_type == Product.Provisioning.BOSS_DIRECT
    assert (vpmn.list_price_min, vpmn.list_price_max) == (Decimal("0"), Decimal("200"))
    assert (gmms.list_price_min, gmms.list_price_max) == (Decimal("0.10"), Decimal("0.30"))


def test_legacy_products_are_work_orders_except_dial_up():
    provisioning = dict(Product.objects.filter(legacy=True).values_list("code", "provisioning_type"))

    assert provisioning.pop("CHINANET") == Product.Provisioning.BOSS_DIRECT
    assert set(provisioning.values()) == {Product.Provisioning.WORK_ORDER}


def test_every_loaded_product_is_valid_and_in_catalogue_order():
    products = list(Product.objects.all())
    for product in products:
        product.full_clean()  # choices, lengths and the price-range constraint

    assert [p.code for p in products][:3] == ["VPMN", "GCRBT", "SWBD"]
    assert len({p.sort_order for p in products}) == len(products)
    assert {p.category for p in products} <= set(reference.CATEGORY_NAMES_EN)


def test_loading_again_updates_by_code_without_duplicates():
    Product.objects.filter(code="INET").update(list_price_max=Decimal("9999"))
    count = Product.objects.count()

    reference.load(apps, None)

    assert Product.objects.count() == count
    assert Product.objects.get(code="INET").list_price_max == Decimal("8000")
