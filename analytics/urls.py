from django.urls import path

from analytics.apis import imports as import_apis
from analytics.apis import insights as insight_apis
from analytics.apis import sales as sales_apis
from analytics.views import imports as import_views
from analytics.views import insights as insight_views
from analytics.views import mappings as mapping_views
from analytics.views import sales as sales_views
from retail_platform.routing import api_path

app_name = "analytics"

urlpatterns = [
    path("", sales_views.OverviewView.as_view(), name="overview"),
    path("trends/", sales_views.TrendsView.as_view(), name="trends"),
    path("cohorts/", insight_views.CohortsView.as_view(), name="cohorts"),
    path("revenue-change/", insight_views.RevenueChangeView.as_view(), name="revenue-change"),
    path("imports/", import_views.ImportsView.as_view(), name="imports"),
    path("imports/status/", import_views.ImportStatusView.as_view(), name="import-status"),
    path("imports/mappings/new/", mapping_views.MappingEditorView.as_view(), name="mapping-editor"),
]

api_urlpatterns: list = [
    api_path("overview", sales_apis.OverviewApi.as_view(), name="overview"),
    api_path("performance/stores", sales_apis.StorePerformanceApi.as_view(), name="store-performance"),
    api_path("insights/seasonality", sales_apis.SeasonalityApi.as_view(), name="seasonality"),
    api_path("insights/discount-impact", sales_apis.DiscountImpactApi.as_view(), name="discount-impact"),
    api_path("insights/payment-methods", sales_apis.PaymentMethodApi.as_view(), name="payment-methods"),
    api_path("customers/repeat-vs-onetime", sales_apis.CustomerTypeApi.as_view(), name="repeat-vs-onetime"),
    api_path("cohorts", insight_apis.CohortsApi.as_view(), name="cohorts"),
    api_path("insights/revenue-change", insight_apis.RevenueChangeApi.as_view(), name="revenue-change"),
    api_path("imports", import_apis.ImportListCreateApi.as_view(), name="imports"),
    api_path(r"imports/(?P<batch_id>[0-9]+)", import_apis.ImportDetailApi.as_view(), name="import-detail"),
    api_path(
        r"imports/(?P<batch_id>[0-9]+)/errors\.csv", import_apis.ImportErrorsCsvApi.as_view(), name="import-errors-csv"
    ),
    api_path(r"imports/(?P<batch_id>[0-9]+)/retry", import_apis.ImportRetryApi.as_view(), name="import-retry"),
]
