"""Writing into the transaction lines table, for both import paths: the bulk path and the usual one.

A big load into a table that is small next to it takes the bulk path: the primary key is dropped,
the lines are inserted, and the key is built again in one sorted pass (about five times faster than
maintaining a random-key B-tree row by row). The table is locked for the rest of the import then,
so the bulk path only waits a few seconds for that lock and otherwise inserts the usual way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, OperationalError, transaction

from retail_platform.citus import relation_size

logger = logging.getLogger(__name__)

# The bulk path pays off from this many lines, into a table holding at most as many.
BULK_MIN_ROWS = 50_000
BULK_LOCK_WAIT = "5s"
LINE_BYTES_ESTIMATE = 150  # heap bytes per transaction line, to estimate the table's rows from its size
LOCK_NOT_AVAILABLE = "55P03"
TABLE = "analytics_transactionline"


def lines_load(cursor: Any, *, rows: int, insert: Callable[[bool], int], keys_renumber_sql: str | None = None) -> int:
    """Run `insert(bulk)` and return how many lines it inserted.

    `bulk` says whether the table has no primary key meanwhile (so the insert cannot rely on it to
    leave out lines already present). When the key cannot be built again because lines repeated
    within the file went in under one key, `keys_renumber_sql` numbers their copies first."""
    if rows >= BULK_MIN_ROWS and _lines_estimate(cursor) <= rows:
        try:
            with transaction.atomic():
                return _bulk(cursor, insert, keys_renumber_sql)
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            logger.info("Bulk path skipped: the transaction lines are in use (%s)", error)
    return insert(False)


def _lines_estimate(cursor: Any) -> float:
    return relation_size(cursor, TABLE) / LINE_BYTES_ESTIMATE


def _bulk(cursor: Any, insert: Callable[[bool], int], keys_renumber_sql: str | None) -> int:
    cursor.execute(
        f"SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        f"WHERE conrelid = '{TABLE}'::regclass AND contype = 'p'"
    )
    primary_key, definition = cursor.fetchone()
    cursor.execute(f"SET LOCAL lock_timeout = '{BULK_LOCK_WAIT}'")
    cursor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT {primary_key}")
    cursor.execute("SET LOCAL lock_timeout = 0")
    inserted = insert(True)
    add_key = f"ALTER TABLE {TABLE} ADD CONSTRAINT {primary_key} {definition}"
    cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
    try:
        with transaction.atomic():
            cursor.execute(add_key)
    except IntegrityError:
        if keys_renumber_sql is None:
            raise
        # Lines repeated within the file went in under one key: number their copies, build again.
        cursor.execute(keys_renumber_sql)
        cursor.execute(add_key)
    return inserted
