from rest_framework.routers import SimpleRouter

from orders.api import provisioning, views

router = SimpleRouter()
router.register("products", views.ProductViewSet, basename="api-product")
router.register("work-orders", provisioning.WorkOrderViewSet, basename="api-work-order")

urlpatterns = router.urls
