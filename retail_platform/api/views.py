from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class PingApi(APIView):
    """A trivial authenticated endpoint: the baseline the API benchmarks compare against."""

    @extend_schema(
        summary="Check that the API answers and the caller is authenticated",
        responses=inline_serializer("Ping", {"ok": serializers.BooleanField()}),
    )
    def get(self, request: Request) -> Response:
        return Response({"ok": True})
