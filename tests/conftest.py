"""Personas shared by every test module (STYLE.md): an account manager, a teammate, an outsider,
a supervisor, a call-center agent, a data steward, an analyst, a dispatcher and an admin."""

import pytest
from django.db import connection
from django.utils import translation

from channels.models import Role
from tests.channels.factories import TeamFactory, UserFactory


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` are skipped, with the reason, when the database is SQLite."""
    from django.conf import settings

    if settings.IS_POSTGRES:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://...); runs in CI's PostgreSQL pass")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def english_messages(request, settings):
    """Tests assert on the English msgids. The Chinese default itself is tested by tests marked
    `chinese` (tests/test_i18n.py, the browser tests), which keep settings.LANGUAGE_CODE."""
    if "chinese" in request.keywords:
        # the real default, whatever language an earlier test's request left active in this thread
        with translation.override(settings.LANGUAGE_CODE):
            yield
        return
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def fresh_cache():
    """Cached per-customer data (360 charts) must not leak between tests: ids are reused after rollbacks."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def fresh_naming_cache():
    """Rows rolled back at the end of a test send no signal: clear the naming dictionary cache."""
    from customers import naming

    naming.clear_cache()
    yield
    naming.clear_cache()


@pytest.fixture(autouse=True)
def fresh_routing_memo():
    """Rows rolled back at the end of a test send no signal: drop the router's memo of rules and timers."""
    from opportunities import routing

    routing.forget()
    yield
    routing.forget()


@pytest.fixture
def eager_celery(settings, monkeypatch):
    """Celery tasks run in-process. Celery reads its configuration once, so the Django setting alone does
    not switch a configured app: patch the app's conf too (restored after the test)."""
    from kam.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    monkeypatch.setitem(app.conf, "task_always_eager", True)


@pytest.fixture
def team(db):
    return TeamFactory(name="金融行业组")


@pytest.fixture
def other_team(db):
    return TeamFactory(name="政务行业组")


@pytest.fixture
def supervisor(db, team):
    user = UserFactory(username="sup", role=Role.SUPERVISOR, team=team)
    team.supervisor = user
    team.save()
    return user


@pytest.fixture
def am(db, team, supervisor):
    return UserFactory(username="am", role=Role.ACCOUNT_MANAGER, team=team)


@pytest.fixture
def teammate(db, team, supervisor):
    return UserFactory(username="mate", role=Role.ACCOUNT_MANAGER, team=team)


@pytest.fixture
def outsider(db, other_team):
    return UserFactory(username="outsider", role=Role.ACCOUNT_MANAGER, team=other_team)


@pytest.fixture
def agent(db):
    return UserFactory(username="agent", role=Role.AGENT)


@pytest.fixture
def steward(db):
    return UserFactory(username="steward", role=Role.DATA_STEWARD)


@pytest.fixture
def analyst(db):
    return UserFactory(username="analyst", role=Role.ANALYST)


@pytest.fixture
def dispatcher(db):
    return UserFactory(username="dispatcher", role=Role.DISPATCHER)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="root", role=Role.ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"


@pytest.fixture
def reference_rows(transactional_db):
    """transaction=True flushes the migrations' reference rows after each test: load them all again (channel
    types, workstations and the working calendar; regions and industries; stages, claim timers, close reasons and
    routing rules; the catalogue with its order templates, resource needs and step templates). Every loader
    leaves existing rows alone, so a test that runs first (rows still there) loads nothing twice."""
    from django.apps import apps

    from channels import reference as channel_reference
    from customers import reference as customer_reference
    from opportunities import reference as opportunity_reference
    from orders import reference as order_reference
    from orders import reference_provisioning, reference_templates

    channel_reference.load(apps, None)
    channel_reference.load_workstations(apps, None)
    channel_reference.load_calendar(apps, None)
    customer_reference.load(apps, None)
    opportunity_reference.load(apps, None)
    order_reference.load(apps, None)
    reference_templates.load(apps, None)
    get = apps.get_model
    reference_provisioning.load_resource_needs(get("orders", "Product"), get("orders", "ProductResourceNeed"))
    reference_provisioning.load_step_templates(
        get("orders", "Product"), get("orders", "StepTemplate"), get("channels", "Workstation")
    )
    from service import reference as service_reference

    service_reference.load(apps, None)  # the SLA policies
