"""When PostgreSQL is away, answer quickly with a 503 instead of a traceback.

The connection timeout (DB_CONNECT_TIMEOUT, 3 s by default) bounds how long a request waits, and
CONN_HEALTH_CHECKS makes the next request reconnect by itself once the database is back. A view's
lost connection comes through `process_exception`; one lost in a middleware (sessions, messages)
reaches handler500, which answers the same way (retail_platform.error_views).
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


def is_connection_failure(exc: BaseException) -> bool:
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    if isinstance(exc, DatabaseError):  # psycopg reports some losses as a bare DatabaseError
        return any(
            conn.connection is not None and conn.connection.closed for conn in connections.all(initialized_only=True)
        )
    return False


def database_unavailable_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    # The type only: the message of a database error can quote the values of the query.
    logger.warning("database unavailable: %s", type(exc).__name__)
    for conn in connections.all(initialized_only=True):
        conn.close_if_unusable_or_obsolete()
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(error_body(503, "database_unavailable", UNAVAILABLE_MESSAGE), status=503)
    else:
        response = HttpResponse(render_to_string("503.html", {"message": UNAVAILABLE_MESSAGE}), status=503)
    response["Retry-After"] = "5"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if is_connection_failure(exc):
            return database_unavailable_response(request, exc)
        return None
