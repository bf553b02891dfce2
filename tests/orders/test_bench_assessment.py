"""The assessment's figures follow visibility also after bench_orders' query change (who sees everything gets
the month unfiltered, everyone else only the rows visible to them)."""

from django.utils import timezone

from orders.selectors import provisioning as selectors
from tests.customers.factories import CustomerFactory
from tests.orders.factories import ProvisioningOrderFactory


def manager_totals(user) -> dict[int, int]:
    month = timezone.localdate().replace(day=1)
    return {row["customer__account_manager"]: row["total"] for row in selectors.assessment(user, month).managers}


def test_the_assessment_counts_what_each_user_may_see(am, outsider, dispatcher):
    now = timezone.now()
    for manager, orders in ((am, 2), (outsider, 1)):
        customer = CustomerFactory(account_manager=manager)
        ProvisioningOrderFactory.create_batch(orders, customer=customer, submitted_at=now)

    assert manager_totals(dispatcher) == {am.pk: 2, outsider.pk: 1}  # the whole province
    assert manager_totals(am) == {am.pk: 2}  # the outsider's customer's orders stay hidden
