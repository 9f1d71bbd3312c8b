from django.urls import path

from campaigns import apis, views
from retail_platform.routing import api_path

app_name = "campaigns"

urlpatterns = [
    path("", views.SimulatorView.as_view(), name="simulator"),
]

api_urlpatterns = [
    api_path("simulations/campaign/export", apis.CampaignExportApi.as_view(), name="campaign-export"),
    api_path("simulations/campaign", apis.CampaignSimulationApi.as_view(), name="campaign-simulation"),
    api_path("scenarios/compare", apis.ScenarioCompareApi.as_view(), name="scenario-compare"),
    api_path("scenarios", apis.ScenarioListApi.as_view(), name="scenario-list"),
]
