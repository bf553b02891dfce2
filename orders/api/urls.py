from rest_framework.routers import SimpleRouter

from orders.api import installed, views

router = SimpleRouter()
router.register("products", views.ProductViewSet, basename="api-product")
router.register("subscriptions", installed.SubscriptionViewSet, basename="api-subscription")
router.register("resources", installed.ResourceViewSet, basename="api-resource")

urlpatterns = router.urls
