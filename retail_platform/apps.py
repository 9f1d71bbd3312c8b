from django.apps import AppConfig


class RetailPlatformConfig(AppConfig):
    name = "retail_platform"
    verbose_name = "Platform"
