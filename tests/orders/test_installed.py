"""The installed base: resources reserved at the resource check, subscriptions made, changed, suspended,
resumed and ended by completed order lines, resources released when a subscription ends."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from orders.models import ProductResourceNeed, Resource, Subscription
from orders.services.installed import apply_line, release_reservations, reserve_resources
from tests.customers.factories import CustomerFactory
from tests.orders.factories import ResourceFactory
from tests.orders.installed_support import make_line

pytestmark = pytest.mark.django_db

ACCEPTED = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture
def customer(am):
    return CustomerFactory(account_manager=am)


@pytest.fixture
def pool(db):
    """Hangzhou stock: two circuits, an IP block; a circuit in Ningbo that a Hangzhou line must not get."""
    return {
        "circuits": [ResourceFactory(identifier=f"HZ-CIR-{i}") for i in (1, 2)],
        "ip": ResourceFactory(kind="ip_block", identifier="115.236.8.0/29"),
        "ningbo": ResourceFactory(identifier="NB-CIR-1", region_code="330200"),
    }


def test_product_needs_are_data_loaded_by_the_migration():
    needs = set(ProductResourceNeed.objects.filter(product__code="INET").values_list("kind", "region_matters"))
    assert needs == {("circuit", True), ("ip_block", True)}
    assert ProductResourceNeed.objects.get(product__code="N400").region_matters is False


def test_reserve_takes_a_free_circuit_and_ip_block_of_the_customers_region(customer, am, pool):
    line = make_line(customer, am)
    reserved = reserve_resources(line, at=ACCEPTED)
    assert {r.kind for r in reserved} == {"circuit", "ip_block"}
    assert all(r.status == "reserved" and r.reserved_for_id == line.pk for r in reserved)
    assert pool["ningbo"].identifier not in {r.identifier for r in reserved}
    # twice: nothing more is taken
    assert {r.pk for r in reserve_resources(line)} == {r.pk for r in reserved}
    assert Resource.objects.filter(status="reserved").count() == 2


def test_reserve_without_free_row_in_region_refuses_and_keeps_nothing(customer, am):
    ResourceFactory(kind="ip_block", identifier="115.236.8.0/29")
    ResourceFactory(identifier="NB-CIR-1", region_code="330200")
    line = make_line(customer, am)
    with pytest.raises(ValidationError) as err:
        reserve_resources(line)
    assert err.value.messages == ["No free Circuit id in region 杭州市."]
    assert not Resource.objects.exclude(status="free").exists()  # the IP block went back too


def test_a_pool_kept_at_province_level_serves_the_city(customer, am):
    ResourceFactory(kind="number_block", identifier="0571-8800xxxx", region_code="330000")
    line = make_line(customer, am, code="IMSFIX", values={})
    assert [r.identifier for r in reserve_resources(line)] == ["0571-8800xxxx"]


def test_products_without_needs_reserve_nothing(customer, am, pool):
    assert reserve_resources(make_line(customer, am, code="VPMN", values={})) == []


def test_release_reservations_returns_rows_to_the_pool(customer, am, pool):
    line = make_line(customer, am)
    reserve_resources(line)
    assert release_reservations(line) == 2
    assert set(Resource.objects.values_list("status", flat=True)) == {"free"}


def test_new_line_creates_the_subscription_on_the_reserved_circuit(customer, am, pool):
    line = make_line(customer, am, values={"bandwidth": "200", "sla_class": "AA"})
    circuit = next(r for r in reserve_resources(line) if r.kind == "circuit")
    sub = apply_line(line, by=am, at=ACCEPTED)
    assert line.subscription == sub
    assert (sub.customer, sub.product.code, sub.service_id) == (customer, "INET", circuit.identifier)
    assert (sub.bandwidth_mbps, sub.quantity, sub.monthly_price) == (200, 1, Decimal("2700.00"))
    assert (sub.sla_class, sub.started_on, sub.status) == ("AA", datetime.date(2026, 12, 1), "active")
    held = Resource.objects.filter(subscription=sub)
    assert set(held.values_list("status", flat=True)) == {"in_use"} and held.count() == 2
    # idempotent
    assert apply_line(line, by=am) == sub
    assert Subscription.objects.count() == 1


def test_new_line_without_circuit_gets_a_numbered_service_id_and_product_sla(customer, am):
    line = make_line(customer, am, code="VPMN", values={"members": 40}, unit_price=Decimal("100"), discount=0)
    sub = apply_line(line, by=am)
    assert sub.service_id == f"SV{sub.pk:08d}"
    assert (sub.members, sub.sla_class, sub.monthly_price) == (40, "standard", Decimal("100.00"))


def _installed(customer, am):
    line = make_line(customer, am)
    reserve_resources(line)
    return apply_line(line, by=am, at=ACCEPTED)


def test_change_updates_bandwidth_and_price_and_keeps_history(customer, am, pool):
    sub = _installed(customer, am)
    change = make_line(customer, am, kind="change", subscription=sub, values={"bandwidth": 500}, discount=0)
    apply_line(change, by=am)
    apply_line(change, by=am)  # twice: one history entry
    sub.refresh_from_db()
    assert (sub.bandwidth_mbps, sub.monthly_price) == (500, Decimal("3000.00"))
    changes = [e for e in sub.attributes["history"] if e["kind"] == "change"]
    assert len(changes) == 1
    assert changes[0]["before"]["bandwidth_mbps"] == 100 and changes[0]["after"]["bandwidth_mbps"] == 500


def test_suspend_then_resume(customer, am, pool):
    sub = _installed(customer, am)
    apply_line(make_line(customer, am, kind="suspend", subscription=sub), by=am)
    sub.refresh_from_db()
    assert sub.status == "suspended"
    apply_line(make_line(customer, am, kind="resume", subscription=sub), by=am)
    sub.refresh_from_db()
    assert sub.status == "active"


def test_terminate_ends_the_subscription_and_releases_its_resources(customer, am, pool):
    sub = _installed(customer, am)
    later = ACCEPTED + datetime.timedelta(days=40)
    apply_line(make_line(customer, am, kind="terminate", subscription=sub), by=am, at=later)
    sub.refresh_from_db()
    assert (sub.status, sub.ended_on) == ("terminated", datetime.date(2027, 1, 10))
    freed = Resource.objects.filter(kind__in=["circuit", "ip_block"], released_at=later)
    assert freed.count() == 2 and set(freed.values_list("status", flat=True)) == {"free"}
    assert not Resource.objects.filter(subscription=sub).exists()
    # a released circuit serves the next customer
    other = CustomerFactory(account_manager=am)
    assert len(reserve_resources(make_line(other, am))) == 2


def test_acting_on_an_ended_or_foreign_subscription_is_refused(customer, am, pool):
    sub = _installed(customer, am)
    apply_line(make_line(customer, am, kind="terminate", subscription=sub), by=am)
    with pytest.raises(ValidationError):
        apply_line(make_line(customer, am, kind="resume", subscription=sub), by=am)
    other = CustomerFactory(account_manager=am)
    live = _installed(other, am)
    with pytest.raises(ValidationError):
        apply_line(make_line(customer, am, kind="suspend", subscription=live), by=am)


def test_a_resource_in_use_is_never_taken_by_a_second_subscription(customer, am, pool):
    first = _installed(customer, am)
    circuit = Resource.objects.get(subscription=first, kind="circuit")
    # a second line that somehow points at the same row: the compare-and-set (reserved, for this line) refuses
    line = make_line(CustomerFactory(account_manager=am), am)
    Resource.objects.filter(pk=circuit.pk).update(reserved_for=line)
    second = apply_line(line, by=am)
    circuit.refresh_from_db()
    assert circuit.subscription_id == first.pk and second.service_id != circuit.identifier
    # and the database refuses a row in use without exactly one subscription
    with pytest.raises(IntegrityError), transaction.atomic():
        Resource.objects.filter(pk=circuit.pk).update(subscription=None)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_lines_racing_for_the_last_free_circuit_one_wins(reference_rows, am):
    ResourceFactory(identifier="HZ-LAST-1")
    customer = CustomerFactory(account_manager=am)
    lines = [make_line(customer, am, code="DATA", values={}) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes = [""] * 2

    def reserve(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[i] = "won" if reserve_resources(lines[i]) else "empty"
        except ValidationError:
            outcomes[i] = "refused"
        except Exception as exc:  # noqa: BLE001 - reported in the assertion
            outcomes[i] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=reserve, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["refused", "won"]
    assert Resource.objects.get(identifier="HZ-LAST-1").reserved_for_id == lines[outcomes.index("won")].pk


def test_a_reused_circuit_id_does_not_clash_with_the_ended_subscriptions_service_id(customer, am):
    ResourceFactory(identifier="HZ-CIR-9")
    ResourceFactory(kind="ip_block", identifier="115.236.8.0/29")
    first = make_line(customer, am)
    reserve_resources(first)
    sub = apply_line(first, by=am)
    apply_line(make_line(customer, am, kind="terminate", subscription=sub), by=am)
    again = make_line(CustomerFactory(account_manager=am), am)
    reserve_resources(again)
    second = apply_line(again, by=am)
    assert sub.service_id == "HZ-CIR-9" and second.service_id == f"SV{second.pk:08d}"
    assert Resource.objects.get(identifier="HZ-CIR-9").subscription == second
