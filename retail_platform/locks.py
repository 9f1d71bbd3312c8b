"""Serialising writers. Imports and segmentation refits take the same PostgreSQL advisory lock
inside their transaction, so they run one at a time and a refit never sees half an import."""

from __future__ import annotations

from django.db import connection

DATA_WRITE_LOCK_KEY = 7_204_311  # any constant shared by every writer of the analytics data


def data_write_lock() -> None:
    """Block until this transaction holds the data-write lock; it is released at commit or rollback."""
    if not connection.in_atomic_block:
        raise RuntimeError("data_write_lock() must be called inside transaction.atomic()")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [DATA_WRITE_LOCK_KEY])
