from rest_framework.routers import SimpleRouter

from service.api import knowledge, tickets

router = SimpleRouter()
router.register("tickets", tickets.TicketViewSet, basename="api-ticket")
router.register("sla-policies", tickets.SlaPolicyViewSet, basename="api-sla-policy")
router.register("kb/articles", knowledge.KbArticleViewSet, basename="api-kb-article")

urlpatterns = router.urls
