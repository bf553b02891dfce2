"""The catalogue page: every signed-in role finds it, grouped by category, legacy products on request."""

import re

import pytest
from django.urls import reverse

from tests.orders.factories import ProductFactory

pytestmark = pytest.mark.django_db

URL = reverse("orders:product-list")


def page(client, user, **params):
    client.force_login(user)
    response = client.get(URL, params)
    assert response.status_code == 200
    return response.content.decode()


def codes_on(html: str) -> set[str]:
    return set(re.findall(r'<td class="mono">([A-Z0-9]+)</td>', html))


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get(URL)

    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_catalogue_is_grouped_by_category_with_price_provisioning_and_sla(client, am):
    html = page(client, am)

    assert "<h2>Leased lines</h2>" in html and "<h2>Voice</h2>" in html
    assert html.index("<h2>Voice · group network</h2>") < html.index("<h2>Leased lines</h2>")
    inet_row = re.search(r'<td class="mono">INET</td>.*?</tr>', html, re.S).group(0)
    assert "Dedicated internet access" in inet_row
    assert "3,000–8,000" in inet_row
    assert "Work order (long flow)" in inet_row
    assert "<td>A</td>" in inet_row
    assert "12 months minimum" in inet_row


def test_legacy_products_are_hidden_unless_asked_for(client, am):
    default = codes_on(page(client, am))
    with_legacy = codes_on(page(client, am, legacy="on"))

    assert "INET" in default and not {"DDN", "FR", "ATM", "DC", "CHINANET"} & default
    assert {"DDN", "FR", "ATM", "DC", "CHINANET"} <= with_legacy


def test_inactive_products_are_not_listed(client, am):
    ProductFactory(code="TGONE", is_active=False)

    assert "TGONE" not in codes_on(page(client, am, legacy="on"))


def test_category_filter_shows_only_that_category(client, am):
    html = page(client, am, category="专线")

    assert codes_on(html) == {"INET", "DATA", "MPLS"}
    assert "<h2>Voice</h2>" not in html


def test_unknown_category_is_a_form_error_not_a_crash(client, am):
    html = page(client, am, category="不存在")

    assert 'class="errors"' in html
    assert "INET" in codes_on(html)


def test_htmx_request_gets_only_the_table(client, am):
    client.force_login(am)

    html = client.get(URL, {"category": "专线"}, headers={"hx-request": "true"}).content.decode()

    assert html.lstrip().startswith('<div id="product-table"') and "<html" not in html
    assert codes_on(html) == {"INET", "DATA", "MPLS"}


@pytest.mark.chinese
def test_chinese_page_shows_the_chinese_names(client, am):
    html = page(client, am)

    assert "<h2>专线</h2>" in html and "互联网专线" in html


@pytest.mark.parametrize("persona", ["am", "supervisor", "agent", "dispatcher", "steward", "analyst", "admin_user"])
def test_every_role_has_the_catalogue_in_its_navigation(client, request, persona):
    client.force_login(request.getfixturevalue(persona))

    assert f'href="{URL}"' in client.get(reverse("home")).content.decode()


@pytest.mark.parametrize("extra", [3, 30])
def test_page_query_count_does_not_grow_with_products(client, am, extra, django_assert_max_num_queries):
    ProductFactory.create_batch(extra)
    client.force_login(am)

    # session, user, the layout's notification badge, categories, products
    with django_assert_max_num_queries(5):
        response = client.get(URL)

    assert len(codes_on(response.content.decode())) == 25 + extra
