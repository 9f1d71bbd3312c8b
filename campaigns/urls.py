from django.urls import path

from campaigns import views

app_name = "campaigns"

urlpatterns = [
    path("", views.SimulatorView.as_view(), name="simulator"),
]

api_urlpatterns: list = []
