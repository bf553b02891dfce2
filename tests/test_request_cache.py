"""The per-request memo: computed once per request, never outside one, forgotten after writes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.models import Customer
from kam import request_cache
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_portfolio_is_read_once_per_request_on_the_360_page(client, am):
    customer = CustomerFactory(account_manager=am)
    client.force_login(am)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("customers:detail", args=[customer.pk])).status_code == 200
    portfolio_reads = [
        q
        for q in queries
        if 'AS "pk" FROM "customers_customer" WHERE "customers_customer"."account_manager_id"' in q["sql"]
    ]
    assert len(portfolio_reads) == 1


def test_without_a_request_nothing_is_cached(am, teammate, supervisor):
    from customers import services

    mine = CustomerFactory(account_manager=am)
    assert Customer.objects.visible_to(teammate).filter(pk=mine.pk).count() == 0
    services.customer_handover(from_user=am, to_user=teammate, by=supervisor, reason="调岗")
    assert Customer.objects.visible_to(teammate).filter(pk=mine.pk).count() == 1


def test_memo_inside_a_scope_is_cleared_by_clear():
    token = request_cache._scope.set({})
    try:
        calls = []
        assert request_cache.memo("k", lambda: calls.append(1) or 1) == 1
        assert request_cache.memo("k", lambda: calls.append(1) or 1) == 1
        request_cache.clear()
        request_cache.memo("k", lambda: calls.append(1) or 1)
        assert len(calls) == 2
    finally:
        request_cache._scope.reset(token)
