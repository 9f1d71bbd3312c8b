"""Cursors of Django's connection for what Django's own cannot do."""

from __future__ import annotations

import psycopg
from django.db import connection
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper


def binary_results_cursor() -> CursorWrapper:
    """A cursor of Django's connection that gets results in the binary format, so packed arrays
    (megabytes of customer histories or order values) arrive as stored, not as hex text twice their
    size to decode. Django's own cursors bind client-side, which psycopg allows for text results
    only; this one binds server-side, and is wrapped as Django's are (queries logged when enabled)."""
    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    raw.format = psycopg.pq.Format.BINARY
    return CursorDebugWrapper(raw, connection) if connection.queries_logged else CursorWrapper(raw, connection)
