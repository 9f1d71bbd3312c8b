from django.urls import path

from segmentation import views

app_name = "segmentation"

urlpatterns = [
    path("", views.CustomersView.as_view(), name="customers"),
]

api_urlpatterns: list = []
