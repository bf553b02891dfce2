from django.urls import path

from service.views import tickets

app_name = "service"

urlpatterns = [
    path("tickets/mine/", tickets.my_queue, name="my-queue"),
    path("tickets/<int:pk>/", tickets.ticket_detail, name="ticket-detail"),
    path("tickets/<int:pk>/<slug:action>/", tickets.ticket_action, name="ticket-action"),
]
