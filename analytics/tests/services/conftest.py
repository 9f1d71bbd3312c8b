"""Helpers for the import tests: write a file, import it through the services, count every table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps

from analytics.models import ImportBatch
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
