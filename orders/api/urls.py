from rest_framework.routers import SimpleRouter

from orders.api import views
from orders.api.agreements import AgreementViewSet

router = SimpleRouter()
router.register("products", views.ProductViewSet, basename="api-product")
router.register("agreements", AgreementViewSet, basename="api-agreement")

urlpatterns = router.urls
