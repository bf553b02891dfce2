"""The supervisors' wall board (open tickets by SLA state and queue, breaches today, the longest waiting; it
refreshes itself every 30 s) and the ticket list behind each number (by SLA state, queue, kind)."""

import datetime as dt

from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from channels.models import Workstation
from kam.pagination import page_of
from kam.validators import parse_id
from service import policy, selectors
from service.models import Ticket

STATES = (selectors.STATE_BREACHED, selectors.STATE_AT_RISK, selectors.STATE_ON_TRACK)


def _today_start() -> dt.datetime:
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


@require_GET
def wall_board(request):
    if not policy.may_see_wall_board(request.user):
        raise Http404
    context = {**selectors.wall_board(request.user, today_start=_today_start()), "now": timezone.now()}
    template = "service/_wall.html" if request.htmx else "service/wall_board.html"
    return render(request, template, context)


@require_GET
def ticket_list(request):
    if not policy.may_see_wall_board(request.user):
        raise Http404
    state = request.GET.get("state", "")
    state = state if state in STATES else ""
    kind = request.GET.get("kind", "")
    kind = kind if kind in Ticket.Kind.values else ""
    queue_id = parse_id(request.GET.get("queue"))
    rows = selectors.ticket_list(request.user, state=state, queue_id=queue_id, kind=kind)
    paginator, page, message = page_of(request, rows, 50)
    return render(request, "service/ticket_list.html", {
        "page": page or paginator.page(1), "page_error": message, "state": state, "kind": kind,
        "queue": Workstation.objects.filter(pk=queue_id).first() if queue_id else None, "now": timezone.now(),
        "kinds": Ticket.Kind.choices,
    })  # fmt: skip
