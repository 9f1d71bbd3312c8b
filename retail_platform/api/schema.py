"""The OpenAPI schema documents the errors every endpoint can answer, in the one error shape.

drf-spectacular documents only the success response; a client (and schemathesis) would then meet
undocumented 400/403/404/429/503 answers. This AutoSchema adds them to every operation.
"""

from __future__ import annotations

from typing import Any, Literal

from drf_spectacular import openapi
from rest_framework import serializers


class ApiErrorDetailSerializer(serializers.Serializer):
    status = serializers.IntegerField(help_text="The HTTP status code, repeated.")
    code = serializers.CharField(
        help_text="A stable, machine-readable code: invalid, not_authenticated, permission_denied, not_found, "
        "throttled, upload_too_large, application_error, database_unavailable, ..."
    )
    message = serializers.CharField(help_text="What went wrong, in one sentence for a person.")
    details = serializers.JSONField(
        help_text="Field errors ({field: [messages]}), a list of messages, or context for the error; may be empty."
    )


class ApiErrorSerializer(serializers.Serializer):
    error = ApiErrorDetailSerializer(help_text="The error. Every API error has this shape.")


ERROR_DESCRIPTIONS = {
    "400": "The request is invalid (a bad filter value, a missing or malformed field).",
    "401": "No valid credentials: sign in, or send `Authorization: Token <key>`.",
    "403": "Not signed in, or signed in without the role this endpoint needs.",
    "404": "No such object.",
    "405": "This method is not allowed here.",
    "413": "The upload is larger than IMPORT_MAX_UPLOAD_BYTES.",
    "429": "Too many requests: see the Retry-After header.",
    "503": "The database is unavailable right now: retry after the Retry-After header's seconds.",
}


class AutoSchema(openapi.AutoSchema):
    def _error_codes(self) -> list[str]:
        codes = ["400", "401", "403", "405", "429", "503"]
        if "{" in self.path:
            codes.append("404")
        if self.method in ("POST", "PUT", "PATCH"):
            codes.append("413")
        return codes

    def _get_response_bodies(self, direction: Literal["request", "response"] = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            if code not in responses:
                response = self._get_response_for_code(ApiErrorSerializer, code, direction=direction)
                response["description"] = ERROR_DESCRIPTIONS[code]
                responses[code] = response
        return dict(sorted(responses.items()))


def currency_postprocess(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Say the currency (the CURRENCY setting, ISO 4217) in the API description and on every money
    field: decimal fields, and string fields documented as money."""
    from retail_platform.formatting import currency_code

    code = currency_code()
    sentence = f"Money amounts are in {code} (ISO 4217)."
    info = result.setdefault("info", {})
    info["description"] = f"{info.get('description', '')} {sentence}".strip()
    for component in result.get("components", {}).get("schemas", {}).values():
        for field in component.get("properties", {}).values():
            description = field.get("description", "")
            if field.get("format") == "decimal" or "Money" in description or "money" in description:
                field["description"] = f"{description} In {code}.".strip()
    return result
