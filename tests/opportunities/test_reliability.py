"""Reliability of routing and claiming with real processes (ECOSYSTEM.md §8 T1a, T2, T3): PostgreSQL,
a private redis-server and real `celery worker` processes that the tests kill.

The database, not the broker, records what is pending: a routing message lost with a dead worker or a
Redis restart without persistence is re-sent by the sweep, and routing a row twice places it once."""

import datetime
import os
import signal
import threading
import time

import pytest
from django.db import connection

from channels.models import Role
from opportunities import services
from opportunities.models import Kind, Opportunity, RoutingStatus, Transfer
from tests.channels.factories import PartnerFactory, UserFactory
from tests.customers.factories import CustomerFactory
from tests.opportunities.factories import OpportunityFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PLACED = (Transfer.Action.ROUTED, Transfer.Action.QUEUED)


def report(line: str) -> None:
    print(f"\n[reliability] {line}")


def wait_for(predicate, timeout: float, every: float = 0.2, on_tick=None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if on_tick is not None:
            on_tick()
        time.sleep(every)
    return predicate()


def pending(ids) -> int:
    return Opportunity.objects.filter(pk__in=ids, routing_status=RoutingStatus.PENDING).count()


def placements(ids) -> dict[int, int]:
    """Routed/queued transfer rows per opportunity."""
    counts = dict.fromkeys(ids, 0)
    for opp_id in Transfer.objects.filter(opportunity_id__in=ids, action__in=PLACED).values_list(
        "opportunity_id", flat=True
    ):
        counts[opp_id] += 1
    return counts


def sweep(older_than: float = 3) -> int:
    return services.routing_sweep(older_than=datetime.timedelta(seconds=older_than))


@pytest.fixture
def customer_with_manager(reference_rows):
    manager = UserFactory(role=Role.ACCOUNT_MANAGER)
    return CustomerFactory(account_manager=manager)


@pytest.fixture
def capturer(reference_rows):
    return UserFactory(role=Role.AGENT)


def capture(by, customer, n: int, label: str) -> list[int]:
    return [
        services.opportunity_capture(by=by, kind=Kind.LEAD, title=f"{label} 专线需求 {i}", customer=customer).pk
        for i in range(n)
    ]


# --- T1a: claim race -------------------------------------------------------------------------------------

ROUNDS, CLAIMANTS = 10, 20


def test_twenty_concurrent_claims_of_a_partner_pool_opportunity_leave_exactly_one_owner(reference_rows):
    partner = PartnerFactory()
    staff = [UserFactory(role=Role.PARTNER, partner=partner) for _ in range(CLAIMANTS)]
    started = time.monotonic()
    for round_no in range(ROUNDS):
        opp = OpportunityFactory()
        now = opp.routing_requested_at
        Opportunity.objects.filter(pk=opp.pk).update(
            routing_status=RoutingStatus.DISPATCHED, assigned_partner=partner, dispatched_at=now,
            claim_due_at=now + datetime.timedelta(hours=24), return_due_at=now + datetime.timedelta(hours=48),
        )  # fmt: skip
        barrier = threading.Barrier(CLAIMANTS)
        outcomes: list[str] = [""] * CLAIMANTS

        def claim(i: int, pk=opp.pk, barrier=barrier, outcomes=outcomes) -> None:
            try:
                barrier.wait(timeout=30)
                services.opportunity_claim(pk=pk, by=staff[i])
                outcomes[i] = "won"
            except services.Conflict:
                outcomes[i] = "conflict"
            except Exception as exc:  # noqa: BLE001 - anything else is a failure, reported below
                outcomes[i] = repr(exc)
            finally:
                connection.close()  # this thread's own connection

        threads = [threading.Thread(target=claim, args=(i,)) for i in range(CLAIMANTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(outcomes) == ["conflict"] * (CLAIMANTS - 1) + ["won"], f"round {round_no}: {outcomes}"
        opp.refresh_from_db()
        winner = staff[outcomes.index("won")]
        assert opp.routing_status == RoutingStatus.CLAIMED
        assert opp.claimed_by_id == opp.assigned_to_id == winner.pk
        claims = Transfer.objects.filter(opportunity=opp, action=Transfer.Action.CLAIMED)
        assert list(claims.values_list("by_id", flat=True)) == [winner.pk]
    report(f"claim race: {ROUNDS} rounds x {CLAIMANTS} threads, 1 winner each, {time.monotonic() - started:.1f} s")


# --- T3: workers killed mid-routing ----------------------------------------------------------------------


@pytest.mark.chaos
def test_routing_survives_a_killed_pool_child_and_a_killed_worker(customer_with_manager, capturer, start_worker):
    worker = start_worker(route_delay=1.5)  # each routing holds its transaction 1.5 s

    # A pool child dies mid-task: acks_late + reject_on_worker_lost redeliver it at once, no sweep needed.
    first = capture(capturer, customer_with_manager, 8, "A")
    assert wait_for(lambda: pending(first) < len(first), timeout=30), worker.text()[-3000:]
    time.sleep(0.3)  # both children are inside a 1.5 s routing transaction now (6 tasks still queued)
    killed_at = time.monotonic()
    victim = worker.pool()[0]
    os.kill(victim, signal.SIGKILL)
    assert wait_for(lambda: pending(first) == 0, timeout=40), worker.text()[-3000:]
    child_recovery = time.monotonic() - killed_at
    assert "signal 9" in worker.text() or "SIGKILL" in worker.text(), "the kill did not hit a running task"
    assert not Opportunity.objects.filter(pk__in=first, routing_attempts__gt=0).exists()  # no sweep involved
    report(f"pool child {victim} killed mid-routing: 8/8 routed {child_recovery:.1f} s after the kill")

    # The whole worker dies: what it had taken stays unacked in Redis (visibility timeout 30 min), so the
    # sweep re-sends every row still pending after 3 s; a new worker routes them.
    second = capture(capturer, customer_with_manager, 8, "B")
    assert wait_for(lambda: pending(second) < len(second), timeout=30), worker.text()[-3000:]
    time.sleep(0.3)
    worker.kill()
    killed_at = time.monotonic()
    stranded = pending(second)
    assert stranded > 0
    replacement = start_worker(route_delay=0.2)
    assert wait_for(lambda: pending(second) == 0, timeout=60, every=1, on_tick=sweep), replacement.text()[-3000:]
    worker_recovery = time.monotonic() - killed_at
    assert Opportunity.objects.filter(pk__in=second, routing_attempts__gt=0).exists()  # the sweep re-sent some
    report(f"whole worker killed with {stranded}/8 pending: all routed {worker_recovery:.1f} s after the kill")

    counts = placements(first + second)
    assert set(counts.values()) == {1}, counts  # each opportunity placed exactly once
    assert not Opportunity.objects.filter(pk__in=first + second, routed_at__isnull=True).exists()


# --- T2: Redis restarted without persistence ---------------------------------------------------------------

TOTAL, WHILE_DOWN = 500, 10


@pytest.mark.chaos
def test_no_routing_is_lost_when_redis_restarts_without_persistence(
    customer_with_manager, capturer, start_worker, broker
):
    worker = start_worker()
    started = time.monotonic()
    ids = capture(capturer, customer_with_manager, TOTAL // 2, "C")
    routed_before = len(ids) - pending(ids)
    broker.kill()  # kill -9: whatever is queued is gone (no persistence)
    down_at = time.monotonic()
    down = capture(capturer, customer_with_manager, WHILE_DOWN, "D")  # the enqueue fails; the capture does not
    down_seconds = time.monotonic() - down_at
    assert pending(down) == WHILE_DOWN
    broker.start()
    up_at = time.monotonic()
    assert broker.queued() == 0  # the queue was lost
    ids += down
    ids += capture(capturer, customer_with_manager, TOTAL - len(ids), "E")
    captured_at = time.monotonic()
    crashes: list[str] = []

    def supervise_and_sweep() -> None:
        """Like systemd's Restart=always: kombu 5.7 can crash the worker when Redis vanishes while it holds
        unacked messages ("Unrecoverable error: AttributeError ... 'hostname'" from restore_unacked)."""
        nonlocal worker
        if worker.process.poll() is not None:
            crashes.append(next((ln for ln in worker.text().splitlines() if "Unrecoverable" in ln), "exited"))
            worker = start_worker()
        sweep()

    assert wait_for(lambda: pending(ids) == 0, timeout=120, every=1, on_tick=supervise_and_sweep), worker.text()[-3000:]
    done_at = time.monotonic()

    counts = placements(ids)
    assert len(counts) == TOTAL and set(counts.values()) == {1}, {k: v for k, v in counts.items() if v != 1}
    resent = Opportunity.objects.filter(pk__in=ids, routing_attempts__gt=0).count()
    assert resent >= WHILE_DOWN  # at least the ones captured while Redis was down came back through the sweep
    report(
        f"redis restart: {TOTAL} captured in {captured_at - started:.1f} s ({routed_before} routed before the kill, "
        f"{WHILE_DOWN} captured while down in {down_seconds:.1f} s), all routed once {done_at - up_at:.1f} s "
        f"after Redis returned; {resent} re-sent by the sweep; worker restarts after a crash: {crashes or 'none'}"
    )
