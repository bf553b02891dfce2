"""Segment exports: the members a user may see as a streamed CSV (UTF-8 with a byte-order mark, for Excel
zh-CN) or an XLSX workbook, capped at EXPORT_ROW_CAP rows, finance columns only for those who may see spend,
and every cell a spreadsheet would run as a formula escaped. `export_response` wraps either as a download for
the segment page and the API alike."""

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from channels.models import User
from customers.models import Customer, Segment
from customers.policy import may_see_spend
from customers.segments.selectors import member_rows, segment_members
from kam.validators import strip_control_characters

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_ROW_CAP = 50_000
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _safe(value):
    """Text a spreadsheet would run as a formula gets a leading apostrophe (OWASP CSV injection); control
    characters are dropped (openpyxl refuses them: rows saved before input refused them must still export)."""
    value = strip_control_characters(value)
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


@dataclass(frozen=True)
class ExportColumn:
    label: str
    value: Callable[[Customer], Any]
    finance: bool = False


EXPORT_COLUMNS = (
    ExportColumn(_("Customer code"), lambda c: c.code or ""),
    ExportColumn(_("Name"), lambda c: c.name),
    ExportColumn(_("Short name"), lambda c: c.short_name),
    ExportColumn(_("Tier"), lambda c: c.tier),
    ExportColumn(_("Status"), lambda c: str(c.get_status_display())),
    ExportColumn(_("Industry"), lambda c: c.industry.label if c.industry else ""),
    ExportColumn(_("Region"), lambda c: c.region.name if c.region else ""),
    ExportColumn(_("Account manager"), lambda c: str(c.account_manager) if c.account_manager else ""),
    ExportColumn(_("Members"), lambda c: c.members_count),
    ExportColumn(_("Value score"), lambda c: c.value_score, finance=True),
    ExportColumn(_("Average monthly revenue (RMB)"), lambda c: c.avg_monthly_revenue, finance=True),
)


def export_columns(user: User) -> list[ExportColumn]:
    """Finance columns only for people who may see spend (customers.policy)."""
    return [col for col in EXPORT_COLUMNS if not col.finance or may_see_spend(user)]


def export_rows(segment: Segment, *, user: User) -> Iterator[list]:
    """The header, then one row per member the user may see (at most EXPORT_ROW_CAP), formula-escaped.
    The member query is built now (a definition that no longer applies raises here, before a response
    starts); rows are read later in chunks from a server-side cursor, so memory stays flat."""
    columns = export_columns(user)
    members = member_rows(segment_members(segment, user=user))[:EXPORT_ROW_CAP]
    return _export_rows(columns, members)


def _export_rows(columns: list[ExportColumn], members: QuerySet[Customer]) -> Iterator[list]:
    yield [str(col.label) for col in columns]
    for customer in members.iterator(chunk_size=2000):
        yield [_safe(col.value(customer)) for col in columns]


class _Echo:
    def write(self, value):
        return value


def export_csv(segment: Segment, *, user: User) -> Iterator[str]:
    """CSV text chunks, starting with a UTF-8 byte-order mark so Excel (zh-CN) reads the Chinese right."""
    return _csv_lines(export_rows(segment, user=user))


def _csv_lines(rows: Iterator[list]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"
    for row in rows:
        yield writer.writerow(["" if v is None else v for v in row])


def export_xlsx(segment: Segment, *, user: User) -> bytes:
    """An XLSX workbook built in write-only mode (rows streamed into the zip, not held as cell objects)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=gettext("Customers"))
    for row in export_rows(segment, user=user):
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_filename(segment: Segment, extension: str) -> str:
    name = re.sub(r'[\\/:*?"<>|\s]+', "_", strip_control_characters(segment.name)).strip("_") or "segment"
    return f"{name}-{timezone.localdate():%Y%m%d}.{extension}"


def export_response(segment: Segment, *, user: User, kind: str) -> HttpResponse:
    """The export as a download: CSV streamed, XLSX built in memory (both capped at EXPORT_ROW_CAP rows).
    Shared by the page and the API."""
    if kind == "csv":
        response = StreamingHttpResponse(export_csv(segment, user=user), content_type="text/csv; charset=utf-8")
        filename = export_filename(segment, "csv")
    else:
        response = HttpResponse(export_xlsx(segment, user=user), content_type=XLSX_TYPE)
        filename = export_filename(segment, "xlsx")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response
