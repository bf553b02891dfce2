"""The organisation page: who serves which customer class, and the teams (read-only, for everyone)."""

from django.db.models import Prefetch
from django.shortcuts import render
from django.views.decorators.http import require_GET

from channels.models import ChannelResponsibility, ChannelType, CustomerClass, Team, User


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
