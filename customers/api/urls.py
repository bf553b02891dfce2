from django.urls import path
from rest_framework.routers import SimpleRouter

from customers.api import segments, tiering, views

router = SimpleRouter()
router.register("customers", views.CustomerViewSet, basename="api-customer")
router.register("contacts", views.ContactViewSet, basename="api-contact")
router.register("visits", views.VisitViewSet, basename="api-visit")
router.register("spend", views.SpendViewSet, basename="api-spend")
router.register("members", views.MemberViewSet, basename="api-member")
router.register("tier-changes", tiering.TierChangeViewSet, basename="api-tier-change")
router.register("tier-evaluations", tiering.TierEvaluationViewSet, basename="api-tier-evaluation")
router.register("segments", segments.SegmentViewSet, basename="api-segment")

urlpatterns = [
    path("handovers/", views.PortfolioHandoverView.as_view(), name="api-handover"),
    path("tier-rules/", tiering.TierRulesView.as_view(), name="api-tier-rules"),
    *router.urls,
]
