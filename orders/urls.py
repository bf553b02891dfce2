from django.urls import path

from orders.views import catalogue
from orders.views import installed as installed_views

app_name = "orders"

urlpatterns = [
    path("products/", catalogue.product_list, name="product-list"),
    path("customers/<int:pk>/release/", installed_views.release_checklist, name="release-checklist"),
]
