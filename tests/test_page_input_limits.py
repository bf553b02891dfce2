"""Ids in query strings and forms of the pages: "¹" (which `str.isdigit()` accepts and `int()` refuses) and
numbers beyond the database's integers are ignored like any other unknown value, never a 500."""

import pytest

from customers.services import customer_field_errors
from opportunities import services
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

SUPERSCRIPT_ONE = "%C2%B9"
HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    "url",
    [
        f"/customers/?team={SUPERSCRIPT_ONE}",
        f"/customers/?team={HUGE}&account_manager={SUPERSCRIPT_ONE}",
        f"/customers/duplicate-check/?name=北京工商银行&exclude={SUPERSCRIPT_ONE}",
        f"/customers/merge/?survivor={SUPERSCRIPT_ONE}&duplicate={HUGE}",
        f"/customers/handover/?from_user={SUPERSCRIPT_ONE}",
        f"/customers/handover/?from_user={HUGE}",
        f"/opportunities/new/?customer={SUPERSCRIPT_ONE}",
        f"/opportunities/pipeline/?open=1&in_team={SUPERSCRIPT_ONE}",
        f"/opportunities/pipeline/?open=1&in_team={HUGE}&reason={HUGE}",
        f"/opportunities/pipeline/?open=1&reason={SUPERSCRIPT_ONE}",
        f"/opportunities/rules/test/?opportunity={SUPERSCRIPT_ONE}",
    ],
)
def test_a_malformed_or_huge_id_in_a_page_query_is_ignored(client, admin_user, url):
    client.force_login(admin_user)

    assert client.get(url).status_code == 200


def test_the_import_confirmation_ignores_malformed_line_numbers(client, admin_user):
    client.force_login(admin_user)

    response = client.post("/customers/import/", {"confirm": ["¹", HUGE]})

    assert response.status_code in (200, 302)


def test_a_postal_code_of_other_digits_is_refused(am):
    customer = CustomerFactory(account_manager=am)

    errors = customer_field_errors(by=am, customer=customer, name=customer.name, postal_code="¹²³⁴⁵⁶")

    assert errors["postal_code"] == ["A postal code has 6 digits."]


def test_an_activity_time_with_no_utc_equivalent_is_a_field_error_on_the_page(client, am, agent):
    customer = CustomerFactory(account_manager=am)
    opp = services.opportunity_capture(by=agent, kind="lead", title="专线", customer=customer)
    services.opportunity_route(opp.pk)
    services.opportunity_claim(pk=opp.pk, by=am)
    client.force_login(am)

    data = {"kind": "call", "notes": "电话", "at": "0001-01-01T00:00"}

    response = client.post(f"/opportunities/{opp.pk}/activity/", data)

    assert response.status_code == 400  # the detail page with the form's errors
    assert "Enter a date and time between the years 1 and 9999." in response.context["activity_form"].errors["at"]
