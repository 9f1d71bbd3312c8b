from django.urls import path

from retail_platform.routing import api_path
from segmentation import apis, views

app_name = "segmentation"

urlpatterns = [
    path("", views.CustomersView.as_view(), name="customers"),
]

api_urlpatterns = [
    api_path("customers/rfm-segments", apis.CustomerRfmSegmentsApi.as_view(), name="customer-rfm-segments"),
    api_path("customers/export", apis.CustomerExportApi.as_view(), name="customer-export"),
    api_path("segments", apis.SegmentsApi.as_view(), name="segments"),
    api_path("segmentation/runs", apis.RunsApi.as_view(), name="segmentation-runs"),
    api_path("segmentation/movement", apis.MovementApi.as_view(), name="segmentation-movement"),
    api_path("segmentation/refit", apis.RefitApi.as_view(), name="segmentation-refit"),
    api_path("insights/category-by-segment", apis.CategoryBySegmentApi.as_view(), name="category-by-segment"),
    api_path("customers/value", apis.CustomerValueApi.as_view(), name="customer-value"),
    api_path("clv/model", apis.ClvModelApi.as_view(), name="clv-model"),
]
