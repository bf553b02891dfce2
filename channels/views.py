"""The organisation page (who serves which customer class, and the teams: read-only, for everyone) and
everyone's own notification inbox."""

from django.contrib import messages
from django.db.models import Case, IntegerField, Prefetch, Value, When
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from channels import notifications as inbox
from channels.models import ChannelResponsibility, ChannelType, CustomerClass, Notification, Team, User
from kam.http import safe_next
from kam.pagination import page_of

PAGE_SIZE = 25


@require_GET
def responsibility_matrix(request):
    channels = ChannelType.objects.prefetch_related(
        Prefetch("responsibilities", queryset=ChannelResponsibility.objects.order_by())
    )
    rows = []
    for channel in channels:
        cells = {cell.customer_class: cell for cell in channel.responsibilities.all()}
        rows.append({"channel": channel, "cells": [cells.get(value) for value in CustomerClass.values]})
    teams = Team.objects.select_related("supervisor", "industry").prefetch_related(
        Prefetch("members", queryset=User.objects.filter(is_active=True).order_by("username"))
    )
    context = {"classes": CustomerClass.choices, "rows": rows, "teams": teams}
    return render(request, "channels/matrix.html", context)


# --- notifications -----------------------------------------------------------------------------------


@require_GET
def notification_list(request):
    rows = Notification.objects.visible_to(request.user).order_by(
        Case(When(read_at__isnull=True, then=Value(0)), default=Value(1), output_field=IntegerField()),
        "-created_at", "-pk",
    )  # fmt: skip
    paginator, page, page_error = page_of(request, rows, PAGE_SIZE)
    for note in page.object_list if page else ():
        note.kind_label = inbox.kind_label(note.kind)
    context = {"page": page, "paginator": paginator, "page_error": page_error}
    return render(request, "channels/notifications.html", context)


@require_POST
def notifications_read(request):
    count = inbox.mark_read(request.user)
    messages.success(request, _("%(n)d notifications marked as read.") % {"n": count})
    return redirect(safe_next(request, reverse("channels:notifications")))
