"""Order entry under concurrency (PostgreSQL, real threads): the state changes are compare-and-set on a locked
row, so a double click or two people at once submit, approve or reject an order once."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from orders.models import Order, Product
from orders.services import ordering
from tests.customers.factories import CustomerFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8
INET_VALUES = {"bandwidth": 100, "a_end": "杭州市西湖区文三路 90 号", "ip_block": 29, "sla_class": "A",
               "install_phone": "13800001234"}  # fmt: skip


def race(calls) -> list[str]:
    """Run the calls at once (a barrier releases them together); each outcome is "won", "conflict" or an error."""
    barrier = threading.Barrier(len(calls))
    outcomes = [""] * len(calls)

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            calls[i]()
            outcomes[i] = "won"
        except ordering.Conflict:
            outcomes[i] = "conflict"
        except Exception as exc:  # noqa: BLE001 - anything else is a failure, shown by the assertion
            outcomes[i] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_concurrent_submits_and_an_approval_racing_a_rejection_change_the_order_once(
    reference_rows, am, supervisor, eager_celery
):
    customer = CustomerFactory(account_manager=am)
    line = {"product": Product.objects.get(code="INET"), "unit_price": Decimal("3000"), "values": INET_VALUES}
    order = ordering.order_create(customer, by=am, lines=[line])

    outcomes = race([lambda: ordering.order_submit(order, by=am)] * THREADS)
    assert sorted(outcomes) == ["conflict"] * (THREADS - 1) + ["won"], outcomes
    order.refresh_from_db()
    assert order.status == Order.Status.IN_APPROVAL  # no agreement for a product that needs a contract
    assert len(order.approval_reasons) == 1

    outcomes = race([lambda: ordering.order_approve(order, by=supervisor),
                     lambda: ordering.order_reject(order, by=supervisor, reason="折扣超出授权")])  # fmt: skip
    assert sorted(outcomes) == ["conflict", "won"], outcomes
    order.refresh_from_db()
    # approved: submitted, and the eager provisioning task may already have started it; rejected: back in draft
    approved = (Order.Status.SUBMITTED, Order.Status.IN_PROGRESS)
    assert order.status in (approved if outcomes[0] == "won" else (Order.Status.DRAFT,))
