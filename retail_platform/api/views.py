"""Project-level API views: the ping, the interactive docs, and the JSON 404 for unknown addresses."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from retail_platform.api.errors import error_body

NOT_FOUND_MESSAGE = "No API endpoint or object at this address."


class PingApi(APIView):
    """A trivial authenticated endpoint: the baseline the API benchmarks compare against."""

    @extend_schema(
        summary="Check that the API answers and the caller is authenticated",
        responses=inline_serializer("Ping", {"ok": serializers.BooleanField()}),
    )
    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class ApiDocsView(SpectacularSwaggerSplitView):
    """The interactive docs (a page, for viewers and up): a signed-out visitor is sent to sign in
    and comes back here, instead of reading a JSON error."""

    def handle_exception(self, exc: Exception) -> Any:
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)


@csrf_exempt  # it changes nothing; a DELETE or POST to an unknown address is a JSON 404, not an HTML 403
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Any /api/ address no route takes: the API's JSON 404, in every settings mode (with DEBUG on,
    Django would otherwise answer its debug page, listing every URL pattern, to anyone)."""
    return JsonResponse(error_body(404, "not_found", NOT_FOUND_MESSAGE), status=404)
