from django.urls import path

from customers.views import coverage, customers, exports, imports, segments, tiers

app_name = "customers"

urlpatterns = [
    path("", customers.customer_list, name="list"),
    path("new/", customers.customer_create, name="create"),
    path("export/", exports.customer_export, name="export"),
    path("duplicate-check/", customers.duplicate_check, name="duplicate-check"),
    path("duplicates/", customers.duplicate_groups, name="duplicates"),
    path("merge/", customers.customer_merge, name="merge"),
    path("handover/", customers.customer_handover, name="handover"),
    path("lookup/", customers.caller_lookup, name="lookup"),
    path("import/", imports.customer_import, name="import"),
    path("coverage/", coverage.coverage_page, name="coverage"),
    path("<int:pk>/coverage-assign/", coverage.coverage_assign, name="coverage-assign"),
    path("tiers/", tiers.tier_evaluations, name="tier-evaluations"),
    path("tiers/run/", tiers.tier_evaluation_run, name="tier-evaluation-run"),
    path("tiers/evaluations/<int:pk>/", tiers.tier_evaluation_detail, name="tier-evaluation"),
    path("tiers/changes/", tiers.tier_change_list, name="tier-changes"),
    path("<int:pk>/tier-override/", tiers.tier_override_create, name="tier-override"),
    path("<int:pk>/tier-override/<int:override_pk>/revoke/", tiers.tier_override_revoke, name="tier-override-revoke"),
    path("segments/", segments.segment_list, name="segment-list"),
    path("segments/new/", segments.segment_create, name="segment-create"),
    path("segments/preview/", segments.segment_preview, name="segment-preview"),
    path("segments/<int:pk>/", segments.segment_detail, name="segment-detail"),
    path("segments/<int:pk>/edit/", segments.segment_edit, name="segment-edit"),
    path("segments/<int:pk>/count/", segments.segment_count, name="segment-count"),
    path("segments/<int:pk>/export/", segments.segment_export, name="segment-export"),
    path("segments/<int:pk>/freeze/", segments.segment_freeze, name="segment-freeze"),
    path("segments/<int:pk>/copy/", segments.segment_copy, name="segment-copy"),
    path("segments/<int:pk>/delete/", segments.segment_delete, name="segment-delete"),
    path("segments/<int:pk>/movements/", segments.segment_movements, name="segment-movements"),
    path(
        "segments/<int:pk>/movements/<str:month>/<str:kind>/",
        segments.segment_movement_list,
        name="segment-movement-list",
    ),
    path("<int:pk>/", customers.customer_detail, name="detail"),
    path("<int:pk>/panels/<slug:key>/", customers.customer_panel, name="panel"),
    path("<int:pk>/edit/", customers.customer_edit, name="edit"),
    path("<int:pk>/contacts/new/", customers.contact_form, name="contact-create"),
    path("<int:pk>/contacts/<int:contact_pk>/edit/", customers.contact_form, name="contact-edit"),
    path("<int:pk>/contacts/<int:contact_pk>/left/", customers.contact_left, name="contact-left"),
    path("<int:pk>/visits/new/", customers.visit_create, name="visit-create"),
]
