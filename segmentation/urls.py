app_name = "segmentation"

urlpatterns: list = []

api_urlpatterns: list = []
