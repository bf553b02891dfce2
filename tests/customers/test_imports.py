"""Customer import: preview shows errors and duplicates, confirmed rows import all-or-nothing."""

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from customers.imports import reader, services
from customers.models import Customer
from tests.customers.factories import CustomerFactory, credit_code

pytestmark = pytest.mark.django_db


def xlsx(rows: list[list]) -> SimpleUploadedFile:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("customers.xlsx", buffer.getvalue())


HEADER = ["名称", "统一社会信用代码", "地区代码", "行业代码", "电话", "客户经理"]


def test_preview_reports_errors_duplicates_and_repeats_without_writing(steward, am):
    CustomerFactory(name="中国工商银行股份有限公司北京市分行", region_id="110000")
    upload = xlsx(
        [
            HEADER,
            ["杭州云栖科技有限公司", credit_code(11), "330106", "I", "0571-88880001", "am"],
            ["北京工行", "", "110000", "J", "", ""],
            ["宁波错码有限公司", "91330100MA2CXY7Q1X", "330200", "C", "", ""],
            ["温州未知有限公司", "", "999999", "Z", "12", "nobody"],
            ["杭州云栖科技有限公司", "", "330106", "I", "", ""],
        ]
    )

    rows = services.customer_import_preview(rows=reader.read_rows(upload), by=steward)

    assert [r.line for r in rows] == [2, 3, 4, 5, 6]
    assert rows[0].ok and not rows[0].needs_confirmation
    assert rows[1].needs_confirmation and rows[1].duplicates[0].customer.name.endswith("北京市分行")
    assert set(rows[2].errors) == {"credit_code"}
    assert set(rows[3].errors) == {"region", "industry", "phone", "account_manager"}
    assert rows[4].repeats_line == 2
    assert Customer.objects.count() == 1


def test_import_refuses_a_file_with_errors_and_writes_nothing(steward):
    upload = xlsx([HEADER, ["嘉兴好友有限公司", "", "330400", "C", "", ""], ["坏行", "", "000000", "", "", ""]])
    with pytest.raises(ValidationError):
        services.customer_import(rows=reader.read_rows(upload), by=steward, confirmed_lines=set())
    assert not Customer.objects.filter(name="嘉兴好友有限公司").exists()


def test_import_creates_clean_rows_and_only_the_confirmed_duplicates(steward, am):
    CustomerFactory(name="中国工商银行股份有限公司北京市分行", region_id="110000")
    rows = reader.read_rows(
        xlsx(
            [
                HEADER,
                ["杭州云栖科技有限公司", credit_code(12), "330106", "I", "0571-88880001", "am"],
                ["北京工行", "", "110000", "J", "", ""],
                ["中国建设银行股份有限公司北京市分行", "", "110000", "J", "", ""],
                ["北京建行", "", "110000", "J", "", ""],
            ]
        )
    )

    created = services.customer_import(rows=rows, by=steward, confirmed_lines={3})

    names = set(Customer.objects.values_list("name", flat=True))
    assert created == 3
    assert {"杭州云栖科技有限公司", "北京工行", "中国建设银行股份有限公司北京市分行"} <= names
    assert "北京建行" not in names  # repeats line 4 of the file and was not confirmed
    imported = Customer.objects.get(name="杭州云栖科技有限公司")
    assert imported.account_manager == am and imported.region_id == "330106"
    assert imported.history.first().history_user == steward


def test_csv_in_gb18030_is_read(steward):
    content = "名称,地区代码\n绍兴黄酒有限公司,330600\n".encode("gb18030")
    rows = reader.read_rows(SimpleUploadedFile("c.csv", content))
    assert rows == [{"name": "绍兴黄酒有限公司", "region": "330600"}]


def test_files_without_a_name_column_or_of_another_type_are_refused(steward):
    with pytest.raises(ValidationError):
        reader.read_rows(SimpleUploadedFile("c.csv", "地址\n某地\n".encode()))
    with pytest.raises(ValidationError):
        reader.read_rows(SimpleUploadedFile("c.txt", b"x"))
    with pytest.raises(ValidationError):
        reader.read_rows(SimpleUploadedFile("c.xlsx", b"not a zip"))


def test_only_data_stewards_import(am):
    with pytest.raises(PermissionDenied):
        services.customer_import_preview(rows=[{"name": "x"}], by=am)


def test_import_page_previews_then_imports_confirmed_rows(client, steward):
    from django.urls import reverse

    CustomerFactory(name="中国工商银行股份有限公司北京市分行", region_id="110000")
    client.force_login(steward)
    url = reverse("customers:import")
    upload = xlsx(
        [HEADER, ["丽水山耕农业有限公司", "", "331100", "A", "", ""], ["北京工行", "", "110000", "J", "", ""]]
    )

    preview = client.post(url, {"file": upload})
    assert preview.status_code == 200
    assert "北京工行" in preview.content.decode() and not Customer.objects.filter(name="北京工行").exists()

    done = client.post(url, {"action": "confirm", "confirm": ["3"]})
    assert done.status_code == 302
    assert Customer.objects.filter(name__in=["丽水山耕农业有限公司", "北京工行"]).count() == 2


def test_import_page_is_a_404_for_account_managers(client, am):
    from django.urls import reverse

    client.force_login(am)
    assert client.get(reverse("customers:import")).status_code == 404
