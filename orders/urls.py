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
