from django.urls import path

from orders.views import agreements, catalogue
from orders.views import installed as installed_views
from orders.views import provisioning as provisioning_views

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

# Provisioning: boards, work orders and their steps, the assessment.
urlpatterns += [
    path("provisioning/", provisioning_views.board, name="provisioning-board"),
    path("provisioning/my-steps/", provisioning_views.my_steps, name="my-steps"),
    path("provisioning/queue/", provisioning_views.queue, name="provisioning-queue"),
    path("provisioning/assessment/", provisioning_views.assessment, name="provisioning-assessment"),
    path("provisioning/assessment/rows/", provisioning_views.assessment_list, name="provisioning-assessment-list"),
    path("provisioning/orders/<int:pk>/steps/", provisioning_views.order_steps, name="provisioning-order-steps"),
    path("provisioning/lines/<int:pk>/retry/", provisioning_views.retry_line, name="provisioning-line-retry"),
    path("work-orders/<int:pk>/", provisioning_views.work_order_detail, name="work-order-detail"),
    path("work-orders/<int:pk>/steps/<int:seq>/<slug:action>/", provisioning_views.step_action, name="step-action"),
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
