"""The API router: every `/api/` route, gathered from the apps' `urls.py` (`api_urlpatterns`)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from analytics.urls import api_urlpatterns as analytics_api
from campaigns.urls import api_urlpatterns as campaigns_api
from retail_platform.api.views import PingApi
from retail_platform.routing import api_path
from segmentation.urls import api_urlpatterns as segmentation_api

urlpatterns = [
    api_path("ping", PingApi.as_view(), name="ping"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("", include(analytics_api)),
    path("", include(segmentation_api)),
    path("", include(campaigns_api)),
]
