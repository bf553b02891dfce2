from django.urls import path

from opportunities import board_views, views

app_name = "opportunities"

urlpatterns = [
    path("", views.opportunity_list, name="list"),
    path("new/", views.capture, name="capture"),
    path("new/customers/", views.customer_search, name="customer_search"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/claim/", views.claim, name="claim"),
    path("<int:pk>/return/", views.return_view, name="return"),
    path("<int:pk>/stage/", views.stage, name="stage"),
    path("<int:pk>/qualify/", views.qualify, name="qualify"),
    path("<int:pk>/close/", views.close, name="close"),
    path("<int:pk>/activity/", views.activity, name="activity"),
    path("<int:pk>/dispatch/", views.dispatch, name="dispatch"),
] + board_views.urlpatterns
