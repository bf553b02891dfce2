"""Pages of saved segments: list, form with a live preview count, detail with the member table, export,
freeze/copy/delete, and the movement report. Views stay thin: customers.segments.selectors reads,
customers.segments.services writes, customers.segments.exports exports (customers.views.exports: at once when
small, in the background when large); the forms are customers.forms.segments.

Someone else's private segment is a 404; a shared segment can be read by everyone but changed only by its
owner (the buttons are not offered, and the write URLs answer 404 to others)."""

from datetime import date

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from customers.forms.segments import DefinitionForm, SegmentForm
from customers.models import Segment
from customers.policy import may_change_segment, may_see_spend
from customers.segments import criteria, selectors, services
from customers.segments import exports as segment_exports
from customers.views.exports import FORMATS, export_page
from kam.form_helpers import add_service_errors
from kam.pagination import CappedPaginator, page_of

PAGE_SIZE = 25


def _segment(request, pk: int) -> Segment:
    try:
        return selectors.segment_detail(user=request.user, pk=pk)
    except Segment.DoesNotExist:
        raise Http404 from None


def _own_segment(request, pk: int) -> Segment:
    segment = _segment(request, pk)
    if not may_change_segment(request.user, segment):
        raise Http404
    return segment


# --- list, create, edit ----------------------------------------------------------------------------------


@require_GET
def segment_list(request):
    rows = list(selectors.segment_list(user=request.user)[:500])
    context = {
        "mine": [s for s in rows if s.owner_id == request.user.pk],
        "shared": [s for s in rows if s.owner_id != request.user.pk],
    }
    return render(request, "customers/segments/list.html", context)


@require_http_methods(["GET", "POST"])
def segment_create(request):
    form = SegmentForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            segment = services.segment_create(owner=request.user, **form.service_fields())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Segment %(name)s saved.") % {"name": segment.name})
            return redirect("customers:segment-detail", pk=segment.pk)
    return render(request, "customers/segments/form.html", {"form": form})


@require_http_methods(["GET", "POST"])
def segment_edit(request, pk: int):
    segment = _own_segment(request, pk)
    if segment.is_frozen:
        messages.error(request, _("A frozen segment cannot be changed; copy it to make a new one."))
        return redirect("customers:segment-detail", pk=segment.pk)
    form = SegmentForm(request.POST or None, user=request.user, segment=segment)
    if request.method == "POST" and form.is_valid():
        try:
            services.segment_update(segment=segment, by=request.user, **form.service_fields())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("customers:segment-detail", pk=segment.pk)
    return render(request, "customers/segments/form.html", {"form": form, "segment": segment})


@require_GET
def segment_preview(request):
    """The "how many customers" line under the form, refreshed by htmx as the criteria change."""
    form = DefinitionForm(request.GET, user=request.user)
    context = {"form": form}
    if form.is_valid():
        context["paginator"] = CappedPaginator(selectors.preview_members(form.definition, user=request.user), 1)
    return render(request, "customers/segments/_preview.html", context)


# --- detail, count, export ----------------------------------------------------------------------------------


@require_GET
def segment_detail(request, pk: int):
    segment = _segment(request, pk)
    context = {"segment": segment, "definition_error": ""}
    try:
        members = selectors.member_rows(selectors.segment_members(segment, user=request.user))
        context["paginator"], context["page"], context["page_error"] = page_of(request, members, PAGE_SIZE)
    except ValidationError as exc:
        context["definition_error"] = " ".join(exc.messages)
    context["show_finance"] = may_see_spend(request.user)
    if request.htmx:
        return render(request, "customers/segments/_member_table.html", context)
    # Only shared segments are recorded monthly; the chart is drawn when there is something to draw.
    movements = selectors.segment_movements(segment, user=request.user) if segment.is_shared else []
    context.update(
        criteria=criteria.describe_definition(segment.definition),
        can_change=may_change_segment(request.user, segment),
        chart=selectors.movement_chart(movements) if movements else None,
    )
    return render(request, "customers/segments/detail.html", context)


@require_GET
def segment_count(request, pk: int):
    """A segment's live member count (capped), loaded by each row of the list page on its own."""
    segment = _segment(request, pk)
    try:
        paginator = CappedPaginator(selectors.segment_members(segment, user=request.user), 1)
    except ValidationError:
        paginator = None
    return render(request, "customers/segments/_count.html", {"paginator": paginator})


@require_http_methods(["GET", "POST"])
def segment_export(request, pk: int):
    """Every member the user may see: downloaded at once when few, prepared in the background when many."""
    segment = _segment(request, pk)
    fmt = request.GET.get("format", "xlsx")
    if fmt not in FORMATS:
        raise Http404
    back = reverse("customers:segment-detail", args=[segment.pk])
    try:
        source = segment_exports.segment_export_source(segment, user=request.user)
    except ValidationError as exc:  # the definition uses a criterion that is no longer available
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    parameters = segment_exports.segment_parameters(segment)
    return export_page(request, kind=segment_exports.SEGMENT, parameters=parameters, fmt=fmt, source=source, back=back)


# --- freeze, copy, delete ------------------------------------------------------------------------------------


@require_POST
def segment_freeze(request, pk: int):
    segment = _own_segment(request, pk)
    try:
        services.segment_freeze(segment=segment, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The segment is frozen: its members are now a fixed list."))
    return redirect("customers:segment-detail", pk=segment.pk)


@require_POST
def segment_copy(request, pk: int):
    segment = _segment(request, pk)
    try:
        copy = services.segment_copy(segment=segment, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("customers:segment-detail", pk=segment.pk)
    messages.success(request, _("Copied to %(name)s.") % {"name": copy.name})
    return redirect("customers:segment-edit", pk=copy.pk)


@require_POST
def segment_delete(request, pk: int):
    segment = _own_segment(request, pk)
    try:
        services.segment_delete(segment=segment, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("customers:segment-detail", pk=segment.pk)
    messages.success(request, _("Segment %(name)s deleted.") % {"name": segment.name})
    return redirect("customers:segment-list")


# --- movement report ---------------------------------------------------------------------------------------


def _month(value: str) -> date:
    try:
        year, month = (int(part) for part in value.split("-"))
        return date(year, month, 1)
    except ValueError:
        raise Http404 from None


@require_GET
def segment_movements(request, pk: int):
    segment = _segment(request, pk)
    movements = selectors.segment_movements(segment, user=request.user)
    context = {
        "segment": segment,
        "movements": list(reversed(movements)),  # the table reads newest first
        "chart": selectors.movement_chart(movements),
    }
    return render(request, "customers/segments/movements.html", context)


@require_GET
def segment_movement_list(request, pk: int, month: str, kind: str):
    segment = _segment(request, pk)
    if kind not in selectors.MOVEMENT_KINDS:
        raise Http404
    day = _month(month)
    customers = selectors.member_rows(selectors.movement_customers(segment, user=request.user, month=day, kind=kind))
    paginator, page, page_error = page_of(request, customers, PAGE_SIZE)
    context = {
        "segment": segment, "month": day, "kind": kind, "paginator": paginator, "page": page,
        "page_error": page_error, "show_finance": may_see_spend(request.user),
        "back": reverse("customers:segment-movements", args=[segment.pk]),
    }  # fmt: skip
    template = "customers/segments/_member_table.html" if request.htmx else "customers/segments/movement_list.html"
    return render(request, template, context)
