"""Customer import from XLSX or CSV for data stewards: preview every row (errors, likely duplicates,
repeats inside the file), then import the accepted rows in one transaction — all or nothing."""

import csv
import io
import zipfile
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from channels.models import User
from customers import policy, services
from customers.duplicates import find_duplicates
from customers.identifiers import clean_credit_code
from customers.models import Customer, Industry, Region
from customers.naming import name_key

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


@dataclass
class ImportRow:
    line: int
    values: dict[str, str]
    errors: dict[str, list[str]] = field(default_factory=dict)
    duplicates: list = field(default_factory=list)  # DuplicateCandidate, or a note about a repeat in the file
    repeats_line: int | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def needs_confirmation(self) -> bool:
        return self.ok and (bool(self.duplicates) or self.repeats_line is not None)


def _require_steward(by: User) -> None:
    if not policy.is_data_steward(by):
        raise PermissionDenied(_("Only a data steward may import customers."))


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


def _to_fields(values: dict[str, str], errors: dict[str, list[str]]) -> dict:
    """Turn text cells into service arguments, collecting per-field errors."""
    fields: dict = {}
    for key in ("name", "short_name", "address", "postal_code", "phone", "email", "website"):
        if values.get(key):
            fields[key] = values[key]
    if values.get("credit_code"):
        fields["credit_code"] = clean_credit_code(values["credit_code"])
    lookups = (
        ("region", lambda v: Region.objects.get(code=v)),
        ("industry", lambda v: Industry.objects.get(code=v.upper()[:1])),
        ("parent", lambda v: Customer.objects.live().get(code=v.upper())),
        ("account_manager", lambda v: User.objects.get(username=v, is_active=True)),
    )
    messages = {
        "region": _("Unknown region code (GB/T 2260, 6 digits)."),
        "industry": _("Unknown industry section (GB/T 4754, a letter A–T)."),
        "parent": _("No customer has this code."),
        "account_manager": _("No active staff member has this login."),
    }
    for key, lookup in lookups:
        if values.get(key):
            try:
                fields[key] = lookup(values[key])
            except (Customer.DoesNotExist, Region.DoesNotExist, Industry.DoesNotExist, User.DoesNotExist):
                errors.setdefault(key, []).append(messages[key])
    if values.get("employees"):
        try:
            fields["employees"] = int(float(values["employees"]))
        except ValueError:
            errors.setdefault("employees", []).append(_("Enter a whole number."))
    if values.get("tier"):
        tier = values["tier"].upper()
        if tier not in {"A1", "A2", "B1", "B2", "C", "D"}:
            errors.setdefault("tier", []).append(_("A tier is one of A1, A2, B1, B2, C, D."))
        else:
            fields["tier"] = tier
    return fields


def preview(*, rows: list[dict[str, str]], by: User) -> list[ImportRow]:
    """Validate every row without writing: field errors, likely duplicates in the database and
    rows that repeat an earlier row of the same file."""
    _require_steward(by)
    result: list[ImportRow] = []
    seen: dict[tuple, int] = {}
    for index, values in enumerate(rows, start=2):  # line 1 is the header
        row = ImportRow(line=index, values=values)
        fields = _to_fields(values, row.errors)
        candidate = Customer(**fields)
        try:
            services.validate_customer(candidate, by=by)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                row.errors.setdefault(key, []).extend(messages)
        if row.ok:
            row.duplicates = find_duplicates(
                name=candidate.name, credit_code=candidate.credit_code, phone=candidate.phone, parent=candidate.parent
            )
            key = name_key(candidate.name)
            for marker in ((key.core, key.region), ("credit", candidate.credit_code)):
                if marker[1] and marker in seen:
                    row.repeats_line = seen[marker]
                seen.setdefault(marker, index)
        result.append(row)
    return result


def run(*, rows: list[dict[str, str]], by: User, confirmed_lines: set[int]) -> int:
    """Import every valid row; rows with likely duplicates only when their line is confirmed.
    One transaction: if any accepted row fails now (data changed since the preview), nothing is
    written and the error says which line."""
    checked = preview(rows=rows, by=by)
    if any(not row.ok for row in checked):
        raise ValidationError(_("Some rows have errors; correct the file and upload it again."))
    accepted = [row for row in checked if not row.needs_confirmation or row.line in confirmed_lines]
    with transaction.atomic():
        for row in accepted:
            fields = _to_fields(row.values, {})
            try:
                services.customer_create(by=by, confirm_not_duplicate=True, reason=_("Imported"), **fields)
            except ValidationError as exc:
                raise ValidationError(
                    _("Line %(line)d: %(error)s") % {"line": row.line, "error": "; ".join(exc.messages)}
                ) from exc
    return len(accepted)
