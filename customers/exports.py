"""Customer exports: the columns of a customer row (segment members and the customer list alike) and the
export kinds this app registers with channels.exports from `CustomersConfig.ready()`:

- "segment" (`customers.segments.exports`): the members of a segment the user may see;
- "customers": the customer list page (or the API's list) with the user's filters, exactly the rows they see.

Columns follow the one field policy (customers.policy.hidden_customer_fields): call-center agents get no
finance columns. Small exports are answered in the request, large ones become background jobs (channels)."""

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from channels.exports import ExportRefused, ExportSource, register_export_kind
from channels.models import User
from customers.models import Customer
from customers.policy import hidden_customer_fields, may_browse_customers
from kam.validators import strip_control_characters

CUSTOMER_LIST = "customers"
MAX_VALUES_PER_FILTER = 20
MAX_FILTER_VALUE_LENGTH = 200


@dataclass(frozen=True)
class ExportColumn:
    label: str
    value: Callable[[Customer], Any]
    field: str = ""  # the model field it shows: hidden when the field policy hides that field


EXPORT_COLUMNS = (
    ExportColumn(_("Customer code"), lambda c: c.code or "", "code"),
    ExportColumn(_("Name"), lambda c: c.name, "name"),
    ExportColumn(_("Short name"), lambda c: c.short_name, "short_name"),
    ExportColumn(_("Tier"), lambda c: c.tier, "tier"),
    ExportColumn(_("Status"), lambda c: _status_label(c.status), "status"),
    ExportColumn(_("Industry"), lambda c: c.industry.label if c.industry else "", "industry"),
    ExportColumn(_("Region"), lambda c: c.region.name if c.region else "", "region"),
    ExportColumn(
        _("Account manager"), lambda c: str(c.account_manager) if c.account_manager else "", "account_manager"
    ),
    ExportColumn(_("Members"), lambda c: c.members_count, "members_count"),
    ExportColumn(_("Value score"), lambda c: c.value_score, "value_score"),
    ExportColumn(_("Average monthly revenue (RMB)"), lambda c: c.avg_monthly_revenue, "avg_monthly_revenue"),
)


@functools.cache
def _status_labels(language: str) -> dict[str, str]:
    return {value: str(label) for value, label in Customer.Status.choices}


def _status_label(status: str) -> str:
    """The status's label in the active language (looked up once per language, not translated per row)."""
    return _status_labels(get_language() or "").get(status, status)


def export_columns(user: User) -> list[ExportColumn]:
    """The columns the user may read (customers.policy.hidden_customer_fields: no finance for agents)."""
    hidden = hidden_customer_fields(user)
    return [col for col in EXPORT_COLUMNS if col.field not in hidden]


def file_stem(name: str) -> str:
    """A download name: the list's name without characters file systems refuse, and today's date."""
    stem = re.sub(r'[\\/:*?"<>|\s]+', "_", strip_control_characters(name)).strip("_") or "export"
    return f"{stem[:100]}-{timezone.localdate():%Y%m%d}"


def customer_source(user: User, customers: QuerySet[Customer], *, title: str) -> ExportSource:
    """Customer rows as an export (the queryset already scoped, filtered, ordered and joined)."""
    columns = export_columns(user)
    return ExportSource(
        header=[str(col.label) for col in columns],
        rows=customers.select_related(None).select_related("account_manager", "industry", "region"),
        cells=lambda customer: [col.value(customer) for col in columns],
        title=title, file_stem=file_stem(title), sheet_title=gettext("Customers"),
    )  # fmt: skip


# --- the customer list --------------------------------------------------------------------------------------


def customer_list_parameters(query: QueryDict, *, api: bool = False) -> dict:
    """The list's filters from a query string, as a job stores them: only the FilterSet's own names, each with at
    most MAX_VALUES_PER_FILTER values of at most MAX_FILTER_VALUE_LENGTH characters (nothing else is kept)."""
    from customers.api.filters import CustomerApiFilterSet
    from customers.filters import CustomerFilterSet

    names = (CustomerApiFilterSet if api else CustomerFilterSet).base_filters
    filters = {}
    for name in sorted(names):
        values = [v[:MAX_FILTER_VALUE_LENGTH] for v in query.getlist(name)[:MAX_VALUES_PER_FILTER] if v != ""]
        if values:
            filters[name] = values
    return {"filters": filters, "api": api}


def customer_list_rows(user: User, parameters: dict) -> QuerySet[Customer]:
    """The rows of the customer list (or the API's list) for these filters, in its order. The page ignores a
    filter whose value is invalid (and says so); the API answers 400, so a job started from it never has one —
    and if a filter no longer validates when the job runs (a team deleted), the job fails with the message."""
    from django.core.exceptions import ValidationError

    from customers.api.filters import CustomerApiFilterSet
    from customers.filters import customer_list_filterset
    from customers.selectors import customer_list

    data = QueryDict(mutable=True)
    filters = parameters.get("filters") if isinstance(parameters.get("filters"), dict) else {}
    for name, values in filters.items():
        if isinstance(values, list):
            data.setlist(str(name), [str(v) for v in values])
    if parameters.get("api"):
        filterset = CustomerApiFilterSet(data, queryset=customer_list(user=user))
        if not filterset.is_valid():
            raise ValidationError({name: [str(e) for e in errors] for name, errors in filterset.errors.items()})
        return filterset.qs.order_by("-pk")  # the API lists newest first
    queryset = customer_list_filterset(data, user=user).qs
    # The page's order, with the same unique last key.
    return queryset.order_by(*queryset.query.order_by, "-pk") if queryset.query.order_by else queryset.order_by("-pk")


def customer_list_source(user: User, parameters: dict) -> ExportSource:
    if not customer_list_allowed(user, parameters):
        raise ExportRefused(CUSTOMER_LIST)
    return customer_source(user, customer_list_rows(user, parameters), title=gettext("Customers"))


def customer_list_allowed(user: User, parameters: dict) -> bool:
    return may_browse_customers(user)


def register() -> None:
    """Called from CustomersConfig.ready()."""
    from customers.segments import exports as segment_exports

    register_export_kind(
        CUSTOMER_LIST, label=_("Customer list"), source=customer_list_source, allowed=customer_list_allowed
    )
    register_export_kind(
        segment_exports.SEGMENT, label=_("Segment members"), source=segment_exports.segment_source,
        allowed=segment_exports.segment_allowed,
    )  # fmt: skip
