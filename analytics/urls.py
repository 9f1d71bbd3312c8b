from django.urls import path

from analytics import views

app_name = "analytics"

urlpatterns = [
    path("", views.OverviewView.as_view(), name="overview"),
]

api_urlpatterns: list = []
