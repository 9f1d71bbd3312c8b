"""The read model's tables as plain rows, and the check every write path must pass: the tables an
increment (or a deletion) left equal the tables rebuilt from the lines."""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction

from analytics.warehouse import warehouse_rebuild

# Each table of the read model, ordered by its key.
TABLE_ORDERS = {
    "analytics_salesdaily": "store_id, date, category_id, payment_method_id",
    "analytics_salestransaction": "customer_id, date, store_id, invoice_no",
    "analytics_categorytransactionsdaily": "category_id, store_id, date, payment_method_id NULLS FIRST",
    "analytics_customersummary": "customer_id",
    "analytics_cohortcell": "period_kind, first_store_id, cohort, period",
}


class _Rollback(Exception):
    pass


def read_model_snapshot() -> dict[str, list[tuple[Any, ...]]]:
    snapshot = {}
    with connection.cursor() as cursor:
        for table, order in TABLE_ORDERS.items():
            columns = (
                "*"
                if table != "analytics_categorytransactionsdaily"
                else ("date, store_id, category_id, payment_method_id, transactions")
            )
            cursor.execute(f"SELECT {columns} FROM {table} ORDER BY {order}")
            snapshot[table] = [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in cursor]
    return snapshot


def rebuilt_snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """The read model as a rebuild from the lines would make it (the rebuild is rolled back)."""
    try:
        with transaction.atomic():
            warehouse_rebuild()
            rebuilt = read_model_snapshot()
            raise _Rollback
    except _Rollback:
        pass
    return rebuilt


def assert_read_model_equals_a_rebuild() -> None:
    kept, rebuilt = read_model_snapshot(), rebuilt_snapshot()
    for table in TABLE_ORDERS:
        assert kept[table] == rebuilt[table], f"{table} differs from a rebuild"
