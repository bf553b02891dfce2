"""The agents' follow-up call list (follow-ups due and unanswered) and the answer recorded from the call; the SLA
report (met and missed deadlines by kind, service tier or queue, per month) for supervisors."""

import datetime as dt

from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from kam.form_helpers import run_service
from kam.pagination import page_of
from service import policy, selectors
from service.forms import FollowUpForm
from service.models import SlaClock, Ticket
from service.services import follow_up as services


@require_GET
def call_list(request):
    if not policy.may_take_tickets(request.user):
        raise Http404
    paginator, page, message = page_of(request, selectors.follow_up_calls(request.user, now=timezone.now()), 50)
    return render(request, "service/follow_ups.html", {
        "page": page or paginator.page(1), "page_error": message, "form": FollowUpForm(),
    })  # fmt: skip


@require_POST
def record(request, pk: int):
    user = request.user
    if not policy.may_take_tickets(user):
        raise Http404
    item = selectors.follow_up_calls(user, now=timezone.now()).filter(pk=pk).first()
    if item is None:
        raise Http404
    form = FollowUpForm(request.POST)

    def act():
        data = form.cleaned_data
        services.answer_by_phone(item, by=user, answer=data["answer"], score=data["score"], comment=data["comment"])

    status = run_service(request, act, form=form, conflicts=(services.LinkRefused,))
    if status is None:
        return redirect("service:follow-ups")
    paginator, page, message = page_of(request, selectors.follow_up_calls(user, now=timezone.now()), 50)
    return render(request, "service/follow_ups.html", {
        "page": page or paginator.page(1), "page_error": message, "form": form, "failed": item.pk,
    }, status=status)  # fmt: skip


def _month(value: str) -> dt.date:
    try:
        return dt.datetime.strptime(value, "%Y-%m").date()
    except (TypeError, ValueError):
        return timezone.localdate().replace(day=1)


@require_GET
def sla_report(request):
    if not policy.may_see_wall_board(request.user):
        raise Http404
    month = _month(request.GET.get("month", ""))
    metric = request.GET.get("metric", SlaClock.Metric.RESOLUTION)
    metric = metric if metric in SlaClock.Metric.values else SlaClock.Metric.RESOLUTION
    dimension = request.GET.get("by", "kind")
    dimension = dimension if dimension in selectors.REPORT_DIMENSIONS else "kind"
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(month, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine((month.replace(day=28) + dt.timedelta(days=4)).replace(day=1), dt.time.min, tzinfo=zone)
    rows = selectors.sla_report(request.user, start=start, end=end, metric=metric, dimension=dimension)
    for row in rows:
        if dimension == "kind" and row["key"] in Ticket.Kind.values:
            row["label"] = Ticket.Kind(row["key"]).label
        else:
            row["label"] = row["key"]
    return render(request, "service/sla_report.html", {
        "rows": rows, "month": month, "metric": metric, "dimension": dimension,
        "metrics": SlaClock.Metric.choices,
    })  # fmt: skip
