from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/", include(("retail_platform.api_urls", "api"), namespace="api")),
    path("", include("analytics.urls")),
    path("customers/", include("segmentation.urls")),
    path("simulator/", include("campaigns.urls")),
]

# The API answers errors in its JSON shape; a lost database answers 503 (retail_platform.error_views).
handler400 = "retail_platform.error_views.bad_request"
handler404 = "retail_platform.error_views.not_found"
handler500 = "retail_platform.error_views.server_error"
