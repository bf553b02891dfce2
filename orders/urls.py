from django.urls import path

from orders.views import catalogue

app_name = "orders"

urlpatterns = [
    path("products/", catalogue.product_list, name="product-list"),
]
