"""The catalogue in the admin: searchable in both languages, retired rather than deleted."""

import pytest
from django.urls import reverse

from orders.models import Product

pytestmark = pytest.mark.django_db


def test_admin_finds_a_product_by_english_name_and_shows_its_price_range(client, admin_user):
    client.force_login(admin_user)

    html = client.get(reverse("admin:orders_product_changelist"), {"q": "internet access"}).content.decode()

    assert "INET" in html and "3,000–8,000" in html and "DATA" not in html


def test_admin_cannot_delete_a_product(client, admin_user):
    inet = Product.objects.get(code="INET")
    client.force_login(admin_user)

    response = client.post(reverse("admin:orders_product_delete", args=[inet.pk]), {"post": "yes"})

    assert response.status_code == 403
    assert Product.objects.filter(pk=inet.pk).exists()
