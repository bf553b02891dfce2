"""The work-orders API and the provisioning pages: step actions with the revision seen (409 on a lost race,
400 on bad input), who may see what (an outsider or another workstation's executor probing by id gets 404),
and constant query counts on the boards, the API list and the 360 panel."""

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from orders.models import Order, WorkStep
from orders.services import provisioning
from tests.orders.test_provisioning import MONDAY, desk, started, steps_of, walk, world  # noqa: F401

Status = WorkStep.Status


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def step_url(work_order, seq: int, action: str) -> str:
    return f"/api/v1/work-orders/{work_order.pk}/steps/{seq}/{action}/"


# --- API -------------------------------------------------------------------------------------------------


def test_the_account_manager_lists_and_reads_work_orders_with_their_steps(world, am):  # noqa: F811
    work_order = started(world)
    listed = api(am).get("/api/v1/work-orders/")
    assert listed.status_code == 200
    [row] = listed.json()["results"]
    assert (row["number"], row["customer"], row["product"]) == (work_order.number, world.customer.pk,
                                                                world.product.code)  # fmt: skip
    assert [s["status"] for s in row["steps"]] == ["ready", "pending", "pending"]
    detail = api(am).get(f"/api/v1/work-orders/{work_order.pk}/").json()
    assert detail["steps"][0]["events"][0]["action"] == "ready"


def test_claim_through_the_api_then_a_stale_revision_answers_409(world):  # noqa: F811
    work_order = started(world)
    executor, colleague = world.survey.executor, world.survey.colleague
    won = api(executor).post(step_url(work_order, 1, "claim"), {"revision": 0}, format="json")
    assert won.status_code == 200
    assert won.json()["steps"][0]["assignee"] == executor.pk
    lost = api(colleague).post(step_url(work_order, 1, "claim"), {"revision": 0}, format="json")
    assert lost.status_code == 409
    assert (lost.json()["status"], lost.json()["assignee"]) == ("in_progress", executor.pk)


def test_step_actions_answer_400_with_every_field_error(world):  # noqa: F811
    work_order = started(world)
    client = api(world.survey.executor)
    bad = client.post(step_url(work_order, 1, "block"), {"revision": "one", "reason": 5}, format="json")
    assert bad.status_code == 400
    assert {"revision", "reason"} <= set(bad.json()["errors"])
    blank = client.post(step_url(work_order, 1, "block"), {"revision": 0, "reason": "  "}, format="json")
    assert blank.status_code == 400 and "reason" in blank.json()["errors"]
    assert WorkStep.objects.get(work_order=work_order, sequence=1).status == Status.READY


def test_hand_over_and_complete_through_the_api(world):  # noqa: F811
    work_order = started(world)
    executor, colleague = world.survey.executor, world.survey.colleague
    api(executor).post(step_url(work_order, 1, "claim"), {"revision": 0}, format="json")
    elsewhere = {"revision": 1, "to_user": world.build.executor.pk}
    outside = api(executor).post(step_url(work_order, 1, "hand-over"), elsewhere, format="json")
    assert outside.status_code == 400 and "to_user" in outside.json()["errors"]
    handed = api(executor).post(step_url(work_order, 1, "hand-over"), {"revision": 1, "to_user": colleague.pk},
                                format="json")  # fmt: skip
    assert handed.status_code == 200
    refused = api(executor).post(step_url(work_order, 1, "complete"), {"revision": 2}, format="json")
    assert refused.status_code == 403
    done = api(colleague).post(step_url(work_order, 1, "complete"), {"revision": 2, "note": "勘察完成"}, format="json")
    assert done.status_code == 200
    assert [s["status"] for s in done.json()["steps"]] == ["done", "ready", "pending"]


