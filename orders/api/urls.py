from rest_framework.routers import SimpleRouter

from orders.api import views

router = SimpleRouter()
router.register("products", views.ProductViewSet, basename="api-product")

urlpatterns = router.urls

# Order entry (orders.api.ordering)
from orders.api import ordering  # noqa: E402

router.register("orders", ordering.OrderViewSet, basename="api-order")
router.register("pre-acceptances", ordering.PreAcceptanceViewSet, basename="api-pre-acceptance")
urlpatterns = router.urls
