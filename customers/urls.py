from django.urls import path

from customers import import_views, views

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
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/contacts/new/", views.contact_form, name="contact-create"),
    path("<int:pk>/contacts/<int:contact_pk>/edit/", views.contact_form, name="contact-edit"),
    path("<int:pk>/contacts/<int:contact_pk>/left/", views.contact_left, name="contact-left"),
    path("<int:pk>/visits/new/", views.visit_create, name="visit-create"),
]
