"""The data version: a number that goes up with every change to the data, which every cached answer
is keyed on. It lives in one row of `analytics_dataversion` and is drawn from a sequence, so a
change that is rolled back never hands its number to another: an answer a process cached while
computing with uncommitted data is never mistaken for an answer about committed data."""

from __future__ import annotations

from django.db import connection


def data_version_get() -> int:
    """The current data version (0 before the first import)."""
    # Read on every API request: plain SQL, no ORM query compilation.
    with connection.cursor() as cursor:
        cursor.execute("SELECT version FROM analytics_dataversion WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else 0


def data_version_bump() -> int:
    """Bump the data version inside the caller's transaction and forget the answers of older versions;
    return the new version."""
    with connection.cursor() as cursor:
        # Answers of older versions are never read again. DELETE, not TRUNCATE: readers are not blocked.
        cursor.execute("DELETE FROM analytics_salesanswer")
        cursor.execute(
            "INSERT INTO analytics_dataversion (id, version, updated_at) "
            "VALUES (1, nextval('analytics_data_version_seq'), now()) "
            "ON CONFLICT (id) DO UPDATE SET version = excluded.version, updated_at = now() RETURNING version"
        )
        return int(cursor.fetchone()[0])
