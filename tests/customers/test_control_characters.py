"""Control characters (ESC, BEL...) are refused by the page forms and the import as the API refuses them, and
rows that hold them from before the check still export (openpyxl refuses them in a cell)."""

import importlib
import inspect
import io

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook
from rest_framework.test import APIClient

from customers.imports import reader, services
from customers.models import Customer, Segment
from kam.form_helpers import RefuseControlCharacters
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db

MESSAGE = "Remove the control characters (such as ESC or BEL) from this text."


def test_the_customer_page_form_shows_a_field_error_and_saves_nothing(client, am):
    client.force_login(am)

    response = client.post(reverse("customers:create"), {"name": "北京\x1b[31m工商银行", "status": "prospect"})

    assert response.status_code == 200
    assert response.context["form"].errors["name"] == [MESSAGE]
    assert not Customer.objects.exists()


def test_the_segment_page_form_shows_a_field_error(client, am):
    client.force_login(am)

    response = client.post(reverse("customers:segment-create"), {"name": "大客户\x07"})

    assert response.status_code == 200
    assert response.context["form"].errors["name"] == [MESSAGE]
    assert not Segment.objects.exists()


# Forms that only filter or search a list: their text is never saved.
FILTER_FORMS = {"LookupForm", "RunForm", "TierChangeFilterForm", "UploadForm", "PipelineFilterForm", "RuleTestForm",
                "CatalogueFilterForm", "DefinitionForm"}  # fmt: skip
FORM_MODULES = ["customers.forms.customers", "customers.forms.segments", "customers.forms.tiers",
                "customers.forms.coverage", "customers.forms.imports", "opportunities.forms",
                "opportunities.board_views", "orders.forms"]  # fmt: skip


def test_every_page_form_that_saves_text_refuses_control_characters():
    unguarded = []
    for module in map(importlib.import_module, FORM_MODULES):
        for name, form in inspect.getmembers(module, inspect.isclass):
            if not issubclass(form, forms.BaseForm) or form.__module__ != module.__name__ or name in FILTER_FORMS:
                continue
            if not issubclass(form, RefuseControlCharacters):
                unguarded.append(f"{module.__name__}.{name}")

    assert not unguarded


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_a_row_saved_before_the_check_still_exports_without_them(am, kind):
    customer = CustomerFactory(account_manager=am)
    Customer.objects.filter(pk=customer.pk).update(name="北京\x07工商\x1b银行", short_name="\x7f工行")
    segment = Segment.objects.create(name="导出\x07", owner=am, definition={})
    client = APIClient()
    client.force_login(am)

    response = client.get(f"/api/v1/segments/{segment.pk}/export/?format={kind}")

    assert response.status_code == 200
    assert "\x07" not in response["Content-Disposition"]
    if kind == "xlsx":
        rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.iter_rows(values_only=True))
    else:
        rows = [line.split(",") for line in b"".join(response.streaming_content).decode("utf-8-sig").splitlines()]
    assert ["北京工商银行", "工行"] == [rows[1][1], rows[1][2]]


def test_an_imported_row_with_control_characters_or_an_endless_number_is_a_row_error(steward):
    text = "名称,地址,员工数\n北京\x1b工商银行,,\n杭州科技有限公司,,inf\n"
    upload = SimpleUploadedFile("customers.csv", text.encode())

    rows = services.customer_import_preview(rows=reader.read_rows(upload), by=steward)

    assert rows[0].errors == {"name": [MESSAGE]}
    assert rows[1].errors == {"employees": ["Enter a whole number."]}
