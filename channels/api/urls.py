from rest_framework.routers import SimpleRouter

from channels.api import views

router = SimpleRouter()
router.register("notifications", views.NotificationViewSet, basename="api-notification")

urlpatterns = router.urls
