"""Exports of segments and of the customer list, without a cap: small ones download at once; large ones (the
threshold is set low here) become a background job whose file holds every row the requester may see, in the
columns their role may read, announced by a notification whose link only they can open."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from openpyxl import load_workbook
from rest_framework.test import APIClient

from channels.exports import services as jobs
from channels.models import ExportJob, Notification
from customers.segments import services as segments
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

FINANCE = {"Value score", "Average monthly revenue (RMB)"}


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.KAM_EXPORT_DIR = tmp_path / "exports"
    return settings.KAM_EXPORT_DIR


@pytest.fixture
def low_threshold(settings):
    settings.KAM_EXPORT_IMMEDIATE_MAX_ROWS = 2


@pytest.fixture
def book(am, outsider):
    """Four A1 customers of am (more than the low threshold), one C customer of am, one A1 of someone else."""
    mine = [CustomerFactory(tier="A1", account_manager=am, value_score=80 + i) for i in range(4)]
    return {
        "a1": mine,
        "c": CustomerFactory(tier="C", account_manager=am, name="杭州城西科创有限公司"),
        "theirs": CustomerFactory(tier="A1", account_manager=outsider),
    }


def login(client, user):
    client.force_login(user)
    return client


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def csv_rows(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def body(response) -> bytes:
    return b"".join(response.streaming_content)


# --- small: at once -------------------------------------------------------------------------------------------


def test_a_small_customer_list_export_downloads_at_once_with_the_pages_filters(client, am, book):
    response = login(client, am).get(reverse("customers:export"), {"format": "csv", "tier": "A1"})

    assert response.status_code == 200 and ".csv" in response["Content-Disposition"]
    rows = csv_rows(body(response))
    assert {row[0] for row in rows[1:]} == {c.code for c in book["a1"]}  # not the C one, not someone else's
    assert not ExportJob.objects.exists()


def test_the_customer_list_page_links_its_export_with_the_current_filters(client, am, book):
    page = login(client, am).get(reverse("customers:list"), {"tier": "C", "q": "城西"}).content.decode()

    assert 'href="/customers/export/?tier=C&amp;q=%E5%9F%8E%E8%A5%BF&amp;format=xlsx"' in page


def test_search_filter_of_the_export_matches_the_list(client, am, book):
    response = login(client, am).get(reverse("customers:export"), {"format": "xlsx", "q": "城西"})

    rows = list(load_workbook(io.BytesIO(body(response))).active.values)
    assert [row[0] for row in rows[1:]] == [book["c"].code]


# --- large: a job ----------------------------------------------------------------------------------------------


def test_a_large_segment_export_is_prepared_in_the_background_with_every_member(
    client, am, supervisor, book, low_threshold, eager_celery, django_capture_on_commit_callbacks
):
    segment = segments.segment_create(owner=supervisor, name="A1 全部", definition={"tier": ["A1"]}, is_shared=True)
    export_url = reverse("customers:segment-export", args=[segment.pk]) + "?format=csv"
    login(client, am)

    offer = client.get(export_url)
    assert offer.status_code == 200 and "more than 2 rows" in offer.content.decode()
    assert not ExportJob.objects.exists()  # asking is not starting
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(export_url)

    assert started.status_code == 302 and started["Location"] == reverse("channels:exports")
    job = ExportJob.objects.get()
    assert (job.user, job.kind, job.status, job.row_count) == (am, "segment", "done", 4)
    note = Notification.objects.get(recipient=am, kind="export_ready")
    assert note.link == reverse("channels:export-download", args=[job.pk]) and "A1 全部" in note.title
    download = client.get(note.link)
    assert download.status_code == 200 and "A1_" in download["Content-Disposition"]
    rows = csv_rows(body(download))
    assert {row[0] for row in rows[1:]} == {c.code for c in book["a1"]}  # all of am's, none of the outsider's
    assert FINANCE <= set(rows[0])


def test_only_the_requester_downloads_and_only_while_the_segment_is_still_theirs(
    client, am, teammate, supervisor, book, low_threshold, eager_celery, django_capture_on_commit_callbacks
):
    segment = segments.segment_create(owner=supervisor, name="A1 全部", definition={"tier": ["A1"]}, is_shared=True)
    with django_capture_on_commit_callbacks(execute=True):
        login(client, am).post(reverse("customers:segment-export", args=[segment.pk]) + "?format=xlsx")
    link = reverse("channels:export-download", args=[ExportJob.objects.get().pk])

    assert login(client, teammate).get(link).status_code == 404
    assert login(client, am).get(link).status_code == 200
    segments.segment_update(segment=segment, by=supervisor, is_shared=False)
    assert login(client, am).get(link).status_code == 404


def test_an_agents_large_export_has_no_finance_columns(
    agent, book, low_threshold, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(agent).get("/api/v1/customers/export/", {"format": "csv", "tier": "A1"})

    assert response.status_code == 202
    status = api(agent).get(response.json()["url"]).json()
    download = api(agent).get(status["download_url"])
    rows = csv_rows(body(download))
    assert not FINANCE & set(rows[0]) and len(rows[0]) == len(rows[1]) == 9
    assert len(rows) == 1 + 5  # every A1 customer: agents see them all


def test_the_api_answers_202_with_the_job_then_its_status_and_file(
    am, outsider, book, low_threshold, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api(am).get("/api/v1/customers/export/", {"format": "xlsx", "tier": "A1"})

    assert response.status_code == 202
    job = response.json()
    assert job["status"] == "queued" and job["download_url"] is None and response["Location"] == job["url"]
    assert len(callbacks) == 1  # enqueued after commit
    callbacks[0]()

    status = api(am).get(job["url"]).json()
    assert (status["status"], status["row_count"], status["format"]) == ("done", 4, "xlsx")
    assert [j["id"] for j in api(am).get("/api/v1/exports/").json()["results"]] == [job["id"]]
    download = api(am).get(status["download_url"])
    rows = list(load_workbook(io.BytesIO(body(download))).active.values)
    assert {row[0] for row in rows[1:]} == {c.code for c in book["a1"]}
    assert api(outsider).get(job["url"]).status_code == 404
    assert api(outsider).get(status["download_url"]).status_code == 404
    assert api(outsider).get("/api/v1/exports/").json()["results"] == []


def test_a_job_is_written_in_its_requesters_language(am, book, low_threshold, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        api(am).get("/api/v1/customers/export/", {"format": "csv"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    with translation.override("en"):  # the worker's own language
        callbacks[0]()

    header = csv_rows(jobs.job_path(ExportJob.objects.get()).read_bytes())[0]
    with translation.override("zh-hans"):
        assert header[0] == gettext("Customer code") != "Customer code"


def test_asking_twice_for_the_same_large_export_gives_the_same_job(am, book, low_threshold):
    first = api(am).get("/api/v1/customers/export/", {"tier": "A1"})
    second = api(am).get("/api/v1/customers/export/", {"tier": "A1"})

    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"] and ExportJob.objects.count() == 1


@pytest.mark.parametrize("query", [{"format": "pdf"}, {"tier": "Z9"}, {"industry": "nope"}])
def test_an_api_export_with_a_bad_format_or_filter_is_a_400(am, query):
    response = api(am).get("/api/v1/customers/export/", query)

    assert response.status_code == 400 and response.json()["errors"]
