from django.urls import path

from orders.views import catalogue

app_name = "orders"

urlpatterns = [
    path("products/", catalogue.product_list, name="product-list"),
]

# Order entry (orders.views.ordering)
from orders.views import ordering  # noqa: E402

urlpatterns += [
    path("", ordering.order_list, name="order-list"),
    path("new/", ordering.order_new, name="order-new"),
    path("new/line/", ordering.order_new_line, name="order-new-line"),
    path("<int:pk>/", ordering.order_detail, name="order-detail"),
    path("<int:pk>/submit/", ordering.order_submit, name="order-submit"),
    path("<int:pk>/approve/", ordering.order_approve, name="order-approve"),
    path("<int:pk>/reject/", ordering.order_reject, name="order-reject"),
    path("<int:pk>/cancel/", ordering.order_cancel, name="order-cancel"),
    path("<int:pk>/lines/<int:line_pk>/", ordering.order_line_edit, name="order-line-edit"),
    path("pre-acceptance/new/", ordering.pre_acceptance_new, name="pre-acceptance-new"),
    path("pre-acceptance/", ordering.pre_acceptance_queue, name="pre-acceptance-queue"),
    path("pre-acceptance/<int:pk>/convert/", ordering.pre_acceptance_convert, name="pre-acceptance-convert"),
    path("pre-acceptance/<int:pk>/refuse/", ordering.pre_acceptance_refuse, name="pre-acceptance-refuse"),
]
