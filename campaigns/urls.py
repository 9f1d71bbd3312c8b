app_name = "campaigns"

urlpatterns: list = []

api_urlpatterns: list = []
