from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.permissions import IsAuthenticated

from kam.api.docs import ApiDocsView

urlpatterns = [
    # Schema and docs need a login (session or token) like the rest of the API.
    path("schema/", SpectacularAPIView.as_view(permission_classes=[IsAuthenticated]), name="api-schema"),
    # The split view serves its init script from a URL instead of inline, so the strict CSP (script-src 'self')
    # lets Swagger UI run; its files come from drf-spectacular-sidecar (no CDN on the intranet). The template adds
    # the CSP nonce to the page's inline style.
    path(
        "docs/",
        ApiDocsView.as_view(
            url_name="api-schema", permission_classes=[IsAuthenticated], template_name="api/swagger_ui.html"
        ),
        name="api-docs",
    ),
    path("", include("customers.api.urls")),
    path("", include("orders.api.urls")),
    path("", include("channels.api.urls")),
    path("", include("opportunities.api.urls")),
    path("", include("service.api.urls")),
]
