"""A Celery worker whose router is slow, so the reliability tests can kill it while routing is mid-flight:
`celery -A tests.opportunities.slow_worker worker` with KAM_TEST_ROUTE_DELAY=<seconds>. Each pool process
wraps `opportunities.routing.decide` with the delay; `services.opportunity_route` calls it after taking the row lock,
so the routing transaction stays open that long. Production code carries no such hook."""

import os
import time

from celery.signals import worker_process_init

from kam.celery import app  # noqa: F401 - the app this module's worker runs

DELAY = float(os.environ.get("KAM_TEST_ROUTE_DELAY", "0"))


@worker_process_init.connect
def slow_router(**kwargs):
    from opportunities import routing

    decide = routing.decide

    def slow_decide(opp):
        time.sleep(DELAY)
        return decide(opp)

    routing.decide = slow_decide
