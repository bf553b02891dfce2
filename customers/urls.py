from django.urls import path

from customers import coverage_views, import_views, segment_views, tier_views, views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_create, name="create"),
    path("duplicate-check/", views.duplicate_check, name="duplicate-check"),
    path("duplicates/", views.duplicate_groups, name="duplicates"),
    path("merge/", views.customer_merge, name="merge"),
    path("handover/", views.customer_handover, name="handover"),
    path("lookup/", views.caller_lookup, name="lookup"),
    path("import/", import_views.customer_import, name="import"),
    path("coverage/", coverage_views.coverage_page, name="coverage"),
    path("<int:pk>/coverage-assign/", coverage_views.coverage_assign, name="coverage-assign"),
    path("tiers/", tier_views.tier_evaluations, name="tier-evaluations"),
    path("tiers/run/", tier_views.tier_evaluation_run, name="tier-evaluation-run"),
    path("tiers/evaluations/<int:pk>/", tier_views.tier_evaluation_detail, name="tier-evaluation"),
    path("tiers/changes/", tier_views.tier_change_list, name="tier-changes"),
    path("<int:pk>/tier-override/", tier_views.tier_override_create, name="tier-override"),
    path(
        "<int:pk>/tier-override/<int:override_pk>/revoke/", tier_views.tier_override_revoke, name="tier-override-revoke"
    ),
    path("segments/", segment_views.segment_list, name="segment-list"),
    path("segments/new/", segment_views.segment_create, name="segment-create"),
    path("segments/preview/", segment_views.segment_preview, name="segment-preview"),
    path("segments/<int:pk>/", segment_views.segment_detail, name="segment-detail"),
    path("segments/<int:pk>/edit/", segment_views.segment_edit, name="segment-edit"),
    path("segments/<int:pk>/count/", segment_views.segment_count, name="segment-count"),
    path("segments/<int:pk>/export/", segment_views.segment_export, name="segment-export"),
    path("segments/<int:pk>/freeze/", segment_views.segment_freeze, name="segment-freeze"),
    path("segments/<int:pk>/copy/", segment_views.segment_copy, name="segment-copy"),
    path("segments/<int:pk>/delete/", segment_views.segment_delete, name="segment-delete"),
    path("segments/<int:pk>/movements/", segment_views.segment_movements, name="segment-movements"),
    path(
        "segments/<int:pk>/movements/<str:month>/<str:kind>/",
        segment_views.segment_movement_list,
        name="segment-movement-list",
    ),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/contacts/new/", views.contact_form, name="contact-create"),
    path("<int:pk>/contacts/<int:contact_pk>/edit/", views.contact_form, name="contact-edit"),
    path("<int:pk>/contacts/<int:contact_pk>/left/", views.contact_left, name="contact-left"),
    path("<int:pk>/visits/new/", views.visit_create, name="visit-create"),
]
