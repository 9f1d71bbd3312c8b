"""Django's error handlers (handler400/404/500): the API answers in its one JSON error shape, pages
keep Django's templates. A lost database that surfaces outside a view (in a middleware) reaches
handler500; it still gets the quick 503 of DatabaseUnavailableMiddleware, not a 500."""

from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from retail_platform.api.errors import error_body
from retail_platform.api.views import api_not_found
from retail_platform.middleware import database_unavailable_response, is_connection_failure


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body(400, "bad_request", "The request could not be read."), status=400)
    return defaults.bad_request(request, exception)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    exc = sys.exc_info()[1]
    if exc is not None and is_connection_failure(exc):
        return database_unavailable_response(request, exc)
    if _is_api(request):
        return JsonResponse(error_body(500, "server_error", "Something went wrong on our side."), status=500)
    return defaults.server_error(request)
