"""Two people completing one step at once (PostgreSQL, real threads): exactly one wins, the others get a
conflict, the next step is queued once and one completion event is written."""

import threading

import pytest
from django.db import connection

from channels.models import Role
from orders.models import StepEvent, WorkStep
from orders.services import provisioning
from tests.channels.factories import UserFactory
from tests.customers.factories import CustomerFactory
from tests.orders.factories import ProductFactory, StepTemplateFactory
from tests.orders.test_provisioning import MONDAY, World, desk, steps_of, submitted_order

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS, RIVALS = 5, 6


@pytest.fixture
def race_world(reference_rows):
    am = UserFactory(role=Role.ACCOUNT_MANAGER)
    survey, build = desk("t-race-survey"), desk("t-race-build")
    product = ProductFactory(provisioning_type="work_order")
    StepTemplateFactory(product=product, sequence=1, name="现场勘察", workstation=survey.workstation)
    StepTemplateFactory(product=product, sequence=2, name="数据制作", workstation=build.workstation)
    return World(survey, build, build, product, CustomerFactory(account_manager=am))


def test_concurrent_completions_of_one_step_leave_exactly_one_winner(race_world):
    dispatchers = [UserFactory(role=Role.DISPATCHER) for _ in range(RIVALS - 1)]
    for round_no in range(ROUNDS):
        order = submitted_order(race_world)
        provisioning.start_order(order, now=MONDAY)
        first, second = steps_of(order.lines.get().work_order)
        provisioning.step_claim(first, by=race_world.survey.executor, revision=0)
        rivals = [race_world.survey.executor, *dispatchers]  # the holder and the operations center
        barrier = threading.Barrier(RIVALS)
        outcomes = [""] * RIVALS

        def complete(i: int, step=first, barrier=barrier, outcomes=outcomes, rivals=rivals) -> None:
            try:
                barrier.wait(timeout=30)
                provisioning.step_complete(step, by=rivals[i], revision=1)
                outcomes[i] = "won"
            except provisioning.StepConflict:
                outcomes[i] = "conflict"
            except Exception as exc:  # noqa: BLE001 - anything else is a failure, reported below
                outcomes[i] = repr(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=complete, args=(i,)) for i in range(RIVALS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(outcomes) == ["conflict"] * (RIVALS - 1) + ["won"], f"round {round_no}: {outcomes}"
        winner = rivals[outcomes.index("won")]
        first.refresh_from_db()
        second.refresh_from_db()
        assert (first.status, first.completed_by_id, first.revision) == (WorkStep.Status.DONE, winner.pk, 2)
        assert (second.status, second.revision) == (WorkStep.Status.READY, 1)
        assert StepEvent.objects.filter(step=first, action=StepEvent.Action.COMPLETE).count() == 1
        assert StepEvent.objects.filter(step=second, action=StepEvent.Action.READY).count() == 1
