"""Reading an uploaded customer file (pure logic, no database): an .xlsx or .csv of at most MAX_ROWS rows
becomes a list of dicts keyed by field name, the column headers recognised in Chinese as operators write
them or by field name. Size, zip-bomb and encoding limits are checked before parsing. The import itself is
customers.imports.services."""

import csv
import io
import zipfile

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from openpyxl import load_workbook

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024  # an xlsx is a zip: refuse zip bombs before parsing
MAX_ROWS = 5000

# Column headers accepted (Chinese as used by operators, or the field name) → field.
COLUMNS = {
    "name": ("名称", "客户名称", "单位名称", "name"),
    "short_name": ("简称", "short_name"),
    "credit_code": ("统一社会信用代码", "信用代码", "credit_code"),
    "address": ("地址", "address"),
    "postal_code": ("邮编", "邮政编码", "postal_code"),
    "region": ("地区代码", "行政区划代码", "region"),
    "industry": ("行业代码", "行业", "industry"),
    "phone": ("电话", "总机", "phone"),
    "email": ("邮箱", "电子邮件", "email"),
    "website": ("网址", "website"),
    "employees": ("员工数", "employees"),
    "parent": ("上级客户编码", "parent"),
    "account_manager": ("客户经理", "客户经理工号", "account_manager"),
    "tier": ("等级", "tier"),
}
HEADER_TO_FIELD = {header.lower(): field for field, headers in COLUMNS.items() for header in headers}


def read_rows(upload) -> list[dict[str, str]]:
    """Parse an uploaded .xlsx or .csv into dicts keyed by field name. Raises ValidationError."""
    if upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError(_("The file is larger than 5 MB; split it."))
    name = (upload.name or "").lower()
    content = upload.read()
    if name.endswith(".xlsx"):
        table = _xlsx_table(content)
    elif name.endswith(".csv"):
        table = _csv_table(content)
    else:
        raise ValidationError(_("Upload an Excel (.xlsx) or CSV file."))
    if not table:
        raise ValidationError(_("The file is empty."))
    header = [HEADER_TO_FIELD.get(str(h or "").strip().lower()) for h in table[0]]
    if "name" not in header:
        raise ValidationError(_("The first row must hold the column names; a 名称 (name) column is required."))
    rows = []
    for cells in table[1:]:
        values = {f: ("" if v is None else str(v).strip()) for f, v in zip(header, cells, strict=False) if f}
        if any(values.values()):
            rows.append(values)
    if len(rows) > MAX_ROWS:
        raise ValidationError(_("At most %(n)d rows per file.") % {"n": MAX_ROWS})
    return rows


def _xlsx_table(content: bytes) -> list[list]:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNCOMPRESSED_BYTES:
                raise ValidationError(_("The spreadsheet unpacks to more than 50 MB; split it."))
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ValidationError(_("This is not a readable .xlsx file.")) from exc
    sheet = workbook.worksheets[0]
    table = [list(row) for _i, row in zip(range(MAX_ROWS + 2), sheet.iter_rows(values_only=True), strict=False)]
    workbook.close()
    return table


def _csv_table(content: bytes) -> list[list]:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GB18030 by default
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValidationError(_("The CSV file is neither UTF-8 nor GB18030 encoded."))
    return [row for _i, row in zip(range(MAX_ROWS + 2), csv.reader(io.StringIO(text)), strict=False)]
