"""The organisation page (who serves which customer class, and the teams: read-only, for everyone),
everyone's own notification inbox, and their own exports ("My exports" and the download of a prepared file)."""

from django.conf import settings
from django.contrib import messages
from django.db.models import Case, IntegerField, Prefetch, Value, When
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from channels import notifications as inbox
from channels.exports import ExportRefused, kind_label, responses
from channels.exports import services as exports
from channels.models import ChannelResponsibility, ChannelType, CustomerClass, ExportJob, Notification, Team, User
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


# --- exports ----------------------------------------------------------------------------------------------------


@require_GET
def export_list(request):
    """My exports: the newest 20, with their state; the table reloads itself while one is being prepared."""
    jobs = exports.recent_exports(user=request.user)
    for job in jobs:
        job.kind_label = kind_label(job.kind)
        job.is_expired = exports.is_expired(job)
    pending = any(job.status in exports.ACTIVE for job in jobs)
    context = {"jobs": jobs, "pending": pending, "export_ttl_hours": settings.KAM_EXPORT_TTL_HOURS}
    template = "channels/_export_table.html" if request.htmx else "channels/exports.html"
    return render(request, template, context)


@require_GET
def export_download(request, pk: int):
    """A prepared file, for the person who asked for it alone, while they may still export what it holds;
    anyone else gets a 404, and an expired file a page that says so (410)."""
    job = get_object_or_404(ExportJob.objects.visible_to(request.user), pk=pk)
    try:
        path = exports.export_file(job, user=request.user)
    except ExportRefused:
        raise Http404 from None
    except exports.ExportExpired:
        return render(request, "channels/export_gone.html", {"job": job}, status=410)
    except exports.ExportNotReady:
        if job.status == ExportJob.Status.FAILED:
            messages.error(request, _("This export failed: %(error)s") % {"error": job.error})
        else:
            messages.info(request, _("This export is still being prepared; you will be notified when it is ready."))
        return redirect("channels:exports")
    return responses.file_response(job, path)
