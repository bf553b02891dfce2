from django.urls import path

from orders.views import agreements, catalogue
from orders.views import installed as installed_views

app_name = "orders"

urlpatterns = [
    path("products/", catalogue.product_list, name="product-list"),
    path("agreements/", agreements.agreement_list, name="agreement-list"),
    path("agreements/new/", agreements.agreement_create, name="agreement-create"),
    path("agreements/<int:pk>/", agreements.agreement_detail, name="agreement-detail"),
    path("agreements/<int:pk>/edit/", agreements.agreement_edit, name="agreement-edit"),
    path("agreements/<int:pk>/<slug:action>/", agreements.agreement_action, name="agreement-action"),
    path("customers/<int:pk>/release/", installed_views.release_checklist, name="release-checklist"),
]
