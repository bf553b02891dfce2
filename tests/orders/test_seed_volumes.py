"""seed_orders at the benchmark's volumes (--subscriptions, --orders, --steps): the targets are reached and the
resource pool is sized per city and kind, every resource in use held by a subscription."""

import io

import pytest
from django.core.management import call_command
from django.db.models import Count

from orders.models import Order, Resource, Subscription, WorkOrder, WorkStep


def run(command: str, **options) -> str:
    out = io.StringIO()
    call_command(command, stdout=out, **options)
    return out.getvalue()


@pytest.mark.django_db
def test_volume_targets_are_reached():
    run("seed_demo", customers=120, seed=3, contacts_per_customer=1, members_per_customer=0, months=3)
    run("seed_orders", seed=3, subscriptions=900, orders=400, steps=600)

    assert Subscription.objects.count() >= 900
    completed = Order.objects.filter(status="completed", kind="new")
    assert completed.count() == 400
    # the newest completed orders keep their steps until about the target (every step of a work order kept)
    history_steps = WorkStep.objects.filter(work_order__status="completed").count()
    assert 600 <= history_steps < 600 + 20
    kept = WorkOrder.objects.filter(status="completed").values_list("order_line__order__completed_at", flat=True)
    without = completed.filter(lines__product__step_templates__isnull=False, lines__work_order__isnull=True)
    assert not without.filter(completed_at__gt=min(kept)).exists()  # the newest ones kept theirs
    in_use = Resource.objects.filter(status="in_use")
    assert in_use.exists() and not in_use.filter(subscription__isnull=True).exists()
    assert not Resource.objects.values("identifier").annotate(n=Count("pk")).filter(n__gt=1).exists()