def test_filters_overdue_and_workstation(world, dispatcher):  # noqa: F811
    late = started(world)
    WorkStep.objects.filter(work_order=late, sequence=1).update(due_at=MONDAY - dt.timedelta(days=30))
    on_time = started(world)
    client = api(dispatcher)
    overdue = [r["id"] for r in client.get("/api/v1/work-orders/?overdue=true").json()["results"]]
    assert overdue == [late.pk]
    at_build = client.get(f"/api/v1/work-orders/?workstation={world.survey.workstation.pk}").json()["results"]
    assert {r["id"] for r in at_build} == {late.pk, on_time.pk}
    assert client.get(f"/api/v1/work-orders/?workstation={world.build.workstation.pk}").json()["results"] == []


def test_outsiders_probing_a_work_order_by_id_get_404(world, outsider, client):  # noqa: F811
    work_order = started(world)
    stranger = desk("t-elsewhere").executor  # an executor of a workstation with no step in this work order
    for user in (outsider, stranger):
        rest = api(user)
        assert rest.get(f"/api/v1/work-orders/{work_order.pk}/").status_code == 404
        assert rest.post(step_url(work_order, 1, "claim"), {"revision": 0}, format="json").status_code == 404
        assert work_order.number not in rest.get("/api/v1/work-orders/").content.decode()
        client.force_login(user)
        assert client.get(reverse("orders:work-order-detail", args=[work_order.pk])).status_code == 404
        order_id = work_order.order_line.order_id
        assert client.get(reverse("orders:provisioning-order-steps", args=[order_id])).status_code == 404
        claim = reverse("orders:step-action", args=[work_order.pk, 1, "claim"])
        assert client.post(claim, {"revision": 0}).status_code == 404
    assert WorkStep.objects.get(work_order=work_order, sequence=1).status == Status.READY


def test_an_executor_sees_the_work_order_through_a_step_at_their_workstation(world):  # noqa: F811
    work_order = started(world)
    assert api(world.build.executor).get(f"/api/v1/work-orders/{work_order.pk}/").status_code == 200


def test_the_api_list_runs_constant_queries(world, am):  # noqa: F811
    started(world)
    client = api(am)
    with CaptureQueriesContext(connection) as one:
        assert client.get("/api/v1/work-orders/").status_code == 200
    for _ in range(4):
        started(world)
    with CaptureQueriesContext(connection) as five:
        assert len(client.get("/api/v1/work-orders/").json()["results"]) == 5
    assert len(five) == len(one)


# --- pages -----------------------------------------------------------------------------------------------


def test_the_queue_claims_and_the_work_order_page_completes(world, client):  # noqa: F811
    work_order = started(world)
    executor = world.survey.executor
    client.force_login(executor)
    queue = client.get(reverse("orders:provisioning-queue"))
    assert queue.status_code == 200 and work_order.number in queue.content.decode()
    claim = client.post(
        reverse("orders:step-action", args=[work_order.pk, 1, "claim"]), {"revision": 0, "next": "queue"}
    )
    assert claim.status_code == 302
    mine = client.get(reverse("orders:my-steps"))
    assert work_order.number in mine.content.decode()
    page = client.get(reverse("orders:work-order-detail", args=[work_order.pk]))
    assert page.status_code == 200 and "Complete" in page.content.decode()
    stale = client.post(reverse("orders:step-action", args=[work_order.pk, 1, "complete"]), {"revision": 0})
    assert stale.status_code == 409
    blank = client.post(reverse("orders:step-action", args=[work_order.pk, 1, "block"]), {"revision": 1, "reason": ""})
    assert blank.status_code == 400 and "Say why the step is blocked." in blank.content.decode()
    done = client.post(reverse("orders:step-action", args=[work_order.pk, 1, "complete"]), {"revision": 1})
    assert done.status_code == 302
    assert steps_of(work_order)[1].status == Status.READY


def test_pages_refuse_roles_they_are_not_for(world, am, client):  # noqa: F811
    client.force_login(am)
    for name in ("orders:provisioning-board", "orders:provisioning-queue", "orders:my-steps"):
        assert client.get(reverse(name)).status_code == 403, name
    client.force_login(world.survey.executor)
    assert client.get(reverse("orders:provisioning-assessment")).status_code == 403


