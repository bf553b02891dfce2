from rest_framework.routers import SimpleRouter

from orders.api import installed, ordering, provisioning, views
from orders.api.agreements import AgreementViewSet

router = SimpleRouter()
router.register("products", views.ProductViewSet, basename="api-product")
router.register("agreements", AgreementViewSet, basename="api-agreement")
router.register("orders", ordering.OrderViewSet, basename="api-order")
router.register("pre-acceptances", ordering.PreAcceptanceViewSet, basename="api-pre-acceptance")
router.register("work-orders", provisioning.WorkOrderViewSet, basename="api-work-order")
router.register("subscriptions", installed.SubscriptionViewSet, basename="api-subscription")
router.register("resources", installed.ResourceViewSet, basename="api-resource")

urlpatterns = router.urls
