from django.urls import path

from channels import views

app_name = "channels"

urlpatterns = [
    path("organisation/", views.responsibility_matrix, name="matrix"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
    path("exports/", views.export_list, name="exports"),
    path("exports/<int:pk>/download/", views.export_download, name="export-download"),
]
