"""manage.py seed_orders: the orders half of the demo province (orders.demo)."""

import io
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from channels.models import Role, User
from customers.models import Customer
from orders.models import Agreement, Order, Resource, Subscription, WorkStep


def run(command: str, **options) -> str:
    out = io.StringIO()
    call_command(command, stdout=out, **options)
    return out.getvalue()


@pytest.mark.django_db
def test_without_the_demo_province_it_refuses():
    with pytest.raises(CommandError, match="seed_demo"):
        run("seed_orders")


@pytest.fixture(scope="module")
def seeded_once(django_db_setup, django_db_blocker):
    """One small province with its orders for the whole module, rolled back at the end."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            run("seed_demo", customers=300, seed=7, contacts_per_customer=1, members_per_customer=0, months=3)
            yield run("seed_orders", seed=7, open_share=0.1)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def seeded(seeded_once, db):
    return seeded_once


def test_orders_in_every_state_and_work_orders_overdue_or_blocked(seeded):
    states = Counter(Order.objects.values_list("status", flat=True))
    assert set(states) == set(Order.Status.values), states
    now = timezone.now()
    open_steps = WorkStep.objects.filter(status__in=["ready", "in_progress", "blocked"])
    assert open_steps.filter(status="blocked").exclude(block_reason="").exists()
    assert open_steps.filter(due_at__lt=now).exists() and open_steps.filter(due_at__gt=now).exists()
    done = WorkStep.objects.filter(status="done")
    assert done.filter(on_time=True).exists() and done.filter(on_time=False).exists()
    assert not Order.objects.filter(number__isnull=True).exists()


def test_agreements_some_ending_soon_and_subscriptions_from_the_spend(seeded):
    today = timezone.localdate()
    effective = Agreement.objects.filter(status="effective")
    assert effective.filter(ends_on__lte=today + timedelta(days=90)).exists()
    assert effective.filter(ends_on__gt=today + timedelta(days=90)).exists()
    assert not effective.filter(number__isnull=True).exists()
    assert Agreement.objects.filter(status="in_approval").exists() and Agreement.objects.filter(version=2).exists()
    holders = set(Subscription.objects.values_list("customer_id", flat=True))
    billed = set(
        Customer.objects.filter(spend__isnull=False, status__in=["active", "at_risk"]).values_list("pk", flat=True)
    )
    assert holders and holders <= billed | set(Customer.objects.filter(status="churned").values_list("pk", flat=True))
    # every subscription of a circuit product holds its circuit
    in_use = Resource.objects.filter(status="in_use")
    assert in_use.exists() and not in_use.filter(subscription__isnull=True).exists()


def test_a_customer_that_left_has_its_resources_released(seeded):
    churned = Customer.objects.get(status="churned", is_demo=True)
    assert not Subscription.objects.filter(customer=churned).exclude(status="terminated").exists()
    assert Order.objects.filter(customer=churned, kind="terminate", status="completed").exists()
    assert not Resource.objects.filter(subscription__customer=churned).exists()
    assert Resource.objects.filter(status="free", released_at__isnull=False).exists()


def test_provisioning_logins_and_a_second_run_adds_nothing(seeded):
    assert User.objects.get(username="ws_he").role == Role.WORKSTATION_EXECUTOR
    assert User.objects.get(username="wsm_ma").managed_workstations.exists()
    assert "nothing to do" in run("seed_orders")
