"""Error pages: styled (the site's frame), translated, and what a role cannot open is neither linked nor bare;
the API keeps its JSON errors ({"detail": ...}) on /api/ paths, and its docs page sends to the login page."""

import pytest
from django.core.exceptions import SuspiciousOperation
from django.test import Client, RequestFactory
from django.urls import reverse

from kam import views
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def is_styled(response) -> bool:
    return 'class="topbar"' in response.content.decode() and "kam.css" in response.content.decode()


@pytest.mark.parametrize("name", ["opportunities:capture", "opportunities:board"])
def test_analyst_gets_the_styled_403_page(client, analyst, name):
    client.force_login(analyst)

    response = client.get(reverse(name))

    assert response.status_code == 403 and is_styled(response)
    assert "Not allowed" in response.content.decode()


def test_an_unknown_page_is_the_styled_404_and_an_unknown_api_path_is_json(client, am):
    client.force_login(am)

    page = client.get("/no-such-page/")
    api = client.get("/api/v1/no-such-endpoint/")

    assert page.status_code == 404 and is_styled(page) and "Not found" in page.content.decode()
    assert api.status_code == 404 and api.json()["detail"]


def test_a_bad_request_is_the_styled_400_and_json_on_the_api(client):
    page = client.get("/customers/", headers={"host": "evil.example"})  # DisallowedHost: a SuspiciousOperation
    api = views.bad_request(RequestFactory().get("/api/v1/customers/"), SuspiciousOperation())

    assert page.status_code == 400 and is_styled(page) and "Bad request" in page.content.decode()
    assert api.status_code == 400 and api["Content-Type"] == "application/json"


def test_the_500_page_needs_no_request_context_and_the_api_answers_json():
    request = RequestFactory().get("/customers/")  # no user, no session: what a failing request may lack

    page = views.server_error(request)
    api = views.server_error(RequestFactory().get("/api/v1/customers/"))

    assert page.status_code == 500 and "Something went wrong" in page.content.decode()
    assert 'class="topbar"' in page.content.decode()
    assert api.status_code == 500 and "detail" in api.content.decode()


def test_a_form_sent_without_its_csrf_token_gets_the_styled_page(am):
    client = Client(enforce_csrf_checks=True)
    client.force_login(am)

    response = client.post(reverse("customers:create"), {"name": "某某公司"})

    assert response.status_code == 403 and is_styled(response)
    assert "The form has expired" in response.content.decode()


def test_the_api_docs_send_a_signed_out_browser_to_the_login_page(client):
    response = client.get("/api/v1/docs/")

    assert response.status_code == 302
    assert response.url == reverse("login") + "?next=/api/v1/docs/"


def test_analyst_is_offered_no_capture_link_nor_menu_item(client, analyst, am):
    customer = CustomerFactory(account_manager=am)
    client.force_login(analyst)
    capture = reverse("opportunities:capture")

    responses = [client.get(url) for url in (customer.get_absolute_url(), reverse("opportunities:list"))]

    assert [r.status_code for r in responses] == [200, 200]
    assert all(capture not in r.content.decode() for r in responses)
    assert reverse("opportunities:passed_on") not in responses[0].content.decode()  # nor in the menu


@pytest.mark.chinese
def test_the_403_page_is_chinese(client, analyst):
    client.force_login(analyst)

    page = client.get(reverse("opportunities:capture")).content.decode()

    assert "无权访问" in page and "Not allowed" not in page
