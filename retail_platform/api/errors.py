"""One JSON shape for every API error:

{"error": {"status": 400, "code": "invalid", "message": "...", "details": {...}}}
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from retail_platform.errors import ApplicationError


class _RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than the server accepts (DATA_UPLOAD_MAX_MEMORY_SIZE)."
    default_code = "request_too_large"


def error_body(status_code: int, code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"status": status_code, "code": code, "message": message, "details": details or {}}}


def _first_message(detail: Any) -> str:
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    if isinstance(detail, dict) and detail:
        key, value = next(iter(detail.items()))
        text = _first_message(value)
        return text if key in ("non_field_errors", "detail") else f"{key}: {text}"
    return str(detail)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.status, "application_error", exc.message, exc.extra), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = _RequestTooLarge()

    response = exception_handler(exc, context)
    if response is None:
        return None
    assert isinstance(exc, exceptions.APIException)
    codes = exc.get_codes()
    if isinstance(codes, str):
        code = codes
    else:
        code = "invalid" if response.status_code == status.HTTP_400_BAD_REQUEST else "error"
    details = exc.detail if isinstance(exc.detail, (dict, list)) else {}
    response.data = error_body(response.status_code, code, _first_message(exc.detail), details)
    return response
