"""Django REST Framework defaults. DRF is open by default (AllowAny, Basic auth, no throttling,
public schema): every default is set here, and every endpoint inherits them."""

import environ

_env = environ.Env()

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "retail_platform.api.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["retail_platform.api.permissions.IsViewer"],
    "DEFAULT_RENDERER_CLASSES": ["retail_platform.api.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "retail_platform.api.throttling.AnonRateThrottle",
        "retail_platform.api.throttling.UserRateThrottle",
    ],
    # The throttles tell clients apart by address: trust X-Forwarded-For only as far as our proxies.
    "NUM_PROXIES": _env.int("TRUSTED_PROXY_COUNT", default=0),
    "DEFAULT_THROTTLE_RATES": {
        "anon": _env("API_THROTTLE_ANON", default="60/minute"),
        "user": _env("API_THROTTLE_USER", default="100000/hour"),
    },
    "DEFAULT_SCHEMA_CLASS": "retail_platform.api.schema.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "retail_platform.api.pagination.PageNumberPagination",
    "EXCEPTION_HANDLER": "retail_platform.api.errors.api_exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Retail analytics API",
    "DESCRIPTION": (
        "Store performance, seasonality, discount impact, customer segments and campaign simulation. "
        "Every endpoint needs authentication: a session, or `Authorization: Token <key>`. "
        'Money is a decimal string rounded to cents (e.g. "1234.50"); shares and rates are numbers.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["retail_platform.api.permissions.IsViewer"],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "retail_platform.api.schema.currency_postprocess",
    ],
}
