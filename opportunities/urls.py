from django.urls import path

from opportunities import views

app_name = "opportunities"

urlpatterns = [
    path("<int:pk>/", views.detail, name="detail"),
]
