from django.urls import path
from rest_framework.routers import SimpleRouter

from channels.api import tokens, views

router = SimpleRouter()
router.register("notifications", views.NotificationViewSet, basename="api-notification")
router.register("auth/tokens", tokens.ApiTokenViewSet, basename="api-tokens")

urlpatterns = [
    path("auth/token/", tokens.ObtainTokenView.as_view(), name="api-token"),
    path("auth/logout/", tokens.LogoutView.as_view(), name="api-logout"),
    *router.urls,
]
