"""Helpers for the import tests: write a file, import it through the services, count every table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.db import connection

from analytics.models import DAILY_STORE_DATE_INDEX, ImportBatch
from analytics.services.import_batches import import_batch_create, import_batch_run

MALL_HEADER = "invoice_no,customer_id,gender,age,category,quantity,price,payment_method,invoice_date,shopping_mall"


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def table_counts() -> dict[str, int]:
    """Rows in every table of the project's apps (the database 'as it was' check)."""
    counts = {}
    for model in apps.get_models():
        if model._meta.app_label in {"analytics", "segmentation", "campaigns"} and model._meta.managed:
            counts[model._meta.db_table] = model._base_manager.count()
    return counts


# A SalesDaily row with its dimensions by name (ids differ between databases and runs).
DAILY_ROW_FIELDS = (
    "date",
    "store__name",
    "category__name",
    "payment_method__name",
    "gross_sales",
    "discount",
    "net_sales",
    "cost",
    "cost_lines",
    "units",
    "purchase_lines",
    "return_lines",
)


def daily_rollup_is_in_index_order() -> bool:
    """Whether SalesDaily's rows are stored in (store, date) order and its (store, date) index exists:
    what every write of the day-level rollup leaves, so that filters read a few contiguous pages."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT store_id, date FROM analytics_salesdaily ORDER BY ctid")
        stored = cursor.fetchall()
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'analytics_salesdaily' AND indexname = %s",
            [DAILY_STORE_DATE_INDEX],
        )
        index = cursor.fetchall()
    return stored == sorted(stored) and len(index) == 1 and index[0][0].endswith("(store_id, date)")


def _batch_counts() -> dict[str, int]:
    return {"analytics_importbatch": ImportBatch.objects.count()}


@pytest.fixture
def run_import(media, tmp_path) -> Callable[..., ImportBatch]:
    """Write `content` (text or bytes) to a file and import it synchronously; return the batch."""

    def run(content: str | bytes, *, name: str = "sales.csv", **create_kwargs: Any) -> ImportBatch:
        path = tmp_path / name
        if isinstance(content, str):
            path.write_text(content, encoding=create_kwargs.pop("encoding", "utf-8"))
        else:
            path.write_bytes(content)
        batch = import_batch_create(
            path_or_file=path, file_name=name, source=ImportBatch.Source.COMMAND, enqueue=False, **create_kwargs
        )
        return import_batch_run(batch_id=batch.id, queue_refit=False)

    return run


def mall_csv(*rows: str, header: str = MALL_HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"
