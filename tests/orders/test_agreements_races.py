"""Races on agreements settled in the database (PostgreSQL, real threads): concurrent changes by two named
editors both become versions, numbered one after the other; concurrent approvals leave one approver."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from orders.models import Agreement
from orders.services import agreements as svc
from tests.customers.factories import CustomerFactory
from tests.orders.factories import ProductFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 6


def run_together(target, n: int) -> list[str]:
    barrier = threading.Barrier(n)
    outcomes = [""] * n

    def work(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            target(i)
            outcomes[i] = "ok"
        except svc.InvalidTransition:
            outcomes[i] = "conflict"
        except Exception as exc:  # noqa: BLE001 - anything else is a failure, reported by the caller
            outcomes[i] = repr(exc)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.fixture
def agreement(reference_rows, am, supervisor):
    product = ProductFactory(list_price_min=Decimal("10"), list_price_max=Decimal("500"))
    customer = CustomerFactory(account_manager=am)
    items = [{"product": product, "unit_price": Decimal("100"), "discount": Decimal("0")}]
    agreement = svc.agreement_create(customer, by=am, title="并发协议", discount_cap=Decimal("10"), items=items,
                                     editors=[am, supervisor])  # fmt: skip
    svc.agreement_submit(agreement, by=am)
    return agreement


def test_concurrent_approvals_leave_one_approver(agreement, supervisor, admin_user):
    approvers = [supervisor, admin_user] * (THREADS // 2)

    outcomes = run_together(lambda i: svc.agreement_approve(agreement, by=approvers[i]), THREADS)

    assert sorted(outcomes) == ["conflict"] * (THREADS - 1) + ["ok"], outcomes


def test_concurrent_changes_by_editors_become_consecutive_versions(agreement, am, supervisor):
    svc.agreement_approve(agreement, by=supervisor)
    svc.agreement_sign(agreement, by=am)
    svc.agreement_activate(agreement, by=am)
    editors = [am, supervisor] * (THREADS // 2)

    outcomes = run_together(
        lambda i: svc.agreement_update(agreement, by=editors[i], reason=f"第{i}次", title=f"并发协议 {i}"), THREADS
    )

    assert outcomes == ["ok"] * THREADS
    agreement = Agreement.objects.get(pk=agreement.pk)
    assert agreement.version == THREADS + 1
    assert sorted(agreement.versions.values_list("version", flat=True)) == list(range(1, THREADS + 2))
    assert agreement.versions.get(version=THREADS + 1).snapshot["title"] == agreement.title
