from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from kam import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The language switch works before login too (the login page offers it).
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("customers/", include("customers.urls")),
    path("orders/", include("orders.urls")),
    path("", include("channels.urls")),
    path("opportunities/", include("opportunities.urls")),
    path("service/", include("service.urls")),
    path("api/v1/", include("kam.api.urls")),
    path("admin/", admin.site.urls),
]

# Styled, translated error pages; JSON for /api/ paths (kam.views).
handler400 = "kam.views.bad_request"
handler403 = "kam.views.permission_denied"
handler404 = "kam.views.page_not_found"
handler500 = "kam.views.server_error"

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
