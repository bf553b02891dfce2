from rest_framework.routers import SimpleRouter

from service.api import tickets

router = SimpleRouter()
router.register("tickets", tickets.TicketViewSet, basename="api-ticket")
router.register("sla-policies", tickets.SlaPolicyViewSet, basename="api-sla-policy")

urlpatterns = router.urls
