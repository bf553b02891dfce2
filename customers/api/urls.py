from django.urls import path
from rest_framework.routers import SimpleRouter

from customers.api import views

router = SimpleRouter()
router.register("customers", views.CustomerViewSet, basename="api-customer")
router.register("contacts", views.ContactViewSet, basename="api-contact")
router.register("visits", views.VisitViewSet, basename="api-visit")
router.register("spend", views.SpendViewSet, basename="api-spend")
router.register("members", views.MemberViewSet, basename="api-member")

urlpatterns = [
    path("handovers/", views.PortfolioHandoverView.as_view(), name="api-handover"),
    *router.urls,
]
