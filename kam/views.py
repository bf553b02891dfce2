"""The home page, and the error pages: styled and translated for the pages, the API's one JSON error format
({"detail": ...}) for /api/ paths (DRF answers its own views' errors; these cover what never reached one)."""

from django.http import JsonResponse
from django.shortcuts import render
from django.views import defaults
from django.views.decorators.http import require_GET
from rest_framework import exceptions

from kam.home import render_home_panels


@require_GET
def home(request):
    panels = render_home_panels(request)
    scripts = list(dict.fromkeys(script for panel in panels for script in panel.scripts))
    context = {"panels": panels, "scripts": scripts, "start_links": not any(p.summary for p in panels)}
    return render(request, "home.html", context)


# --- error handlers (kam/urls.py handler400 … handler500) ---------------------------------------------------


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def _api_error(error: type[exceptions.APIException]) -> JsonResponse:
    return JsonResponse({"detail": str(error.default_detail)}, status=error.status_code)


def bad_request(request, exception):
    return _api_error(exceptions.ParseError) if _is_api(request) else defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if _is_api(request):
        return _api_error(exceptions.PermissionDenied)
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    return _api_error(exceptions.NotFound) if _is_api(request) else defaults.page_not_found(request, exception)


def server_error(request):
    """500.html is rendered without a request context: it needs nothing that could have failed."""
    return _api_error(exceptions.APIException) if _is_api(request) else defaults.server_error(request)
