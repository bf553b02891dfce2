"""Ids in query strings and forms of the pages: "¹" (which `str.isdigit()` accepts and `int()` refuses) and
numbers beyond the database's integers are ignored like any other unknown value, never a 500."""

import pytest

from customers.services import customer_field_errors
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
