from rest_framework.routers import SimpleRouter

from opportunities.api import views

router = SimpleRouter()
router.register("opportunities", views.OpportunityViewSet, basename="api-opportunity")
router.register("routing-rules", views.RoutingRuleViewSet, basename="api-routing-rule")

urlpatterns = router.urls
