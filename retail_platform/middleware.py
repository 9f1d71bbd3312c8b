"""When PostgreSQL is away, answer quickly with a 503 instead of a traceback.

The connection timeout (DB_CONNECT_TIMEOUT, 3 s by default) bounds how long a request waits, and
CONN_HEALTH_CHECKS makes the next request reconnect by itself once the database is back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from retail_platform.api.errors import error_body

logger = logging.getLogger(__name__)

UNAVAILABLE_MESSAGE = "The database is unavailable right now. Please retry in a moment."


def _is_connection_failure(exc: BaseException) -> bool:
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    # psycopg raises some connection losses as plain DatabaseError subclasses
    return isinstance(exc, DatabaseError) and "connection" in str(exc).lower()


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.get_response(request)
        except Exception as exc:  # re-raised unless it is a lost database
            if not _is_connection_failure(exc):
                raise
            return self._unavailable(request, exc)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if _is_connection_failure(exc):
            return self._unavailable(request, exc)
        return None

    def _unavailable(self, request: HttpRequest, exc: BaseException) -> HttpResponse:
        logger.warning("database unavailable: %s", type(exc).__name__)
        for conn in connections.all(initialized_only=True):
            conn.close_if_unusable_or_obsolete()
        if request.path.startswith("/api/"):
            response: HttpResponse = JsonResponse(
                error_body(503, "database_unavailable", UNAVAILABLE_MESSAGE), status=503
            )
        else:
            html = render_to_string("503.html", {"message": UNAVAILABLE_MESSAGE})
            response = HttpResponse(html, status=503)
        response["Retry-After"] = "5"
        return response
