from django.urls import path

from analytics import views

app_name = "analytics"

urlpatterns = [
    path("", views.OverviewView.as_view(), name="overview"),
    path("trends/", views.TrendsView.as_view(), name="trends"),
    path("imports/", views.ImportsView.as_view(), name="imports"),
]

api_urlpatterns: list = []
