"""The API router: every `/api/` route, gathered from the apps' `urls.py` (`api_urlpatterns`)."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from analytics.urls import api_urlpatterns as analytics_api
from campaigns.urls import api_urlpatterns as campaigns_api
from retail_platform.api.views import ApiDocsView, PingApi, api_not_found
from retail_platform.routing import api_path
from segmentation.urls import api_urlpatterns as segmentation_api

urlpatterns = [
    api_path("ping", PingApi.as_view(), name="ping"),
    api_path("schema", SpectacularAPIView.as_view(), name="schema"),
    api_path("docs", ApiDocsView.as_view(url_name="api:schema"), name="docs"),
    path("", include(analytics_api)),
    path("", include(segmentation_api)),
    path("", include(campaigns_api)),
    # Last: every other /api/ address (see api_not_found).
    re_path(r"", api_not_found, name="not-found"),
]
