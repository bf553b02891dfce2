"""Export pages: the customer list's export, and the one flow every export page follows (the segment export
too). A small export downloads at once (GET); a large one asks first, and the POST of that page starts a
background job (channels.exports) whose file the user downloads from the notification or from "My exports"."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from channels.exports import ExportSource, responses
from channels.exports.services import export_start, fits_in_request
from customers import exports
from customers.policy import may_browse_customers

FORMATS = ("xlsx", "csv")


def export_page(request, *, kind: str, parameters: dict, fmt: str, source: ExportSource, back: str):
    """GET: the file when the list is small, otherwise a page that offers to prepare it in the background.
    POST (from that page): start the job and go to "My exports"."""
    if request.method == "POST":
        try:
            export_start(user=request.user, kind=kind, parameters=parameters, fmt=fmt, source=source)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(back)
        messages.success(request, _("Your export is being prepared; you will be notified when the file is ready."))
        return redirect("channels:exports")
    if fits_in_request(source):
        return responses.immediate_response(source, fmt=fmt)
    context = {
        "title": source.title, "format": fmt, "back": back,
        "limit": settings.KAM_EXPORT_IMMEDIATE_MAX_ROWS, "ttl_hours": settings.KAM_EXPORT_TTL_HOURS,
    }  # fmt: skip
    return render(request, "customers/export_confirm.html", context)


@require_http_methods(["GET", "POST"])
def customer_export(request):
    """Exactly the customer list the user is looking at: the same filters (customers.filters.
    customer_list_filterset), the same visibility and order, and the columns their role may read."""
    if not may_browse_customers(request.user):
        raise Http404
    fmt = request.GET.get("format", "xlsx")
    if fmt not in FORMATS:
        raise Http404
    parameters = exports.customer_list_parameters(request.GET)
    source = exports.customer_list_source(request.user, parameters)
    query = request.GET.copy()
    query.pop("format", None)
    back = reverse("customers:list") + (f"?{query.urlencode()}" if query else "")
    return export_page(request, kind=exports.CUSTOMER_LIST, parameters=parameters, fmt=fmt, source=source, back=back)
