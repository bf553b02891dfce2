from django.urls import path
from rest_framework.routers import SimpleRouter

from channels.api import exports, tokens, views

router = SimpleRouter()
router.register("notifications", views.NotificationViewSet, basename="api-notification")
router.register("auth/tokens", tokens.ApiTokenViewSet, basename="api-tokens")
router.register("exports", exports.ExportJobViewSet, basename="api-export")

urlpatterns = [
    path("auth/token/", tokens.ObtainTokenView.as_view(), name="api-token"),
    path("auth/logout/", tokens.LogoutView.as_view(), name="api-logout"),
    *router.urls,
]