def board_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_board_and_my_steps_run_constant_queries(world, dispatcher, client):  # noqa: F811
    def more(n):
        for _ in range(n):
            work_order = started(world)
            first = steps_of(work_order)[0]
            provisioning.step_claim(first, by=world.survey.executor, revision=0)

    more(1)
    client.force_login(dispatcher)
    board = reverse("orders:provisioning-board") + "?tab=working"
    few_board = board_queries(client, board)
    client.force_login(world.survey.executor)
    few_mine = board_queries(client, reverse("orders:my-steps"))
    more(6)
    client.force_login(dispatcher)
    assert board_queries(client, board) == few_board
    client.force_login(world.survey.executor)
    assert board_queries(client, reverse("orders:my-steps")) == few_mine


def test_the_360_panel_shows_orders_in_flight_with_their_current_step_in_constant_queries(world, am, client):  # noqa: F811
    started(world)
    client.force_login(am)
    url = reverse("customers:panel", args=[world.customer.pk, "orders_in_flight"])
    assert url in client.get(world.customer.get_absolute_url()).content.decode()  # the page fetches it (lazy)
    with CaptureQueriesContext(connection) as one:
        page = client.get(url)
    text = page.content.decode()
    assert "Orders in flight" in text and "现场勘察" in text
    for _ in range(4):
        started(world)
    with CaptureQueriesContext(connection) as five:
        client.get(url)
    assert len(five) == len(one)


def test_the_order_steps_include_shows_every_step_live(world, am, client):  # noqa: F811
    work_order = started(world)
    client.force_login(am)
    fragment = client.get(reverse("orders:provisioning-order-steps", args=[work_order.order_line.order_id]))
    text = fragment.content.decode()
    assert fragment.status_code == 200
    assert work_order.number in text and "客户验收" in text and 'hx-trigger="every 30s"' in text


def test_the_assessment_counts_per_workstation_executor_manager_and_it_support(world, am, supervisor, client):  # noqa: F811
    work_order = started(world)
    Order.objects.filter(pk=work_order.order_line.order_id).update(submitted_at=MONDAY)
    first = steps_of(work_order)[0]
    walk(first, world.survey.executor)
    client.force_login(supervisor)
    month = timezone.localdate().strftime("%Y-%m")
    page = client.get(reverse("orders:provisioning-assessment") + f"?month={month}")
    assert page.status_code == 200
    figures = page.context["figures"]
    [station] = figures.workstations
    assert (station["workstation"], station["total"], station["on_time"]) == (world.survey.workstation.pk, 1, 1)
    assert figures.executors[0]["completed_by"] == world.survey.executor.pk
    assert page.context["chart"]["workstations"] == [{"name": world.survey.workstation.name, "rate": 100}]
    assert 'id="assessment-chart-data"' in page.content.decode()
    rows = client.get(reverse("orders:provisioning-assessment-list"),
                      {"month": month, "level": "workstation", "key": world.survey.workstation.pk})  # fmt: skip
    assert rows.status_code == 200 and work_order.number in rows.content.decode()
    december = client.get(reverse("orders:provisioning-assessment"), {"month": "2026-12"}).context["figures"]
    assert [(m["customer__account_manager"], m["total"], m["right"]) for m in december.managers] == [(am.pk, 1, 1)]


def test_the_admin_reads_work_orders_with_their_steps(world, admin_user, client):  # noqa: F811
    work_order = started(world)
    client.force_login(admin_user)
    assert client.get(reverse("admin:orders_workorder_changelist")).status_code == 200
    page = client.get(reverse("admin:orders_workorder_change", args=[work_order.pk]))
    assert page.status_code == 200 and "现场勘察" in page.content.decode()
    assert client.get(reverse("admin:orders_steptemplate_changelist")).status_code == 200
