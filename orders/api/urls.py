from rest_framework.routers import SimpleRouter

from orders.api import views

router = SimpleRouter()
router.register("products", views.ProductViewSet, basename="api-product")

urlpatterns = router.urls
